"""Paths through parameter space: straight-line interpolation and trajectory projection."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .landscape import surface
from .losses import get_loss
from .model import Network

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
    coords, *_ = np.linalg.lstsq(basis, offsets.T, rcond=None)
    return coords.T


def trajectory_losses(coords: Array, center: Array, d1: Array, d2: Array, X: Array, y: Array, *,
                      layer_sizes: Sequence[int], activation: str, loss: str,
                      huber_delta: float = 1.0, chunk: int = 32) -> Array:
    """Data loss (T,) at each projected point center + a d1 + b d2, for coords (T, 2)."""
    net = Network(tuple(layer_sizes), activation)
    task = "regression" if net.layer_sizes[-1] == 1 else "classification"
    lossfn = get_loss(loss, task)
    coords = np.atleast_2d(np.asarray(coords, dtype=np.float64))
    thetas = np.asarray(center, float) + coords @ np.stack([d1, d2]).astype(float)
    X, y = np.asarray(X, float), np.asarray(y)
    out = np.empty(coords.shape[0])
    for s in range(0, thetas.shape[0], chunk):
        out[s:s + chunk] = lossfn.value(net.forward_many(thetas[s:s + chunk], X), y, task,
                                        huber_delta)
    return out
