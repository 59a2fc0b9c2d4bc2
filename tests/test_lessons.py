"""Tests for app.page.lessons and app/page/lessons.toml: every lesson loads, and says only what the engine shows.

Parametrized over the lessons file: a lesson is tested the day it is added. Each lesson's claim
is measured by training the lesson's exact settings (``Lesson.check``), then again on two other
seeds, so a lesson never rests on one seed's luck; and the same claim naming the other run must
fail, so a check that cannot fail is caught too. ``CATCHES`` says for every lesson which wrong
engine or wrong lesson its claim would catch, and ``MUTATIONS`` puts the main ones in place
(monkeypatching the engine, or editing the lesson) to show the claim failing.
"""
import copy
import dataclasses
import functools
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

import lossviz
import lossviz.sweep
import lossviz.training
from app.page import lessons as lz
from app.page.lessons import tomllib  # tomli on Python 3.10
from app.page.compare import COMPARE_FIELDS
from lossviz import ACTIVATIONS, LOSSES, Experiment, RunConfig
from lossviz.losses import _residual_loss, one_hot, softmax
from lossviz.optimizers import SGD, Adam, Momentum
from lossviz.sharpness import _THRESHOLDS, ADAM_BETA1

ROOT = Path(__file__).resolve().parent.parent
LESSONS = lz.load_lessons()
each_lesson = pytest.mark.parametrize("lesson", LESSONS, ids=[l.id for l in LESSONS])


# --- the shipped file ---------------------------------------------------------------------

@each_lesson
def test_lesson_has_every_field(lesson):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", lesson.id)
    assert lesson.title.strip() and "\n" not in lesson.title
    sentences = re.split(r"(?<=[.!?])\s+", lesson.explanation.strip())
    assert len(sentences) == 2 and sentences[-1].endswith("."), lesson.explanation
    assert lesson.question.endswith("?") and lesson.question.count("?") == 1
    config = lesson.config()
    assert isinstance(config, RunConfig) and config == RunConfig(**lesson.settings)
    assert lz.CLAIMS[lesson.claim.kind].says and lesson.claim.params["run"] in ("a", "b")
    assert set(lesson.view) <= set(lz.VIEW)
    if lesson.compare is None:
        assert lesson.compare_value() is None and len(lesson.experiment().runs) == 1
        return
    assert lesson.compare.field in COMPARE_FIELDS
    b = config.replace(**{lesson.compare.field: lesson.compare_value()})
    assert lesson.compare_value() == getattr(b, lesson.compare.field) != getattr(config, lesson.compare.field)
    assert type(lesson.compare_value()) is type(getattr(config, lesson.compare.field))  # tuple for hidden
    exp = lesson.experiment()
    assert [r.config for r in exp.runs] == [config, b]


def _compares(field, *values):
    return [l for l in LESSONS if l.compare and l.compare.field == field
            and {getattr(l.config(), field), l.compare_value()} == set(values)]


def test_the_file_holds_the_lessons_a_course_needs():
    ids = [l.id for l in LESSONS]
    assert len(ids) >= 8 and len(set(ids)) == len(ids)
    assert any(l.config().dataset != "outliers" and l.claim.kind == "faster_until_tuned"
               for l in _compares("loss", "cross_entropy", "mse"))
    assert any(l.config().dataset == "outliers" for l in _compares("loss", "mse", "huber"))
    assert any(l.claim.kind == "diverges" for l in LESSONS if l.compare and l.compare.field == "lr")
    assert _compares("activation", "relu", "tanh")
    assert any(len(l.config().hidden) == 1 < len(l.compare_value()) and max(l.compare_value()) < l.config().hidden[0]
               for l in LESSONS if l.compare and l.compare.field == "hidden")
    assert _compares("optimizer", "sgd", "adam") and _compares("optimizer", "sgd", "momentum")
    assert any(l.compare and l.compare.field == "l2" for l in LESSONS)
    assert any(l.view.get("page") == "why" and l.claim.kind == "smaller_push_on_wrong_points" for l in LESSONS)


