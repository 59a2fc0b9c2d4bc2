"""Tests for lossviz.sweep: every rate from one start, curves as a Trainer draws them, the best rate."""
import math

import numpy as np
import pytest

import lossviz
from lossviz import RunConfig, Trainer
from lossviz.config import MAX_LR
from lossviz.sweep import MAX_SWEEP_RATES, compare_lr_sweep, lr_sweep, sweep_rates

SMALL = RunConfig(dataset="moons", n_samples=100, hidden=(8,), activation="tanh", loss="cross_entropy",
                  optimizer="sgd", lr=0.5, epochs=20, seed=3)


def test_default_rates_are_log_spaced_around_the_rate():
    rates = sweep_rates(0.5)
    assert rates.shape == (7,) and np.allclose(rates[1:] / rates[:-1], 2.0)
    assert math.isclose(rates[3], 0.5) and (np.diff(rates) > 0).all()
    assert np.allclose(sweep_rates(1.0, n=3, factor=10), [0.1, 1, 10])
    assert sweep_rates(40.0).max() <= MAX_LR and sweep_rates(40.0).size == 5  # 160 and 320 left out


def test_each_rate_trains_as_its_own_trainer_from_the_shared_start():
    """The reference: a Trainer at that rate from the same weights, read every 5 steps."""
    start = Trainer(SMALL.replace(seed=11)).params_init  # another start than the config's own
    sweep = lr_sweep(SMALL, [0.1, 1.0], every=5, params_init=start)
    assert list(sweep.steps) == [0, 5, 10, 15, 20] and sweep.status == ("done", "done")
    for i, lr in enumerate([0.1, 1.0]):
        run = Trainer(SMALL.replace(lr=lr), params_init=start)
        for j, step in enumerate(sweep.steps):
            run.advance(int(step) - run.step_count)
            snap = run.evaluate()
            assert sweep.loss[i, j] == pytest.approx(snap.train_loss, rel=1e-12)
            assert sweep.metric[i, j] == snap.train_metric
        assert sweep.test_metric[i] == snap.test_metric


def test_the_best_rate_has_the_lowest_final_loss_and_a_diverged_rate_is_never_best():
    config = RunConfig(dataset="sine", n_samples=60, hidden=(8,), loss="mse", optimizer="sgd", lr=0.1,
                       epochs=30, seed=0)
    sweep = lr_sweep(config, [0.01, 0.1, 50.0], every=1)
    assert sweep.status[2] == "diverged" and sweep.final_loss[2] == math.inf
    assert np.isnan(sweep.loss[2, -1]) and np.isnan(sweep.test_metric[2])
    assert sweep.best == int(np.argmin(sweep.loss[:2, -1])) and sweep.best_rate == sweep.rates[sweep.best]
    assert sweep.steps[-1] == 30 and sweep.loss.shape == (3, 31)


def test_first_step_at_reads_the_recorded_curve():
    sweep = lr_sweep(SMALL, [0.5, 2.0], every=1)
    for i in range(2):
        hit = np.flatnonzero(sweep.metric[i] >= 0.8)
        expected = float(sweep.steps[hit[0]]) if hit.size else math.inf
        assert sweep.first_step_at(0.8, i) == expected
    assert sweep.first_step_at(0.8) == sweep.first_step_at(0.8, sweep.best)
    assert sweep.first_step_at(1.01, 0) == math.inf


def test_compare_sweeps_start_both_runs_from_one_start():
    a, b = compare_lr_sweep(SMALL, "loss", "mse", [0.5, 2.0], every=10)
    assert a.config == SMALL and b.config == SMALL.replace(loss="mse")
    assert a.loss[0, 0] == pytest.approx(lossviz.Trainer(SMALL).evaluate().train_loss)
    start = Trainer(SMALL).params_init  # B (mse) trained from A's weights
    assert b.loss[0, 0] == pytest.approx(Trainer(SMALL.replace(loss="mse"), params_init=start).evaluate().train_loss)
    assert np.array_equal(a.rates, b.rates) and np.array_equal(a.steps, b.steps)


def test_compare_sweeps_refuse_to_vary_the_rate_they_sweep():
    with pytest.raises(ValueError, match="sets the learning rate itself"):
        compare_lr_sweep(SMALL, "lr", 1.0, [0.5])
    with pytest.raises(ValueError, match="cannot compare runs that differ in 'dataset'"):
        compare_lr_sweep(SMALL, "dataset", "circles", [0.5])


@pytest.mark.parametrize("rates", [[], [0.0], [-1.0], [MAX_LR * 2], [0.1, 0.1], [[0.1, 0.2]],
                                   [float("nan")], "0.1", list(np.linspace(0.01, 1, MAX_SWEEP_RATES + 1))])
def test_bad_rates_are_refused(rates):
    with pytest.raises(ValueError, match="rate"):
        lr_sweep(SMALL, rates)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="RunConfig"):
        lr_sweep({"lr": 0.1})
    with pytest.raises(ValueError, match="every"):
        lr_sweep(SMALL, [0.1], every=0)
    with pytest.raises(ValueError, match="lr"):
        sweep_rates(0.0)


def test_log_rates_run_from_low_to_high_as_typed():
    from lossviz.sweep import log_rates

    assert log_rates(0.25, 16, 7).tolist() == [0.25, 0.5, 1, 2, 4, 8, 16]
    assert log_rates(0.001, 0.1, 3).tolist() == [0.001, 0.01, 0.1]
    for bad in [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (0.1, 200.0)]:
        with pytest.raises(ValueError):
            log_rates(*bad)


def test_a_long_run_keeps_about_500_points_and_progress_counts_the_runs():
    seen = []
    config = SMALL.replace(epochs=1200)
    a, b = compare_lr_sweep(config, "activation", "relu", [0.1, 0.2],
                            progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert a.steps[0] == 0 and a.steps[-1] == 1200 and 400 <= a.steps.size <= 501
    assert lossviz.lr_sweep is lr_sweep and lossviz.compare_lr_sweep is compare_lr_sweep
