"""Tests for lossviz.model and lossviz.activations: layout, forward, backprop, init.

Backprop is checked against central finite differences for every loss x activation
(parametrized over the registries, so a new entry is tested the day it is added).
"""
import numpy as np
import pytest

from lossviz import ACTIVATIONS, LOSSES, Network, get_loss

ACTS = list(ACTIVATIONS)
TASK_LOSSES = [(loss, task) for loss in LOSSES for task in ("classification", "regression")
               if task in LOSSES[loss].tasks]
FD_STEP = 1e-6
KINK_MARGIN = 1e-3


# --- independent reference definitions (as PyTorch defines them) --------------------------

def ref_activation(name, z):
    return {
        "relu": lambda: np.maximum(z, 0.0),
        "leaky_relu": lambda: np.where(z > 0, z, 0.01 * z),
        "tanh": lambda: np.tanh(z),
        "sigmoid": lambda: 1.0 / (1.0 + np.exp(-z)),
        "softplus": lambda: np.log1p(np.exp(z)),
        "linear": lambda: z,
    }[name]()


def ref_hidden_preactivations(layers, act, X):
    """Pre-activations of every hidden layer, from explicit (W, b) lists."""
    zs, a = [], X
    for W, b in layers[:-1]:
        z = a @ W.T + b
        zs.append(z)
        a = ref_activation(act, z)
    return zs


def random_layers(sizes, rng, scale=0.8):
    return [(rng.normal(0, scale, (o, i)), rng.normal(0, scale, o))
            for i, o in zip(sizes[:-1], sizes[1:])]


def flatten(layers):
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in layers])


def relative_error(g, fd):
    return np.max(np.abs(g - fd)) / np.max(np.abs(fd))


def central_fd(f, theta, h=FD_STEP):
    grad = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return grad


# --- layout and forward -------------------------------------------------------------------

def test_flat_layout_is_row_major_weights_then_bias_per_layer():
    rng = np.random.default_rng(0)
    W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=4)
    W2, b2 = rng.normal(size=(2, 4)), rng.normal(size=2)
    params = np.concatenate([W1.ravel(order="C"), b1, W2.ravel(order="C"), b2])
    net = Network((3, 4, 2), "tanh")
    assert net.n_params == 3 * 4 + 4 + 4 * 2 + 2
    X = rng.normal(size=(7, 3))
    expected = np.tanh(X @ W1.T + b1) @ W2.T + b2
    np.testing.assert_allclose(net.forward(params, X), expected, rtol=1e-13, atol=1e-13)
    (V1, c1), (V2, c2) = net.unflatten(params)
    for got, want in ((V1, W1), (c1, b1), (V2, W2), (c2, b2)):
        np.testing.assert_array_equal(got, want)
        assert np.shares_memory(got, params)  # views, not copies


def test_weight_mask_marks_weights_not_biases():
    net = Network((3, 4, 2))
    expected = np.concatenate([np.ones(12), np.zeros(4), np.ones(8), np.zeros(2)]).astype(bool)
    np.testing.assert_array_equal(net.weight_mask, expected)


@pytest.mark.parametrize("act", ACTS)
def test_forward_matches_hand_written_network(act):
    rng = np.random.default_rng(1)
    layers = random_layers((3, 5, 4, 2), rng)
    X = rng.normal(size=(9, 3))
    a = X
    for W, b in layers[:-1]:
        a = ref_activation(act, a @ W.T + b)
    expected = a @ layers[-1][0].T + layers[-1][1]
    got = Network((3, 5, 4, 2), act).forward(flatten(layers), X)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act", ACTS)
def test_forward_many_equals_per_vector_forward(act):
    rng = np.random.default_rng(2)
    net = Network((3, 6, 5, 4), act)
    P = rng.normal(0, 0.7, (6, net.n_params))
    X = rng.normal(size=(11, 3))
    batched = net.forward_many(P, X)
    assert batched.shape == (6, 11, 4)
    for b in range(6):
        np.testing.assert_allclose(batched[b], net.forward(P[b], X), rtol=1e-12, atol=1e-12)


def test_network_without_hidden_layer_is_affine():
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=3)
    X = rng.normal(size=(5, 2))
    out = Network((2, 3), "relu").forward(np.concatenate([W.ravel(), b]), X)
    np.testing.assert_allclose(out, X @ W.T + b, rtol=1e-13)


# --- activations ----------------------------------------------------------------------------

