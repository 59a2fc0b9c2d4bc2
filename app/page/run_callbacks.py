"""The run side of the page: the buttons' presses (every call carries every button's count; the
server counts each press once), the training tick that streams new curve points, the speed,
and the loss axis's scale. Buttons only send commands; a job (``app.runs.jobs``) trains the run
outside the request; ticks only read."""

from __future__ import annotations


from dash import Input, Output, Patch, State
from dash.exceptions import PreventUpdate

from lossviz import RunConfig

from ..views import figures
from . import ids
from .controls import SPEEDS, is_number
from ..runs import caps
from .messages import guarded
from .run_control import answer_presses, compare_status, own_run, revive, run_hots
from ..runs.run import history_of
from ..runs.services import Services


# The run buttons by the name their presses are counted under (app.page.run_control.new_presses).
RUN_BUTTONS = {"train": ids.TRAIN, "pause": ids.PAUSE, "step": ids.STEP, "reset": ids.RESET, "toggle": ids.TOGGLE}

# The training tick, as the page's timer sends it (assets/lossviz.js, LOSSVIZ_STREAM): straight to
# ``train_tick`` with these states, in this order, and its answer applied by
# ``lossviz.applyStream`` to these properties, one set_props each. Through Dash's renderer a tick
# was two callbacks (this one, then a client-side one applying it), and their bookkeeping cost a
# page about 80 ms of main thread per tick, four times the curves' own redraw: a page on a busy
# laptop then drew a curve point every 2-5 s (bench/bench_load.py --pages).
# (The page reads the run and the cursor by their place here: run first, then cursor.)
STREAM_STATE = ((ids.STORE_RUN, "data"), (ids.STORE_CURSOR, "data"), (ids.STORE_SESSION, "data"))
STREAM_APPLY = ((ids.GRAPH_CURVES, "extendData"), (ids.STORE_CURSOR, "data"), (ids.STATUS, "children"),
                (ids.STORE_RUN, "data"), (ids.CLOCK_TRAIN, "disabled"), (ids.CLOCK_VIEW, "disabled"))


def register(app, services: Services) -> None:
    for part in (_presses, _ticks, _speed_and_scale):
        part(app, services)


def _presses(app, services: Services) -> None:
    """The run buttons: every press counted once by the server, whichever call carries it."""
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
        stamps = {b: t if is_number(t) else 0 for b, t in zip(RUN_BUTTONS, rest[n + 6:])}
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


def _ticks(app, services: Services) -> None:
    """The training tick (sent by the page's timer, STREAM_STATE) reads new curve points; the
    page applies them once (STREAM_APPLY)."""
    @app.callback(Output(ids.STORE_STREAM, "data"), Input(ids.INTERVAL_TRAIN, "n_intervals"),
                  *[State(cid, prop) for cid, prop in STREAM_STATE], prevent_initial_call=True)
    @guarded(ids.STATUS)
    def train_tick(_n, run, cursor, session):
        """Only reads: each run's new curve points, the status, and whether the page may stop asking.

        The page applies them (``lossviz.applyStream``) only if it still shows these runs: a tick
        that lands after Pause, Reset or new settings changes nothing. In a comparison, B's points are
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
            n = have[i] if i < len(have) and is_number(have[i]) else h["n_points"]
            points = services.store.points_since(h, int(n))
            if i and hot["state"] == "training":
                points = [p for p in points if p[0] <= hot["step"]]
            runs.append({"start": int(n), **figures.stream_points(history_of(points), 0)})
        seq = run.get("seq", 0) if is_number(run.get("seq")) else 0
        done = hot["acked"] >= seq and all(h["state"] != "training" for h in hots)
        # A Train its job has not taken up yet: the run still says "ready", the page "training…"
        pending = "training…" if hot["acked"] < seq and run.get("running") is True else ""
        return {"run_id": hot["run_id"], "runs": runs, "done": done, "seq": seq, "version": hot["version"],
                "status": compare_status(hots, pending)}


def _speed_and_scale(app, services: Services) -> None:
    """The speed a run trains at, and the loss axis's scale."""
    @app.callback(Output(ids.STATUS, "children", allow_duplicate=True), Input(ids.SPEED, "value"),
                  State(ids.STORE_RUN, "data"), State(ids.STORE_SESSION, "data"), prevent_initial_call=True)
    @guarded(ids.STATUS)
    def change_speed(speed, run, session):
        hot = own_run(services, run, session)
        if hot is None or speed not in SPEEDS:
            raise PreventUpdate
        services.store.put_speed(hot["run_id"], speed)
        raise PreventUpdate

    @app.callback(Output(ids.GRAPH_CURVES, "figure", allow_duplicate=True), Input(ids.LOG_LOSS, "value"),
                  State(ids.GRAPH_CURVES, "figure"), prevent_initial_call=True)
    def loss_axis_scale(log_loss, shown):
        fig = Patch()
        layout = shown.get("layout") if isinstance(shown, dict) else None
        for axis in figures.LOSS_AXES:  # one loss axis, or one per run when A's and B's losses differ
            if axis == "yaxis" or (isinstance(layout, dict) and axis in layout):
                fig["layout"][axis]["type"] = "log" if log_loss else "linear"
        return fig
