"""The lesson "A learning rate that is too high" shows what it says, measured on its own settings.

Its words: the model's squared-error loss is a bowl whose steepest direction curves by λmax ≈ 8;
a step above 2/λmax ≈ 0.25 overshoots; at 0.1 every step slides downhill, at 0.26 the path jumps
from one side of the valley to the other, each jump longer than the last, until the loss explodes;
the plane is framed on the jumps before B's loss passes 10 times its start. Each is checked here:
along the top Hessian eigenvector at the start, B's step changes sign at every step and grows, A's
never changes sign; in the plane the page draws, B's drawn path zig-zags for ten jumps or more
inside the frame, and A's path is not a dot.

The checks can fail: ``picture`` is run again on a wrong engine (SGD taking half steps: B then
converges), on a frame that holds every point (the old plane, thousands of units wide: A's path a
dot, B's jumps crowded into one pixel), and on other learning rates for B (0.5 explodes before it
can be seen; 0.2 jumps, but each jump shorter than the last).
"""
from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np
import pytest

import lossviz
from app.page import lessons as lz
from app.views import compute as views
from app.views.framing import OFF_CHART
from app.runs.run import RunView
from lossviz.optimizers import SGD

LESSON = lz.lesson_by_id(lz.load_lessons(), "learning-rate-too-high")
VISIBLE_JUMPS = 10  # B's jumps the frame must show before B leaves it


def _with(lesson, **settings):
    b = settings.pop("lr_b", None)
    out = dataclasses.replace(lesson, settings=MappingProxyType({**lesson.settings, **settings}))
    if b is not None:
        out = dataclasses.replace(out, compare=dataclasses.replace(out.compare, value=b))
    return out


def top_direction(run: lossviz.Trainer) -> tuple[float, np.ndarray]:
    """λmax and its eigenvector of the training loss's Hessian at the run's start."""
    d, c = run.data, run.config
    values, vectors = lossviz.hessian_eigs(run.params_init, d.X_train, d.y_train, k=1, layer_sizes=run.net.layer_sizes,
                                           activation=c.activation, loss=c.loss, huber_delta=c.huber_delta)
    return float(values[0]), vectors[:, 0]


def train(lesson):
    """Both runs to the end: each step's component along the top eigenvector, each run's losses."""
    exp = lesson.experiment()
    lam, v = top_direction(exp.runs[0])
    along, losses = [[], []], [[r.evaluate().train_loss] for r in exp.runs]
    with np.errstate(all="ignore"):
        while not exp.finished:
            before = [r.params.copy() for r in exp.runs]
            exp.advance(1)
            for i, r in enumerate(exp.runs):
                if r.status == "diverged" or np.array_equal(before[i], r.params):
                    continue
                along[i].append(float((r.params - before[i]) @ v))
                losses[i].append(r.evaluate().train_loss)
    return exp, lam, [np.array(a) for a in along], [np.array(l) for l in losses]


def picture(lesson) -> list[str]:
    """What the lesson's words and picture claim that its runs do not show (empty: all holds)."""
    exp, lam, (a, b), (loss_a, loss_b) = train(lesson)
    wrong = []
    lr_a, lr_b = exp.runs[0].config.lr, exp.runs[1].config.lr
    if not lr_a < 2 / lam < lr_b:
        wrong.append(f"2/λmax = {2 / lam:.3g} is not between A's {lr_a} and B's {lr_b}")
    if exp.runs[1].status != "diverged":
        wrong.append("B does not explode")
    sign_b = np.sign(b)
    if len(b) < 3 or np.mean(sign_b[1:] != sign_b[:-1]) < 0.95:
        wrong.append("B's steps along the steepest direction do not change sign at (nearly) every step")
    grows = np.abs(b[4:]) > np.abs(b[3:-1])
    if not len(grows) or grows.mean() < 0.9:
        wrong.append("B's jumps do not each get longer than the last")
    big = np.abs(a) > 1e-9 * np.abs(a).max()  # until A's steepest component has settled to rounding
    if np.any(np.sign(a[big][1:]) != np.sign(a[big][:-1])):
        wrong.append("A's steps change sign along the steepest direction: A does not simply slide")
    if not (loss_a[-1] < 0.5 * loss_a[0] and np.all(np.diff(loss_a) <= 1e-12)):
        wrong.append("A's loss does not fall at every step")
    return wrong + drawn(exp)


def drawn(exp) -> list[str]:
    """What the compare plane, as the page draws it, fails to show."""
    runs = [RunView(str(i), r.step_count, r.config, r.data, r.net, r.params.copy(), r.trajectory)
            for i, r in enumerate(exp.runs)]
    view = views.compare_landscape(runs, 21)
    a, b = view["paths"]
    inside = (view["alphas"][0] <= b[:, 0]) & (b[:, 0] <= view["alphas"][-1]) & \
             (view["betas"][0] <= b[:, 1]) & (b[:, 1] <= view["betas"][-1])
    shown = b[: np.argmin(inside) if not inside.all() else len(b)]
    steps = np.diff(shown, axis=0)
    turns = np.sum(steps[1:] * steps[:-1], axis=1) < 0  # a drawn jump back across the valley
    wrong = []
    if len(turns) < VISIBLE_JUMPS or turns.mean() < 0.9:
        wrong.append(f"the frame shows {len(turns)} of B's jumps ({turns.mean() if len(turns) else 0:.0%} "
                     f"turning back), fewer than {VISIBLE_JUMPS} zig-zags")
    if np.ptp(a[:, 0]) < 0.25 * (view["alphas"][-1] - view["alphas"][0]):
        wrong.append("A's path is a dot in the frame")
    if view["exits"][1] is None and exp.runs[1].status == "diverged":
        wrong.append("the frame holds B's exploded steps")
    return wrong


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_picture_shows_what_the_lesson_says(seed):
    assert picture(_with(LESSON, seed=seed)) == []


def test_the_numbers_in_the_words_are_the_engines():
    exp = LESSON.experiment()
    lam, _ = top_direction(exp.runs[0])
    assert round(lam) == 8 and abs(2 / lam - 0.25) < 0.01
    assert (exp.runs[0].config.lr, exp.runs[1].config.lr) == (0.1, 0.26)
    assert "λmax ≈ 8" in LESSON.explanation and "2/λmax ≈ 0.25" in LESSON.explanation
    assert f"passes {OFF_CHART:g} times its start" in LESSON.explanation  # the frame's rule (app.views.framing)
    assert LESSON.config().hidden == () and LESSON.config().loss == "mse"  # a straight line: an exact bowl


def _half_steps(self, params, grad):
    params -= np.multiply(0.5 * self.lr, grad, out=self._tmp)


MUTATIONS = {  # what would break the picture -> how it is put in place
    "SGD takes half steps (B at an effective 0.13 converges)": lambda mp: mp.setattr(SGD, "_update", _half_steps),
    "the frame holds every point, B's exploded steps too": lambda mp: mp.setattr(
        views, "in_frame", lambda path, loss: np.ones(len(path), bool)),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_the_picture_check_fails_on_a_wrong_engine_or_frame(monkeypatch, mutation):
    MUTATIONS[mutation](monkeypatch)
    assert picture(LESSON), mutation


@pytest.mark.parametrize("lr_b, why", [(0.5, "explodes before it can be seen"), (0.2, "its jumps shrink")])
def test_the_picture_check_fails_for_other_learning_rates(lr_b, why):
    assert picture(_with(LESSON, lr_b=lr_b)), why
