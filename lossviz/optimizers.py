"""Optimizers that update a flat parameter vector in place, exactly as ``torch.optim`` does.

They never see the model: ``step(params, grad)`` is all they know. Conventions (PyTorch
defaults, no dampening, no weight decay here -- penalties are part of the objective):

- ``sgd``:      p <- p - lr g
- ``momentum``: v <- mu v + g (v = g on the first step);  p <- p - lr v
- ``nesterov``: v <- mu v + g;  p <- p - lr (g + mu v)
- ``rmsprop``:  s <- alpha s + (1 - alpha) g^2;  p <- p - lr g / (sqrt(s) + eps)
- ``adam``:     m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2;
                p <- p - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)
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
    """Base class: holds the learning rate and the step count; subclasses say how to update."""

    def __init__(self, n_params: int, lr: float, **hyper: float) -> None:
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.t = 0
        self.n_params = n_params

    def step(self, params: Array, grad: Array) -> None:
        """Update ``params`` (n_params,) in place from ``grad`` (n_params,)."""
        self.t += 1
        self._update(params, grad)

    def _update(self, params: Array, grad: Array) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """The step count and every buffer (arrays of shape (n_params,)), copied: enough to
        continue exactly where this optimizer stopped (as ``torch.optim``'s state_dict)."""
        return {"t": self.t, **{k: v.copy() for k, v in vars(self).items() if isinstance(v, np.ndarray)}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (ValueError on a missing or misshapen buffer)."""
        for key, value in vars(self).items():
            if isinstance(value, np.ndarray):
                buf = np.asarray(state.get(key), dtype=np.float64)
                if buf.shape != value.shape:
                    raise ValueError(f"optimizer state {key!r} must have shape {value.shape}, got {buf.shape}")
                value[:] = buf
        self.t = int(state["t"])


class SGD(Optimizer):
    def _update(self, params: Array, grad: Array) -> None:
        params -= self.lr * grad


class Momentum(Optimizer):
    nesterov = False

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
        direction = grad + self.mu * self.buf if self.nesterov else self.buf
        params -= self.lr * direction


class Nesterov(Momentum):
    nesterov = True


class RMSprop(Optimizer):
    def __init__(self, n_params: int, lr: float, alpha: float = 0.99, eps: float = 1e-8,
                 **hyper: float) -> None:
        super().__init__(n_params, lr)
        self.alpha, self.eps = float(alpha), float(eps)
        self.sq = np.zeros(n_params)

    def _update(self, params: Array, grad: Array) -> None:
        self.sq *= self.alpha
        self.sq += (1 - self.alpha) * grad * grad
        params -= self.lr * grad / (np.sqrt(self.sq) + self.eps)


class Adam(Optimizer):
    def __init__(self, n_params: int, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, **hyper: float) -> None:
        super().__init__(n_params, lr)
        self.b1, self.b2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = np.zeros(n_params)
        self.v = np.zeros(n_params)

    def _update(self, params: Array, grad: Array) -> None:
        self.m *= self.b1
        self.m += (1 - self.b1) * grad
        self.v *= self.b2
        self.v += (1 - self.b2) * grad * grad
        bc1 = 1 - self.b1 ** self.t
        bc2 = 1 - self.b2 ** self.t
        denom = np.sqrt(self.v / bc2)
        denom += self.eps
        params -= (self.lr / bc1) * self.m / denom


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
