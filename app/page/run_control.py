"""What the run callbacks do with the store: start runs (one, or A and B), send commands and
start jobs, revive a run whose job died, and say in one line where the runs are."""

from __future__ import annotations

import logging
import math
import time

from dash import no_update
from dash.exceptions import PreventUpdate

from lossviz import RunConfig

from ..runs import caps
from ..views import figures
from ..views.drawing_compare import loss_names
from .controls import SPEEDS
from ..runs.jobs import job_bytes, send
from ..runs.run import create_experiment, history_of, run_hots
from ..runs.services import Services
from ..runs.store import LEASE_TTL_S

log = logging.getLogger("lossviz.app")


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
    if hot["state"] == "diverged":  # a blown-up network's numbers (R² -1.9e+07) say nothing
        parts[2:] = [f"diverged at step {hot['step']}"]
    word = pending or hot["message"] or {"ready": "ready: press Train", "training": "training…",
                                         "paused": "paused", "finished": "finished"}.get(hot["state"], hot["state"])
    return word + " · " + " · ".join(parts)


def compare_status(hots: list[dict], pending: str = "") -> str:
    """The status line for a comparison: the shared state and step, then each run's numbers."""
    if len(hots) == 1:
        return status_text(hots[0], pending)
    metric = "acc" if hots[0]["task"] == "classification" else "R²"
    pct = hots[0]["task"] == "classification"

    def fmt(v, as_pct=False):
        if v is None or not math.isfinite(v):
            return "—"
        return f"{100 * v:.1f}%" if as_pct else f"{v:.4g}"

    states = {h["state"] for h in hots}
    word = pending or next((h["message"] for h in hots if h["message"]), "") or (
        "training…" if "training" in states else "ready: press Train" if states == {"ready"} else
        "finished" if states <= {"finished", "diverged"} else "paused")
    parts = [f"Step {hots[0]['step']} / {hots[0]['total_steps']}"]
    # Two losses are in two units: then only the shared measure is shown (the page says why).
    one_loss = len(set(loss_names([h["config"] for h in hots]))) == 1
    for name, h in zip("AB", hots):
        last = h["last"]
        if h["state"] == "diverged":
            parts.append(f"{name} ({h['label']}): diverged at step {h['step']}")
        else:
            parts.append(f"{name} ({h['label']}): " + (f"loss {fmt(last[1])}, {metric} {fmt(last[3], pct)}"
                                                        if one_loss else f"{metric} {fmt(last[3], pct)} train, "
                                                        f"{fmt(last[4], pct)} test"))
    full = "accuracy" if pct else "R²"
    return word + " · " + " · ".join(parts) + ("" if one_loss else f" · two losses in two units: compare the {full}")


def fresh_curves(hots: list[dict], log_loss: bool = False):
    metric = "accuracy" if hots[0]["task"] == "classification" else "R²"
    if len(hots) == 1:
        fig = figures.curves_figure(history_of(hots[0]["tail"]), metric, log_loss=log_loss)
    else:
        fig = figures.curves_figure({}, metric, log_loss=log_loss, losses=loss_names([h["config"] for h in hots]),
                                    runs=[(h["label"], history_of(h["tail"])) for h in hots])
    # Whose curves these are: the page extends a drawn figure only with its own run's points
    # (assets/lossviz.js), never one still waiting to replace another run's.
    fig["layout"]["meta"] = {"run_id": hots[0]["run_id"]}
    return fig, {"run_id": hots[0]["run_id"], "n": [len(h["tail"]) for h in hots]}


def own_run(services: Services, run, session) -> dict | None:
    """The hot record of the page's run, if it exists and belongs to this page's session."""
    hot = services.store.hot((run or {}).get("run_id")) if isinstance(run, dict) else None
    if hot is not None and hot["owner"] != services.store.owner(session):
        raise PermissionError("This run belongs to another session: reload the page.")
    return hot


def pressed_run(services: Services, clicks, run, session) -> dict:
    """The page's own run for a panel's button (PreventUpdate before any press, or with no run)."""
    hot = own_run(services, run, session) if clicks else None
    if hot is None:
        raise PreventUpdate
    return hot


def start_run(services: Services, config: RunConfig, owner: str, speed, compare: dict | None = None) -> list[dict]:
    """New runs at step 0 for this session (one, or A and B of a comparison); the session's
    older runs stop training (the page no longer shows them: Reset and new settings cancel
    their jobs). Returns the hot records, the lead's first."""
    store = services.store
    vary, value = (compare["vary"], compare["value"]) if compare else (None, None)
    if vary:
        value = tuple(value) if vary == "hidden" else value
        caps.check_config(config.replace(**{vary: value}))
    hots = create_experiment(store, config, owner, vary, value)
    store.put_speed(hots[0]["run_id"], speed if speed in SPEEDS else "normal")
    for run_id in store.session_runs(owner):  # the page no longer shows them: stop, then forget
        for old in [run_id] + store.partners(run_id):
            if store.hot(old) is not None:
                send(store, old, "stop")
                store.delete_run(old)
    store.put_session_runs(owner, [hots[0]["run_id"]])
    return hots


