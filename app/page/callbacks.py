"""Callbacks: read inputs, call lossviz (through app.runs / app.views), call a figure builder.

Buttons only send commands; a job (``app.runs.jobs``) trains the run outside the request. Ticks only
read: each one reads the run's small record and streams the new curve points (a client-side
callback appends them exactly once, by cursor) until the job has acknowledged the page's last
command. The landscape has its own slower interval and redraws only when the weights or a
computing option changed; view-only options re-draw from the cached result. Every run belongs
to the page session that made it (a secret made per page load). No callback lets an exception
reach the browser.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager

from dash import ALL, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from lossviz import DATASETS, RunConfig

from ..views import figures
from . import ids
from .controls import CONTROLS, SPEEDS, loss_options, parse_controls, visible_fields
from ..views.drawing import draw
from .first_page import FirstPage
from ..views.drawing_compare import draw_compare
from ..views.exports import Page
from .panels.lesson_page import fresh_note
from ..views.compute import NORMALIZATIONS, PLANES, SURFACES
from .layout import LR_MAX_EXP, LR_MIN_EXP, PLANES_COMPARE, PLANES_SINGLE, VIEW_MS, range_title
from ..runs import caps
from .compare import COMPARE_FIELDS, parse_compare, suggestion
from .messages import guarded
from .run_control import (answer_presses, command, compare_status, own_run, revive, run_hots,
                          status_text)
from ..runs.run import history_of, load_view
from ..runs.services import Services

__all__ = ["command", "guarded", "register", "status_text"]

# The run buttons by the name their presses are counted under (app.page.run_control.new_presses).
RUN_BUTTONS = {"train": ids.TRAIN, "pause": ids.PAUSE, "step": ids.STEP, "reset": ids.RESET, "toggle": ids.TOGGLE}


@contextmanager
def one_view_at_a_time(services: Services, run_id: str, timer: bool):
    """While one view request of a run is being answered, a timer's next one answers nothing
    at once (the page's interval fires on schedule, and an overtaken answer would carry
    what the page showed before: the same figures built twice). A request for a changed
    option waits its turn instead, briefly."""
    with services.view_locks.hold(run_id, None if timer else 3.0) as got:
        if not got and timer:
            raise PreventUpdate
        # A timer's requests come on schedule even when answers take longer than that: an
        # answer sent less than a view period ago may not be on the page yet, and the next one
        # would be built from what the page showed before (whole figures again, not patches).
        if timer and not services.view_pacer.due(run_id, 0.75 * VIEW_MS / 1000 * services.load.slowdown()):
            raise PreventUpdate
        yield


PLOT_BOXES = (ids.BOX_CONTOUR, ids.BOX_SURFACE, ids.BOX_CONTOUR_B, ids.BOX_DATA_B, ids.BOX_LINE)


def box_styles(mode: str, compare: bool) -> list[dict]:
    """The style of each of PLOT_BOXES for the 2D/3D/both choice and compare mode."""
    hide, wide = {"display": "none"}, {"gridColumn": "1 / span 2"}
    if compare:  # A and B side by side: both contours, and the straight line between them
        return [{}, hide, {}, {}, {}]
    return [hide if mode == "3d" else (wide if mode == "2d" else {}),
            hide if mode == "2d" else (wide if mode == "3d" else {}), hide, hide, hide]


def register(app, services: Services, first_page: FirstPage | None = None) -> None:
    """Attach every callback to ``app``; ``services`` holds the run store and the job runner,
    ``first_page`` the default run's first figures (made on first use when not given)."""
    _settings_callbacks(app)
    _compare_callbacks(app)
    _run_callbacks(app, services)
    _view_callbacks(app, services, first_page or FirstPage(services.store))
    _register_panels(app, services)


