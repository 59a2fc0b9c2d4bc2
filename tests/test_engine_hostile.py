"""Hostile input at every public engine entry point (property-based, with hypothesis).

The property, for each entry point and each of its arguments: with that one argument replaced by
something hostile -- None, empty, a string in a number field, NaN/inf, huge, negative, a bool, a
wrong type or shape, an unknown name -- the call either succeeds with output of the documented
shape, or raises ValueError/TypeError whose message is a sentence naming that argument. Any
other exception (IndexError, OverflowError, MemoryError, AttributeError, ...) fails the test, and
so do a hang and a huge allocation.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
import tracemalloc
from contextlib import contextmanager
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lossviz
from lossviz import (ACTIVATIONS, DATASETS, LOSSES, NORMALIZATIONS, OPTIMIZERS, Network, RunConfig,
                     Trainer)
from lossviz.landscape import validate_grid, validate_span

# Huge but finite weights or coordinates overflow to inf/NaN losses by design (NaN-safe, no error).
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                        "ignore:invalid value encountered:RuntimeWarning")

HOSTILE_SETTINGS = settings(max_examples=40, deadline=None, database=None,
                            suppress_health_check=[HealthCheck.too_slow])
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.too_slow])

# --- hostile values ----------------------------------------------------------------------------

SPECIAL = [None, True, False, "", "1", "0.5", "abc", "nan", float("nan"), float("inf"),
           float("-inf"), 0, -1, -0.0, 0.5, 1e308, -1e308, 5e-324, 10**12, -10**12, 10**400,
           -10**400, np.float32("nan"), np.int64(-3), np.int64(2**62), 1j, b"1", [], [1],
           [[1, 2], [3]], {}, {"a": 1}, (), object(), np.array([]), np.array(np.nan),
           np.array(["a"]), Fraction(1, 3), range(10**12)]
SCALARS = st.one_of(st.sampled_from(SPECIAL), st.integers(), st.floats(), st.text(max_size=4))
# Inside lists, no range(10**12): NumPy would try to read it out (a machine-sized allocation).
ITEMS = st.one_of(st.sampled_from(SPECIAL[:-1]), st.integers(), st.floats(), st.text(max_size=4))
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
ARRAYS = st.one_of(
    hnp.arrays(np.float64, _SHAPES, elements=st.floats()),
    hnp.arrays(np.int64, _SHAPES),
    hnp.arrays(np.bool_, _SHAPES),
    hnp.arrays("U2", _SHAPES),
    st.lists(ITEMS, max_size=4),
)
HOSTILE = st.one_of(SCALARS, ARRAYS)
FINITE = st.floats(allow_nan=False, allow_infinity=False)  # up to +-1.8e308, subnormals included


def specials(**fixed):
    """Decorator: run every SPECIAL value as an explicit example (``value=v``, plus ``fixed``),
    so each argument meets each kind of hostility on every run, not only by chance."""

    def decorate(test):
        for v in reversed(SPECIAL):
            test = example(value=v, **fixed)(test)
        return test

    return decorate


# --- the property ------------------------------------------------------------------------------

REFUSED = object()
# Words of errors raised deep inside NumPy/Python rather than at the door.
INTERNAL = ("could not convert", "cannot reshape", "could not be broadcast", "not supported between",
            "is not iterable", "has no attribute", "unhashable", "cannot be interpreted",
            "ufunc", "out of bounds", "zero-size array", "inhomogeneous")


def assert_names(message: str, words: tuple[str, ...]) -> None:
    """The message is a sentence that names one of ``words`` (underscores read as spaces)."""
    text = message.lower().replace("_", " ")
    named = any(re.search(rf"(?<![a-z0-9]){re.escape(w.lower().replace('_', ' '))}(?![a-z0-9])", text)
                for w in words)
    assert named, f"the message does not name {' / '.join(words)}: {message!r}"
    assert len(message.split()) >= 4, f"not a sentence: {message!r}"
    assert not any(w in text for w in INTERNAL), f"an internal error leaked out: {message!r}"


def attempt(call, *words: str):
    """``call()``, or REFUSED when it raised ValueError/TypeError naming one of ``words``.

    Any other exception propagates, so the test fails with it.
    """
    try:
        return call()
    except (ValueError, TypeError) as exc:
        assert_names(str(exc), words)
        return REFUSED


def assert_real(a, shape: tuple[int, ...]) -> None:
    """A float array of ``shape`` (values may be NaN/inf only where the math overflows)."""
    a = np.asarray(a)
    assert a.shape == shape, f"shape {a.shape}, expected {shape}"
    assert a.dtype.kind == "f", a.dtype


def assert_finite(a, shape: tuple[int, ...]) -> None:
    assert_real(a, shape)
    assert np.isfinite(a).all(), a


def n_coords(value) -> int:
    return int(np.size(value))


@contextmanager
def no_big_allocation(limit: int = 50 * 2**20):
    """Fail if Python/NumPy allocate more than ``limit`` bytes at peak inside the block."""
    tracemalloc.start()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= limit, f"allocated {peak / 2**20:.0f} MiB before refusing"


# --- RunConfig -----------------------------------------------------------------------------------

FIELDS = [f.name for f in dataclasses.fields(RunConfig)]
FIELD_WORDS = {"lr": ("lr", "learning rate")}
FIELD_VALID = {"dataset": list(DATASETS), "loss": list(LOSSES), "activation": list(ACTIVATIONS),
               "optimizer": list(OPTIMIZERS), "hidden": [(), [3], (4, 4), np.array([2, 5])]}


def assert_sane_config(config: RunConfig) -> None:
    for f in dataclasses.fields(config):
        v = getattr(config, f.name)
        if f.name == "hidden":
            assert type(v) is tuple and all(type(h) is int and 1 <= h <= 512 for h in v), v
        elif f.name == "noise" and v is None:
            continue
        elif isinstance(f.default, int):
            assert type(v) is int, (f.name, v)
        elif isinstance(f.default, float):
            assert type(v) is float and np.isfinite(v), (f.name, v)
    assert RunConfig.from_dict(config.to_dict()) == config
    hash(config)


@pytest.mark.parametrize("field", FIELDS)
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.sampled_from(sum(FIELD_VALID.values(), []))))
@specials()
def test_run_config_field(field, value):
    words = FIELD_WORDS.get(field, (field,)) + (("dataset",) if field == "loss" else ())
    words += ("loss",) if field == "dataset" else ()
    for call in (lambda: RunConfig(**{field: value}), lambda: RunConfig.from_dict({field: value})):
        config = attempt(call, *words)
        if config is not REFUSED:
            assert_sane_config(config)


@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=5),
                                                          st.integers(), st.none()),
                                                HOSTILE, max_size=3)))
@specials()
def test_run_config_from_dict_any_mapping(value):
    keys = list(value) if isinstance(value, dict) else []
    unknown = [k for k in keys if k not in FIELDS]
    words = ("unknown setting",) if unknown else ("settings", *keys)
    words += FIELD_WORDS["lr"] if "lr" in keys else ()
    config = attempt(lambda: RunConfig.from_dict(value), *words)
    if config is not REFUSED:
        assert_sane_config(config)


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("loss", list(LOSSES))
def test_run_config_every_dataset_and_loss(dataset, loss):
    config = attempt(lambda: RunConfig(dataset=dataset, loss=loss), "dataset")
    if config is REFUSED:  # the message names both halves of the mismatch
        with pytest.raises(ValueError) as err:
            RunConfig(dataset=dataset, loss=loss)
        assert_names(str(err.value), ("loss",))
        assert DATASETS[dataset].task not in LOSSES[loss].tasks
    else:
        assert_sane_config(config)


def test_run_config_refuses_huge_sizes():
    for field, value in (("n_samples", 10**12), ("epochs", 10**12), ("hidden", (10**9,)),
                         ("hidden", range(10**12)), ("hidden", (4,) * 10**6)):
        with pytest.raises(ValueError) as err:
            RunConfig(**{field: value})
        assert_names(str(err.value), (field,))


# --- datasets ------------------------------------------------------------------------------------

DATASET_ARGS = ["name", "n_samples", "noise", "test_fraction", "seed", "outlier_fraction"]


def assert_dataset(data, spec, n_samples: int) -> None:
    n_tr, n_te = data.X_train.shape[0], data.X_test.shape[0]
    assert n_tr >= 1 and n_te >= 1 and n_tr + n_te <= n_samples
    assert_finite(data.X_train, (n_tr, spec.n_features))
    assert_finite(data.X_test, (n_te, spec.n_features))
    for y, n in ((data.y_train, n_tr), (data.y_test, n_te)):
        assert y.shape == (n,) and np.isfinite(y).all()
        if spec.task == "classification":
            assert y.dtype == np.int64 and y.min() >= 0 and y.max() < spec.n_classes


@pytest.mark.parametrize("arg", DATASET_ARGS)
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.sampled_from(list(DATASETS))), name=st.sampled_from(list(DATASETS)))
@specials(name="moons")
def test_load_dataset(arg, value, name):
    kw = dict(name=name, n_samples=40, noise=None, test_fraction=0.2, seed=0, outlier_fraction=0.1)
    kw[arg] = value
    words = ("dataset",) if arg == "name" else (arg,)
    data = attempt(lambda: lossviz.load_dataset(kw.pop("name"), **kw), *words)
    if data is not REFUSED:
        assert_dataset(data, DATASETS[data.name], kw["n_samples"])


def test_load_dataset_refuses_huge_sizes_before_allocating():
    for name in DATASETS:
        with no_big_allocation(), pytest.raises(ValueError) as err:
            lossviz.load_dataset(name, n_samples=10**12)
        assert_names(str(err.value), ("n_samples",))


# --- Network -------------------------------------------------------------------------------------

LAYER_SIZES = st.one_of(HOSTILE, st.lists(st.one_of(ITEMS, st.integers(1, 9)), max_size=4),
                        st.lists(st.integers(-2, 600), min_size=0, max_size=10))


@HOSTILE_SETTINGS
@given(value=LAYER_SIZES, activation=st.one_of(HOSTILE, st.sampled_from(list(ACTIVATIONS))))
@specials(activation="relu")
def test_network(value, activation):
    net = attempt(lambda: Network(value, activation), "layer_sizes", "activation")
    if net is REFUSED:
        return
    sizes = net.layer_sizes
    assert type(sizes) is tuple and all(type(s) is int and s >= 1 for s in sizes) and len(sizes) >= 2
    assert net.n_params == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert net.activation in ACTIVATIONS
    if net.n_params <= 10**5:
        params = net.init_params(np.random.default_rng(0))
        assert_finite(params, (net.n_params,))
        assert_finite(net.forward(params, np.ones((3, sizes[0]))), (3, sizes[-1]))


@pytest.mark.parametrize("arg", ["params", "X"])
@HOSTILE_SETTINGS
@given(value=HOSTILE)
@specials()
def test_network_forward(arg, value):
    net = Network((2, 3, 2))
    kw = dict(params=np.zeros(net.n_params), X=np.ones((4, 2)))
    kw[arg] = value
    out = attempt(lambda: net.forward(**kw), arg)
    if out is not REFUSED:
        assert_real(out, (np.shape(kw["X"])[0], 2))


@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.just(np.random.RandomState(0))))
@specials()
def test_network_init_params_needs_a_generator(value):
    net = Network((2, 3, 2))
    assert attempt(lambda: net.init_params(value), "rng") is REFUSED


def test_network_refuses_huge_sizes_before_allocating():
    for sizes in ((10**9, 2), (2, 10**9), (2, 10**6, 2), (10**400, 3)):
        with no_big_allocation(), pytest.raises(ValueError) as err:
            Network(sizes)
        assert_names(str(err.value), ("layer_sizes",))


# --- losses and activations ----------------------------------------------------------------------

@HOSTILE_SETTINGS
@given(value=HOSTILE.filter(lambda v: not (isinstance(v, str) and (v in LOSSES or v in ACTIVATIONS))),
       task=st.one_of(HOSTILE, st.sampled_from(["classification", "regression"])))
@specials(task="regression")
def test_get_loss_and_activation(value, task):
    assert attempt(lambda: lossviz.get_loss(value), "loss") is REFUSED
    assert attempt(lambda: lossviz.get_loss(value, task), "loss", "task") is REFUSED
    assert attempt(lambda: lossviz.get_activation(value), "activation") is REFUSED
    loss = attempt(lambda: lossviz.get_loss("mse", task), "task")
    assert loss is REFUSED or task in (None, "classification", "regression")


def _loss_problem(task: str) -> dict:
    rng = np.random.default_rng(0)
    if task == "classification":
        return dict(out=rng.normal(size=(5, 3)), y=np.array([0, 1, 2, 2, 0]), task=task)
    return dict(out=rng.normal(size=(5, 1)), y=rng.normal(size=5), task=task)


@pytest.mark.parametrize("arg", ["name", "out", "y", "task", "huber_delta"])
@HOSTILE_SETTINGS
@given(value=HOSTILE, name=st.sampled_from(list(LOSSES)),
       task=st.sampled_from(["classification", "regression"]))
@specials(name="huber", task="classification")
@specials(name="mse", task="regression")
def test_loss_value_and_grad(arg, value, name, task):
    if task == "regression" and name == "cross_entropy":
        name = "mse"
    kw = dict(name=name, **_loss_problem(task), huber_delta=1.0)
    kw[arg] = value
    words = ("loss",) if arg == "name" else (arg,)
    for fn in (lossviz.loss_value, lossviz.loss_grad):
        result = attempt(lambda: fn(**kw), *words)
        if result is REFUSED:
            continue
        out = np.asarray(kw["out"])
        shape = out.shape[:-2] if fn is lossviz.loss_value else out.shape
        assert_real(result, shape)
        if out.size and np.isfinite(out).all() and np.abs(out).max() < 1e6:
            assert np.isfinite(result).all()


# --- optimizers (optimizers.py) ------------------------------------------------------------------

@pytest.mark.parametrize("arg", ["name", "n_params", "lr", "momentum"])
@HOSTILE_SETTINGS
@given(value=HOSTILE)
@example(value="abc")
@specials()
def test_make_optimizer(arg, value):
    kw = dict(name="momentum", n_params=4, lr=0.1, momentum=0.9)
    kw[arg] = value
    words = {"name": ("optimizer",), "lr": ("lr", "learning rate")}.get(arg, (arg,))
    opt = attempt(lambda: lossviz.make_optimizer(**kw), *words)
    if opt is REFUSED:
        return
    assert type(opt.lr) is float and 0 < opt.lr < np.inf, opt.lr
    assert type(opt.n_params) is int and 1 <= opt.n_params <= 10**8, opt.n_params  # fits in memory
    params = np.ones(opt.n_params)
    opt.step(params, np.ones(opt.n_params))
    assert np.isfinite(params).all()


# --- directions ----------------------------------------------------------------------------------

NET = Network((2, 3, 3))
PARAMS = np.random.default_rng(0).normal(size=NET.n_params)


@pytest.mark.parametrize("arg", ["params", "net", "rng", "normalization"])
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.sampled_from(list(NORMALIZATIONS))))
@specials()
def test_random_direction(arg, value):
    kw = dict(params=PARAMS, net=NET, rng=np.random.default_rng(0), normalization="filter")
    kw[arg] = value
    d = attempt(lambda: lossviz.random_direction(**kw), arg)
    if d is not REFUSED:
        assert_finite(d, (NET.n_params,))


@pytest.mark.parametrize("arg", ["params", "net", "seed", "normalization"])
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.sampled_from(list(NORMALIZATIONS))))
@specials()
def test_random_directions(arg, value):
    kw = dict(params=PARAMS, net=NET, seed=0, normalization="layer")
    kw[arg] = value
    pair = attempt(lambda: lossviz.random_directions(**kw), arg)
    if pair is not REFUSED:
        for d in pair:
            assert_finite(d, (NET.n_params,))


def _assert_pca(result, n: int) -> None:
    d1, d2, explained = result
    assert_finite(d1, (n,))
    assert_finite(d2, (n,))
    assert_finite(explained, (2,))
    assert abs(np.linalg.norm(d1) - 1) < 1e-6
    assert np.all(explained >= 0) and explained.sum() <= 1 + 1e-9


@HOSTILE_SETTINGS
@given(value=HOSTILE)
@example(value=np.full((3, 2), np.nan))
@specials()
def test_pca_directions_hostile(value):
    result = attempt(lambda: lossviz.pca_directions(value), "trajectory")
    if result is not REFUSED:
        _assert_pca(result, np.shape(value)[1])


@PROPERTY_SETTINGS
@given(trajectory=hnp.arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(1, 5)),
                             elements=FINITE))
@example(trajectory=np.array([[1e308, -1e308], [-1e308, 1e308], [0.0, 1e-300]]))
@example(trajectory=np.array([[5e-324, 0.0], [0.0, 5e-324]]))
def test_pca_directions_finite_for_any_finite_path(trajectory):
    result = attempt(lambda: lossviz.pca_directions(trajectory), "trajectory")
    if result is not REFUSED:
        _assert_pca(result, trajectory.shape[1])


# --- the loss over a plane -------------------------------------------------------------------------

def _plane_problem(task: str) -> dict:
    sizes = (2, 3, 3) if task == "classification" else (1, 4, 1)
    net = Network(sizes)
    rng = np.random.default_rng(1)
    p, d1, d2 = rng.normal(size=(3, net.n_params))
    X = rng.normal(size=(6, sizes[0]))
    y = np.array([0, 1, 2, 0, 1, 2]) if task == "classification" else rng.normal(size=6)
    return dict(params=p, d1=d1, d2=d2, alphas=[-1.0, 0.0, 1.0], betas=[0.0, 0.5], X=X, y=y,
                layer_sizes=sizes, activation="tanh",
                loss="cross_entropy" if task == "classification" else "huber", huber_delta=1.0)


SURFACE_ARGS = ["params", "d1", "d2", "alphas", "betas", "X", "y", "layer_sizes", "activation",
                "loss", "huber_delta", "dtype"]
VALID_ALTERNATIVES = st.sampled_from([(2, 4, 3), (1, 4, 1), (2, 3), "mse", "huber", "relu", np.float64,
                                      np.float32, "float64", np.int64, np.zeros(21), np.zeros((5, 2)),
                                      np.arange(6) % 2, [0.0], 3.0])
TASKS = st.sampled_from(["classification", "regression"])


@pytest.mark.parametrize("fn", [lossviz.surface, lossviz.surface_naive, lossviz.surface_with_metric])
@pytest.mark.parametrize("arg", SURFACE_ARGS)
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, VALID_ALTERNATIVES), task=TASKS)
@specials(task="classification")
@specials(task="regression")
def test_surface(fn, arg, value, task):
    kw = _plane_problem(task)
    if arg == "dtype" and fn is lossviz.surface_naive:
        arg = "huber_delta"  # the reference path is float64 only
    kw[arg] = value
    words = (arg, "layer_sizes") if arg in ("params", "d1", "d2", "X", "y", "loss") else (arg,)
    words += ("X",) if arg == "y" else ()
    words += ("loss",) if arg == "layer_sizes" else ()
    result = attempt(lambda: fn(**kw), *words)
    if result is REFUSED:
        return
    shape = (n_coords(kw["alphas"]), n_coords(kw["betas"]))
    for z in (result if fn is lossviz.surface_with_metric else (result,)):
        assert_real(z, shape)


@PROPERTY_SETTINGS
@given(task=TASKS, activation=st.sampled_from(list(ACTIVATIONS)), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(1e-3, 10), dtype=st.sampled_from([None, np.float64]))
def test_surface_finite_for_moderate_input(task, activation, seed, scale, dtype):
    kw = _plane_problem(task)
    rng = np.random.default_rng(seed)
    for k in ("params", "d1", "d2"):
        kw[k] = scale * rng.normal(size=kw[k].shape)
    kw.update(activation=activation, alphas=scale * rng.normal(size=4))
    z, m = lossviz.surface_with_metric(**kw, dtype=dtype)
    assert_finite(z, (4, 2))
    assert_finite(m, (4, 2))


def test_surface_refuses_huge_grids_before_allocating():
    kw = _plane_problem("classification")
    for alphas, betas in ((np.zeros(10**5), np.zeros(10**5)), (np.zeros(10**7), [0.0])):
        kw.update(alphas=alphas, betas=betas)
        with no_big_allocation(limit=200 * 2**20), pytest.raises(ValueError) as err:
            lossviz.surface(**kw)
        assert_names(str(err.value), ("alphas", "betas", "grid"))


@pytest.mark.parametrize("arg", ["grid", "span"])
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.integers(0, 300), st.floats(-1, 200)))
@example(value=10**9)
@specials()
def test_validate_grid_and_span(arg, value):
    if arg == "grid":
        n = attempt(lambda: validate_grid(value), "grid")
        assert n is REFUSED or (type(n) is int and 3 <= n <= 201 and n == value)
        if type(value) is int and value > 201:
            assert n is REFUSED
    else:
        r = attempt(lambda: validate_span(value), "range")
        assert r is REFUSED or (type(r) is float and 0 < r <= 100 and r == float(value))


# --- paths ---------------------------------------------------------------------------------------

INTERPOLATE_ARGS = ["theta_a", "theta_b", "ts", "X", "y", "layer_sizes", "activation", "loss",
                    "huber_delta", "dtype"]


@pytest.mark.parametrize("arg", INTERPOLATE_ARGS)
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, VALID_ALTERNATIVES), task=TASKS)
@specials(task="classification")
@specials(task="regression")
def test_interpolate(arg, value, task):
    p = _plane_problem(task)
    kw = dict(theta_a=p["params"], theta_b=p["d1"], ts=[0.0, 0.5, 1.0], X=p["X"], y=p["y"],
              layer_sizes=p["layer_sizes"], activation="relu", loss=p["loss"], huber_delta=1.0,
              dtype=np.float64)
    kw[arg] = value
    words = (arg, "layer_sizes") if arg in ("theta_a", "theta_b", "X", "y", "loss") else (arg,)
    words += ("X",) if arg == "y" else ()
    words += ("loss",) if arg == "layer_sizes" else ()
    losses = attempt(lambda: lossviz.interpolate(**kw), *words)
    if losses is not REFUSED:
        assert_real(losses, (n_coords(kw["ts"]),))


def _path_problem(task: str) -> dict:
    p = _plane_problem(task)
    traj = p["params"] + np.random.default_rng(2).normal(size=(4, p["params"].size))
    return dict(trajectory=traj, center=p["params"], d1=p["d1"], d2=p["d2"], X=p["X"], y=p["y"],
                layer_sizes=p["layer_sizes"], activation="sigmoid", loss=p["loss"])


@pytest.mark.parametrize("arg", ["trajectory", "center", "d1", "d2"])
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, VALID_ALTERNATIVES), task=TASKS)
@specials(task="classification")
def test_project_trajectory(arg, value, task):
    kw = {k: v for k, v in _path_problem(task).items() if k in ("trajectory", "center", "d1", "d2")}
    kw[arg] = value
    coords = attempt(lambda: lossviz.project_trajectory(**kw), arg)
    if coords is not REFUSED:
        assert_finite(coords, (np.atleast_2d(kw["trajectory"]).shape[0], 2))


@PROPERTY_SETTINGS
@given(values=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 4)), elements=FINITE),
       basis=hnp.arrays(np.float64, (2, 4), elements=FINITE))
@example(values=np.array([[1e308, 0.0], [-1e308, 1.0]]), basis=np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
def test_project_trajectory_finite_for_any_finite_input(values, basis):
    n = values.shape[1]
    coords = attempt(lambda: lossviz.project_trajectory(values, values[0], basis[0, :n], basis[1, :n]),
                     "trajectory", "center", "d1", "d2")
    if coords is not REFUSED:
        assert_real(coords, (values.shape[0], 2))
        assert not np.isnan(coords).any()


TRAJECTORY_LOSSES_ARGS = ["coords", "center", "d1", "d2", "X", "y", "layer_sizes", "activation",
                          "loss", "huber_delta", "chunk"]


@pytest.mark.parametrize("arg", TRAJECTORY_LOSSES_ARGS)
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, VALID_ALTERNATIVES), task=TASKS)
@specials(task="classification")
@specials(task="regression")
def test_trajectory_losses(arg, value, task):
    kw = _path_problem(task)
    kw["coords"] = np.random.default_rng(3).normal(size=(5, 2))
    kw.pop("trajectory")
    kw[arg] = value
    words = (arg, "layer_sizes") if arg in ("center", "d1", "d2", "X", "y", "loss") else (arg,)
    words += ("X",) if arg == "y" else ()
    words += ("loss",) if arg == "layer_sizes" else ()
    losses = attempt(lambda: lossviz.trajectory_losses(**kw), *words)
    if losses is not REFUSED:
        assert_real(losses, (np.atleast_2d(kw["coords"]).shape[0],))


@pytest.mark.parametrize("arg", ["trajectory", "center", "d1", "d2", "X", "y", "layer_sizes",
                                 "activation", "loss", "huber_delta"])
@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, VALID_ALTERNATIVES), task=TASKS)
@specials(task="regression")
def test_trajectory_on_plane(arg, value, task):
    kw = _path_problem(task)
    kw[arg] = value
    words = (arg, "layer_sizes") if arg in ("center", "d1", "d2", "X", "y", "loss") else (arg,)
    words += ("X",) if arg == "y" else ()
    words += ("loss",) if arg == "layer_sizes" else ()
    result = attempt(lambda: lossviz.trajectory_on_plane(**kw), *words)
    if result is not REFUSED:
        t = np.atleast_2d(kw["trajectory"]).shape[0]
        assert_finite(result[0], (t, 2))
        assert_real(result[1], (t,))


# --- training (training.py) ------------------------------------------------------------------------

SMALL = RunConfig(n_samples=20, hidden=(3,), epochs=2)


@st.composite
def small_configs(draw) -> RunConfig:
    """Valid configs, small enough to train in milliseconds, with extreme hyperparameters."""
    dataset = draw(st.sampled_from(list(DATASETS)))
    losses = LOSSES if DATASETS[dataset].task == "classification" else ["mse", "huber"]
    return RunConfig(
        dataset=dataset, loss=draw(st.sampled_from(list(losses))), n_samples=draw(st.integers(20, 60)),
        noise=draw(st.one_of(st.none(), st.floats(0, 5))), test_fraction=draw(st.floats(0.05, 0.5)),
        outlier_fraction=draw(st.floats(0, 0.5)), seed=draw(st.integers(0, 2**64 - 1)),
        hidden=tuple(draw(st.lists(st.integers(1, 6), max_size=3))),
        activation=draw(st.sampled_from(list(ACTIVATIONS))),
        optimizer=draw(st.sampled_from(list(OPTIMIZERS))),
        lr=draw(st.sampled_from([1e-12, 1e-3, 0.1, 10.0, 100.0])), momentum=draw(st.floats(0, 0.999)),
        l2=draw(st.sampled_from([0.0, 1e-3, 10.0])), l1=draw(st.sampled_from([0.0, 1e-3, 10.0])),
        huber_delta=draw(st.sampled_from([1e-6, 1.0, 1e6])),
        batch_size=draw(st.sampled_from([0, 1, 7, 10**12])), epochs=draw(st.integers(1, 3)))


def drain(snapshots, limit: int) -> list:
    """At most ``limit`` snapshots; more means the generator never finishes (a hang)."""
    out = list(itertools.islice(snapshots, limit + 1))
    assert len(out) <= limit, "train() keeps yielding without finishing"
    return out


def assert_snapshot(snap) -> None:
    assert snap.status in ("running", "done", "diverged"), snap.status
    if snap.status != "diverged":
        assert np.isfinite([snap.train_loss, snap.test_loss, snap.objective]).all(), snap
        assert np.isfinite([snap.train_metric, snap.test_metric]).all(), snap


@PROPERTY_SETTINGS
@given(config=small_configs())
def test_training_any_valid_config(config):
    data, net, params = lossviz.make_run(config)
    assert_finite(params, (net.n_params,))
    assert net.layer_sizes[0] == data.X_train.shape[1]
    trainer = Trainer(config)
    trainer.advance(5)
    assert_snapshot(trainer.evaluate())
    snaps = drain(lossviz.train(config), limit=trainer.total_steps + 2)
    assert snaps[-1].status in ("done", "diverged")
    for snap in snaps:
        assert_snapshot(snap)


@HOSTILE_SETTINGS
@given(value=st.one_of(HOSTILE, st.just(SMALL.to_dict())))
@example(value=None)
def test_training_entry_points_need_a_run_config(value):
    for call in (lambda: lossviz.make_run(value), lambda: Trainer(value),
                 lambda: next(lossviz.train(value))):
        assert attempt(call, "config") is REFUSED


@pytest.mark.parametrize("arg", ["params_init", "trajectory_bytes"])
@HOSTILE_SETTINGS
@given(value=HOSTILE)
@example(value="abc")
@specials()
def test_trainer_arguments(arg, value):
    trainer = attempt(lambda: Trainer(SMALL, **{arg: value}), arg)
    if trainer is not REFUSED:
        assert trainer.params.shape == (trainer.net.n_params,)
        trainer.advance(2)
        assert_snapshot(trainer.evaluate())


@HOSTILE_SETTINGS
@given(value=HOSTILE)
@example(value="3")
def test_trainer_advance(value):
    trainer = Trainer(SMALL)
    taken = attempt(lambda: trainer.advance(value), "n_steps")
    if taken is not REFUSED:
        assert type(taken) is int and 0 <= taken <= trainer.total_steps
        assert_snapshot(trainer.evaluate())


@HOSTILE_SETTINGS
@given(value=HOSTILE)
@example(value=-1)
def test_train_every(value):
    total = Trainer(SMALL).total_steps
    snaps = attempt(lambda: drain(lossviz.train(SMALL, every=value), limit=total + 2), "every")
    if snaps is not REFUSED:
        assert snaps[-1].status == "done"
