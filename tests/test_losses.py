"""Tests for lossviz.losses and lossviz.penalties: hand-made values, stability, gradients."""
import math

import numpy as np
import pytest

from lossviz import LOSSES, get_loss, loss_grad, loss_value
from lossviz.penalties import penalty_grad, penalty_value

TASK_LOSSES = [(loss, task) for loss in LOSSES for task in ("classification", "regression")
               if task in LOSSES[loss].tasks]


def central_fd(f, x, h=1e-6):
    grad = np.empty_like(x)
    flat = grad.reshape(-1)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


# --- registry ------------------------------------------------------------------------------

def test_registry_names_and_entries():
    assert set(LOSSES) == {"mse", "huber", "cross_entropy"}
    for name, spec in LOSSES.items():
        assert spec.name == name and spec.label and spec.explanation and spec.formula
    assert LOSSES["cross_entropy"].tasks == ("classification",)
    assert set(LOSSES["mse"].tasks) == set(LOSSES["huber"].tasks) == {"classification", "regression"}


# --- regression values -----------------------------------------------------------------------

def test_mse_regression_is_mean_over_elements():
    out = np.array([[1.0], [2.0], [4.0]])
    y = np.array([0.0, 2.0, 1.0])
    assert loss_value("mse", out, y, "regression") == pytest.approx((1 + 0 + 9) / 3, rel=1e-15)


def test_huber_regression_both_branches_default_delta():
    out = np.array([[0.5], [-2.0], [3.0], [1.0]])
    y = np.zeros(4)
    # |r| <= 1: 0.5 r^2; else 1 * (|r| - 0.5); r = 1 sits on the quadratic branch.
    expected = (0.125 + 1.5 + 2.5 + 0.5) / 4
    assert loss_value("huber", out, y, "regression") == pytest.approx(expected, rel=1e-15)


def test_huber_delta_is_settable():
    out = np.array([[0.5], [-2.0], [3.0]])
    y = np.zeros(3)
    # delta = 2: 0.125, 0.5 * 4 = 2 (|r| == delta, quadratic), 2 * (3 - 1) = 4
    assert loss_value("huber", out, y, "regression", huber_delta=2.0) == pytest.approx(
        (0.125 + 2.0 + 4.0) / 3, rel=1e-15)
    # delta = 0.25: every residual is on the linear branch
    d = 0.25
    expected = sum(d * (abs(r) - 0.5 * d) for r in (0.5, -2.0, 3.0)) / 3
    assert loss_value("huber", out, y, "regression", huber_delta=d) == pytest.approx(expected, rel=1e-15)


def test_huber_with_small_residuals_is_half_mse():
    rng = np.random.default_rng(0)
    out, y = rng.uniform(-0.4, 0.4, (20, 1)), np.zeros(20)
    assert loss_value("huber", out, y, "regression") == pytest.approx(
        0.5 * loss_value("mse", out, y, "regression"), rel=1e-14)


# --- classification values -------------------------------------------------------------------

def test_cross_entropy_is_mean_negative_log_softmax():
    out = np.array([[0.0, 0.0, 0.0], [math.log(1.0), math.log(2.0), math.log(1.0)]])
    y = np.array([2, 1])
    expected = (math.log(3.0) + -math.log(0.5)) / 2
    assert loss_value("cross_entropy", out, y, "classification") == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_binary_with_two_logits():
    out = np.array([[2.0, -1.0]])
    expected = -math.log(math.exp(-1.0) / (math.exp(2.0) + math.exp(-1.0)))
    assert loss_value("cross_entropy", out, np.array([1]), "classification") == pytest.approx(
        expected, rel=1e-14)


def test_cross_entropy_is_stable_for_huge_logits():
    out = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        right = loss_value("cross_entropy", out, np.array([0, 1, 2]), "classification")
        wrong = loss_value("cross_entropy", out, np.array([2, 0, 0]), "classification")
        g = loss_grad("cross_entropy", out, np.array([2, 0, 0]), "classification")
    # confidently right: ~0; equal logits: log 3. Confidently wrong: 2000, 1000, log 3.
    assert right == pytest.approx(math.log(3.0) / 3, rel=1e-12)
    assert wrong == pytest.approx((2000.0 + 1000.0 + math.log(3.0)) / 3, rel=1e-12)
    assert np.all(np.isfinite(g))


def test_mse_on_classification_uses_softmax_and_one_hot():
    # softmax([0, ln 2, 0]) = [1/4, 1/2, 1/4]; softmax([0, 0]) elsewhere: uniform thirds.
    out = np.array([[0.0, math.log(2.0), 0.0], [0.0, 0.0, 0.0]])
    y = np.array([1, 0])
    r1 = [0.25, -0.5, 0.25]
    r2 = [1 / 3 - 1, 1 / 3, 1 / 3]
    expected = (sum(r * r for r in r1) + sum(r * r for r in r2)) / (2 * 3)
    assert loss_value("mse", out, y, "classification") == pytest.approx(expected, rel=1e-14)


def test_huber_on_classification_uses_softmax_and_one_hot():
    out = np.array([[0.0, math.log(2.0), 0.0]])
    d = 0.3
    # r = [0.25, -0.5, 0.25]: quadratic, linear, quadratic
    expected = (0.5 * 0.0625 + d * (0.5 - 0.5 * d) + 0.5 * 0.0625) / 3
    assert loss_value("huber", out, np.array([1]), "classification", huber_delta=d) == pytest.approx(
        expected, rel=1e-14)


