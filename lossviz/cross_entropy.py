"""Cross-entropy on logits, with label smoothing eps, passed as ``delta`` (every loss's one
hyper-parameter arrives under that name): per-sample value and gradient, their means, one fused
value-and-gradient pass, and the output-Hessian product. Defined for classification only.
"""

from __future__ import annotations

import numpy as np

from .softmax import class_planes, logsumexp_planes, reduce_last, softmax, softmax_backward

Array = np.ndarray


def ce_per_sample(out: Array, y: Array, task: str, delta: float) -> Array:
    """(..., N): -sum_k t_k log softmax(out)_k of each sample, t = (1 - eps) onehot + eps / K.

    As lse(z) - (1 - eps) z_y - eps mean_k z_k: t sums to 1, so the lse term is counted once.
    """
    require_classification(task, delta)
    zt = class_planes(out)
    nll, _ = logsumexp_planes(zt)
    for k in range(zt.shape[0]):
        nll -= np.where(y == k, (1.0 - delta) * zt[k] if delta else zt[k], 0.0)
    if delta:
        nll -= delta * sum(zt[k] for k in range(zt.shape[0])) / zt.shape[0]
    return nll


def ce_per_sample_grad(out: Array, y: Array, task: str, delta: float) -> Array:
    """(..., N, K): softmax(out) - t, each sample's own gradient."""
    require_classification(task, delta)
    g = softmax(out)
    if delta:
        g -= delta / out.shape[-1]
    g[..., np.arange(y.shape[0]), y] -= 1 - delta  # exact for softmax + cross-entropy only
    return g


def ce_value(out: Array, y: Array, task: str, delta: float) -> Array:
    return ce_per_sample(out, y, task, delta).mean(axis=-1)


def ce_grad(out: Array, y: Array, task: str, delta: float) -> Array:
    return ce_per_sample_grad(out, y, task, delta) / out.shape[-2]


def ce_value_and_grad(out: Array, y: Array, task: str, delta: float) -> tuple[float, Array]:
    """Value and dL/d(out) of cross-entropy for one output (N, K), sharing the softmax."""
    require_classification(task, delta)
    n, k, rows = out.shape[0], out.shape[1], np.arange(out.shape[0])
    s = out - reduce_last(np.maximum, out)
    e = np.exp(s)
    total = reduce_last(np.add, e)
    nll = np.log(total[:, 0]) - s[rows, y]
    if delta:  # the smoothed part: eps (lse - mean_k z_k), shift-free as s is
        nll += delta * (s[rows, y] - s.mean(axis=1))
    value = float(nll.mean())
    g = e / total
    if delta:
        g -= delta / k
    g[rows, y] -= 1 - delta  # exact for softmax + cross-entropy only
    g /= n
    return value, g


def ce_hvp(out: Array, y: Array, task: str, delta: float, u: Array) -> Array:
    """(diag(p) - p p^T) u / N, p = softmax(out): the derivative of (p - t) / N along u (the
    targets t, smoothed or not, are constants)."""
    require_classification(task, delta)
    return softmax_backward(softmax(out), u) / out.shape[-2]


def require_classification(task: str, eps: float = 0.0) -> None:
    if not 0 <= eps < 1:  # a Huber delta passed on by mistake (1.0 by default) is loud, not a silent eps
        raise ValueError(f"cross-entropy's label smoothing must be in [0, 1), got {eps!r}: pass "
                         "the loss's own hyper-parameter (RunConfig.loss_hyper), not huber_delta")
    if task != "classification":
        raise ValueError(
            "loss 'cross_entropy' is not defined for the regression task (it needs class labels); "
            "use mse or huber for regression data"
        )
