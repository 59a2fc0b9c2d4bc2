"""Callbacks: read inputs, call lossviz (through app.runs / app.views), call a figure builder.

Live training is a server-side job stepped by an interval: each tick loads the run named in the
browser's store, advances it for a bounded time, saves it, and streams only the new curve
points (a client-side callback appends them exactly once, by cursor). The landscape has its own
slower interval and redraws only when the run or a computing option changed; view-only options
re-draw from the cached result. No callback lets an exception reach the browser.
"""

from __future__ import annotations

import logging
import math
import time
from functools import wraps

import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, no_update, set_props
from dash.exceptions import PreventUpdate

from lossviz import DATASETS, RunConfig
from lossviz.landscape import validate_grid, validate_span

from . import figures, ids
from .layout import LR_MAX_EXP, LR_MIN_EXP
from .controls import CONTROLS, SPEEDS, loss_options, parse_controls, visible_fields
from .runs import RunState, RunStore, advance_run, new_run
from .views import data_view, landscape

log = logging.getLogger("lossviz.app")
TICK_BUDGET_S = 0.12
SURFACE_3D_EVERY_S = 2.5  # each 3-D repaint blocks a software-WebGL page for ~0.3 s
DATA_EVERY_S = 0.9
SURFACE_3D_LIVE_MAX = 21  # grid points per axis of the 3-D mesh while training


def guarded(message_id: str):
    """Turn any exception into a plain message in ``message_id`` and no other change."""

    def decorate(fn):
        @wraps(fn)
        def wrapper(*args):
            try:
                return fn(*args)
            except PreventUpdate:
                raise
            except ValueError as exc:
                set_props(message_id, {"children": str(exc)})
            except Exception as exc:  # noqa: BLE001 - the page must keep working
                log.exception("callback %s failed", fn.__name__)
                set_props(message_id, {"children": f"Something went wrong ({type(exc).__name__}); "
                                                   "try Reset or other settings."})
            return no_update  # (PreventUpdate would drop the message set above)

        return wrapper

    return decorate


def status_text(state: RunState, running: bool) -> str:
    """One line: step, epoch, losses, metric and a plain-words state."""
    tr, h = state.trainer, state.history
    metric = "accuracy" if tr.data.task == "classification" else "R²"

    def fmt(v, pct=False):
        if v is None or not math.isfinite(v):
            return "—"
        return f"{100 * v:.1f}%" if pct else f"{v:.4g}"

    pct = tr.data.task == "classification"
    epoch = tr.step_count / tr.steps_per_epoch
    parts = [f"Step {tr.step_count} / {tr.total_steps}", f"epoch {epoch:.3g}",
             f"loss {fmt(h['train_loss'][-1])} train, {fmt(h['test_loss'][-1])} test",
             f"{metric} {fmt(h['train_metric'][-1], pct)} train, {fmt(h['test_metric'][-1], pct)} test"]
    if tr.status == "diverged":
        word = tr.message
    elif tr.finished:
        word = "finished"
    else:
        word = "training…" if running else ("paused" if tr.step_count else "ready: press Train")
    return " · ".join(parts) + " · " + word


def _run_data(state: RunState, running: bool) -> dict:
    return {"run_id": state.run_id, "running": running and not state.trainer.finished,
            "version": state.version}


def _fresh_curves(state: RunState):
    metric = "accuracy" if state.trainer.data.task == "classification" else "R²"
    return figures.curves_figure(state.history, metric), {"run_id": state.run_id, "n": state.n_points}


