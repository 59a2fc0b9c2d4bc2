"""The settings side of the page: which controls show, the learning rate's box and slider, a
dataset's defaults, the settings read into ``store-config``, and compare mode's controls, plane
choices and ``store-compare``. Nothing here touches a run."""

from __future__ import annotations

import math

from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from lossviz import DATASETS, RunConfig

from . import ids
from .controls import CONTROLS, is_number, loss_options, parse_controls, visible_fields
from .panels.lesson_page import fresh_note
from .layout import LR_MAX_EXP, LR_MIN_EXP, PLANES_COMPARE, PLANES_SINGLE, range_title
from .compare import COMPARE_FIELDS, parse_compare, suggestion
from .messages import guarded



def register(app) -> None:
    for part in (_control_rows, _learning_rate_and_defaults, _read_settings, _compare_controls, _compare_plane,
                 _read_compare):
        part(app)


def _control_rows(app) -> None:
    """Which control rows apply to the chosen dataset, loss, optimizer and depth."""
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


def _learning_rate_and_defaults(app) -> None:
    """The learning rate's box and log slider kept together, and a dataset's own defaults."""
    @app.callback(Output(ids.LR, "value"), Output(ids.LR_SLIDER, "value"),
                  Input(ids.LR, "value"), Input(ids.LR_SLIDER, "value"), prevent_initial_call=True)
    def sync_learning_rate(text, exponent):
        if ctx.triggered_id == ids.LR_SLIDER:
            if not is_number(exponent) or not LR_MIN_EXP <= exponent <= LR_MAX_EXP:
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


def _read_settings(app) -> None:
    """The controls read into ``store-config`` (or a message naming what is wrong)."""
    control_inputs = [Input(c.id, "value") for c in CONTROLS]

    @app.callback(Output(ids.STORE_CONFIG, "data"), Output(ids.CONFIG_ERROR, "children"),
                  *control_inputs, Input(ids.LAYERS, "value"), Input({"type": ids.WIDTH, "index": ALL}, "value"),
                  prevent_initial_call=True)  # the layout holds the defaults' settings (layout._stores)
    @guarded(ids.CONFIG_ERROR)
    def read_settings(*values):
        raw = dict(zip((c.field for c in CONTROLS), values[:len(CONTROLS)]))
        n_layers, widths = values[len(CONTROLS)], values[len(CONTROLS) + 1]
        try:
            config = parse_controls(raw, n_layers, widths)
        except ValueError as exc:
            return no_update, str(exc)
        return config.to_dict(), ""


def _compare_controls(app) -> None:
    """Compare mode's rows and B's value, and presentation mode's page style."""
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


def _compare_plane(app) -> None:
    """The planes compare mode offers (and starts on), and the Range box it does not use."""
    @app.callback(Output(ids.RANGE, "disabled"), Output(ids.RANGE_BOX, "title"), Input(ids.COMPARE, "value"),
                  prevent_initial_call=True)  # compare is off in the layout
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


def _read_compare(app) -> None:
    """Compare mode read into ``store-compare`` (or a message)."""
    @app.callback(Output(ids.STORE_COMPARE, "data"), Output(ids.COMPARE_ERROR, "children"),
                  Input(ids.COMPARE, "value"), Input(ids.COMPARE_FIELD, "value"), Input(ids.COMPARE_CHOICE, "value"),
                  Input(ids.COMPARE_VALUE, "value"), Input(ids.STORE_CONFIG, "data"),
                  prevent_initial_call=True)  # off in the layout: no comparison
    @guarded(ids.COMPARE_ERROR)
    def read_compare(on, field, choice, text, config_dict):
        if not isinstance(config_dict, dict):
            raise PreventUpdate
        try:
            return parse_compare(bool(on), field, choice, text, RunConfig.from_dict(config_dict)), ""
        except ValueError as exc:
            return no_update, str(exc)
