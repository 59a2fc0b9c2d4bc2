"""Datasets: one registry of toy and real problems, split and standardized.

Add a dataset by adding one entry to :data:`DATASETS`; dropdowns, URL values, error
messages and the tests are all built from that dict. Randomness comes only from
``np.random.default_rng(seed)``; sklearn generators get integer seeds drawn from it.

The generators behind the entries live in ``lossviz.generators``; the :class:`Dataset` they
become, the checks of user arrays and the split in ``lossviz.split`` (whose public names are
importable from here too).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .generators import Maker, add_outliers, blobs, circles, line, moons, real_maker, sine, spiral_maker, xor
from .ranges import FIELD_RANGES
from .registry import lookup
from .split import (TASKS, TEST_FRACTION_RANGE, Dataset, Task, build_dataset, check_int,  # noqa: F401
                    check_number, dataset_from_arrays, split_rows, validate_xy)

N_SAMPLES_RANGE, NOISE_RANGE, OUTLIER_FRACTION_RANGE = (
    (FIELD_RANGES[f].lo, FIELD_RANGES[f].hi) for f in ("n_samples", "noise", "outlier_fraction"))


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
          2, 2, 0.2, moons),
    _spec("circles", _C, "Circles", "A ring around a disc; the boundary must close on itself.",
          2, 2, 0.1, circles),
    _spec("xor", _C, "XOR quadrants", "Points coloured by the sign of x times y; no single "
          "straight line separates them.", 2, 2, 0.1, xor),
    _spec("blobs", _C, "Three blobs", "Three round clusters; nearly separable by straight "
          "lines, noise widens them.", 2, 3, 1.0, blobs),
    _spec("spirals", _C, "Two spirals", "Two interleaved spiral arms; hard for small networks.",
          2, 2, 0.2, spiral_maker(2)),
    _spec("spirals3", _C, "Three spirals", "Three interleaved spiral arms, one class each.",
          2, 3, 0.2, spiral_maker(3)),
    _spec("iris", _C, "Iris flowers", "150 real iris flowers: 4 measurements, 3 species.",
          4, 3, None, real_maker("load_iris")),
    _spec("digits", _C, "Handwritten digits", "Real 8x8 pixel images of the digits 0-9: "
          "64 inputs, 10 classes.", 64, 10, None, real_maker("load_digits")),
    _spec("breast_cancer", _C, "Breast cancer", "569 real tumours, 30 measurements each: "
          "benign or malignant.", 30, 2, None, real_maker("load_breast_cancer")),
    _spec("sine", _R, "Sine wave", "Fit the curve y = sin(x) from noisy points on [-3, 3].",
          1, 1, 0.1, sine),
    _spec("outliers", _R, "Line with outliers", "A straight line where some training points are "
          "far off; compare squared error with robust losses.", 1, 1, 0.1, line, outliers=True),
    _spec("diabetes", _R, "Diabetes progression", "442 real patients, 10 measurements: predict "
          "disease progression (target rescaled to mean 0, std 1).", 10, 1, None,
          real_maker("load_diabetes"), standardize_target=True),
]}


def dataset_names(task: str | None = None) -> list[str]:
    """Registry names in display order, optionally only those of one ``task``."""
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return [n for n, s in DATASETS.items() if task is None or s.task == task]


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
        parts[2], outliers = add_outliers(parts[2], outlier_fraction, rng)
    return build_dataset(name, spec.task, spec.n_classes, parts, True, spec.standardize_target, outliers)
