"""`lossviz export`: the .npz keys, shapes and their meaning."""

import subprocess
import sys

import numpy as np
import pytest

import lossviz
from lossviz.export import main


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run.npz"
    code = main(["--epochs", "30", "--grid", "7", "--samples", "200", "--out", str(out)])
    assert code == 0
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


def test_keys_and_shapes(exported):
    e = exported
    sizes = tuple(int(s) for s in e["layer_sizes"])
    assert sizes == (2, 16, 16, 2)
    n_params = lossviz.Network(sizes).n_params
    for key in ("params_init", "params_final", "d1", "d2"):
        assert e[key].shape == (n_params,)
    assert e["trajectory"].shape[1] == n_params
    np.testing.assert_array_equal(e["trajectory"][0], e["params_init"])
    np.testing.assert_array_equal(e["trajectory"][-1], e["params_final"])
    assert e["surface"].shape == (len(e["alphas"]), len(e["betas"])) == (7, 7)
    assert str(e["task"]) == "classification" and str(e["activation"]) == "tanh"
    assert str(e["loss"]) == "cross_entropy" and str(e["optimizer"]) == "adam"
    assert float(e["lr"]) == 0.01 and int(e["seed"]) == lossviz.RunConfig().seed and float(e["huber_delta"]) == 1.0


def test_surface_is_the_data_loss_around_the_final_weights(exported):
    e = exported
    net = lossviz.Network(tuple(int(s) for s in e["layer_sizes"]), str(e["activation"]))
    for i, j in ((3, 3), (0, 6), (5, 1)):
        theta = e["params_final"] + e["alphas"][i] * e["d1"] + e["betas"][j] * e["d2"]
        out = net.forward(theta, e["X_train"])
        expected = lossviz.loss_value("cross_entropy", out, e["y_train"], "classification")
        assert e["surface"][i, j] == pytest.approx(expected, rel=1e-9)


def test_training_data_is_what_the_network_trained_on(exported):
    e = exported
    data = lossviz.load_dataset("moons", n_samples=200, noise=0.2, seed=lossviz.RunConfig().seed)  # the flags' default
    np.testing.assert_array_equal(e["X_train"], data.X_train)
    np.testing.assert_array_equal(e["y_test"], data.y_test)
    assert abs(e["X_train"].mean(axis=0)).max() < 1e-9


