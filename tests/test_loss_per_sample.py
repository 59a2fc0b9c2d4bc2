"""Tests for per-sample losses and gradients, the shift_invariant flag and loss_profile.

Parametrized over the LOSSES registry x task, so a new loss is tested the day it is added.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine_hostile import (HOSTILE, HOSTILE_SETTINGS, REFUSED, assert_real, attempt,
                                 specials)

import lossviz.landscape as landscape
from lossviz import LOSSES, Network, get_loss, loss_grad, loss_value, surface, surface_naive
from lossviz.losses import Loss, loss_grad_per_sample, loss_per_sample, loss_profile, one_hot

# Huge finite inputs overflow to inf/NaN losses by design (NaN-safe, no error).
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                        "ignore:invalid value encountered:RuntimeWarning")

SHAPES = (("classification", 2), ("classification", 3), ("regression", 1))
CASES = [(loss, task, k) for loss in LOSSES for task, k in SHAPES if task in LOSSES[loss].tasks]
CLASSIFIERS = [loss for loss in LOSSES if "classification" in LOSSES[loss].tasks]
REGRESSORS = [loss for loss in LOSSES if "regression" in LOSSES[loss].tasks]
# Classification residuals lie in [-1, 1]: delta 0.3 puts Huber on both of its branches.
DELTA = {"classification": 0.3, "regression": 0.7}


def _case(task: str, k: int, rng, n: int = 9):
    if task == "classification":
        return rng.normal(0, 1.5, (n, k)), rng.integers(0, k, n)
    return rng.normal(0, 2, (n, 1)), rng.normal(0, 2, n)


# --- per-sample values and gradients --------------------------------------------------------

@pytest.mark.parametrize("loss,task,k", CASES)
def test_per_sample_mean_is_the_loss_and_its_gradient(loss, task, k):
    out, y = _case(task, k, np.random.default_rng(0))
    d = DELTA[task]
    ps, psg = loss_per_sample(loss, out, y, task, d), loss_grad_per_sample(loss, out, y, task, d)
    assert ps.shape == (9,) and psg.shape == out.shape
    assert ps.mean() == pytest.approx(float(loss_value(loss, out, y, task, d)), rel=1e-12)
    np.testing.assert_allclose(psg / 9, loss_grad(loss, out, y, task, d), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss,task,k", CASES)
def test_per_sample_with_a_leading_batch_axis(loss, task, k):
    out, y = _case(task, k, np.random.default_rng(1))
    batch = np.stack([out, 0.5 * out, out + 1.0])
    ps, psg = loss_per_sample(loss, batch, y, task), loss_grad_per_sample(loss, batch, y, task)
    assert ps.shape == (3, 9) and psg.shape == batch.shape
    for b in range(3):
        np.testing.assert_allclose(ps[b], loss_per_sample(loss, batch[b], y, task), rtol=1e-14)
        np.testing.assert_allclose(psg[b], loss_grad_per_sample(loss, batch[b], y, task),
                                   rtol=1e-14)
    np.testing.assert_allclose(ps.mean(axis=-1), loss_value(loss, batch, y, task), rtol=1e-12)


def assert_per_sample_grad_matches_fd(spec: Loss, out, y, task: str, delta: float, h=1e-6):
    """Perturbing out[n, j] moves per_sample[n] by per_sample_grad[n, j] and no other sample."""
    g = spec.per_sample_grad(out, y, task, delta)
    n_rows, k = out.shape
    for n in range(n_rows):
        jac = np.empty((n_rows, k))  # column j: d per_sample / d out[n, j]
        for j in range(k):
            e = np.zeros_like(out)
            e[n, j] = h
            jac[:, j] = (spec.per_sample(out + e, y, task, delta)
                         - spec.per_sample(out - e, y, task, delta)) / (2 * h)
        assert np.max(np.abs(np.delete(jac, n, axis=0))) < 1e-9
        scale = max(np.max(np.abs(jac[n])), 1e-3)
        assert np.max(np.abs(g[n] - jac[n])) / scale < 1e-6, (n, g[n], jac[n])


@pytest.mark.parametrize("loss,task,k", CASES)
def test_per_sample_gradient_matches_finite_differences_row_by_row(loss, task, k):
    out, y = _case(task, k, np.random.default_rng(2))
    assert_per_sample_grad_matches_fd(get_loss(loss, task), out, y, task, DELTA[task])


# --- the shift_invariant flag ----------------------------------------------------------------

def _shift_change(spec: Loss, out, y, task: str, delta: float) -> float:
    """The largest change of per_sample when each row's outputs move by one constant of its own."""
    shift = np.random.default_rng(3).normal(0, 3, (out.shape[0], 1))
    return float(np.max(np.abs(spec.per_sample(out + shift, y, task, delta)
                               - spec.per_sample(out, y, task, delta))))


