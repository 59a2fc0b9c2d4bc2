"""Tests for lossviz.objective: the training objective as a pure function of the parameters."""
import warnings

import numpy as np
import pytest

from lossviz import RunConfig, Trainer
from lossviz.objective import objective

CONFIGS = [
    dict(dataset="moons", n_samples=80),                                    # cross-entropy, tanh
    dict(dataset="blobs", n_samples=60, hidden=(5,), loss="mse", l2=0.05),  # MSE on probabilities
    dict(dataset="sine", n_samples=50, hidden=(6, 3), loss="huber", huber_delta=0.3,
         activation="relu", l2=0.02, l1=0.01),
    dict(dataset="circles", n_samples=60, hidden=(), loss="huber", l1=0.03),  # no hidden layer
    dict(dataset="spirals3", n_samples=90, hidden=(7,), activation="softplus", optimizer="sgd",
         lr=0.3, batch_size=16),
]


def pure(trainer, params=None, idx=slice(None)):
    """objective(...) with everything taken from a Trainer's config and data."""
    c, d = trainer.config, trainer.data
    return objective(trainer.params if params is None else params, d.X_train[idx], d.y_train[idx],
                     layer_sizes=trainer.net.layer_sizes, activation=c.activation, loss=c.loss,
                     huber_delta=c.huber_delta, l2=c.l2, l1=c.l1)


@pytest.mark.parametrize("settings", CONFIGS)
def test_equals_the_trainers_objective_bit_for_bit(settings):
    t = Trainer(RunConfig(**settings))
    for _ in range(3):  # at the start and after some training
        value, grad = pure(t)
        expected_value, expected_grad = t.objective_grad()
        assert value == expected_value
        np.testing.assert_array_equal(grad, expected_grad)
        t.advance(4)


def test_equals_the_trainers_objective_on_a_minibatch():
    t = Trainer(RunConfig(dataset="moons", n_samples=80, batch_size=10, l2=0.1))
    idx = np.array([3, 17, 5, 40, 41, 0])
    value, grad = pure(t, idx=idx)
    expected_value, expected_grad = t.objective_grad(idx)
    assert value == expected_value
    np.testing.assert_array_equal(grad, expected_grad)


@pytest.mark.parametrize("settings", CONFIGS[1:3])
def test_gradient_matches_central_differences(settings):
    t = Trainer(RunConfig(**{**settings, "n_samples": 30}))
    theta = t.params
    assert np.min(np.abs(theta[t.net.weight_mask])) > 1e-4  # away from L1's kink
    h = 1e-6
    fd = np.array([(pure(t, theta + h * e)[0] - pure(t, theta - h * e)[0]) / (2 * h)
                   for e in np.eye(theta.size)])
    _, grad = pure(t)
    assert np.max(np.abs(grad - fd)) / np.max(np.abs(fd)) < 1e-6


def test_does_not_touch_its_arguments():
    t = Trainer(RunConfig(dataset="moons", n_samples=40, l2=0.1))
    params, X = t.params.copy(), t.data.X_train.copy()
    pure(t)
    np.testing.assert_array_equal(params, t.params)
    np.testing.assert_array_equal(X, t.data.X_train)


def test_far_off_parameters_give_an_infinite_objective_quietly():
    t = Trainer(RunConfig(dataset="sine", n_samples=40, hidden=(4,), loss="mse",
                          activation="relu"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = pure(t, np.full(t.net.n_params, 1e200))
    assert not np.isfinite(value)


def _call(**changes):
    rng = np.random.default_rng(0)
    args = dict(params=np.zeros(2 * 3 + 3 + 3 * 2 + 2), X=rng.normal(size=(5, 2)),
                y=np.array([0, 1, 1, 0, 1]), layer_sizes=(2, 3, 2), activation="tanh",
                loss="cross_entropy")
    args.update(changes)
    return objective(args.pop("params"), args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize("changes,message", [
    (dict(params=np.zeros(5)), r"params must have shape \(17,\)"),
    (dict(params=np.full(17, np.nan)), "params contains NaN"),
    (dict(X=np.zeros((5, 3))), r"X must have shape \(N, 2\)"),
    (dict(X=np.zeros((0, 2)), y=np.zeros(0)), "N >= 1"),
    (dict(y=np.array([0, 1, 2, 0, 1])), "class labels"),
    (dict(y=np.array([0, 1])), r"y must have shape \(5,\)"),
    (dict(layer_sizes=(2, 3, 1), params=np.zeros(13), y=np.zeros(5)), "not defined for the regression"),
    (dict(loss="nope"), "unknown loss 'nope'"),
    (dict(activation="nope"), "unknown activation 'nope'"),
    (dict(huber_delta=0.0), "huber_delta must be a positive number"),
    (dict(l2=-1.0), "l2 must be a finite number >= 0"),
    (dict(l1=float("inf")), "l1 must be a finite number >= 0"),
    (dict(l2=True), "l2 must be a finite number >= 0"),
])
def test_refuses_bad_arguments_at_the_door(changes, message):
    with pytest.raises(ValueError, match=message):
        _call(**changes)
    assert _call()[1].shape == (17,)  # the unchanged arguments are fine
