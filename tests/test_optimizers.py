"""Tests for lossviz.optimizers: the first steps equal torch.optim's update rules by hand.

The expected updates below are written out element by element from the torch.optim
documentation (defaults: no dampening, no weight decay), independently of the engine.
"""
import math

import numpy as np
import pytest

from lossviz import OPTIMIZERS, make_optimizer

P0 = [1.0, -2.0, 0.5]
GRADS = [[0.1, -0.2, 0.3], [0.4, 0.1, -0.5], [-0.3, 0.2, 0.05]]
LR = 0.1


def expected_sgd(p, grads, lr, mu):
    p = list(p)
    out = []
    for g in grads:
        p = [pi - lr * gi for pi, gi in zip(p, g)]
        out.append(p)
    return out


def expected_momentum(p, grads, lr, mu, nesterov=False):
    p, buf, out = list(p), None, []
    for g in grads:
        # torch: the buffer is a copy of g on the first step, then mu * buf + g
        buf = list(g) if buf is None else [mu * b + gi for b, gi in zip(buf, g)]
        step = [gi + mu * b for gi, b in zip(g, buf)] if nesterov else buf
        p = [pi - lr * s for pi, s in zip(p, step)]
        out.append(p)
    return out


def expected_nesterov(p, grads, lr, mu):
    return expected_momentum(p, grads, lr, mu, nesterov=True)


def expected_rmsprop(p, grads, lr, mu, alpha=0.99, eps=1e-8):
    p, sq, out = list(p), [0.0] * len(p), []
    for g in grads:
        sq = [alpha * s + (1 - alpha) * gi * gi for s, gi in zip(sq, g)]
        p = [pi - lr * gi / (math.sqrt(s) + eps) for pi, gi, s in zip(p, g, sq)]  # eps outside
        out.append(p)
    return out


def expected_adam(p, grads, lr, mu, b1=0.9, b2=0.999, eps=1e-8):
    p, m, v, out = list(p), [0.0] * len(p), [0.0] * len(p), []
    for t, g in enumerate(grads, 1):
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        m_hat = [mi / (1 - b1 ** t) for mi in m]
        v_hat = [vi / (1 - b2 ** t) for vi in v]
        p = [pi - lr * mh / (math.sqrt(vh) + eps) for pi, mh, vh in zip(p, m_hat, v_hat)]
        out.append(p)
    return out


EXPECTED = {
    "sgd": expected_sgd,
    "momentum": expected_momentum,
    "nesterov": expected_nesterov,
    "rmsprop": expected_rmsprop,
    "adam": expected_adam,
}


def test_every_registered_optimizer_has_a_hand_computed_reference():
    assert set(OPTIMIZERS) == set(EXPECTED)
    for name, spec in OPTIMIZERS.items():
        assert spec.name == name and spec.label and spec.explanation


@pytest.mark.parametrize("mu", [0.9, 0.5])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_first_three_steps_equal_hand_computed_update(name, mu):
    params = np.array(P0)
    opt = make_optimizer(name, 3, LR, momentum=mu)
    expected = EXPECTED[name](P0, GRADS, LR, mu)
    for step, g in enumerate(GRADS):
        opt.step(params, np.array(g))  # in place
        np.testing.assert_allclose(params, expected[step], rtol=1e-14, atol=1e-15,
                                   err_msg=f"{name}, step {step + 1}")


def test_momentum_differs_from_sgd_only_after_first_step():
    # Guards the momentum reference: with buffer = g at step 1, the first step is plain SGD.
    ref_sgd = expected_sgd(P0, GRADS, LR, 0.9)
    ref_mom = expected_momentum(P0, GRADS, LR, 0.9)
    assert ref_sgd[0] == ref_mom[0] and ref_sgd[1] != ref_mom[1]


def test_adam_first_step_moves_each_coordinate_by_about_lr():
    # The bias correction makes Adam's first step lr * sign(g) (up to eps).
    params = np.array(P0)
    make_optimizer("adam", 3, LR).step(params, np.array(GRADS[0]))
    np.testing.assert_allclose(params - P0, -LR * np.sign(GRADS[0]), rtol=1e-6)


def test_optimizer_never_sees_the_model_only_the_vector():
    params = np.zeros(5)
    ref = params
    make_optimizer("momentum", 5, 0.5).step(params, np.ones(5))
    assert params is ref
    np.testing.assert_allclose(params, -0.5)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_learning_rate_raises(lr):
    with pytest.raises(ValueError, match="learning rate"):
        make_optimizer("sgd", 3, lr)


def test_unknown_optimizer_lists_allowed_names():
    with pytest.raises(ValueError) as err:
        make_optimizer("lbfgs", 3, 0.1)
    for name in OPTIMIZERS:
        assert name in str(err.value)
