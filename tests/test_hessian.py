"""The Hessian of the data loss: hvp vs finite differences and torch, Lanczos vs eigvalsh,
Hutchinson within its stated error, the registries' second derivatives, bad inputs."""

import numpy as np
import pytest

import lossviz
from lossviz import ACTIVATIONS, LOSSES, Network, hessian_eigs, hessian_trace, hvp, objective
import lossviz.hessian as hessian_mod

DELTA = 0.7  # Huber's delta: small enough that some residuals fall outside it
CASES = [(loss, act, task) for loss in LOSSES for act in ACTIVATIONS
         for task in ("classification", "regression") if task in LOSSES[loss].tasks]


def problem(loss: str, act: str, task: str, sizes=(3, 4, 3), n: int = 11, seed: int = 0):
    """Tiny network and data: params (P,), X (n, d), y (n,), and the keyword arguments."""
    rng = np.random.default_rng(seed)
    k = 3 if task == "classification" else 1
    net = Network((*sizes, k), act)
    params = net.init_params(rng) + 0.3 * rng.standard_normal(net.n_params)
    X = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, k, n) if task == "classification" else 1.5 * rng.standard_normal(n)
    kw = dict(layer_sizes=net.layer_sizes, activation=act, loss=loss, huber_delta=DELTA)
    return params, X, y, kw


def dense_from_hvp(params, X, y, kw) -> np.ndarray:
    """H column by column: H e_j for every unit vector e_j (no symmetrization)."""
    return np.array([hvp(params, e, X, y, **kw) for e in np.eye(params.size)]).T


def dense_from_fd(params, X, y, kw, h: float = 1e-5) -> np.ndarray:
    """H by central differences of the engine's gradient (lossviz.objective)."""
    cols = [(objective(params + h * e, X, y, **kw)[1] - objective(params - h * e, X, y, **kw)[1])
            / (2 * h) for e in np.eye(params.size)]
    return np.array(cols).T


# --- the registries ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_second_derivative_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(1).uniform(-4, 4, 200)
    z = z[np.abs(z) > 1e-3]  # away from a kink
    h = 1e-5
    fd = (act.derivative(z + h, act.value(z + h)) - act.derivative(z - h, act.value(z - h))) / (2 * h)
    np.testing.assert_allclose(act.second_derivative(z, act.value(z)), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name,task", [(n, t) for n in LOSSES for t in LOSSES[n].tasks])
def test_loss_output_hvp_matches_finite_differences_of_its_gradient(name, task):
    loss = LOSSES[name]
    assert loss.out_hvp is not None, f"loss {name!r} needs out_hvp for the Hessian"
    rng = np.random.default_rng(2)
    k = 4 if task == "classification" else 1
    out = 1.5 * rng.standard_normal((9, k))
    y = rng.integers(0, k, 9) if task == "classification" else rng.standard_normal(9)
    u = rng.standard_normal((3, 9, k))  # a batch of directions broadcasts against out
    h = 1e-6
    fd = (loss.grad(out + h * u, y, task, DELTA) - loss.grad(out - h * u, y, task, DELTA)) / (2 * h)
    got = loss.out_hvp(out, y, task, DELTA, u)
    assert got.shape == u.shape
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-9 * np.abs(fd).max())


# --- hvp ---------------------------------------------------------------------------------

@pytest.mark.parametrize("loss,act,task", CASES)
def test_hvp_matches_the_finite_difference_hessian_and_is_symmetric(loss, act, task):
    params, X, y, kw = problem(loss, act, task)
    H = dense_from_hvp(params, X, y, kw)
    scale = np.abs(H).max()
    assert scale > 1e-3  # a zero Hessian would pass everything below
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(H, dense_from_fd(params, X, y, kw), rtol=0, atol=2e-7 * scale)


def test_hvp_is_linear_in_v():
    params, X, y, kw = problem("cross_entropy", "tanh", "classification")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, params.size))
    np.testing.assert_allclose(hvp(params, 2 * a - 3 * b, X, y, **kw),
                               2 * hvp(params, a, X, y, **kw) - 3 * hvp(params, b, X, y, **kw),
                               rtol=1e-10, atol=1e-12)


def test_hvp_is_of_the_data_loss_only_and_leaves_its_inputs_alone():
    params, X, y, kw = problem("mse", "softplus", "regression")
    before = params.copy(), X.copy(), y.copy()
    v = np.ones(params.size)
    out = hvp(params, v, X, y, **kw)
    assert out.dtype == np.float64 and out.shape == params.shape
    for now, then in zip((params, X, y), before):
        np.testing.assert_array_equal(now, then)
    # the objective's L2 term would add l2 * v on weights: the Hessian here has no such term
    h = 1e-5
    fd = (objective(params + h * v, X, y, **kw)[1] - objective(params - h * v, X, y, **kw)[1]) / (2 * h)
    np.testing.assert_allclose(out, fd, rtol=0, atol=1e-7 * np.abs(fd).max())


