"""The loss surface's inner loop: many grid points' forward passes and losses at once.

``landscape.surface`` validates, builds a :class:`Plan` here, then runs :func:`chunk_sums` on
chunks of grid points (rows of ``coef = (1, alpha, beta)``), one thread per core. Why it is
shaped the way it is (measured on a 2-core AMD EPYC, float32):

- Activations are feature-major, ``(points, units + 1, samples)``: the elementwise work (the
  activation, the dominant cost for narrow tanh networks) runs over long contiguous rows, and
  each point's layer is one GEMM ``(fan_out, fan_in + 1) @ (fan_in + 1, samples)`` (the
  dominant cost for wide networks). Row ``units`` of every buffer is a constant 1, so biases are
  a weight column and never pass through the activation.
- The first layer's pre-activations are affine in (alpha, beta): ``A + a B + b C`` for a whole
  chunk is one GEMM with inner dimension 3, no per-point matmul on the inputs.
- Samples are sorted by class and cut into blocks, one class per block. For softmax losses the
  output layer of a class-``y`` block gives ``u_k = z_k - z_y`` (k != y) directly, so
  cross-entropy is ``log(1 + sum_k exp(u_k))`` with no gather and no cancellation (a sample's
  tiny loss stays accurate in float32), and accuracy is the sign of ``u``.
- A chunk's buffers fit in a core's L2 cache (``budget`` bytes); they are reused across chunks.
- Per-point sums over samples are accumulated in float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Block:
    """A run of samples evaluated together (columns of the class-sorted data).

    ``first``: (3, h1, n) first-layer pre-activation parts (value, d1, d2), or, with no hidden
    layer, the inputs (d + 1, n) with a row of ones. ``out``: (3, k_out, fan_in + 1) output
    layer parts; for a class block (``cls`` set) row k is ``z_k - z_cls`` over k != cls.
    ``y``: (n,) the block's labels or targets.
    """

    first: Array
    out: Array
    cls: int | None
    y: Array

    @property
    def n(self) -> int:
        return self.y.shape[0]


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs, in the working dtype.

    ``hidden``: per hidden layer after the first, (3, fan_out * (fan_in + 1)) weight parts
    (bias in the last column). ``widths``: hidden widths. ``reduce``: block outputs
    (c, k_out, n) -> per-point loss sums (c,) in float64 (see ``LOSS_SUMS``).
    """

    blocks: tuple[Block, ...]
    hidden: tuple[Array, ...]
    widths: tuple[int, ...]
    act: Callable[[Array], Array]
    reduce: Callable[[Array, Block], Array]
    task: str
    dtype: np.dtype

    def point_bytes(self) -> int:
        """Buffer bytes one grid point needs for the largest block."""
        n = max(b.n for b in self.blocks)
        rows = sum(w + 1 for w in self.widths) + 2 * self.blocks[0].out.shape[1]
        return rows * n * self.dtype.itemsize


