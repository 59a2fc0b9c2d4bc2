"""Accuracy (classification) and R² (regression) of network outputs."""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def accuracy(out: Array, y: Array) -> Array:
    """Fraction of rows whose largest logit is the true class. out (..., N, K), y (N,)."""
    return (out.argmax(axis=-1) == y).mean(axis=-1)


def r_squared(out: Array, y: Array) -> Array:
    """Coefficient of determination 1 - SS_res / SS_tot. out (..., N, 1), y (N,)."""
    resid = out[..., 0] - y
    ss_tot = float(((y - y.mean()) ** 2).sum()) or 1.0
    return 1.0 - (resid * resid).sum(axis=-1) / ss_tot


def metric_value(out: Array, y: Array, task: str) -> float | Array:
    """Accuracy for classification, R² for regression (a float for a single output)."""
    m = accuracy(out, y) if task == "classification" else r_squared(out, y)
    return float(m) if np.ndim(m) == 0 else m


def metric_name(task: str) -> str:
    return "accuracy" if task == "classification" else "R²"
