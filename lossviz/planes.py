"""The compare plane: the one plane through a common start θ0 that holds both end points.

Two runs A and B from the same θ0 end at θA and θB. The plane through θ0 spanned by
``d1 = (θA − θ0)/‖θA − θ0‖`` and ``d2`` = the part of θB − θ0 orthogonal to d1, normalized,
holds all three points exactly: θ0 at (0, 0), θA at (‖θA − θ0‖, 0), θB at (αB, βB). Both
directions are unit vectors, so the coordinates α, β are distances in parameter space: the
two runs' paths are drawn to one scale on one landscape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import number, real_array, short, vector
from .directions import random_directions
from .landscape import validate_grid
from .model import Network

Array = np.ndarray
PARALLEL_TOL = 1e-9  # θB − θ0 this close (relative) to the line of d1 spans no plane
MIN_HALF_WIDTH = 1.0  # axes' half-width when all points coincide (as the export's default range)
MIN_ASPECT = 0.25  # each axis at least this fraction of the other's extent


def _unit(v: Array) -> Array | None:
    """``v`` / ‖v‖, or None for a zero vector (scaled first: no overflow in the norm)."""
    scale = np.max(np.abs(v)) if v.size else 0.0
    if scale == 0:
        return None
    v = v / scale
    return v / np.sqrt(v @ v)


def _second_direction(v: Array, d1: Array) -> Array | None:
    """Unit vector along the part of ``v`` orthogonal to the unit vector ``d1``.

    None when ``v`` is zero or parallel to ``d1`` within a relative ``PARALLEL_TOL``.
    Gram-Schmidt runs twice ("twice is enough"): d1 · d2 is zero to rounding even when v is
    nearly parallel to d1.
    """
    scale = np.max(np.abs(v))
    if scale == 0:
        return None
    v = v / scale  # largest entry 1: no overflow in the products
    w = v - (v @ d1) * d1
    w -= (w @ d1) * d1
    if np.sqrt(w @ w) <= PARALLEL_TOL * np.sqrt(v @ v):
        return None
    return _unit(w)


def _offset(theta: Array, theta0: Array, name: str) -> Array:
    with np.errstate(over="ignore"):
        d = theta - theta0
    if not np.isfinite(d).all():
        raise ValueError(f"{name} - theta0 overflows: the points are too far apart")
    return d


def compare_plane(theta0: Array, theta_a: Array, theta_b: Array, net: Network,
                  seed: int = 0) -> tuple[Array, Array, str]:
    """Orthonormal directions of the plane through θ0, θA and θB.

    Parameters
    ----------
    theta0, theta_a, theta_b : (P,) the common start and the two runs' end points
    net : the Network the vectors belong to (for the fallback's filter normalization)
    seed : whole number >= 0, seeds the fallback's random directions

    Returns
    -------
    d1, d2 : (P,) unit vectors, d1 · d2 = 0
    kind : "compare", or "random" when the three points span no plane (θA = θ0, θB = θ0, or
        θB − θ0 parallel to θA − θ0 within a relative 1e-9, as at step 0): then d1, d2 are
        Gaussian filter-normalized directions (``random_directions(theta0, net, seed)``),
        orthonormalized by Gram-Schmidt.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossviz.Network, got {short(net)}")
    why = f" to match net.layer_sizes {net.layer_sizes}"
    theta0, theta_a, theta_b = (vector(v, name, net.n_params, why) for v, name in
                                zip((theta0, theta_a, theta_b), ("theta0", "theta_a", "theta_b")))
    d1 = _unit(_offset(theta_a, theta0, "theta_a"))
    d2 = None if d1 is None else _second_direction(_offset(theta_b, theta0, "theta_b"), d1)
    if d2 is not None:
        return d1, d2, "compare"
    return (*_random_plane(theta0, net, seed), "random")


def _random_plane(theta0: Array, net: Network, seed: int) -> tuple[Array, Array]:
    """Two orthonormal random directions through θ0: filter-normalized, else raw Gaussian.

    Filter normalization gives zero directions where all weights are zero (and a network with
    a single weight has one weight direction only); the raw Gaussian spans a plane instead.
    """
    for normalization in ("filter", "none"):
        r1, r2 = random_directions(theta0, net, seed, normalization)
        d1 = _unit(r1)
        d2 = None if d1 is None else _second_direction(r2, d1)
        if d2 is not None:
            return d1, d2
    raise ValueError("no plane: the network needs at least two parameters")  # never: P >= 2


def plane_coordinates(theta: Array, center: Array, d1: Array, d2: Array) -> tuple[Any, Any]:
    """Coordinates (α, β) of θ in the plane ``center + α d1 + β d2`` for orthonormal d1, d2.

    Parameters
    ----------
    theta : (P,) one point, or (T, P) a path; center, d1, d2 : (P,)

    Returns
    -------
    alpha, beta : floats for one point, (T,) arrays for a path; the orthogonal projection,
        exact for points in the plane.
    """
    theta = real_array(theta, "theta")
    if theta.ndim not in (1, 2) or theta.shape[-1] == 0:
        raise ValueError(f"theta must have shape (P,) or (T, P), got shape {theta.shape}")
    n = theta.shape[-1]
    why = f" (one entry per parameter of theta, {n})"
    center, d1, d2 = (vector(v, name, n, why)
                      for v, name in zip((center, d1, d2), ("center", "d1", "d2")))
    with np.errstate(over="ignore", invalid="ignore"):  # beyond 1e308: honestly infinite
        offsets = theta - center
        alpha, beta = offsets @ d1, offsets @ d2
    if theta.ndim == 1:
        return float(alpha), float(beta)
    return alpha, beta


def compare_axes(points: Array, grid: int, margin: float = 0.25) -> tuple[Array, Array]:
    """Grid coordinates along d1 and d2 wide enough to hold ``points``, with a margin.

    Parameters
    ----------
    points : (n, 2) (α, β) pairs to show, n >= 1: θ0 at (0, 0), θA, θB and their paths
    grid : points per axis, a whole number in 3..201
    margin : number in [0, 10]: each axis reaches this fraction of its extent beyond the points

    Returns
    -------
    alphas, betas : (grid,) each, increasing. An axis spans at least ``MIN_ASPECT`` of the
        other's extent (paths along one line still show their surroundings); when all points
        coincide, both reach ``MIN_HALF_WIDTH`` either side of them.
    """
    pts = real_array(points, "points")
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
        raise ValueError(f"points must have shape (n, 2) with n >= 1, got shape {pts.shape}")
    grid = validate_grid(grid)
    margin = number(margin, "margin", 0.0, 10.0)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    with np.errstate(over="ignore"):
        width = hi - lo
    if not np.isfinite(width).all():
        raise ValueError("points are too far apart to grid (their extent overflows)")
    width = np.maximum(width, MIN_ASPECT * width.max())
    half = width * (0.5 + margin) if width.max() > 0 else np.full(2, MIN_HALF_WIDTH)
    mid = lo / 2 + hi / 2
    alphas, betas = (np.linspace(m - h, m + h, grid) for m, h in zip(mid, half))
    return alphas, betas
