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
    assert float(e["lr"]) == 0.01 and int(e["seed"]) == 0 and float(e["huber_delta"]) == 1.0


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
    data = lossviz.load_dataset("moons", n_samples=200, noise=0.2, seed=0)
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
