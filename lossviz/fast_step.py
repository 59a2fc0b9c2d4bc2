"""The training step's hot loop, bit for bit the exact path without its per-step overhead.

A step of a small network (2-16-16-2 on 32 rows) is a few dozen NumPy calls on arrays of a few
hundred numbers: what it costs is the calls, not the arithmetic. So the trainer's fast path

- cuts each minibatch as a slice of the epoch's rows gathered once in shuffled order (one
  gather per epoch, not two per step), with each row's one-hot target and flat pick index;
- runs forward and backward in a reused :class:`lossviz.model.Workspace`;
- computes cross-entropy into reused buffers (the other losses run their registry entry).

Every operation is the one the exact path (``Trainer.objective_grad``) performs, in the same
order, so the results are identical to the last bit; tests hold the two paths together.
"""

from __future__ import annotations

import numpy as np

from .losses import Loss
from .model import Network, Workspace

Array = np.ndarray
WORKSPACE_BYTES = 32 * 2**20  # buffers kept between steps per trainer; a bigger network allocates per step


class EpochRows:
    """The training rows in one epoch's order: batch k is rows [k*size, (k+1)*size).

    ``order`` None means the rows as they are (full batch: no copy). ``k_classes`` None means
    regression (no one-hot targets).
    """

    def __init__(self, X: Array, y: Array, order: Array | None, size: int,
                 k_classes: int | None) -> None:
        if order is not None:
            X, y = X[order], y[order]
        self.X, self.y, self.size = X, y, size
        self.onehot = self.pick = None
        if k_classes is not None:
            n = y.shape[0]
            self.onehot = np.zeros((n, k_classes))
            self.onehot[np.arange(n), y] = 1
            self.pick = (np.arange(n) % size) * k_classes + y  # flat index into a batch's (rows, K)

    def batch(self, k: int) -> tuple[Array, Array, Array | None, Array | None]:
        """Views (X (b, d), y (b,), one-hot (b, K) or None, pick (b,) or None) of batch k."""
        s = slice(k * self.size, (k + 1) * self.size)
        if self.onehot is None:
            return self.X[s], self.y[s], None, None
        return self.X[s], self.y[s], self.onehot[s], self.pick[s]


class CrossEntropyBuffers:
    """Mean cross-entropy on logits and its gradient, as ``cross_entropy.ce_value_and_grad`` computes
    them (max-shifted log-sum-exp, ``(softmax - onehot) / N``), into buffers for ``rows`` rows."""

    def __init__(self, rows: int, k: int) -> None:
        self.shift, self.g = np.empty((rows, k)), np.empty((rows, k))
        self.col_max, self.total, self.log_total = np.empty(rows), np.empty(rows), np.empty(rows)

    def __call__(self, out: Array, onehot: Array, pick: Array) -> tuple[float, Array]:
        """(loss, dL/d(out) (rows, K)) for logits ``out``; the gradient is this object's buffer."""
        n, k = out.shape
        s, g, m, total = self.shift, self.g, self.col_max, self.total
        _fold_columns(np.maximum, out, m)
        np.subtract(out, m[:, None], out=s)
        np.exp(s, out=g)
        _fold_columns(np.add, g, total)
        lt = np.log(total, out=self.log_total)
        lt -= s.take(pick)
        value = float(np.add.reduce(lt) / n)  # what .mean() computes: the pairwise sum over n
        g /= total[:, None]
        g -= onehot  # subtracting 0.0 leaves a number as it is: the exact path's g[rows, y] -= 1
        g /= n
        return value, g


def _fold_columns(ufunc: np.ufunc, z: Array, out: Array) -> None:
    """``softmax.reduce_last`` into ``out`` (rows,): the same folds in the same order."""
    if z.shape[1] > 16:
        ufunc.reduce(z, axis=1, out=out)
        return
    ufunc(z[:, 0], z[:, 1], out=out)  # the exact path copies column 0, then folds in 1, 2, ...
    for k in range(2, z.shape[1]):
        ufunc(out, z[:, k], out=out)


class StepBuffers:
    """A workspace and, for cross-entropy, loss buffers, for batches of ``rows`` rows.

    ``hyper`` is the loss's hyper-parameter: the buffers compute plain cross-entropy, so a
    smoothed one (eps > 0) runs its registry entry."""

    def __init__(self, net: Network, loss: Loss, rows: int, hyper: float = 0.0) -> None:
        self.workspace = Workspace(net, rows)
        self.cross_entropy = None
        if loss.name in IN_BUFFERS and not hyper:
            self.cross_entropy = IN_BUFFERS[loss.name](rows, net.layer_sizes[-1])
        self.nbytes = self.workspace.nbytes + 8 * rows * (2 * net.layer_sizes[-1] + 3)


# Losses with an in-buffer twin here; every other loss runs its registry ``value_and_grad``.
IN_BUFFERS = {"cross_entropy": CrossEntropyBuffers}
