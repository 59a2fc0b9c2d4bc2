"""Tests for lossviz.training: learning, the loss lesson, the snapshot stream, divergence."""
import math
import pickle
import warnings
from dataclasses import astuple

import numpy as np
import pytest

from lossviz import RunConfig, Trainer, train
from lossviz.training import MAX_TRAJECTORY_ROWS

SMALL = dict(dataset="moons", n_samples=100, hidden=(5, 4), epochs=20)


def nan_safe(snapshot):
    """Snapshot fields with NaN replaced (step 0 has no gradient yet), for comparisons."""
    return tuple("nan" if isinstance(v, float) and math.isnan(v) else
                 (v.tobytes() if isinstance(v, np.ndarray) else v) for v in astuple(snapshot))


def accuracy(net, params, X, y):
    return float((net.forward(params, X).argmax(axis=1) == y).mean())


def steps_to_train_accuracy(trainer, target, max_steps):
    while trainer.step_count < max_steps:
        assert trainer.advance(1) == 1, trainer.message
        if accuracy(trainer.net, trainer.params, trainer.data.X_train, trainer.data.y_train) >= target:
            return trainer.step_count
    return math.inf


# --- it learns ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adam_learns_moons(seed):
    # Defaults: 2->16->16->2 tanh, Adam lr 0.01, full batch, 200 epochs. 1000 points give a
    # 200-point test split, so the accuracy estimate is not one or two points from the bar.
    config = RunConfig(dataset="moons", noise=0.2, n_samples=1000, seed=seed)
    assert (config.hidden, config.activation, config.optimizer, config.lr, config.batch_size,
            config.epochs) == ((16, 16), "tanh", "adam", 0.01, 0, 200)
    snaps = list(train(config))
    last = snaps[-1]
    assert last.status == "done" and last.step == 200
    assert last.test_metric >= 0.95
    t = Trainer(config)
    t.advance(200)
    # The snapshot's accuracy is the real accuracy of the final network.
    assert last.test_metric == accuracy(t.net, t.params, t.data.X_test, t.data.y_test)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_reaches_90_percent_before_mse_from_same_init(seed):
    base = RunConfig(dataset="moons", noise=0.2, seed=seed, optimizer="sgd", lr=0.5, epochs=2000)
    init = Trainer(base).params_init
    ce = Trainer(base.replace(loss="cross_entropy"), params_init=init)
    mse = Trainer(base.replace(loss="mse"), params_init=init)
    np.testing.assert_array_equal(ce.params, mse.params)
    np.testing.assert_array_equal(ce.params, init)
    np.testing.assert_array_equal(ce.data.X_train, mse.data.X_train)
    steps_ce = steps_to_train_accuracy(ce, 0.9, 2000)
    steps_mse = steps_to_train_accuracy(mse, 0.9, 2000)
    assert steps_ce < steps_mse, (steps_ce, steps_mse)
    assert steps_ce < 2000


def test_the_untrained_default_network_is_at_chance():
    """The first page a class sees starts from the default settings: their untrained network
    must not already get the answer right (seed 0 started at 86% train, 82% test)."""
    t = Trainer(RunConfig())
    chance = 1 / t.data.n_classes
    snap = t.evaluate()
    assert abs(snap.train_metric - chance) <= 0.1 and abs(snap.test_metric - chance) <= 0.1, snap
    while not t.finished:  # and they still learn the data
        t.advance(1000)
    assert t.evaluate().test_metric >= 0.9


def test_params_init_is_copied_and_checked():
    config = RunConfig(**SMALL)
    init = Trainer(config).params_init
    keep = init.copy()
    t = Trainer(config, params_init=init)
    t.advance(5)
    np.testing.assert_array_equal(init, keep)  # caller's vector untouched
    with pytest.raises(ValueError, match="params_init"):
        Trainer(config, params_init=np.zeros(init.size + 1))


# --- the objective ---------------------------------------------------------------------

