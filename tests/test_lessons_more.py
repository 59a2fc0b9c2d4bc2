"""The lessons of issue 18.5 and their claim kinds (``app/page/claims_more.py``): each claim holds at
its lesson's settings on a few seeds, and fails on the mutations of the engine or of the lesson
named in ``CATCHES`` (``tests/test_lessons.py`` reads CATCHES too)."""

import dataclasses
import importlib
from types import MappingProxyType

import numpy as np
import pytest

import lossviz.connectivity as connectivity
import lossviz.rescale as rescale
from app.page import lessons as lz
from lossviz import ACTIVATIONS, Network
from lossviz.optimizers import SGD, Adam

SHARPNESS = importlib.import_module("lossviz.sharpness")
_orig_sharpness = SHARPNESS.sharpness
LESSONS = lz.load_lessons()

CATCHES = {
    "catapult": "λmax doubled (η·λ0 above 4) or halved (below 2/η at the start: no catapult to see); gradient "
                "descent stepping at half the rate it reports (no spike); a lesson rate below 2/λ0 (0.2: the "
                "loss just falls) or far above 4/λ0 (0.9: it diverges)",
    "sharpness-not-invariant": "a rescaling that forgets the 1/a on the next layer (the loss changes); a ReLU "
                               "capped at 1, which is not positively homogeneous (the outputs change)",
    "fork-barrier": "forks that ignore their seed and draw one minibatch order (no barrier at step 0); a lesson "
                    "that forks after 1 step instead of 300 (the barrier does not shrink)",
    "init-to-final-line": "Adam without its division by √v̂ (momentum SGD: its line falls all the way); the line "
                          "read from the final weights back to the start (SGD's rises); Adam at a rate of 0.01, "
                          "where its line is monotonic on this seed",
}


def _lesson(lesson_id, **changes):
    lesson = lz.lesson_by_id(LESSONS, lesson_id)
    return dataclasses.replace(lesson, settings=MappingProxyType({**lesson.settings, **changes}))


@pytest.mark.parametrize("lesson_id", list(CATCHES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claim_holds_on_three_seeds(lesson_id, seed):
    verdict = _lesson(lesson_id, seed=seed).check()
    assert verdict.holds, f"seed {seed}: {verdict}"


def test_catapult_numbers_are_in_the_regime_the_text_names():
    verdict = _lesson("catapult").check()
    n = verdict.evidence.numbers[0]
    assert 2 < n["eta_lambda0"] < 4 and n["spike"] >= 1.5 and n["fell"] <= 0.5 and n["end_share"] < 0.9


def _sharpness_times(f):
    return lambda mp: mp.setattr(SHARPNESS, "sharpness", lambda *a, **k: f * _orig_sharpness(*a, **k))


_orig_rescale, _orig_fork = rescale.rescale_layers, connectivity.fork


def _rescale_without_inverse(params, *, layer_sizes, activation, layer, a):
    out = np.array(params, dtype=float)
    L = Network(layer_sizes, activation).layers[layer]
    out[L.w_start:L.end] *= a
    return out


def _capped_relu(mp):
    f = lambda z: np.clip(z, 0, 1)  # noqa: E731

    def inplace(z):
        z[...] = f(z)
        return z
    mp.setitem(ACTIVATIONS, "relu", dataclasses.replace(ACTIVATIONS["relu"], value=f, inplace=inplace))


def _adam_without_sqrt_v(self, params, grad):  # m̂ alone: momentum SGD at Adam's rate
    self.m[:] = self.b1 * self.m + (1 - self.b1) * grad
    params -= self.lr / (1 - self.b1 ** self.t) * self.m


MUTATIONS = {
    "sharpness-not-invariant": {
        "no 1/a on the next layer": (lambda mp: mp.setattr(rescale, "rescale_layers", _rescale_without_inverse), {}),
        "a ReLU capped at 1": (_capped_relu, {}),
    },
    "fork-barrier": {
        "forks ignore their seed": (lambda mp: mp.setattr(connectivity, "fork", lambda t, seed: _orig_fork(t, 0)), {}),
        "forked after 1 step": (lambda mp: None, "k=1"),
    },
    "init-to-final-line": {
        "Adam without √v̂": (lambda mp: mp.setattr(Adam, "_update", _adam_without_sqrt_v), {}),
        "the line read backwards": (lambda mp: mp.setattr(connectivity, "init_to_final", lambda t, points=41:
                                                          connectivity.run_line(t, t.params, t.params_init, points)), {}),
        "Adam at 0.01": (lambda mp: None, {"lr": 0.01}),
    },
    "catapult": {
        "λmax doubled": (_sharpness_times(2.0), {}),
        "λmax halved": (_sharpness_times(0.5), {}),
        "steps at half the rate": (lambda mp: mp.setattr(
            SGD, "_update", lambda self, params, grad: params.__isub__(0.5 * self.lr * grad)), {}),
        "a rate below 2/λ0": (lambda mp: None, {"lr": 0.2}),
        "a rate far above 4/λ0": (lambda mp: None, {"lr": 0.9}),
    },
}


@pytest.mark.parametrize("lesson_id, mutation", [(l, m) for l, ms in MUTATIONS.items() for m in ms])
def test_claim_fails_on_a_wrong_engine_or_lesson(monkeypatch, lesson_id, mutation):
    patch, changes = MUTATIONS[lesson_id][mutation]
    patch(monkeypatch)
    if isinstance(changes, str):  # a change of the claim's parameters, "name=value"
        key, value = changes.split("=")
        lesson = lz.lesson_by_id(LESSONS, lesson_id)
        params = MappingProxyType({**lesson.claim.params, key: int(value)})
        lesson = dataclasses.replace(lesson, claim=dataclasses.replace(lesson.claim, params=params))
        verdict = lesson.check()
    else:
        verdict = _lesson(lesson_id, **changes).check()
    assert not verdict.holds, f"{mutation}: {verdict}"


def test_catapult_is_refused_for_other_optimizers_and_minibatches():
    lesson = lz.lesson_by_id(LESSONS, "catapult")
    raw = {"kind": "catapult", "run": "a", "after": 30}
    for change, words in (({"optimizer": "momentum"}, "plain gradient descent"), ({"batch_size": 32}, "full-batch")):
        config = lesson.config().replace(**change)
        with pytest.raises(ValueError, match=words):
            lz._claim(raw, config, None, lambda key, problem: ValueError(f"{key}: {problem}"))
