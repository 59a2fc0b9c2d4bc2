"""The loss along straight lines between weights: barriers between runs, and init → final.

- Linear mode connectivity (Frankle et al. 2020, "Linear mode connectivity and the lottery ticket
  hypothesis"): train one run to step k, fork it into two copies that differ only in their
  minibatch order from there on, and train both to the end. The *barrier* is the most the loss
  along the straight line between the two final weights rises above the straight line between
  their two losses; it shrinks as k grows, once the runs share enough of their start.
- Monotonic linear interpolation (Goodfellow et al. 2015; Lucas et al. 2021): on the line from
  the initial to the final weights the loss often falls all the way, but Adam and large steps can
  break that: the loss then rises somewhere on the line before it falls.

Pure functions of parameters and data (the forks are new Trainers; the trunk is not changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .checks import integer
from .config import RunConfig
from .datasets import Dataset
from .paths import interpolate
from .tabular import is_table_name
from .training import Trainer

Array = np.ndarray
MAX_POINTS = 401


@dataclass(frozen=True)
class Line:
    """The data loss along θ(t) = (1 − t) θ_a + t θ_b.

    ts, losses : (T,) with ts[0] = 0 and ts[-1] = 1.
    barrier : max over t of losses(t) − ((1 − t) losses[0] + t losses[-1]), ≥ 0 (0 when the loss
        never rises above the chord between the ends); at : the t where it is largest.
    rise : the largest increase of the loss between a point of the line and any later point
        (0 for a loss that never goes up as t grows: the line is monotonic).
    """

    ts: Array
    losses: Array
    barrier: float
    at: float
    rise: float

    @property
    def monotonic(self) -> bool:
        """The loss never goes up from θ_a towards θ_b (to rounding: 1e-12 of its scale)."""
        return self.rise <= 1e-12 * max(1.0, float(np.abs(self.losses).max()))


def line(theta_a: Array, theta_b: Array, X: Array, y: Array, *, layer_sizes: Sequence[int], activation: str,
         loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0, points: int = 41) -> Line:
    """The loss on ``points`` evenly spaced t from 0 to 1 between ``theta_a`` and ``theta_b``.

    Parameters
    ----------
    theta_a, theta_b : (P,) flat parameters; X : (N, d); y : (N,)
    layer_sizes, activation, loss, huber_delta, label_smoothing : as ``lossviz.objective``
    points : 3..401

    Returns
    -------
    Line: the losses (float64, no penalty), the barrier above the chord and where it is, the
    largest rise as t grows.
    """
    points = integer(points, "points", 3, MAX_POINTS)
    ts = np.linspace(0.0, 1.0, points)
    with np.errstate(all="ignore"):
        losses = interpolate(theta_a, theta_b, ts, X, y, layer_sizes=layer_sizes, activation=activation,
                             loss=loss, huber_delta=huber_delta, label_smoothing=label_smoothing)
    return _line(ts, losses)


def _line(ts: Array, losses: Array) -> Line:
    above = losses - ((1 - ts) * losses[0] + ts * losses[-1])
    i = int(np.nanargmax(above)) if np.isfinite(above).any() else 0
    low_so_far = np.minimum.accumulate(losses)
    rise = float(np.max(losses - low_so_far))
    return Line(ts, losses, max(0.0, float(above[i])), float(ts[i]), rise)


def run_line(trainer: Trainer, theta_a: Array, theta_b: Array, points: int = 41) -> Line:
    """:func:`line` with a trainer's network, loss and training data (the trainer is only read)."""
    c, d = trainer.config, trainer.data
    return line(theta_a, theta_b, d.X_train, d.y_train, layer_sizes=trainer.net.layer_sizes,
                activation=c.activation, loss=c.loss, huber_delta=c.huber_delta,
                label_smoothing=c.label_smoothing, points=points)


def fork(trainer: Trainer, seed: int) -> Trainer:
    """A copy of ``trainer`` at its current step whose minibatches from then on are drawn by an
    RNG of its own (``seed``): the same weights, optimizer state and data, other SGD noise. Its
    next epoch is shuffled anew, and the rest of the current epoch too, so two forks with two
    seeds differ from their first step. Full-batch runs have no noise: their forks agree."""
    state = trainer.state_dict()
    rng = np.random.default_rng([trainer.config.seed, 3, integer(seed, "seed", 0, 2**32 - 1)])
    order = state["order"].copy()
    step = trainer.step_count % trainer.steps_per_epoch
    rest = order[step * trainer.batch_size:]
    rng.shuffle(rest)  # the epoch's remaining rows, reshuffled: no row twice within the epoch
    order[step * trainer.batch_size:] = rest
    state["order"], state["rng"] = order, rng.bit_generator.state
    table = trainer.data if is_table_name(trainer.config.dataset) else None  # registry data: rebuilt (cached)
    return Trainer.from_state_dict(trainer.config, state, data=table)


@dataclass(frozen=True)
class ForkBarrier:
    """One fork step k: the two copies' final weights and the line between them."""

    k: int
    final_a: Array
    final_b: Array
    line: Line


def fork_barriers(config: RunConfig, ks: Sequence[int], *, seeds: tuple[int, int] = (1, 2), points: int = 25,
                  data: Dataset | None = None) -> list[ForkBarrier]:
    """Train ``config`` from its initial weights, fork it at each step k in ``ks`` into two copies
    (:func:`fork`, seeds ``seeds``), train both to the end, and measure the line between them.

    Parameters
    ----------
    config : a minibatch run (batch_size > 0 and below the training set: else there is no noise to
        fork); ks : fork steps, ascending, from 0 to the run's total steps
    seeds : the two copies' minibatch seeds; points : as :func:`line`; data : an uploaded table's

    Returns
    -------
    one ForkBarrier per k, in the order of ``ks``
    """
    trunk = Trainer(config, data=data)
    if trunk.batch_size >= trunk.data.X_train.shape[0]:
        raise ValueError("full-batch training has no minibatch noise: forks of it never part (set batch_size)")
    ks = [integer(k, "k", 0, trunk.total_steps) for k in ks]
    if ks != sorted(ks):
        raise ValueError(f"ks must be in ascending order, got {ks}")
    out = []
    with np.errstate(all="ignore"):
        for k in ks:
            trunk.advance(k - trunk.step_count)
            a, b = fork(trunk, seeds[0]), fork(trunk, seeds[1])
            for r in (a, b):
                r.advance(r.total_steps - r.step_count)
            out.append(ForkBarrier(k, a.params.copy(), b.params.copy(), run_line(trunk, a.params, b.params, points)))
    return out


def init_to_final(trainer: Trainer, points: int = 41) -> Line:
    """The loss on the line from the trainer's initial weights to its current ones."""
    return run_line(trainer, trainer.params_init, trainer.params, points)


__all__ = ["ForkBarrier", "Line", "fork", "fork_barriers", "init_to_final", "line", "run_line"]