def session_lead(store, owner: str) -> dict | None:
    """The hot record of the run this session's page shows (the server's word, not the page's:
    a page's answer can be dropped, its next request then carries an older run)."""
    leads = store.session_runs(owner)
    hot = store.hot(leads[0]) if leads else None
    return hot if hot is not None and hot["owner"] == owner else None


def new_presses(store, owner: str, clicks: dict, stamps: dict) -> list[str]:
    """The buttons pressed since this session's last handled request, oldest press first, and
    records them as handled. Every run request carries every button's click count, so a press
    counts once, in whichever request reaches the server first, whichever requests the page
    drops or the network reorders."""
    seen = store.presses(owner)
    pressed = [b for b, n in clicks.items() if n > seen.get(b, 0)]
    store.put_presses(owner, {b: max(n, seen.get(b, 0)) for b, n in clicks.items()})
    return sorted(pressed, key=lambda b: stamps.get(b) or 0)


def is_training(store, hot: dict) -> bool:
    """The run trains now, or will as soon as its job reads a Train press already sent."""
    return _training(store, hot["run_id"])


def command(services: Services, run_id: str, action: str, owner: str) -> tuple[int, str]:
    """Send ``action``; start a job for train/step. Returns (sequence number, a refusal or "")."""
    store = services.store
    if action == "train":
        cap = int(caps.limit("session_jobs"))
        others = [r for r in store.session_runs(owner) if r != run_id]
        busy = [r for r in others if _training(store, r)]
        if len(busy) >= cap:
            return int(store.control(run_id)["seq"]), (
                f"Over the 'session_jobs' cap: at most {cap} runs train at once for one page — pause one first")
    seq = send(store, run_id, action)
    hot = store.hot(run_id)
    if action in ("train", "step") and hot:
        for h in run_hots(store, hot):  # a run that trains is kept for hours, not minutes
            store.keep(h)
    cost = sum(job_bytes(h) for h in run_hots(store, hot)) if hot else 0
    if action in ("train", "step") and hot and not services.runner.submit(run_id, cost):
        seq = send(store, run_id, "pause")
        busy = getattr(services.runner, "busy_message", None)  # the Celery path knows more
        return seq, busy() if busy else (
            f"busy: this server is training all it can at once (its 'server_jobs' cap of "
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
        services.runner.submit(rid, sum(job_bytes(h) for h in run_hots(store, hot)))


def answer_presses(services: Services, owner: str, config: RunConfig, compare: dict | None, clicks: dict,
                   stamps: dict, run, error: str, log_loss: bool, speed) -> tuple:
    """What the run callback answers (under the session's lock): the presses not yet counted,
    acted on the run the server knows the page shows (or a new one for new settings), and the
    page's run data, clock switches, curves (when the page shows another run), cursor, status."""
    store = services.store
    presses = new_presses(store, owner, clicks, stamps)
    hot = session_lead(store, owner)
    action = next((b for b in reversed(presses) if b != "reset"), None)
    if action == "toggle":
        action = "pause" if hot is not None and is_training(store, hot) else "train"
    refused = f"Fix the settings first — {error}" if error and action in ("train", "step") else ""
    action = None if refused else action
    want = (compare["vary"], compare["value"]) if compare else (None, None)
    partners = store.partners(hot["run_id"]) if hot else []
    have = (hot.get("vary"), hot.get("value")) if partners else (None, None)
    same = hot is not None and hot["config"] == config.to_dict() and "reset" not in presses
    fresh = not same or want != have or (action == "train" and hot["state"] in ("finished", "diverged"))
    if same and want == (None, None) and have != (None, None):
        fresh = False  # Compare turned off: run A goes on as it is, without B (its job regroups)
        store.put_partners(hot["run_id"], [])
    hots = start_run(services, config, owner, speed, compare) if fresh else run_hots(store, hot)
    lead, word = hots[0], ""
    if action in ("train", "step") and speed in SPEEDS and not fresh:
        store.put_speed(lead["run_id"], speed)  # the speed on screen (its own call may not have come yet)
    if action:
        word = command(services, lead["run_id"], action, owner)[1]
    seq = int(store.control(lead["run_id"])["seq"])
    waiting = not word and (is_training(store, lead) or seq > lead["acked"])
    running = waiting and action not in ("pause", "step")
    shown = run.get("run_id") if isinstance(run, dict) else None  # the run the page has drawn
    redraw = fresh or have != want or shown != lead["run_id"]
    fig, cursor = _all_curves(store, hots, fresh, log_loss) if redraw else (no_update, no_update)
    data = {"run_id": lead["run_id"], "run_ids": [h["run_id"] for h in hots], "running": running, "seq": seq}
    pending = refused or word or {"train": "training…", "pause": "pausing…", "step": "stepping…"}.get(action, "")
    return data, not waiting, not waiting, fig, cursor, compare_status(hots, pending)


def _all_curves(store, hots: list[dict], fresh: bool, log_loss: bool):
    """The curves figure with every point the runs have so far, and its cursor."""
    points = [h["tail"] if fresh else store.points_since(h, 0) for h in hots]
    fig = fresh_curves([dict(h, tail=p) for h, p in zip(hots, points)], log_loss)[0]
    return fig, {"run_id": hots[0]["run_id"], "n": [len(p) for p in points]}
