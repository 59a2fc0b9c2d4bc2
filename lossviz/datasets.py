"""Datasets: one registry of toy and real problems, split and standardized.

Add a dataset by adding one entry to :data:`DATASETS`; dropdowns, URL values, error
messages and the tests are all built from that dict. Randomness comes only from
``np.random.default_rng(seed)``; sklearn generators get integer seeds drawn from it.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

from .checks import finite_real, short
from .ranges import FIELD_RANGES
from .registry import lookup

Task = Literal["classification", "regression"]
TASKS: tuple[str, ...] = ("classification", "regression")
N_SAMPLES_RANGE, TEST_FRACTION_RANGE, NOISE_RANGE, OUTLIER_FRACTION_RANGE = (
    (FIELD_RANGES[f].lo, FIELD_RANGES[f].hi) for f in ("n_samples", "test_fraction", "noise", "outlier_fraction"))
OUTLIER_SHIFT_RANGE = (8.0, 15.0)

XY = tuple[np.ndarray, np.ndarray]
Maker = Callable[[int, float, np.random.Generator], XY]


@dataclass(frozen=True)
class DatasetSpec:
    """Everything about one dataset: identity, UI text, shape and generator.

    ``make(n_samples, noise, rng)`` returns raw ``X`` (n, n_features) and ``y`` (n,)
    before splitting; real sets return at most their own size. Outliers (when
    ``uses_outliers``) are added after the split, to the training points only.
    """

    name: str
    task: Task
    label: str
    description: str
    n_features: int
    n_classes: int
    uses_noise: bool
    uses_outliers: bool
    default_noise: float
    make: Maker
    standardize_target: bool = False


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split with features standardized by training statistics.

    Arrays are read-only: a dataset may be cached and shared between users.
    ``X_*`` are (n, d) float64; ``y_*`` are (n,) int64 class indices for
    classification, float64 values for regression (in standardized units when
    ``target_std != 1``: original = y * target_std + target_mean).
    ``outlier_mask`` (n_train,) says which training points the ``outliers`` set moved.
    """

    name: str
    task: Task
    n_classes: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: float = 0.0
    target_std: float = 1.0
    outliers: np.ndarray | None = None  # (n_train,) bool: the training points made outliers
    feature_names: tuple[str, ...] = ()  # an uploaded table's column names (() : x₁, x₂, …)
    class_names: tuple[str, ...] = ()  # an uploaded table's class labels (() : class 0, 1, …)

    @property
    def outlier_mask(self) -> np.ndarray:
        """(n_train,) bool: True for the training points moved off on purpose (all False when none)."""
        if self.outliers is None:
            return np.zeros(self.y_train.shape[0], dtype=bool)
        return self.outliers

    @property
    def n_features(self) -> int:
        """Number of input columns ``d``."""
        return int(self.X_train.shape[1])

    @property
    def is_classification(self) -> bool:
        """True when ``task == "classification"``."""
        return self.task == "classification"