@pytest.mark.parametrize("loss,task,k", CASES)
def test_shift_invariant_flag_matches_the_numbers(loss, task, k):
    # The flag speaks of classification logits; a regression output is the prediction itself,
    # so shifting it changes every loss (documented on Loss).
    spec = get_loss(loss, task)
    assert isinstance(spec.shift_invariant, bool)
    out, y = _case(task, k, np.random.default_rng(4))
    invariant = _shift_change(spec, out, y, task, DELTA[task]) < 1e-12
    assert invariant == (spec.shift_invariant and task == "classification")


# A test-only loss that is not shift-invariant: MSE of the raw logits against one-hot targets.
def _raw_per_sample(out, y, task, delta):
    r = out - one_hot(y, out.shape[-1])
    return (r * r).mean(axis=-1)


def _raw_per_sample_grad(out, y, task, delta):
    return 2 * (out - one_hot(y, out.shape[-1])) / out.shape[-1]


RAW = Loss("raw_logit_mse", "Raw-logit MSE (test only)", "Not shift-invariant.", "",
           value=lambda o, y, t, d: _raw_per_sample(o, y, t, d).mean(axis=-1),
           grad=lambda o, y, t, d: _raw_per_sample_grad(o, y, t, d) / o.shape[-2],
           per_sample=_raw_per_sample, per_sample_grad=_raw_per_sample_grad,
           shift_invariant=False, tasks=("classification",))


def _surface_problem(sizes, seed=5):
    rng = np.random.default_rng(seed)
    net = Network(sizes, "tanh")
    theta, d1, d2 = rng.normal(0, 0.7, (3, net.n_params))
    X = rng.normal(size=(30, sizes[0]))
    return (theta, d1, d2, np.linspace(-1, 1, 5), np.linspace(-0.6, 0.6, 7), X,
            rng.integers(0, sizes[-1], 30))


def test_the_test_only_loss_is_not_shift_invariant():
    out, y = _case("classification", 3, np.random.default_rng(6))
    assert _shift_change(RAW, out, y, "classification", 1.0) > 1e-3
    assert_per_sample_grad_matches_fd(RAW, out, y, "classification", 1.0)