# --- claims, measured by the engine ---------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _verdict(lesson_id, seed=None):
    """The lesson's verdict at its own seed or another: measured once, read by several tests
    (never under a mutation: those call ``check`` themselves)."""
    lesson = lz.lesson_by_id(LESSONS, lesson_id)
    if seed is not None:
        lesson = dataclasses.replace(lesson, settings=MappingProxyType({**lesson.settings, "seed": seed}))
    return lesson.check()


@each_lesson
def test_lesson_claim_holds_at_its_settings(lesson):
    verdict = _verdict(lesson.id)
    assert verdict.holds, str(verdict)
    if lesson.compare is not None:  # the same claim about the other run fails: the check can fail
        other = 1 - ("a", "b").index(lesson.claim.params["run"])
        assert not verdict.evidence.holds_for[other], str(verdict)


def test_the_flagship_lesson_starts_at_chance():
    """Cross-entropy against squared error: both runs start from weights that know nothing yet
    (its old seed 0 started at 86% train accuracy, near its 90% target)."""
    lesson = {l.id: l for l in LESSONS}["cross-entropy-vs-mse"]
    exp = lesson.experiment()
    for run in exp.runs:
        snap, chance = run.evaluate(), 1 / run.data.n_classes
        assert abs(snap.train_metric - chance) <= 0.1 and abs(snap.test_metric - chance) <= 0.1, snap


@each_lesson
@pytest.mark.parametrize("seed", [1, 2])
def test_lesson_claim_is_not_one_seeds_luck(lesson, seed):
    verdict = _verdict(lesson.id, seed)
    assert verdict.holds, f"seed {seed}: {verdict}"


def test_a_claim_that_the_engine_contradicts_does_not_hold(tmp_path):
    # The seed question told the other way round: MSE would reach 90% first.
    lesson = dict(copy.deepcopy(BASE), settings=dict(dataset="moons", optimizer="sgd", lr=0.5, epochs=300),
                  claim=dict(kind="reaches_accuracy_first", run="b", target=0.9))
    verdict = lz.load_lessons(_write(tmp_path, [lesson]))[0].check()
    assert not verdict.holds and "does NOT hold" in str(verdict)


# --- Adam at the edge of stability: the claim fails on a wrong engine ------------------------

def _adam_p_without_sqrt(self):
    return None if not self.t else (1 - self.b1 ** self.t) * (self.v / (1 - self.b2 ** self.t) + self.eps)


ADAM_MUTATIONS = {  # what a wrong engine would do -> how it is put in place
    # Adam's line judged against the Hessian's own λmax (P = I): the very mistake the lesson corrects
    "P = I (Adam's line against λmax(H))": lambda mp: mp.setattr(
        Adam, "preconditioner", lambda self: np.ones(self.n_params) if self.t else None),
    "P = v̂ + ε (the square root dropped)": lambda mp: mp.setattr(
        Adam, "preconditioner", _adam_p_without_sqrt),
    "Adam's line (2 + 2β₁)/η (the 1/(1 − β₁) of its averaged step dropped)": lambda mp: mp.setitem(
        _THRESHOLDS, "adam", lambda lr, mu: (2 + 2 * ADAM_BETA1) / lr),
}


def test_a_lesson_shows_adam_at_its_line_in_preconditioned_sharpness():
    lesson = lz.lesson_by_id(LESSONS, "adam-edge-of-stability")
    config = lesson.config()
    assert lesson.claim.kind == "reaches_preconditioned_edge" and lesson.view["page"] == "curvature"
    assert (config.optimizer, config.batch_size, config.lr) == ("adam", 0, 0.01)
    assert "38/η" in lesson.explanation and "λmax(P⁻¹H)" in lesson.explanation


@pytest.mark.parametrize("mutation", ADAM_MUTATIONS)
def test_the_adam_edge_claim_fails_on_a_wrong_engine(monkeypatch, mutation):
    """The claim can fail: with the preconditioner or the line wrong (each mutation above), the
    lesson's own settings no longer show λmax(P⁻¹H) at its line and λmax(H) far below it."""
    ADAM_MUTATIONS[mutation](monkeypatch)
    verdict = lz.lesson_by_id(LESSONS, "adam-edge-of-stability").check()
    assert not verdict.holds, f"{mutation}: {verdict}"


