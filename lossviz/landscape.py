"""The loss over a plane in parameter space, vectorized.

``surface`` evaluates the data loss at ``params + alphas[i] d1 + betas[j] d2`` for every grid
point. It never runs one forward pass per point:

- The first layer's pre-activation is affine in (alpha, beta):
  ``X (W + a D + b E)^T + (c + a dc + b ec) = A + a B + b C`` with A, B, C computed once by three
  matmuls; a chunk of grid points then costs one GEMM with inner dimension 3.
- Later layers are batched over grid points in chunks (and over samples in class blocks) sized
  for the CPU cache; chunks are spread over the cores. The inner loop is in
  ``lossviz.surface_kernels``.
- The default path computes the network in float32 and sums the loss over samples in float64
  (within 1e-5 relative of float64); ``dtype=numpy.float64`` is exact (equal to a per-point
  loop to 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .blas import single_threaded_blas

from . import surface_kernels as kernels
from .activations import get_activation
from .checks import finite_real, real_array, short, vector, whole
from .losses import get_loss, hyper_value
from .model import Network

Array = np.ndarray
MAX_GRID_POINTS = 1_000_000  # 1000 x 1000; the app draws at most 201 x 201
CACHE_BYTES = 2048 * 1024  # per-chunk buffer budget (tuned: larger chunks amortize per-call costs)
BLOCK_SAMPLES = 512  # samples evaluated together (a block is one class's samples, or part)
# OpenBLAS (x86-64, AVX-512) multiplies matrices with M N K <= 1e6 by a kernel without packing,
# ~20% faster for a layer's (fan_out, fan_in + 1) @ (fan_in + 1, samples): blocks stay under it.
SMALL_GEMM = 1_000_000
WORKERS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class _Problem:
    """Validated inputs shared by the fast path and the naive reference."""

    net: Network
    params: Array
    d1: Array
    d2: Array
    alphas: Array
    betas: Array
    X: Array
    y: Array
    task: str
    loss: str
    hyper: float  # the loss's hyper-parameter (``lossviz.losses.hyper_value``)


def _prepare(params, d1, d2, alphas, betas, X, y, layer_sizes, activation, loss, huber_delta,
             label_smoothing=0.0,
             names: tuple[str, ...] = ("params", "d1", "d2", "alphas", "betas")) -> _Problem:
    """Validate everything once; ``names`` are the caller's names for the first five arguments."""
    net = Network(layer_sizes, activation)
    task = "regression" if net.layer_sizes[-1] == 1 else "classification"
    if task not in get_loss(loss).tasks:
        raise ValueError(f"loss {loss!r} is not defined for regression: layer_sizes {net.layer_sizes} "
                         f"end in one output; use mse or huber, or one output per class")
    why = f" to match layer_sizes {net.layer_sizes}"
    vecs = [vector(v, name, net.n_params, why) for v, name in zip((params, d1, d2), names)]
    alphas, betas = (_axis(v, name) for v, name in zip((alphas, betas), names[3:]))
    if alphas.size * betas.size > MAX_GRID_POINTS:
        raise ValueError(f"the grid of {names[3]} x {names[4]} has {alphas.size} x {betas.size} "
                         f"points; at most {MAX_GRID_POINTS} are allowed")
    X = real_array(X, "X")
    if X.ndim != 2 or X.shape[1] != net.layer_sizes[0] or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N, {net.layer_sizes[0]}) with N >= 1{why}, "
                         f"got shape {X.shape}")
    y = _targets(y, X.shape[0], task, net.layer_sizes[-1])
    hyper = hyper_value(get_loss(loss), huber_delta, label_smoothing)
    return _Problem(net, *vecs, alphas, betas, X, y, task, loss, hyper)


def _axis(v: object, name: str) -> Array:
    """Grid coordinates as a non-empty finite 1-D array (a single number is one coordinate)."""
    a = np.atleast_1d(real_array(v, name))
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {a.shape}")
    return a


def _targets(y: object, n: int, task: str, k: int) -> Array:
    """``y`` (n,): int64 labels in 0..k-1 (classification) or finite floats (regression)."""
    y = real_array(y, "y")
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one value per row of X, got shape {y.shape}")
    if task == "regression":
        return y
    if not (np.all(y == np.round(y)) and y.min() >= 0 and y.max() < k):
        raise ValueError(f"y must hold class labels: whole numbers in 0..{k - 1} "
                         f"(layer_sizes end in {k} outputs)")
    return y.astype(np.int64)


def _dtype(dtype: object) -> np.dtype:
    """The hidden-layer dtype: float32 (None, the fast path) or float64 (exact)."""
    try:
        dt = np.dtype(np.float32 if dtype is None else dtype)
        ok = dt in (np.dtype(np.float32), np.dtype(np.float64))
    except (TypeError, ValueError, KeyError):
        ok = False
    if not ok:
        raise ValueError(f"dtype must be None, numpy.float32 or numpy.float64, got {short(dtype)}")
    return dt


