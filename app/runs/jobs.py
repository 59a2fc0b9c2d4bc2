"""Training outside the request: commands in, one job per run, small records out.

A button press only writes a command (``send``) and asks a runner to start a job for the run.
The job (``run_job``) takes the run's lease — so exactly one job trains a run, whatever the
timing — restores the trainer, trains in short slices at the asked speed, and after each slice
publishes the small records a tick reads, checks for a new command, a silent page (no heartbeat
for 'idle_seconds', counted from the job's start when the page was never seen) or its time
limit, and renews its lease. A job that loses the race for the lease simply ends: the holder
sees the command. After releasing the lease a job looks at the commands once more, so a press
that arrived while it was stopping is never lost.

Runners: ``ThreadRunner`` (in-process threads: the embedded default, no server needed) and
``CeleryRunner`` (jobs sent to ``lossviz worker`` processes through Redis).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass

from . import caps
from .memory import IdleTrimmer, limit_arenas, trim
from .priority import JOB_NICENESS, MAX_SPEED_NICENESS, set_thread_niceness, thread_niceness
from .run import RunState, advance_run, publish, restore, run_state_word, save_model, save_params
from .store import LEASE_TTL_S, RUN_TTL_S, UNTRAINED_TTL_S, RunStore

log = logging.getLogger("lossviz.jobs")

SLICE_S = 0.15  # between looks at the commands (a cancelled job stops within a slice and a step);
# one publish per slice, about one per page tick
# Optimizer steps per second by speed (the page used to take 1/6/30 steps per 150 ms tick).
SPEED_RATES = {"slow": 1 / 0.15, "normal": 6 / 0.15, "fast": 30 / 0.15, "max": float("inf")}
PARAMS_EVERY_S = 0.3  # the weights the plots read: at least this often while training
MODEL_EVERY_S = 5.0  # the whole trainer, for a job that dies: at least this often
RENEW_EVERY_S = LEASE_TTL_S / 4
SEEN_EVERY_S = 5.0
ACTIONS = ("train", "pause", "step", "stop")


def send(store: RunStore, run_id: str, action: str) -> int:
    """Record a command for ``run_id``; returns its sequence number (the page waits for it)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown command {action!r}; choose one of {', '.join(ACTIONS)}")
    ctl = store.control(run_id)
    seq = int(ctl["seq"]) + 1
    steps = int(ctl.get("steps", 0)) + (action == "step")  # every press of Step is one step
    store.put_control(run_id, {"seq": seq, "action": action, "steps": steps, "t": time.time()})
    return seq


@dataclass
class _Slice:
    """What a job keeps between slices: its runs (the lead first) and their records."""

    states: list[RunState]
    hots: list[dict]
    acked: int
    training: bool
    owed: float = 0.0
    saved_params: float = 0.0
    saved_model: float = 0.0
    renewed: float = 0.0
    checked_seen: float = 0.0
    niced: bool = False  # this thread steps aside for Max speed (MAX_SPEED_NICENESS)

    @property
    def finished(self) -> bool:
        return all(s.trainer.finished for s in self.states)

    def advance(self, n: int, budget_s: float | None = None) -> int:
        """Up to ``n`` steps for every unfinished run, in lockstep: the first unfinished run
        spends the time budget, the others take exactly as many steps as it did."""
        taken = None
        for state in self.states:
            if state.trainer.finished:
                continue
            if taken is None:
                taken = advance_run(state, n, budget_s)
            else:
                advance_run(state, taken)
        return taken or 0


def run_job(store: RunStore, run_id: str, time_limit_s: float | None = None) -> str:
    """Train ``run_id`` (and the runs that go in lockstep with it) while its commands ask for
    it; returns why the job ended."""
    token = secrets.token_hex(12)
    outcome = "busy"
    niceness = thread_niceness()
    while store.acquire(run_id, token):
        try:
            outcome = _train(store, run_id, token, time_limit_s or caps.limit("job_seconds"))
        except Exception:  # noqa: BLE001 - a job must leave the run in a readable state
            log.exception("job for run %s failed", run_id)
            _mark_failed(store, run_id)
            outcome = "failed"
        finally:
            store.release(run_id, token)
            set_thread_niceness(niceness)  # a pool's thread (Celery) goes back, where allowed
        hot = store.hot(run_id)
        if outcome == "regroup":
            continue  # compare mode turned off (or on): train the runs the lead has now
        if outcome in ("failed", "expired") or hot is None or store.control(run_id)["seq"] <= hot["acked"]:
            break
        # A command came in while this job was stopping: take the lease again and serve it.
    return outcome


