"""The edge of stability on the lesson's settings, and the sharpness helpers: λmax(H), and the
preconditioned λmax(P⁻¹H) the adaptive optimizers' lines hold for (Cohen et al. 2022)."""

import math

import numpy as np
import pytest

import lossviz
from lossviz import (EDGE_OF_STABILITY, RunConfig, Trainer, line_is_preconditioned, preconditioned_sharpness,
                     sharpness, sharpness_series, stability_threshold)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lambda_max_rises_to_two_over_eta_and_hovers_there(seed):
    config = RunConfig(**{**EDGE_OF_STABILITY, "seed": seed})
    assert (config.optimizer, config.batch_size, config.loss, config.activation) == \
        ("sgd", 0, "mse", "tanh")
    line = stability_threshold(config)
    assert line == pytest.approx(2 / config.lr)
    trainer = Trainer(config)
    first_loss = trainer.evaluate().train_loss
    steps, lam = sharpness_series(trainer, config.epochs, every=20)
    assert steps[-1] == config.epochs and trainer.status != "diverged"
    assert lam[0] < 0.9 * line  # it starts below the line: it rises to it
    reached = np.flatnonzero(lam >= 0.9 * line)
    assert reached.size, f"λmax peaked at {lam.max():.2f}, below 0.9 x 2/η = {0.9 * line:.2f}"
    after = lam[reached[0]:]
    assert 0.7 * line <= after.min() and after.max() <= 1.3 * line  # and stays near it
    assert trainer.evaluate().train_loss < 0.2 * first_loss  # while the loss still falls


def test_sharpness_is_lambda_max_and_reads_the_trainer_without_changing_it():
    trainer = Trainer(RunConfig(dataset="moons", n_samples=80, hidden=(5,), loss="cross_entropy"))
    trainer.advance(5)
    params = trainer.params.copy()
    value = sharpness(trainer)
    np.testing.assert_array_equal(trainer.params, params)
    assert trainer.step_count == 5
    kw = dict(layer_sizes=trainer.net.layer_sizes, activation="tanh", loss="cross_entropy")
    X, y = trainer.data.X_train, trainer.data.y_train
    H = np.array([lossviz.hvp(params, e, X, y, **kw) for e in np.eye(params.size)])
    assert value == pytest.approx(np.linalg.eigvalsh((H + H.T) / 2)[-1], rel=1e-8)


def test_series_measures_at_its_pace_and_stops_at_the_end():
    trainer = Trainer(RunConfig(dataset="sine", n_samples=60, hidden=(4,), loss="mse",
                                optimizer="sgd", lr=0.05, epochs=25))
    steps, lam = sharpness_series(trainer, 100, every=10)
    np.testing.assert_array_equal(steps, [0, 10, 20, 25])
    assert lam.shape == (4,) and np.isfinite(lam).all()
    steps, lam = sharpness_series(trainer, 10)  # finished: one measurement, no steps
    np.testing.assert_array_equal(steps, [25])


@pytest.mark.parametrize("optimizer,expected", [
    ("sgd", 2 / 0.1), ("momentum", (2 + 2 * 0.5) / 0.1), ("nesterov", (2 + 2 * 0.5) / (2 * 0.1)),
    ("adam", 38 / 0.1), ("rmsprop", 2 / 0.1)])
def test_stability_threshold_per_optimizer(optimizer, expected):
    value = stability_threshold(RunConfig(optimizer=optimizer, lr=0.1, momentum=0.5))
    assert value == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("call", [
    lambda t: sharpness_series(t, -1), lambda t: sharpness_series(t, 10, every=0),
    lambda t: sharpness_series(t, 1.5)])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call(Trainer(RunConfig(dataset="sine", n_samples=40, hidden=(3,), loss="mse")))


def test_threshold_wants_a_config():
    with pytest.raises(TypeError):
        stability_threshold({"optimizer": "sgd", "lr": 0.1})


# --- the preconditioned sharpness λmax(P⁻¹H) ---------------------------------------------------

def dense_hessian(trainer):
    """H built column by column from the exact hvp (P x P), symmetrized."""
    kw = dict(layer_sizes=trainer.net.layer_sizes, activation=trainer.config.activation,
              loss=trainer.config.loss, huber_delta=trainer.config.huber_delta)
    X, y = trainer.data.X_train, trainer.data.y_train
    H = np.array([lossviz.hvp(trainer.params, e, X, y, **kw) for e in np.eye(trainer.params.size)])
    return (H + H.T) / 2