def register(app, store: RunStore) -> None:
    """Attach every callback to ``app``; ``store`` holds the runs (shared by workers)."""
    control_inputs = [Input(c.id, "value") for c in CONTROLS]

    @app.callback(Output({"type": ids.ROW, "index": ALL}, "style"),
                  Output({"type": ids.WIDTH, "index": ALL}, "style"),
                  Output(ids.LOSS, "options"), Output(ids.LOSS_NOTE, "children"),
                  Input(ids.DATASET, "value"), Input(ids.LOSS, "value"),
                  Input(ids.OPTIMIZER, "value"), Input(ids.LAYERS, "value"))
    @guarded(ids.CONFIG_ERROR)
    def show_relevant_controls(dataset, loss, optimizer, n_layers):
        shown = visible_fields(dataset, loss, optimizer) | {"widths"}
        if not n_layers:  # a linear model: no widths, no activation
            shown -= {"widths", "activation"}
        rows = [{} if o["id"]["index"] in shown else {"display": "none"} for o in ctx.outputs_list[0]]
        widths = [{} if o["id"]["index"] < (n_layers or 0) else {"display": "none"} for o in ctx.outputs_list[1]]
        spec = DATASETS.get(dataset)
        note = ("Cross-entropy is off: regression targets are numbers, not classes."
                if spec is not None and spec.task == "regression" else "")
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
        exponent = math.log10(value)
        return no_update, (exponent if LR_MIN_EXP <= exponent <= LR_MAX_EXP else no_update)

    @app.callback(Output(ids.LOSS, "value"), Output(ids.NOISE, "value"), Input(ids.DATASET, "value"),
                  State(ids.LOSS, "value"), prevent_initial_call=True)
    @guarded(ids.CONFIG_ERROR)
    def dataset_defaults(dataset, loss):
        """A new dataset brings its own noise level; regression swaps cross-entropy for MSE."""
        spec = DATASETS.get(dataset) if isinstance(dataset, str) else None
        if spec is None:
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

    @app.callback(Output(ids.STORE_RUN, "data"), Output(ids.INTERVAL_TRAIN, "disabled"),
                  Output(ids.INTERVAL_VIEW, "disabled"), Output(ids.GRAPH_CURVES, "figure"),
                  Output(ids.STORE_CURSOR, "data"), Output(ids.STATUS, "children"),
                  Input(ids.STORE_CONFIG, "data"), Input(ids.TRAIN, "n_clicks"), Input(ids.PAUSE, "n_clicks"),
                  Input(ids.STEP, "n_clicks"), Input(ids.RESET, "n_clicks"), Input(ids.TOGGLE, "n_clicks"),
                  State(ids.STORE_RUN, "data"), State(ids.CONFIG_ERROR, "children"))
    @guarded(ids.STATUS)
    def control_run(config_dict, _train, _pause, _step, _reset, _toggle, run, config_error):
        if config_dict is None:
            raise PreventUpdate
        config = RunConfig.from_dict(config_dict)
        trigger = ctx.triggered_id
        state = store.get((run or {}).get("run_id"))
        running = bool((run or {}).get("running"))
        if trigger == ids.TOGGLE:
            trigger = ids.PAUSE if running else ids.TRAIN
        if config_error and trigger in (ids.TRAIN, ids.STEP):
            return (no_update,) * 5 + (f"Fix the settings first — {config_error}",)
        fresh = state is None or state.config != config or trigger == ids.RESET
        if not fresh and trigger == ids.TRAIN and state.trainer.finished:
            fresh = True  # Train after the end starts the same run again
        if fresh:
            state = new_run(config)
        running = trigger == ids.TRAIN or (running and trigger not in (ids.PAUSE, ids.STEP) and not fresh)
        with store.locked(state.run_id):  # a tick in flight finishes first, then sees the flag
            state = (None if fresh else store.get(state.run_id)) or state
            if trigger == ids.STEP:
                advance_run(state, 1)
            state.running = running and not state.trainer.finished
            store.put(state)
        redraw = fresh or trigger == ids.STEP
        fig, cursor = _fresh_curves(state) if redraw else (no_update, no_update)
        data = _run_data(state, running)
        return data, not data["running"], not data["running"], fig, cursor, status_text(state, data["running"])

    @app.callback(Output(ids.STORE_STREAM, "data"), Output(ids.STATUS, "children", allow_duplicate=True),
                  Output(ids.STORE_RUN, "data", allow_duplicate=True),
                  Output(ids.INTERVAL_TRAIN, "disabled", allow_duplicate=True),
                  Output(ids.INTERVAL_VIEW, "disabled", allow_duplicate=True),
                  Input(ids.INTERVAL_TRAIN, "n_intervals"), State(ids.STORE_RUN, "data"),
                  State(ids.SPEED, "value"), State(ids.STORE_CURSOR, "data"), prevent_initial_call=True)
    @guarded(ids.STATUS)
    def train_tick(_n, run, speed, cursor):
        if not run or not run.get("running"):
            raise PreventUpdate
        with store.locked(run["run_id"]):
            state = store.get(run["run_id"])
            if state is None:
                raise ValueError("This run has expired; press Reset to start again.")
            if not state.running:  # paused meanwhile: a late tick must not say "training…"
                raise PreventUpdate
            steps = SPEEDS.get(speed, SPEEDS["normal"])[1]
            advance_run(state, steps if steps is not None else 10 ** 9, TICK_BUDGET_S)
            state.running = not state.trainer.finished
            store.put(state)
        start = (cursor or {}).get("n", 0) if (cursor or {}).get("run_id") == state.run_id else state.n_points
        stream = {"run_id": state.run_id, "start": start, **figures.stream_points(state.history, start)}
        data = _run_data(state, True)
        done = not data["running"]
        stop = (data, True, True) if done else (no_update, no_update, no_update)
        return stream, status_text(state, data["running"]), *stop

    app.clientside_callback(
        "function(stream, cursor) { return window.lossviz.applyStream(stream, cursor); }",
        Output(ids.GRAPH_CURVES, "extendData"), Output(ids.STORE_CURSOR, "data", allow_duplicate=True),
        Input(ids.STORE_STREAM, "data"), State(ids.STORE_CURSOR, "data"), prevent_initial_call=True)

    @app.callback(Output(ids.GRAPH_CURVES, "figure", allow_duplicate=True), Input(ids.LOG_LOSS, "value"),
                  prevent_initial_call=True)
    def loss_axis_scale(log_loss):
        fig = Patch()
        fig["layout"]["yaxis"]["type"] = "log" if log_loss else "linear"
        return fig

    @app.callback(Output(ids.BOX_CONTOUR, "style"), Output(ids.BOX_SURFACE, "style"), Input(ids.DISPLAY, "value"))
    def display_mode(mode):
        wide = {"gridColumn": "1 / span 2"}
        return ({"display": "none"} if mode == "3d" else (wide if mode == "2d" else {}),
                {"display": "none"} if mode == "2d" else (wide if mode == "3d" else {}))

    @app.callback(Output(ids.GRAPH_CONTOUR, "figure"), Output(ids.GRAPH_SURFACE, "figure"),
                  Output(ids.GRAPH_DATA, "figure"), Output(ids.STORE_DRAWN, "data"),
                  Output(ids.VIEW_ERROR, "children"), Output(ids.LANDSCAPE_NOTE, "children"),
                  Input(ids.INTERVAL_VIEW, "n_intervals"), Input(ids.STORE_RUN, "data"),
                  Input(ids.GRID, "value"), Input(ids.RANGE, "value"), Input(ids.DIRECTIONS, "value"),
                  Input(ids.LOG_Z, "value"), Input(ids.DISPLAY, "value"), State(ids.STORE_DRAWN, "data"))
    @guarded(ids.VIEW_ERROR)
    def draw_views(_n, run, grid, span_text, directions, log_z, display, drawn):
        if not run:
            raise PreventUpdate
        try:
            grid, span = validate_grid(grid), validate_span(_as_float(span_text))
        except ValueError as exc:
            return no_update, no_update, no_update, no_update, str(exc), no_update
        state = store.get(run["run_id"])
        if state is None:
            raise PreventUpdate
        return _draw(store, state, grid, span, directions, bool(log_z), display, run.get("running"), drawn or {})


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _as_float(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"Range: '{text}' is not a number") from None


