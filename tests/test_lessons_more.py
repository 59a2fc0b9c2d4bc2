"""The lessons of issue 18.5 and their claim kinds (``app/claims_more.py``): each claim holds at
its lesson's settings on a few seeds, and fails on the mutations of the engine or of the lesson
named in ``CATCHES`` (``tests/test_lessons.py`` reads CATCHES too)."""

import dataclasses
import importlib
from types import MappingProxyType

import pytest

from app import lessons as lz
from lossviz.optimizers import SGD

SHARPNESS = importlib.import_module("lossviz.sharpness")
_orig_sharpness = SHARPNESS.sharpness
LESSONS = lz.load_lessons()

CATCHES = {
    "catapult": "λmax doubled (η·λ0 above 4) or halved (below 2/η at the start: no catapult to see); gradient "
                "descent stepping at half the rate it reports (no spike); a lesson rate below 2/λ0 (0.2: the "
                "loss just falls) or far above 4/λ0 (0.9: it diverges)",
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


MUTATIONS = {
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
    verdict = _lesson(lesson_id, **changes).check()
    assert not verdict.holds, f"{mutation}: {verdict}"


def test_catapult_is_refused_for_other_optimizers_and_minibatches():
    lesson = lz.lesson_by_id(LESSONS, "catapult")
    raw = {"kind": "catapult", "run": "a", "after": 30}
    for change, words in (({"optimizer": "momentum"}, "plain gradient descent"), ({"batch_size": 32}, "full-batch")):
        config = lesson.config().replace(**change)
        with pytest.raises(ValueError, match=words):
            lz._claim(raw, config, None, lambda key, problem: ValueError(f"{key}: {problem}"))
