"""A multilayer perceptron over ONE flat float64 parameter vector.

Flat layout (fixed, documented in the README): layer by layer, the weight matrix of shape
(fan_out, fan_in) in row-major order (as PyTorch's ``nn.Linear.weight``), then that layer's
bias (fan_out,). Hidden layers use the chosen activation; the output layer is linear (logits
for classification, values for regression).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .activations import Activation, get_activation

Array = np.ndarray
MAX_WIDTH = 512
MAX_LAYERS = 8


@dataclass(frozen=True)
class LayerSlice:
    """Where one layer lives in the flat vector: weights [w_start, b_start), bias [b_start, end)."""

    fan_in: int
    fan_out: int
    w_start: int
    b_start: int
    end: int


def validate_layer_sizes(layer_sizes) -> tuple[int, ...]:
    """Check a layer-size list (input width first, output width last) and return it as a tuple."""
    try:
        sizes = tuple(int(s) for s in layer_sizes)
    except (TypeError, ValueError):
        raise ValueError(f"layer sizes must be whole numbers, got {layer_sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError("layer sizes need at least an input and an output width")
    if len(sizes) - 1 > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} layers (weight matrices), got {len(sizes) - 1}")
    for s in sizes[1:-1]:
        if not 1 <= s <= MAX_WIDTH:
            raise ValueError(f"hidden width must be between 1 and {MAX_WIDTH}, got {s}")
    if sizes[0] < 1 or sizes[-1] < 1:
        raise ValueError("input and output widths must be at least 1")
    return sizes


@dataclass(frozen=True)
class Network:
    """The shape of an MLP: layer sizes from input width to output width, hidden activation.

    It holds no parameters: every method takes the flat vector ``params`` (n_params,).
    """

    layer_sizes: tuple[int, ...]
    activation: str = "tanh"
    _act: Activation = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layer_sizes", validate_layer_sizes(self.layer_sizes))
        object.__setattr__(self, "_act", get_activation(self.activation))

    def __reduce__(self):
        return (Network, (self.layer_sizes, self.activation))

    @cached_property
    def layers(self) -> tuple[LayerSlice, ...]:
        out, start = [], 0
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            b_start = start + fan_in * fan_out
            out.append(LayerSlice(fan_in, fan_out, start, b_start, b_start + fan_out))
            start = b_start + fan_out
        return tuple(out)

    @property
    def n_params(self) -> int:
        return self.layers[-1].end

    @cached_property
    def weight_mask(self) -> Array:
        """(n_params,) bool: True on weights, False on biases (penalties skip biases)."""
        mask = np.zeros(self.n_params, dtype=bool)
        for L in self.layers:
            mask[L.w_start:L.b_start] = True
        return mask

    def unflatten(self, params: Array) -> list[tuple[Array, Array]]:
        """Views (W (..., fan_out, fan_in), b (..., fan_out)) into ``params`` (..., n_params)."""
        lead = params.shape[:-1]
        return [(params[..., L.w_start:L.b_start].reshape(*lead, L.fan_out, L.fan_in),
                 params[..., L.b_start:L.end]) for L in self.layers]

    def init_params(self, rng: np.random.Generator) -> Array:
        """Fresh parameters: He or Glorot normal weights (suited to the activation), zero biases."""
        params = np.zeros(self.n_params)
        last = len(self.layers) - 1
        for i, L in enumerate(self.layers):
            he = self._act.init == "he" and i < last
            var = 2.0 / L.fan_in if he else 2.0 / (L.fan_in + L.fan_out)
            params[L.w_start:L.b_start] = rng.normal(0.0, np.sqrt(var), L.b_start - L.w_start)
        return params

    def forward(self, params: Array, X: Array) -> Array:
        """Network output (N, K) for inputs X (N, d)."""
        return self.forward_cache(params, X)[0]

    def forward_cache(self, params: Array, X: Array) -> tuple[Array, list[tuple[Array, Array]]]:
        """Output (N, K) and, per hidden layer, (pre-activation z, activation a) for backward."""
        act, a, cache = self._act, X, []
        layers = self.unflatten(params)
        for W, b in layers[:-1]:
            z = a @ W.T + b
            a = act.value(z)
            cache.append((z, a))
        W, b = layers[-1]
        return a @ W.T + b, cache

    def backward(self, params: Array, X: Array, cache, grad_out: Array) -> Array:
        """Flat gradient (n_params,) of the loss, given dL/d(out) (N, K) and the forward cache."""
        grad = np.empty(self.n_params)
        layers = self.unflatten(params)
        acts = [X] + [a for _, a in cache]
        delta = grad_out
        for i in range(len(layers) - 1, -1, -1):
            L, (W, _) = self.layers[i], layers[i]
            grad[L.w_start:L.b_start] = (delta.T @ acts[i]).ravel()
            np.matmul(np.ones(delta.shape[0]), delta, out=grad[L.b_start:L.end])  # = sum over rows
            if i:
                z, a = cache[i - 1]
                delta = (delta @ W) * self._act.derivative(z, a)
        return grad

    def forward_many(self, params: Array, X: Array) -> Array:
        """Batched forward: params (B, n_params) -> outputs (B, N, K). Memory B*N*width."""
        act, a = self._act, X
        layers = self.unflatten(params)
        for W, b in layers[:-1]:
            a = act.value(a @ np.swapaxes(W, -1, -2) + b[..., None, :])
        W, b = layers[-1]
        return a @ np.swapaxes(W, -1, -2) + b[..., None, :]