def _train(store: RunStore, run_id: str, token: str, time_limit_s: float) -> str:
    hot = store.hot(run_id)
    if hot is None:
        return "expired"
    ctl = store.control(run_id)
    if ctl["seq"] <= hot["acked"] and hot["state"] != "training":
        return "nothing to do"
    hots = [hot] + [store.hot(r) for r in store.partners(run_id)]
    if any(h is None for h in hots):
        return "expired"
    job = _Slice([restore(store, h) for h in hots], hots, hot["acked"], hot["state"] == "training")
    start = now = time.monotonic()
    job.renewed = job.checked_seen = now
    began = time.time()  # a page never seen is idle from the job's start
    why, message = "paused", ""
    while True:
        ctl = store.control(run_id)
        if ctl["seq"] > job.acked:
            job.acked = ctl["seq"]
            job.training = ctl["action"] == "train"
            presses, done = int(ctl.get("steps", 0)), job.hots[0].get("steps_done", 0)
            if presses > done:
                job.advance(presses - done)
                job.hots[0]["steps_done"] = presses
        if not job.training or job.finished:
            break
        now = time.monotonic()
        if now - start > time_limit_s:
            why, message = "time limit", (f"paused: one press of Train trains for at most "
                                          f"{time_limit_s / 60:.0f} min — press Train to go on")
            break
        if now - job.checked_seen > SEEN_EVERY_S:
            job.checked_seen = now
            seen = store.seen(run_id)
            if time.time() - (began if seen is None else seen) > caps.limit("idle_seconds"):
                why, message = "page gone", "paused: the page was closed"
                break
        _train_slice(store, job, run_id)
        if store.partners(run_id) != [s.run_id for s in job.states[1:]]:
            _finish(store, job, "", lead_state="training")
            return "regroup"
        if now - job.renewed > RENEW_EVERY_S:
            job.renewed = now
            if not store.renew(run_id, token):
                return "lost lease"
    # A closed page's runs are kept only briefly: a page back within minutes (a laptop lid
    # closed) goes on; otherwise nothing shows them and they leave the store.
    _finish(store, job, message, ttl=UNTRAINED_TTL_S if why == "page gone" else RUN_TTL_S)
    return "finished" if job.finished else why


def _train_slice(store: RunStore, job: _Slice, run_id: str) -> None:
    """Train for one slice at the asked speed, publish, then sleep out the rest of the slice."""
    rate = SPEED_RATES.get(store.speed(run_id) or "normal", SPEED_RATES["normal"])
    t0 = time.monotonic()
    if rate == float("inf"):
        if not job.niced:  # steps aside: never to a higher priority than the thread has
            set_thread_niceness(max(thread_niceness(), MAX_SPEED_NICENESS))
            job.niced = True
        job.advance(10 ** 9, SLICE_S)
    else:
        job.owed = min(job.owed + rate * SLICE_S, max(1.0, rate * SLICE_S))
        taken = job.advance(int(job.owed), SLICE_S) if job.owed >= 1 else 0
        job.owed -= taken
    # Partners first, the lead last: a tick that sees the lead's step finds its partners there.
    for i in reversed(range(len(job.states))):
        job.hots[i] = publish(store, job.states[i], dict(job.hots[i], acked=job.acked), "training")
    t1 = time.monotonic()
    if t1 - job.saved_params > PARAMS_EVERY_S:
        job.saved_params = t1
        for state, hot in zip(job.states, job.hots):
            save_params(store, state, hot)
    if t1 - job.saved_model > MODEL_EVERY_S:
        job.saved_model = t1
        for state, hot in zip(job.states, job.hots):
            save_model(store, state, hot)
    rest = SLICE_S - (time.monotonic() - t0)
    if rest > 0:
        time.sleep(rest)