TORCH_CASES = [("cross_entropy", "tanh", "classification"), ("mse", "softplus", "classification"),
               ("huber", "sigmoid", "regression"), ("mse", "leaky_relu", "regression")]


@pytest.mark.parametrize("loss,act,task", TORCH_CASES)
def test_hvp_matches_torch_double_backward(loss, act, task):
    torch = pytest.importorskip("torch", reason="the torch reference needs torch (pip install -e '.[test]')")
    F = torch.nn.functional
    acts = {"relu": torch.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "tanh": torch.tanh,
            "sigmoid": torch.sigmoid, "softplus": F.softplus, "linear": lambda t: t}
    params, X, y, kw = problem(loss, act, task, sizes=(2, 6, 5), n=40, seed=4)
    net = Network(kw["layer_sizes"], act)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def f(theta):  # the documented flat layout: per layer W (fan_out, fan_in) row-major, then b
        a = Xt
        for i, L in enumerate(net.layers):
            W = theta[L.w_start:L.b_start].reshape(L.fan_out, L.fan_in)
            a = a @ W.T + theta[L.b_start:L.end]
            if i < len(net.layers) - 1:
                a = acts[act](a)
        if loss == "cross_entropy":
            return F.cross_entropy(a, yt)
        pred, target = (torch.softmax(a, 1), F.one_hot(yt, a.shape[1]).double()) \
            if task == "classification" else (a[:, 0], yt)
        return F.mse_loss(pred, target) if loss == "mse" else F.huber_loss(pred, target, delta=DELTA)

    v = np.random.default_rng(5).standard_normal(params.size)
    _, ref = torch.autograd.functional.hvp(f, torch.from_numpy(params), torch.from_numpy(v))
    np.testing.assert_allclose(hvp(params, v, X, y, **kw), ref.numpy(), rtol=1e-9,
                               atol=1e-12 * np.abs(ref.numpy()).max())


# --- eigenvalues ------------------------------------------------------------------------------

@pytest.mark.parametrize("loss,act,task", CASES)
@pytest.mark.parametrize("k", [1, 3])
def test_eigs_match_eigvalsh_of_the_dense_hessian(loss, act, task, k):
    params, X, y, kw = problem(loss, act, task)
    H = dense_from_hvp(params, X, y, kw)
    ref = np.linalg.eigvalsh((H + H.T) / 2)
    scale = np.abs(ref).max()
    for which, want in (("largest", ref[::-1][:k]), ("smallest", ref[:k])):
        values, vectors = hessian_eigs(params, X, y, k=k, which=which, **kw)
        assert values.shape == (k,) and vectors.shape == (params.size, k)
        np.testing.assert_allclose(values, want, rtol=0, atol=1e-8 * scale)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=0), 1.0, rtol=1e-12)
        np.testing.assert_allclose(H @ vectors, vectors * values, rtol=0, atol=1e-6 * scale)


def test_a_repeated_eigenvalue_is_found_as_often_as_it_occurs():
    # Softmax ignores a shift of all logits: with no hidden layer (3 inputs -> 3 classes), the
    # directions adding one vector to every row of W and one number to every bias are a
    # 4-dimensional null space of a convex loss. One Lanczos run sees the eigenvalue 0 once.
    params, X, y, kw = problem("cross_entropy", "linear", "classification", sizes=(3,))
    ref = np.linalg.eigvalsh(dense_from_hvp(params, X, y, kw))
    assert np.sum(np.abs(ref) < 1e-12) == 4
    values, vectors = hessian_eigs(params, X, y, k=5, which="smallest", **kw)
    np.testing.assert_allclose(values, ref[:5], rtol=0, atol=1e-10 * np.abs(ref).max())
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(5), atol=1e-8)


def test_eigs_converge_through_explicit_restarts(monkeypatch):
    params, X, y, kw = problem("cross_entropy", "tanh", "classification", sizes=(3, 8, 6), n=30)
    H = dense_from_hvp(params, X, y, kw)
    ref = np.linalg.eigvalsh((H + H.T) / 2)
    monkeypatch.setattr(hessian_mod, "MAX_KRYLOV", 12)  # P = 111: runs must restart
    values, _ = hessian_eigs(params, X, y, k=2, **kw)
    np.testing.assert_allclose(values, ref[::-1][:2], rtol=0, atol=1e-8 * np.abs(ref).max())


