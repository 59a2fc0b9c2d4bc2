"""Paths through parameter space: straight-line interpolation and trajectory projection."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .landscape import _finite, _prepare, surface
from .losses import get_loss

Array = np.ndarray


def interpolate(theta_a: Array, theta_b: Array, ts: Sequence[float], X: Array, y: Array, *,
                layer_sizes: Sequence[int], activation: str, loss: str,
                huber_delta: float = 1.0, dtype=np.float64) -> Array:
    """Loss along the line (1 - t) theta_a + t theta_b, one value per t.

    Parameters
    ----------
    theta_a, theta_b : (n_params,) endpoints (t = 0 and t = 1), e.g. init and final weights
    ts : (T,) positions along the line; values outside [0, 1] extrapolate

    Returns
    -------
    (T,) data losses.
    """
    theta_a = np.asarray(theta_a, dtype=np.float64)
    d = np.asarray(theta_b, dtype=np.float64) - theta_a
    return surface(theta_a, d, np.zeros_like(d), ts, [0.0], X, y, layer_sizes=layer_sizes,
                   activation=activation, loss=loss, huber_delta=huber_delta, dtype=dtype)[:, 0]


def project_trajectory(trajectory: Array, center: Array, d1: Array, d2: Array) -> Array:
    """Coordinates (alpha, beta) of each row of a trajectory in the plane center + a d1 + b d2.

    Least squares, so it is exact in-plane and the closest point otherwise, whether or not the
    directions are orthogonal.

    Parameters
    ----------
    trajectory : (T, n_params); center, d1, d2 : (n_params,)

    Returns
    -------
    (T, 2) array of (alpha, beta).
    """
    basis = np.stack([np.asarray(d1, float), np.asarray(d2, float)], axis=1)  # (n_params, 2)
    offsets = np.atleast_2d(np.asarray(trajectory, float)) - np.asarray(center, float)
    with threadpool_limits(1, user_api="blas"):  # small problem: threads only add latency
        coords, *_ = np.linalg.lstsq(basis, offsets.T, rcond=None)
    return coords.T


def trajectory_losses(coords: Array, center: Array, d1: Array, d2: Array, X: Array, y: Array, *,
                      layer_sizes: Sequence[int], activation: str, loss: str,
                      huber_delta: float = 1.0, chunk: int = 32) -> Array:
    """Data loss (T,) at each projected point center + a d1 + b d2, for coords (T, 2)."""
    p = _prepare(center, d1, d2, [0.0], [0.0], X, y, layer_sizes, activation, loss, huber_delta)
    lossfn = get_loss(p.loss, p.task)
    coords = _finite(np.atleast_2d(np.asarray(coords, dtype=np.float64)), "coords")
    if coords.shape[1] != 2:
        raise ValueError(f"coords must have shape (T, 2), got {coords.shape}")
    thetas = p.params + coords @ np.stack([p.d1, p.d2])
    out = np.empty(coords.shape[0])
    for s in range(0, thetas.shape[0], chunk):
        out[s:s + chunk] = lossfn.value(p.net.forward_many(thetas[s:s + chunk], p.X), p.y, p.task,
                                        p.huber_delta)
    return out


def trajectory_on_plane(trajectory: Array, center: Array, d1: Array, d2: Array, X: Array, y: Array, *,
                        layer_sizes: Sequence[int], activation: str, loss: str,
                        huber_delta: float = 1.0) -> tuple[Array, Array]:
    """A trajectory projected onto the plane, and the data loss at each projected point.

    Returns
    -------
    coords : (T, 2) (alpha, beta) per row (least squares, see :func:`project_trajectory`)
    losses : (T,) data loss at center + alpha d1 + beta d2
    """
    coords = project_trajectory(trajectory, center, d1, d2)
    losses = trajectory_losses(coords, center, d1, d2, X, y, layer_sizes=layer_sizes,
                               activation=activation, loss=loss, huber_delta=huber_delta)
    return coords, losses