# --- what each claim catches: a wrong engine or a wrong lesson fails it ----------------------

# Every lesson says here which mutation of the engine or of the lesson its claim would catch; the
# main ones are put in place below (MUTATIONS) and shown to make the claim fail.
CATCHES = {
    "cross-entropy-vs-mse": "squared error's push doubled (its mean over the K classes dropped): the race "
                            "at the shared rate is no longer won by 1.5x; a sweep that trains every rate at "
                            "the lesson's rate: squared error's 'best' is no faster than at 0.5; a lesson that "
                            "names the other run",
    "huber-vs-mse-outliers": "Huber's push not capped at δ (½r² everywhere, the same line as squared error); "
                             "a learning rate too small for the lines to settle, where the half push of ½r² "
                             "and not the loss would decide the fit",
    "learning-rate-too-high": "an engine that clips or rescales steps so a large rate never blows up; a lesson "
                              "whose high rate does not diverge or whose low rate does (the other run fails); "
                              "its picture (tests/test_lesson_learning_rate.py): SGD at half steps, B at 0.5 "
                              "(explodes unseen) or 0.2 (jumps shrink), a frame holding B's exploded steps",
    "relu-vs-tanh": "a ReLU that saturates (capped at 1) or a tanh that does not (the identity); comparing "
                    "at each run's own final weights is the old, unlike comparison the claim no longer makes",
    "wide-vs-deep": "widths whose weight counts are not about the same (four layers of 8: 258 against 322); "
                    "the other run named flatter",
    "sgd-vs-adam": "Adam without its division by √v̂ (momentum SGD at Adam's tiny rate): it no longer wins",
    "sgd-vs-momentum": "momentum that forgets its velocity (plain SGD): run B no longer wins",
    "l2-flattens": "the L2 term's gradient dropped (the penalty only reported): run B trains as run A",
    "mse-vanishing-gradient": "squared error's gradient as p − onehot, skipping the softmax slope (the "
                              "shortcut that holds for cross-entropy only); cross-entropy's gradient through "
                              "the softmax slope, so it vanishes too",
    "edge-of-stability": "λmax halved (never at the line) or the line drawn at 1/η (λmax starts above it); "
                         "gradient descent stepping at half the rate it reports (λmax climbs past the line "
                         "and out of the band)",
    "adam-edge-of-stability": "P = I, P without its square root, Adam's line without 1/(1 − β₁) "
                              "(ADAM_MUTATIONS above)",
}

CATCHES.update(importlib.import_module("test_lessons_more").CATCHES)  # the issue-18.5 lessons, tested there


def test_every_lesson_says_what_its_claim_catches():
    assert {l.id for l in LESSONS} <= set(CATCHES), "add the new lesson to CATCHES (and MUTATIONS)"


def _settings(lesson, **changes):
    return dataclasses.replace(lesson, settings=MappingProxyType({**lesson.settings, **changes}))


def _loss(mp, name, **funcs):
    mp.setitem(LOSSES, name, dataclasses.replace(LOSSES[name], **funcs))


def _activation(mp, name, f):
    def inplace(z):
        z[...] = f(z)
        return z
    mp.setitem(ACTIVATIONS, name, dataclasses.replace(ACTIVATIONS[name], value=f, inplace=inplace))


def _mse_shortcut(out, y, task, delta):  # 2 (p − onehot) / K, no softmax slope
    return 2 * (softmax(out) - one_hot(y, out.shape[-1])) / out.shape[-1]


def _ce_through_slope(out, y, task, delta):  # (p − onehot) p (1 − p): wrong, it vanishes at p → 0
    p = softmax(out)
    return (p - one_hot(y, out.shape[-1])) * p * (1 - p)


def _adam_without_sqrt_v(self, params, grad):  # m̂ alone: momentum SGD at Adam's rate
    self.m[:] = self.b1 * self.m + (1 - self.b1) * grad
    params -= self.lr / (1 - self.b1 ** self.t) * self.m


