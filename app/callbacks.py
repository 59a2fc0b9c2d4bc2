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

from dash import ALL, Input, Output, Patch, State, ctx, no_update, set_props
from dash.exceptions import PreventUpdate

from lossviz import DATASETS, RunConfig
from lossviz.landscape import validate_grid, validate_span

from . import figures, ids
from .controls import CONTROLS, SPEEDS, loss_options, parse_controls, visible_fields
from .drawing import draw
from .layout import LR_MAX_EXP, LR_MIN_EXP
from .runs import RunState, RunStore, advance_run, new_run

log = logging.getLogger("lossviz.app")
TICK_BUDGET_S = 0.12
SLOW_CALLBACK_S = 0.4


def guarded(message_id: str):
    """Turn any exception into a plain message in ``message_id`` and no other change."""

    def decorate(fn):
        @wraps(fn)
        def wrapper(*args):
            start = time.perf_counter()
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
            finally:
                if (spent := time.perf_counter() - start) > SLOW_CALLBACK_S:
                    log.info("slow callback %s: %.2f s", fn.__name__, spent)
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
    parts = [f"Step {tr.step_count} / {tr.total_steps}", f"epoch {epoch:.3g}" if epoch < 100 else f"epoch {epoch:.0f}",
             f"loss {fmt(h['train_loss'][-1])} train, {fmt(h['test_loss'][-1])} test",
             f"{metric} {fmt(h['train_metric'][-1], pct)} train, {fmt(h['test_metric'][-1], pct)} test"]
    if tr.status == "diverged":
        word = tr.message
    elif tr.finished:
        word = "finished"
    else:
        word = "training…" if running else ("paused" if tr.step_count else "ready: press Train")
    return word + " · " + " · ".join(parts)


def _run_data(state: RunState, running: bool) -> dict:
    return {"run_id": state.run_id, "running": running and not state.trainer.finished,
            "version": state.version}


def _fresh_curves(state: RunState, log_loss: bool = False):
    metric = "accuracy" if state.trainer.data.task == "classification" else "R²"
    fig = figures.curves_figure(state.history, metric, log_loss=log_loss)
    return fig, {"run_id": state.run_id, "n": state.n_points}


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
                  State(ids.STORE_RUN, "data"), State(ids.CONFIG_ERROR, "children"), State(ids.LOG_LOSS, "value"))
    @guarded(ids.STATUS)
    def control_run(config_dict, _train, _pause, _step, _reset, _toggle, run, config_error, log_loss):
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
        fig, cursor = _fresh_curves(state, bool(log_loss)) if redraw else (no_update, no_update)
        data = _run_data(state, running)
        return data, not data["running"], not data["running"], fig, cursor, status_text(state, data["running"])

    @app.callback(Output(ids.STORE_STREAM, "data"), Input(ids.INTERVAL_TRAIN, "n_intervals"),
                  State(ids.STORE_RUN, "data"), State(ids.SPEED, "value"), State(ids.STORE_CURSOR, "data"),
                  prevent_initial_call=True)
    @guarded(ids.STATUS)
    def train_tick(_n, run, speed, cursor):
        """Advance the run; send the new curve points, the status and whether it ended.

        A client-side callback applies them only if the page still shows this run, running:
        a tick that lands after Pause, Reset or new settings changes nothing.
        """
        if not run or not run.get("running"):
            raise PreventUpdate
        # A tick that finds another one still training (a big network, a busy server) answers
        # at once with what is stored: the renderer drops answers that a newer tick overtook,
        # so ticks that queued up behind each other would leave the page with no answer at all.
        with store.try_locked(run["run_id"]) as mine:
            state = store.get(run["run_id"])
            if state is None:
                raise ValueError("This run has expired; press Reset to start again.")
            # Paused or finished meanwhile: still answer (the last word must be repeatable).
            if mine and state.running:
                steps = SPEEDS.get(speed, SPEEDS["normal"])[1]
                advance_run(state, steps if steps is not None else 10 ** 9, TICK_BUDGET_S)
                state.running = not state.trainer.finished
                store.put(state)
        start = (cursor or {}).get("n", 0) if (cursor or {}).get("run_id") == state.run_id else state.n_points
        return {"run_id": state.run_id, "start": start, **figures.stream_points(state.history, start),
                "done": not state.running, "version": state.version,
                "status": status_text(state, state.running)}

    app.clientside_callback(
        "function(stream, cursor, run) { return window.lossviz.applyStream(stream, cursor, run); }",
        Output(ids.GRAPH_CURVES, "extendData"), Output(ids.STORE_CURSOR, "data", allow_duplicate=True),
        Output(ids.STATUS, "children", allow_duplicate=True), Output(ids.STORE_RUN, "data", allow_duplicate=True),
        Output(ids.INTERVAL_TRAIN, "disabled", allow_duplicate=True),
        Output(ids.INTERVAL_VIEW, "disabled", allow_duplicate=True),
        Input(ids.STORE_STREAM, "data"), State(ids.STORE_CURSOR, "data"), State(ids.STORE_RUN, "data"),
        prevent_initial_call=True)

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
        try:
            return draw(store, state, grid, span, directions, bool(log_z), display, run.get("running"), drawn or {})
        except PreventUpdate:  # nothing to repaint; still clear a message about a fixed input
            return no_update, no_update, no_update, no_update, "", no_update


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _as_float(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"Range: '{text}' is not a number") from None
