"""The training fast path (lossviz.fast_step, Workspace, in-place optimizers) equals the exact
float64 path bit for bit: same forward, loss, gradient and update, step after step."""
import pickle

import numpy as np
import pytest

from lossviz import OPTIMIZERS, RunConfig, Trainer
from lossviz.activations import ACTIVATIONS
from lossviz.losses import LOSSES
from lossviz.model import Network, Workspace
from lossviz.optimizers import make_optimizer

BASE = RunConfig(dataset="moons", n_samples=120, hidden=(7, 5), epochs=50, seed=4)
REGRESSION = {"dataset": "sine", "n_samples": 120}


def exact_run(config: RunConfig, steps: int) -> tuple[Trainer, list[float]]:
    """Steps through the exact path: objective_grad on the step's rows, then the update as
    the optimizers wrote it before they had buffers (fresh arrays each step)."""
    t = Trainer(config)
    values = []
    for _ in range(steps):
        value, grad = t.objective_grad(t._batch())
        values.append(value)
        reference_update(t.optimizer, t.params, grad)
        t.step_count += 1
    return t, values


def reference_update(opt, params, grad) -> None:
    """The optimizers' update rules, one fresh array per operation (the exact path)."""
    opt.t += 1
    name = type(opt).__name__
    if name == "SGD":
        params -= opt.lr * grad
    elif name in ("Momentum", "Nesterov"):
        if opt.t == 1:
            opt.buf[:] = grad
        else:
            opt.buf *= opt.mu
            opt.buf += grad
        params -= opt.lr * (grad + opt.mu * opt.buf if opt.nesterov else opt.buf)
    elif name == "RMSprop":
        opt.sq *= opt.alpha
        opt.sq += (1 - opt.alpha) * grad * grad
        params -= opt.lr * grad / (np.sqrt(opt.sq) + opt.eps)
    elif name == "Adam":
        opt.m[:] = opt.m * opt.b1 + (1 - opt.b1) * grad
        opt.v[:] = opt.v * opt.b2 + (1 - opt.b2) * grad * grad
        denom = np.sqrt(opt.v / (1 - opt.b2 ** opt.t))
        denom += opt.eps
        params -= (opt.lr / (1 - opt.b1 ** opt.t)) * opt.m / denom
    else:
        raise AssertionError(f"no reference update for {name}: add one")


def fast_run(config: RunConfig, steps: int) -> tuple[Trainer, list[float]]:
    t = Trainer(config)
    values, real = [], t._step_objective_grad

    def recording(views):
        value, grad = real(views)
        values.append(value)
        return value, grad

    t._step_objective_grad = recording
    assert t.advance(steps) == steps
    return t, values


def assert_same_run(config: RunConfig, steps: int) -> None:
    (a, va), (b, vb) = exact_run(config, steps), fast_run(config, steps)
    assert va == vb  # every step's objective, to the last bit
    np.testing.assert_array_equal(a.params, b.params)
    for key, buf in a.optimizer.state_dict().items():
        np.testing.assert_array_equal(buf, b.optimizer.state_dict()[key])


@pytest.mark.parametrize("batch_size", [0, 32, 7])  # full batch; minibatches, the last smaller
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_fast_path_equals_exact_path_for_every_optimizer(optimizer, batch_size):
    config = BASE.replace(optimizer=optimizer, batch_size=batch_size, lr=0.05, momentum=0.8)
    assert_same_run(config, 40)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("batch_size", [0, 16])
def test_fast_path_equals_exact_path_for_every_loss_and_activation(loss, activation, batch_size):
    data = {} if "classification" in LOSSES[loss].tasks else REGRESSION
    config = BASE.replace(loss=loss, activation=activation, batch_size=batch_size,
                          huber_delta=0.3, **data)
    assert_same_run(config, 25)


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_fast_path_equals_exact_path_for_regression(loss):
    assert_same_run(BASE.replace(loss=loss, batch_size=10, activation="relu", **REGRESSION), 30)


@pytest.mark.parametrize("l2, l1", [(0.05, 0.0), (0.0, 0.01), (0.02, 0.003)])
@pytest.mark.parametrize("batch_size", [0, 32])
def test_fast_path_equals_exact_path_with_penalties(l2, l1, batch_size):
    assert_same_run(BASE.replace(l2=l2, l1=l1, batch_size=batch_size, optimizer="momentum"), 30)


@pytest.mark.parametrize("config", [
    RunConfig(dataset="spirals3", n_samples=150, hidden=(9,), batch_size=20, epochs=5),  # K = 3
    RunConfig(dataset="digits", n_samples=200, hidden=(10,), batch_size=64, epochs=8),  # 64 inputs
    RunConfig(dataset="iris", n_samples=150, hidden=(), epochs=30),  # no hidden layer
    RunConfig(dataset="blobs", n_samples=100, hidden=(4, 4, 4), optimizer="rmsprop", epochs=30),
], ids=["spirals3", "digits", "iris", "blobs-deep"])
def test_fast_path_equals_exact_path_for_other_shapes(config):
    assert_same_run(config, 20)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [(2, 16, 16, 2), (3, 1), (5, 9, 4, 3), (64, 10, 10)])
def test_workspace_equals_forward_cache_and_backward(activation, sizes):
    net = Network(sizes, activation)
    rng = np.random.default_rng(7)
    params = net.init_params(rng)
    X, g_out = rng.normal(size=(33, sizes[0])), rng.normal(size=(33, sizes[-1]))
    ws, views = Workspace(net, 33), net.unflatten(params)
    out, cache = net.forward_cache(params, X)
    np.testing.assert_array_equal(ws.forward(views, X), out)
    np.testing.assert_array_equal(ws.backward(views, X, g_out), net.backward(params, X, cache, g_out))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_in_place_updates_equal_the_formulas(name):
    rng = np.random.default_rng(3)
    a, b = make_optimizer(name, 50, 0.03, 0.85), make_optimizer(name, 50, 0.03, 0.85)
    pa = rng.normal(size=50)
    pb = pa.copy()
    for _ in range(6):
        g = rng.normal(size=50)
        a.step(pa, g)
        reference_update(b, pb, g)
        np.testing.assert_array_equal(pa, pb)


def test_state_dict_holds_only_the_named_buffers():
    d = make_optimizer("adam", 4, 0.1).state_dict()
    assert sorted(d) == ["m", "t", "v"] and d["m"].shape == (4,)
    assert sorted(make_optimizer("sgd", 4, 0.1).state_dict()) == ["t"]


def test_caches_are_rebuilt_after_restore_and_unpickling():
    config = BASE.replace(batch_size=16)
    a, plain = Trainer(config), Trainer(config)
    a.advance(5)  # mid-epoch: the epoch's rows must follow the restored order
    for b in (Trainer.from_state_dict(config, a.state_dict()), pickle.loads(pickle.dumps(a))):
        assert b._rows is None and b._buffers == {}
        b.advance(20)
        plain_copy = pickle.loads(pickle.dumps(plain))
        plain_copy.advance(25)
        np.testing.assert_array_equal(b.params, plain_copy.params)