def _settings_callbacks(app) -> None:
    """The controls: which rows apply, the learning-rate pair, a dataset's defaults, the config."""
    control_inputs = [Input(c.id, "value") for c in CONTROLS]

    @app.callback(Output({"type": ids.ROW, "index": ALL}, "style"),
                  Output({"type": ids.WIDTH, "index": ALL}, "style"),
                  Output(ids.LOSS, "options"), Output(ids.LOSS_NOTE, "children"),
                  Input(ids.DATASET, "value"), Input(ids.LOSS, "value"),
                  Input(ids.OPTIMIZER, "value"), Input(ids.LAYERS, "value"),
                  prevent_initial_call=True)  # the layout shows the defaults' rows (a link changes them)
    @guarded(ids.CONFIG_ERROR)
    def show_relevant_controls(dataset, loss, optimizer, n_layers):
        shown = visible_fields(dataset, loss, optimizer) | {"widths"}
        if not n_layers:  # a linear model: no widths, no activation
            shown -= {"widths", "activation"}
        rows = [{} if o["id"]["index"] in shown else {"display": "none"} for o in ctx.outputs_list[0]]
        widths = [{} if o["id"]["index"] < (n_layers or 0) else {"display": "none"} for o in ctx.outputs_list[1]]
        spec = DATASETS.get(dataset)
        note = ""
        if spec is not None and spec.task == "regression":
            note = "Cross-entropy is off: regression targets are numbers, not classes."
        elif loss == "huber":
            note = ("On class probabilities a residual is at most 1: with δ ≥ 1 Huber is half the "
                    "squared error; try δ = 0.1.")
        return rows, widths, loss_options(dataset), note

    @app.callback(Output(ids.LR, "value"), Output(ids.LR_SLIDER, "value"),
                  Input(ids.LR, "value"), Input(ids.LR_SLIDER, "value"), prevent_initial_call=True)
    def sync_learning_rate(text, exponent):
        if ctx.triggered_id == ids.LR_SLIDER:
            if not _is_number(exponent) or not LR_MIN_EXP <= exponent <= LR_MAX_EXP:
                raise PreventUpdate
            return f"{10 ** exponent:.3g}", no_update
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise PreventUpdate
        if not (math.isfinite(value) and value > 0):
            raise PreventUpdate
        return no_update, min(max(math.log10(value), LR_MIN_EXP), LR_MAX_EXP)

    @app.callback(Output(ids.LOSS, "value"), Output(ids.NOISE, "value"), Input(ids.DATASET, "value"),
                  State(ids.LOSS, "value"), State(ids.STORE_LESSON, "data"), prevent_initial_call=True)
    @guarded(ids.CONFIG_ERROR)
    def dataset_defaults(dataset, loss, lesson_note):
        """A new dataset brings its own noise level; regression swaps cross-entropy for MSE (not
        when a lesson just set the dataset with everything else)."""
        spec = DATASETS.get(dataset) if isinstance(dataset, str) else None
        if spec is None or fresh_note(lesson_note, "dataset", dataset):
            raise PreventUpdate
        new_loss = "mse" if spec.task == "regression" and loss == "cross_entropy" else no_update
        return new_loss, (f"{spec.default_noise:g}" if spec.uses_noise else no_update)

    @app.callback(Output(ids.STORE_CONFIG, "data"), Output(ids.CONFIG_ERROR, "children"),
                  *control_inputs, Input(ids.LAYERS, "value"), Input({"type": ids.WIDTH, "index": ALL}, "value"))
    @guarded(ids.CONFIG_ERROR)
    def read_settings(*values):
        raw = dict(zip((c.field for c in CONTROLS), values[:len(CONTROLS)]))
        n_layers, widths = values[len(CONTROLS)], values[len(CONTROLS) + 1]
        try:
            config = parse_controls(raw, n_layers, widths)
        except ValueError as exc:
            return no_update, str(exc)
        return config.to_dict(), ""


