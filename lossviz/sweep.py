"""A fair race between two settings: each at its own best learning rate, from one start.

Two losses (or activations, optimizers…) trained at one shared learning rate are not compared
fairly when one of them takes smaller steps at that rate: squared error on probabilities pushes
the logits at most half as hard as cross-entropy, so at one rate it is simply slower. The fair
question is how each does at the rate that suits it. :func:`lr_sweep` trains a config at
several learning rates from the same initial weights on the same data and keeps each run's
learning curve; :func:`compare_lr_sweep` does that for runs A and B of compare mode, from one
start. The best rate of a sweep is the one with the lowest final training loss (a diverged run
is never best), so each setting is judged by the objective it optimizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .checks import integer, number, real_array, short
from .config import MAX_LR, RunConfig
from .datasets import Dataset
from .experiment import Experiment, check_vary
from .training import Trainer

Array = np.ndarray
SWEEP_RATES = 7  # rates per sweep by default
SWEEP_FACTOR = 2.0  # neighbouring default rates differ by this factor
MAX_SWEEP_RATES = 25  # a sweep is one job: its cost grows with every rate
CURVE_POINTS = 500  # by default a curve keeps about this many points, however long the run
Progress = Callable[[int, int], None]  # (runs done, runs in all), called after each run


def sweep_rates(lr: float, n: int = SWEEP_RATES, factor: float = SWEEP_FACTOR) -> Array:
    """``n`` log-spaced learning rates, ``factor`` apart, centred (geometrically) on ``lr``.

    Rates above the engine's largest learning rate (``MAX_LR``) are left out, so a sweep
    around a large rate has fewer, never invalid, rates.

    Returns
    -------
    (m,) float64, ascending, m <= n.
    """
    lr = number(lr, "lr", 0.0, MAX_LR)
    if lr <= 0:
        raise ValueError("lr must be a positive number")
    n = integer(n, "n", 1, MAX_SWEEP_RATES)
    factor = number(factor, "factor", 1.01, 100.0)
    rates = _tidy(lr * factor ** (np.arange(n) - (n - 1) / 2))
    return rates[rates <= MAX_LR]


def log_rates(low: float, high: float, count: int = SWEEP_RATES) -> Array:
    """``count`` log-spaced learning rates from ``low`` to ``high`` (both included), ascending.

    Returns
    -------
    (count,) float64; 0.25 to 16 in 7 rates is 0.25, 0.5, 1, 2, 4, 8, 16 exactly.
    """
    low, high = number(low, "low", 0.0, MAX_LR), number(high, "high", 0.0, MAX_LR)
    if not 0 < low < high:
        raise ValueError(f"the rates must run from a positive low to a higher high, got {low:g} to {high:g}")
    return _tidy(np.geomspace(low, high, integer(count, "count", 2, MAX_SWEEP_RATES)))


def _tidy(rates: Array) -> Array:
    """Rates rounded to 12 digits: a person types 0.5, not 0.5000000000000001, and at a large
    rate training is chaotic enough that the last bit changes where it ends."""
    return np.array([float(f"{r:.12g}") for r in rates])


def _rates(rates: Any) -> Array:
    r = real_array(rates, "rates")
    if r.ndim != 1 or not 1 <= r.size <= MAX_SWEEP_RATES:
        raise ValueError(f"rates must be a list of 1 to {MAX_SWEEP_RATES} learning rates, got {short(rates)}")
    if not ((r > 0) & (r <= MAX_LR)).all():
        raise ValueError(f"every rate must be above 0, up to {MAX_LR:g}, got {short(rates)}")
    if np.unique(r).size != r.size:
        raise ValueError(f"rates must differ from each other, got {short(rates)}")
    return np.sort(r)


@dataclass(frozen=True)
class RateSweep:
    """One config trained at each learning rate of ``rates`` from one start, ``config.epochs`` each.

    Attributes
    ----------
    config : RunConfig, the swept config (its own ``lr`` is not used)
    rates : (R,) ascending learning rates
    steps : (S,) the step counts at which the curves were recorded (0 first, the last step last)
    loss : (R, S) training data loss per rate and recorded step; NaN once a run diverged
    metric : (R, S) training accuracy (classification) or R² (regression), same layout
    test_metric : (R,) each run's final test accuracy or R²; NaN for a diverged run
    status : R × "done" or "diverged"
    final_loss : (R,) each run's last training loss; inf for a diverged run
    best : index of the rate with the lowest final training loss
    """

    config: RunConfig
    rates: Array
    steps: Array
    loss: Array
    metric: Array
    test_metric: Array
    status: tuple[str, ...]

    @property
    def final_loss(self) -> Array:
        done = np.array([s == "done" for s in self.status])
        return np.where(done, self.loss[:, -1], np.inf)

    @property
    def best(self) -> int:
        return int(np.argmin(self.final_loss))

    @property
    def best_rate(self) -> float:
        return float(self.rates[self.best])

    def first_step_at(self, target: float, rate: int | None = None) -> float:
        """The first recorded step where the training metric of run ``rate`` (an index; default
        the best) reaches ``target``; inf if it never does."""
        i = self.best if rate is None else integer(rate, "rate", 0, len(self.rates) - 1)
        hits = np.flatnonzero(self.metric[i] >= target)
        return float(self.steps[hits[0]]) if hits.size else math.inf


def _steps(total: int, every: int) -> Array:
    """Step 0, every ``every`` steps, and the last step ``total``."""
    steps = np.arange(0, total + 1, every)
    return steps if steps[-1] == total else np.append(steps, total)


def _train(config: RunConfig, params_init: Array, data: Dataset | None,
           steps: Array) -> tuple[Array, Array, float, str]:
    """Train one rate to the end: its training loss and metric at ``steps`` (NaN once diverged),
    its final test metric, its status."""
    run = Trainer(config, params_init=params_init, data=data)
    loss, metric = np.full(steps.size, np.nan), np.full(steps.size, np.nan)
    for i, step in enumerate(steps):
        run.advance(int(step) - run.step_count)
        snap = run.evaluate()
        if snap.status == "diverged":
            return loss, metric, math.nan, "diverged"
        loss[i], metric[i] = snap.train_loss, snap.train_metric
    return loss, metric, snap.test_metric, "done"


def lr_sweep(config: RunConfig, rates: Sequence[float] | Array | None = None, *, every: int | None = None,
             params_init: Array | None = None, data: Dataset | None = None,
             progress: Progress | None = None) -> RateSweep:
    """Train ``config`` at each learning rate of ``rates``, all from one start.

    Parameters
    ----------
    config : RunConfig; its ``lr`` is replaced by each rate, every other field kept
    rates : (R,) learning rates, 1..25 of them, each in (0, 100]; default ``sweep_rates(config.lr)``
    every : record the curves every ``every`` steps (and at the last step); 1: every step;
        default: about ``CURVE_POINTS`` points per curve
    params_init : (P,) the shared initial weights; default the config's seeded ones
    data : an uploaded table's Dataset (see ``lossviz.Trainer``)
    progress : called as ``progress(done, len(rates))`` after each rate's run

    Returns
    -------
    RateSweep: per rate the learning curve, the status, and the best rate.
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a lossviz.RunConfig, got {short(config)}")
    rates = sweep_rates(config.lr) if rates is None else _rates(rates)
    start = Trainer(config, params_init=params_init, data=data)
    every = math.ceil(start.total_steps / CURVE_POINTS) if every is None else integer(every, "every", 1)
    steps = _steps(start.total_steps, max(every, 1))
    curves = []
    for lr in rates:
        curves.append(_train(config.replace(lr=float(lr)), start.params_init, data, steps))
        if progress is not None:
            progress(len(curves), len(rates))
    loss, metric, test, status = zip(*curves)
    return RateSweep(config, rates, steps, np.array(loss), np.array(metric), np.array(test), status)