def _finish(store: RunStore, job: _Slice, message: str, lead_state: str | None = None,
            ttl: float = RUN_TTL_S) -> None:
    """Leave the runs readable and resumable: weights, whole state, final record, fresh TTLs.
    ``lead_state`` "training": the lead goes on in a new job right away (its runs changed)."""
    for i in reversed(range(len(job.states))):
        tr = job.states[i].trainer
        word = lead_state if i == 0 and lead_state and not tr.finished else run_state_word(tr)
        hot = publish(store, job.states[i], dict(job.hots[i], acked=job.acked), word, tr.message or message)
        save_params(store, job.states[i], hot)
        save_model(store, job.states[i], hot)
        store.keep(hot, ttl)


def _mark_failed(store: RunStore, run_id: str) -> None:
    hot = store.hot(run_id)
    if hot is None:
        return
    acked = store.control(run_id)["seq"]
    for rid in [run_id] + store.partners(run_id):
        h = store.hot(rid)
        if h is not None:
            store.put_hot(dict(h, state="paused", acked=acked,
                               message="paused: training stopped on an error — press Reset"))


class JobBudget:
    """How many jobs, and how many bytes of training state, one process runs at once.

    Counters in shared memory: a server process takes from them when it submits a job and the
    job (a thread there, or in its child process) gives back when it ends.
    """

    def __init__(self, max_jobs: int | None = None, max_bytes: int | None = None, mp=None) -> None:
        import multiprocessing

        mp = mp or multiprocessing
        self.max_jobs = int(max_jobs or caps.limit("server_jobs"))
        self.max_bytes = int(max_bytes or caps.limit("job_memory") * 2 ** 20)
        self.jobs, self.bytes = mp.Value("i", 0), mp.Value("q", 0)

    def take(self, cost: int) -> bool:
        with self.jobs.get_lock():
            if self.jobs.value >= self.max_jobs or (self.jobs.value and self.bytes.value + cost > self.max_bytes):
                return False
            self.jobs.value += 1
            self.bytes.value += cost
            return True

    def give(self, cost: int) -> None:
        with self.jobs.get_lock():
            self.jobs.value -= 1
            self.bytes.value -= cost


def job_bytes(hot: dict) -> int:
    """About the memory a job for this run holds: the weights with the optimizer's buffers and
    a gradient, the recorded path, and the activations of a pass over every sample."""
    from .run import TRAJECTORY_BYTES

    config = hot["config"]
    widths = sum(config["hidden"]) + 16  # plus inputs and outputs (a few each)
    rows = hot.get("n_rows") or config["n_samples"]  # an uploaded table has its own row count
    return 8 * 7 * hot["n_params"] + TRAJECTORY_BYTES + 8 * 4 * rows * widths


class ThreadRunner:
    """Jobs on threads of this process (the simplest runner: tests, ``--debug``).

    ``submit`` says False when the process's job budget (count and memory) is spent.
    """

    def __init__(self, store: RunStore, max_jobs: int | None = None) -> None:
        self.store = store
        self.budget = JobBudget(max_jobs)

    def submit(self, run_id: str, cost: int = 0) -> bool:
        if not self.budget.take(cost):
            return False
        thread = threading.Thread(target=self._run, args=(run_id, cost), name=f"lossviz-job-{run_id[:8]}",
                                  daemon=True)
        thread.start()
        return True

    def _run(self, run_id: str, cost: int) -> None:
        try:
            run_job(self.store, run_id)
        except Exception:  # noqa: BLE001 - logged; the run's record says what happened
            log.exception("job thread for %s failed", run_id)
        finally:
            self.budget.give(cost)


