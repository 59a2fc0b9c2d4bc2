"""From arrays to a :class:`Dataset`: the train/test split every run trains on.

User arrays are checked once here (:func:`validate_xy`); rows are split with a seeded shuffle,
stratified by class where it can be (:func:`split_rows`); features (and, when asked, a regression
target) are standardized by training statistics and the arrays frozen (:func:`build_dataset`).
The registry's sets (lossviz.datasets), uploaded tables (lossviz.tabular) and
:func:`dataset_from_arrays` all end here.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.model_selection import train_test_split

from .checks import finite_real, short
from .generators import sk_seed
from .ranges import FIELD_RANGES

Task = Literal["classification", "regression"]
TASKS: tuple[str, ...] = ("classification", "regression")
TEST_FRACTION_RANGE = (FIELD_RANGES["test_fraction"].lo, FIELD_RANGES["test_fraction"].hi)


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
    return train_test_split(X, y, test_size=n_test, random_state=sk_seed(rng),
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


# ---------------------------------------------------------------- user arrays
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