def _draw(store: RunStore, state: RunState, grid: int, span: float, directions: str, log_z: bool,
          display: str, running: bool, drawn: dict):
    """Landscape and data plots for the current run, sending as little as possible.

    A cached landscape is re-used when nothing it depends on changed; while the figure's shape
    (run, plane, log scale) stays the same only the changing arrays go out as a ``Patch``; the
    3-D surface (slow to paint in software WebGL) and the data plot redraw less often.
    """
    mode, note = directions, ""
    if mode == "pca" and len(state.trainer.trajectory) < 3:
        mode, note = "random", "The path (PCA) plane needs a path: train a few steps first."
    key, shape, now = [state.run_id, state.version, grid, span, mode], [state.run_id, mode, log_z], time.time()
    settled = not running
    want_3d = display != "2d" and (drawn.get("key3d") != key or drawn.get("shape3d") != shape
                                   or drawn.get("coarse3d", False) != (not settled))
    shown_3d, shown_2d = drawn.get("key3d") or [None, 0], drawn.get("key") or [None, 0]
    # The 3-D view's first live update comes one tick after the contour's, so the page never
    # paints both (plus the data plot) in one blocking go.
    first_live = (shown_3d[0] != state.run_id or shown_3d[1] == 0) and shown_2d[:2] != [state.run_id, 0]
    draw_3d = want_3d and (settled or first_live or now - drawn.get("t3d", 0) >= SURFACE_3D_EVERY_S)
    # A big network's landscape can take most of a second: while training, leave the server
    # at least as much time for training as the last landscape took to compute.
    paced = settled or now - drawn.get("t2d", 0) >= 2 * drawn.get("cost", 0)
    draw_2d = (drawn.get("key") != key or drawn.get("shape") != shape) and paced
    data_shown = (drawn.get("data_key") or [None])[0] == state.run_id
    draw_data = drawn.get("data_key") != key[:2] and (
        settled or not data_shown or (now - drawn.get("t_data", 0) >= DATA_EVERY_S and not draw_3d))
    if not (draw_2d or draw_3d or draw_data):
        raise PreventUpdate
    meta, contour, surface, data_fig = dict(drawn, run_id=state.run_id), no_update, no_update, no_update
    if draw_2d or draw_3d:
        view = store.get_result(tuple(key))
        if view is None:
            view = landscape(state, grid, span, mode)
            store.put_result(tuple(key), view)
            meta["cost"] = time.time() - now
        note = note or _landscape_note(state, view, span)
    if draw_2d:
        contour = _contour(view, log_z, drawn.get("shape") == shape, str(shape))
        meta.update(key=key, shape=shape, t2d=now)
    if draw_3d:
        surface = _surface(view, log_z, drawn.get("shape3d") == shape, str(shape), coarse=not settled)
        meta.update(key3d=key, shape3d=shape, t3d=now, coarse3d=not settled)
    if draw_data:
        data_fig = _data_output(data_view(state), drawn.get("data_key", [None])[0] == state.run_id, state.run_id)
        meta.update(data_key=key[:2], t_data=now)
    if not (draw_2d or draw_3d):
        note = no_update
    return contour, surface, data_fig, meta, "", note


