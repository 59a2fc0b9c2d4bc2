"""Tests for app.views.compute: the landscape plane through a run's weights and the data views."""
import numpy as np
import pytest

import lossviz
from app.runs.run import RunView, advance_run, new_run
from app.views.compute import data_view, landscape
from lossviz import RunConfig

MOONS = RunConfig(dataset="moons", n_samples=120, hidden=(6, 5), epochs=40)


def loss_at(tr, params):
    """The data loss on the training split at ``params``, from the engine's own pieces."""
    c, d = tr.config, tr.data
    out = tr.net.forward(params, d.X_train)
    return float(tr.loss.value(out, d.y_train, d.task, c.loss_hyper))


def softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def trained():
    state = new_run(MOONS)
    advance_run(state, 25)
    return state


# --- landscape ------------------------------------------------------------------------------

@pytest.mark.parametrize("config, steps", [
    (MOONS, 0),
    (MOONS, 15),
    (MOONS.replace(l2=0.1, loss="mse"), 10),  # the surface is the data loss, like train_loss
    (RunConfig(dataset="sine", loss="huber", n_samples=100, hidden=(8,), epochs=20), 12),
])
def test_center_of_the_plane_is_the_current_train_loss(config, steps):
    state = new_run(config)
    advance_run(state, steps)
    view = landscape(RunView.of_state(state), grid=5, span=1.0)
    assert view["alphas"][2] == 0 and view["betas"][2] == 0
    train_loss = state.trainer.evaluate().train_loss
    np.testing.assert_allclose(view["z"][2, 2], train_loss, rtol=1e-5)
    np.testing.assert_allclose(view["path_loss"][-1], train_loss, rtol=1e-5)
    assert state.history["train_loss"][-1] == pytest.approx(train_loss, rel=1e-12)


def test_random_plane_shapes_and_axes(trained):
    view = landscape(RunView.of_state(trained), grid=7, span=0.5)
    np.testing.assert_allclose(view["alphas"], np.linspace(-0.5, 0.5, 7))
    np.testing.assert_allclose(view["betas"], np.linspace(-0.5, 0.5, 7))
    assert view["z"].shape == (7, 7)
    assert np.all(np.isfinite(view["z"]))
    t = len(trained.trainer.trajectory)
    assert view["path"].shape == (t, 2) and view["path_loss"].shape == (t,)
    assert view["mode"] == "random" and np.all(np.isnan(view["explained"]))


def test_random_plane_z_is_indexed_alpha_then_beta(trained):
    tr = trained.trainer
    view = landscape(RunView.of_state(trained), grid=5, span=1.0)
    d1, d2 = lossviz.random_directions(tr.params, tr.net, tr.config.seed, "filter")
    for i, j in ((0, 4), (4, 0), (1, 3)):
        a, b = view["alphas"][i], view["betas"][j]
        expected = loss_at(tr, tr.params + a * d1 + b * d2)
        np.testing.assert_allclose(view["z"][i, j], expected, rtol=1e-5)


def test_random_path_ends_at_the_origin(trained):
    path = landscape(RunView.of_state(trained), grid=5, span=1.0)["path"]
    np.testing.assert_allclose(path[-1], [0.0, 0.0], atol=1e-9)
    assert np.ptp(path, axis=0).max() > 0  # the earlier rows are elsewhere


def test_landscape_does_not_move_the_weights(trained):
    before = trained.trainer.params.copy()
    traj = trained.trainer.trajectory.copy()
    landscape(RunView.of_state(trained), grid=5, span=1.0)
    landscape(RunView.of_state(trained), grid=5, span=1.0, mode="pca")
    np.testing.assert_array_equal(trained.trainer.params, before)
    np.testing.assert_array_equal(trained.trainer.trajectory, traj)


def test_landscape_is_reproducible(trained):
    a = landscape(RunView.of_state(trained), grid=5, span=1.0)
    b = landscape(RunView.of_state(trained), grid=5, span=1.0)
    np.testing.assert_array_equal(a["z"], b["z"])
    np.testing.assert_array_equal(a["path"], b["path"])