def _engine(patch):
    """A mutation of the engine only: the lesson is checked as it is."""
    def mutate(mp, lesson):
        patch(mp)
        return lesson
    return mutate


SHARPNESS = importlib.import_module("lossviz.sharpness")  # the module: lossviz.sharpness is its function
_orig_mse, _orig_train, _orig_sharpness = LOSSES["mse"], lossviz.sweep._train, SHARPNESS.sharpness
_huber_half_mse = dict(zip(("value", "grad", "per_sample", "per_sample_grad"),
                           _residual_loss(lambda r, d: 0.5 * r * r, lambda r, d: r)))

MUTATIONS = {  # lesson -> {what is wrong: (monkeypatch, lesson) -> the lesson to check}
    "cross-entropy-vs-mse": {
        "squared error's gradient doubled": _engine(lambda mp: _loss(
            mp, "mse", grad=lambda *a: 2 * _orig_mse.grad(*a))),
        "the sweep trains every rate at 0.5": _engine(lambda mp: mp.setattr(
            lossviz.sweep, "_train", lambda config, *a: _orig_train(config.replace(lr=0.5), *a))),
    },
    "huber-vs-mse-outliers": {
        "Huber's push not capped at δ": _engine(lambda mp: _loss(mp, "huber", **_huber_half_mse)),
        "a learning rate too small to settle": lambda mp, lesson: _settings(lesson, lr=0.005),
    },
    "relu-vs-tanh": {
        "a ReLU capped at 1": _engine(lambda mp: _activation(mp, "relu", lambda z: np.clip(z, 0, 1))),
        "a tanh that never saturates": _engine(lambda mp: _activation(mp, "tanh", lambda z: z + 0.0)),
    },
    "sgd-vs-adam": {
        "Adam without √v̂": _engine(lambda mp: mp.setattr(Adam, "_update", _adam_without_sqrt_v)),
    },
    "sgd-vs-momentum": {
        "momentum without its velocity": _engine(lambda mp: mp.setattr(Momentum, "_update", SGD._update)),
    },
    "l2-flattens": {
        "L2's gradient dropped": _engine(lambda mp: mp.setattr(
            lossviz.training, "penalty_grad", lambda params, *a: np.zeros_like(params))),
    },
    "mse-vanishing-gradient": {
        "squared error without the softmax slope": _engine(lambda mp: _loss(
            mp, "mse", per_sample_grad=_mse_shortcut)),
        "cross-entropy through the softmax slope": _engine(lambda mp: _loss(
            mp, "cross_entropy", per_sample_grad=_ce_through_slope)),
    },
    "edge-of-stability": {
        "λmax halved": _engine(lambda mp: mp.setattr(
            SHARPNESS, "sharpness", lambda *a, **k: 0.5 * _orig_sharpness(*a, **k))),
        "the line at 1/η": _engine(lambda mp: mp.setitem(_THRESHOLDS, "sgd", lambda lr, mu: 1.0 / lr)),
        "steps at half the rate": _engine(lambda mp: mp.setattr(
            SGD, "_update", lambda self, params, grad: params.__isub__(0.5 * self.lr * grad))),
    },
}


@pytest.mark.parametrize("lesson_id, mutation", [(l, m) for l, ms in MUTATIONS.items() for m in ms])
def test_a_claim_fails_on_a_wrong_engine_or_lesson(monkeypatch, lesson_id, mutation):
    """Each mutation (see CATCHES) makes the lesson's claim fail, at the lesson's own settings."""
    lesson = MUTATIONS[lesson_id][mutation](monkeypatch, lz.lesson_by_id(LESSONS, lesson_id))
    verdict = lesson.check()
    assert not verdict.holds, f"{mutation}: {verdict}"


def test_wide_vs_deep_names_its_true_weight_counts():
    """"About the same number of weights": the counts the text names are the networks' own, within 2%
    (four layers of 8, 258 weights against 322, would fail here)."""
    lesson = lz.lesson_by_id(LESSONS, "wide-vs-deep")
    counts = [r.net.n_params for r in lesson.experiment().runs]
    assert f"{counts[0]} and {counts[1]}" in lesson.explanation
    assert abs(counts[0] - counts[1]) <= 0.02 * max(counts)
    assert f"four layers of {lesson.compare_value()[0]}" in lesson.explanation


