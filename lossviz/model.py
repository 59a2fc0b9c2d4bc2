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
from .checks import real_array, short, whole

Array = np.ndarray
MAX_WIDTH = 512
MAX_LAYERS = 8
MAX_INPUT_WIDTH = 10_000
MAX_OUTPUT_WIDTH = 1_000


@dataclass(frozen=True)
class LayerSlice:
    """Where one layer lives in the flat vector: weights [w_start, b_start), bias [b_start, end)."""

    fan_in: int
    fan_out: int
    w_start: int
    b_start: int
    end: int


def validate_layer_sizes(layer_sizes) -> tuple[int, ...]:
    """Check a layer-size list (input width first, output width last) and return it as a tuple.

    Widths are bounded (hidden by ``MAX_WIDTH``, input by ``MAX_INPUT_WIDTH``, output by
    ``MAX_OUTPUT_WIDTH``), so a network's parameter vector always fits in memory.
    """
    if isinstance(layer_sizes, np.ndarray) and layer_sizes.ndim == 1:
        layer_sizes = layer_sizes.tolist()
    if not isinstance(layer_sizes, (list, tuple)):
        raise ValueError(f"layer_sizes must be a list of whole numbers, got {short(layer_sizes)}")
    if len(layer_sizes) - 1 > MAX_LAYERS:
        raise ValueError(f"layer_sizes may hold at most {MAX_LAYERS} layers (weight matrices), "
                         f"got {len(layer_sizes) - 1}")
    sizes = tuple(whole(s) for s in layer_sizes)
    if None in sizes:
        raise ValueError(f"layer_sizes must be whole numbers, got {short(layer_sizes)}")
    if len(sizes) < 2:
        raise ValueError("layer_sizes need at least an input and an output width")
    for s in sizes[1:-1]:
        if not 1 <= s <= MAX_WIDTH:
            raise ValueError(f"layer_sizes: a hidden width must be between 1 and {MAX_WIDTH}, got {s}")
    for s, what, hi in ((sizes[0], "input", MAX_INPUT_WIDTH), (sizes[-1], "output", MAX_OUTPUT_WIDTH)):
        if not 1 <= s <= hi:
            raise ValueError(f"layer_sizes: the {what} width must be between 1 and {hi}, got {s}")
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
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                            f"got {short(rng)}")
        params = np.zeros(self.n_params)
        last = len(self.layers) - 1
        for i, L in enumerate(self.layers):
            he = self._act.init == "he" and i < last
            var = 2.0 / L.fan_in if he else 2.0 / (L.fan_in + L.fan_out)
            params[L.w_start:L.b_start] = rng.normal(0.0, np.sqrt(var), L.b_start - L.w_start)
        return params

    def forward(self, params: Array, X: Array) -> Array:
        """Network output (N, K) for inputs X (N, d). NaN or inf in, NaN or inf out."""
        params = real_array(params, "params", finite=False)
        if params.shape != (self.n_params,):
            raise ValueError(f"params must have shape ({self.n_params},) to match layer_sizes "
                             f"{self.layer_sizes}, got shape {params.shape}")
        X = real_array(X, "X", finite=False)
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (N, {self.layer_sizes[0]}) to match layer_sizes "
                             f"{self.layer_sizes}, got shape {X.shape}")
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


class Workspace:
    """Reused buffers for the training loop's forward and backward passes on ``rows`` rows.

    :meth:`forward` and :meth:`backward` give bit for bit what :meth:`Network.forward_cache` and
    :meth:`Network.backward` give -- the same NumPy operations in the same order -- but write
    every product into buffers made once, so a step of a small network pays for its
    arithmetic rather than for allocating, slicing and reshaping. ``views`` is
    ``net.unflatten(params)``, made once per run of steps (the optimizer updates ``params`` in
    place, so the views stay current). No validation: the trainer checked its inputs.

    Products go through ``np.dot`` rather than ``@``: the same BLAS call (gemm, or gemv for the
    bias gradient) with half a microsecond less overhead, which is a tenth of a small step.
    """

    def __init__(self, net: Network, rows: int) -> None:
        self.net, self.rows = net, rows
        widths = net.layer_sizes[1:]
        self.z = [np.empty((rows, w)) for w in widths]  # pre-activations; the last: the output
        self.a: list[Array] = []
        self.delta = [np.empty((rows, w)) for w in widths[:-1]]
        self.ones = np.ones(rows)
        self.grad = np.empty(net.n_params)
        self.grad_views = net.unflatten(self.grad)
        self.nbytes = sum(b.nbytes for b in (*self.z, *self.delta, self.ones, self.grad))

    def forward(self, views: list[tuple[Array, Array]], X: Array) -> Array:
        """Network output (rows, K), a view of this workspace's buffer, for inputs X (rows, d)."""
        value, a, acts, last = self.net._act.value, X, [], len(views) - 1
        for i, (W, b) in enumerate(views):
            z = self.z[i]
            np.dot(a, W.T, out=z)
            np.add(z, b, out=z)
            if i < last:
                a = value(z)
                acts.append(a)
        self.a = acts
        return z

    def backward(self, views: list[tuple[Array, Array]], X: Array, grad_out: Array) -> Array:
        """Flat gradient (n_params,), this workspace's buffer, from dL/d(out) (rows, K)."""
        derivative, acts, delta = self.net._act.derivative, [X, *self.a], grad_out
        for i in range(len(views) - 1, -1, -1):
            gW, gb = self.grad_views[i]
            np.dot(delta.T, acts[i], out=gW)
            np.dot(self.ones, delta, out=gb)  # = sum over rows
            if i:
                d = self.delta[i - 1]
                np.dot(delta, views[i][0], out=d)
                np.multiply(d, derivative(self.z[i - 1], acts[i]), out=d)
                delta = d
        return self.grad