def test_pca_plane_holds_the_whole_path(trained):
    view = landscape(RunView.of_state(trained), grid=9, span=1.0, mode="pca")
    path, al, be = view["path"], view["alphas"], view["betas"]
    assert view["mode"] == "pca" and view["z"].shape == (9, 9)
    assert len(al) == len(be) == 9
    assert np.all(np.diff(al) > 0) and np.all(np.diff(be) > 0)
    assert al[0] < path[:, 0].min() and path[:, 0].max() < al[-1]
    assert be[0] < path[:, 1].min() and path[:, 1].max() < be[-1]
    np.testing.assert_allclose(path[-1], [0.0, 0.0], atol=1e-9)
    e = view["explained"]
    assert np.all((0 <= e) & (e <= 1 + 1e-12)) and e[0] >= e[1] and e.sum() <= 1 + 1e-9


def test_pca_path_loss_matches_the_losses_along_the_path(trained):
    tr = trained.trainer
    view = landscape(RunView.of_state(trained), grid=5, span=1.0, mode="pca")
    d1, d2, _ = lossviz.pca_directions(tr.trajectory)
    for k in (0, len(view["path"]) // 2):
        a, b = view["path"][k]
        np.testing.assert_allclose(view["path_loss"][k], loss_at(tr, tr.params + a * d1 + b * d2), rtol=1e-5)


# --- data views -----------------------------------------------------------------------------

def _view(config, steps=5):
    state = new_run(config)
    advance_run(state, steps)
    return state, data_view(RunView.of_state(state))


def test_moons_regions_are_probabilities_over_the_data():
    state, v = _view(MOONS)
    tr = state.trainer
    assert v["kind"] == "regions" and v["k"] == 2
    xx, yy, prob = v["xx"], v["yy"], v["prob"]
    assert prob.shape == (len(yy), len(xx), 2)
    np.testing.assert_allclose(prob.sum(axis=-1), 1.0, rtol=1e-9)
    X = np.vstack([tr.data.X_train, tr.data.X_test])
    assert xx[0] <= X[:, 0].min() and X[:, 0].max() <= xx[-1]
    assert yy[0] <= X[:, 1].min() and X[:, 1].max() <= yy[-1]
    # Rows are y, columns x: the cell (row 5, column 3) is the point (xx[3], yy[5]).
    point = np.array([[xx[3], yy[5]]])
    np.testing.assert_allclose(prob[5, 3], softmax(tr.net.forward(tr.params, point))[0], rtol=1e-9)
    np.testing.assert_array_equal(v["points"]["X_train"], tr.data.X_train)


def test_three_class_regions():
    _, v = _view(RunConfig(dataset="blobs", n_samples=90, hidden=(5,), epochs=5))
    assert v["kind"] == "regions" and v["prob"].shape[-1] == 3 == v["k"]


def test_iris_is_a_projected_view_with_predictions():
    state, v = _view(RunConfig(dataset="iris", n_samples=150, hidden=(6,), epochs=10))
    tr = state.trainer
    assert v["kind"] == "projected" and v["k"] == 3
    pts = v["points"]
    assert pts["X_train"].shape == (len(tr.data.y_train), 2)
    assert pts["X_test"].shape == (len(tr.data.y_test), 2)
    np.testing.assert_array_equal(v["pred_train"], tr.net.forward(tr.params, tr.data.X_train).argmax(-1))
    np.testing.assert_array_equal(v["pred_test"], tr.net.forward(tr.params, tr.data.X_test).argmax(-1))
    # The first axis is the direction of most spread: its variance is the largest.
    var = pts["X_train"].var(axis=0)
    assert var[0] >= var[1]
    total = tr.data.X_train.var(axis=0).sum()
    assert var.sum() <= total + 1e-9


def test_sine_is_a_curve_over_the_points():
    state, v = _view(RunConfig(dataset="sine", loss="mse", n_samples=100, hidden=(8,), epochs=10))
    tr = state.trainer
    assert v["kind"] == "curve"
    x = v["x_line"]
    assert x.ndim == 1 and np.all(np.diff(x) > 0)
    allx = np.concatenate([tr.data.X_train[:, 0], tr.data.X_test[:, 0]])
    assert x[0] <= allx.min() and allx.max() <= x[-1]
    np.testing.assert_allclose(v["y_line"], tr.net.forward(tr.params, x[:, None])[:, 0], rtol=1e-12)


def test_diabetes_is_predicted_against_actual():
    state, v = _view(RunConfig(dataset="diabetes", loss="mse", hidden=(8,), epochs=10))
    tr = state.trainer
    assert v["kind"] == "scatter"
    np.testing.assert_allclose(v["pred_train"], tr.net.forward(tr.params, tr.data.X_train)[:, 0])
    assert v["pred_test"].shape == tr.data.y_test.shape


def test_diverged_run_still_gives_finite_views():
    state = new_run(RunConfig(dataset="sine", loss="mse", optimizer="sgd", lr=100.0,
                              n_samples=100, epochs=50))
    advance_run(state, 50)
    assert state.trainer.status == "diverged"
    v = data_view(RunView.of_state(state))
    assert np.all(np.isfinite(v["y_line"]))


def test_live_budget_keeps_small_problems_whole_and_bounds_big_ones():
    from app.views.compute import SURFACE_BUDGET_MACS, live_budget

    assert live_budget((2, 16, 16, 2), 400, 41) == (400, 41)
    n, g = live_budget((64, 512, 512, 512, 512, 10), 16000, 101)
    per_point = 65 * 512 + 3 * 513 * 512 + 513 * 10
    assert n < 16000 and g < 101
    assert g * g * n * per_point <= SURFACE_BUDGET_MACS or (n, g) == (256, 11)


def test_big_network_landscape_says_it_used_a_subsample():
    from app.views.drawing import _landscape_note
    from app.runs.run import new_run
    from app.views.compute import landscape

    state = new_run(RunConfig(dataset="moons", hidden=(64, 64, 64, 64), n_samples=20000, epochs=1))
    view = landscape(RunView.of_state(state), 41, 1.0)
    assert view["n_points"] < view["n_train"] == state.trainer.data.X_train.shape[0]
    assert view["z"].shape == (view["grid"], view["grid"])
    assert "training points" in _landscape_note(RunView.of_state(state), view, 1.0)


def test_surface_of_a_yardstick_or_accuracy_on_the_same_plane(trained):
    view = RunView.of_state(trained)
    own = landscape(view, grid=5, span=1.0)
    mse = landscape(view, grid=5, span=1.0, of="mse")
    acc = landscape(view, grid=5, span=1.0, of="metric")
    np.testing.assert_array_equal(own["d1"], mse["d1"])  # one plane, one set of weights
    assert not np.allclose(own["z"], mse["z"]) and mse["z_label"] == "MSE" and own["z_label"] == "loss"
    np.testing.assert_array_equal(acc["z"], own["metric"])
    assert acc["z_label"] == "accuracy" and 0 <= acc["z"].min() and acc["z"].max() <= 1
    # the yardstick is the engine's own surface of that loss
    tr = trained.trainer
    z = lossviz.surface(view.params, own["d1"], own["d2"], own["alphas"], own["betas"], tr.data.X_train,
                        tr.data.y_train, layer_sizes=tr.net.layer_sizes, activation=tr.config.activation,
                        loss="mse")
    np.testing.assert_allclose(mse["z"], z, rtol=1e-5)


@pytest.mark.parametrize("plane", ["compare", "random", "pca"])
def test_compare_landscape_planes_pass_through_the_common_start(plane):
    from app.runs.run import state_of
    from app.views.compute import compare_landscape

    exp = lossviz.Experiment(RunConfig(dataset="moons", n_samples=200, hidden=(8,), optimizer="sgd", lr=0.5,
                                       epochs=40), "loss", "mse", trajectory_bytes=2 ** 20)
    states = [state_of(t) for t in exp.runs]
    for s in states:
        advance_run(s, 25)
    runs = [RunView.of_state(s) for s in states]
    view = compare_landscape(runs, 9, plane=plane)
    assert view["kind"] == {"compare": "compare", "random": "random-chosen", "pca": "pca"}[plane]
    for path in view["paths"]:
        np.testing.assert_allclose(path[0], [0.0, 0.0], atol=1e-9)  # one start, at the origin
    a, b = view["alphas"], view["betas"]
    for path in view["paths"]:  # the grid holds both paths
        assert a[0] <= path[:, 0].min() and path[:, 0].max() <= a[-1]
        assert b[0] <= path[:, 1].min() and path[:, 1].max() <= b[-1]
    if plane == "pca":
        assert 0.5 < view["explained"].sum() <= 1.0 + 1e-12
        assert abs(view["d1"] @ view["d2"]) < 1e-9
    assert view["z"].shape == (2, len(a), len(b)) and np.isfinite(view["z"]).all()


# --- framing a comparison on what can be seen (issue 20) ---------------------------------------

def _lr_pair(lr_b, steps=300):
    """The learning-rate lesson's kind of pair: a straight line on diabetes, A at 0.1, B at ``lr_b``."""
    from app.runs.run import state_of

    exp = lossviz.Experiment(RunConfig(dataset="diabetes", hidden=(), loss="mse", optimizer="sgd", lr=0.1,
                                       epochs=300), "lr", lr_b, trajectory_bytes=2 ** 20)
    states = [state_of(t) for t in exp.runs]
    with np.errstate(all="ignore"):
        for s in states:
            advance_run(s, steps)
    return [RunView.of_state(s) for s in states]


def test_a_diverged_run_leaves_the_compare_frame_which_holds_the_steps_before():
    from app.views.framing import OFF_CHART
    from app.views.compute import compare_landscape, in_frame

    runs = _lr_pair(0.26)
    assert runs[1].step_count < 300  # B diverged
    view = compare_landscape(runs, 21)
    a_path, b_path = view["paths"]
    alphas, betas = view["alphas"], view["betas"]
    assert view["exits"][0] is None and view["exits"][1] >= 10  # ten jumps or more drawn before B leaves
    assert view["starts"][0] == pytest.approx(view["starts"][1])  # one start, one loss
    inside = b_path[: view["exits"][1]]
    for path in (a_path, inside):  # the frame holds A's path and B's up to where it leaves
        assert alphas[0] <= path[:, 0].min() and path[:, 0].max() <= alphas[-1]
        assert betas[0] <= path[:, 1].min() and path[:, 1].max() <= betas[-1]
    # A's path is not a dot: it spans a good part of the frame (framed on all of B's path, it was 1/1000).
    assert np.ptp(a_path[:, 0]) > 0.25 * (alphas[-1] - alphas[0])
    assert np.abs(b_path[-1]).max() > 10 * max(abs(alphas[0]), abs(alphas[-1]), abs(betas[0]), abs(betas[-1]))
    start = view["starts"][1]
    keep = in_frame(b_path, np.r_[start, np.full(len(b_path) - 2, OFF_CHART * start * 1.01), np.nan])
    assert keep.tolist() == [True] + [False] * (len(b_path) - 1)  # the start always; a loss > 10x or NaN never


def test_a_comparison_that_stays_in_view_is_framed_as_before():
    from app.views.compute import compare_landscape

    runs = _lr_pair(0.2, steps=60)
    view = compare_landscape(runs, 11)
    assert view["exits"] == [None, None]
    both = np.vstack(view["paths"])
    assert view["alphas"][0] <= both[:, 0].min() and both[:, 0].max() <= view["alphas"][-1]


def test_the_line_between_a_and_b_knows_the_loss_at_the_common_start():
    from app.views.compute import interpolation, start_loss

    runs = _lr_pair(0.26)
    between = interpolation(runs)
    tr0 = runs[0]
    expected = loss_at(SimpleRun(tr0), tr0.trajectory[0])
    np.testing.assert_allclose(between["start"], [expected, expected], rtol=1e-9)
    assert start_loss(runs[1]) == pytest.approx(expected)
    assert np.nanmax(between["loss"][1]) > 1e3 * expected  # the line runs off to B's exploded weights


class SimpleRun:
    """What ``loss_at`` above reads of a trainer, from a RunView."""

    def __init__(self, view):
        self.config, self.data, self.net = view.config, view.data, view.net
        self.loss = lossviz.losses.get_loss(view.config.loss, view.data.task)


def test_the_outliers_data_view_says_which_shown_points_are_outliers():
    state, v = _view(RunConfig(dataset="outliers", n_samples=200, outlier_fraction=0.1, hidden=(), loss="mse",
                               epochs=5))
    mask = v["outliers"]
    assert mask.dtype == bool and mask.shape == v["points"]["y_train"].shape and mask.sum() > 5
    np.testing.assert_array_equal(mask, state.trainer.data.outlier_mask)
