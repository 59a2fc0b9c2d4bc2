"""Bad input raises ValueError with a message naming the allowed values or range."""
import re

import numpy as np
import pytest

import lossviz.landscape as landscape
from lossviz import (ACTIVATIONS, DATASETS, LOSSES, OPTIMIZERS, Network, RunConfig, Trainer,
                     get_activation, get_loss, interpolate, load_dataset, make_optimizer,
                     surface, trajectory_losses)


def names_all_of(message, registry):
    return all(re.search(rf"\b{re.escape(name)}\b", message) for name in registry)


# --- unknown registry names -------------------------------------------------------------

@pytest.mark.parametrize("field,registry", [("dataset", DATASETS), ("loss", LOSSES),
                                            ("activation", ACTIVATIONS),
                                            ("optimizer", OPTIMIZERS)])
def test_run_config_unknown_name_lists_allowed_names(field, registry):
    with pytest.raises(ValueError) as err:
        RunConfig(**{field: "no_such_thing"})
    message = str(err.value)
    assert field in message and "no_such_thing" in message
    assert names_all_of(message, registry), message


@pytest.mark.parametrize("call,registry", [
    (lambda: load_dataset("mnist"), DATASETS),
    (lambda: get_loss("hinge"), LOSSES),
    (lambda: get_activation("gelu"), ACTIVATIONS),
    (lambda: Network((2, 3, 2), "gelu"), ACTIVATIONS),
    (lambda: make_optimizer("adagrad", 3, 0.1), OPTIMIZERS),
])
def test_engine_entry_points_reject_unknown_names(call, registry):
    with pytest.raises(ValueError) as err:
        call()
    assert names_all_of(str(err.value), registry), str(err.value)


def test_defaults_are_valid_and_round_trip():
    config = RunConfig()
    assert RunConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown setting"):
        RunConfig.from_dict({**config.to_dict(), "colour": "red"})


# --- architecture ------------------------------------------------------------------------

@pytest.mark.parametrize("hidden", [(0,), (16, 0), (513,), (8, 513)])
def test_hidden_width_out_of_range(hidden):
    with pytest.raises(ValueError, match=r"1 and 512"):
        RunConfig(hidden=hidden)
    with pytest.raises(ValueError, match=r"1 and 512"):
        Network((2, *hidden, 2))


def test_hidden_width_bounds_are_inclusive():
    RunConfig(hidden=(1, 512))
    Network((2, 1, 512, 2))


@pytest.mark.parametrize("hidden", [(2.5,), ("wide",), (True,)])
def test_hidden_width_must_be_whole(hidden):
    with pytest.raises(ValueError, match="whole number"):
        RunConfig(hidden=hidden)


def test_too_many_layers():
    with pytest.raises(ValueError, match=r"at most 7 hidden"):
        RunConfig(hidden=(4,) * 9)
    with pytest.raises(ValueError, match=r"at most 8 layers"):
        Network((2, *(4,) * 9, 2))
    RunConfig(hidden=(4,) * 7)  # 8 weight layers: the largest allowed
    Network((2, *(4,) * 7, 2))


# --- training settings --------------------------------------------------------------------

@pytest.mark.parametrize("lr", [0, 0.0, -0.01, float("nan"), float("inf")])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        RunConfig(lr=lr)


@pytest.mark.parametrize("field,value,words", [
    ("momentum", 1.0, r"\[0, 1\)"), ("momentum", -0.1, r"\[0, 1\)"),
    ("epochs", 0, "between 1 and"), ("batch_size", -1, "batch size"),
    ("l2", -0.1, "between 0 and 10"), ("l1", float("nan"), "between 0 and 10"),
    ("huber_delta", 0.0, "positive"),
])
def test_other_settings_out_of_range(field, value, words):
    with pytest.raises(ValueError, match=words):
        RunConfig(**{field: value})


@pytest.mark.parametrize("n", [19, 20001, 0, -5])
def test_n_samples_out_of_range_when_loading(n):
    with pytest.raises(ValueError, match=r"20\.\.20000"):
        load_dataset("moons", n_samples=n)
    with pytest.raises(ValueError, match=r"20\.\.20000"):
        Trainer(RunConfig(n_samples=n, epochs=1))


def test_n_samples_bounds_are_inclusive():
    assert load_dataset("moons", n_samples=20).X_train.shape[0] + \
        load_dataset("moons", n_samples=20).X_test.shape[0] == 20
    load_dataset("moons", n_samples=20000)


@pytest.mark.parametrize("n", [19, 20001])
def test_run_config_rejects_n_samples_on_construction(n):
    # RunConfig says it is validated on construction: a config is a cache key and the app
    # reports a bad field as soon as the user types it.
    with pytest.raises(ValueError, match=r"20\.\.20000"):
        RunConfig(n_samples=n)


