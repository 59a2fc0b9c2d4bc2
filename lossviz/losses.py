"""Losses, each with its gradient with respect to the network output (PyTorch conventions).

The network output ``out`` has shape ``(..., N, K)``: K logits for classification (K >= 2,
binary included) or K = 1 value for regression. Leading axes (``...``) are a batch of parameter
vectors (the loss surface evaluates many at once); every value is returned per leading index.

- ``mse``: mean over all elements of (yhat - y)^2. For classification, yhat = softmax(logits)
  against one-hot targets, mean over N*K elements.
- ``huber``: mean of 0.5 r^2 if |r| <= delta else delta (|r| - 0.5 delta); same targets as mse.
- ``cross_entropy``: mean over samples of -sum_k t_k log softmax(logits)_k, computed stably, with
  targets t = (1 - eps) onehot(y) + eps / K: label smoothing eps in [0, 1) as
  ``torch.nn.CrossEntropyLoss(label_smoothing=eps)``; eps = 0 is -log softmax(logits)[y].
  Defined for classification only.

Each loss has at most one hyper-parameter (Huber's delta, cross-entropy's eps), named by its
``hyper`` field after the RunConfig field that holds it; the loss functions receive its value as
their ``delta`` argument, and :func:`hyper_value` picks and checks it at the door.

Each loss gives dL/d(out); the model backpropagates it. The only place where the gradient is
``(softmax - t) / N`` is cross-entropy on logits, where that shortcut is exact.

Each loss also gives its per-sample values ``(..., N)`` (mse and huber: the mean over that
sample's K elements), whose mean over samples is the loss, and their gradients ``(..., N, K)``
(row n is d per_sample[n] / d out[n, :], so the loss's gradient is that divided by N).
Each loss also gives ``out_hvp(out, y, task, delta, u)``: the output-Hessian-vector product
H u, where H (per sample, K x K) is the second derivative of the (mean) loss with respect to
``out``: the directional derivative of its gradient along ``u``. The Hessian of the network
(``lossviz.hessian``) chains it through the R-operator pass.

``loss_profile`` draws one sample's loss against the probability of the true class (or the
residual), for showing why the choice of loss changes how a network learns.

This module is the registry (:data:`LOSSES`, the one place a loss is added) and the checked entry
points. The losses' own arithmetic lives below it: ``lossviz.residual_losses`` (mse, huber),
``lossviz.cross_entropy``, and the softmax helpers of ``lossviz.softmax`` they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .checks import integer, number, real_array, short
from .cross_entropy import (ce_grad, ce_hvp, ce_per_sample, ce_per_sample_grad, ce_value,
                            ce_value_and_grad, require_classification)
from .registry import lookup
from .residual_losses import (huber_curvature, huber_grad, huber_value, mse_curvature, mse_grad,
                              mse_value, residual_hvp)
from .residual_losses import residual_loss as _residual_loss  # by this name tests/test_lessons.py imports it
from .softmax import log_softmax, one_hot, softmax  # noqa: F401 (imported from here by the app and tests)

Array = np.ndarray
TASKS = ("classification", "regression")
MAX_PROFILE_POINTS = 10_000  # a profile is a curve on screen: a few hundred points suffice
MAX_PROFILE_CLASSES = 100
P_CLIP = 1e-12  # loss_profile keeps p inside [P_CLIP, 1 - P_CLIP]: log p stays finite

@dataclass(frozen=True)
class Loss:
    """One loss: value and dL/d(out), per sample and averaged, with the words the UI shows.

    ``value(out, y, task, delta)`` -> array of shape ``out.shape[:-2]`` (a float for 2-D out);
    ``grad(out, y, task, delta)`` -> dL/d(out), shape of ``out``.
    ``per_sample(out, y, task, delta)`` -> ``out.shape[:-1]``, (N,) for 2-D out: each sample's
    loss on its own, so ``value == per_sample.mean(axis=-1)``.
    ``per_sample_grad(out, y, task, delta)`` -> shape of ``out``: row n is
    d per_sample[n] / d out[n, :], so ``grad == per_sample_grad / N``.
    ``shift_invariant``: adding one constant to all K logits of a sample leaves its loss
    unchanged (classification). True for every loss of softmax(logits) -- cross-entropy, and
    mse/huber on probabilities -- and it lets the loss surface keep K - 1 logit differences.
    For regression the one output is the prediction itself: shifting it always changes the
    loss, whatever the flag says, and nothing relies on the flag there.
    ``tasks`` lists the tasks it is defined for.
    ``out_hvp(out, y, task, delta, u)`` -> H u, shape of ``u`` (``u`` broadcasts against
    ``out``): the derivative of ``grad`` along ``u``, H being the loss's Hessian with respect to
    ``out`` (block-diagonal over samples). None: the Hessian functions refuse the loss.
    ``hyper``: the RunConfig field holding the loss's one hyper-parameter ("huber_delta",
    "label_smoothing"), whose value the functions above receive as ``delta``; None: it has none.
    """

    name: str
    label: str
    explanation: str
    formula: str
    value: Callable[[Array, Array, str, float], Array]
    grad: Callable[[Array, Array, str, float], Array]
    per_sample: Callable[[Array, Array, str, float], Array]
    per_sample_grad: Callable[[Array, Array, str, float], Array]
    shift_invariant: bool
    tasks: tuple[str, ...] = TASKS
    fused: Callable[[Array, Array, str, float], tuple[float, Array]] | None = None
    out_hvp: Callable[[Array, Array, str, float, Array], Array] | None = None
    hyper: str | None = None

    def value_and_grad(self, out: Array, y: Array, task: str, delta: float) -> tuple[float, Array]:
        """(loss, dL/d(out)) for one output (N, K); one shared pass where the loss offers it."""
        if self.fused is not None:
            return self.fused(out, y, task, delta)
        return float(self.value(out, y, task, delta)), self.grad(out, y, task, delta)


_mse = _residual_loss(mse_value, mse_grad)
_huber = _residual_loss(huber_value, huber_grad)

LOSSES: dict[str, Loss] = {
    l.name: l
    for l in [
        Loss("mse", "Mean squared error",
             "Average squared distance to the target; on class probabilities its gradient "
             "fades when the network is confidently wrong.",
             r"\frac{1}{NK}\sum (\hat y - y)^2", *_mse, shift_invariant=True,
             out_hvp=residual_hvp(mse_grad, mse_curvature)),
        Loss("cross_entropy", "Cross-entropy",
             "Minus the log of the probability given to the right class: punishes confident "
             "mistakes hard. Label smoothing ε aims at 1 − ε + ε/K, not 1. Classification only.",
             r"-\frac{1}{N}\sum_n \sum_k t_{nk} \log \mathrm{softmax}(z_n)_k,\ "
             r"t = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K", ce_value, ce_grad,
             ce_per_sample, ce_per_sample_grad, shift_invariant=True,
             tasks=("classification",), fused=ce_value_and_grad, out_hvp=ce_hvp,
             hyper="label_smoothing"),
        Loss("huber", "Huber",
             "Squared error for small residuals, absolute error beyond delta: robust to outliers.",
             r"\frac{1}{NK}\sum \begin{cases}\tfrac12 r^2 & |r|\le\delta\\ "
             r"\delta(|r|-\tfrac12\delta) & \text{else}\end{cases}", *_huber,
             shift_invariant=True, out_hvp=residual_hvp(huber_grad, huber_curvature),
             hyper="huber_delta"),
    ]
}


def get_loss(name: str, task: str | None = None) -> Loss:
    """Return the loss called ``name``; with ``task``, check the loss is defined for it."""
    loss = lookup(LOSSES, name, "loss")
    if task is not None:
        if not isinstance(task, str) or task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
        if task not in loss.tasks:
            require_classification(task)
    return loss


def _checked(name: object, out: object, y: object, task: object, huber_delta: object,
             label_smoothing: object = 0.0) -> tuple[Loss, Array, Array, float]:
    """Validate the public arguments once: (loss, out (..., N, K), y (N,), its hyper-parameter).

    ``out`` may hold NaN or inf (a diverged network): its loss is then NaN or inf, not an error.
    """
    loss = get_loss(name, task)
    out = real_array(out, "out", finite=False)
    if out.ndim < 2 or 0 in out.shape[-2:]:
        raise ValueError(f"out must have shape (..., N, K) with N, K >= 1, got shape {out.shape}")
    k = out.shape[-1]
    if task == "regression" and k != 1:
        raise ValueError(f"out must have one column (K = 1) for regression, got shape {out.shape}")
    if task == "classification" and k < 2:
        raise ValueError(f"out must have one column per class (K >= 2) for classification, "
                         f"got shape {out.shape}")
    y = real_array(y, "y")
    if y.shape != out.shape[-2:-1]:
        raise ValueError(f"y must have shape ({out.shape[-2]},), one value per row of out, "
                         f"got shape {y.shape}")
    if task == "classification":
        if not (np.all(y == np.round(y)) and y.min() >= 0 and y.max() < k):
            raise ValueError(f"y must hold class labels: whole numbers in 0..{k - 1}")
        y = y.astype(np.int64)
    return loss, out, y, hyper_value(loss, huber_delta, label_smoothing)


def hyper_value(loss: Loss, huber_delta: object = 1.0, label_smoothing: object = 0.0) -> float:
    """Check both loss hyper-parameters and return the one ``loss`` uses (0.0 if none).

    huber_delta must be > 0; label_smoothing in [0, 1) (PyTorch allows 1, where every target
    is uniform and nothing is learnt). Both are checked whichever the loss uses, so a bad
    value is refused where it enters, not when the loss is switched.
    """
    delta = number(huber_delta, "huber_delta")
    if delta <= 0:
        raise ValueError(f"huber_delta must be a positive number, got {short(huber_delta)}")
    eps = number(label_smoothing, "label_smoothing")
    if not 0 <= eps < 1:
        raise ValueError(f"label_smoothing must be a number from 0 to below 1, "
                         f"got {short(label_smoothing)}")
    return {"huber_delta": delta, "label_smoothing": eps}.get(loss.hyper, 0.0)


def loss_value(name: str, out: Array, y: Array, task: str, huber_delta: float = 1.0,
               label_smoothing: float = 0.0) -> Array:
    """Data loss of network output ``out`` (..., N, K) against ``y`` (N,). See module doc.

    Returns shape ``out.shape[:-2]`` (a NumPy scalar for a 2-D ``out``).
    """
    loss, out, y, delta = _checked(name, out, y, task, huber_delta, label_smoothing)
    return loss.value(out, y, task, delta)


def loss_grad(name: str, out: Array, y: Array, task: str, huber_delta: float = 1.0,
              label_smoothing: float = 0.0) -> Array:
    """dL/d(out) for the loss called ``name``; shape of ``out``."""
    loss, out, y, delta = _checked(name, out, y, task, huber_delta, label_smoothing)
    return loss.grad(out, y, task, delta)


def loss_per_sample(name: str, out: Array, y: Array, task: str, huber_delta: float = 1.0,
                    label_smoothing: float = 0.0) -> Array:
    """Each sample's loss on its own; their mean over samples is :func:`loss_value`.

    Parameters
    ----------
    name : a loss in ``LOSSES``; task : "classification" or "regression"
    out : (..., N, K) network outputs; y : (N,) class indices or target values
    huber_delta : Huber's delta; label_smoothing : cross-entropy's eps

    Returns
    -------
    (..., N) per-sample losses: (N,) for a 2-D ``out``.
    """
    loss, out, y, delta = _checked(name, out, y, task, huber_delta, label_smoothing)
    return loss.per_sample(out, y, task, delta)


def loss_grad_per_sample(name: str, out: Array, y: Array, task: str,
                         huber_delta: float = 1.0, label_smoothing: float = 0.0) -> Array:
    """Each sample's gradient: row n is d loss_per_sample[n] / d out[n, :].

    Arguments as :func:`loss_per_sample`. Returns the shape of ``out``, (..., N, K); divided
    by N it is :func:`loss_grad`.
    """
    loss, out, y, delta = _checked(name, out, y, task, huber_delta, label_smoothing)
    return loss.per_sample_grad(out, y, task, delta)


def loss_profile(name: str, task: str, x: Array, *, k: int = 2, huber_delta: float = 1.0,
                 label_smoothing: float = 0.0) -> tuple[Array, Array]:
    """One sample's loss and the push it gives, along one axis: why the loss matters.

    Classification: ``x`` is p, the probability the network gives the true class; the other
    k - 1 classes share 1 - p equally. The logits are these log-probabilities (p clipped into
    [1e-12, 1 - 1e-12]), and the gradient is taken at the true class's logit: cross-entropy
    gives p - 1 (with label smoothing eps, p - (1 - eps + eps/k): zero before p reaches 1), MSE on
    probabilities fades to 0 as p -> 0 (a confident mistake barely moves).
    Regression: ``x`` is the residual r = yhat - y, and the gradient is d loss / d yhat.
    Both come from the registry's ``per_sample`` and ``per_sample_grad``.

    Parameters
    ----------
    name : a loss in ``LOSSES``; task : "classification" or "regression"
    x : (M,) probabilities in [0, 1] (classification) or residuals (regression)
    k : number of classes, 2..100 (classification only; ignored for regression)
    huber_delta : Huber's delta; label_smoothing : cross-entropy's eps, in [0, 1)

    Returns
    -------
    value : (M,) per-sample loss
    grad : (M,) d loss / d z_true (classification) or d loss / d yhat (regression)
    """
    loss = get_loss(name, task)
    x = np.atleast_1d(real_array(x, "x"))
    if x.ndim != 1 or not 1 <= x.size <= MAX_PROFILE_POINTS:
        raise ValueError(f"x must be a 1-D sequence of 1 to {MAX_PROFILE_POINTS} numbers, "
                         f"got shape {x.shape}")
    delta = hyper_value(loss, huber_delta, label_smoothing)
    if task == "regression":
        out, y = x[:, None], np.zeros(x.size)
    else:
        if x.min() < 0 or x.max() > 1:
            raise ValueError("x must hold probabilities between 0 and 1 for classification")
        k = integer(k, "k", 2, MAX_PROFILE_CLASSES)
        p = np.clip(x, P_CLIP, 1 - P_CLIP)
        out = np.empty((x.size, k))
        out[:, 0] = np.log(p)  # class 0 is the true class
        out[:, 1:] = np.log((1 - p) / (k - 1))[:, None]
        y = np.zeros(x.size, dtype=np.int64)
    return loss.per_sample(out, y, task, delta), loss.per_sample_grad(out, y, task, delta)[:, 0]