class ProcessRunner:
    """Jobs on threads of a child process (one per server process): training never holds the
    request threads' interpreter lock, and the OS shares the cores between the two.

    The child starts with the runner (``spawn``: nothing of the parent's threads or open files
    is inherited), opens its own store on the same folder, and ends with its parent.
    ``submit`` says False when the job budget (count and memory) is spent. A child that died
    is started again on the next submit (its runs' leases lapse; a tick revives them).
    """

    def __init__(self, directory: str, max_jobs: int | None = None) -> None:
        import multiprocessing

        self.directory = directory
        self._mp = multiprocessing.get_context("spawn")
        self.max_jobs = max_jobs
        self._lock = threading.Lock()
        self._proc = self._queue = self.budget = None
        self._start()

    def _start(self) -> None:
        self._queue, self.budget = self._mp.Queue(), JobBudget(self.max_jobs, mp=self._mp)
        self._proc = self._mp.Process(target=_job_process, name="lossviz-jobs", daemon=True,
                                      args=(self._queue, self.budget, self.directory, os.getpid()))
        self._proc.start()

    def submit(self, run_id: str, cost: int = 0) -> bool:
        with self._lock:
            if not self._proc.is_alive():
                log.warning("the job process had ended: starting it again")
                self._start()
            if not self.budget.take(cost):
                return False
            self._queue.put((run_id, cost))
            return True

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._queue.put(None)
            self._proc.join(timeout=5)


def _job_process(queue, budget: JobBudget, directory: str, parent: int) -> None:
    """The child's loop: each (run id, cost) taken from ``queue`` becomes a job on a thread."""
    import queue as queue_module

    from .store import RunStore

    os.nice(JOB_NICENESS)  # (app.runs.priority)
    limit_arenas()
    store = RunStore.open(directory)
    trimmer = IdleTrimmer().start()
    warm_up()
    trim()

    def job(run_id: str, cost: int) -> None:
        try:
            run_job(store, run_id)
        except Exception:  # noqa: BLE001 - logged; the run's record says what happened
            log.exception("job for %s failed", run_id)
        finally:
            budget.give(cost)
            trimmer.touch()

    while os.getppid() == parent:  # ends with the server process that started it
        try:
            item = queue.get(timeout=1.0)
        except queue_module.Empty:
            continue
        if item is None:
            break
        run_id, cost = item
        threading.Thread(target=job, args=(run_id, cost), name=f"lossviz-job-{run_id[:8]}", daemon=True).start()


def warm_up() -> None:
    """Train a tiny run once, so what the first job would load lazily is loaded at start."""
    from lossviz import RunConfig

    from .run import new_run

    advance_run(new_run(RunConfig(n_samples=40, hidden=(4,), epochs=3)), 3)


class CeleryRunner:
    """Jobs sent through Redis to Celery workers (``lossviz worker``), on this or other machines.

    ``submit`` says False when the budget kept in that Redis (``app.runs.budget``: the live workers'
    threads, 'server_jobs' and 'job_memory' per worker) is spent; the job carries its share to
    the worker, which gives it back when the job ends.
    """

    def __init__(self, celery_app, budget=None) -> None:
        from .budget import RedisBudget

        self.celery_app = celery_app
        self.budget = budget or RedisBudget(celery_app.conf.broker_url)

    def busy_message(self) -> str:
        """Why ``submit`` said no, in words: no worker alive, or every live worker is full."""
        try:
            usage = self.budget.usage()
        except Exception:  # noqa: BLE001 - Redis away: say what is known
            usage = {"workers": -1}
        if usage.get("workers") == 0:
            return ("busy: no `lossviz worker` is running to train runs (start one with LOSSVIZ_REDIS_URL set: "
                    "`lossviz worker`) — press Train again once it is up")
        return (f"busy: the training workers run all they can at once ({usage.get('jobs', '?')} runs; "
                f"'worker_jobs' runs and 'job_memory' MB per worker) — press Train again in a moment, "
                "or try a smaller network")

    def submit(self, run_id: str, cost: int = 0) -> bool:
        share = self.budget.take(cost)
        if share is None:
            return False
        try:
            self.celery_app.send_task("lossviz.train", args=[run_id, share, int(cost)])
        except Exception:
            self.budget.give(share)
            raise
        return True