def blocks_by_class(y: Array, task: str, max_samples: int) -> list[tuple[int | None, Array]]:
    """(class or None, sample indices) per block: classes sorted, each cut into near-equal
    runs of at most ``max_samples``."""
    if task == "regression":
        groups = [(None, np.arange(y.shape[0]))]
    else:
        order = np.argsort(y, kind="stable")
        classes, starts = np.unique(y[order], return_index=True)
        groups = list(zip(classes.tolist(), np.split(order, starts[1:])))
    out = []
    for cls, idx in groups:
        pieces = -(-idx.size // max_samples)
        out += [(cls, part) for part in np.array_split(idx, pieces)]
    return out


def relative_rows(out: Array, cls: int, drop0: bool) -> Array:
    """Output parts (3, K', f) -> (3, K - 1, f) rows ``z_k - z_cls`` for k != cls.

    With ``drop0`` the K' = K - 1 rows are already ``z_k - z_0`` (k >= 1), and z_0 is 0.
    """
    full = np.concatenate([np.zeros_like(out[:, :1]), out], axis=1) if drop0 else out
    keep = [k for k in range(full.shape[1]) if k != cls]
    return full[:, keep] - full[:, cls:cls + 1]


def _buffer(ws: dict, key, shape: tuple[int, ...], dt, ones_row: bool = False) -> Array:
    """A scratch array from ``ws``, reallocated only when the shape changes; with
    ``ones_row`` its last row (axis 1) is the constant unit that carries the next bias."""
    buf = ws.get(key)
    if buf is None or buf.shape != shape or buf.dtype != dt:
        buf = ws[key] = np.empty(shape, dtype=dt)
        if ones_row:
            buf[:, -1] = 1
    return buf


def block_outputs(plan: Plan, coef: Array, weights: list[Array], block: Block, ws: dict) -> Array:
    """Outputs (c, k_out, n) of one block at c grid points; ``weights`` from :func:`chunk_weights`."""
    c, n, dt = coef.shape[0], block.n, plan.dtype
    if plan.widths:
        h = plan.widths[0]
        z = _buffer(ws, (0, n), (c, h + 1, n), dt, ones_row=True)
        np.matmul(coef, block.first.reshape(3, -1), out=z[:, :h].reshape(c, h * n))
        plan.act(z[:, :h])
        for i, w in enumerate(weights[:-1], 1):
            nxt = _buffer(ws, (i, n), (c, w.shape[1] + 1, n), dt, ones_row=True)
            np.matmul(w, z, out=nxt[:, :-1])
            plan.act(nxt[:, :-1])
            z = nxt
    else:
        z = block.first
    out = weights[-1][block.cls if block.cls is not None else 0]
    return np.matmul(out, z, out=_buffer(ws, ("u", n), (c, out.shape[1], n), dt))


def chunk_weights(plan: Plan, coef: Array) -> list[Array]:
    """Per point, each later layer's weights ``W + a D + b E``: hidden (c, fan_out, fan_in + 1),
    then the output layer as a dict class -> (c, k_out, fan_in + 1) (key 0 when unsorted)."""
    c = coef.shape[0]
    ws = [(coef @ w).reshape(c, fo, -1) for w, fo in zip(plan.hidden, plan.widths[1:])]
    outs = {}
    for b in plan.blocks:
        key = b.cls if b.cls is not None else 0
        if key not in outs:
            outs[key] = (coef @ b.out.reshape(3, -1)).reshape(c, b.out.shape[1], -1)
    return ws + [outs]


def chunk_sums(plan: Plan, coef: Array, ws: dict, with_metric: bool) -> tuple[Array, Array | None]:
    """Per-point sums over all samples (float64): the loss, and the metric's numerator."""
    weights = chunk_weights(plan, coef)
    loss = np.zeros(coef.shape[0])
    metric = np.zeros(coef.shape[0]) if with_metric else None
    for block in plan.blocks:
        u = block_outputs(plan, coef, weights, block, ws)
        loss += plan.reduce(u, block)
        if with_metric:
            metric += (correct_counts(u, block) if plan.task == "classification"
                       else squared_residual_sums(u, block))
    return loss, metric


# --- per-block reductions ------------------------------------------------------------------

def _sum64(x: Array) -> Array:
    return np.add.reduce(x, axis=-1, dtype=np.float64)


EXP_SAFE = 80.0  # exp(80) ~ 5.5e34: no float32 overflow, and a sum of a few stays finite


def cross_entropy_sums(u: Array, block: Block) -> Array:
    """Per point, the sum over the block of ``log(1 + sum_k exp(u_k))`` (c,) float64.

    ``u`` (c, K - 1, n) holds ``z_k - z_y``. While every ``u_k <= EXP_SAFE`` that is computed
    as written (4 passes; exact to rounding when the true class wins by far: ``log1p`` of a tiny
    sum). Otherwise, with ``m = max(0, max_k u_k)``, as ``m + log1p(expm1(-m) + sum_k
    exp(u_k - m))``: no overflow.
    """
    if u.max() <= EXP_SAFE:
        e = np.exp(u)
        s = e[:, 0] if u.shape[1] == 1 else np.add.reduce(e, axis=1)
        return _sum64(np.log1p(s, out=s))
    m = np.maximum.reduce(u, axis=1)
    np.maximum(m, _zeros_like(m), out=m)
    e = u - m[:, None]
    np.exp(e, out=e)
    s = np.add.reduce(e, axis=1)
    g = np.negative(m)
    np.expm1(g, out=g)
    g += s
    np.log1p(g, out=g)
    g += m
    return _sum64(g)


def _zeros_like(a: Array) -> Array:
    # max against a zeros array stays on NumPy's SIMD path; against the scalar 0 it is ~3x slower.
    return np.zeros(a.shape, a.dtype)


def logits_for(u: Array, block: Block, k: int) -> Array:
    """Float64 logits (c, n, K) up to a per-sample shift: z_cls = 0 for a class block."""
    if block.cls is None:
        return np.moveaxis(u, 1, -1).astype(np.float64)
    z = np.zeros((u.shape[0], block.n, k))
    z[..., [j for j in range(k) if j != block.cls]] = np.moveaxis(u, 1, -1)
    return z


def registry_sums(lossfn, task: str, k: int, delta: float) -> Callable[[Array, Block], Array]:
    """A reducer through the loss registry (any loss): float64 logits, mean times n."""

    def reduce(u: Array, block: Block) -> Array:
        return lossfn.value(logits_for(u, block, k), block.y, task, delta) * block.n

    return reduce


def correct_counts(u: Array, block: Block) -> Array:
    """Per point, how many samples' largest logit is the true class (c,) float64.

    Ties go to the lower index, as ``argmax``: class k beats y when u_k > 0, or u_k = 0, k < y.
    """
    if block.cls is None:  # raw logits (c, K, n)
        return np.count_nonzero(u.argmax(axis=1) == block.y, axis=-1).astype(np.float64)
    rows = [k for k in range(u.shape[1] + 1) if k != block.cls]
    ok = None
    for r, k in enumerate(rows):
        win = np.less(u[:, r], 0) if k < block.cls else np.less_equal(u[:, r], 0)
        ok = win if ok is None else np.logical_and(ok, win, out=ok)
    return np.count_nonzero(ok, axis=-1).astype(np.float64)


def squared_residual_sums(u: Array, block: Block) -> Array:
    """Per point, the sum of (prediction - target)^2 over the block (c,) float64."""
    r = u[:, 0].astype(np.float64) - block.y
    return np.einsum("cn,cn->c", r, r)


FAST_SUMS: dict[str, Callable[[Array, Block], Array]] = {"cross_entropy": cross_entropy_sums}
"""Losses with their own per-block reducer on class-relative outputs (others: the registry)."""