def compare_lr_sweep(config: RunConfig, vary: str, value: Any, rates: Sequence[float] | Array | None = None,
                     *, every: int | None = None, data: Dataset | None = None,
                     progress: Progress | None = None) -> tuple[RateSweep, RateSweep]:
    """Runs A (``config``) and B (``config`` with ``vary`` set to ``value``), each swept over the
    same learning rates from the same initial weights (when their networks have one shape) on
    the same data: compare mode's "each at its best learning rate".

    ``vary`` may not be ``"lr"`` (a sweep sets it). Arguments otherwise as :func:`lr_sweep`;
    ``progress(done, 2 * len(rates))`` counts the runs of both sweeps.
    Returns (sweep of A, sweep of B).
    """
    if check_vary(vary) == "lr":
        raise ValueError("a learning-rate sweep sets the learning rate itself: vary another setting")
    rates = sweep_rates(config.lr) if rates is None else _rates(rates)
    exp = Experiment(config, vary, value, data=data)  # B starts from A's weights when it can
    total = 2 * len(rates)
    a, b = (lr_sweep(r.config, rates, every=every, params_init=r.params_init, data=data,
                     progress=None if progress is None else lambda done, _, k=k: progress(k * len(rates) + done, total))
            for k, r in enumerate(exp.runs))
    return a, b