def _compare_callbacks(app) -> None:
    """Compare mode's controls, its plane choices, and presentation mode's page style."""
    @app.callback(Output(ids.COMPARE_ROWS, "style"), Output(ids.COMPARE_CHOICE, "options"),
                  Output(ids.COMPARE_CHOICE, "value"), Output(ids.COMPARE_CHOICE, "style"),
                  Output(ids.COMPARE_VALUE, "value"), Output(ids.COMPARE_VALUE, "style"),
                  Output(ids.PLOTS, "className"),
                  Input(ids.COMPARE, "value"), Input(ids.COMPARE_FIELD, "value"), Input(ids.STORE_CONFIG, "data"),
                  State(ids.STORE_LESSON, "data"), State(ids.COMPARE_CHOICE, "value"),
                  prevent_initial_call=True)  # off in the layout
    @guarded(ids.COMPARE_ERROR)
    def compare_controls(on, field, config_dict, lesson_note, picked):
        """Compare's rows show when it is on; a new setting to vary brings a first value for B.
        The options follow run A's settings (A's own value named): a change of A's settings
        keeps B's value unless A now has it."""
        plots = "plots compare" if on else "plots"
        if field not in COMPARE_FIELDS:
            return ({} if on else {"display": "none"}), [], None, {"display": "none"}, "", {"display": "none"}, plots
        f = COMPARE_FIELDS[field]
        config = RunConfig.from_dict(config_dict) if isinstance(config_dict, dict) else RunConfig()
        choice, text = suggestion(field, config)
        trigger, values = ctx.triggered_id, [o["value"] for o in f.options]
        # The value goes out with its options every time: a dropdown drops a value its options do
        # not hold, and a lesson's or link's B value may reach it before these options do.
        if fresh_note(lesson_note, "field", field):  # a lesson or link just set B: keep its value
            text = no_update
            choice = lesson_note.get("choice") if lesson_note.get("choice") in values else (
                picked if picked in values else no_update)
        elif trigger in (ids.COMPARE, ids.STORE_CONFIG):  # keep B's value unless A now has it
            text = no_update
            if not f.options or (picked in values and picked != getattr(config, field)):
                choice = picked if f.options else no_update
        hide = {"display": "none"}
        # A's own value is named, not disabled: a dropdown drops a value whose option is disabled,
        # and a lesson may set B's value before A's settings have arrived here.
        mine = getattr(config, field)
        options = [dict(o, label=f"{o['label']} (run A's)") if o["value"] == mine else o for o in f.options]
        return ({} if on else hide), options, choice, ({} if f.options else hide), text, \
            (hide if f.options else {}), plots

    app.clientside_callback(  # on <body>: the page's own tree is not re-rendered for a style
        """function(on) { var yes = !!(on && on.length);
                          document.body.classList.toggle('present', yes);
                          if (window.lossvizPresent) { window.lossvizPresent(yes); }
                          return yes ? 'on' : 'off'; }""",
        Output(ids.STORE_PRESENT, "data"), Input(ids.PRESENT, "value"))

    app.clientside_callback(  # the normalization applies to random directions only
        """function(plane) { return plane === 'random' ? {} : {display: 'none'}; }""",
        Output(ids.BOX_NORMALIZATION, "style"), Input(ids.DIRECTIONS, "value"))

    @app.callback(Output(ids.RANGE, "disabled"), Output(ids.RANGE_BOX, "title"), Input(ids.COMPARE, "value"))
    def range_box(on):
        """Compare mode's planes are framed on both runs' paths: the Range box is off there."""
        return bool(on), range_title(bool(on))

    @app.callback(Output(ids.DIRECTIONS, "options"), Output(ids.DIRECTIONS, "value"), Input(ids.COMPARE, "value"),
                  Input(ids.STORE_COMPARE, "data"), State(ids.STORE_LESSON, "data"), State(ids.DIRECTIONS, "value"),
                  prevent_initial_call=True)
    def plane_choices(on, compare, lesson_note, shown):
        """Compare mode adds (and starts on) the plane through the common start and both runs.
        When B has other hidden layers no plane holds both runs: each contour has its own random
        plane, so that is the one choice offered (and shown chosen)."""
        two_shapes = bool(on) and isinstance(compare, dict) and compare.get("vary") == "hidden"
        options, value = (PLANES_COMPARE, "compare") if on else (PLANES_SINGLE, "random")
        if ctx.triggered_id == ids.STORE_COMPARE:
            value = no_update  # new settings keep the plane chosen
        if isinstance(lesson_note, dict) and lesson_note.get("plane") is not None \
                and fresh_note(lesson_note, "plane", lesson_note["plane"]):
            value = no_update  # a lesson or a link just chose the plane (a link without plane= did not)
        if two_shapes:
            options = [dict(o, disabled=True) if o["value"] != "random" else o for o in PLANES_COMPARE]
            value = "random" if shown != "random" else no_update
        return options, value

    @app.callback(Output(ids.STORE_COMPARE, "data"), Output(ids.COMPARE_ERROR, "children"),
                  Input(ids.COMPARE, "value"), Input(ids.COMPARE_FIELD, "value"), Input(ids.COMPARE_CHOICE, "value"),
                  Input(ids.COMPARE_VALUE, "value"), Input(ids.STORE_CONFIG, "data"))
    @guarded(ids.COMPARE_ERROR)
    def read_compare(on, field, choice, text, config_dict):
        if not isinstance(config_dict, dict):
            raise PreventUpdate
        try:
            return parse_compare(bool(on), field, choice, text, RunConfig.from_dict(config_dict)), ""
        except ValueError as exc:
            return no_update, str(exc)