def test_cross_entropy_on_regression_dataset():
    with pytest.raises(ValueError, match="regression"):
        Trainer(RunConfig(dataset="sine", loss="cross_entropy"))
    with pytest.raises(ValueError, match="regression"):
        get_loss("cross_entropy", "regression")


def test_run_config_rejects_cross_entropy_on_regression_on_construction():
    with pytest.raises(ValueError, match="regression"):
        RunConfig(dataset="diabetes", loss="cross_entropy")


def test_cross_entropy_on_regression_surface():
    net = Network((2, 3, 1))
    p = np.zeros(net.n_params)
    with pytest.raises(ValueError, match="regression"):
        surface(p, p, p, [0.0], [0.0], np.zeros((4, 2)), np.zeros(4), layer_sizes=(2, 3, 1),
                activation="tanh", loss="cross_entropy")


# --- grid size ------------------------------------------------------------------------------

def test_grid_size_validator():
    validate_grid = getattr(landscape, "validate_grid", None)
    assert validate_grid is not None, "lossviz.landscape.validate_grid(n) is missing"
    for bad in (2, 202, 0, -1, 2.5, "51", True):
        with pytest.raises(ValueError, match=r"3.*201"):
            validate_grid(bad)
    for good in (3, 51, 201):
        assert validate_grid(good) == good


@pytest.mark.parametrize("span", [0, -1.0, 100.5, float("nan"), float("inf"), "1"])
def test_plot_range_validator(span):
    with pytest.raises(ValueError, match="range"):
        landscape.validate_span(span)


def test_grid_axis_is_symmetric_and_validated():
    np.testing.assert_allclose(landscape.grid_axis(5, 2.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"3.*201"):
        landscape.grid_axis(202, 1.0)


# --- user-given arrays ----------------------------------------------------------------------

def _surface_args(**changes):
    net = Network((2, 4, 3))
    rng = np.random.default_rng(0)
    args = dict(params=rng.normal(size=net.n_params), d1=rng.normal(size=net.n_params),
                d2=rng.normal(size=net.n_params), alphas=[-1.0, 0.0, 1.0], betas=[0.0, 1.0],
                X=rng.normal(size=(6, 2)), y=np.array([0, 1, 2, 0, 1, 2]))
    args.update(changes)
    return args


def _nan_at(shape, where=0):
    a = np.random.default_rng(1).normal(size=shape)
    a.flat[where] = np.nan
    return a


@pytest.mark.parametrize("field,value", [
    ("X", _nan_at((6, 2), 3)), ("X", np.full((6, 2), np.inf)),
    ("params", _nan_at(23)), ("d1", _nan_at(23)), ("alphas", [0.0, np.nan]),
])
def test_surface_rejects_non_finite_input(field, value):
    with pytest.raises(ValueError, match="NaN or infinite"):
        surface(**_surface_args(**{field: value}), layer_sizes=(2, 4, 3), activation="tanh",
                loss="mse")


def test_surface_rejects_nan_regression_targets():
    net = Network((2, 4, 1))
    p = np.ones(net.n_params)
    with pytest.raises(ValueError, match="NaN or infinite"):
        surface(p, p, p, [0.0], [0.0], np.zeros((3, 2)), [0.0, np.nan, 1.0],
                layer_sizes=(2, 4, 1), activation="tanh", loss="mse")


@pytest.mark.parametrize("field,value,words", [
    ("X", np.zeros((6, 3)), "X must have shape"),
    ("y", np.array([0, 1, 2, 0, 1, 3]), "class labels"),
    ("y", np.zeros(5), "y must have shape"),
    ("d2", np.zeros(22), "d2 must have shape"),
])
def test_surface_rejects_mismatched_input(field, value, words):
    with pytest.raises(ValueError, match=words):
        surface(**_surface_args(**{field: value}), layer_sizes=(2, 4, 3), activation="tanh",
                loss="mse")


def test_surface_rejects_bad_huber_delta():
    with pytest.raises(ValueError, match="huber_delta"):
        surface(**_surface_args(), layer_sizes=(2, 4, 3), activation="tanh", loss="huber",
                huber_delta=0.0)


def test_interpolate_rejects_nan_data():
    args = _surface_args(X=_nan_at((6, 2)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        interpolate(args["params"], args["d1"], [0.0, 1.0], args["X"], args["y"],
                    layer_sizes=(2, 4, 3), activation="tanh", loss="cross_entropy")


def test_trajectory_losses_rejects_nan_data():
    args = _surface_args(X=_nan_at((6, 2)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        trajectory_losses([[0.0, 0.0]], args["params"], args["d1"], args["d2"], args["X"],
                          args["y"], layer_sizes=(2, 4, 3), activation="tanh", loss="mse")
