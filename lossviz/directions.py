"""Directions in parameter space for loss-landscape plots.

Random directions are Gaussian, then normalized so that a step of 1 along them is comparable to
the weights themselves (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"):

- ``filter``: each neuron's slice -- a row of a (fan_out, fan_in) weight matrix -- is rescaled
  to the norm of the same row of the weights. Bias entries of the direction are set to zero
  (Li et al.'s default of leaving biases out), so the plane moves weights only.
- ``layer``: each weight matrix is rescaled to the Frobenius norm of the same matrix; biases zero.
- ``none``: the raw Gaussian vector, biases included.

PCA directions are the top two principal components of a trajectory's offsets from its final
point, with the fraction of variance each explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .blas import single_threaded_blas

from .checks import integer, real_array, short, vector
from .model import Network
from .registry import lookup

Array = np.ndarray
_EPS = 1e-10


def _rows_to(d: Array, w: Array) -> None:
    """Rescale each row of d (fan_out, fan_in) in place to the norm of the same row of w."""
    d *= np.linalg.norm(w, axis=1, keepdims=True) / (np.linalg.norm(d, axis=1, keepdims=True) + _EPS)


def _matrix_to(d: Array, w: Array) -> None:
    d *= np.linalg.norm(w) / (np.linalg.norm(d) + _EPS)


def _normalize_per_layer(rescale: Callable[[Array, Array], None]):
    def normalize(direction: Array, params: Array, net: Network) -> Array:
        out = direction.copy()
        for (dW, db), (W, _) in zip(net.unflatten(out), net.unflatten(params)):
            rescale(dW, W)
            db[:] = 0.0
        return out

    return normalize


@dataclass(frozen=True)
class Normalization:
    name: str
    label: str
    explanation: str
    apply: Callable[[Array, Array, Network], Array]


NORMALIZATIONS: dict[str, Normalization] = {
    n.name: n
    for n in [
        Normalization("filter", "Filter-normalized",
                      "Each neuron's random weights are scaled to that neuron's own weight size "
                      "(Li et al. 2018), so landscapes of different networks compare fairly.",
                      _normalize_per_layer(_rows_to)),
        Normalization("layer", "Layer-normalized",
                      "Each layer's random weights are scaled to that layer's weight size.",
                      _normalize_per_layer(_matrix_to)),
        Normalization("none", "Raw Gaussian", "Unscaled Gaussian noise, biases included.",
                      lambda d, p, net: d.copy()),
    ]
}


def _checked_params(params: object, net: object) -> Array:
    """``params`` as a finite (n_params,) vector of ``net``, after checking ``net`` is a Network."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossviz.Network, got {short(net)}")
    return vector(params, "params", net.n_params, f" to match net.layer_sizes {net.layer_sizes}")


def random_direction(params: Array, net: Network, rng: np.random.Generator,
                     normalization: str = "filter") -> Array:
    """One random direction (n_params,), Gaussian then normalized against ``params``."""
    params = _checked_params(params, net)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {short(rng)}")
    norm = lookup(NORMALIZATIONS, normalization, "direction normalization")
    return norm.apply(rng.standard_normal(net.n_params), params, net)


def random_directions(params: Array, net: Network, seed: int = 0,
                      normalization: str = "filter") -> tuple[Array, Array]:
    """Two random directions (n_params,) each, reproducible from ``seed`` (a whole number >= 0)."""
    params = _checked_params(params, net)
    rng = np.random.default_rng([integer(seed, "seed", 0), 3])
    return (random_direction(params, net, rng, normalization),
            random_direction(params, net, rng, normalization))


def pca_directions(trajectory: Array) -> tuple[Array, Array, Array]:
    """Top two principal directions of a trajectory's offsets from its last row.

    Parameters
    ----------
    trajectory : (T, n_params) parameter vectors, the last one the final point.

    Returns
    -------
    d1, d2 : (n_params,) unit vectors (d2 zero if the path is a straight line)
    explained : (2,) fraction of the offsets' variance along d1 and d2
    """
    traj = real_array(trajectory, "trajectory")
    if traj.ndim != 2 or traj.shape[0] < 2 or traj.shape[1] < 1:
        raise ValueError(f"PCA directions need a trajectory of shape (T, n_params) with at least "
                         f"two rows, got shape {traj.shape}")
    # Scaled by a power of two to a largest entry below 1 (exact; the directions do not change):
    # no overflow in the offsets or the squared singular values, whatever the weights' size.
    _, exponent = np.frexp(max(traj.max(), -traj.min()))
    offsets = np.ldexp(traj, -exponent)
    offsets -= offsets[-1].copy()
    with single_threaded_blas():  # OpenBLAS threads make this small SVD 100x slower
        _, s, vt = np.linalg.svd(offsets, full_matrices=False)
    if s[0] == 0:
        raise ValueError("PCA directions need a trajectory that moves")
    s = s / s[0]
    var = np.zeros(2)
    var[:min(2, s.size)] = (s[:2] ** 2) / float((s * s).sum())
    d2 = vt[1] if vt.shape[0] > 1 and s[1] > _EPS * s[0] else np.zeros(traj.shape[1])
    d1 = vt[0]
    # Orient d1 so the path runs from negative to positive alpha: easier to read.
    if offsets[0] @ d1 > 0:
        d1 = -d1
    return d1.copy(), d2.copy(), var
