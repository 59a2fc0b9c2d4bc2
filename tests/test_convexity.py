"""The convexity map: λmin, λmax from one Lanczos run per point match the dense Hessian's
eigenvalues, |λmin/λmax| is what the map holds, and a map computed in parts is the whole map."""
from __future__ import annotations

import numpy as np
import pytest

import lossviz
from lossviz.convexity import convexity_map, extreme_eigenvalues


def dense_hessian(params, X, y, kw):
    return np.column_stack([lossviz.hvp(params, e, X, y, **kw) for e in np.eye(params.size)])


@pytest.mark.parametrize("loss, dataset, activation", [("cross_entropy", "moons", "tanh"), ("mse", "sine", "tanh"),
                                                       ("huber", "sine", "softplus"), ("mse", "moons", "sigmoid")])
def test_extremes_match_the_dense_hessian(loss, dataset, activation):
    tr = lossviz.Trainer(lossviz.RunConfig(dataset=dataset, n_samples=60, hidden=(4,), activation=activation,
                                           loss=loss, epochs=30))
    tr.advance(30)
    kw = dict(layer_sizes=tr.net.layer_sizes, activation=activation, loss=loss)
    X, y = tr.data.X_train, tr.data.y_train
    H = dense_hessian(tr.params, X, y, kw)
    w = np.linalg.eigvalsh((H + H.T) / 2)
    lo, hi = extreme_eigenvalues(tr.params, X, y, **kw)
    assert hi == pytest.approx(w[-1], rel=1e-8) and lo == pytest.approx(w[0], rel=1e-6, abs=1e-10 * w[-1])
    # a Ritz value lies inside the spectrum, even from a short Krylov space
    lo3, hi3 = extreme_eigenvalues(tr.params, X, y, krylov=3, **kw)
    assert w[0] - 1e-12 <= lo3 and hi3 <= w[-1] + 1e-12


def test_map_holds_the_ratio_and_can_be_computed_in_parts():
    tr = lossviz.Trainer(lossviz.RunConfig(n_samples=80, hidden=(5,), epochs=20))
    tr.advance(20)
    kw = dict(layer_sizes=tr.net.layer_sizes, activation="tanh", loss="cross_entropy")
    X, y = tr.data.X_train, tr.data.y_train
    d1, d2 = lossviz.random_directions(tr.params, tr.net, 0)
    ax = np.linspace(-1, 1, 5)
    whole = convexity_map(tr.params, d1, d2, ax, ax[:4], X, y, **kw)
    assert whole["ratio"].shape == (5, 4)
    np.testing.assert_allclose(whole["ratio"], np.abs(whole["lambda_min"] / whole["lambda_max"]))
    part = convexity_map(tr.params, d1, d2, ax, ax[:4], X, y, rows=[1, 3], **kw)
    np.testing.assert_array_equal(part["ratio"][[1, 3]], whole["ratio"][[1, 3]])
    assert np.isnan(part["ratio"][[0, 2, 4]]).all()
    lo, hi = extreme_eigenvalues(tr.params + ax[2] * d1 + ax[1] * d2, X, y, seed=2 * 4 + 1, **kw)
    assert whole["lambda_max"][2, 1] == hi and whole["lambda_min"][2, 1] == lo


def test_bad_input_is_refused():
    tr = lossviz.Trainer(lossviz.RunConfig(n_samples=40, hidden=(3,), epochs=1))
    kw = dict(layer_sizes=tr.net.layer_sizes, activation="tanh", loss="cross_entropy")
    with pytest.raises(ValueError):
        extreme_eigenvalues(tr.params[:-1], tr.data.X_train, tr.data.y_train, **kw)
    with pytest.raises(ValueError):
        convexity_map(tr.params, tr.params, tr.params, [], [0.0], tr.data.X_train, tr.data.y_train, **kw)
    with pytest.raises(ValueError):
        extreme_eigenvalues(tr.params, tr.data.X_train, tr.data.y_train, krylov=1, **kw)