@pytest.mark.parametrize("l2,l1", [(0.0, 0.0), (0.05, 0.0), (0.0, 0.01), (0.03, 0.02)])
def test_objective_gradient_with_penalties_matches_finite_differences(l2, l1):
    t = Trainer(RunConfig(dataset="moons", n_samples=40, hidden=(4,), l2=l2, l1=l1))
    theta = t.params.copy()
    assert np.min(np.abs(theta[t.net.weight_mask])) > 1e-4  # away from L1's kink

    def objective(p):
        t.params = p
        return t.objective_grad()[0]

    h = 1e-6
    fd = np.array([(objective(theta + h * e) - objective(theta - h * e)) / (2 * h)
                   for e in np.eye(theta.size)])
    t.params = theta
    value, grad = t.objective_grad()
    assert np.max(np.abs(grad - fd)) / np.max(np.abs(fd)) < 1e-6
    # The objective is the data loss plus (l2/2)|w|^2 + l1|w|_1, weights only.
    w = theta[t.net.weight_mask]
    data_loss = t.evaluate().train_loss
    assert value == pytest.approx(data_loss + 0.5 * l2 * (w @ w) + l1 * np.abs(w).sum(), rel=1e-12)


@pytest.mark.parametrize("loss,dataset", [("cross_entropy", "blobs"), ("mse", "blobs"),
                                          ("huber", "blobs"), ("mse", "sine"), ("huber", "sine")])
def test_objective_gradient_for_every_loss_matches_finite_differences(loss, dataset):
    t = Trainer(RunConfig(dataset=dataset, n_samples=30, hidden=(4,), loss=loss, huber_delta=0.3))
    theta = t.params.copy()

    def objective(p):
        t.params = p
        return t.objective_grad()[0]

    h = 1e-6
    fd = np.array([(objective(theta + h * e) - objective(theta - h * e)) / (2 * h)
                   for e in np.eye(theta.size)])
    t.params = theta
    _, grad = t.objective_grad()
    assert np.max(np.abs(grad - fd)) / np.max(np.abs(fd)) < 1e-6


# --- the snapshot stream ------------------------------------------------------------------

def test_snapshot_stream_starts_at_zero_and_ends_done():
    config = RunConfig(**SMALL)
    snaps = list(train(config, every=3))
    assert snaps[0].step == 0 and snaps[0].epoch == 0
    assert snaps[-1].status == "done" and snaps[-1].step == 20
    assert all(s.status == "running" for s in snaps[:-1])
    steps = [s.step for s in snaps]
    k = Trainer(config).record_every
    expected = sorted({0, 20} | set(range(0, 21, 3)) | set(range(0, 21, k)))
    assert steps == expected
    for s in snaps:
        assert 0.0 <= s.train_metric <= 1.0 and 0.0 <= s.test_metric <= 1.0
        assert math.isfinite(s.train_loss) and math.isfinite(s.test_loss)


def test_snapshot_stream_carries_the_trajectory():
    config = RunConfig(**{**SMALL, "epochs": 1200})
    snaps = list(train(config, every=100))
    rows = np.array([s.params for s in snaps if s.params is not None])
    trainer = Trainer(config)
    trainer.advance(1200)
    assert 2 < len(rows) <= 501
    np.testing.assert_array_equal(rows[0], trainer.params_init)
    np.testing.assert_array_equal(rows, trainer.trajectory)


def test_snapshot_values_are_the_real_losses():
    config = RunConfig(dataset="sine", n_samples=60, hidden=(6,), loss="mse", epochs=10)
    t = Trainer(config)
    t.advance(10)
    s = t.evaluate()
    X, y = t.data.X_train, t.data.y_train
    pred = t.net.forward(t.params, X)[:, 0]
    assert s.train_loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-12)
    r2 = 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert s.train_metric == pytest.approx(r2, rel=1e-12)
    assert s.objective == s.train_loss  # no penalty configured


def test_trajectory_first_row_init_last_row_final():
    t = Trainer(RunConfig(**SMALL))
    t.advance(7)  # paused mid-run: the current vector is the last row
    traj = t.trajectory
    np.testing.assert_array_equal(traj[0], t.params_init)
    np.testing.assert_array_equal(traj[-1], t.params)
    t.advance(100)
    traj = t.trajectory
    np.testing.assert_array_equal(traj[0], t.params_init)
    np.testing.assert_array_equal(traj[-1], t.params)
    assert traj.shape[1] == t.net.n_params


def test_long_run_trajectory_is_capped():
    config = RunConfig(dataset="moons", n_samples=60, hidden=(3,), batch_size=4, epochs=150)
    t = Trainer(config)
    assert t.total_steps == 12 * 150  # 48 training rows / 4
    t.advance(t.total_steps)
    traj = t.trajectory
    assert 100 <= traj.shape[0] <= MAX_TRAJECTORY_ROWS + 1
    np.testing.assert_array_equal(traj[0], t.params_init)
    np.testing.assert_array_equal(traj[-1], t.params)


