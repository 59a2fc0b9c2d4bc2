"""Tests for lossviz.datasets, parametrized over the registry."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossviz.datasets import (
    DATASETS,
    Dataset,
    dataset_from_arrays,
    dataset_names,
    load_dataset,
    validate_xy,
)

ALL = list(DATASETS)
SYNTHETIC = [n for n, s in DATASETS.items() if s.uses_noise]
REAL = [n for n, s in DATASETS.items() if not s.uses_noise]
CLASSIFICATION = dataset_names("classification")
REAL_SIZES = {"iris": 150, "digits": 1797, "breast_cancer": 569, "diabetes": 442}


def _arrays(d: Dataset) -> list[np.ndarray]:
    return [d.X_train, d.y_train, d.X_test, d.y_test]


def test_registry_names_in_spec_order():
    expected = ("moons circles xor blobs spirals spirals3 iris digits breast_cancer "
                "sine outliers diabetes").split()
    assert dataset_names() == expected
    assert dataset_names("regression") == ["sine", "outliers", "diabetes"]
    assert set(dataset_names("classification")) | {"sine", "outliers", "diabetes"} == set(expected)
    assert set(REAL) == set(REAL_SIZES)


@pytest.mark.parametrize("name", ALL)
def test_spec_is_complete(name):
    spec = DATASETS[name]
    assert spec.name == name and spec.label and spec.description
    assert spec.task in ("classification", "regression")
    assert (spec.n_classes == 1) == (spec.task == "regression")
    assert spec.uses_outliers == (name == "outliers")
    assert spec.default_noise > 0 if spec.uses_noise else spec.default_noise == 0


@pytest.mark.parametrize("name", ALL)
def test_shapes_dtypes_and_task(name):
    spec, d = DATASETS[name], load_dataset(name, n_samples=200)
    assert d.name == name and d.task == spec.task and d.n_classes == spec.n_classes
    assert d.is_classification == (spec.task == "classification")
    assert d.X_train.ndim == 2 and d.X_train.shape[1] == spec.n_features == d.n_features
    assert d.X_test.shape[1] == spec.n_features
    assert d.y_train.shape == (len(d.X_train),) and d.y_test.shape == (len(d.X_test),)
    assert d.X_train.dtype == d.X_test.dtype == np.float64
    y_dtype = np.int64 if d.is_classification else np.float64
    assert d.y_train.dtype == d.y_test.dtype == y_dtype
    assert d.feature_mean.shape == d.feature_std.shape == (spec.n_features,)
    assert all(np.isfinite(a).all() for a in _arrays(d))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_class_labels_cover_all_classes(name):
    d = load_dataset(name)
    k = DATASETS[name].n_classes
    assert np.array_equal(np.unique(d.y_train), np.arange(k))
    assert d.y_test.min() >= 0 and d.y_test.max() < k


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_identical_arrays(name):
    a, b = load_dataset(name, seed=7), load_dataset(name, seed=7)
    for x, y in zip(_arrays(a), _arrays(b)):
        np.testing.assert_array_equal(x, y)


def _raw_points(d: Dataset) -> np.ndarray:
    """All points in original units, sorted: blind to how they were split."""
    X = np.concatenate([d.X_train, d.X_test]) * d.feature_std + d.feature_mean
    return np.sort(X, axis=0)


@pytest.mark.parametrize("name", ALL)
def test_different_seed_gives_different_split(name):
    a, b = load_dataset(name, seed=1), load_dataset(name, seed=2)
    assert not np.array_equal(a.X_train, b.X_train)


@pytest.mark.parametrize("name", ALL)
def test_different_seed_draws_different_points(name):
    # synthetic sets draw new points; real sets pick a different subsample
    a, b = load_dataset(name, n_samples=60, seed=1), load_dataset(name, n_samples=60, seed=2)
    assert not np.allclose(_raw_points(a), _raw_points(b))


@pytest.mark.parametrize("name", ["moons", "digits", "outliers"])
def test_global_numpy_seed_has_no_effect(name):
    np.random.seed(1)
    a = load_dataset(name)
    np.random.seed(2)
    b = load_dataset(name)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    np.testing.assert_array_equal(a.X_test, b.X_test)


@pytest.mark.parametrize("name", ALL)
def test_train_features_standardized(name):
    d = load_dataset(name)
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-9)
    std = d.X_train.std(axis=0)
    # constant columns (blank pixels in digits) stay constant: std 0, scaled by 1
    assert np.all(np.isclose(std, 1.0) | (std < 1e-12))
    raw = d.X_test * d.feature_std + d.feature_mean  # test uses the train statistics
    assert not np.allclose(raw, d.X_test)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_n_samples_respected_for_synthetic_sets(name):
    d = load_dataset(name, n_samples=138, test_fraction=0.2)
    assert len(d.y_train) + len(d.y_test) == 138
    assert len(d.y_test) == 28  # 0.2 * 138 = 27.6, rounded


@pytest.mark.parametrize("name", REAL)
def test_real_sets_capped_and_subsampled(name):
    full = load_dataset(name, n_samples=20000)
    assert len(full.y_train) + len(full.y_test) == REAL_SIZES[name]
    small = load_dataset(name, n_samples=60)
    assert len(small.y_train) + len(small.y_test) == 60


@pytest.mark.parametrize("name", SYNTHETIC)
def test_noise_none_means_default_and_noise_matters(name):
    default = load_dataset(name, noise=None)
    explicit = load_dataset(name, noise=DATASETS[name].default_noise)
    np.testing.assert_array_equal(default.X_train, explicit.X_train)
    np.testing.assert_array_equal(default.y_train, explicit.y_train)
    other = load_dataset(name, noise=2.0 * DATASETS[name].default_noise)
    same_x = np.array_equal(other.X_train, explicit.X_train)
    assert not (same_x and np.array_equal(other.y_train, explicit.y_train))


@pytest.mark.parametrize("name", REAL)
def test_noise_ignored_for_real_sets(name):
    a, b = load_dataset(name, noise=0.0), load_dataset(name, noise=3.0)
    np.testing.assert_array_equal(a.X_train, b.X_train)


def test_stratified_split_keeps_class_balance():
    d = load_dataset("moons", n_samples=100, test_fraction=0.2)
    assert np.bincount(d.y_test).tolist() == [10, 10]


def _line_residuals(d: Dataset, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = X[:, 0] * d.feature_std[0] + d.feature_mean[0]
    return np.abs(y - (2.0 * x + 1.0))


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.3])
def test_outliers_only_in_training_split(fraction):
    d = load_dataset("outliers", n_samples=1000, outlier_fraction=fraction)
    train_out = _line_residuals(d, d.X_train, d.y_train) > 5.0
    assert train_out.sum() == round(fraction * len(d.y_train))
    assert not (_line_residuals(d, d.X_test, d.y_test) > 5.0).any()
    inliers = _line_residuals(d, d.X_train, d.y_train)[~train_out]
    assert inliers.max() < 1.0  # the clean points follow y = 2x + 1


def test_outlier_fraction_ignored_elsewhere():
    a, b = load_dataset("sine", outlier_fraction=0.0), load_dataset("sine", outlier_fraction=0.5)
    np.testing.assert_array_equal(a.y_train, b.y_train)


def test_diabetes_target_standardized_with_train_statistics():
    d = load_dataset("diabetes")
    assert d.y_train.mean() == pytest.approx(0.0, abs=1e-9)
    assert d.y_train.std() == pytest.approx(1.0)
    assert d.target_std > 10  # raw progression scores spread over tens to hundreds
    original = d.y_test * d.target_std + d.target_mean
    assert 20 < original.min() and original.max() < 400


def test_other_sets_keep_raw_targets():
    d = load_dataset("sine")
    assert (d.target_mean, d.target_std) == (0.0, 1.0)
    x = d.X_train[:, 0] * d.feature_std[0] + d.feature_mean[0]
    assert np.abs(d.y_train - np.sin(x)).max() < 0.6


def test_arrays_are_read_only():
    d = load_dataset("moons")
    with pytest.raises(ValueError):
        d.X_train[0, 0] = 1.0


def test_unknown_dataset_message_lists_names():
    with pytest.raises(ValueError, match="unknown dataset 'foo'; choose one of: moons, circles"):
        load_dataset("foo")


@pytest.mark.parametrize("kwargs, word", [
    ({"n_samples": 10}, "n_samples"), ({"n_samples": 30000}, "n_samples"),
    ({"n_samples": 100.0}, "n_samples"), ({"test_fraction": 0.01}, "test_fraction"),
    ({"test_fraction": 0.6}, "test_fraction"), ({"noise": -0.1}, "noise"),
    ({"noise": 6.0}, "noise"), ({"noise": float("nan")}, "noise"),
    ({"noise": float("inf")}, "noise"), ({"outlier_fraction": -0.1}, "outlier_fraction"),
    ({"outlier_fraction": 0.6}, "outlier_fraction"), ({"seed": 1.5}, "seed"),
    ({"seed": "3"}, "seed"), ({"seed": True}, "seed"), ({"seed": -1}, "seed"),
])
def test_invalid_arguments_rejected(kwargs, word):
    with pytest.raises(ValueError, match=word):
        load_dataset("moons", **kwargs)


def test_n_samples_range_named_in_message():
    with pytest.raises(ValueError, match="20..20000"):
        load_dataset("moons", n_samples=10)


def test_range_edges_accepted():
    d = load_dataset("digits", n_samples=20, test_fraction=0.5, seed=np.int64(3))
    assert len(d.y_train) == len(d.y_test) == 10


def test_dataset_names_rejects_unknown_task():
    with pytest.raises(ValueError, match="classification, regression"):
        dataset_names("clustering")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_validate_xy_rejects_non_finite_x(bad):
    X = np.ones((5, 2))
    X[2, 1] = bad
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        validate_xy(X, np.zeros(5, dtype=int), "classification")


@pytest.mark.parametrize("X, y, task, k, word", [
    (np.ones(5), np.zeros(5), "regression", None, "2-D"),
    (np.ones((5, 2)), np.zeros(4), "regression", None, "one value per row"),
    (np.ones((3, 2)), [0, 1, 2], "classification", 2, "0..1"),
    (np.ones((3, 2)), [0, -1, 1], "classification", None, "0..K-1"),
    (np.ones((3, 2)), [0, 0.5, 1], "classification", None, "integers"),
    (np.ones((3, 2)), [0.0, np.nan, 1.0], "regression", None, "y contains NaN"),
    (np.ones((3, 2)), [0, 1, 0], "clustering", None, "unknown task"),
    ([["a", "b"]], [0], "regression", None, "X must contain only numbers"),
])
def test_validate_xy_rejects_bad_arrays(X, y, task, k, word):
    with pytest.raises(ValueError, match=word):
        validate_xy(X, y, task, k)


def test_validate_xy_converts_types():
    X, y = validate_xy([[1, 2], [3, 4]], [1.0, 0.0], "classification", 2)
    assert X.dtype == np.float64 and y.dtype == np.int64 and y.tolist() == [1, 0]


def test_dataset_from_arrays_splits_and_standardizes():
    rng = np.random.default_rng(0)
    X, y = rng.normal(3.0, 5.0, size=(50, 3)), np.repeat([0, 1, 2, 1, 0], 10)
    d = dataset_from_arrays(X, y, task="classification", test_fraction=0.2, seed=1)
    assert d.n_classes == 3 and len(d.y_train) == 40 and len(d.y_test) == 10
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-9)
    same = dataset_from_arrays(X, y, task="classification", test_fraction=0.2, seed=1)
    np.testing.assert_array_equal(d.X_test, same.X_test)


def test_dataset_from_arrays_with_test_split_and_no_scaling():
    X_tr, X_te = np.arange(8.0).reshape(4, 2), np.ones((2, 2))
    d = dataset_from_arrays(X_tr, [1.0, 2, 3, 4], X_te, [0.5, 0.5], task="regression",
                            standardize=False, name="upload")
    np.testing.assert_array_equal(d.X_train, X_tr)
    assert d.name == "upload" and d.n_classes == 1 and d.y_test.dtype == np.float64


@pytest.mark.parametrize("kwargs, word", [
    ({"X_train": [[np.nan, 1.0]] * 4}, "NaN"),
    ({"X_test": np.ones((2, 3)), "y_test": [0, 1]}, "columns"),
    ({"X_test": np.ones((2, 2))}, "both"),
    ({"y_train": [0, 0, 0, 0]}, "at least 2 classes"),
])
def test_dataset_from_arrays_rejects_bad_input(kwargs, word):
    args = {"X_train": np.ones((4, 2)), "y_train": [0, 1, 0, 1]} | kwargs
    with pytest.raises(ValueError, match=word):
        dataset_from_arrays(**args, task="classification")


def test_module_imports_no_ui_libraries():
    code = ("import sys, lossviz.datasets; "
            "bad = {'dash', 'plotly', 'flask'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_the_outliers_dataset_says_which_training_points_it_moved():
    d = load_dataset("outliers", n_samples=200, outlier_fraction=0.1, seed=3)
    mask = d.outlier_mask
    assert mask.shape == d.y_train.shape and mask.dtype == bool and mask.sum() == round(0.1 * len(d.y_train))
    clean = load_dataset("outliers", n_samples=200, outlier_fraction=0.0, seed=3)
    moved = np.abs(d.y_train - clean.y_train) > 1e-9
    np.testing.assert_array_equal(moved, mask)  # exactly the points that moved
    assert not load_dataset("moons").outlier_mask.any()
