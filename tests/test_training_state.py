"""Trainer.state_dict / from_state_dict: a restored trainer continues bit for bit."""
import json

import numpy as np
import pytest

from lossviz import OPTIMIZERS, RunConfig, Trainer

MINIBATCH = RunConfig(dataset="moons", n_samples=100, hidden=(6,), batch_size=10, epochs=30)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_restored_trainer_continues_bit_for_bit(optimizer):
    cfg = MINIBATCH.replace(optimizer=optimizer, lr=0.05)
    a, plain = Trainer(cfg), Trainer(cfg)
    a.advance(13)  # mid-epoch: the shuffled order, its RNG and the buffers must all survive
    b = Trainer.from_state_dict(cfg, a.state_dict())
    b.advance(20)
    plain.advance(33)
    np.testing.assert_array_equal(b.params, plain.params)
    np.testing.assert_array_equal(b.trajectory, plain.trajectory)
    assert b.step_count == plain.step_count == 33
    assert b.evaluate() == plain.evaluate()


def test_state_dict_is_arrays_and_plain_scalars():
    t = Trainer(MINIBATCH)
    t.advance(3)
    d = t.state_dict()
    scalars = {k: v for k, v in d.items() if not isinstance(v, (np.ndarray, dict))}
    json.dumps(scalars)
    json.dumps(d["rng"])
    assert d["trajectory"].shape[1] == d["params"].shape[0] == t.net.n_params
    d["params"][:] = 0  # a copy: the trainer is untouched
    assert np.any(t.params != 0)


def test_mismatched_state_is_refused():
    d = Trainer(MINIBATCH).state_dict()
    with pytest.raises(ValueError, match="shape|match"):
        Trainer.from_state_dict(MINIBATCH.replace(hidden=(7,)), d)
    bad = dict(d, optimizer={"t": 1, "m": np.zeros(3), "v": np.zeros(3)})
    with pytest.raises(ValueError, match="optimizer state"):
        Trainer.from_state_dict(MINIBATCH, bad)


def test_diverged_state_round_trips():
    cfg = RunConfig(dataset="sine", loss="mse", optimizer="sgd", lr=100.0, n_samples=100, epochs=50)
    t = Trainer(cfg)
    t.advance(50)
    assert t.status == "diverged"
    r = Trainer.from_state_dict(cfg, t.state_dict())
    assert r.finished and r.message == t.message and r.advance(5) == 0
