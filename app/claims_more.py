"""More claim kinds for the lessons (issue 18.5), registered into ``app.lessons.CLAIMS``.

Each kind is a ``ClaimKind`` as in :mod:`app.lessons`: the parameters it takes, what it says in
words, and how the engine measures it. ``app.lessons`` imports this module at its end, so a lesson
file can name these kinds like the others. Pure Python and NumPy: no dash.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from lossviz import Experiment, RunConfig

from .lessons import CLAIMS, RUN, REQUIRED, ClaimKind, Evidence, Lesson, _number


def _gradient_descent(config: RunConfig) -> str:
    """The catapult is a rule of plain full-batch gradient descent: its line is 2/η."""
    if config.optimizer != "sgd":
        return f"needs plain gradient descent (optimizer 'sgd'), not {config.optimizer!r}"
    return "" if config.batch_size == 0 else "needs full-batch training (batch_size = 0): the line is a full-batch rule"


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


MORE_CLAIMS: dict[str, ClaimKind] = {k.name: k for k in [
    ClaimKind("catapult", {"run": RUN, "start_at_most": (_number(2, 100, low_open=True), 4.0),
                           "spike": (_number(1, 1e6), 1.5), "falls_to": (_number(0, 1, low_open=True), 0.5),
                           "below": (_number(0, 1, low_open=True), 0.9),
                           "after": (_number(1, 10_000, integral=True), REQUIRED)},
              "run {RUN} starts too sharp for its step: λmax at the start is above the stability line 2/η, "
              "with η·λ0 between 2 and {start_at_most:g}; within {after} steps its loss spikes to at least "
              "{spike:g}x where it started, then falls to {falls_to:.0%} of it or less, and there λmax is "
              "below {below:.0%} of 2/η: the step threw the weights out of the sharp valley into a flatter one",
              _catapult, two_runs=False, fits=_gradient_descent),
]}
CLAIMS.update(MORE_CLAIMS)
