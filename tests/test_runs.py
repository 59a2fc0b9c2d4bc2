"""Tests for app.runs.run in memory: new runs, advancing them with curve points (the store: test_store.py)."""
import math

import numpy as np
import pytest

from app.runs.run import CURVE_KEYS, MAX_CURVE_POINTS, advance_run, new_run
from lossviz import RunConfig, Trainer

SMALL = RunConfig(dataset="moons", n_samples=100, hidden=(6, 5), epochs=30)
# 80 training points in batches of 10: 8 steps an epoch, 300 epochs = 2400 steps > MAX_CURVE_POINTS,
# so a curve point is kept only every 2nd step, and the minibatch shuffling RNG matters.
MINIBATCH = RunConfig(dataset="moons", n_samples=100, hidden=(6,), batch_size=10, epochs=300)
DIVERGES = RunConfig(dataset="sine", loss="mse", optimizer="sgd", lr=100.0, n_samples=100, epochs=50)


def assert_consistent(state):
    h = state.history
    lengths = {k: len(h[k]) for k in CURVE_KEYS}
    assert len(set(lengths.values())) == 1, lengths
    assert state.n_points == lengths["step"]
    for k in CURVE_KEYS:
        assert all(v is None or (type(v) is float and math.isfinite(v)) for v in h[k]), k
    steps = h["step"]
    assert steps[0] == 0
    assert all(a < b for a, b in zip(steps, steps[1:])), steps  # one point per step, no repeats
    assert steps[-1] <= state.trainer.step_count


# --- new runs -------------------------------------------------------------------------------

def test_new_run_is_deterministic_in_the_config():
    a, b = new_run(SMALL), new_run(SMALL)
    np.testing.assert_array_equal(a.trainer.params, b.trainer.params)
    assert a.history == b.history
    assert a.n_points == 1 and a.history["step"] == [0.0]
    assert a.version == 0 and a.config == SMALL
    assert a.run_id != b.run_id


def test_new_run_first_point_is_the_trainers_evaluation():
    state = new_run(SMALL, run_id="r1")
    snap = Trainer(SMALL).evaluate()
    assert state.run_id == "r1"
    for k in CURVE_KEYS:
        assert state.history[k][0] == pytest.approx(float(getattr(snap, k)), rel=1e-12)


def test_new_run_seed_changes_the_start():
    a, b = new_run(SMALL), new_run(SMALL.replace(seed=1))
    assert not np.array_equal(a.trainer.params, b.trainer.params)


def test_curve_points_are_capped():
    assert new_run(MINIBATCH).curve_every == math.ceil(2400 / MAX_CURVE_POINTS)
    assert new_run(SMALL).curve_every == 1


# --- advancing ------------------------------------------------------------------------------

def test_advance_records_every_step_when_short():
    state = new_run(SMALL)
    assert advance_run(state, 5) == 5
    assert state.trainer.step_count == 5
    assert state.history["step"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert state.version == 1
    assert_consistent(state)
    # The last point is the trainer's own evaluation at step 5.
    snap = state.trainer.evaluate()
    assert state.history["train_loss"][-1] == pytest.approx(snap.train_loss, rel=1e-12)
    assert state.history["test_metric"][-1] == pytest.approx(snap.test_metric, rel=1e-12)


def test_advance_keeps_points_on_the_curve_grid():
    state = new_run(MINIBATCH)
    every = state.curve_every
    assert every == 2
    assert advance_run(state, 5) == 5
    assert state.history["step"] == [float(s) for s in range(0, 6, every)]
    assert advance_run(state, 3) == 3
    assert state.history["step"] == [float(s) for s in range(0, 9, every)]
    assert state.version == 2
    assert_consistent(state)


def test_version_increments_only_when_steps_are_taken():
    state = new_run(SMALL)
    for v in range(1, 4):
        advance_run(state, 2)
        assert state.version == v
    assert advance_run(state, 0) == 0
    assert state.version == 3


def test_finished_run_stops_and_records_its_last_step():
    cfg = SMALL.replace(epochs=7)
    state = new_run(cfg)
    assert advance_run(state, 100) == 7
    assert state.trainer.finished and state.trainer.step_count == 7
    assert state.history["step"][-1] == 7.0
    before = (dict((k, list(v)) for k, v in state.history.items()), state.version)
    assert advance_run(state, 5) == 0
    assert (state.history, state.version) == before
    assert_consistent(state)


def test_finished_minibatch_run_records_its_last_step_off_the_grid():
    cfg = MINIBATCH.replace(epochs=1, batch_size=30)  # 80 points in batches of 30: 3 steps
    state = new_run(cfg)
    advance_run(state, 100)
    assert state.trainer.finished and state.history["step"][-1] == 3.0
    assert_consistent(state)


def test_time_budget_stops_early():
    state = new_run(MINIBATCH)
    taken = advance_run(state, 10 ** 9, budget_s=0.0)
    assert 1 <= taken < state.trainer.total_steps
    assert_consistent(state)


def test_diverged_run_stops_with_json_safe_history():
    state = new_run(DIVERGES)
    taken = advance_run(state, 50)
    assert state.trainer.status == "diverged"
    assert taken < 50
    assert advance_run(state, 5) == 0
    assert_consistent(state)
