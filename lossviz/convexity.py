"""How convex is the loss around a plane of weights? The ratio |λmin/λmax| of the data loss's
Hessian at each point of a grid (Li et al. 2018, "Visualizing the Loss Landscape of Neural
Nets", Fig. 7): near 0 the point is locally convex (no direction curves down much compared with
the sharpest one up), large where negative curvature is strong.

Each point runs one Lanczos process of ``krylov`` steps on the exact Hessian-vector product
(``lossviz.hessian``) and reads both extreme Ritz values from it. A Ritz value lies inside the
spectrum, so λmax is a lower bound of the true one and λmin an upper bound: a negative λmin is
certain negative curvature. Coarser than ``hessian_eigs`` (which converges each end to 1e-10),
and many times cheaper: what a map of hundreds of points needs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .checks import integer, real_array, vector
from .hessian import _curvature
from .landscape import _axis

Array = np.ndarray
KRYLOV_STEPS = 30


def extreme_eigenvalues(params: Array, X: Array, y: Array, *, layer_sizes: Sequence[int], activation: str,
                        loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0,
                        krylov: int = KRYLOV_STEPS,
                        seed: int = 0) -> tuple[float, float]:
    """(λmin, λmax) estimates of the data loss's Hessian at ``params`` from ``krylov`` Lanczos
    steps (see the module doc); NaN where the loss or its curvature is not finite."""
    op = _curvature(params, X, y, layer_sizes, activation, loss, huber_delta, label_smoothing)
    if not op.finite:
        return float("nan"), float("nan")
    steps = integer(krylov, "krylov", 2, 1000)
    return _extremes(op, min(steps, op.n_params), np.random.default_rng(seed))


def _extremes(op, m: int, rng: np.random.Generator) -> tuple[float, float]:
    n = op.n_params
    V = np.empty((m, n))
    alpha, beta = [], []
    w = rng.standard_normal(n)
    b = float(np.linalg.norm(w))
    with np.errstate(all="ignore"):
        for j in range(m):
            V[j] = w / b
            w = op.matmat(V[j][None, :])[0]
            alpha.append(float(V[j] @ w))
            for _ in range(2):  # full reorthogonalization (twice is enough)
                w -= (V[:j + 1] @ w) @ V[:j + 1]
            b = float(np.linalg.norm(w))
            if not np.isfinite(alpha[-1]) or b <= 1e-12 * max(1.0, abs(alpha[-1])):
                break  # an invariant subspace (exact Ritz values) or a breakdown
            beta.append(b)
    k = len(alpha)
    if not np.isfinite(alpha).all():
        return float("nan"), float("nan")
    T = np.diag(alpha) + np.diag(beta[:k - 1], 1) + np.diag(beta[:k - 1], -1)
    theta = np.linalg.eigvalsh(T)
    return float(theta[0]), float(theta[-1])


def convexity_map(params: Array, d1: Array, d2: Array, alphas: Sequence[float], betas: Sequence[float],
                  X: Array, y: Array, *, layer_sizes: Sequence[int], activation: str, loss: str,
                  huber_delta: float = 1.0, label_smoothing: float = 0.0,
                  krylov: int = KRYLOV_STEPS, seed: int = 0,
                  rows: Sequence[int] | None = None) -> dict[str, Array]:
    """λmin, λmax and |λmin/λmax| at params + alphas[i]·d1 + betas[j]·d2 over the grid.

    Parameters
    ----------
    params, d1, d2 : (P,) the centre and the plane's directions
    alphas, betas : (Ga,), (Gb,) grid coordinates
    X, y, layer_sizes, activation, loss, huber_delta : as ``lossviz.hvp``
    krylov : Lanczos steps per point; seed : the start vectors' seed (one per point, reproducible)
    rows : the alpha indices to compute (default: all); other rows are NaN (a map computed in parts)

    Returns
    -------
    dict of (Ga, Gb) float64 arrays: "lambda_min", "lambda_max", "ratio" (|λmin/λmax|, NaN
    where λmax <= 0 or not finite)
    """
    a, b = _axis(alphas, "alphas"), _axis(betas, "betas")
    params = real_array(params, "params").astype(np.float64).ravel()
    d1 = vector(d1, "d1", params.size, " (as params)")
    d2 = vector(d2, "d2", params.size, " (as params)")
    lo, hi = np.full((a.size, b.size), np.nan), np.full((a.size, b.size), np.nan)
    rows = range(a.size) if rows is None else [integer(r, "row", 0, a.size - 1) for r in rows]
    for i in rows:
        for j in range(b.size):
            lo[i, j], hi[i, j] = extreme_eigenvalues(
                params + a[i] * d1 + b[j] * d2, X, y, layer_sizes=layer_sizes, activation=activation,
                loss=loss, huber_delta=huber_delta, label_smoothing=label_smoothing,
                krylov=krylov, seed=seed + i * b.size + j)
    with np.errstate(all="ignore"):
        ratio = np.where(hi > 0, np.abs(lo / hi), np.nan)
    return {"lambda_min": lo, "lambda_max": hi, "ratio": ratio}
