"""Losses that average an elementwise function of residuals: mean squared error and Huber.

The residual is softmax(logits) - onehot(y) for classification and yhat - y for regression. A
loss of this kind is its elementwise value, derivative and second derivative (curvature) in r;
:func:`residual_loss` and :func:`residual_hvp` build from them the value, gradient, per-sample
value and gradient, and output-Hessian product that a :class:`lossviz.losses.Loss` carries.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .softmax import class_planes, logsumexp_planes, one_hot, reduce_last, softmax, softmax_backward

Array = np.ndarray


def _residual_planes(out: Array, y: Array, task: str):
    """Yield residual planes (..., N): softmax(out)_k - [y == k], or out - y for regression."""
    if task == "regression":
        yield out[..., 0] - y
        return
    zt = class_planes(out)
    lse, _ = logsumexp_planes(zt)
    for k in range(zt.shape[0]):
        r = np.exp(zt[k] - lse)
        r -= y == k
        yield r


def _targets(out: Array, y: Array, task: str) -> tuple[Array, Array]:
    """Predictions and targets, both shaped like ``out``, for the elementwise gradients."""
    if task == "classification":
        return softmax(out), one_hot(y, out.shape[-1], out.dtype)
    return out, y.reshape(-1, 1).astype(out.dtype, copy=False)


def mse_value(r: Array, delta: float) -> Array:
    return r * r


def mse_grad(r: Array, delta: float) -> Array:
    return 2 * r


def huber_value(r: Array, delta: float) -> Array:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def huber_grad(r: Array, delta: float) -> Array:
    return np.clip(r, -delta, delta)


# second derivatives of the elementwise losses (Huber: 1 inside [-delta, delta], 0 outside)
def mse_curvature(r: Array, delta: float) -> Array:
    return np.full_like(r, 2.0)


def huber_curvature(r: Array, delta: float) -> Array:
    return (np.abs(r) <= delta).astype(r.dtype)


def residual_hvp(grad: Callable, curvature: Callable):
    """H u for a mean-of-elementwise loss: (..., N, K), ``u`` broadcast against ``out``.

    Regression: curvature(r) u / (N K). Classification, p = softmax(out): with g = grad(p - t)
    / (N K) the gradient is J^T g = p (g - <g, p>) and J u = p (u - <u, p>), so its derivative
    along u is Ju (g - <g, p>) + p (g' - <g', p> - <g, Ju>), g' = curvature(p - t) Ju / (N K).
    """

    def out_hvp(out: Array, y: Array, task: str, delta: float, u: Array) -> Array:
        pred, target = _targets(out, y, task)
        r, scale = pred - target, out.shape[-2] * out.shape[-1]
        if task == "regression":
            return curvature(r, delta) * u / scale
        ju = softmax_backward(pred, u)
        g = grad(r, delta) / scale
        dg = curvature(r, delta) * ju / scale
        return ju * (g - reduce_last(np.add, g * pred)) + softmax_backward(pred, dg) \
            - pred * reduce_last(np.add, g * ju)

    return out_hvp


def residual_loss(value: Callable, grad: Callable):
    """Build (value, gradient, per-sample value, per-sample gradient) of a mean-of-elementwise
    loss on predictions (softmax or linear); the four share two helpers, so they cannot drift."""

    def row_sums(out: Array, y: Array, task: str, delta: float) -> Array:
        """(..., N): each sample's loss summed over its K elements."""
        return sum(value(r, delta) for r in _residual_planes(out, y, task))

    def scaled_grad(out: Array, y: Array, task: str, delta: float, scale: int) -> Array:
        """(..., N, K): d row_sums / d(out), divided by ``scale``."""
        pred, target = _targets(out, y, task)
        g = grad(pred - target, delta) / scale
        return softmax_backward(pred, g) if task == "classification" else g

    def loss_value(out: Array, y: Array, task: str, delta: float) -> Array:
        return row_sums(out, y, task, delta).mean(axis=-1) / out.shape[-1]

    def loss_grad(out: Array, y: Array, task: str, delta: float) -> Array:
        return scaled_grad(out, y, task, delta, out.shape[-2] * out.shape[-1])

    def per_sample(out: Array, y: Array, task: str, delta: float) -> Array:
        return row_sums(out, y, task, delta) / out.shape[-1]

    def per_sample_grad(out: Array, y: Array, task: str, delta: float) -> Array:
        return scaled_grad(out, y, task, delta, out.shape[-1])

    return loss_value, loss_grad, per_sample, per_sample_grad
