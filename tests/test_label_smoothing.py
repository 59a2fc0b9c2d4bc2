"""Cross-entropy with label smoothing ε, rebuilt in PyTorch (``CrossEntropyLoss(label_smoothing=ε)``)
and by finite differences: value, gradient, per-sample values, the Hessian-vector product, the
trainer's steps, the surface, and the profile whose push vanishes at p = 1 − ε + ε/K.
"""

import numpy as np
import pytest

import lossviz
from lossviz import Network, RunConfig, Trainer, get_loss
from lossviz.losses import hyper_value, loss_grad_per_sample, loss_per_sample, loss_profile

torch = pytest.importorskip("torch", reason="PyTorch reference tests need torch (pip install -e '.[test]')")
from test_torch_reference import flat_grad, torch_model  # noqa: E402

F = torch.nn.functional
CE = get_loss("cross_entropy")


def _problem(k: int, seed: int = 7, n: int = 13, act: str = "tanh"):
    rng = np.random.default_rng(seed)
    net = Network((4, 6, 5, k), act)
    params = net.init_params(rng) + 0.3 * rng.standard_normal(net.n_params)
    X = rng.standard_normal((n, 4))
    y = rng.integers(0, k, n)
    return net, params, X, y


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.45, 0.9])
def test_value_gradient_and_per_sample_match_torch(k, eps):
    net, params, X, y = _problem(k)
    value, grad = lossviz.objective(params, X, y, layer_sizes=net.layer_sizes, activation="tanh",
                                    loss="cross_entropy", label_smoothing=eps)
    out = net.forward(params, X)
    model = torch_model(net, params)
    t_out = model(torch.from_numpy(X))
    t_loss = F.cross_entropy(t_out, torch.from_numpy(y), label_smoothing=eps)
    t_loss.backward()
    assert value == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(grad, flat_grad(model), rtol=1e-9, atol=1e-13)
    t_rows = F.cross_entropy(t_out, torch.from_numpy(y), label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(loss_per_sample("cross_entropy", out, y, "classification", label_smoothing=eps),
                               t_rows.detach().numpy(), rtol=1e-12)
    # the fused pass the trainer takes and the separate ones agree
    fused_v, fused_g = CE.value_and_grad(out, y, "classification", eps)
    assert fused_v == pytest.approx(float(CE.value(out, y, "classification", eps)), rel=1e-13)
    np.testing.assert_allclose(fused_g, CE.grad(out, y, "classification", eps), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("eps", [0.1, 0.6])
def test_hessian_vector_product_matches_torch_double_backward(k, eps):
    net, params, X, y = _problem(k, seed=3)
    v = np.random.default_rng(1).standard_normal(net.n_params)
    hv = lossviz.hvp(params, v, X, y, layer_sizes=net.layer_sizes, activation="tanh",
                     loss="cross_entropy", label_smoothing=eps)
    model = torch_model(net, params)
    ps = [t for m in model if isinstance(m, torch.nn.Linear) for t in (m.weight, m.bias)]
    loss = F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y), label_smoothing=eps)
    g = torch.cat([t.ravel() for t in torch.autograd.grad(loss, ps, create_graph=True)])
    t_hv = torch.cat([t.ravel() for t in torch.autograd.grad(g @ torch.from_numpy(v), ps)])
    np.testing.assert_allclose(hv, t_hv.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("eps", [0.05, 0.5])
def test_per_sample_gradient_and_out_hvp_match_finite_differences(eps):
    rng = np.random.default_rng(11)
    out, y, h = 2.0 * rng.standard_normal((7, 3)), rng.integers(0, 3, 7), 1e-6
    g = loss_grad_per_sample("cross_entropy", out, y, "classification", label_smoothing=eps)
    u = rng.standard_normal(out.shape)
    for n in range(out.shape[0]):
        for j in range(3):
            e = np.zeros_like(out)
            e[n, j] = h
            fd = (CE.per_sample(out + e, y, "classification", eps)[n]
                  - CE.per_sample(out - e, y, "classification", eps)[n]) / (2 * h)
            assert g[n, j] == pytest.approx(fd, abs=1e-8)
    fd_hvp = (CE.grad(out + h * u, y, "classification", eps) - CE.grad(out - h * u, y, "classification", eps)) / (2 * h)
    np.testing.assert_allclose(CE.out_hvp(out, y, "classification", eps, u), fd_hvp, atol=1e-8)


def test_smoothing_changes_the_loss_and_its_gradient():
    """A guard against an ε that never reaches the loss: ε = 0.2 must differ from ε = 0."""
    net, params, X, y = _problem(3)
    kw = dict(layer_sizes=net.layer_sizes, activation="tanh", loss="cross_entropy")
    v0, g0 = lossviz.objective(params, X, y, **kw)
    v1, g1 = lossviz.objective(params, X, y, label_smoothing=0.2, **kw)
    assert abs(v1 - v0) > 1e-3 and np.abs(g1 - g0).max() > 1e-4


def test_trainer_steps_match_torch_sgd_with_label_smoothing():
    """Full batch: the trainer's in-buffer cross-entropy (plain) must step aside for ε > 0."""
    config = RunConfig(dataset="blobs", n_samples=80, hidden=(6,), activation="tanh", optimizer="sgd",
                       lr=0.5, label_smoothing=0.2, epochs=6)
    trainer = Trainer(config)
    model = torch_model(trainer.net, trainer.params_init)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    X, y = torch.tensor(trainer.data.X_train), torch.tensor(trainer.data.y_train)
    for _ in range(6):
        opt.zero_grad()
        F.cross_entropy(model(X), y, label_smoothing=0.2).backward()
        opt.step()
    trainer.advance(6)
    theta = np.concatenate([t.detach().numpy().ravel() for m in model if isinstance(m, torch.nn.Linear)
                            for t in (m.weight, m.bias)])
    np.testing.assert_allclose(trainer.params, theta, rtol=1e-9, atol=1e-12)
    with torch.no_grad():
        assert trainer.evaluate().train_loss == pytest.approx(
            F.cross_entropy(model(X), y, label_smoothing=0.2).item(), rel=1e-9)


def test_surface_with_smoothing_matches_torch_and_differs_from_plain():
    data = lossviz.load_dataset("blobs", n_samples=150, seed=1)
    net = Network((2, 8, 3), "relu")
    params = net.init_params(np.random.default_rng(3))
    d1, d2 = lossviz.random_directions(params, net, seed=4)
    a, b = np.linspace(-1, 1, 3), np.linspace(-0.5, 0.5, 2)
    kw = dict(layer_sizes=net.layer_sizes, activation="relu", loss="cross_entropy", dtype=np.float64)
    z = lossviz.surface(params, d1, d2, a, b, data.X_train, data.y_train, label_smoothing=0.3, **kw)
    plain = lossviz.surface(params, d1, d2, a, b, data.X_train, data.y_train, **kw)
    X, y = torch.tensor(data.X_train), torch.tensor(data.y_train)
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            with torch.no_grad():
                t = F.cross_entropy(torch_model(net, params + ai * d1 + bj * d2)(X), y, label_smoothing=0.3)
            assert z[i, j] == pytest.approx(t.item(), rel=1e-9)
    assert np.abs(z - plain).min() > 1e-3


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_profile_push_vanishes_at_one_minus_eps_plus_eps_over_k(k, eps):
    """dL/dz_true = p − (1 − ε + ε/K): zero there, negative below, positive above (it pushes the
    true logit down once the network is more sure than its target)."""
    target = 1 - eps + eps / k
    p = np.array([0.5 * target, target, min(1.0, target + 0.5 * (1 - target))])
    _, grad = loss_profile("cross_entropy", "classification", p, k=k, label_smoothing=eps)
    np.testing.assert_allclose(grad, p - target, atol=1e-11)  # p is clipped 1e-12 below 1
    assert grad[1] == pytest.approx(0.0, abs=1e-11)
    if eps:
        assert grad[2] > 0


def test_hyper_value_picks_the_losses_own_parameter_and_checks_both():
    assert hyper_value(CE, 0.5, 0.2) == 0.2
    assert hyper_value(get_loss("huber"), 0.5, 0.2) == 0.5
    assert hyper_value(get_loss("mse"), 0.5, 0.2) == 0.0
    for bad in (1.0, -0.1, float("nan"), "x"):
        with pytest.raises(ValueError, match="label_smoothing"):
            hyper_value(CE, 1.0, bad)
    assert RunConfig(label_smoothing=0.1).loss_hyper == 0.1
    assert RunConfig(loss="huber", huber_delta=0.3, label_smoothing=0.1).loss_hyper == 0.3
    with pytest.raises(ValueError, match="label smoothing must be a number from 0 to below 1"):
        RunConfig(label_smoothing=1.0)