@pytest.mark.parametrize("optimizer,loss,dataset", [("adam", "cross_entropy", "moons"),
                                                    ("rmsprop", "cross_entropy", "moons"),
                                                    ("adam", "mse", "sine")])
def test_preconditioned_sharpness_matches_the_dense_eigendecomposition(optimizer, loss, dataset):
    trainer = Trainer(RunConfig(dataset=dataset, n_samples=60, hidden=(4, 3), loss=loss,
                                optimizer=optimizer, lr=0.01, epochs=30))
    trainer.advance(30)
    p = trainer.optimizer.preconditioner()
    assert p.shape == trainer.params.shape and (p > 0).all()
    root = 1 / np.sqrt(p)
    dense = np.linalg.eigvalsh(root[:, None] * dense_hessian(trainer) * root[None, :])[-1]
    value = preconditioned_sharpness(trainer.params, trainer.data.X_train, trainer.data.y_train, p,
                                     layer_sizes=trainer.net.layer_sizes, activation="tanh", loss=loss)
    assert value == pytest.approx(dense, rel=1e-8)
    # P⁻¹H has the same eigenvalues (it is similar to P^-1/2 H P^-1/2), and the trainer-level call agrees
    assert dense == pytest.approx(np.linalg.eigvals(dense_hessian(trainer) / p[:, None]).real.max(), rel=1e-8)
    assert sharpness(trainer, preconditioned=True) == pytest.approx(dense, rel=1e-8)
    assert sharpness(trainer) == pytest.approx(np.linalg.eigvalsh(dense_hessian(trainer))[-1], rel=1e-8)


def test_the_preconditioner_is_the_one_each_step_divides_by():
    """One more step of Adam and of RMSprop is lr P⁻¹ (its momentum or gradient), P from its state."""
    for optimizer in ("adam", "rmsprop"):
        trainer = Trainer(RunConfig(dataset="moons", n_samples=60, hidden=(5,), optimizer=optimizer, lr=0.01))
        trainer.advance(7)
        opt, before = trainer.optimizer, trainer.params.copy()
        _, grad = trainer.objective_grad()
        trainer.advance(1)
        p = opt.preconditioner()  # the last step's P
        u = opt.m if optimizer == "adam" else grad
        np.testing.assert_allclose(before - trainer.params, opt.lr * u / p, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("optimizer", list(lossviz.OPTIMIZERS))
def test_which_sharpness_each_line_is_for(optimizer):
    config = RunConfig(optimizer=optimizer)
    trainer = Trainer(config)
    adaptive = optimizer in ("adam", "rmsprop")
    assert line_is_preconditioned(config) is adaptive is trainer.optimizer.adaptive
    assert trainer.optimizer.preconditioner() is None  # no state before the first step (or P = I)
    assert math.isnan(sharpness(trainer, preconditioned=True)) if adaptive else \
        sharpness(trainer, preconditioned=True) == sharpness(trainer)
    trainer.advance(1)
    assert (trainer.optimizer.preconditioner() is not None) is adaptive


def test_full_batch_adam_trains_at_its_line_in_preconditioned_sharpness_only():
    """Moons, full-batch Adam, η = 0.01: λmax(P⁻¹H) reaches 38/η, λmax(H) stays below 1% of it --
    the line is for the preconditioned sharpness."""
    trainer = Trainer(RunConfig(dataset="moons", n_samples=500, hidden=(16, 16), activation="tanh",
                                loss="cross_entropy", optimizer="adam", lr=0.01, batch_size=0, epochs=150, seed=0))
    line = stability_threshold(trainer.config)
    assert line == pytest.approx(3800)
    _, pre = sharpness_series(trainer, 150, every=10, preconditioned=True)
    assert np.isnan(pre[0]) and np.nanmax(pre) >= 0.9 * line
    assert sharpness(trainer) < 0.01 * line


@pytest.mark.parametrize("bad, match", [(lambda n: np.ones(n + 1), "shape"), (lambda n: -np.ones(n), "positive"),
                                        (lambda n: np.full(n, np.nan), "finite|NaN")])
def test_preconditioner_is_checked(bad, match):
    trainer = Trainer(RunConfig(dataset="moons", n_samples=40, hidden=(3,)))
    with pytest.raises(ValueError, match=match):
        preconditioned_sharpness(trainer.params, trainer.data.X_train, trainer.data.y_train, bad(trainer.params.size),
                                 layer_sizes=trainer.net.layer_sizes, activation="tanh", loss="cross_entropy")