def test_the_flagship_lessons_numbers_are_the_engines():
    """Its text: squared error on two classes pushes the logits at most half as hard as
    cross-entropy at every p; the claim's rates and target are the ones the text names; and
    which loss reaches 90% first at their best rates changes from seed to seed (27 and 2)."""
    lesson = lz.lesson_by_id(LESSONS, "cross-entropy-vs-mse")
    p = np.linspace(0.001, 0.999, 999)
    mse, ce = (np.abs(lossviz.loss_profile(n, "classification", p, k=2)[1]) for n in ("mse", "cross_entropy"))
    assert (mse <= 0.5 * ce + 1e-12).all() and "at most half as hard" in lesson.explanation
    c = lesson.claim.params
    assert (c["low"], c["high"], c["count"], c["target"], c["gap"]) == (0.25, 16, 7, 0.9, 2)
    assert "7 learning rates from 0.25 to 16" in lesson.explanation and "within 2" in lesson.explanation
    first = {}
    for seed in (None, 2):
        a, b = _verdict(lesson.id, seed).evidence.numbers
        first[seed] = "a" if a["at_best"] < b["at_best"] else "b"
    assert first == {None: "a", 2: "b"}, first


def test_the_huber_lesson_says_what_huber_is():
    """Huber is ½r² within δ (a push of r, half of squared error's 2r) and its push is capped at δ
    beyond: the δ and the numbers the text names."""
    lesson = lz.lesson_by_id(LESSONS, "huber-vs-mse-outliers")
    delta = lesson.config().huber_delta
    r = np.array([-3.0, -0.5, 0.25, 0.9, 2.0])
    _, huber = lossviz.loss_profile("huber", "regression", r, huber_delta=delta)
    _, mse = lossviz.loss_profile("mse", "regression", r)
    inside = np.abs(r) <= delta
    assert np.allclose(huber[inside], 0.5 * mse[inside]) and np.allclose(np.abs(huber[~inside]), delta)
    assert f"δ = {delta:g}" in lesson.explanation and "½r²" in lesson.explanation and "half" in lesson.explanation


def test_the_edge_of_stability_text_names_its_claims_numbers():
    lesson = lz.lesson_by_id(LESSONS, "edge-of-stability")
    c, text = lesson.claim.params, lesson.explanation
    for value in (c["start_below"], c["fraction"], c["band"], c["drop"], c["rises"]):
        assert f"{value:.0%}" in text, value
    assert "rises until" not in text and "hovers" not in text


def test_the_relu_lesson_compares_at_the_shared_start():
    lesson = lz.lesson_by_id(LESSONS, "relu-vs-tanh")
    assert lesson.claim.params["at"] == "start" and lesson.experiment().same_start
    assert f"up to {lesson.view['range']:g} times" in lesson.explanation
    assert f"at least {lesson.claim.params['factor']:g} times" in lesson.explanation


# --- files a teacher might get wrong ------------------------------------------------------

BASE = dict(id="tiny", title="A tiny lesson", explanation="It is short. It is small.", question="Why?",
            settings=dict(dataset="moons", n_samples=100, epochs=20),
            compare=dict(field="loss", value="mse"),
            claim=dict(kind="reaches_accuracy_first", run="a", target=0.9))