def _landscape_note(state: RunState, view: dict, span: float) -> str:
    return " ".join(filter(None, [_path_note(state, view, span), _budget_note(view)]))


def _budget_note(view: dict) -> str:
    parts = []
    if view.get("n_points", 0) < view.get("n_train", 0):
        parts.append(f"on {view['n_points']:,} of the {view['n_train']:,} training points")
    if view.get("grid", 0) < view.get("grid_asked", 0):
        parts.append(f"on a {view['grid']}×{view['grid']} grid")
    return f"For speed, this network's landscape is computed {' and '.join(parts)}." if parts else ""


def _path_note(state: RunState, view: dict, span: float) -> str:
    if view["mode"] == "pca":
        e = view["explained"]
        return f"Path plane: directions 1 and 2 hold {100 * e[0]:.0f}% and {100 * e[1]:.0f}% of the path's movement."
    if state.trainer.step_count and np.ptp(view["path"], axis=0).max() < 0.1 * span:
        return ("The path looks short: random directions are almost perpendicular to it in a space of "
                f"{state.trainer.net.n_params} weights. Switch to “Path (PCA) plane” to see the whole route.")
    return ""


def _as_patch(updates: dict[tuple, object]) -> Patch:
    patch = Patch()
    for path, value in updates.items():
        node = patch
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return patch


def _contour(view: dict, log_z: bool, same_shape: bool, revision: str):
    args = (view["alphas"], view["betas"], view["z"], view["path"])
    if same_shape:
        return _as_patch(figures.contour_updates(*args, log_z=log_z))
    title = "Loss around the weights" + (" (path plane)" if view["mode"] == "pca" else "")
    return _fresh_axes(figures.contour_figure(*args, log_z=log_z, title=title), revision)


def _surface(view: dict, log_z: bool, same_shape: bool, revision: str, coarse: bool = False):
    a, b, z = view["alphas"], view["betas"], view["z"]
    if coarse:  # while training: a lighter mesh, because each 3-D repaint blocks the page
        ia, ib = _thin(len(a), SURFACE_3D_LIVE_MAX), _thin(len(b), SURFACE_3D_LIVE_MAX)
        a, b, z = a[ia], b[ib], z[np.ix_(ia, ib)]
    args = (a, b, z, view["path"], view["path_loss"])
    if same_shape:
        return _as_patch(figures.surface3d_updates(*args, log_z=log_z))
    return _fresh_axes(figures.surface3d_figure(*args, log_z=log_z), revision)


def _thin(n: int, most: int) -> np.ndarray:
    """At most ``most`` evenly spread indices of range(n), first and last included."""
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int))


def _data_output(view: dict, same_run: bool, revision: str):
    if same_run and view["kind"] == "regions":
        return _as_patch({("data", 0, "z"): figures.region_values(view["prob"]).tolist()})
    if same_run and view["kind"] == "curve":
        return _as_patch(figures.regression_curve_updates(view["y_line"]))
    return _fresh_axes(_data_figure(view), revision)


def _fresh_axes(fig, revision: str):
    """Zoom and camera persist while ``revision`` (run, plane, scale) stays; a new one resets."""
    fig.update_layout(uirevision=revision)
    return fig


def _data_figure(view: dict):
    kind = view["kind"]
    if kind == "regions":
        return figures.classification_figure(view["xx"], view["yy"], view["prob"], view["points"])
    if kind == "projected":
        return figures.projected_classes_figure(view["points"], view["pred_train"], view["pred_test"], view["k"])
    if kind == "curve":
        return figures.regression_curve_figure(view["x_line"], view["y_line"], view["points"])
    return figures.predicted_vs_actual_figure(view["points"], view["pred_train"], view["pred_test"])