def test_mse_gradient_vanishes_for_confidently_wrong_outputs():
    # The lesson of the app: MSE on probabilities barely pushes a confidently wrong logit,
    # cross-entropy pushes it with full strength.
    out = np.array([[12.0, 0.0]])
    y = np.array([1])
    g_mse = np.abs(loss_grad("mse", out, y, "classification")).max()
    g_ce = np.abs(loss_grad("cross_entropy", out, y, "classification")).max()
    assert g_mse < 1e-4 and g_ce > 0.99


# --- cross-entropy on regression --------------------------------------------------------------

def test_cross_entropy_on_regression_raises():
    with pytest.raises(ValueError, match="regression"):
        get_loss("cross_entropy", "regression")
    with pytest.raises(ValueError, match="regression"):
        loss_value("cross_entropy", np.zeros((3, 1)), np.zeros(3), "regression")
    with pytest.raises(ValueError, match="regression"):
        loss_grad("cross_entropy", np.zeros((3, 1)), np.zeros(3), "regression")


def test_unknown_loss_lists_allowed_names():
    with pytest.raises(ValueError) as err:
        get_loss("hinge")
    assert "hinge" in str(err.value)
    for name in LOSSES:
        assert name in str(err.value)


# --- batched values and gradients ------------------------------------------------------------

def _case(task, rng, n=8):
    if task == "classification":
        return rng.normal(0, 2, (n, 3)), rng.integers(0, 3, n)
    return rng.normal(0, 2, (n, 1)), rng.normal(0, 2, n)


@pytest.mark.parametrize("loss,task", TASK_LOSSES)
def test_batched_value_equals_per_slice(loss, task):
    rng = np.random.default_rng(1)
    out, y = _case(task, rng)
    batch = np.stack([out, out * 0.5, out + 1.0, -out])
    values = loss_value(loss, batch, y, task, huber_delta=0.7)
    assert values.shape == (4,)
    for b in range(4):
        assert values[b] == pytest.approx(float(loss_value(loss, batch[b], y, task, huber_delta=0.7)),
                                          rel=1e-13)


@pytest.mark.parametrize("delta", [0.2, 1.0])
@pytest.mark.parametrize("loss,task", TASK_LOSSES)
def test_output_gradient_matches_finite_differences(loss, task, delta):
    rng = np.random.default_rng(2)
    out, y = _case(task, rng)
    spec = get_loss(loss, task)
    delta = delta / 2 if spec.hyper == "label_smoothing" else delta  # eps must stay below 1
    g = spec.grad(out, y, task, delta)
    fd = central_fd(lambda o: float(spec.value(o, y, task, delta)), out)
    assert g.shape == out.shape
    assert np.max(np.abs(g - fd)) / np.max(np.abs(fd)) < 1e-6


@pytest.mark.parametrize("loss,task", TASK_LOSSES)
def test_gradient_with_leading_batch_axis(loss, task):
    rng = np.random.default_rng(3)
    out, y = _case(task, rng)
    batch = np.stack([out, 0.3 * out])
    g = loss_grad(loss, batch, y, task)
    for b in range(2):
        np.testing.assert_allclose(g[b], loss_grad(loss, batch[b], y, task), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("loss,task", TASK_LOSSES)
def test_value_and_grad_equals_separate_value_and_grad(loss, task):
    # Training may use a fused pass; it must agree with the separate functions and with FD.
    rng = np.random.default_rng(5)
    out, y = _case(task, rng)
    spec = get_loss(loss, task)
    value, g = spec.value_and_grad(out, y, task, 0.7)
    assert value == pytest.approx(float(spec.value(out, y, task, 0.7)), rel=1e-13)
    np.testing.assert_allclose(g, spec.grad(out, y, task, 0.7), rtol=1e-12, atol=1e-16)
    fd = central_fd(lambda o: spec.value_and_grad(o, y, task, 0.7)[0], out)
    assert np.max(np.abs(g - fd)) / np.max(np.abs(fd)) < 1e-6


def test_fused_cross_entropy_is_stable_for_huge_logits():
    out = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, g = get_loss("cross_entropy").value_and_grad(out, np.array([2, 1]), "classification", 0.0)
    assert value == pytest.approx(2000.0 / 2, rel=1e-12)
    assert np.all(np.isfinite(g))


# --- penalties -------------------------------------------------------------------------------

def test_penalty_values_by_hand():
    params = np.array([1.0, -2.0, 3.0, 0.5])
    mask = np.array([True, True, False, True])  # index 2 is a bias
    # l2/2 * (1 + 4 + 0.25) + l1 * (1 + 2 + 0.5)
    assert penalty_value(params, mask, 0.1, 0.0) == pytest.approx(0.05 * 5.25, rel=1e-15)
    assert penalty_value(params, mask, 0.0, 0.2) == pytest.approx(0.2 * 3.5, rel=1e-15)
    assert penalty_value(params, mask, 0.1, 0.2) == pytest.approx(0.05 * 5.25 + 0.2 * 3.5, rel=1e-15)


@pytest.mark.parametrize("l2,l1", [(0.3, 0.0), (0.0, 0.2), (0.1, 0.05)])
def test_penalty_gradient_matches_finite_differences(l2, l1):
    rng = np.random.default_rng(4)
    params = rng.normal(size=30)
    params[np.abs(params) < 1e-3] = 0.5  # L1 is not differentiable at 0
    mask = rng.random(30) < 0.7
    g = penalty_grad(params, mask, l2, l1)
    fd = central_fd(lambda p: penalty_value(p, mask, l2, l1), params)
    np.testing.assert_array_equal(g[~mask], 0.0)
    assert np.max(np.abs(g - fd)) / np.max(np.abs(fd)) < 1e-6
