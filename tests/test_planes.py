"""Tests for lossviz.planes: the compare plane through θ0, θA and θB, its coordinates and axes."""
import numpy as np
import pytest

from lossviz import Network, RunConfig, project_trajectory, random_directions
from lossviz.experiment import Experiment
from lossviz.planes import (MIN_ASPECT, MIN_HALF_WIDTH, compare_axes, compare_plane,
                            plane_coordinates)

NET = Network((2, 6, 5, 3), "tanh")


def points(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    theta0 = NET.init_params(rng)
    return (theta0, theta0 + scale * rng.normal(size=NET.n_params),
            theta0 + scale * rng.normal(size=NET.n_params))


def assert_orthonormal(d1, d2):
    assert abs(d1 @ d1 - 1) < 1e-12 and abs(d2 @ d2 - 1) < 1e-12
    assert abs(d1 @ d2) < 1e-12


def assert_in_plane(theta, theta0, d1, d2, on_d1_only=False):
    alpha, beta = plane_coordinates(theta, theta0, d1, d2)
    if on_d1_only:
        assert beta == 0.0 or abs(beta) < 1e-12 * abs(alpha)
        beta = 0.0
    rebuilt = theta0 + alpha * d1 + beta * d2
    assert np.linalg.norm(rebuilt - theta) <= 1e-9 * np.linalg.norm(theta - theta0)
    return alpha, beta


@pytest.mark.parametrize("seed,scale", [(0, 1.0), (1, 1e-6), (2, 1e6)])
def test_the_plane_is_orthonormal_and_holds_all_three_points(seed, scale):
    theta0, theta_a, theta_b = points(seed, scale)
    d1, d2, kind = compare_plane(theta0, theta_a, theta_b, NET)
    assert kind == "compare"
    assert_orthonormal(d1, d2)
    alpha_a, _ = assert_in_plane(theta_a, theta0, d1, d2, on_d1_only=True)
    assert alpha_a == pytest.approx(np.linalg.norm(theta_a - theta0), rel=1e-12)
    assert_in_plane(theta_b, theta0, d1, d2)
    assert plane_coordinates(theta0, theta0, d1, d2) == (0.0, 0.0)


def test_the_plane_of_two_real_runs():
    exp = Experiment(RunConfig(dataset="moons", n_samples=100, hidden=(5, 4), epochs=30),
                     "loss", "mse")
    exp.advance(30)
    theta0 = exp.a.params_init
    d1, d2, kind = compare_plane(theta0, exp.a.params, exp.b.params, exp.a.net)
    assert kind == "compare"
    assert_orthonormal(d1, d2)
    assert_in_plane(exp.a.params, theta0, d1, d2, on_d1_only=True)
    _, beta_b = assert_in_plane(exp.b.params, theta0, d1, d2)
    assert beta_b > 0  # d2 points from the line of A towards B


def test_nearly_parallel_moves_still_span_an_exact_plane():
    theta0, theta_a, _ = points(3)
    rng = np.random.default_rng(9)
    theta_b = theta0 + 2 * (theta_a - theta0) + 1e-7 * rng.normal(size=NET.n_params)
    d1, d2, kind = compare_plane(theta0, theta_a, theta_b, NET)
    assert kind == "compare"
    assert_orthonormal(d1, d2)
    assert_in_plane(theta_b, theta0, d1, d2)


def assert_random_fallback(theta0, d1, d2, seed):
    """d1, d2 are random_directions(theta0, NET, seed, "filter"), orthonormalized."""
    assert_orthonormal(d1, d2)
    r1, r2 = random_directions(theta0, NET, seed, "filter")
    np.testing.assert_allclose(d1, r1 / np.linalg.norm(r1), rtol=1e-12, atol=1e-15)
    rest = r2 - (r2 @ d1) * d1
    np.testing.assert_allclose(d2, rest / np.linalg.norm(rest), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", ["step 0", "B at the start", "parallel", "antiparallel",
                                  "parallel within 1e-9"])
def test_falls_back_to_a_random_plane_when_there_is_none(case):
    theta0, theta_a, theta_b = points(4)
    move = theta_a - theta0
    rng = np.random.default_rng(5)
    theta_a, theta_b = {
        "step 0": (theta0, theta0),
        "B at the start": (theta_a, theta0),
        "parallel": (theta_a, theta0 + 0.5 * move),
        "antiparallel": (theta_a, theta0 - 3 * move),
        "parallel within 1e-9": (theta_a, theta0 + move + 1e-11 * rng.normal(size=move.size)),
    }[case]
    d1, d2, kind = compare_plane(theta0, theta_a, theta_b, NET, seed=7)
    assert kind == "random"
    assert_random_fallback(theta0, d1, d2, seed=7)


def test_an_experiment_at_step_zero_falls_back():
    exp = Experiment(RunConfig(dataset="moons", n_samples=100, hidden=(5, 4)), "lr", 0.5)
    d1, d2, kind = compare_plane(exp.a.params_init, exp.a.params, exp.b.params, exp.a.net, 3)
    assert kind == "random"
    assert_orthonormal(d1, d2)