def test_eigs_are_reproducible_with_their_seed_and_all_of_a_tiny_spectrum_is_reachable():
    params, X, y, kw = problem("huber", "sigmoid", "regression", sizes=(2, 2), n=7)
    a = hessian_eigs(params, X, y, k=2, seed=7, **kw)
    b = hessian_eigs(params, X, y, k=2, seed=7, **kw)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    P = params.size
    ref = np.linalg.eigvalsh(dense_from_hvp(params, X, y, kw))
    np.testing.assert_allclose(hessian_eigs(params, X, y, k=P, **kw)[0], ref[::-1],
                               rtol=0, atol=1e-10 * np.abs(ref).max())


# --- trace ------------------------------------------------------------------------------------

def _trace_and_error(params, X, y, kw, n_probes):
    H = dense_from_hvp(params, X, y, kw)
    stated = np.sqrt(2 * (np.sum(H * H) - np.sum(np.diag(H) ** 2)) / n_probes)
    return np.trace(H), stated


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hutchinson_trace_is_within_its_stated_error(seed):
    params, X, y, kw = problem("mse", "tanh", "classification", sizes=(3, 6, 5), n=25)
    exact, se = _trace_and_error(params, X, y, kw, 100)
    assert se > 1e-3 * abs(exact)  # a dense case: the off-diagonal entries do add noise
    est = hessian_trace(params, X, y, n_probes=100, seed=seed, **kw)
    assert abs(est - exact) <= 3 * se


def test_the_stated_standard_error_is_the_spread_of_the_estimates():
    params, X, y, kw = problem("cross_entropy", "softplus", "classification", sizes=(2, 5), n=20)
    exact, se = _trace_and_error(params, X, y, kw, 4)
    ests = np.array([hessian_trace(params, X, y, n_probes=4, seed=s, **kw) for s in range(300)])
    assert abs(ests.mean() - exact) <= 4 * se / np.sqrt(ests.size)  # unbiased
    assert 0.85 * se <= ests.std(ddof=1) <= 1.15 * se


# --- bad inputs -------------------------------------------------------------------------------

def _bad_calls():
    params, X, y, kw = problem("cross_entropy", "tanh", "classification")
    v = np.ones(params.size)
    nan_p = params.copy()
    nan_p[0] = np.nan
    yield "params shape", lambda: hvp(params[:-1], v, X, y, **kw)
    yield "v shape", lambda: hvp(params, v[:-1], X, y, **kw)
    yield "v NaN", lambda: hvp(params, v * np.nan, X, y, **kw)
    yield "params NaN", lambda: hessian_eigs(nan_p, X, y, **kw)
    yield "X width", lambda: hvp(params, v, X[:, :2], y, **kw)
    yield "X inf", lambda: hessian_trace(params, X * np.inf, y, **kw)
    yield "X empty", lambda: hessian_eigs(params, X[:0], y[:0], **kw)
    yield "y length", lambda: hvp(params, v, X, y[:-1], **kw)
    yield "y labels", lambda: hvp(params, v, X, y + 5, **kw)
    yield "which", lambda: hessian_eigs(params, X, y, which="biggest", **kw)
    yield "k zero", lambda: hessian_eigs(params, X, y, k=0, **kw)
    yield "k above P", lambda: hessian_eigs(params, X, y, k=params.size + 1, **kw)
    yield "k bool", lambda: hessian_eigs(params, X, y, k=True, **kw)
    yield "seed", lambda: hessian_eigs(params, X, y, seed=-1, **kw)
    yield "tol", lambda: hessian_eigs(params, X, y, tol=0.5, **kw)
    yield "n_probes", lambda: hessian_trace(params, X, y, n_probes=0, **kw)
    yield "huber_delta", lambda: hvp(params, v, X, y, **{**kw, "huber_delta": 0})
    yield "activation", lambda: hvp(params, v, X, y, **{**kw, "activation": "gelu"})
    yield "loss", lambda: hvp(params, v, X, y, **{**kw, "loss": "hinge"})
    yield "cross-entropy on regression", lambda: hvp(
        params[:-2], v[:-2], X, y, **{**kw, "layer_sizes": (3, 4, 3, 1)})


@pytest.mark.parametrize("what,call", list(_bad_calls()), ids=[w for w, _ in _bad_calls()])
def test_bad_inputs_raise_value_error(what, call):
    with pytest.raises(ValueError):
        call()


def test_an_overflowing_network_gives_nonfinite_products_but_no_eigenvalues():
    params, X, y, kw = problem("mse", "linear", "regression")
    huge = np.full(params.size, 1e200)
    assert not np.isfinite(hvp(huge, np.ones(params.size), X, y, **kw)).all()
    with pytest.raises(ValueError, match="overflows"):
        hessian_eigs(huge, X, y, **kw)
    with pytest.raises(ValueError, match="overflows"):
        hessian_trace(huge, X, y, **kw)


def test_exported_from_the_package():
    for name in ("hvp", "hessian_eigs", "hessian_trace"):
        assert name in lossviz.__all__ and getattr(lossviz, name) is getattr(hessian_mod, name)