GRID_RANGE = (3, 201)


def validate_grid(n: object) -> int:
    """Check a grid resolution (points per axis): a whole number in 3..201."""
    lo, hi = GRID_RANGE
    g = whole(n)
    if g is None or not lo <= g <= hi:
        raise ValueError(f"grid size must be a whole number between {lo} and {hi}, got {short(n)}")
    return g


def validate_span(r: object) -> float:
    """Check a plot range (half-width of the plane, in direction units): a number in (0, 100]."""
    f = finite_real(r)
    if f is None or not 0 < f <= 100:
        raise ValueError(f"range must be a number greater than 0 and at most 100, got {short(r)}")
    return f


def grid_axis(n: int, span: float) -> Array:
    """Coordinates (n,) from -span to span, after validating both."""
    return np.linspace(-validate_span(span), validate_span(span), validate_grid(n))


def surface(params: Array, d1: Array, d2: Array, alphas: Sequence[float], betas: Sequence[float],
            X: Array, y: Array, *, layer_sizes: Sequence[int], activation: str, loss: str,
            huber_delta: float = 1.0, label_smoothing: float = 0.0, dtype=None) -> Array:
    """Data loss over a plane: ``out[i, j] = L(params + alphas[i] d1 + betas[j] d2)``.

    Parameters
    ----------
    params, d1, d2 : (n_params,) flat vectors (layout: see ``lossviz.model``)
    alphas, betas : (Ga,), (Gb,) coordinates along d1 and d2
    X : (N, d) inputs; y : (N,) class indices (classification) or values (regression)
    layer_sizes : input width, hidden widths..., output width (K logits, or 1 for regression)
    activation, loss : registry names; huber_delta : Huber's delta; label_smoothing :
    cross-entropy's eps
    dtype : None for the fast float32 path, numpy.float64 for the exact path

    Returns
    -------
    (Ga, Gb) float64 array of data losses (no L1/L2 penalty).
    """
    prob = _prepare(params, d1, d2, alphas, betas, X, y, layer_sizes, activation, loss, huber_delta,
                    label_smoothing)
    return _evaluate(prob, _dtype(dtype), with_metric=False)[0]


def surface_with_metric(params: Array, d1: Array, d2: Array, alphas, betas, X: Array, y: Array, *,
                        layer_sizes: Sequence[int], activation: str, loss: str,
                        huber_delta: float = 1.0, label_smoothing: float = 0.0,
                        dtype=None) -> tuple[Array, Array]:
    """Like :func:`surface`, also returning accuracy (classification) or R^2 per grid point."""
    prob = _prepare(params, d1, d2, alphas, betas, X, y, layer_sizes, activation, loss, huber_delta,
                    label_smoothing)
    return _evaluate(prob, _dtype(dtype), with_metric=True)


