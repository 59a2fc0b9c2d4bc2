"""lossviz.connectivity: lines between weights, their barriers, and forked runs."""

import numpy as np
import pytest

import lossviz
from lossviz import Network, RunConfig, Trainer
from lossviz.connectivity import _line, fork, fork_barriers, init_to_final, line

SMALL = RunConfig(dataset="moons", n_samples=120, hidden=(8,), activation="relu", optimizer="sgd", lr=0.3,
                  batch_size=16, epochs=6)


def test_barrier_and_rise_of_a_known_curve():
    ts = np.linspace(0, 1, 5)
    bump = np.array([1.0, 1.5, 0.8, 0.6, 0.5])  # chord: 1, .875, .75, .625, .5
    ln = _line(ts, bump)
    assert ln.barrier == pytest.approx(0.625) and ln.at == 0.25
    assert ln.rise == pytest.approx(0.5) and not ln.monotonic
    down = _line(ts, np.array([1.0, 0.6, 0.55, 0.52, 0.5]))
    assert down.monotonic and down.rise == 0 and down.barrier == 0  # below the chord: no barrier


def test_a_convex_loss_has_no_barrier():
    """A linear model with squared error is convex in its weights: no line rises above its chord."""
    rng = np.random.default_rng(0)
    net = Network((3, 1), "linear")
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    for _ in range(5):
        a, b = 3 * rng.standard_normal(net.n_params), 3 * rng.standard_normal(net.n_params)
        ln = line(a, b, X, y, layer_sizes=net.layer_sizes, activation="linear", loss="mse", points=31)
        assert ln.barrier <= 1e-12


def test_line_ends_are_the_losses_at_the_ends():
    t = Trainer(SMALL)
    t.advance(t.total_steps)
    ln = init_to_final(t, points=11)
    kw = dict(layer_sizes=t.net.layer_sizes, activation="relu", loss="cross_entropy")
    assert ln.losses[0] == pytest.approx(lossviz.objective(t.params_init, t.data.X_train, t.data.y_train, **kw)[0])
    assert ln.losses[-1] == pytest.approx(lossviz.objective(t.params, t.data.X_train, t.data.y_train, **kw)[0])
    assert ln.ts[0] == 0 and ln.ts[-1] == 1 and len(ln.ts) == 11


def test_forks_share_the_trunk_and_part_with_their_seeds():
    trunk = Trainer(SMALL)
    trunk.advance(10)  # mid-epoch (6 batches of 16 per epoch)
    before = trunk.params.copy()
    a, b, a2 = fork(trunk, 1), fork(trunk, 2), fork(trunk, 1)
    np.testing.assert_array_equal(trunk.params, before)  # the trunk is only read
    for f in (a, b, a2):
        np.testing.assert_array_equal(f.params, before)
        assert f.step_count == 10
        f.advance(5)
    np.testing.assert_array_equal(a.params, a2.params)  # a seed is a minibatch order: same seed, same run
    assert np.abs(a.params - b.params).max() > 1e-6
    trunk.advance(5)
    assert np.abs(a.params - trunk.params).max() > 1e-6


def test_fork_barriers_measures_each_fork_step():
    out = fork_barriers(SMALL, [0, 12], points=5)
    assert [f.k for f in out] == [0, 12]
    for f in out:
        assert f.line.losses.shape == (5,) and f.line.barrier >= 0
        assert np.abs(f.final_a - f.final_b).max() > 0
    with pytest.raises(ValueError, match="full-batch"):
        fork_barriers(SMALL.replace(batch_size=0), [0])
    with pytest.raises(ValueError, match="ascending"):
        fork_barriers(SMALL, [12, 0])
    with pytest.raises(ValueError, match="k"):
        fork_barriers(SMALL, [0, 10_000])