@pytest.mark.parametrize("act", ACTS)
def test_activation_values_and_derivatives(act):
    spec = ACTIVATIONS[act]
    assert spec.name == act and spec.label and spec.explanation
    z = np.array([-3.0, -0.7, -0.01, 0.02, 0.5, 2.5])
    a = spec.value(z)
    np.testing.assert_allclose(a, ref_activation(act, z), rtol=1e-13, atol=1e-15)
    fd = (ref_activation(act, z + 1e-6) - ref_activation(act, z - 1e-6)) / 2e-6
    np.testing.assert_allclose(spec.derivative(z, a), fd, rtol=1e-7, atol=1e-9)
    inplace = z.copy()
    np.testing.assert_allclose(spec.inplace(inplace), ref_activation(act, z), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("act", ACTS)
def test_activation_is_stable_for_huge_inputs(act):
    z = np.array([-1000.0, -50.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = ACTIVATIONS[act].value(z)
        d = ACTIVATIONS[act].derivative(z, a)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(d))


# --- backprop against central finite differences --------------------------------------------

def _fd_problem(act, task, loss, seed=0):
    """A 3->5->4->K float64 network with inputs kept away from activation kinks."""
    rng = np.random.default_rng(seed)
    k = 3 if task == "classification" else 1
    sizes = (3, 5, 4, k)
    layers = random_layers(sizes, rng)
    X = rng.normal(size=(40, 3))
    zs = ref_hidden_preactivations(layers, act, X)
    far = np.all([np.min(np.abs(z), axis=1) > KINK_MARGIN for z in zs], axis=0)
    X = X[far][:12]
    assert X.shape[0] == 12
    y = rng.integers(0, k, 12) if task == "classification" else rng.normal(0, 2.0, 12)
    # Huber: a delta that puts residuals on both branches (softmax residuals lie in [-1, 1]).
    delta = 0.15 if task == "classification" else 0.5
    return Network(sizes, act), flatten(layers), X, y, delta


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("loss,task", TASK_LOSSES)
def test_backward_matches_finite_differences(loss, task, act):
    net, theta, X, y, delta = _fd_problem(act, task, loss)
    spec = get_loss(loss, task)

    def objective(p):
        return float(spec.value(net.forward(p, X), y, task, delta))

    out, cache = net.forward_cache(theta, X)
    grad = net.backward(theta, X, cache, spec.grad(out, y, task, delta))
    fd = central_fd(objective, theta)
    assert grad.shape == (net.n_params,)
    assert np.max(np.abs(fd)) > 1e-6  # a vanishing gradient would make the check vacuous
    assert relative_error(grad, fd) < 1e-6


def test_fd_huber_cases_exercise_both_branches():
    # Guards the finite-difference test above: both Huber branches must really be hit.
    for task in ("classification", "regression"):
        net, theta, X, y, delta = _fd_problem("tanh", task, "huber")
        out = net.forward(theta, X)
        if task == "classification":
            p = np.exp(out - out.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            r = p - np.eye(3)[y]
        else:
            r = out[:, 0] - y
        assert np.any(np.abs(r) < delta) and np.any(np.abs(r) > delta)


# --- initialization -------------------------------------------------------------------------

@pytest.mark.parametrize("act", ACTS)
def test_init_variance_suits_activation(act):
    net = Network((256, 256, 256, 64), act)
    params = net.init_params(np.random.default_rng(0))
    kind = ACTIVATIONS[act].init
    assert kind in ("he", "glorot")
    (W1, b1), (W2, b2), (W3, b3) = net.unflatten(params)
    hidden_var = 2.0 / 256 if kind == "he" else 2.0 / (256 + 256)
    for W in (W1, W2):
        assert W.var() == pytest.approx(hidden_var, rel=0.05)
        assert abs(W.mean()) < 0.05 * np.sqrt(hidden_var)
    # The linear output layer gets Glorot whatever the hidden activation.
    assert W3.var() == pytest.approx(2.0 / (256 + 64), rel=0.06)
    for b in (b1, b2, b3):
        np.testing.assert_array_equal(b, 0.0)


def test_init_kind_for_known_activations():
    expected = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "sigmoid": "glorot"}
    for name, kind in expected.items():
        assert ACTIVATIONS[name].init == kind


def test_init_is_deterministic_for_a_seed():
    net = Network((2, 16, 16, 2), "tanh")
    a = net.init_params(np.random.default_rng(7))
    b = net.init_params(np.random.default_rng(7))
    c = net.init_params(np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.dtype == np.float64 and a.shape == (net.n_params,)
