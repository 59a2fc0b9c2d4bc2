"""Paths through parameter space: straight-line interpolation and trajectory projection."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .blas import single_threaded_blas

from .checks import integer, real_array, vector
from .landscape import _dtype, _evaluate, _prepare
from .losses import get_loss

Array = np.ndarray
MAX_CHUNK = 4096  # points per batched forward pass (memory: chunk x N x width)


def interpolate(theta_a: Array, theta_b: Array, ts: Sequence[float], X: Array, y: Array, *,
                layer_sizes: Sequence[int], activation: str, loss: str,
                huber_delta: float = 1.0, label_smoothing: float = 0.0, dtype=np.float64) -> Array:
    """Loss along the line (1 - t) theta_a + t theta_b, one value per t.

    Parameters
    ----------
    theta_a, theta_b : (n_params,) endpoints (t = 0 and t = 1), e.g. init and final weights
    ts : (T,) positions along the line; values outside [0, 1] extrapolate

    Returns
    -------
    (T,) data losses.
    """
    a, b = real_array(theta_a, "theta_a"), real_array(theta_b, "theta_b")
    if b.shape != a.shape:
        raise ValueError(f"theta_b must have the shape of theta_a {a.shape}, got shape {b.shape}")
    with np.errstate(over="ignore"):
        d = b - a
    if not np.isfinite(d).all():
        raise ValueError("theta_b - theta_a overflows: the endpoints are too far apart")
    p = _prepare(a, d, np.zeros_like(d), ts, [0.0], X, y, layer_sizes, activation, loss,
                 huber_delta, label_smoothing, names=("theta_a", "theta_b", "theta_b", "ts", "betas"))
    return _evaluate(p, _dtype(dtype), with_metric=False)[0][:, 0]


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
    traj = np.atleast_2d(real_array(trajectory, "trajectory"))
    if traj.ndim != 2 or 0 in traj.shape:
        raise ValueError(f"trajectory must have shape (T, n_params) with T, n_params >= 1, "
                         f"got shape {traj.shape}")
    n = traj.shape[1]
    why = f" (one entry per column of trajectory, {n})"
    center, d1, d2 = (vector(v, name, n, why)
                      for v, name in zip((center, d1, d2), ("center", "d1", "d2")))
    # Scaled by powers of two (exact): offsets stay finite for any finite input, even 1e308 - -1e308.
    so, sb = _binary_exponent(traj, center), _binary_exponent(d1, d2)
    offsets = np.ldexp(traj, -so)
    offsets -= np.ldexp(center, -so)
    basis = np.stack([np.ldexp(d1, -sb), np.ldexp(d2, -sb)], axis=1)  # (n_params, 2)
    with single_threaded_blas():  # small problem: threads only add latency
        coords, *_ = np.linalg.lstsq(basis, offsets.T, rcond=None)
    with np.errstate(over="ignore"):  # a coordinate beyond 1e308 is honestly infinite
        return np.ldexp(coords.T, so - sb)


def _binary_exponent(*arrays: Array) -> int:
    """The binary exponent e of the largest magnitude: every entry divided by 2**e is below 1."""
    return int(np.frexp(max(max(a.max(), -a.min()) for a in arrays))[1])


def trajectory_losses(coords: Array, center: Array, d1: Array, d2: Array, X: Array, y: Array, *,
                      layer_sizes: Sequence[int], activation: str, loss: str,
                      huber_delta: float = 1.0, label_smoothing: float = 0.0,
                      chunk: int = 32) -> Array:
    """Data loss (T,) at each projected point center + a d1 + b d2, for coords (T, 2).

    ``chunk`` (1..4096) points are evaluated per batched forward pass.
    """
    p = _prepare(center, d1, d2, [0.0], [0.0], X, y, layer_sizes, activation, loss, huber_delta,
                 label_smoothing, names=("center", "d1", "d2", "alphas", "betas"))
    lossfn = get_loss(p.loss, p.task)
    coords = np.atleast_2d(real_array(coords, "coords"))
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"coords must have shape (T, 2), got shape {coords.shape}")
    chunk = integer(chunk, "chunk", 1, MAX_CHUNK)
    basis = np.stack([p.d1, p.d2])
    out = np.empty(coords.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):  # far-off points: inf or NaN loss, no error
        for s in range(0, coords.shape[0], chunk):
            thetas = p.params + coords[s:s + chunk] @ basis  # per chunk: memory chunk x n_params
            out[s:s + chunk] = lossfn.value(p.net.forward_many(thetas, p.X), p.y, p.task,
                                            p.hyper)
    return out


def trajectory_on_plane(trajectory: Array, center: Array, d1: Array, d2: Array, X: Array, y: Array, *,
                        layer_sizes: Sequence[int], activation: str, loss: str,
                        huber_delta: float = 1.0, label_smoothing: float = 0.0) -> tuple[Array, Array]:
    """A trajectory projected onto the plane, and the data loss at each projected point.

    Returns
    -------
    coords : (T, 2) (alpha, beta) per row (least squares, see :func:`project_trajectory`)
    losses : (T,) data loss at center + alpha d1 + beta d2
    """
    coords = project_trajectory(trajectory, center, d1, d2)
    losses = trajectory_losses(coords, center, d1, d2, X, y, layer_sizes=layer_sizes,
                               activation=activation, loss=loss, huber_delta=huber_delta,
                               label_smoothing=label_smoothing)
    return coords, losses
