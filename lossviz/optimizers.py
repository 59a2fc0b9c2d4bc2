"""Optimizers that update a flat parameter vector in place, exactly as ``torch.optim`` does.

They never see the model: ``step(params, grad)`` is all they know. Conventions (PyTorch
defaults, no dampening, no weight decay here -- penalties are part of the objective):

- ``sgd``:      p <- p - lr g
- ``momentum``: v <- mu v + g (v = g on the first step);  p <- p - lr v
- ``nesterov``: v <- mu v + g;  p <- p - lr (g + mu v)
- ``rmsprop``:  s <- alpha s + (1 - alpha) g^2;  p <- p - lr g / (sqrt(s) + eps)
- ``adam``:     m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2;
                p <- p - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)

RMSprop and Adam are *adaptive*: their step is divided entrywise by a preconditioner P built
from their state (``Optimizer.preconditioner``), so the curvature their stability depends on is
that of P^-1 H, not of H (Cohen et al. 2022, "Adaptive gradient methods at the edge of stability").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .checks import integer, number
from .registry import lookup

MAX_PARAMS = 10 ** 8  # parameters of one network: beyond this an optimizer's buffers would not fit

Array = np.ndarray


class Optimizer:
    """Base class: holds the learning rate and the step count; subclasses say how to update.

    ``buffers`` names the state a subclass keeps between steps (arrays (n_params,)); ``_tmp``
    is scratch space, so that a step allocates nothing: on a small network a step costs its
    NumPy calls, and each call that writes ``out=`` a reused array saves an allocation.
    """

    buffers: tuple[str, ...] = ()
    adaptive = False  # True: the step is divided entrywise by a state-dependent preconditioner

    def __init__(self, n_params: int, lr: float, **hyper: float) -> None:
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.t = 0
        self.n_params = n_params
        self._tmp = np.empty(n_params)

    def step(self, params: Array, grad: Array) -> None:
        """Update ``params`` (n_params,) in place from ``grad`` (n_params,)."""
        self.t += 1
        self._update(params, grad)

    def _update(self, params: Array, grad: Array) -> None:
        raise NotImplementedError

    def preconditioner(self) -> Array | None:
        """The diagonal P (n_params,) an adaptive optimizer's last step was divided by
        (p <- p - lr P^-1 u), a new array from its state (the next step's P differs only by one
        more gradient in its running averages); None for a plain optimizer (P = I) and before
        the first step (no state yet)."""
        return None

    def state_dict(self) -> dict:
        """The step count and every buffer (arrays of shape (n_params,)), copied: enough to
        continue exactly where this optimizer stopped (as ``torch.optim``'s state_dict)."""
        return {"t": self.t, **{k: getattr(self, k).copy() for k in self.buffers}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (ValueError on a missing or misshapen buffer)."""
        for key in self.buffers:
            value = getattr(self, key)
            buf = np.asarray(state.get(key), dtype=np.float64)
            if buf.shape != value.shape:
                raise ValueError(f"optimizer state {key!r} must have shape {value.shape}, got {buf.shape}")
            value[:] = buf
        self.t = int(state["t"])


class SGD(Optimizer):
    def _update(self, params: Array, grad: Array) -> None:
        params -= np.multiply(self.lr, grad, out=self._tmp)


class Momentum(Optimizer):
    nesterov = False
    buffers = ("buf",)

    def __init__(self, n_params: int, lr: float, momentum: float = 0.9, **hyper: float) -> None:
        super().__init__(n_params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.mu = float(momentum)
        self.buf = np.zeros(n_params)

    def _update(self, params: Array, grad: Array) -> None:
        if self.t == 1:
            self.buf[:] = grad
        else:
            self.buf *= self.mu
            self.buf += grad
        if self.nesterov:  # direction g + mu v
            direction = np.multiply(self.mu, self.buf, out=self._tmp)
            np.add(grad, direction, out=direction)
        else:
            direction = self.buf
        params -= np.multiply(self.lr, direction, out=self._tmp)


class Nesterov(Momentum):
    nesterov = True


class RMSprop(Optimizer):
    buffers = ("sq",)
    adaptive = True

    def __init__(self, n_params: int, lr: float, alpha: float = 0.99, eps: float = 1e-8,
                 **hyper: float) -> None:
        super().__init__(n_params, lr)
        self.alpha, self.eps = float(alpha), float(eps)
        self.sq = np.zeros(n_params)
        self._denom = np.empty(n_params)

    def _update(self, params: Array, grad: Array) -> None:
        tmp, denom = self._tmp, self._denom
        self.sq *= self.alpha
        np.multiply(1 - self.alpha, grad, out=tmp)
        tmp *= grad
        self.sq += tmp
        np.sqrt(self.sq, out=denom)
        denom += self.eps
        np.multiply(self.lr, grad, out=tmp)
        tmp /= denom
        params -= tmp

    def preconditioner(self) -> Array | None:
        """P = sqrt(s) + eps: the step is lr P^-1 g."""
        return np.sqrt(self.sq) + self.eps if self.t else None


class Adam(Optimizer):
    buffers = ("m", "v")
    adaptive = True

    def __init__(self, n_params: int, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, **hyper: float) -> None:
        super().__init__(n_params, lr)
        self.b1, self.b2, self.eps = float(beta1), float(beta2), float(eps)
        # m and v are the rows of one (2, n_params) array, and so are their updates' terms:
        # one NumPy call scales both (the betas as a column), where two would on two arrays.
        self._moments = np.zeros((2, n_params))
        self._terms = np.empty((2, n_params))
        self._betas = np.array([[self.b1], [self.b2]])
        self._one_minus_betas = np.array([[1 - self.b1], [1 - self.b2]])

    @property
    def m(self) -> Array:
        return self._moments[0]

    @property
    def v(self) -> Array:
        return self._moments[1]

    def _update(self, params: Array, grad: Array) -> None:
        # m <- b1 m + (1 - b1) g;  v <- b2 v + ((1 - b2) g) g, each product as the formula has it
        moments, terms, tmp = self._moments, self._terms, self._tmp
        moments *= self._betas
        np.multiply(self._one_minus_betas, grad, out=terms)
        terms[1] *= grad
        moments += terms
        bc1 = 1 - self.b1 ** self.t
        bc2 = 1 - self.b2 ** self.t
        denom = np.divide(moments[1], bc2, out=terms[1])  # sqrt(v / bc2) + eps
        np.sqrt(denom, out=denom)
        denom += self.eps
        np.multiply(self.lr / bc1, moments[0], out=tmp)  # ((lr / bc1) m) / denom
        tmp /= denom
        params -= tmp

    def preconditioner(self) -> Array | None:
        """P = (1 - b1^t) (sqrt(v / (1 - b2^t)) + eps): the step is lr P^-1 m, and m averages
        gradients with weight 1 - b1 (Cohen et al. 2022's P, whose line is (2 + 2 b1)/((1 - b1) lr))."""
        if not self.t:
            return None
        return (1 - self.b1 ** self.t) * (np.sqrt(self.v / (1 - self.b2 ** self.t)) + self.eps)


@dataclass(frozen=True)
class OptimizerSpec:
    """Registry entry: how to build the optimizer, and the words the UI shows."""

    name: str
    label: str
    explanation: str
    factory: Callable[..., Optimizer]
    uses_momentum: bool = False


OPTIMIZERS: dict[str, OptimizerSpec] = {
    o.name: o
    for o in [
        OptimizerSpec("sgd", "SGD", "Step straight down the gradient, scaled by the learning rate.", SGD),
        OptimizerSpec("momentum", "SGD + momentum",
                      "Keeps a running sum of past gradients, like a ball rolling downhill.",
                      Momentum, True),
        OptimizerSpec("nesterov", "Nesterov momentum",
                      "Momentum that looks one step ahead before correcting.", Nesterov, True),
        OptimizerSpec("rmsprop", "RMSprop",
                      "Divides each step by a running size of recent gradients.", RMSprop),
        OptimizerSpec("adam", "Adam",
                      "Momentum plus per-weight step sizes; a robust default.", Adam),
    ]
}


def make_optimizer(name: str, n_params: int, lr: float, momentum: float = 0.9) -> Optimizer:
    """Build the optimizer called ``name`` for a vector of ``n_params`` parameters."""
    spec = lookup(OPTIMIZERS, name, "optimizer")
    n_params = integer(n_params, "n_params", 1, MAX_PARAMS)
    lr = number(lr, "lr (learning rate)", 0.0)
    if lr <= 0:
        raise ValueError(f"lr (learning rate) must be a positive number, got {lr!r}")
    momentum = number(momentum, "momentum", 0.0, 1.0)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    return spec.factory(n_params, lr, momentum=momentum)