def test_pause_and_resume_equal_one_run():
    config = RunConfig(**{**SMALL, "batch_size": 16})
    a, b = Trainer(config), Trainer(config)
    a.advance(13)
    for n in (1, 5, 7):
        b.advance(n)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.step_count == b.step_count == 13


def test_minibatches_cover_each_epoch_once_and_last_is_smaller():
    config = RunConfig(dataset="moons", n_samples=50, hidden=(3,), batch_size=16, epochs=3)
    t = Trainer(config)
    n = t.data.X_train.shape[0]  # 40
    seen = []
    real = t._batch

    def recording():
        idx = real()
        seen.append(np.arange(n) if idx is None else np.array(idx))
        return idx

    t._batch = recording
    t.advance(100)
    assert t.steps_per_epoch == 3 and t.step_count == 9
    assert [len(i) for i in seen] == [16, 16, 8] * 3
    epochs = [np.concatenate(seen[3 * e:3 * e + 3]) for e in range(3)]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(n))
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch


def test_full_batch_is_one_step_per_epoch():
    t = Trainer(RunConfig(**SMALL))
    assert t.steps_per_epoch == 1 and t.total_steps == 20


def test_minibatch_run_is_deterministic_for_a_seed():
    config = RunConfig(**{**SMALL, "batch_size": 8, "optimizer": "momentum", "lr": 0.05})
    a = list(train(config))
    b = list(train(config))
    assert [nan_safe(s) for s in a] == [nan_safe(s) for s in b]
    ta, tb = Trainer(config), Trainer(config)
    ta.advance(50)
    tb.advance(50)
    np.testing.assert_array_equal(ta.trajectory, tb.trajectory)
    tc = Trainer(config.replace(seed=1))
    tc.advance(50)
    assert not np.array_equal(ta.params[:5], tc.params[:5])


def test_pickled_trainer_resumes_exactly():
    # Runs are stored between requests: a restored run continues as if never paused.
    config = RunConfig(**{**SMALL, "batch_size": 16, "optimizer": "adam", "epochs": 10})
    a = Trainer(config)
    a.advance(7)
    b = pickle.loads(pickle.dumps(a))
    a.advance(100)
    b.advance(100)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    assert nan_safe(a.evaluate()) == nan_safe(b.evaluate())


def test_trajectory_memory_budget_caps_rows():
    config = RunConfig(dataset="moons", n_samples=60, hidden=(3,), epochs=400)
    t = Trainer(config, trajectory_bytes=50 * 8 * Trainer(config).net.n_params)
    t.advance(t.total_steps)
    traj = t.trajectory
    assert traj.shape[0] <= 51
    np.testing.assert_array_equal(traj[0], t.params_init)
    np.testing.assert_array_equal(traj[-1], t.params)


# --- divergence ----------------------------------------------------------------------------

def test_huge_learning_rate_ends_with_diverged_status():
    config = RunConfig(dataset="sine", n_samples=100, loss="mse", optimizer="sgd", lr=50.0,
                       epochs=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks out of NumPy either
        snaps = list(train(config))
    last = snaps[-1]
    assert last.status == "diverged"
    assert "learning rate" in last.message
    assert last.step < 200
    assert all(s.status == "running" for s in snaps[:-1])


def _overflowing_trainer():
    config = RunConfig(dataset="sine", n_samples=40, hidden=(4,), loss="mse")
    return Trainer(config, params_init=np.full(Trainer(config).net.n_params, 1e200))


def test_non_finite_loss_ends_with_diverged_status():
    t = _overflowing_trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert t.advance(10) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snap = t.evaluate()
    assert snap.status == "diverged" and t.finished
    assert "learning rate" in snap.message
    assert t.advance(1) == 0  # stays stopped


def test_evaluating_a_diverged_run_emits_no_numpy_warning():
    t = _overflowing_trainer()
    t.advance(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snap = t.evaluate()
    assert snap.status == "diverged"


def test_snapshot_names_its_metric_by_task():
    cls = list(train(RunConfig(**SMALL)))[-1]
    reg = list(train(RunConfig(dataset="sine", n_samples=60, hidden=(4,), loss="mse", epochs=5)))[-1]
    assert cls.train_accuracy == cls.train_metric and cls.test_r2 is None
    assert reg.test_r2 == reg.test_metric and reg.train_accuracy is None