def _toml(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(v)  # strings, numbers, true/false read the same in TOML


def _write(tmp_path, lessons):
    path = tmp_path / "lessons.toml"
    path.write_text("".join("[[lesson]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in l.items()) + "\n"
                            for l in lessons), encoding="utf-8")
    return path


def _set(where, **changes):
    def mutate(lesson):
        (lesson if where is None else lesson[where]).update(changes)
    return mutate


def _drop(where, key):
    return lambda lesson: (lesson if where is None else lesson[where]).pop(key)


BAD = [  # (what is wrong, the key the message must name, how to break BASE)
    ("unknown setting", "settings.colour", _set("settings", colour="red")),
    ("learning rate refused", "settings.lr", _set("settings", lr=-1)),
    ("width refused", "settings.hidden", _set("settings", hidden=[0])),
    ("loss for another task", "settings.dataset", _set("settings", dataset="sine")),
    ("over a cap", "settings", _set("settings", hidden=[8, 8, 8, 8, 8])),
    ("settings missing", "settings", _drop(None, "settings")),
    ("field compare mode does not offer", "compare.field", _set("compare", field="l1", value=0.1)),
    ("data field", "compare.field", _set("compare", field="dataset", value="circles")),
    ("run B refused", "compare.value", _set("compare", field="lr", value=0)),
    ("run B same as A", "compare.value", _set("compare", value="cross_entropy")),
    ("compare without value", "compare.value", _drop("compare", "value")),
    ("compare with more", "compare.also", _set("compare", also="lr")),
    ("title missing", "title", _drop(None, "title")),
    ("question blank", "question", _set(None, question="   ")),
    ("id not kebab-case", "id", _set(None, id="Tiny Lesson")),
    ("unknown lesson key", "colour", _set(None, colour="red")),
    ("claim missing", "claim", _drop(None, "claim")),
    ("unknown claim kind", "claim.kind", _set("claim", kind="is_nice")),
    ("claim parameter missing", "claim.target", _drop("claim", "target")),
    ("claim parameter unknown", "claim.speed", _set("claim", speed=2)),
    ("claim parameter refused", "claim.target", _set("claim", target=2)),
    ("claim for another task", "claim.kind", _set("claim", kind="fits_clean_points_better", run="b")),
    ("landscape claim across two losses", "claim.kind", _set("claim", kind="flatter", run="b")),
    ("two-run claim without compare", "claim.kind", _drop(None, "compare")),
    ("unknown view option", "view.colour", _set(None, view={"colour": "red"})),
    ("view value refused", "view.page", _set(None, view={"page": "slides"})),
    ("grid over its cap", "view.grid", _set(None, view={"grid": 1001})),
    ("preconditioned claim for SGD", "claim.kind", lambda l: (l["settings"].update(optimizer="sgd"), l.pop("compare"),
                                                              l.update(claim=dict(kind="reaches_preconditioned_edge", run="a")))),
    ("preconditioned claim on minibatches", "claim.kind", lambda l: (
        l["settings"].update(optimizer="adam", batch_size=32), l.pop("compare"),
        l.update(claim=dict(kind="reaches_preconditioned_edge", run="a")))),
    ("plain edge-of-stability claim for Adam", "claim.kind", lambda l: (
        l["settings"].update(dataset="sine", loss="mse", optimizer="adam"), l.pop("compare"),
        l.update(claim=dict(kind="reaches_edge_of_stability", run="a")))),
    ("plain edge-of-stability claim for RMSprop", "claim.kind", lambda l: (
        l["settings"].update(optimizer="rmsprop"), l.pop("compare"),
        l.update(claim=dict(kind="reaches_edge_of_stability", run="a")))),
    ("edge-of-stability claim on minibatches", "claim.kind", lambda l: (
        l["settings"].update(optimizer="sgd", batch_size=32), l.pop("compare"),
        l.update(claim=dict(kind="reaches_edge_of_stability", run="a")))),
    ("landscapes at a start two shapes do not share", "claim.at", lambda l: l.update(
        compare=dict(field="hidden", value=[4]), claim=dict(kind="sharper", run="b", at="start"))),
    ("a sweep that misses the lesson's rate", "claim.low", lambda l: (
        l["settings"].update(lr=0.3), l.update(claim=dict(kind="faster_until_tuned", run="a", target=0.9,
                                                          low=0.25, high=16)))),
    ("a sweep whose top is its bottom", "claim.high", lambda l: (
        l["settings"].update(lr=0.5), l.update(claim=dict(kind="faster_until_tuned", run="a", target=0.9,
                                                          low=0.5, high=0.5)))),
    ("a sweep comparing learning rates", "claim.kind", lambda l: (
        l["settings"].update(lr=0.5), l.update(compare=dict(field="lr", value=2.0), claim=dict(
            kind="faster_until_tuned", run="a", target=0.9, low=0.25, high=16)))),
    ("A-B plane for two shapes", "view.plane", lambda l: l.update(compare=dict(field="hidden", value=[4]),
                                                                 view=dict(plane="compare"))),
]


@pytest.mark.parametrize("key, mutate", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_lesson_is_refused_naming_the_lesson_and_the_key(tmp_path, key, mutate):
    lesson = copy.deepcopy(BASE)
    mutate(lesson)
    with pytest.raises(ValueError) as info:
        lz.load_lessons(_write(tmp_path, [copy.deepcopy(BASE) | {"id": "first"}, lesson]))
    name = lesson.get("id", "#2")
    assert re.search(rf"lessons\.toml: lesson '{re.escape(name)}': {re.escape(key)}:", str(info.value)), info.value


def test_the_base_of_the_bad_files_loads(tmp_path):
    lesson = lz.load_lessons(_write(tmp_path, [dict(BASE, compare=dict(field="hidden", value=[4, 4]))]))[0]
    assert lesson.compare_value() == (4, 4) and lesson.config().n_samples == 100
    with pytest.raises(TypeError):
        lesson.settings["lr"] = 1.0  # read-only: lessons are shared by every page


def test_duplicate_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"lesson 'tiny': id: used by two lessons"):
        lz.load_lessons(_write(tmp_path, [BASE, BASE]))


@pytest.mark.parametrize("text", ["not toml at all", "[other]\nx = 1\n", ""])
def test_a_file_without_lessons_is_refused(tmp_path, text):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"^mine\.toml: "):
        lz.load_lessons(path)


