"""Callbacks: read inputs, call lossviz (through app.runs / app.views), call a figure builder.

Buttons only send commands; a job (``app.jobs``) trains the run outside the request. Ticks only
read: each one reads the run's small record and streams the new curve points (a client-side
callback appends them exactly once, by cursor) until the job has acknowledged the page's last
command. The landscape has its own slower interval and redraws only when the weights or a
computing option changed; view-only options re-draw from the cached result. Every run belongs
to the page session that made it (a secret made per page load). No callback lets an exception
reach the browser.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from functools import wraps

from dash import ALL, Input, Output, Patch, State, ctx, no_update, set_props
from dash.exceptions import PreventUpdate

from lossviz import DATASETS, RunConfig
from lossviz.landscape import validate_grid, validate_span

from . import figures, ids
from .controls import CONTROLS, SPEEDS, loss_options, parse_controls, visible_fields
from .drawing import draw
from .layout import LR_MAX_EXP, LR_MIN_EXP, VIEW_MS
from . import caps
from .jobs import job_bytes, send
from .runs import create_run, history_of, load_view
from .services import Services
from .store import LEASE_TTL_S, owner_of

log = logging.getLogger("lossviz.app")
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
            except (ValueError, LookupError, PermissionError) as exc:
                set_props(message_id, {"children": _sentence(exc)})
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


def status_text(hot: dict, pending: str = "") -> str:
    """One line: a plain-words state, then step, epoch, losses and the metric."""
    metric = "accuracy" if hot["task"] == "classification" else "R²"
    last = hot["last"]

    def fmt(v, pct=False):
        if v is None or not math.isfinite(v):
            return "—"
        return f"{100 * v:.1f}%" if pct else f"{v:.4g}"

    pct = hot["task"] == "classification"
    epoch = hot["step"] / hot["steps_per_epoch"]
    parts = [f"Step {hot['step']} / {hot['total_steps']}", f"epoch {epoch:.3g}" if epoch < 100 else f"epoch {epoch:.0f}",
             f"loss {fmt(last[1])} train, {fmt(last[2])} test",
             f"{metric} {fmt(last[3], pct)} train, {fmt(last[4], pct)} test"]
    word = pending or hot["message"] or {"ready": "ready: press Train", "training": "training…",
                                         "paused": "paused", "finished": "finished"}.get(hot["state"], hot["state"])
    return word + " · " + " · ".join(parts)


def _fresh_curves(hot: dict, points: list, log_loss: bool = False):
    metric = "accuracy" if hot["task"] == "classification" else "R²"
    fig = figures.curves_figure(history_of(points), metric, log_loss=log_loss)
    return fig, {"run_id": hot["run_id"], "n": len(points)}


def _own_run(services: Services, run, session) -> dict | None:
    """The hot record of the page's run, if it exists and belongs to this page's session."""
    hot = services.store.hot((run or {}).get("run_id")) if isinstance(run, dict) else None
    if hot is not None and hot["owner"] != owner_of(session):
        raise PermissionError("This run belongs to another session: reload the page.")
    return hot


def start_run(services: Services, config: RunConfig, owner: str, speed) -> dict:
    """A new run at step 0 for this session; the session's older runs stop training (the page
    no longer shows them: Reset and new settings cancel their jobs)."""
    store = services.store
    hot = create_run(store, config, owner)
    store.put_speed(hot["run_id"], speed if speed in SPEEDS else "normal")
    for run_id in store.session_runs(owner):
        if store.hot(run_id) is not None:
            send(store, run_id, "stop")
    store.put_session_runs(owner, [hot["run_id"]])
    return hot


def command(services: Services, run_id: str, action: str, owner: str) -> tuple[int, str]:
    """Send ``action``; start a job for train/step. Returns (sequence number, a refusal or "")."""
    if action == "train":
        store, cap = services.store, int(caps.limit("session_jobs"))
        others = [r for r in store.session_runs(owner) if r != run_id]
        busy = [r for r in others if _training(store, r)]
        if len(busy) >= cap:
            return int(store.control(run_id)["seq"]), (
                f"Over the 'session_jobs' cap: at most {cap} runs train at once for one page — pause one first")
    seq = send(services.store, run_id, action)
    hot = services.store.hot(run_id)
    if action in ("train", "step") and hot and not services.runner.submit(run_id, job_bytes(hot)):
        seq = send(services.store, run_id, "pause")
        return seq, (f"busy: this server is training all it can at once (its 'server_jobs' cap of "
                     f"{caps.limit('server_jobs'):.0f} runs and 'job_memory' cap of {caps.limit('job_memory'):.0f} MB "
                     "per process) — press Train again in a moment, or try a smaller network")
    return seq, ""


def _training(store, run_id: str) -> bool:
    """The run trains, or will as soon as its job reads the Train press already sent."""
    hot = store.hot(run_id)
    if hot is None:
        return False
    ctl = store.control(run_id)
    return hot["state"] == "training" or store.leased(run_id) or (ctl["action"] == "train" and ctl["seq"] > hot["acked"])


def revive(services: Services, hot: dict) -> None:
    """A run that should be training but has no job (its worker died, a submit was lost):
    start one. The lease makes this safe to repeat."""
    store, rid = services.store, hot["run_id"]
    if time.time() - hot["updated"] <= LEASE_TTL_S:
        return  # a job wrote lately (most ticks stop here: no extra reads)
    ctl = store.control(rid)
    stale = time.time() - ctl.get("t", 0) > LEASE_TTL_S
    if stale and (hot["state"] == "training" or ctl["seq"] > hot["acked"]) and not store.leased(rid):
        log.warning("run %s had no job: starting one", rid)
        services.runner.submit(rid, job_bytes(hot))


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


def register(app, services: Services) -> None:
    """Attach every callback to ``app``; ``services`` holds the run store and the job runner."""
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
                  State(ids.STORE_RUN, "data"), State(ids.CONFIG_ERROR, "children"), State(ids.LOG_LOSS, "value"),
                  State(ids.STORE_SESSION, "data"), State(ids.SPEED, "value"))
    @guarded(ids.STATUS)
    def control_run(config_dict, _train, _pause, _step, _reset, _toggle, run, config_error, log_loss, session, speed):
        """Buttons only send commands: a job trains; the page then polls until it is acknowledged."""
        if not isinstance(config_dict, dict):
            raise PreventUpdate
        caps.check_settings(config_dict)
        config = RunConfig.from_dict(config_dict)
        caps.check_config(config)  # the request's own settings, whatever the widgets allowed
        owner, trigger = owner_of(session), ctx.triggered_id
        hot, running = _own_run(services, run, session), bool((run or {}).get("running"))
        if trigger == ids.TOGGLE:
            trigger = ids.PAUSE if running else ids.TRAIN
        if config_error and trigger in (ids.TRAIN, ids.STEP):
            return (no_update,) * 5 + (f"Fix the settings first — {config_error}",)
        fresh = hot is None or hot["config"] != config.to_dict() or trigger == ids.RESET or (
            trigger == ids.TRAIN and hot["state"] in ("finished", "diverged"))  # Train at the end: again
        if fresh:
            hot = start_run(services, config, owner, speed)
        action = {ids.TRAIN: "train", ids.PAUSE: "pause", ids.STEP: "step"}.get(trigger)
        running = action == "train" or (running and not fresh and action is None)
        seq, word = (run or {}).get("seq", 0) if not fresh else 0, ""
        if action:
            seq, word = command(services, hot["run_id"], action, owner)
            running = running and not word
        points = hot["tail"] if fresh else None
        fig, cursor = _fresh_curves(hot, points, bool(log_loss)) if fresh else (no_update, no_update)
        waiting = running or (bool(action) and not word)
        data = {"run_id": hot["run_id"], "running": running, "seq": seq}
        pending = word or {"train": "training…", "pause": "pausing…", "step": "stepping…"}.get(action, "")
        return data, not waiting, not waiting, fig, cursor, status_text(hot, pending)

    @app.callback(Output(ids.STORE_STREAM, "data"), Input(ids.INTERVAL_TRAIN, "n_intervals"),
                  State(ids.STORE_RUN, "data"), State(ids.STORE_CURSOR, "data"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)
    @guarded(ids.STATUS)
    def train_tick(_n, run, cursor, session):
        """Only reads: the run's new curve points, its status, and whether the page may stop asking.

        A client-side callback applies them only if the page still shows this run: a tick that
        lands after Pause, Reset or new settings changes nothing.
        """
        if not isinstance(run, dict) or not run.get("run_id"):
            raise PreventUpdate
        hot = _own_run(services, run, session)
        if hot is None:
            raise ValueError("This run has expired; press Reset to start again.")
        services.store.mark_seen(hot["run_id"])
        revive(services, hot)
        ours = isinstance(cursor, dict) and cursor.get("run_id") == hot["run_id"]
        start = int(cursor.get("n", 0)) if ours and _is_number(cursor.get("n")) else hot["n_points"]
        points = services.store.points_since(hot, start)
        seq = run.get("seq", 0) if _is_number(run.get("seq")) else 0
        done = hot["acked"] >= seq and hot["state"] != "training"
        return {"run_id": hot["run_id"], "start": start, **figures.stream_points(history_of(points), 0),
                "done": done, "seq": seq, "version": hot["version"], "status": status_text(hot)}

    @app.callback(Output(ids.STATUS, "children", allow_duplicate=True), Input(ids.SPEED, "value"),
                  State(ids.STORE_RUN, "data"), State(ids.STORE_SESSION, "data"), prevent_initial_call=True)
    @guarded(ids.STATUS)
    def change_speed(speed, run, session):
        hot = _own_run(services, run, session)
        if hot is None or speed not in SPEEDS:
            raise PreventUpdate
        services.store.put_speed(hot["run_id"], speed)
        raise PreventUpdate

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
                  Input(ids.LOG_Z, "value"), Input(ids.DISPLAY, "value"), State(ids.STORE_DRAWN, "data"),
                  State(ids.STORE_SESSION, "data"))
    @guarded(ids.VIEW_ERROR)
    def draw_views(_n, run, grid, span_text, directions, log_z, display, drawn, session):
        if not run:
            raise PreventUpdate
        try:
            grid, span = validate_grid(grid), validate_span(_as_float(span_text))
            caps.check("grid", grid)
        except ValueError as exc:
            return no_update, no_update, no_update, no_update, str(exc), no_update
        hot = _own_run(services, run, session)
        if hot is None:
            raise PreventUpdate
        directions = directions if directions in ("random", "pca") else "random"
        with one_view_at_a_time(services, hot["run_id"], ctx.triggered_id == ids.INTERVAL_VIEW):
            view = load_view(services.store, hot)
            try:
                return draw(services, view, grid, span, directions, bool(log_z), display,
                            hot["state"] == "training", drawn if isinstance(drawn, dict) else {})
            except PreventUpdate:  # nothing to repaint; still clear a message about a fixed input
                return no_update, no_update, no_update, no_update, "", no_update


def _sentence(exc: Exception) -> str:
    text = str(exc).strip("'\"")
    return text[:1].upper() + text[1:] if text else type(exc).__name__


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _as_float(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"Range: '{text}' is not a number") from None