def _evaluate(p: _Problem, dt: np.dtype, with_metric: bool) -> tuple[Array, Array | None]:
    ga, gb = p.alphas.size, p.betas.size
    coef = np.stack([np.ones(ga * gb), np.repeat(p.alphas, gb), np.tile(p.betas, ga)], axis=1)
    coef = coef.astype(dt)
    plan = _plan(p, dt)
    chunk = max(1, CACHE_BYTES // plan.point_bytes())
    loss_out = np.empty(ga * gb)
    metric_out = np.empty(ga * gb) if with_metric else None
    starts = iter(range(0, ga * gb, chunk))
    lock = threading.Lock()

    def run() -> None:
        workspace: dict = {}  # one per thread: buffers reused across chunks, no page faults
        while True:
            with lock:  # chunks handed out one at a time: a core slowed by other work takes fewer
                start = next(starts, None)
            if start is None:
                return
            sl = slice(start, start + chunk)
            loss, metric = kernels.chunk_sums(plan, coef[sl], workspace, with_metric)
            loss_out[sl] = loss
            if with_metric:
                metric_out[sl] = metric

    workers = max(1, min(WORKERS, -(-ga * gb // chunk)))
    # Small BLAS calls run fastest single-threaded (OpenBLAS' thread hand-off costs more than
    # the work); the chunks themselves are spread over the cores instead (NumPy frees the GIL).
    with single_threaded_blas():
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                for f in [pool.submit(run) for _ in range(workers)]:
                    f.result()
        else:
            run()
    n = p.X.shape[0]
    loss_out /= n
    if with_metric:
        metric_out = _metric(metric_out, p)
    shape = (ga, gb)
    return loss_out.reshape(shape), (metric_out.reshape(shape) if with_metric else None)


def _metric(sums: Array, p: _Problem) -> Array:
    """Accuracy from correct counts, or R^2 from residual sums (as ``metrics.r_squared``)."""
    if p.task == "classification":
        return sums / p.X.shape[0]
    ss_tot = float(((p.y - p.y.mean()) ** 2).sum()) or 1.0
    return 1.0 - sums / ss_tot


def _drops_logit0(p: _Problem) -> bool:
    """Whether the output keeps K - 1 logits minus logit 0 (logit 0 being 0).

    Exact only when adding one constant to all K logits leaves the loss unchanged (every
    softmax-based loss; the loss declares it); any other classification loss gets all K logits.
    """
    return p.task == "classification" and get_loss(p.loss).shift_invariant


def _stack_planes(p: _Problem, dt) -> list[Array]:
    """Per layer, a (3, ...) stack of (value, d1 part, d2 part): a grid point's layer is
    ``coef @ stack`` with ``coef = (1, alpha, beta)``. Activations are feature-major
    (units, N), so elementwise work runs along long rows of samples.

    - Layer 1: pre-activations A, B, C, (3, width, N) (the whole output with no hidden layer).
    - Hidden layers after it: weights (3, fan_out * (fan_in + 1)), the bias as the last column.
    - Output layer: (3 * K', fan_in + 1), the bias as the last column.

    For classification with a shift-invariant loss the output keeps K' = K - 1 logits minus
    logit 0: softmax, and so such a loss and the accuracy, only see differences of logits.
    Otherwise K' = K (see ``_drops_logit0``).
    """
    layers = list(zip(p.net.unflatten(p.params), p.net.unflatten(p.d1), p.net.unflatten(p.d2)))
    first = np.stack([W @ p.X.T + b[:, None] for W, b in layers[0]])
    if len(layers) == 1:
        return [first.astype(dt)]
    planes = [first.astype(dt)]
    for layer in layers[1:-1]:
        planes.append(np.stack([np.column_stack([W, b]).ravel() for W, b in layer]).astype(dt))
    out = [np.column_stack([W, b]) for W, b in layers[-1]]
    if _drops_logit0(p):
        out = [o[1:] - o[0] for o in out]
    planes.append(np.concatenate(out).astype(dt))
    return planes


def _plan(p: _Problem, dt: np.dtype) -> kernels.Plan:
    """Planes cut into class blocks (see ``lossviz.surface_kernels``)."""
    drop0 = _drops_logit0(p)
    n, d = p.X.shape
    widths = tuple(p.net.layer_sizes[1:-1])
    if widths:
        planes = _stack_planes(p, dt)
        first, hidden, out = planes[0], tuple(planes[1:-1]), planes[-1]
        out = out.reshape(3, -1, out.shape[1])
    else:  # no hidden layer: the output layer acts on the inputs (and a row of ones)
        layer = list(zip(p.net.unflatten(p.params), p.net.unflatten(p.d1), p.net.unflatten(p.d2)))[0]
        out = np.stack([np.column_stack([W, b]) for W, b in layer])
        if drop0:
            out = out[:, 1:] - out[:, :1]
        inputs = np.vstack([p.X.T, np.ones(n)]).astype(dt)
        hidden = ()
    biggest = max([w.shape[1] for w in hidden] + [1])  # fan_out * (fan_in + 1)
    block_samples = max(1, min(BLOCK_SAMPLES, SMALL_GEMM // biggest))
    blocks = []
    for cls, idx in kernels.blocks_by_class(p.y, p.task, block_samples):
        o = kernels.relative_rows(out, cls, drop0) if drop0 else out
        f = np.ascontiguousarray(first[:, :, idx]) if widths else np.ascontiguousarray(inputs[:, idx])
        blocks.append(kernels.Block(f, o.astype(dt), cls if drop0 else None, p.y[idx]))
    lossfn = get_loss(p.loss)
    fast = kernels.FAST_SUMS.get(p.loss) if drop0 and not p.hyper else None  # fast: eps = 0 only
    reduce = fast or kernels.registry_sums(lossfn, p.task, p.net.layer_sizes[-1], p.hyper)
    act = get_activation(p.net.activation).inplace
    return kernels.Plan(tuple(blocks), hidden, widths, act, reduce, p.task, dt)


def surface_naive(params: Array, d1: Array, d2: Array, alphas, betas, X: Array, y: Array, *,
                  layer_sizes: Sequence[int], activation: str, loss: str,
                  huber_delta: float = 1.0, label_smoothing: float = 0.0) -> Array:
    """Reference: one full float64 forward pass per grid point (as the research tools do it)."""
    p = _prepare(params, d1, d2, alphas, betas, X, y, layer_sizes, activation, loss, huber_delta,
                 label_smoothing)
    lossfn = get_loss(p.loss)
    out = np.empty((p.alphas.size, p.betas.size))
    for i, a in enumerate(p.alphas):
        for j, b in enumerate(p.betas):
            theta = p.params + a * p.d1 + b * p.d2
            out[i, j] = lossfn.value(p.net.forward(theta, p.X), p.y, p.task, p.hyper)
    return out