def test_console_script_rejects_bad_flags_with_a_message(tmp_path):
    r = subprocess.run([sys.executable, "-m", "app.main", "export", "--loss", "nope",
                        "--out", str(tmp_path / "x.npz")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "unknown loss 'nope'" in r.stderr and "cross_entropy" in r.stderr
    r = subprocess.run([sys.executable, "-m", "app.main", "export", "--grid", "2",
                        "--out", str(tmp_path / "x.npz")], capture_output=True, text=True)
    assert r.returncode == 2 and "between 3 and 201" in r.stderr


def test_pca_directions_export(tmp_path):
    out = tmp_path / "pca.npz"
    assert main(["--epochs", "20", "--grid", "5", "--samples", "100", "--directions", "pca",
                 "--out", str(out)]) == 0
    with np.load(out) as f:
        assert abs(float(f["d1"] @ f["d2"])) < 1e-9
        assert 0 < f["explained_variance"][0] <= 1


# --- every export has a center; compare mode -------------------------------------------

SINGLE_KEYS = {"layer_sizes", "activation", "loss", "huber_delta", "label_smoothing", "task", "dataset", "optimizer",
               "lr", "momentum", "l2", "l1", "batch_size", "epochs", "seed", "params_init",
               "params_final", "trajectory", "d1", "d2", "directions", "explained_variance",
               "alphas", "betas", "surface", "X_train", "y_train", "X_test", "y_test",
               "feature_mean", "feature_std", "steps", "status", "train_loss", "test_loss",
               "train_metric", "test_metric", "center"}
PER_RUN_KEYS = {"params_init", "params_final", "trajectory", "loss", "lr", "optimizer",
                "activation", "huber_delta", "label_smoothing", "momentum", "l2", "l1", "batch_size",
                "steps", "status", "train_loss", "test_loss", "train_metric", "test_metric", "surface"}


def test_single_run_keys_and_center(exported):
    assert set(exported) == SINGLE_KEYS
    np.testing.assert_array_equal(exported["center"], exported["params_final"])


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "compare.npz"
    code = main(["--epochs", "30", "--grid", "7", "--samples", "200", "--optimizer", "sgd",
                 "--lr", "0.5", "--compare", "loss=mse", "--out", str(out)])
    assert code == 0
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


def test_compare_keys(compared):
    e = compared
    assert set(e) == SINGLE_KEYS | {f"{k}_b" for k in PER_RUN_KEYS} | {"compare", "compare_value"}
    assert (str(e["compare"]), str(e["compare_value"])) == ("loss", "mse")
    assert (str(e["loss"]), str(e["loss_b"])) == ("cross_entropy", "mse")
    assert str(e["directions"]) == "compare"
    for key in ("lr", "optimizer", "activation", "huber_delta", "momentum", "l2", "l1",
                "batch_size", "steps", "status"):
        assert e[key] == e[f"{key}_b"], key  # only the loss differs
    np.testing.assert_array_equal(e["params_init_b"], e["params_init"])
    np.testing.assert_array_equal(e["center"], e["params_init"])
    np.testing.assert_array_equal(e["trajectory_b"][0], e["params_init"])
    np.testing.assert_array_equal(e["trajectory_b"][-1], e["params_final_b"])
    assert e["surface"].shape == e["surface_b"].shape == (7, 7)
    assert int(e["steps_b"]) == 30 and str(e["status_b"]) == "done"
    assert not np.array_equal(e["params_final"], e["params_final_b"])


def test_the_compare_plane_holds_both_runs(compared):
    e = compared
    d1, d2, center = e["d1"], e["d2"], e["center"]
    assert abs(d1 @ d2) < 1e-12 and abs(d1 @ d1 - 1) < 1e-12 and abs(d2 @ d2 - 1) < 1e-12
    a_move, b_move = e["params_final"] - center, e["params_final_b"] - center
    alpha_a, alpha_b, beta_b = a_move @ d1, b_move @ d1, b_move @ d2
    assert np.linalg.norm(center + alpha_a * d1 - e["params_final"]) <= 1e-9 * np.linalg.norm(a_move)
    assert np.linalg.norm(center + alpha_b * d1 + beta_b * d2 - e["params_final_b"]) \
        <= 1e-9 * np.linalg.norm(b_move)
    # The grid holds the start, both ends and both paths, with room to spare.
    for path in (e["trajectory"], e["trajectory_b"]):
        alphas, betas = (path - center) @ d1, (path - center) @ d2
        assert e["alphas"][0] < alphas.min() and alphas.max() < e["alphas"][-1]
        assert e["betas"][0] < betas.min() and betas.max() < e["betas"][-1]
    assert e["alphas"][0] < 0 < e["alphas"][-1] and e["betas"][0] < 0 < e["betas"][-1]


def naive_loss(theta, X, y, sizes, loss):
    """A forward pass written out layer by layer (tanh hidden layers), then the loss by hand."""
    a, start = X, 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = theta[start:start + fan_in * fan_out].reshape(fan_out, fan_in)
        b = theta[start + fan_in * fan_out:start + fan_in * fan_out + fan_out]
        start += fan_in * fan_out + fan_out
        a = a @ W.T + b
        if i < len(sizes) - 2:
            a = np.tanh(a)
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if loss == "cross_entropy":
        return float(-np.mean(np.log(p[np.arange(len(y)), y])))
    return float(np.mean((p - np.eye(sizes[-1])[y]) ** 2))


def test_compare_surfaces_are_each_runs_data_loss_on_the_plane(compared):
    e = compared
    sizes = tuple(int(s) for s in e["layer_sizes"])
    y = e["y_train"].astype(int)
    for i, j in ((3, 3), (0, 6), (5, 1)):
        theta = e["center"] + e["alphas"][i] * e["d1"] + e["betas"][j] * e["d2"]
        assert e["surface"][i, j] == pytest.approx(
            naive_loss(theta, e["X_train"], y, sizes, "cross_entropy"), rel=1e-9)
        assert e["surface_b"][i, j] == pytest.approx(
            naive_loss(theta, e["X_train"], y, sizes, "mse"), rel=1e-9)


def test_compare_round_trip_agrees_with_compute_compare_export(compared):
    from lossviz.export import compute_compare_export
    config = lossviz.RunConfig(dataset="moons", n_samples=200, noise=0.2, epochs=30,
                               optimizer="sgd", lr=0.5)
    direct = compute_compare_export(config, "loss", "mse", grid=7)
    for key in ("params_final_b", "surface_b", "alphas", "betas", "d2"):
        np.testing.assert_array_equal(direct[key], compared[key])


def test_identical_runs_fall_back_to_a_random_plane(tmp_path):
    out = tmp_path / "same.npz"
    assert main(["--epochs", "5", "--grid", "5", "--samples", "100", "--compare", "l2=0",
                 "--out", str(out)]) == 0
    with np.load(out) as e:
        assert str(e["directions"]) == "random"
        np.testing.assert_array_equal(e["params_final"], e["params_final_b"])
        np.testing.assert_array_equal(e["surface"], e["surface_b"])
        assert abs(e["d1"] @ e["d2"]) < 1e-12


def test_a_diverged_run_b_is_exported_with_its_status(tmp_path):
    out = tmp_path / "diverged.npz"
    assert main(["--dataset", "sine", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1",
                 "--epochs", "40", "--grid", "5", "--samples", "100", "--compare", "lr=100",
                 "--out", str(out)]) == 0
    with np.load(out) as e:
        assert (str(e["status"]), int(e["steps"])) == ("done", 40)
        assert str(e["status_b"]) == "diverged" and int(e["steps_b"]) < 40
        assert str(e["compare"]) == "lr" and float(e["compare_value"]) == 100.0


@pytest.mark.parametrize("flags,message", [
    (["--compare", "hidden=8"], "networks of other widths have other parameters"),
    (["--compare", "dataset=circles"], "FIELD one of loss, lr, optimizer"),
    (["--compare", "lr"], "FIELD=VALUE"),
    (["--compare", "lr=fast"], "'fast' is not a number"),
    (["--compare", "batch-size=1.5"], "'1.5' is not a whole number"),
    (["--compare", "lr=0.5", "--range", "2"], "--range and --directions do not apply"),
    (["--compare", "lr=0.5", "--directions", "pca"], "--range and --directions do not apply"),
    (["--dataset", "sine", "--loss", "mse", "--compare", "loss=cross_entropy"],
     "not defined for regression"),
])
def test_compare_flag_refuses_with_a_message(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--epochs", "2", "--samples", "60", *flags, "--out", str(tmp_path / "x.npz")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_batch_size_compare_maps_the_dashed_flag(tmp_path):
    out = tmp_path / "batch.npz"
    assert main(["--epochs", "2", "--grid", "3", "--samples", "100", "--compare",
                 "batch-size=16", "--out", str(out)]) == 0
    with np.load(out) as e:
        assert str(e["compare"]) == "batch_size" and str(e["compare_value"]) == "16"
        assert (int(e["batch_size"]), int(e["batch_size_b"])) == (0, 16)
        assert (int(e["steps"]), int(e["steps_b"])) == (2, 10)