def test_the_fallback_spans_a_plane_even_with_zero_weights():
    # Filter normalization scales to the weights: all zero gives zero directions. The raw
    # Gaussian plane is used instead.
    zero = np.zeros(NET.n_params)
    d1, d2, kind = compare_plane(zero, zero, zero, NET)
    assert kind == "random"
    assert_orthonormal(d1, d2)
    tiny = Network((1, 1))  # one weight, one bias: a single filter direction
    d1, d2, kind = compare_plane([0.5, 0.0], [0.5, 0.0], [0.5, 0.0], tiny)
    assert kind == "random"
    assert_orthonormal(d1, d2)


def test_refuses_bad_arguments():
    theta0, theta_a, theta_b = points()
    with pytest.raises(TypeError, match="lossviz.Network"):
        compare_plane(theta0, theta_a, theta_b, (2, 6, 5, 3))
    with pytest.raises(ValueError, match=r"theta_b must have shape \(71,\)"):
        compare_plane(theta0, theta_a, theta_b[:-1], NET)
    with pytest.raises(ValueError, match="theta_a contains NaN"):
        compare_plane(theta0, np.full(NET.n_params, np.nan), theta_b, NET)
    with pytest.raises(ValueError, match="overflows"):
        compare_plane(np.full(NET.n_params, -1e308), np.full(NET.n_params, 1e308), theta_b, NET)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        compare_plane(theta0, theta0, theta0, NET, seed=-1)


# --- coordinates --------------------------------------------------------------------------

def test_coordinates_of_a_path_match_the_least_squares_projection():
    theta0, theta_a, theta_b = points(6)
    d1, d2, _ = compare_plane(theta0, theta_a, theta_b, NET)
    rng = np.random.default_rng(1)
    path = theta0 + rng.normal(size=(9, NET.n_params))
    alpha, beta = plane_coordinates(path, theta0, d1, d2)
    assert alpha.shape == beta.shape == (9,)
    np.testing.assert_allclose(np.column_stack([alpha, beta]),
                               project_trajectory(path, theta0, d1, d2), rtol=1e-9, atol=1e-12)
    one = plane_coordinates(path[4], theta0, d1, d2)
    assert isinstance(one[0], float) and one == pytest.approx((alpha[4], beta[4]), rel=1e-12)


def test_coordinates_refuse_bad_shapes():
    theta0, theta_a, theta_b = points()
    d1, d2, _ = compare_plane(theta0, theta_a, theta_b, NET)
    with pytest.raises(ValueError, match=r"center must have shape \(70,\)"):
        plane_coordinates(theta_a[:-1], theta0, d1, d2)
    with pytest.raises(ValueError, match=r"theta must have shape \(P,\) or \(T, P\)"):
        plane_coordinates(np.zeros((2, 2, NET.n_params)), theta0, d1, d2)


# --- axes ---------------------------------------------------------------------------------

def test_axes_hold_the_points_with_a_margin():
    pts = np.array([[0.0, 0.0], [4.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    alphas, betas = compare_axes(pts, 11, margin=0.25)
    assert alphas.shape == betas.shape == (11,)
    assert np.all(np.diff(alphas) > 0) and np.all(np.diff(betas) > 0)
    # Extents 5 (alpha) and 2 (beta), a quarter of each beyond the points on both sides.
    assert (alphas[0], alphas[-1]) == pytest.approx((-1 - 1.25, 4 + 1.25))
    assert (betas[0], betas[-1]) == pytest.approx((0 - 0.5, 2 + 0.5))
    alphas, betas = compare_axes(pts, 5, margin=0.0)
    assert (alphas[0], alphas[-1], betas[0], betas[-1]) == pytest.approx((-1, 4, 0, 2))


def test_a_flat_set_of_points_still_shows_its_surroundings():
    pts = np.array([[0.0, 0.0], [8.0, 0.0], [3.0, 1e-6]])
    alphas, betas = compare_axes(pts, 7, margin=0.0)
    assert betas[-1] - betas[0] == pytest.approx(MIN_ASPECT * 8)
    assert (betas[0] + betas[-1]) / 2 == pytest.approx(0.5e-6)


def test_coincident_points_get_a_minimum_extent():
    alphas, betas = compare_axes([[0.0, 0.0], [0.0, 0.0]], 5)
    np.testing.assert_allclose(alphas, np.linspace(-MIN_HALF_WIDTH, MIN_HALF_WIDTH, 5))
    np.testing.assert_allclose(betas, alphas)
    alphas, _ = compare_axes([[2.0, -3.0]], 3)
    np.testing.assert_allclose(alphas, [2 - MIN_HALF_WIDTH, 2, 2 + MIN_HALF_WIDTH])


@pytest.mark.parametrize("args,message", [
    (([[0.0, 0.0, 0.0]], 5), r"points must have shape \(n, 2\)"),
    ((np.zeros((0, 2)), 5), r"points must have shape \(n, 2\) with n >= 1"),
    (([[0.0, np.inf]], 5), "points contains NaN or infinite"),
    (([[0.0, 0.0]], 2), "between 3 and 201"),
    (([[0.0, 0.0]], 5, -0.1), "margin must be a finite number"),
    (([[-1e308, 0.0], [1e308, 0.0]], 5), "too far apart"),
])
def test_axes_refuse_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        compare_axes(*args)
