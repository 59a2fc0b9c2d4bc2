"""Runs as values keyed by an id, kept in a store shared by every worker process.

A run is a ``RunState``: the engine's ``Trainer`` plus the curve history the browser streams.
Nothing lives in module globals: each callback loads the run it names, advances or reads it,
and (when it changed it) saves it back under a per-run lock. Several users, several workers
and, later, two runs per session (compare mode) all fit this shape.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import diskcache

from lossviz import RunConfig, Trainer

MAX_CURVE_POINTS = 2000
RUN_TTL_S = 6 * 3600
TRAJECTORY_BYTES = 4 * 2 ** 20  # a stored run is re-read every tick: keep its path small
CURVE_KEYS = ("step", "train_loss", "test_loss", "train_metric", "test_metric")


@dataclass
class RunState:
    """One run: the trainer, its streamed curve history and a version bumped on every change."""

    run_id: str
    trainer: Trainer
    curve_every: int
    history: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in CURVE_KEYS})
    version: int = 0
    running: bool = False  # set by Train/Pause; a training tick only advances a running run

    @property
    def config(self) -> RunConfig:
        return self.trainer.config

    @property
    def n_points(self) -> int:
        return len(self.history["step"])


def new_run(config: RunConfig, run_id: str | None = None) -> RunState:
    """A fresh run at step 0 with its first curve point (deterministic in the config's seed)."""
    trainer = Trainer(config, trajectory_bytes=TRAJECTORY_BYTES)
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
        done = trainer.advance(min(to_next, n_steps - taken))
        taken += done
        on_grid = trainer.step_count % state.curve_every == 0
        if (done == 0 or on_grid or trainer.finished) and state.history["step"][-1] != trainer.step_count:
            _record(state)
        if deadline is not None and time.perf_counter() > deadline:
            break
    if taken:
        state.version += 1
    return taken


def default_cache_dir() -> str:
    return os.environ.get("LOSSVIZ_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "lossviz-cache")


class RunStore:
    """Runs and costly results in a diskcache shared by processes (keyed by run id)."""

    def __init__(self, directory: str | None = None) -> None:
        self.cache = diskcache.Cache(directory or default_cache_dir(), size_limit=2 ** 30)

    def get(self, run_id: str | None) -> RunState | None:
        return self.cache.get(("run", run_id)) if run_id else None

    def put(self, state: RunState) -> None:
        self.cache.set(("run", state.run_id), state, expire=RUN_TTL_S)

    @contextmanager
    def locked(self, run_id: str) -> Iterator[None]:
        """Serialize writers of one run (a tick and a button press never interleave)."""
        with diskcache.Lock(self.cache, ("lock", run_id), expire=30):
            yield

    @contextmanager
    def try_locked(self, run_id: str) -> Iterator[bool]:
        """Like :meth:`locked` but never waits: yields False when someone else holds the lock."""
        key = ("lock", run_id)
        got = self.cache.add(key, None, expire=30)
        try:
            yield got
        finally:
            if got:
                self.cache.delete(key)

    def get_result(self, key: tuple):
        return self.cache.get(("result",) + key)

    def put_result(self, key: tuple, value) -> None:
        self.cache.set(("result",) + key, value, expire=RUN_TTL_S)
