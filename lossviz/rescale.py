"""Sharpness is not invariant (Dinh et al. 2017, "Sharp minima can generalize for deep nets").

With a positively homogeneous activation (ReLU, leaky ReLU, linear: σ(c z) = c σ(z) for c > 0),
scaling one hidden layer's weights and bias by a > 0 and the next layer's weights by 1/a leaves
every output of the network unchanged, so the loss, the accuracy and every prediction stay as
they were. The Hessian does not: its block for the scaled layer shrinks by 1/a² and the next
layer's grows by a², so λmax can be made as large (or, up to a point, as small) as one likes
while the network is the same function. A flatness measure that moves under this map says
something about the parametrization, not about the function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .activations import get_activation
from .checks import integer, number, vector
from .hessian import hessian_eigs
from .model import Network
from .objective import objective

Array = np.ndarray
MAX_FACTOR = 1e4  # a and 1/a both within 1e-4..1e4: far enough to show it, not so far that floats fail


def rescale_layers(params: Array, *, layer_sizes: Sequence[int], activation: str, layer: int,
                   a: float) -> Array:
    """The weights of the same network function with hidden layer ``layer`` scaled by ``a``.

    Parameters
    ----------
    params : (P,) flat parameters (layout: see ``lossviz.model``)
    layer_sizes : input width, hidden widths..., output width; activation : a registry name
    layer : which hidden layer, 0-based (0 .. number of hidden layers − 1)
    a : the factor, between 1e-4 and 1e4

    Returns
    -------
    (P,) a new vector: layer ``layer``'s weights and bias times ``a``, the next layer's weights
    times 1/a (its bias unchanged). The same function exactly when the activation is
    positively homogeneous (``Activation.homogeneous``); otherwise it is computed all the same
    and the function changes (which a caller may want to show).
    """
    net = Network(layer_sizes, activation)
    params = vector(params, "params", net.n_params, f" to match layer_sizes {net.layer_sizes}")
    hidden = len(net.layers) - 1
    if hidden == 0:
        raise ValueError("a network without hidden layers has no layer to rescale")
    layer = integer(layer, "layer", 0, hidden - 1)
    a = number(a, "a", 1.0 / MAX_FACTOR, MAX_FACTOR)
    out = params.copy()
    this, nxt = net.layers[layer], net.layers[layer + 1]
    out[this.w_start:this.end] *= a  # weights and bias: σ(a z) = a σ(z) feeds the next layer
    out[nxt.w_start:nxt.b_start] /= a
    return out


@dataclass(frozen=True)
class Rescaled:
    """One rescaling's before and after: the data loss, λmax of its Hessian, and the largest change
    of any network output on the data (0 up to rounding for a homogeneous activation)."""

    a: float
    layer: int
    loss_before: float
    loss_after: float
    sharpness_before: float
    sharpness_after: float
    output_change: float
    homogeneous: bool


def rescaled_sharpness(params: Array, X: Array, y: Array, *, layer_sizes: Sequence[int], activation: str,
                       loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0, layer: int = 0,
                       a: float = 10.0, tol: float = 1e-8) -> Rescaled:
    """Rescale hidden layer ``layer`` by ``a`` (:func:`rescale_layers`) and measure what changed.

    Parameters
    ----------
    params, X, y, layer_sizes, activation, loss, huber_delta, label_smoothing : as ``lossviz.hvp``
    layer, a : as :func:`rescale_layers`; tol : Lanczos' relative residual (``hessian_eigs``)

    Returns
    -------
    Rescaled: data losses (no penalty) and λmax before and after, and max |Δ output| over X.
    """
    kw = dict(layer_sizes=layer_sizes, activation=activation, loss=loss, huber_delta=huber_delta,
              label_smoothing=label_smoothing)
    after = rescale_layers(params, layer_sizes=layer_sizes, activation=activation, layer=layer, a=a)
    net = Network(layer_sizes, activation)
    with np.errstate(all="ignore"):
        change = float(np.abs(net.forward(after, X) - net.forward(np.asarray(params, float), X)).max())
    losses = [objective(p, X, y, **kw)[0] for p in (params, after)]
    sharp = [float(hessian_eigs(p, X, y, k=1, tol=tol, **kw)[0][0]) for p in (params, after)]
    return Rescaled(float(a), int(layer), *losses, *sharp, change, get_activation(activation).homogeneous)
