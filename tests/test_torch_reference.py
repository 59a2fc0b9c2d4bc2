"""The engine's numbers rebuilt independently in PyTorch (the conventions lossviz promises).

PyTorch is in the `test` extra (a CPU wheel, pinned); these tests skip only where it is not
installed, and say so.
"""

import numpy as np
import pytest

import lossviz
from lossviz import Network, RunConfig, Trainer

torch = pytest.importorskip("torch", reason="PyTorch reference tests need torch (pip install -e '.[test]')")
nn = torch.nn
F = torch.nn.functional

TORCH_ACT = {
    "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
    "softplus": lambda: nn.Softplus(beta=1.0), "linear": nn.Identity,
}


def torch_model(net: Network, params: np.ndarray) -> nn.Sequential:
    """nn.Sequential with the flat vector unpacked as documented: W (out, in) row-major, then b."""
    mods = []
    for i, ((W, b), L) in enumerate(zip(net.unflatten(params), net.layers)):
        lin = nn.Linear(L.fan_in, L.fan_out).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
        mods.append(lin)
        if i < len(net.layers) - 1:
            mods.append(TORCH_ACT[net.activation]())
    return nn.Sequential(*mods)


def flat_grad(model: nn.Sequential) -> np.ndarray:
    parts = []
    for m in model:
        if isinstance(m, nn.Linear):
            parts += [m.weight.grad.numpy().ravel(), m.bias.grad.numpy().ravel()]
    return np.concatenate(parts)


def torch_loss(name: str, out, y, task: str, delta: float = 1.0):
    if task == "classification":
        if name == "cross_entropy":
            return F.cross_entropy(out, y)
        target = F.one_hot(y, out.shape[1]).double()
        pred = torch.softmax(out, dim=1)
    else:
        pred, target = out[:, 0], y
    if name == "mse":
        return F.mse_loss(pred, target)
    return F.huber_loss(pred, target, delta=delta)


CASES = [(loss, act, task) for loss in lossviz.LOSSES for act in lossviz.ACTIVATIONS
         for task in ("classification", "regression")
         if not (loss == "cross_entropy" and task == "regression")]


@pytest.mark.parametrize("loss,act,task", CASES)
def test_loss_and_gradient_match_torch(loss, act, task):
    rng = np.random.default_rng(7)
    k = 3 if task == "classification" else 1
    net = Network((4, 6, 5, k), act)
    params = net.init_params(rng) + 0.1 * rng.standard_normal(net.n_params)
    X = rng.standard_normal((13, 4))
    y = rng.integers(0, k, 13) if task == "classification" else 2.0 * rng.standard_normal(13)
    out, cache = net.forward_cache(params, X)
    value = lossviz.loss_value(loss, out, y, task, huber_delta=0.7)
    grad = net.backward(params, X, cache, lossviz.loss_grad(loss, out, y, task, huber_delta=0.7))

    model = torch_model(net, params)
    yt = torch.from_numpy(y)
    t_loss = torch_loss(loss, model(torch.from_numpy(X)), yt, task, 0.7)
    t_loss.backward()
    assert value == pytest.approx(t_loss.item(), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(grad, flat_grad(model), rtol=1e-9, atol=1e-13)


TORCH_OPT = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
}


@pytest.mark.parametrize("optimizer", list(lossviz.OPTIMIZERS))
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_training_steps_match_torch_optim(optimizer, l2):
    """Ten full-batch steps: same weights as torch.optim (L2 = torch's weight_decay on weights)."""
    config = RunConfig(dataset="moons", n_samples=60, hidden=(5,), activation="tanh", optimizer=optimizer,
                       lr=0.05, l2=l2, epochs=10)
    trainer = Trainer(config)
    model = torch_model(trainer.net, trainer.params_init)
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    biases = [m.bias for m in model if isinstance(m, nn.Linear)]
    opt = TORCH_OPT[optimizer]([{"params": weights, "weight_decay": l2}, {"params": biases}], 0.05)
    X, y = torch.tensor(trainer.data.X_train), torch.tensor(trainer.data.y_train)
    for _ in range(10):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    trainer.advance(10)
    theta = np.concatenate([t.detach().numpy().ravel() for m in model if isinstance(m, nn.Linear)
                            for t in (m.weight, m.bias)])
    np.testing.assert_allclose(trainer.params, theta, rtol=1e-9, atol=1e-12)


def test_surface_matches_torch_evaluated_at_each_point():
    rng = np.random.default_rng(3)
    data = lossviz.load_dataset("blobs", n_samples=200, seed=1)
    net = Network((2, 8, 8, 3), "relu")
    params = net.init_params(rng)
    d1, d2 = lossviz.random_directions(params, net, seed=4)
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-0.5, 0.5, 3)
    z = lossviz.surface(params, d1, d2, alphas, betas, data.X_train, data.y_train,
                        layer_sizes=net.layer_sizes, activation="relu", loss="cross_entropy", dtype=np.float64)
    X, y = torch.tensor(data.X_train), torch.tensor(data.y_train)
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            model = torch_model(net, params + a * d1 + b * d2)
            with torch.no_grad():
                assert z[i, j] == pytest.approx(F.cross_entropy(model(X), y).item(), rel=1e-10)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_preconditioned_sharpness_matches_torch_state_and_autograd_hvp(optimizer):
    """λmax(P⁻¹H) after 20 full-batch steps: P from torch.optim's own state (Adam's exp_avg_sq and
    step, RMSprop's square_avg), H from torch's double backward, dense -- against lossviz's
    preconditioned_sharpness on lossviz's own optimizer state."""
    config = RunConfig(dataset="moons", n_samples=60, hidden=(5, 4), activation="tanh", optimizer=optimizer,
                       lr=0.01, epochs=20)
    trainer = Trainer(config)
    model = torch_model(trainer.net, trainer.params_init)
    opt = TORCH_OPT[optimizer](model.parameters(), 0.01)
    X, y = torch.tensor(trainer.data.X_train), torch.tensor(trainer.data.y_train)
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    trainer.advance(20)

    params = [t for m in model if isinstance(m, nn.Linear) for t in (m.weight, m.bias)]
    if optimizer == "adam":
        (b1, b2), eps = opt.defaults["betas"], opt.defaults["eps"]
        t = float(opt.state[params[0]]["step"])
        v = torch.cat([opt.state[q]["exp_avg_sq"].ravel() for q in params]).numpy()
        p = (1 - b1 ** t) * (np.sqrt(v / (1 - b2 ** t)) + eps)
    else:
        p = torch.cat([opt.state[q]["square_avg"].ravel() for q in params]).numpy() ** 0.5 + opt.defaults["eps"]
    grads = torch.autograd.grad(F.cross_entropy(model(X), y), params, create_graph=True)
    flat = torch.cat([g.ravel() for g in grads])
    H = np.array([torch.cat([h.ravel() for h in torch.autograd.grad(flat[i], params, retain_graph=True)]).numpy()
                  for i in range(flat.numel())])
    root = 1 / np.sqrt(p)
    expected = np.linalg.eigvalsh(root[:, None] * (H + H.T) / 2 * root[None, :])[-1]

    np.testing.assert_allclose(trainer.optimizer.preconditioner(), p, rtol=1e-9)
    value = lossviz.preconditioned_sharpness(trainer.params, trainer.data.X_train, trainer.data.y_train,
                                             trainer.optimizer.preconditioner(), layer_sizes=trainer.net.layer_sizes,
                                             activation="tanh", loss="cross_entropy")
    assert value == pytest.approx(expected, rel=1e-7)
