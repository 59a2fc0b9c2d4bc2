"""More claim kinds for the lessons (issue 18.5), joined to the first ones in
``app.page.lessons.CLAIMS``.

Each kind is a ``ClaimKind`` as in :mod:`app.page.claims`: the parameters it takes, what it says in
words, and how the engine measures it. ``app.page.lessons`` puts them in its registry, so a lesson
file can name these kinds like the others. Pure Python and NumPy: no dash.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from lossviz import Experiment, RunConfig

from .claims import RUN, REQUIRED, ClaimKind, Evidence, _finish, _number

if TYPE_CHECKING:
    from .lessons import Compare, Lesson


def _gradient_descent(config: RunConfig) -> str:
    """The catapult is a rule of plain full-batch gradient descent: its line is 2/η."""
    if config.optimizer != "sgd":
        return f"needs plain gradient descent (optimizer 'sgd'), not {config.optimizer!r}"
    return "" if config.batch_size == 0 else "needs full-batch training (batch_size = 0): the line is a full-batch rule"


def _within_run(config: RunConfig, compare: Compare | None, p: Mapping[str, Any]) -> tuple[str, str]:
    from lossviz import Trainer

    total = Trainer(config).total_steps
    return ("after", f"looks {p['after']} steps in, past the run's {total} steps") if p["after"] > total else ("", "")


def _catapult(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    """Per run: λ0 = λmax at the start against 2/η; the loss at every step of the first ``after``
    steps; λmax again at step ``after``."""
    from lossviz.sharpness import sharpness

    lines, holds, numbers = [], [], []
    for r in exp.runs:
        line = 2.0 / r.config.lr
        start, losses = sharpness(r), [r.evaluate().train_loss]
        with np.errstate(all="ignore"):
            while r.step_count < p["after"] and r.status == "running" and not r.finished:
                r.advance(1)
                losses.append(r.evaluate().train_loss)
        ok = r.status != "diverged" and r.step_count == p["after"] and math.isfinite(losses[-1])
        end = sharpness(r) if ok else math.nan
        peak = int(np.nanargmax(losses)) if ok else 0
        spike, fell = losses[peak] / losses[0], losses[-1] / losses[0]
        ratio = start / line
        holds.append(bool(ok and 1.0 < ratio <= p["start_at_most"] / 2 and spike >= p["spike"]
                          and fell <= p["falls_to"] and end <= p["below"] * line))
        lines.append(f"λ0 = {start:.4g}, η·λ0 = {r.config.lr * start:.3g} (the line 2/η = {line:.4g}); the loss "
                     f"{losses[0]:.3g} rises to {losses[peak]:.3g} at step {peak} ({spike:.2g}x), then "
                     f"{losses[-1]:.3g} at step {r.step_count} ({fell:.0%} of the start); λmax there {end:.4g}, "
                     f"{end / line:.0%} of the line" + ("" if ok else f" ({r.status})"))
        numbers.append({"eta_lambda0": r.config.lr * start, "spike": spike, "fell": fell, "end_share": end / line})
    return Evidence(tuple(lines), tuple(holds), tuple(numbers))


def _minibatch(config: RunConfig) -> str:
    return "" if config.batch_size > 0 else ("needs minibatches (batch_size > 0): full-batch forks have no noise "
                                             "to part them")


def _late_fork(config: RunConfig, compare: Compare | None, p: Mapping[str, Any]) -> tuple[str, str]:
    from lossviz import Trainer

    total = Trainer(config).total_steps
    return ("k", f"forks at step {p['k']}, past the run's {total} steps") if p["k"] > total else ("", "")


def _relative(line) -> float:
    """The barrier as a share of the mean of the two end losses."""
    return line.barrier / max((line.losses[0] + line.losses[-1]) / 2, 1e-12)


def _barrier_shrinks(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    from lossviz.connectivity import fork_barriers

    r = exp.runs[0]
    early, late = fork_barriers(r.config, (0, p["k"]), points=p["points"], data=exp.data)
    first, last = _relative(early.line), _relative(late.line)
    holds = first >= p["at_least"] and late.line.barrier <= p["fraction"] * early.line.barrier
    line = (f"forked at step 0: barrier {early.line.barrier:.3g} ({first:.0%} of the end losses) at t = "
            f"{early.line.at:.2f}; forked at step {p['k']}: {late.line.barrier:.3g} ({last:.0%})")
    return Evidence((line,), (bool(holds),), ({"early": first, "late": last, "early_abs": early.line.barrier,
                                                "late_abs": late.line.barrier},))


def _monotonic(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    from lossviz.connectivity import init_to_final

    _finish(exp)
    lines = [init_to_final(r, p["points"]) for r in exp.runs]
    rises = [ln.rise / ln.losses[0] for ln in lines]
    flat = [r.status != "diverged" and x <= p["tolerance"] for r, x in zip(exp.runs, rises)]
    bumps = [r.status != "diverged" and x >= p["bump"] for r, x in zip(exp.runs, rises)]
    text = tuple(f"init → final: loss {ln.losses[0]:.3g} → {ln.losses[-1]:.3g}, "
                 + ("falls all the way" if ln.monotonic else f"rises by {x:.0%} of its start on the way")
                 for ln, x in zip(lines, rises))
    return Evidence(text, tuple(bool(flat[i] and bumps[1 - i]) for i in range(2)),
                    tuple({"rise": x} for x in rises))


def _homogeneous(config: RunConfig) -> str:
    from lossviz import ACTIVATIONS

    if not config.hidden:
        return "needs a hidden layer to rescale"
    if not ACTIVATIONS[config.activation].homogeneous:
        return f"needs a positively homogeneous activation (relu, leaky_relu, linear), not {config.activation!r}"
    return ""


def _not_invariant(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    from lossviz.rescale import rescaled_sharpness

    _finish(exp)
    r = exp.runs[0]
    c = r.config
    res = rescaled_sharpness(r.params, r.data.X_train, r.data.y_train, layer_sizes=r.net.layer_sizes,
                             activation=c.activation, loss=c.loss, huber_delta=c.huber_delta,
                             label_smoothing=c.label_smoothing, layer=0, a=p["a"])
    same = abs(res.loss_after - res.loss_before) <= 1e-9 * max(1.0, abs(res.loss_before))
    ratio = res.sharpness_after / res.sharpness_before
    holds = same and res.output_change <= 1e-9 and ratio >= p["factor"]
    return Evidence((f"layer 1 × {p['a']:g}, layer 2 × 1/{p['a']:g}: loss {res.loss_before:.6g} → {res.loss_after:.6g}, "
                     f"outputs move ≤ {res.output_change:.1g}, λmax {res.sharpness_before:.4g} → "
                     f"{res.sharpness_after:.4g} ({ratio:.3g}x)",), (bool(holds),), ({"ratio": ratio},))


MORE_CLAIMS: dict[str, ClaimKind] = {k.name: k for k in [
    ClaimKind("catapult", {"run": RUN, "start_at_most": (_number(2, 100, low_open=True), 4.0),
                           "spike": (_number(1, 1e6), 1.5), "falls_to": (_number(0, 1, low_open=True), 0.5),
                           "below": (_number(0, 1, low_open=True), 0.9),
                           "after": (_number(1, 10_000, integral=True), REQUIRED)},
              "run {RUN} starts too sharp for its step: λmax at the start is above the stability line 2/η, "
              "with η·λ0 between 2 and {start_at_most:g}; within {after} steps its loss spikes to at least "
              "{spike:g}x where it started, then falls to {falls_to:.0%} of it or less, and there λmax is "
              "below {below:.0%} of 2/η: the step threw the weights out of the sharp valley into a flatter one",
              _catapult, two_runs=False, fits=_gradient_descent, fits_params=_within_run),
    ClaimKind("barrier_shrinks", {"run": RUN, "k": (_number(1, 1e6, integral=True), REQUIRED),
                                  "at_least": (_number(0, 100), 0.1), "fraction": (_number(0, 1), 0.25),
                                  "points": (_number(3, 401, integral=True), 25)},
              "two copies of run {RUN} forked at step 0 (the same initial weights, other minibatch orders) end "
              "with a loss barrier on the straight line between them of at least {at_least:.0%} of their end "
              "losses; forked at step {k} instead, the barrier is at most {fraction:.0%} of that (the line "
              "measured at {points} points)", _barrier_shrinks, two_runs=False, fits=_minibatch,
              fits_params=_late_fork),
    ClaimKind("monotonic_line", {"run": RUN, "tolerance": (_number(0, 1), 1e-3), "bump": (_number(0, 100), 0.2),
                                 "points": (_number(3, 401, integral=True), 41)},
              "on the straight line from the initial to the final weights run {RUN}'s loss never rises (by more "
              "than {tolerance:.1%} of its start), while run {OTHER}'s rises somewhere by at least {bump:.0%} of "
              "its start before it falls (the line measured at {points} points)", _monotonic),
    ClaimKind("sharpness_not_invariant", {"run": RUN, "a": (_number(1e-4, 1e4), 10.0),
                                          "factor": (_number(1, 1e6), 2.0)},
              "at run {RUN}'s final weights, scaling hidden layer 1 by {a:g} and layer 2's weights by 1/{a:g} "
              "leaves every output and the loss unchanged (to 1e-9) and multiplies λmax by {factor:g} or more",
              _not_invariant, two_runs=False, fits=_homogeneous),
]}