def test_lesson_by_id():
    assert lz.lesson_by_id(LESSONS, LESSONS[-1].id) is LESSONS[-1]
    with pytest.raises(ValueError) as info:
        lz.lesson_by_id(LESSONS, "no-such-lesson")
    assert "no-such-lesson" in str(info.value) and all(l.id in str(info.value) for l in LESSONS)


# --- the command line and the package ------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "app.main", "lessons", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_lossviz_lessons_prints_id_and_title_per_line():
    done = _cli()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{l.id}\t{l.title}" for l in LESSONS]


def test_lossviz_lessons_check_fails_on_a_false_claim_and_names_a_bad_file(tmp_path):
    false = dict(BASE, claim=dict(kind="reaches_accuracy_first", run="a", target=0.9, factor=1e6))
    done = _cli("--file", str(_write(tmp_path, [false])), "--check")
    assert done.returncode == 1 and "does NOT hold" in done.stdout, done.stdout + done.stderr
    done = _cli("--file", str(_write(tmp_path, [dict(BASE, settings={"lr": -1})])))
    assert done.returncode == 2 and "lesson 'tiny': settings.lr:" in done.stderr


def test_the_lessons_file_ships_inside_the_app_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "lessons.toml" in pyproject["tool"]["setuptools"]["package-data"]["app.page"]
    assert lz.LESSONS_FILE.parent == ROOT / "app" / "page" and lz.LESSONS_FILE.is_file()


def test_loading_lessons_imports_no_dash_or_plotly():
    code = ("import sys, app.page.lessons; app.page.lessons.load_lessons(); "
            "print('dash' in sys.modules, 'plotly' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_one_run_lessons_train_one_trainer(tmp_path):
    one = dict(BASE, settings=dict(dataset="sine", loss="mse", optimizer="sgd", lr=1.0, epochs=20),
               claim=dict(kind="diverges", run="a"))
    del one["compare"]
    lesson = lz.load_lessons(_write(tmp_path, [one]))[0]
    assert isinstance(lesson.experiment(), Experiment) and len(lesson.experiment().runs) == 1
    verdict = lesson.check()
    assert verdict.holds, str(verdict)
    calm = lz.load_lessons(_write(tmp_path, [dict(one, settings=dict(one["settings"], lr=0.05))]))[0]
    assert not calm.check().holds