@pytest.mark.parametrize("sizes", [(2, 6, 2), (3, 5, 4, 3), (2, 3)])
def test_surface_uses_all_logits_for_a_loss_that_is_not_shift_invariant(sizes, monkeypatch):
    monkeypatch.setitem(LOSSES, RAW.name, RAW)
    args = _surface_problem(sizes)
    kw = dict(layer_sizes=sizes, activation="tanh", loss=RAW.name)
    prob = landscape._prepare(*args, sizes, "tanh", RAW.name, 1.0)
    assert not landscape._drops_logit0(prob)
    if len(sizes) > 2:  # the output planes hold all K logits (value, d1 and d2 parts)
        assert landscape._stack_planes(prob, np.dtype(np.float64))[-1].shape[0] == 3 * sizes[-1]
    z = surface(*args, **kw, dtype=np.float64)
    np.testing.assert_allclose(z, surface_naive(*args, **kw), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(surface(*args, **kw), z, rtol=1e-5)  # the float32 path too


def test_a_false_claim_of_shift_invariance_would_break_the_surface(monkeypatch):
    # Shows the check above has teeth: the logit-0 shortcut is wrong for this loss.
    liar = dataclasses.replace(RAW, name="liar", shift_invariant=True)
    monkeypatch.setitem(LOSSES, liar.name, liar)
    args = _surface_problem((2, 6, 3))
    kw = dict(layer_sizes=(2, 6, 3), activation="tanh", loss=liar.name)
    z = surface(*args, **kw, dtype=np.float64)
    assert np.max(np.abs(z - surface_naive(*args, **kw))) > 1e-3


@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_shift_invariant_losses_keep_the_fast_logit0_shortcut(loss):
    sizes = (2, 6, 3)
    prob = landscape._prepare(*_surface_problem(sizes), sizes, "tanh", loss, 1.0)
    assert landscape._drops_logit0(prob) == get_loss(loss).shift_invariant
    planes = landscape._stack_planes(prob, np.dtype(np.float64))
    kept = sizes[-1] - 1 if get_loss(loss).shift_invariant else sizes[-1]
    assert planes[-1].shape[0] == 3 * kept


# --- loss_profile ----------------------------------------------------------------------------

P = np.array([1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_cross_entropy_profile_is_minus_log_p_with_gradient_p_minus_1(k):
    value, grad = loss_profile("cross_entropy", "classification", P, k=k)
    np.testing.assert_allclose(value, -np.log(P), rtol=1e-12)
    np.testing.assert_allclose(grad, P - 1, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_profile_gradient_is_at_the_true_logit(loss, k):
    # Raising z_true with the other logits fixed keeps them equal, so the profile's own curve
    # gives the derivative: d loss / d z_true = d loss / dp * dp / dz_true = loss'(p) p (1 - p).
    h = 1e-5 * P * (1 - P)  # a step relative to the distance from 0 and 1
    up, _ = loss_profile(loss, "classification", P + h, k=k, huber_delta=0.3)
    down, _ = loss_profile(loss, "classification", P - h, k=k, huber_delta=0.3)
    dp = (up - down) / (2 * h)
    _, grad = loss_profile(loss, "classification", P, k=k, huber_delta=0.3)
    np.testing.assert_allclose(grad, dp * P * (1 - P), rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("k", [2, 3])
def test_mse_on_probabilities_stops_pushing_a_confident_mistake(k):
    value, grad = loss_profile("mse", "classification", [1e-9, 0.01, 0.5], k=k)
    assert abs(grad[1]) < abs(grad[2]) and abs(grad[0]) < 1e-8
    _, ce = loss_profile("cross_entropy", "classification", [0.01], k=k)
    assert ce[0] == pytest.approx(-0.99, rel=1e-12)  # cross-entropy pushes with full strength
    assert np.all(np.diff(value) < 0)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_profile_at_the_ends_of_the_probability_axis(loss, k):
    value, grad = loss_profile(loss, "classification", [0.0, 1.0], k=k)
    assert value.shape == grad.shape == (2,)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    assert value[1] < 1e-10 and abs(grad[1]) < 1e-10  # p = 1 (clipped to 1 - 1e-12): no loss
    assert value[0] > value[1]


def test_regression_profiles_by_hand():
    r = np.array([-3.0, -0.7, -0.2, 0.0, 0.2, 0.7, 3.0])
    value, grad = loss_profile("mse", "regression", r)
    np.testing.assert_array_equal(value, r * r)
    np.testing.assert_array_equal(grad, 2 * r)
    d = 0.5
    value, grad = loss_profile("huber", "regression", r, huber_delta=d)
    expected = np.where(np.abs(r) <= d, 0.5 * r * r, d * np.abs(r) - 0.5 * d * d)
    np.testing.assert_allclose(value, expected, rtol=1e-15)
    np.testing.assert_array_equal(grad, np.clip(r, -d, d))


@pytest.mark.parametrize("loss", REGRESSORS)
def test_regression_profile_is_zero_at_zero_and_matches_finite_differences(loss):
    value, grad = loss_profile(loss, "regression", [0.0], huber_delta=0.7)
    assert value[0] == 0 and grad[0] == 0
    r, h = np.linspace(-3, 3, 13) + 0.01, 1e-6
    (up, _), (down, _) = (loss_profile(loss, "regression", r + s, huber_delta=0.7) for s in (h, -h))
    _, grad = loss_profile(loss, "regression", r, huber_delta=0.7)
    np.testing.assert_allclose(grad, (up - down) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("delta", [0.1, 1.0, 2.5])
def test_huber_profile_gradient_is_capped_at_delta(delta):
    _, grad = loss_profile("huber", "regression", np.linspace(-50, 50, 101), huber_delta=delta)
    assert np.max(np.abs(grad)) == pytest.approx(delta, rel=1e-15)
    assert grad[0] == -delta and grad[-1] == delta


def test_cross_entropy_has_no_regression_profile():
    with pytest.raises(ValueError, match="regression"):
        loss_profile("cross_entropy", "regression", [0.5])


# --- hostile input at the door ---------------------------------------------------------------

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
def test_per_sample_functions_refuse_hostile_input(arg, value, name, task):
    if task not in LOSSES[name].tasks:
        name = REGRESSORS[0]
    kw = dict(name=name, **_loss_problem(task), huber_delta=1.0)
    kw[arg] = value
    words = ("loss",) if arg == "name" else (arg,)
    for fn in (loss_per_sample, loss_grad_per_sample):
        result = attempt(lambda: fn(**kw), *words)
        if result is REFUSED:
            continue
        out = np.asarray(kw["out"])
        assert_real(result, out.shape[:-1] if fn is loss_per_sample else out.shape)
        if out.size and np.isfinite(out).all() and np.abs(out).max() < 1e6:
            assert np.isfinite(result).all()


@pytest.mark.parametrize("arg", ["name", "task", "x", "k", "huber_delta"])
@HOSTILE_SETTINGS
@given(value=HOSTILE, name=st.sampled_from(list(LOSSES)),
       task=st.sampled_from(["classification", "regression"]))
@specials(name="cross_entropy", task="classification")
@specials(name="huber", task="regression")
def test_loss_profile_refuses_hostile_input(arg, value, name, task):
    if task not in LOSSES[name].tasks:
        name = REGRESSORS[0]
    kw = dict(name=name, task=task, x=np.linspace(0, 1, 7), k=3, huber_delta=1.0)
    kw[arg] = value
    words = ("loss",) if arg == "name" else (arg,)
    result = attempt(lambda: loss_profile(kw["name"], kw["task"], kw["x"], k=kw["k"],
                                          huber_delta=kw["huber_delta"]), *words)
    if result is not REFUSED:
        m = np.atleast_1d(np.asarray(kw["x"])).shape[0]
        assert_real(result[0], (m,))
        assert_real(result[1], (m,))


@pytest.mark.parametrize("x,task,words", [
    ([-0.1, 0.5], "classification", "between 0 and 1"),
    ([0.5, 1.5], "classification", "between 0 and 1"),
    ([], "regression", "1-D"), ([[0.5]], "classification", "1-D"),
    (np.zeros(10_001), "regression", "10000"), ([np.nan], "regression", "NaN"),
])
def test_loss_profile_says_what_is_wrong_with_x(x, task, words):
    with pytest.raises(ValueError, match="x ") as err:
        loss_profile("mse", task, x)
    assert words in str(err.value)


@pytest.mark.parametrize("k", [1, 101, 2.5, True, "3", None])
def test_loss_profile_refuses_a_bad_class_count(k):
    with pytest.raises(ValueError, match="k must be a whole number in 2..100"):
        loss_profile("cross_entropy", "classification", [0.5], k=k)


# --- the PyTorch reference -------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch reference tests need torch "
                                               "(pip install -e '.[test]')")


def torch_per_sample(torch, name: str, out, y, task: str, delta: float):
    """Per-sample losses with torch.nn.functional, reduction='none' (mean over the class axis)."""
    F = torch.nn.functional
    if task == "classification":
        if name == "cross_entropy":
            return F.cross_entropy(out, y, reduction="none")
        pred, target = torch.softmax(out, dim=1), F.one_hot(y, out.shape[1]).double()
    else:
        pred, target = out, y[:, None]
    assert name in ("mse", "huber"), f"add a PyTorch reference for the loss {name!r}"
    if name == "mse":
        return F.mse_loss(pred, target, reduction="none").mean(dim=1)
    return F.huber_loss(pred, target, reduction="none", delta=delta).mean(dim=1)


TORCH_CASES = [(loss, task, 3 if task == "classification" else 1)
               for loss in LOSSES for task in ("classification", "regression")
               if task in LOSSES[loss].tasks]


@pytest.mark.parametrize("loss,task,k", TORCH_CASES)
def test_per_sample_values_and_gradients_match_torch(torch, loss, task, k):
    out, y = _case(task, k, np.random.default_rng(8), n=11)
    d = DELTA[task]
    t_out = torch.tensor(out, requires_grad=True)
    t_ps = torch_per_sample(torch, loss, t_out, torch.from_numpy(y), task, d)
    t_ps.sum().backward()  # rows are independent: row n of the gradient is d t_ps[n] / d out[n]
    np.testing.assert_allclose(loss_per_sample(loss, out, y, task, d), t_ps.detach().numpy(),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss_grad_per_sample(loss, out, y, task, d), t_out.grad.numpy(),
                               rtol=1e-10, atol=1e-14)
