"""The landscape's planes: random (filter-, layer-, un-normalized), the path's PCA plane, the
Hessian's top two eigenvectors, init → now; each path point's distance from the plane."""
from __future__ import annotations

import numpy as np
import pytest

import lossviz
from app.page import ids
from app.runs.run import RunView, advance_run, new_run
from app.views.compute import PLANES, landscape, off_plane
from dash_client import app, draw, page, started_run, follow, updates  # noqa: F401


@pytest.fixture(scope="module")
def run():
    state = new_run(lossviz.RunConfig(n_samples=200, epochs=60, lr=0.05))
    advance_run(state, 60)
    return RunView.of_state(state)


def test_hessian_plane_is_the_top_two_eigenvectors(run):
    view = landscape(run, 11, 1.0, "hessian")
    kw = dict(layer_sizes=run.net.layer_sizes, activation=run.config.activation, loss=run.config.loss)
    values = lossviz.hessian_eigs(run.params, run.data.X_train, run.data.y_train, k=2, **kw)[0]
    for d, lam in ((view["d1"], values[0]), (view["d2"], values[1])):
        hd = lossviz.hvp(run.params, d, run.data.X_train, run.data.y_train, **kw)
        assert np.linalg.norm(d) == pytest.approx(1.0) and np.linalg.norm(hd - lam * d) < 1e-4 * abs(values[0])
    assert view["mode"] == "hessian" and "λ1" in view["note"]


def test_init_to_now_plane_puts_the_start_at_minus_one(run):
    view = landscape(run, 11, 1.0, "init_final")
    assert view["path"][0] == pytest.approx([-1.0, 0.0], abs=1e-9) and view["path"][-1] == pytest.approx([0, 0])
    assert abs(view["d1"] @ view["d2"]) < 1e-9 * (view["d1"] @ view["d1"])
    assert view["alphas"][0] < -1.0 < 0.0 < view["alphas"][-1]
    assert view["offplane"][0] == pytest.approx(0.0, abs=1e-9)  # the start lies on this plane


@pytest.mark.parametrize("norm", ["filter", "layer", "none"])
def test_random_planes_by_normalization(run, norm):
    view = landscape(run, 11, 1.0, "random", norm=norm)
    d1, _ = lossviz.random_directions(run.params, run.net, run.config.seed, norm)
    np.testing.assert_array_equal(view["d1"], d1)
    assert view["z"].shape == (11, 11) and np.isfinite(view["z"]).all()


def test_off_plane_is_the_distance_to_the_plane(run):
    view = landscape(run, 11, 1.0, "pca")
    traj, c, d1, d2 = run.trajectory, view["center"], view["d1"], view["d2"]
    basis = np.column_stack([d1, d2])
    coef, *_ = np.linalg.lstsq(basis, (traj - c).T, rcond=None)
    want = np.linalg.norm((traj - c).T - basis @ coef, axis=0)
    np.testing.assert_allclose(view["offplane"], want, atol=1e-9)
    dist, rel = off_plane(traj, c, d1, d2, view["path"])
    assert (rel >= 0).all() and (rel <= 1 + 1e-9).all()


def test_every_plane_draws_over_http(page):
    run, cursor, _ = started_run(page, speed="fast")
    follow(page, run, cursor)
    run = dict(run, running=False)
    for plane in PLANES:
        status, data = draw(page, run, directions=plane)
        assert status == 200
        out = updates(data)
        fig = out[ids.GRAPH_CONTOUR]["figure"]
        assert fig["data"][0]["type"] == "contour" and "off this plane" in fig["data"][1]["hovertemplate"]
        assert out[ids.VIEW_ERROR]["children"] == ""
