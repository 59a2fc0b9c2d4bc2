"""Runs as values keyed by an id: made by a request, trained by a job, read by ticks and views.

In memory (inside the one job that trains it) a run is a ``RunState``: the engine's ``Trainer``
plus its curve history. In the store it is a few small records (``app.runs.store``). This module
turns one into the other: ``create_run`` (a request makes a run at step 0), ``restore``/
``publish``/``save_model`` (the job), ``load_view`` (what the plots read: weights and path).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from lossviz import Experiment, RunConfig, Trainer, tabular
from lossviz.datasets import Dataset
from lossviz.model import Network
from lossviz.training import dataset_for

from . import caps
from .store import CURVE_CHUNK, CURVE_KEYS, UNTRAINED_TTL_S, RunStore, traj_rows_per_chunk

MAX_CURVE_POINTS = 2000
TRAJECTORY_BYTES = 2 * 2 ** 20  # the path a landscape projects: about 500 rows of a small net
TAIL_MAX = 3 * CURVE_CHUNK
TABLE_GONE = ("This run's data is an uploaded CSV that this server no longer has: upload the same "
              "file to reopen this run.")


@dataclass
class RunState:
    """One run in memory: the trainer, its curve history and a version bumped on every change."""

    run_id: str
    trainer: Trainer
    curve_every: int
    history: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in CURVE_KEYS})
    version: int = 0

    @property
    def config(self) -> RunConfig:
        return self.trainer.config

    @property
    def n_points(self) -> int:
        return len(self.history["step"])

    def points(self, start: int = 0) -> list[list]:
        """Curve points from ``start`` as rows [step, train_loss, test_loss, train_metric, test_metric]."""
        return [list(row) for row in zip(*(self.history[k][start:] for k in CURVE_KEYS))]


def new_run(config: RunConfig, run_id: str | None = None) -> RunState:
    """A fresh run at step 0 with its first curve point (deterministic in the config's seed)."""
    return state_of(Trainer(config, trajectory_bytes=TRAJECTORY_BYTES), run_id)


def state_of(trainer: Trainer, run_id: str | None = None) -> RunState:
    """A run in memory around a trainer at step 0, with its first curve point."""
    every = max(1, math.ceil(trainer.total_steps / MAX_CURVE_POINTS))
    state = RunState(run_id or uuid.uuid4().hex, trainer, every)
    _record(state)
    return state


def _record(state: RunState) -> None:
    snap = state.trainer.evaluate()
    for key in CURVE_KEYS:
        value = float(getattr(snap, key))
        state.history[key].append(value if math.isfinite(value) else None)


def advance_run(state: RunState, n_steps: int, budget_s: float | None = None) -> int:
    """Advance up to ``n_steps`` (or until ``budget_s`` seconds pass), recording curve points."""
    trainer, taken = state.trainer, 0
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    while taken < n_steps and not trainer.finished:
        to_next = state.curve_every - trainer.step_count % state.curve_every
        # With a time budget, one step at a time: a big network's step can take tens of ms.
        done = trainer.advance(1 if deadline is not None else min(to_next, n_steps - taken))
        taken += done
        on_grid = trainer.step_count % state.curve_every == 0
        if (done == 0 or on_grid or trainer.finished) and state.history["step"][-1] != trainer.step_count:
            _record(state)
        if deadline is not None and time.perf_counter() > deadline:
            break
    if taken:
        state.version += 1
    return taken


def history_of(points: list[list]) -> dict[str, list]:
    """Curve rows back to lists by key (what ``figures.curves_figure`` draws)."""
    return {k: [row[i] for row in points] for i, k in enumerate(CURVE_KEYS)}


def run_state_word(trainer: Trainer) -> str:
    if trainer.status == "diverged":
        return "diverged"
    return "finished" if trainer.finished else ("paused" if trainer.step_count else "ready")


# --- the store side ------------------------------------------------------------------------

def create_run(store: RunStore, config: RunConfig, owner: str) -> dict:
    """Make a run at step 0 in the store, owned by ``owner``; returns its hot record."""
    return _store_new(store, new_run(config), owner)


def table_data(store: RunStore, config: RunConfig) -> Dataset | None:
    """The Dataset of the uploaded table a config names, rebuilt from its bytes in the store
    (None for a registry dataset; LookupError when the table has expired)."""
    if not tabular.is_table_name(config.dataset):
        return None
    raw = store.table(tabular.parse_table_name(config.dataset)[0])
    if raw is None:
        raise LookupError(TABLE_GONE)
    return tabular.dataset_from_csv(raw, config.dataset, test_fraction=config.test_fraction, seed=config.seed)


def initial_trainer(store: RunStore, hot: dict) -> Trainer:
    """The run of record ``hot`` at step 0, rebuilt as ``create_experiment`` made it: from its
    config and seed, and B in compare mode from A's start when they share one (LookupError
    when A's record or the run's table has expired)."""
    config = RunConfig.from_dict(hot["config"])
    data = table_data(store, config)
    params_init = None
    lead = hot.get("lead")
    if lead and lead != hot["run_id"] and hot.get("same_start"):
        lead_hot = store.hot(lead)
        if lead_hot is None:
            raise LookupError("this run has expired")
        params_init = Trainer(RunConfig.from_dict(lead_hot["config"]), data=data).params_init
    return Trainer(config, params_init=params_init, trajectory_bytes=TRAJECTORY_BYTES, data=data)


def create_experiment(store: RunStore, config: RunConfig, owner: str, vary: str | None = None,
                      value=None) -> list[dict]:
    """Make one run, or two that differ only in ``vary`` (B = ``value``) from the same start
    (``lossviz.Experiment``); the first leads: its job trains the other in lockstep.
    Returns the hot records, the lead's first."""
    store.check_room()
    data = table_data(store, config)
    exp = Experiment(config, vary, value, trajectory_bytes=TRAJECTORY_BYTES, data=data)
    if data is not None:  # a table's network size is known only now
        for t in exp.runs:
            caps.check_config(t.config, t.net.n_params, len(data.y_train) + len(data.y_test))
    states = [state_of(t) for t in exp.runs]
    hots = [_store_new(store, s, owner, label=label, same_start=exp.same_start)
            for s, label in zip(states, exp.labels)]
    if len(hots) > 1:
        hots = [dict(h, lead=hots[0]["run_id"], vary=vary, value=_plain(exp.value)) for h in hots]
        for h in hots:
            store.put_hot(h)
        store.put_partners(hots[0]["run_id"], [h["run_id"] for h in hots[1:]])
    for h in hots:  # kept for hours only once it trains (run_control.command)
        store.keep(h, UNTRAINED_TTL_S)
    return hots


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def _store_new(store: RunStore, state: RunState, owner: str, label: str = "", same_start: bool = True) -> dict:
    """Write a run at step 0 to the store; returns its hot record."""
    tr, config = state.trainer, state.trainer.config
    hot = {"run_id": state.run_id, "owner": owner, "config": config.to_dict(), "task": tr.data.task,
           "label": label, "same_start": same_start,
           "total_steps": tr.total_steps, "steps_per_epoch": tr.steps_per_epoch,
           "curve_every": state.curve_every, "n_params": tr.net.n_params,
           "traj_per_chunk": traj_rows_per_chunk(tr.net.n_params), "state": "ready", "message": "",
           "n_rows": len(tr.data.y_train) + len(tr.data.y_test),
           "step": 0, "version": 0, "acked": 0, "chunks": 0, "tail": state.points(), "last": state.points()[0], "n_points": 1,
           "traj_chunks": 0, "updated": time.time()}
    # Only the record: a run at step 0 is its config, its seed and (B in compare mode) A's start,
    # so its weights and trainer are rebuilt when read (``initial_trainer``) and stored once it
    # trains. A Reset of a big network stores a few KB, not its weights and optimizer state twice.
    store.put_hot(hot)
    return hot


def publish(store: RunStore, state: RunState, hot: dict, status: str, message: str = "") -> dict:
    """Write what changed since ``hot`` (new curve chunks, trajectory chunks, the hot record)."""
    tr, rid = state.trainer, state.run_id
    done = hot["chunks"]
    while (done + 1) * CURVE_CHUNK <= state.n_points:
        store.put_curve_chunk(rid, done, state.points(done * CURVE_CHUNK)[:CURVE_CHUNK])
        done += 1
    rows, per = tr._trajectory, hot["traj_per_chunk"]
    traj_done = hot["traj_chunks"]
    while (traj_done + 1) * per <= len(rows):
        store.put_traj_chunk(rid, traj_done, np.array(rows[traj_done * per:(traj_done + 1) * per]))
        traj_done += 1
    hot = dict(hot, state=status, message=message, step=tr.step_count, version=state.version,
               chunks=done, tail=state.points(done * CURVE_CHUNK), last=state.points(state.n_points - 1)[0],
               n_points=state.n_points,
               traj_chunks=traj_done, updated=time.time())
    store.put_hot(hot)
    return hot


def save_params(store: RunStore, state: RunState, hot: dict) -> None:
    """The current weights and the path rows not yet in a chunk (what the plots read)."""
    tr = state.trainer
    start = hot["traj_chunks"] * hot["traj_per_chunk"]
    tail = np.array(tr._trajectory[start:]).reshape(-1, tr.net.n_params)
    store.put_params(state.run_id, tr.step_count, tr.params, tail, start)


def save_model(store: RunStore, state: RunState, hot: dict) -> None:
    """The trainer's whole state; the path is kept in chunks, so only the unchunked rows go here."""
    d = state.trainer.state_dict()
    start = hot["traj_chunks"] * hot["traj_per_chunk"]
    d.update(trajectory=d["trajectory"][start:], traj_start=start, n_points=state.n_points,
             curve_every=state.curve_every, version=state.version)
    store.put_model(state.run_id, d)


def restore(store: RunStore, hot: dict) -> RunState:
    """The run in memory again, as the last saved model left it (LookupError when expired)."""
    rid = hot["run_id"]
    d = store.model(rid)
    if d is None:
        return state_of(initial_trainer(store, hot), rid)  # never trained: nothing saved yet
    per = hot["traj_per_chunk"]
    chunks = store.trajectory(rid, d["traj_start"] // per)
    d["trajectory"] = np.concatenate(chunks + [d["trajectory"]]) if chunks else d["trajectory"]
    config = RunConfig.from_dict(hot["config"])
    trainer = Trainer.from_state_dict(config, d, trajectory_bytes=TRAJECTORY_BYTES,
                                      data=table_data(store, config))
    state = RunState(rid, trainer, int(d["curve_every"]), version=int(d["version"]))
    state.history = history_of(store.points_since(hot, 0)[:int(d["n_points"])])
    return state


def run_hots(store: RunStore, hot: dict) -> list[dict]:
    """A lead run's record and its partners' (compare mode), the lead first."""
    partners = [store.hot(r) for r in store.partners(hot["run_id"])]
    if any(p is None for p in partners):
        raise LookupError("This run has expired; press Reset to start again.")
    return [hot] + partners


@dataclass(frozen=True)
class RunView:
    """What the plots need of a run, read from the store: weights, path, data and network."""

    run_id: str
    version: int  # the step the weights are from: a cache key for what is drawn of them
    config: RunConfig
    data: Dataset
    net: Network
    params: np.ndarray
    trajectory: np.ndarray

    @property
    def step_count(self) -> int:
        return self.version

    @classmethod
    def of_state(cls, state: RunState) -> "RunView":
        """The view of a run in memory (the job's own, or one made in a notebook or test)."""
        return cls.of_trainer(state.run_id, state.trainer)

    @classmethod
    def of_trainer(cls, run_id: str, tr: Trainer) -> "RunView":
        return cls(run_id, tr.step_count, tr.config, tr.data, tr.net, tr.params.copy(), tr.trajectory)


def load_view(store: RunStore, hot: dict) -> RunView:
    """The run's latest saved weights and path (LookupError when expired)."""
    rid, p = hot["run_id"], store.params(hot["run_id"])
    if p is None:  # never trained (or its first weights are a moment from being saved): its start
        return RunView.of_trainer(rid, initial_trainer(store, hot))
    # The tail was saved with the weights, starting where the chunks complete at that moment
    # ended; those chunks never change, so chunks + tail is the path up to those weights.
    chunks = store.trajectory(rid, int(p["traj_start"]) // hot["traj_per_chunk"])
    traj = np.concatenate(chunks + [p["traj_tail"]])
    if not len(traj) or not np.array_equal(traj[-1], p["params"]):
        traj = np.vstack([traj, p["params"][None]])
    config = RunConfig.from_dict(hot["config"])
    data = dataset_for(config, table_data(store, config))
    out = data.n_classes if data.task == "classification" else 1
    net = Network((data.X_train.shape[1], *config.hidden, out), config.activation)
    return RunView(rid, int(p["step"]), config, data, net, p["params"], traj)
