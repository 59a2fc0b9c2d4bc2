"""lossviz.rescale: one network function, two sharpnesses (Dinh et al. 2017)."""

import numpy as np
import pytest

import lossviz
from lossviz import ACTIVATIONS, Network
from lossviz.rescale import rescale_layers, rescaled_sharpness


def _problem(act, sizes=(2, 7, 5, 3), seed=0):
    rng = np.random.default_rng(seed)
    net = Network(sizes, act)
    params = net.init_params(rng)
    X = rng.standard_normal((40, sizes[0]))
    y = rng.integers(0, sizes[-1], 40) if sizes[-1] > 1 else rng.standard_normal(40)
    return net, params, X, y


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_homogeneous_flag_matches_the_numbers(act):
    """Exactly the flagged activations keep the function under the rescaling."""
    net, params, X, _ = _problem(act)
    after = rescale_layers(params, layer_sizes=net.layer_sizes, activation=act, layer=0, a=3.0)
    change = np.abs(net.forward(after, X) - net.forward(params, X)).max()
    assert (change < 1e-10) == ACTIVATIONS[act].homogeneous, change


@pytest.mark.parametrize("act", [a for a in ACTIVATIONS if ACTIVATIONS[a].homogeneous])
@pytest.mark.parametrize("layer", [0, 1])
@pytest.mark.parametrize("a", [0.2, 10.0])
def test_same_function_and_loss_hessian_transformed(act, layer, a):
    """θ' = Dθ with f(θ') = f(θ) for every input, so L'(θ') = L(D⁻¹θ') and H' = D⁻¹ H D⁻¹: checked
    on the exact Hessian-vector products, for every loss."""
    for loss, sizes in (("cross_entropy", (2, 7, 5, 3)), ("mse", (2, 7, 5, 3)), ("huber", (2, 6, 4, 1))):
        net, params, X, y = _problem(act, sizes)
        kw = dict(layer_sizes=net.layer_sizes, activation=act, loss=loss)
        after = rescale_layers(params, layer=layer, a=a, layer_sizes=net.layer_sizes, activation=act)
        np.testing.assert_allclose(net.forward(after, X), net.forward(params, X), rtol=1e-12, atol=1e-12)
        assert lossviz.objective(after, X, y, **kw)[0] == pytest.approx(lossviz.objective(params, X, y, **kw)[0],
                                                                        rel=1e-12)
        d = rescale_layers(np.ones(net.n_params), layer=layer, a=a, layer_sizes=net.layer_sizes, activation=act)
        v = np.random.default_rng(5).standard_normal(net.n_params)
        np.testing.assert_allclose(lossviz.hvp(after, v, X, y, **kw), lossviz.hvp(params, v / d, X, y, **kw) / d,
                                   rtol=1e-8, atol=1e-10)


def test_only_the_two_layers_move():
    net, params, X, y = _problem("relu")
    after = rescale_layers(params, layer_sizes=net.layer_sizes, activation="relu", layer=1, a=4.0)
    L0, L1, L2 = net.layers
    np.testing.assert_array_equal(after[L0.w_start:L0.end], params[L0.w_start:L0.end])
    np.testing.assert_allclose(after[L1.w_start:L1.end], 4 * params[L1.w_start:L1.end])
    np.testing.assert_allclose(after[L2.w_start:L2.b_start], params[L2.w_start:L2.b_start] / 4)
    np.testing.assert_array_equal(after[L2.b_start:L2.end], params[L2.b_start:L2.end])


def test_sharpness_changes_while_the_loss_does_not():
    trainer = lossviz.Trainer(lossviz.RunConfig(hidden=(16, 16), activation="relu", epochs=100, seed=0))
    trainer.advance(100)
    kw = dict(layer_sizes=trainer.net.layer_sizes, activation="relu", loss="cross_entropy")
    r = rescaled_sharpness(trainer.params, trainer.data.X_train, trainer.data.y_train, layer=0, a=10.0, **kw)
    assert r.homogeneous and r.output_change < 1e-9
    assert r.loss_after == pytest.approx(r.loss_before, rel=1e-12)
    assert r.sharpness_after > 5 * r.sharpness_before  # the next layer's block grows by a² = 100
    shrunk = rescaled_sharpness(trainer.params, trainer.data.X_train, trainer.data.y_train, layer=0, a=0.1, **kw)
    assert shrunk.sharpness_after > 5 * shrunk.sharpness_before  # the first layer's block grows by 100 instead


def test_tanh_reports_the_function_changed():
    net, params, X, y = _problem("tanh")
    r = rescaled_sharpness(params, X, y, layer_sizes=net.layer_sizes, activation="tanh", loss="cross_entropy",
                           layer=0, a=5.0)
    assert not r.homogeneous and r.output_change > 1e-3 and r.loss_after != pytest.approx(r.loss_before)


@pytest.mark.parametrize("kwargs, words", [
    (dict(layer=2), "layer"), (dict(layer=-1), "layer"), (dict(a=0.0), "a"), (dict(a=-2.0), "a"),
    (dict(a=float("nan")), "a"), (dict(a=1e5), "a")])
def test_bad_arguments_are_refused(kwargs, words):
    net, params, _, _ = _problem("relu")
    args = {"layer": 0, "a": 2.0, **kwargs}
    with pytest.raises(ValueError, match=words):
        rescale_layers(params, layer_sizes=net.layer_sizes, activation="relu", **args)


def test_a_linear_model_has_nothing_to_rescale():
    net = Network((2, 3), "relu")
    with pytest.raises(ValueError, match="without hidden layers"):
        rescale_layers(np.zeros(net.n_params), layer_sizes=(2, 3), activation="relu", layer=0, a=2.0)