# ---------------------------------------------------------------- generators
def _sk_seed(rng: np.random.Generator) -> int:
    """Draw an integer seed for an sklearn function from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def _moons(n: int, noise: float, rng: np.random.Generator) -> XY:
    return skd.make_moons(n, noise=noise, random_state=_sk_seed(rng))


def _circles(n: int, noise: float, rng: np.random.Generator) -> XY:
    return skd.make_circles(n, noise=noise, factor=0.5, random_state=_sk_seed(rng))


def _xor(n: int, noise: float, rng: np.random.Generator) -> XY:
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # labels from the clean points
    return X + noise * rng.standard_normal(X.shape), y


def _blobs(n: int, noise: float, rng: np.random.Generator) -> XY:
    centers = np.array([[-4.0, -2.5], [4.0, -2.5], [0.0, 4.0]])
    return skd.make_blobs(n, centers=centers, cluster_std=noise, random_state=_sk_seed(rng))


def _spiral_maker(arms: int) -> Maker:
    """Return a generator of ``arms`` interleaved spirals (radius 0..5, 1.75 turns)."""

    def make(n: int, noise: float, rng: np.random.Generator) -> XY:
        y = np.arange(n) % arms
        t = rng.uniform(0.0, 1.0, size=n)
        angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / arms
        X = 5.0 * t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        return X + noise * rng.standard_normal(X.shape), y

    return make


def _sine(n: int, noise: float, rng: np.random.Generator) -> XY:
    x = rng.uniform(-3.0, 3.0, size=n)
    return x[:, None], np.sin(x) + noise * rng.standard_normal(n)


def _line(n: int, noise: float, rng: np.random.Generator) -> XY:
    x = rng.uniform(-2.0, 2.0, size=n)
    return x[:, None], 2.0 * x + 1.0 + noise * rng.standard_normal(n)


def _real_maker(loader_name: str) -> Maker:
    """Return a generator that subsamples a set bundled with sklearn; noise is ignored."""

    def make(n: int, noise: float, rng: np.random.Generator) -> XY:
        X, y = getattr(skd, loader_name)(return_X_y=True)  # load_* reads local files only
        keep = np.sort(rng.permutation(len(y))[: min(n, len(y))])
        return X[keep], y[keep]

    return make


def _spec(name: str, task: Task, label: str, description: str, n_features: int,
          n_classes: int, noise: float | None, make: Maker, **kw: bool) -> DatasetSpec:
    """Shorthand: ``noise=None`` marks a set that ignores noise."""
    return DatasetSpec(name, task, label, description, n_features, n_classes,
                       uses_noise=noise is not None, uses_outliers=kw.pop("outliers", False),
                       default_noise=noise or 0.0, make=make, **kw)


_C, _R = "classification", "regression"
# name, task, label, tooltip, n_features, n_classes, default noise (None: ignores noise), make
DATASETS: dict[str, DatasetSpec] = {s.name: s for s in [
    _spec("moons", _C, "Two moons", "Two interleaving half-circles; the boundary must curve.",
          2, 2, 0.2, _moons),
    _spec("circles", _C, "Circles", "A ring around a disc; the boundary must close on itself.",
          2, 2, 0.1, _circles),
    _spec("xor", _C, "XOR quadrants", "Points coloured by the sign of x times y; no single "
          "straight line separates them.", 2, 2, 0.1, _xor),
    _spec("blobs", _C, "Three blobs", "Three round clusters; nearly separable by straight "
          "lines, noise widens them.", 2, 3, 1.0, _blobs),
    _spec("spirals", _C, "Two spirals", "Two interleaved spiral arms; hard for small networks.",
          2, 2, 0.2, _spiral_maker(2)),
    _spec("spirals3", _C, "Three spirals", "Three interleaved spiral arms, one class each.",
          2, 3, 0.2, _spiral_maker(3)),
    _spec("iris", _C, "Iris flowers", "150 real iris flowers: 4 measurements, 3 species.",
          4, 3, None, _real_maker("load_iris")),
    _spec("digits", _C, "Handwritten digits", "Real 8x8 pixel images of the digits 0-9: "
          "64 inputs, 10 classes.", 64, 10, None, _real_maker("load_digits")),
    _spec("breast_cancer", _C, "Breast cancer", "569 real tumours, 30 measurements each: "
          "benign or malignant.", 30, 2, None, _real_maker("load_breast_cancer")),
    _spec("sine", _R, "Sine wave", "Fit the curve y = sin(x) from noisy points on [-3, 3].",
          1, 1, 0.1, _sine),
    _spec("outliers", _R, "Line with outliers", "A straight line where some training points are "
          "far off; compare squared error with robust losses.", 1, 1, 0.1, _line, outliers=True),
    _spec("diabetes", _R, "Diabetes progression", "442 real patients, 10 measurements: predict "
          "disease progression (target rescaled to mean 0, std 1).", 10, 1, None,
          _real_maker("load_diabetes"), standardize_target=True),
]}


def dataset_names(task: str | None = None) -> list[str]:
    """Registry names in display order, optionally only those of one ``task``."""
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return [n for n, s in DATASETS.items() if task is None or s.task == task]


# ---------------------------------------------------------------- validation
def check_number(name: str, value: object, lo: float, hi: float) -> float:
    """Return ``value`` as float if it is a finite real in ``[lo, hi]``, else raise."""
    f = finite_real(value)
    if f is None or not lo <= f <= hi:
        raise ValueError(f"{name} must be a finite number in [{lo}, {hi}], got {short(value)}")
    return f


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in ``lo..hi`` (no upper bound if None)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not (ok and lo <= value and (hi is None or value <= hi)):
        span = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be an integer {span}, got {short(value)}")
    return int(value)


def _as_float(a: object, what: str) -> np.ndarray:
    """``a`` as a float64 array; ValueError if non-numeric or not finite."""
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must contain only numbers") from None
    if not np.isfinite(a).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    return a


def _as_labels(y: np.ndarray, n_classes: int | None) -> np.ndarray:
    """Check class labels are integers in ``0..K-1``; return them as int64 (n,)."""
    k = "K-1" if n_classes is None else str(n_classes - 1)
    try:
        yf = _as_float(y, "y")
    except ValueError:
        raise ValueError(f"class labels must be integers in 0..{k}") from None
    bad = (yf != np.round(yf)) | (yf < 0) | (yf >= (n_classes or np.inf))
    if bad.any():
        raise ValueError(f"class labels must be integers in 0..{k}; got {y[bad][0]!r}")
    return yf.astype(np.int64)


def validate_xy(X: object, y: object, task: str,
                n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Check user-given arrays and return them as ``(X float64 (n, d), y (n,))``.

    ``y`` becomes int64 class indices in ``0..n_classes-1`` for classification (any
    non-negative integers when ``n_classes`` is None), finite float64 for regression.
    Raises ValueError on wrong shapes, non-numeric or non-finite values.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    X = _as_float(X, "X")
    if X.ndim != 2 or 0 in X.shape:
        raise ValueError(f"X must be a non-empty 2-D array (n_samples, n_features), "
                         f"got shape {X.shape}")
    y = np.asarray(y)
    y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must be 1-D with one value per row of X ({len(X)}), "
                         f"got shape {y.shape}")
    return X, _as_labels(y, n_classes) if task == "classification" else _as_float(y, "y")


# ---------------------------------------------------------------- split & scale
def split_rows(X: np.ndarray, y: np.ndarray, test_fraction: float, stratify: bool,
           rng: np.random.Generator) -> list[np.ndarray]:
    """Seeded shuffle split into ``[X_train, X_test, y_train, y_test]``, >= 1 point each.

    Stratified by class when every class has >= 2 points and both sides can hold
    one point of each class (sklearn's requirement); otherwise a plain shuffle.
    """
    n_test = min(len(y) - 1, max(1, round(test_fraction * len(y))))
    if stratify:
        counts = np.bincount(y)[np.unique(y)]
        stratify = counts.min() >= 2 and len(counts) <= min(n_test, len(y) - n_test)
    return train_test_split(X, y, test_size=n_test, random_state=_sk_seed(rng),
                            stratify=y if stratify else None)


def _mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and std of ``a`` (n, ...) with (near-)zero std replaced by 1."""
    std = a.std(axis=0)
    return a.mean(axis=0), np.where(std < 1e-12, 1.0, std)


def _readonly(a: np.ndarray) -> np.ndarray:
    """Contiguous read-only float/int array, safe to share between users."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def build_dataset(name: str, task: Task, n_classes: int, parts: list[np.ndarray],
           standardize: bool, standardize_target: bool, outliers: np.ndarray | None = None) -> Dataset:
    """Scale features (and optionally target) by training statistics; freeze arrays."""
    X_tr, X_te, y_tr, y_te = parts
    d = X_tr.shape[1]
    mean, std = _mean_std(X_tr) if standardize else (np.zeros(d), np.ones(d))
    t_mean, t_std = (float(v) for v in _mean_std(y_tr)) if standardize_target else (0.0, 1.0)
    if task == "classification":
        y_tr, y_te = y_tr.astype(np.int64), y_te.astype(np.int64)
    else:
        y_tr, y_te = (y_tr - t_mean) / t_std, (y_te - t_mean) / t_std
    frozen = [_readonly(a) for a in ((X_tr - mean) / std, y_tr, (X_te - mean) / std, y_te)]
    return Dataset(name, task, n_classes, *frozen, _readonly(mean), _readonly(std), t_mean, t_std,
                   None if outliers is None else _readonly(outliers))


def _add_outliers(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shift ``round(fraction * n)`` random entries of ``y`` (n,) by +-(8..15); returns the new
    targets and the (n,) bool mask of the shifted ones."""
    idx = rng.choice(len(y), size=round(fraction * len(y)), replace=False)
    y = y.copy()
    y[idx] += rng.choice([-1.0, 1.0], size=len(idx)) * rng.uniform(*OUTLIER_SHIFT_RANGE, len(idx))
    mask = np.zeros(len(y), dtype=bool)
    mask[idx] = True
    return y, mask


# ---------------------------------------------------------------- public API
def load_dataset(name: str, *, n_samples: int = 500, noise: float | None = None,
                 test_fraction: float = 0.2, seed: int = 0,
                 outlier_fraction: float = 0.1) -> Dataset:
    """Generate or load a registered dataset, split it and standardize it.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    n_samples : int
        Total points (train + test), 20..20000; real sets are capped at their size.
    noise : float or None
        0..5; None means the spec's ``default_noise``. Ignored by real sets.
    test_fraction : float
        Share of points held out, 0.05..0.5 (at least one point each side).
    seed : int
        Non-negative; the same seed gives identical arrays.
    outlier_fraction : float
        0..0.5; share of *training* points made gross outliers (``outliers`` only).

    Returns
    -------
    Dataset
        ``X_train`` (n_train, d), ``y_train`` (n_train,), ``X_test`` (n_test, d),
        ``y_test`` (n_test,). Features are standardized with the training split's
        mean/std; ``diabetes`` also standardizes its target with training statistics.
    """
    spec = lookup(DATASETS, name, "dataset")
    n_samples = check_int("n_samples", n_samples, *N_SAMPLES_RANGE)
    noise = spec.default_noise if noise is None else check_number("noise", noise, *NOISE_RANGE)
    test_fraction = check_number("test_fraction", test_fraction, *TEST_FRACTION_RANGE)
    outlier_fraction = check_number("outlier_fraction", outlier_fraction, *OUTLIER_FRACTION_RANGE)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    X, y = spec.make(n_samples, noise, rng)
    parts = split_rows(np.asarray(X, np.float64), np.asarray(y), test_fraction,
                   spec.task == "classification", rng)
    outliers = None
    if spec.uses_outliers:
        parts[2], outliers = _add_outliers(parts[2], outlier_fraction, rng)
    return build_dataset(name, spec.task, spec.n_classes, parts, True, spec.standardize_target, outliers)


def dataset_from_arrays(X_train: object, y_train: object, X_test: object = None,
                        y_test: object = None, *, task: str = "classification",
                        name: str = "custom", standardize: bool = True, seed: int = 0,
                        test_fraction: float = 0.2) -> Dataset:
    """Build a :class:`Dataset` from user arrays (e.g. an uploaded CSV).

    Parameters
    ----------
    X_train, y_train : array-like, (n, d) and (n,)
        Validated with :func:`validate_xy`.
    X_test, y_test : array-like or None, (m, d) and (m,)
        Give both or neither; with neither, ``test_fraction`` of the training
        arrays is split off using ``seed``.
    task : {"classification", "regression"}
    standardize : bool
        Scale features by the training split's mean/std (std 0 -> 1).

    Returns
    -------
    Dataset
        ``n_classes`` is ``max(label) + 1`` (at least 2) for classification, 1 for regression.
    """
    X_tr, y_tr = validate_xy(X_train, y_train, task)
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    rng = np.random.default_rng(check_int("seed", seed, 0))
    if X_test is None:
        if len(y_tr) < 2:
            raise ValueError("need at least 2 rows to split into train and test")
        frac = check_number("test_fraction", test_fraction, *TEST_FRACTION_RANGE)
        parts = split_rows(X_tr, y_tr, frac, task == "classification", rng)
    else:
        X_te, y_te = validate_xy(X_test, y_test, task)
        if X_te.shape[1] != X_tr.shape[1]:
            raise ValueError(f"X_test has {X_te.shape[1]} columns but X_train has {X_tr.shape[1]}")
        parts = [X_tr, X_te, y_tr, y_te]
    n_classes = 1
    if task == "classification":
        n_classes = int(max(parts[2].max(), parts[3].max())) + 1
        if n_classes < 2:
            raise ValueError("classification needs labels from at least 2 classes (0 and 1)")
    return build_dataset(name, task, n_classes, parts, standardize, False)
