"""The data behind the dataset registry: each generator ``make(n, noise, rng)`` returns raw
``X`` (n, n_features) and ``y`` (n,), before any split.

Toy sets are drawn from ``rng`` (sklearn's generators get integer seeds drawn from it); real sets
bundled with sklearn are subsampled with it and ignore noise. :func:`add_outliers` moves some
training targets far off, for the set that shows robust losses at work.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn import datasets as skd

OUTLIER_SHIFT_RANGE = (8.0, 15.0)

XY = tuple[np.ndarray, np.ndarray]
Maker = Callable[[int, float, np.random.Generator], XY]


def sk_seed(rng: np.random.Generator) -> int:
    """Draw an integer seed for an sklearn function from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def moons(n: int, noise: float, rng: np.random.Generator) -> XY:
    return skd.make_moons(n, noise=noise, random_state=sk_seed(rng))


def circles(n: int, noise: float, rng: np.random.Generator) -> XY:
    return skd.make_circles(n, noise=noise, factor=0.5, random_state=sk_seed(rng))


def xor(n: int, noise: float, rng: np.random.Generator) -> XY:
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # labels from the clean points
    return X + noise * rng.standard_normal(X.shape), y


def blobs(n: int, noise: float, rng: np.random.Generator) -> XY:
    centers = np.array([[-4.0, -2.5], [4.0, -2.5], [0.0, 4.0]])
    return skd.make_blobs(n, centers=centers, cluster_std=noise, random_state=sk_seed(rng))


def spiral_maker(arms: int) -> Maker:
    """Return a generator of ``arms`` interleaved spirals (radius 0..5, 1.75 turns)."""

    def make(n: int, noise: float, rng: np.random.Generator) -> XY:
        y = np.arange(n) % arms
        t = rng.uniform(0.0, 1.0, size=n)
        angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / arms
        X = 5.0 * t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        return X + noise * rng.standard_normal(X.shape), y

    return make


def sine(n: int, noise: float, rng: np.random.Generator) -> XY:
    x = rng.uniform(-3.0, 3.0, size=n)
    return x[:, None], np.sin(x) + noise * rng.standard_normal(n)


def line(n: int, noise: float, rng: np.random.Generator) -> XY:
    x = rng.uniform(-2.0, 2.0, size=n)
    return x[:, None], 2.0 * x + 1.0 + noise * rng.standard_normal(n)


def real_maker(loader_name: str) -> Maker:
    """Return a generator that subsamples a set bundled with sklearn; noise is ignored."""

    def make(n: int, noise: float, rng: np.random.Generator) -> XY:
        X, y = getattr(skd, loader_name)(return_X_y=True)  # load_* reads local files only
        keep = np.sort(rng.permutation(len(y))[: min(n, len(y))])
        return X[keep], y[keep]

    return make


def add_outliers(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shift ``round(fraction * n)`` random entries of ``y`` (n,) by +-(8..15); returns the new
    targets and the (n,) bool mask of the shifted ones."""
    idx = rng.choice(len(y), size=round(fraction * len(y)), replace=False)
    y = y.copy()
    y[idx] += rng.choice([-1.0, 1.0], size=len(idx)) * rng.uniform(*OUTLIER_SHIFT_RANGE, len(idx))
    mask = np.zeros(len(y), dtype=bool)
    mask[idx] = True
    return y, mask