def _run_callbacks(app, services: Services) -> None:
    """Buttons send commands; ticks (sent by the page's timer, app.ids) read and stream the curves."""

    @app.callback(Output(ids.STORE_RUN, "data"), Output(ids.CLOCK_TRAIN, "disabled"),
                  Output(ids.CLOCK_VIEW, "disabled"), Output(ids.GRAPH_CURVES, "figure"),
                  Output(ids.STORE_CURSOR, "data"), Output(ids.STATUS, "children"),
                  Input(ids.STORE_CONFIG, "data"), Input(ids.STORE_COMPARE, "data"),
                  *[Input(b, "n_clicks") for b in RUN_BUTTONS.values()],
                  State(ids.STORE_RUN, "data"), State(ids.CONFIG_ERROR, "children"), State(ids.LOG_LOSS, "value"),
                  State(ids.STORE_SESSION, "data"), State(ids.SPEED, "value"), State(ids.COMPARE_ERROR, "children"),
                  *[State(b, "n_clicks_timestamp") for b in RUN_BUTTONS.values()])
    @guarded(ids.STATUS)
    def control_run(config_dict, compare, *rest):
        """Buttons only send commands: a job trains; the page then polls until it is acknowledged.

        Every call carries every button's click count and answers with the run the server knows
        this page shows, so a press counts whether its own call's answer is dropped (a newer
        call of this callback overtook it) or not, and the newest answer is always right."""
        n = len(RUN_BUTTONS)
        clicks = {b: c if isinstance(c, int) and c > 0 else 0 for b, c in zip(RUN_BUTTONS, rest[:n])}
        run, config_error, log_loss, session, speed, compare_error = rest[n:n + 6]
        stamps = {b: t if _is_number(t) else 0 for b, t in zip(RUN_BUTTONS, rest[n + 6:])}
        if not isinstance(config_dict, dict):
            raise PreventUpdate  # a press waits for the settings: the next call carries it
        caps.check_settings(config_dict)
        config = RunConfig.from_dict(config_dict)
        caps.check_config(config)  # the request's own settings, whatever the widgets allowed
        compare = compare if isinstance(compare, dict) and compare.get("vary") else None
        owner = services.store.owner(session)
        with services.store.session_lock(owner):
            return answer_presses(services, owner, config, compare, clicks, stamps, run, config_error or compare_error,
                            bool(log_loss), speed)

    @app.callback(Output(ids.STORE_STREAM, "data"), Input(ids.INTERVAL_TRAIN, "n_intervals"),
                  State(ids.STORE_RUN, "data"), State(ids.STORE_CURSOR, "data"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)
    @guarded(ids.STATUS)
    def train_tick(_n, run, cursor, session):
        """Only reads: each run's new curve points, the status, and whether the page may stop asking.

        A client-side callback applies them only if the page still shows these runs: a tick that
        lands after Pause, Reset or new settings changes nothing. In a comparison, B's points are
        sent only up to A's step (B is published first), so both curves always show one step.
        """
        if not isinstance(run, dict) or not run.get("run_id"):
            raise PreventUpdate
        hot = own_run(services, run, session)
        if hot is None:
            if services.store.was_deleted(run.get("run_id")):
                raise PreventUpdate  # replaced: the page's run request brings it the new one
            raise ValueError("This run has expired; press Reset to start again.")
        services.store.mark_seen(hot["run_id"])
        revive(services, hot)
        hots = run_hots(services.store, hot)
        ours = isinstance(cursor, dict) and cursor.get("run_id") == hot["run_id"]
        have = cursor.get("n") if ours and isinstance(cursor.get("n"), list) else []
        runs = []
        for i, h in enumerate(hots):
            n = have[i] if i < len(have) and _is_number(have[i]) else h["n_points"]
            points = services.store.points_since(h, int(n))
            if i and hot["state"] == "training":
                points = [p for p in points if p[0] <= hot["step"]]
            runs.append({"start": int(n), **figures.stream_points(history_of(points), 0)})
        seq = run.get("seq", 0) if _is_number(run.get("seq")) else 0
        done = hot["acked"] >= seq and all(h["state"] != "training" for h in hots)
        return {"run_id": hot["run_id"], "runs": runs, "done": done, "seq": seq, "version": hot["version"],
                "status": compare_status(hots)}

    @app.callback(Output(ids.STATUS, "children", allow_duplicate=True), Input(ids.SPEED, "value"),
                  State(ids.STORE_RUN, "data"), State(ids.STORE_SESSION, "data"), prevent_initial_call=True)
    @guarded(ids.STATUS)
    def change_speed(speed, run, session):
        hot = own_run(services, run, session)
        if hot is None or speed not in SPEEDS:
            raise PreventUpdate
        services.store.put_speed(hot["run_id"], speed)
        raise PreventUpdate

    app.clientside_callback(
        "function(stream, cursor, run) { return window.lossviz.applyStream(stream, cursor, run); }",
        Output(ids.GRAPH_CURVES, "extendData"), Output(ids.STORE_CURSOR, "data", allow_duplicate=True),
        Output(ids.STATUS, "children", allow_duplicate=True), Output(ids.STORE_RUN, "data", allow_duplicate=True),
        Output(ids.CLOCK_TRAIN, "disabled", allow_duplicate=True),
        Output(ids.CLOCK_VIEW, "disabled", allow_duplicate=True),
        Input(ids.STORE_STREAM, "data"), State(ids.STORE_CURSOR, "data"), State(ids.STORE_RUN, "data"),
        prevent_initial_call=True)

    @app.callback(Output(ids.GRAPH_CURVES, "figure", allow_duplicate=True), Input(ids.LOG_LOSS, "value"),
                  State(ids.GRAPH_CURVES, "figure"), prevent_initial_call=True)
    def loss_axis_scale(log_loss, shown):
        fig = Patch()
        layout = shown.get("layout") if isinstance(shown, dict) else None
        for axis in figures.LOSS_AXES:  # one loss axis, or one per run when A's and B's losses differ
            if axis == "yaxis" or (isinstance(layout, dict) and axis in layout):
                fig["layout"][axis]["type"] = "log" if log_loss else "linear"
        return fig


def _view_callbacks(app, services: Services, first_page: FirstPage) -> None:
    """Which plot boxes show, the page's first figures, and the landscape, data and A–B views."""
    def _first(token) -> dict:
        first = first_page.get() if isinstance(token, str) else None
        if first is None or token != first["token"]:
            raise PreventUpdate
        return first

    @app.callback(Output(ids.GRAPH_CONTOUR, "figure", allow_duplicate=True), Output(ids.STORE_FIRST_3D, "data"),
                  Input(ids.STORE_FIRST, "data"), prevent_initial_call="initial_duplicate")
    def first_figures(token):
        """The default run's contour, alone in the page's first batch (app.page.first_page)."""
        return _first(token)["contour"], token

    @app.callback(Output(ids.GRAPH_SURFACE, "figure", allow_duplicate=True),
                  Output(ids.GRAPH_DATA, "figure", allow_duplicate=True), Input(ids.STORE_FIRST_3D, "data"),
                  prevent_initial_call=True)
    def first_surface(token):
        """Its 3-D view and data plot, asked for once the contour is in (the 3-D view's WebGL
        paint blocks the page; the data plot's points take a while too)."""
        first = _first(token)
        return first["surface"], first["data"]

    # In the browser, at once: B's boxes are shown before B's first figures can arrive (a figure
    # drawn into a hidden box is laid out with no size: plotly.js puts its axis titles at infinity).
    table = {key: box_styles(key, False) for key in ("2d", "3d", "both")} | {"compare": box_styles("both", True)}
    app.clientside_callback(  # the layout's boxes are those of "both", compare off
        f"""function(mode, compare) {{ var t = {json.dumps(table)};
             return (compare && compare.length) ? t.compare : (t[mode] || t.both); }}""",
        *[Output(box, "style") for box in PLOT_BOXES],
        Input(ids.DISPLAY, "value"), Input(ids.COMPARE, "value"), prevent_initial_call=True)

    @app.callback(Output(ids.GRAPH_CONTOUR, "figure"), Output(ids.GRAPH_SURFACE, "figure"),
                  Output(ids.GRAPH_DATA, "figure"), Output(ids.STORE_DRAWN, "data"),
                  Output(ids.VIEW_ERROR, "children"), Output(ids.LANDSCAPE_NOTE, "children"),
                  Output(ids.GRAPH_CONTOUR_B, "figure"), Output(ids.GRAPH_DATA_B, "figure"),
                  Output(ids.GRAPH_LINE, "figure"),
                  Input(ids.INTERVAL_VIEW, "n_intervals"), Input(ids.STORE_RUN, "data"),
                  Input(ids.GRID, "value"), Input(ids.RANGE, "value"), Input(ids.DIRECTIONS, "value"),
                  Input(ids.LOG_Z, "value"), Input(ids.DISPLAY, "value"), Input(ids.SURFACE_OF, "value"),
                  Input(ids.NORMALIZATION, "value"),
                  State(ids.STORE_DRAWN, "data"), State(ids.STORE_SESSION, "data"), State(ids.STORE_INSPECT, "data"))
    @guarded(ids.VIEW_ERROR)
    def draw_views(_n, run, grid, span_text, directions, log_z, display, of, norm, drawn, session, inspecting):
        of = of if of in SURFACES else "train"
        out = _draw_views(run, grid, span_text, directions, log_z, display, drawn, session, of, norm)
        if isinstance(inspecting, dict) and inspecting.get("run_id") == (run or {}).get("run_id"):
            out = list(out)
            out[2 if inspecting.get("slot") == 0 else 7] = no_update  # the clicked network stays shown
        return tuple(out)

    def _draw_views(run, grid, span_text, directions, log_z, display, drawn, session, of, norm):
        if not run:
            raise PreventUpdate
        try:  # grid and range checked as every view checks them (app.views.exports.Page)
            page = Page.of_inputs(grid, span_text, directions, of, log_z, "", norm)
            grid, span = page.grid, page.span
        except ValueError as exc:
            return no_update, no_update, no_update, no_update, str(exc), no_update, no_update, no_update, no_update
        hot = own_run(services, run, session)
        if hot is None:
            raise PreventUpdate
        directions = directions if directions in (*PLANES, "compare") else "random"
        drawn = drawn if isinstance(drawn, dict) else {}
        with one_view_at_a_time(services, hot["run_id"], ctx.triggered_id == ids.INTERVAL_VIEW):
            hots = run_hots(services.store, hot)
            running = any(h["state"] == "training" for h in hots)
            try:
                if len(hots) > 1:
                    views = [load_view(services.store, h) for h in hots]
                    plane = directions if directions in ("random", "pca") else "compare"
                    return draw_compare(services, views, [h["label"] for h in hots], grid, bool(log_z),
                                        display, running, drawn, of, plane)
                single = directions if directions != "compare" else "random"
                return draw(services, load_view(services.store, hot), grid, span, single, bool(log_z),
                            display, running, drawn, of, norm if norm in NORMALIZATIONS else "filter") \
                    + (no_update, no_update, no_update)
            except PreventUpdate:  # nothing to repaint; still clear a message about a fixed input
                return (no_update,) * 4 + ("",) + (no_update,) * 4
            except LookupError:
                if services.store.hot(hot["run_id"]) is None:
                    raise PreventUpdate  # Reset or new settings replaced it while it was drawn
                raise


def _register_panels(app, services: Services) -> None:
    from .panels import best_rate_page, curvature_page, export_page, inspect, lesson_page, link_page, surfaces_page, \
        upload_page, why_loss_page

    lesson_page.register(app, services)
    best_rate_page.register(app, services)
    link_page.register(app)
    why_loss_page.register(app, services)
    inspect.register(app, services)
    export_page.register(app, services)
    curvature_page.register(app, services)
    upload_page.register(app, services)
    surfaces_page.register(app, services)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

