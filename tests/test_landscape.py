"""Tests for lossviz.directions, lossviz.landscape and lossviz.paths."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import lossviz
import lossviz.landscape as landscape
from lossviz import (ACTIVATIONS, LOSSES, NORMALIZATIONS, Network, RunConfig, Trainer,
                     interpolate, pca_directions, project_trajectory, random_direction,
                     random_directions, surface, surface_naive, surface_with_metric,
                     trajectory_losses)

ALPHAS = np.linspace(-1.0, 1.0, 5)  # 0 at index 2
BETAS = np.linspace(-0.6, 0.6, 7)   # 0 at index 3; a non-square grid catches transposes
CENTER = (2, 3)


# --- an independent reference: explicit loops over layers, textbook loss formulas ---------

def ref_act(name, z):
    return {"relu": lambda: np.maximum(z, 0), "leaky_relu": lambda: np.where(z > 0, z, 0.01 * z),
            "tanh": lambda: np.tanh(z), "sigmoid": lambda: 1 / (1 + np.exp(-z)),
            "softplus": lambda: np.logaddexp(0, z), "linear": lambda: z}[name]()


def ref_loss_at(theta, X, y, sizes, act, loss, delta=1.0):
    a, start = X, 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = theta[start:start + fan_in * fan_out].reshape(fan_out, fan_in)
        b = theta[start + fan_in * fan_out:start + fan_in * fan_out + fan_out]
        start += fan_in * fan_out + fan_out
        a = a @ W.T + b
        if i < len(sizes) - 2:
            a = ref_act(act, a)
    if sizes[-1] == 1:
        r = a[:, 0] - y
    else:
        m = a.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(a - m).sum(axis=1))
        if loss == "cross_entropy":
            return float(np.mean(lse - a[np.arange(len(y)), y]))
        r = np.exp(a - lse[:, None]) - np.eye(sizes[-1])[y]
    if loss == "mse":
        return float(np.mean(r * r))
    assert loss == "huber"
    return float(np.mean(np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))))


def make_problem(sizes, act, seed=0, n=25, scale=0.7):
    rng = np.random.default_rng(seed)
    net = Network(sizes, act)
    theta = rng.normal(0, scale, net.n_params)
    d1, d2 = rng.normal(0, scale, (2, net.n_params))
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], n) if sizes[-1] > 1 else rng.normal(0, 1.5, n)
    return theta, d1, d2, X, y


def losses_for(sizes):
    task = "regression" if sizes[-1] == 1 else "classification"
    return [name for name, spec in LOSSES.items() if task in spec.tasks]


ARCHS = [
    ((2, 3), "tanh"),                  # no hidden layer, K = 3
    ((3, 1), "relu"),                  # no hidden layer, regression
    ((2, 6, 2), "relu"),               # one hidden layer, K = 2
    ((1, 7, 1), "softplus"),           # one hidden layer, regression
    ((3, 5, 4, 6, 3), "sigmoid"),      # three hidden layers, K = 3
    ((2, 4, 4, 4, 2), "leaky_relu"),   # three hidden layers, K = 2
    ((2, 5, 3, 1), "linear"),          # two hidden layers, regression
    ((4, 8, 8, 3), "tanh"),            # two hidden layers, K = 3
]
ARCH_CASES = [(sizes, act, loss) for sizes, act in ARCHS for loss in losses_for(sizes)]
ACT_CASES = [(sizes, act, loss) for act in ACTIVATIONS for sizes in ((2, 6, 3), (2, 6, 1))
             for loss in losses_for(sizes)]


def _kw(sizes, act, loss, **extra):
    return dict(layer_sizes=sizes, activation=act, loss=loss, **extra)


# --- the surface ------------------------------------------------------------------------

@pytest.mark.parametrize("sizes,act,loss", ARCH_CASES + ACT_CASES)
def test_vectorized_surface_equals_naive_loop(sizes, act, loss):
    theta, d1, d2, X, y = make_problem(sizes, act)
    kw = _kw(sizes, act, loss, huber_delta=0.4)
    fast = surface(theta, d1, d2, ALPHAS, BETAS, X, y, dtype=np.float64, **kw)
    naive = surface_naive(theta, d1, d2, ALPHAS, BETAS, X, y, **kw)
    assert fast.shape == naive.shape == (5, 7)
    np.testing.assert_allclose(fast, naive, rtol=1e-9, atol=0)
    # The default float32 path stays within 1e-5 relative of float64.
    default = surface(theta, d1, d2, ALPHAS, BETAS, X, y, **kw)
    assert default.dtype == np.float64
    np.testing.assert_allclose(default, fast, rtol=1e-5, atol=0)


@pytest.mark.parametrize("sizes,act,loss", ARCH_CASES)
def test_surface_points_equal_independent_reference(sizes, act, loss):
    theta, d1, d2, X, y = make_problem(sizes, act, seed=1)
    z = surface(theta, d1, d2, ALPHAS, BETAS, X, y, dtype=np.float64, **_kw(sizes, act, loss))
    for i, j in [CENTER, (0, 0), (4, 1), (1, 6)]:
        want = ref_loss_at(theta + ALPHAS[i] * d1 + BETAS[j] * d2, X, y, sizes, act, loss)
        assert z[i, j] == pytest.approx(want, rel=1e-12), (i, j)


@pytest.mark.parametrize("sizes,act,loss", ARCH_CASES)
def test_surface_center_is_loss_at_theta(sizes, act, loss):
    theta, d1, d2, X, y = make_problem(sizes, act, seed=2)
    want = ref_loss_at(theta, X, y, sizes, act, loss)
    exact = surface(theta, d1, d2, ALPHAS, BETAS, X, y, dtype=np.float64, **_kw(sizes, act, loss))
    fast = surface(theta, d1, d2, ALPHAS, BETAS, X, y, **_kw(sizes, act, loss))
    assert exact[CENTER] == pytest.approx(want, rel=1e-12)
    assert fast[CENTER] == pytest.approx(want, rel=1e-5)


def test_surface_in_many_small_chunks_on_several_threads(monkeypatch):
    sizes, act, loss = (2, 6, 5, 3), "tanh", "cross_entropy"
    theta, d1, d2, X, y = make_problem(sizes, act)
    kw = _kw(sizes, act, loss)
    naive = surface_naive(theta, d1, d2, ALPHAS, BETAS, X, y, **kw)
    # A tiny cache budget: chunks of 3 grid points, the last one shorter.
    monkeypatch.setattr(landscape, "CACHE_BYTES", 25 * 7 * 8 * 3)
    monkeypatch.setattr(landscape, "WORKERS", 2)
    fast = surface(theta, d1, d2, ALPHAS, BETAS, X, y, dtype=np.float64, **kw)
    np.testing.assert_allclose(fast, naive, rtol=1e-9, atol=0)


def test_surface_does_not_mutate_inputs():
    sizes = (2, 5, 3)
    theta, d1, d2, X, y = make_problem(sizes, "relu")
    copies = [a.copy() for a in (theta, d1, d2, X, y)]
    surface(theta, d1, d2, ALPHAS, BETAS, X, y, **_kw(sizes, "relu", "mse"))
    for a, c in zip((theta, d1, d2, X, y), copies):
        np.testing.assert_array_equal(a, c)


@pytest.fixture(scope="module")
def trained():
    """A trained 2->16->16->2 tanh network on moons (the app's default run)."""
    t = Trainer(RunConfig(dataset="moons", noise=0.2, epochs=200))
    t.advance(t.total_steps)
    return t


def test_float32_path_on_a_trained_network(trained):
    t = trained
    d1, d2 = random_directions(t.params, t.net, seed=0)
    grid = np.linspace(-1, 1, 11)
    kw = dict(layer_sizes=t.net.layer_sizes, activation="tanh", loss="cross_entropy")
    exact = surface(t.params, d1, d2, grid, grid, t.data.X_train, t.data.y_train,
                    dtype=np.float64, **kw)
    fast = surface(t.params, d1, d2, grid, grid, t.data.X_train, t.data.y_train, **kw)
    np.testing.assert_allclose(fast, exact, rtol=1e-5, atol=0)
    assert exact[5, 5] == pytest.approx(t.evaluate().train_loss, rel=1e-12)
    assert exact[5, 5] < exact.min() * 1.5  # a trained network sits in a low basin


def test_surface_with_metric_center_equals_trainer_accuracy(trained):
    t = trained
    d1, d2 = random_directions(t.params, t.net, seed=1)
    kw = dict(layer_sizes=t.net.layer_sizes, activation="tanh", loss="cross_entropy")
    grid = np.linspace(-0.5, 0.5, 5)
    loss, acc = surface_with_metric(t.params, d1, d2, grid, grid, t.data.X_train,
                                    t.data.y_train, dtype=np.float64, **kw)
    snap = t.evaluate()
    assert acc[2, 2] == snap.train_metric
    assert loss[2, 2] == pytest.approx(snap.train_loss, rel=1e-12)
    _, acc32 = surface_with_metric(t.params, d1, d2, grid, grid, t.data.X_train,
                                   t.data.y_train, **kw)
    assert abs(acc32[2, 2] - snap.train_metric) <= 1 / len(t.data.y_train)
    assert np.all((acc >= 0) & (acc <= 1))


def test_surface_with_metric_regression_center_equals_trainer_r2():
    t = Trainer(RunConfig(dataset="sine", n_samples=80, hidden=(8,), loss="mse", epochs=50))
    t.advance(50)
    d1, d2 = random_directions(t.params, t.net, seed=0)
    _, r2 = surface_with_metric(t.params, d1, d2, [0.0], [-0.2, 0.0], t.data.X_train,
                                t.data.y_train, layer_sizes=t.net.layer_sizes,
                                activation="tanh", loss="mse", dtype=np.float64)
    assert r2[0, 1] == pytest.approx(t.evaluate().train_metric, rel=1e-10)


# --- directions ---------------------------------------------------------------------------

def _net_and_params(act="relu"):
    net = Network((3, 6, 5, 2), act)
    return net, np.random.default_rng(5).normal(0, 0.5, net.n_params)


def test_filter_normalized_rows_have_weight_row_norms_and_zero_bias():
    net, params = _net_and_params()
    d = random_direction(params, net, np.random.default_rng(0), "filter")
    for (dW, db), (W, _) in zip(net.unflatten(d), net.unflatten(params)):
        np.testing.assert_allclose(np.linalg.norm(dW, axis=1), np.linalg.norm(W, axis=1), rtol=1e-8)
        np.testing.assert_array_equal(db, 0.0)
        # Rescaled, not replaced: each row points along its own random draw, not along W.
        assert not np.allclose(np.abs(dW), np.abs(W))


def test_layer_normalized_matrices_have_weight_frobenius_norms():
    net, params = _net_and_params()
    d = random_direction(params, net, np.random.default_rng(0), "layer")
    for (dW, db), (W, _) in zip(net.unflatten(d), net.unflatten(params)):
        assert np.linalg.norm(dW) == pytest.approx(np.linalg.norm(W), rel=1e-8)
        np.testing.assert_array_equal(db, 0.0)
    rows_d = np.linalg.norm(net.unflatten(d)[0][0], axis=1)
    rows_w = np.linalg.norm(net.unflatten(params)[0][0], axis=1)
    assert not np.allclose(rows_d, rows_w)  # layer-wise, not filter-wise


def test_unnormalized_direction_is_the_raw_gaussian():
    net, params = _net_and_params()
    d = random_direction(params, net, np.random.default_rng(3), "none")
    np.testing.assert_array_equal(d, np.random.default_rng(3).standard_normal(net.n_params))


@pytest.mark.parametrize("normalization", list(NORMALIZATIONS))
def test_directions_are_deterministic_for_a_seed(normalization):
    net, params = _net_and_params("tanh")
    keep = params.copy()
    a1, a2 = random_directions(params, net, seed=4, normalization=normalization)
    b1, b2 = random_directions(params, net, seed=4, normalization=normalization)
    c1, _ = random_directions(params, net, seed=5, normalization=normalization)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.allclose(a1, a2) and not np.allclose(a1, c1)
    assert a1.shape == (net.n_params,)
    np.testing.assert_array_equal(params, keep)


def test_unknown_normalization_lists_allowed_names():
    net, params = _net_and_params()
    with pytest.raises(ValueError) as err:
        random_directions(params, net, normalization="batch")
    for name in NORMALIZATIONS:
        assert name in str(err.value)


# --- PCA directions and projections -------------------------------------------------------

def _planar_trajectory(n_params=40, steps=30, seed=0):
    rng = np.random.default_rng(seed)
    final = rng.normal(size=n_params)
    u, v = rng.normal(size=(2, n_params))
    v = 0.6 * u + v  # not orthogonal to u
    t = np.linspace(0, 1, steps)
    coords = np.stack([3 * (1 - t) ** 2, np.sin(4 * t) * (1 - t)], axis=1)
    return final + coords @ np.stack([u, v]), final, u, v, coords


def test_pca_directions_are_orthonormal_with_valid_explained_variance():
    traj, *_ = _planar_trajectory()
    d1, d2, explained = pca_directions(traj)
    np.testing.assert_allclose([d1 @ d1, d2 @ d2, d1 @ d2], [1.0, 1.0, 0.0], atol=1e-12)
    assert explained.shape == (2,)
    assert np.all((explained >= 0) & (explained <= 1))
    assert explained[0] >= explained[1] > 0
    assert explained.sum() == pytest.approx(1.0, abs=1e-12)  # the path is planar


def test_pca_explained_variance_of_a_non_planar_path_sums_below_one():
    traj = np.random.default_rng(1).normal(size=(20, 15)).cumsum(axis=0)
    d1, d2, explained = pca_directions(traj)
    assert np.all((explained >= 0) & (explained <= 1))
    assert explained.sum() < 1
    # Independent check: the share of the offsets' squared norm captured by d1 and by d2.
    offsets = traj - traj[-1]
    total = (offsets ** 2).sum()
    np.testing.assert_allclose(explained, [((offsets @ d1) ** 2).sum() / total,
                                           ((offsets @ d2) ** 2).sum() / total], rtol=1e-10)


def test_planar_trajectory_is_reconstructed_exactly_from_pca_projection():
    traj, final, *_ = _planar_trajectory()
    d1, d2, _ = pca_directions(traj)
    coords = project_trajectory(traj, final, d1, d2)
    assert coords.shape == (traj.shape[0], 2)
    np.testing.assert_allclose(final + coords @ np.stack([d1, d2]), traj, atol=1e-10)
    np.testing.assert_allclose(coords[-1], 0.0, atol=1e-12)
    assert coords[0, 0] < 0  # the path runs from negative to positive alpha


def test_project_trajectory_is_exact_for_non_orthogonal_directions():
    traj, final, u, v, coords = _planar_trajectory(seed=2)
    assert abs(u @ v) / (np.linalg.norm(u) * np.linalg.norm(v)) > 0.3
    np.testing.assert_allclose(project_trajectory(traj, final, u, v), coords, atol=1e-10)


def test_project_trajectory_off_plane_gives_closest_point():
    rng = np.random.default_rng(3)
    d1, d2, center = rng.normal(size=(3, 10))
    point = rng.normal(size=10)
    (a, b), = project_trajectory(point[None], center, d1, d2)
    resid = point - center - a * d1 - b * d2
    assert abs(resid @ d1) < 1e-10 and abs(resid @ d2) < 1e-10


def test_pca_on_a_real_training_trajectory(trained):
    traj = trained.trajectory
    # Multi-threaded OpenBLAS SVD of this (201, 354) matrix can take seconds on a busy
    # two-core machine; one thread takes milliseconds.
    with threadpool_limits(1, user_api="blas"):
        d1, d2, explained = pca_directions(traj)
    assert np.all((explained >= 0) & (explained <= 1)) and explained.sum() <= 1 + 1e-12
    assert abs(d1 @ d2) < 1e-10


def test_pca_rejects_degenerate_trajectories():
    with pytest.raises(ValueError):
        pca_directions(np.zeros((1, 5)))
    with pytest.raises(ValueError):
        pca_directions(np.ones((4, 5)))


def test_interpolate_endpoints_and_midpoint():
    sizes, act, loss = (2, 6, 3), "tanh", "huber"
    a, b, _, X, y = make_problem(sizes, act, seed=4)
    out = interpolate(a, b, [0.0, 0.5, 1.0], X, y, layer_sizes=sizes, activation=act, loss=loss)
    want = [ref_loss_at(p, X, y, sizes, act, loss) for p in (a, 0.5 * (a + b), b)]
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_trajectory_losses_at_projected_points():
    sizes, act, loss = (2, 5, 1), "sigmoid", "mse"
    center, d1, d2, X, y = make_problem(sizes, act, seed=5)
    coords = np.array([[0.0, 0.0], [0.3, -0.2], [-1.0, 0.5]])
    got = trajectory_losses(coords, center, d1, d2, X, y, layer_sizes=sizes, activation=act,
                            loss=loss, chunk=2)
    want = [ref_loss_at(center + a * d1 + b * d2, X, y, sizes, act, loss) for a, b in coords]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_trajectory_on_plane_gives_coordinates_and_the_loss_there():
    t = lossviz.Trainer(lossviz.RunConfig(dataset="moons", n_samples=100, hidden=(6,), epochs=15))
    t.advance(15)
    d1, d2, _ = lossviz.pca_directions(t.trajectory)
    kw = dict(layer_sizes=t.net.layer_sizes, activation="tanh", loss="cross_entropy")
    coords, losses = lossviz.trajectory_on_plane(t.trajectory, t.params, d1, d2, t.data.X_train,
                                                 t.data.y_train, **kw)
    assert coords.shape == (len(t.trajectory), 2) and losses.shape == (len(t.trajectory),)
    a, b = coords[0]
    direct = lossviz.loss_value("cross_entropy", t.net.forward(t.params + a * d1 + b * d2, t.data.X_train),
                                t.data.y_train, "classification")
    assert losses[0] == pytest.approx(direct, rel=1e-10)
    assert losses[-1] == pytest.approx(t.evaluate().train_loss, rel=1e-10)
