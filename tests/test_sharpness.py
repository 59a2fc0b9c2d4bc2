"""The edge of stability on the lesson's settings, and the sharpness helpers."""

import numpy as np
import pytest

import lossviz
from lossviz import EDGE_OF_STABILITY, RunConfig, Trainer, sharpness, sharpness_series, stability_threshold


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
    ("adam", 38 / 0.1), ("rmsprop", None)])
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
