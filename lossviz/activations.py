"""Hidden-layer activations, each with its derivative next to it (as PyTorch defines them).

Every entry carries its value, its derivative, the initialization that suits it, and the words
the UI shows. Adding an activation is one new entry in ``ACTIVATIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from .registry import lookup

Array = np.ndarray
LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    """One hidden activation.

    ``value(z)`` maps pre-activations to activations (any shape, same dtype);
    ``derivative(z, a)`` gives da/dz elementwise from the pre-activation ``z`` and the
    activation ``a = value(z)`` (whichever is cheaper is used).
    ``init`` is ``"he"`` (variance 2/fan_in) or ``"glorot"`` (variance 2/(fan_in+fan_out)).
    ``inplace(z)`` overwrites ``z`` with ``value(z)`` and returns it (the loss surface's hot loop).
    ``second_derivative(z, a)`` gives d²a/dz² elementwise (the Hessian's R-operator pass in
    ``lossviz.hessian`` needs it). ReLU, leaky ReLU and linear have zero second derivative
    almost everywhere (the kink at 0 is ignored, as autograd ignores it).
    ``homogeneous``: value(c z) = c value(z) for every c > 0 (ReLU, leaky ReLU, linear), so a
    hidden layer scaled by c and the next layer's weights by 1/c compute the same function
    (``lossviz.rescale``; Dinh et al. 2017).
    """

    name: str
    label: str
    explanation: str
    value: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array]
    init: str
    inplace: Callable[[Array], Array]
    second_derivative: Callable[[Array, Array], Array]
    homogeneous: bool = False


def _relu(z: Array) -> Array:
    return np.maximum(z, 0)


def _leaky_relu(z: Array) -> Array:
    return np.where(z > 0, z, z * LEAKY_SLOPE)


def _sigmoid(z: Array) -> Array:
    # exp of a non-positive number only: no overflow for large |z|.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


@lru_cache(maxsize=4)
def _zeros(dtype: np.dtype, size: int) -> Array:
    out = np.zeros(size, dtype=dtype)
    out.flags.writeable = False  # shared, read-only
    return out


def _relu_inplace(z: Array) -> Array:
    # max against a zeros array stays on NumPy's SIMD path; against the scalar 0 it is ~4x slower.
    if z.size > 1 << 22:  # big: fresh calloc'd zeros cost nothing to read
        return np.maximum(z, np.zeros(z.shape, z.dtype), out=z)
    size = 1 << max(16, (z.size - 1).bit_length())
    return np.maximum(z, _zeros(z.dtype, size)[:z.size].reshape(z.shape), out=z)


def _sigmoid_inplace(z: Array) -> Array:
    # sigmoid(z) = (1 + tanh(z / 2)) / 2: one transcendental call, no temporaries.
    z *= 0.5
    np.tanh(z, out=z)
    z += 1
    z *= 0.5
    return z


def _softplus(z: Array) -> Array:
    return np.logaddexp(0, z).astype(z.dtype, copy=False)


def _flat(z: Array, a: Array) -> Array:
    """Zero second derivative (piecewise-linear activations, almost everywhere)."""
    return np.zeros_like(z)


def _softplus_second(z: Array, a: Array) -> Array:
    s = _sigmoid(z)
    return s * (1 - s)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("relu", "ReLU", "max(0, z): zero for negative inputs, identity otherwise.",
                   _relu, lambda z, a: (z > 0).astype(z.dtype), "he", _relu_inplace,
                   second_derivative=_flat, homogeneous=True),
        Activation("leaky_relu", "Leaky ReLU", "Like ReLU but lets 1% of negative inputs through.",
                   _leaky_relu, lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype), "he",
                   lambda z: np.maximum(z, z * LEAKY_SLOPE, out=z), second_derivative=_flat,
                   homogeneous=True),
        Activation("tanh", "tanh", "Smooth S-curve from -1 to 1, centred at zero.",
                   np.tanh, lambda z, a: 1 - a * a, "glorot", lambda z: np.tanh(z, out=z),
                   second_derivative=lambda z, a: -2 * a * (1 - a * a)),
        Activation("sigmoid", "Sigmoid", "Smooth S-curve from 0 to 1; saturates and slows learning.",
                   _sigmoid, lambda z, a: a * (1 - a), "glorot", _sigmoid_inplace,
                   second_derivative=lambda z, a: a * (1 - a) * (1 - 2 * a)),
        Activation("softplus", "Softplus", "log(1 + e^z): a smooth version of ReLU.",
                   _softplus, lambda z, a: _sigmoid(z), "he",
                   lambda z: np.logaddexp(0, z, out=z), second_derivative=_softplus_second),
        Activation("linear", "Linear (none)", "No non-linearity: the network can only draw straight lines.",
                   lambda z: z, lambda z, a: np.ones_like(z), "glorot", lambda z: z,
                   second_derivative=_flat, homogeneous=True),
    ]
}


def get_activation(name: str) -> Activation:
    """Return the activation called ``name`` or raise ValueError naming the allowed ones."""
    return lookup(ACTIVATIONS, name, "activation")
