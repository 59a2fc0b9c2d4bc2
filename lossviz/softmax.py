"""Softmax arithmetic over the class axis, shared by the losses.

A network output ``out`` is ``(..., N, K)``: K logits per sample on the last axis, which is short
(2 to 10 classes in practice). NumPy reduces a short contiguous last axis slowly, so these fold
its K columns with K - 1 elementwise calls, or work on the K class planes ``(K, ..., N)``,
whose rows are long.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def reduce_last(ufunc: np.ufunc, z: Array) -> Array:
    """ufunc-reduce over the (short) class axis, keeping it as size 1.

    NumPy reduces a short contiguous last axis slowly; folding its K columns with K - 1
    elementwise calls is several times faster for the loss surface's (points, N, K) arrays.
    """
    if z.shape[-1] > 16:
        return ufunc.reduce(z, axis=-1, keepdims=True)
    acc = z[..., 0].copy()
    for k in range(1, z.shape[-1]):
        ufunc(acc, z[..., k], out=acc)
    return acc[..., None]


def softmax(z: Array) -> Array:
    """Softmax over the last axis, shifted by the max for stability. Shape preserved."""
    e = np.exp(z - reduce_last(np.maximum, z))
    return e / reduce_last(np.add, e)


def log_softmax(z: Array) -> Array:
    """log softmax over the last axis, computed stably. Shape preserved."""
    s = z - reduce_last(np.maximum, z)
    return s - np.log(reduce_last(np.add, np.exp(s)))


def one_hot(y: Array, k: int, dtype=np.float64) -> Array:
    """(N,) int class indices -> (N, K) one-hot matrix."""
    out = np.zeros((y.shape[0], k), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


def softmax_backward(p: Array, grad_p: Array) -> Array:
    """dL/dz from dL/dp for p = softmax(z): p * (g - sum(g p))."""
    return p * (grad_p - reduce_last(np.add, grad_p * p))


def class_planes(out: Array) -> Array:
    """View of ``out`` (..., N, K) as K planes (K, ..., N): elementwise work on long rows."""
    return np.moveaxis(out, -1, 0)


def logsumexp_planes(zt: Array) -> tuple[Array, Array]:
    """log-sum-exp over the K planes of zt (K, ..., N), and the planes' max (..., N)."""
    m = zt[0].copy()
    for k in range(1, zt.shape[0]):
        np.maximum(m, zt[k], out=m)
    s = np.exp(zt[0] - m)
    for k in range(1, zt.shape[0]):
        s += np.exp(zt[k] - m)
    return np.log(s) + m, m
