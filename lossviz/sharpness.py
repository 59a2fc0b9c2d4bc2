"""Sharpness along training, and the edge of stability (Cohen et al. 2021).

Gradient descent with learning rate η is stable on a quadratic only while its curvature stays
below 2/η. On a neural network trained full-batch, the sharpness λmax (the top eigenvalue of the
data loss's Hessian) typically rises during training ("progressive sharpening") until it reaches
2/η, then hovers there while the loss keeps falling, non-monotonically: the edge of stability.

Adaptive optimizers (RMSprop, Adam) divide their step entrywise by a preconditioner P from their
own state, so their line holds for the *preconditioned* sharpness λmax(P⁻¹H) (Cohen et al. 2022,
"Adaptive gradient methods at the edge of stability"): full-batch Adam holds it near 38/η while
the raw λmax of H can stay far below.

``EDGE_OF_STABILITY`` holds the RunConfig fields of the lesson that shows it (the app and the
tests use this one dict); :func:`stability_threshold` gives the line to draw and
:func:`line_is_preconditioned` says which sharpness it is for; :func:`preconditioned_sharpness`
measures λmax(P⁻¹H) exactly; and :func:`sharpness_series` trains a run while measuring every few
steps.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from .checks import integer, number, short, vector
from .config import RunConfig
from .hessian import EIGS_TOL, _curvature, _finite, _top_k, hessian_eigs
from .optimizers import OPTIMIZERS
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
# lossviz's (PyTorch's) conventions. The adaptive optimizers' lines hold for the preconditioned
# sharpness λmax(P⁻¹H) (Cohen et al. 2022): Adam's P = (1 − β1^t)(sqrt(v̂) + ε) makes its step
# heavy-ball momentum β1 with step (1 − β1)η on P⁻¹H; lossviz's RMSprop has no momentum: 2/η.
_THRESHOLDS: dict[str, Callable[[float, float], float]] = {
    "sgd": lambda lr, mu: 2.0 / lr,
    "momentum": lambda lr, mu: (2.0 + 2.0 * mu) / lr,
    "nesterov": lambda lr, mu: (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * lr),
    "rmsprop": lambda lr, mu: 2.0 / lr,
    "adam": lambda lr, mu: (2.0 + 2.0 * ADAM_BETA1) / ((1.0 - ADAM_BETA1) * lr),
}


def _config(config: RunConfig) -> RunConfig:
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a lossviz.RunConfig, got {short(config)}")
    return config


def stability_threshold(config: RunConfig) -> float | None:
    """The edge-of-stability line for a run: 2/η for SGD, (2 + 2β)/η with momentum β,
    (2 + 2β)/((1 + 2β)η) for Nesterov; for the adaptive optimizers a line for the
    preconditioned sharpness (:func:`line_is_preconditioned`): (2 + 2β1)/((1 − β1)η) for Adam
    (38/η at β1 = 0.9), 2/η for RMSprop. Meaningful for full-batch training (``batch_size=0``);
    None for an optimizer without a line."""
    rule = _THRESHOLDS.get(_config(config).optimizer)
    return None if rule is None else rule(config.lr, config.momentum)


def line_is_preconditioned(config: RunConfig) -> bool:
    """True when the run's stability line holds for λmax(P⁻¹H) (RMSprop, Adam), False when
    for λmax(H) (the plain optimizers, whose P is the identity)."""
    return OPTIMIZERS[_config(config).optimizer].factory.adaptive


def preconditioned_sharpness(params: Array, X: Array, y: Array, preconditioner: Array, *,
                             layer_sizes: Sequence[int], activation: str, loss: str,
                             huber_delta: float = 1.0, label_smoothing: float = 0.0, seed: int = 0,
                             tol: float = EIGS_TOL) -> float:
    """λmax(P⁻¹H): the largest eigenvalue of the data loss's Hessian H preconditioned by the
    positive diagonal P an adaptive optimizer divides its step by.

    P⁻¹H is not symmetric, but it is similar to the symmetric P^{-1/2} H P^{-1/2} (same
    eigenvalues, real), so Lanczos runs on that, each product one exact Hessian-vector product
    (``lossviz.hvp``'s R-operator); the accuracy is ``lossviz.hessian_eigs``'.

    Parameters
    ----------
    params : (P,) flat parameters; X : (N, d) inputs; y : (N,) class indices or values
    preconditioner : (P,) the diagonal of P, finite and > 0, e.g.
        ``trainer.optimizer.preconditioner()``
    layer_sizes, activation, loss, huber_delta : as ``lossviz.hvp``
    seed : seeds the Lanczos start vector; tol : relative residual, 1e-14..1e-2

    Returns
    -------
    float: λmax(P^{-1/2} H P^{-1/2}) = λmax(P⁻¹H).
    """
    op = _finite(_curvature(params, X, y, layer_sizes, activation, loss, huber_delta,
                            label_smoothing))
    p = vector(preconditioner, "preconditioner", op.n_params, " (one entry per parameter)")
    if not (p > 0).all():
        raise ValueError("preconditioner must be positive: it divides each weight's step")
    tol = number(tol, "tol", 1e-14, 1e-2)
    rng = np.random.default_rng(integer(seed, "seed", 0, 2**64 - 1))
    scale = 1.0 / np.sqrt(p)
    with np.errstate(all="ignore"):
        values, _ = _top_k(lambda V: op.matmat(V * scale) * scale, op.n_params, 1, rng, tol)
    return float(values[0])


def sharpness(trainer: Trainer, preconditioned: bool = False) -> float:
    """λmax of the data loss's Hessian H (no L1/L2 term) at ``trainer.params``, on its training
    data: the curvature full-batch gradient descent sees. With ``preconditioned``, the sharpness
    the trainer's stability line holds for: λmax(P⁻¹H) with the P of an adaptive optimizer's
    state (NaN before its first step), λmax(H) for a plain one. A ``lossviz.Trainer`` is read,
    never changed."""
    kw = dict(layer_sizes=trainer.net.layer_sizes, activation=trainer.config.activation,
              loss=trainer.config.loss, huber_delta=trainer.config.huber_delta,
              label_smoothing=trainer.config.label_smoothing)
    X, y = trainer.data.X_train, trainer.data.y_train
    if preconditioned and trainer.optimizer.adaptive:
        p = trainer.optimizer.preconditioner()
        return math.nan if p is None else preconditioned_sharpness(trainer.params, X, y, p, **kw)
    values, _ = hessian_eigs(trainer.params, X, y, k=1, which="largest", **kw)
    return float(values[0])


def sharpness_series(trainer: Trainer, steps: int, every: int = 10,
                     preconditioned: bool = False) -> tuple[Array, Array]:
    """Advance ``trainer`` by up to ``steps`` steps, measuring :func:`sharpness` (with
    ``preconditioned``) at the start and after every ``every`` steps (and at the last step taken).

    Stops early when the run finishes or diverges (a diverged run is not measured again).

    Parameters
    ----------
    trainer : a ``lossviz.Trainer`` (advanced in place)
    steps : how many steps to take, >= 0; every : steps between measurements, >= 1
    preconditioned : measure λmax(P⁻¹H) of an adaptive optimizer (see :func:`sharpness`)

    Returns
    -------
    step : (n,) int, the trainer's step count at each measurement
    lambda_max : (n,) float64, λmax there
    """
    steps, every = integer(steps, "steps", 0), integer(every, "every", 1)
    at, lam = [trainer.step_count], [sharpness(trainer, preconditioned)]
    end = trainer.step_count + steps
    while trainer.step_count < end and not trainer.finished:
        taken = trainer.advance(min(every, end - trainer.step_count))
        if taken == 0 or trainer.status == "diverged":
            break
        at.append(trainer.step_count)
        lam.append(sharpness(trainer, preconditioned))
    return np.array(at, dtype=np.int64), np.array(lam)
