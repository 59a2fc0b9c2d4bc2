"""Sharpness along training, and the edge of stability (Cohen et al. 2021).

Gradient descent with learning rate η is stable on a quadratic only while its curvature stays
below 2/η. On a neural network trained full-batch, the sharpness λmax (the top eigenvalue of the
data loss's Hessian) typically rises during training ("progressive sharpening") until it reaches
2/η, then hovers there while the loss keeps falling, non-monotonically: the edge of stability.

``EDGE_OF_STABILITY`` holds the RunConfig fields of the lesson that shows it (the app and the
tests use this one dict); :func:`stability_threshold` gives the line to draw; and
:func:`sharpness_series` trains a run while measuring λmax every few steps.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .checks import integer, short
from .config import RunConfig
from .hessian import hessian_eigs
from .training import Trainer

Array = np.ndarray
ADAM_BETA1 = 0.9  # lossviz's Adam uses PyTorch's default beta1

# Sine data, MSE, full-batch SGD, tanh MLP: λmax starts at about 0.75 x 2/η and reaches 2/η
# within about 1,000 steps on seeds 0-4 (seed 0: ~100 steps), then hovers around it.
EDGE_OF_STABILITY: dict = {
    "dataset": "sine", "n_samples": 200, "hidden": (16, 16), "activation": "tanh",
    "loss": "mse", "optimizer": "sgd", "lr": 0.1, "batch_size": 0, "epochs": 1500,
    "l2": 0.0, "l1": 0.0, "seed": 0,
}

# The largest stable sharpness of each optimizer on a quadratic, from (lr, momentum), in
# lossviz's (PyTorch's) conventions. Adam's line applies to the *preconditioned* sharpness
# (Cohen et al. 2022); RMSprop has no fixed line, so it is absent.
_THRESHOLDS: dict[str, Callable[[float, float], float]] = {
    "sgd": lambda lr, mu: 2.0 / lr,
    "momentum": lambda lr, mu: (2.0 + 2.0 * mu) / lr,
    "nesterov": lambda lr, mu: (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * lr),
    "adam": lambda lr, mu: (2.0 + 2.0 * ADAM_BETA1) / ((1.0 - ADAM_BETA1) * lr),
}


def stability_threshold(config: RunConfig) -> float | None:
    """The edge-of-stability line for a run: 2/η for SGD, (2 + 2β)/η with momentum β,
    (2 + 2β)/((1 + 2β)η) for Nesterov, (2 + 2β1)/((1 − β1)η) for Adam (38/η at β1 = 0.9);
    None for RMSprop. Meaningful for full-batch training (``batch_size=0``)."""
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a lossviz.RunConfig, got {short(config)}")
    rule = _THRESHOLDS.get(config.optimizer)
    return None if rule is None else rule(config.lr, config.momentum)


def sharpness(trainer: Trainer) -> float:
    """λmax of the data loss's Hessian (no L1/L2 term) at ``trainer.params``, on its training
    data: the curvature full-batch gradient descent sees. A ``lossviz.Trainer`` is read, never
    changed."""
    values, _ = hessian_eigs(trainer.params, trainer.data.X_train, trainer.data.y_train,
                             layer_sizes=trainer.net.layer_sizes,
                             activation=trainer.config.activation, loss=trainer.config.loss,
                             huber_delta=trainer.config.huber_delta, k=1, which="largest")
    return float(values[0])


def sharpness_series(trainer: Trainer, steps: int, every: int = 10) -> tuple[Array, Array]:
    """Advance ``trainer`` by up to ``steps`` steps, measuring :func:`sharpness` at the start
    and after every ``every`` steps (and at the last step taken).

    Stops early when the run finishes or diverges (a diverged run is not measured again).

    Parameters
    ----------
    trainer : a ``lossviz.Trainer`` (advanced in place)
    steps : how many steps to take, >= 0; every : steps between measurements, >= 1

    Returns
    -------
    step : (n,) int, the trainer's step count at each measurement
    lambda_max : (n,) float64, λmax there
    """
    steps, every = integer(steps, "steps", 0), integer(every, "every", 1)
    at, lam = [trainer.step_count], [sharpness(trainer)]
    end = trainer.step_count + steps
    while trainer.step_count < end and not trainer.finished:
        taken = trainer.advance(min(every, end - trainer.step_count))
        if taken == 0 or trainer.status == "diverged":
            break
        at.append(trainer.step_count)
        lam.append(sharpness(trainer))
    return np.array(at, dtype=np.int64), np.array(lam)
