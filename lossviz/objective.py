"""The training objective as a pure function of the parameters: no Trainer, no state.

``objective`` is what a Trainer minimizes, for any parameter vector and any data: the data loss
(the mean the loss registry defines) plus the L1/L2 penalty on weights (never biases), and its
gradient by the network's hand-written backward pass. It computes exactly what
``Trainer.objective_grad`` computes, in the same order, so the two agree bit for bit.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .checks import finite_real, real_array, short, vector
from .landscape import _targets
from .losses import Loss, get_loss, hyper_value
from .model import Network
from .penalties import penalty_grad, penalty_value

Array = np.ndarray


def objective(params: Array, X: Array, y: Array, *, layer_sizes: Sequence[int], activation: str,
              loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0, l2: float = 0.0,
              l1: float = 0.0) -> tuple[float, Array]:
    """Objective (data loss + penalty) at ``params`` and its flat gradient.

    Parameters
    ----------
    params : (P,) flat parameters (layout: see ``lossviz.model``)
    X : (N, d) inputs, N >= 1; y : (N,) class indices (classification) or values (regression)
    layer_sizes : input width, hidden widths..., output width (K >= 2 logits, or 1: regression)
    activation, loss : registry names; huber_delta : Huber's delta (> 0); label_smoothing :
    cross-entropy's eps in [0, 1)
    l2, l1 : penalty weights (>= 0): (l2/2)·Σw² + l1·Σ|w| over weights, never biases

    Returns
    -------
    value : float, the objective (inf or NaN where the network overflows, never an error)
    grad : (P,) float64, its gradient with respect to ``params``
    """
    net = Network(layer_sizes, activation)
    task = "regression" if net.layer_sizes[-1] == 1 else "classification"
    lossfn = get_loss(loss, task)  # cross-entropy with one output is refused here, in words
    params = vector(params, "params", net.n_params, f" to match layer_sizes {net.layer_sizes}")
    X = _inputs(X, net)
    y = _targets(y, X.shape[0], task, net.layer_sizes[-1])
    delta = hyper_value(lossfn, huber_delta, label_smoothing)
    l2, l1 = _weight(l2, "l2"), _weight(l1, "l1")
    with np.errstate(all="ignore"):  # far-off parameters: an infinite objective, not a warning
        return _objective(net, lossfn, params, X, y, task, delta, l2, l1)


def _inputs(X: object, net: Network) -> Array:
    """``X`` as a finite float64 (N, d) array with N >= 1 and d the network's input width."""
    X = real_array(X, "X")
    if X.ndim != 2 or X.shape[1] != net.layer_sizes[0] or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N, {net.layer_sizes[0]}) with N >= 1 to match "
                         f"layer_sizes {net.layer_sizes}, got shape {X.shape}")
    return X


def _weight(value: object, name: str) -> float:
    """A penalty weight: a finite number >= 0."""
    f = finite_real(value)
    if f is None or f < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {short(value)}")
    return f


def _objective(net: Network, lossfn: Loss, params: Array, X: Array, y: Array, task: str,
               delta: float, l2: float, l1: float) -> tuple[float, Array]:
    """The computation past the door, step for step as ``Trainer.objective_grad``."""
    out, cache = net.forward_cache(params, X)
    value, grad_out = lossfn.value_and_grad(out, y, task, delta)
    grad = net.backward(params, X, cache, grad_out)
    if l2 or l1:
        mask = net.weight_mask
        value += penalty_value(params, mask, l2, l1)
        grad += penalty_grad(params, mask, l2, l1)
    return float(value), grad
