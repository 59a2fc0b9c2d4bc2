"""Curvature of the data loss: exact Hessian-vector products, extreme eigenvalues, the trace.

Everything is for the DATA loss (the mean the loss registry defines, no L1/L2 term) of the
network ``lossviz.model`` describes, in float64, as a function of the flat parameter vector.

- :func:`hvp` -- H v exactly, by forward-over-backward differentiation of the hand-written
  backward pass (Pearlmutter's R-operator): one extra forward pass carries the directional
  derivatives R{z}, R{a} of every layer along v, and one extra backward pass carries R{delta},
  using each activation's second derivative and the loss's output-Hessian-vector product from
  the registries. About the cost of two gradients; no finite differences, no P x P matrix.
- :func:`hessian_eigs` -- the k largest or smallest eigenvalues (algebraically) and their unit
  eigenvectors, by Lanczos on ``hvp`` with full reorthogonalization and locking.
- :func:`hessian_trace` -- Hutchinson's estimate E[z^T H z] with Rademacher probes z.

The forward pass at (params, X, y) is computed once per call and shared by every product.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .checks import integer, number, short, vector
from .landscape import _targets
from .losses import Loss, get_loss, hyper_value
from .model import Network
from .objective import _inputs

Array = np.ndarray
WHICH = ("largest", "smallest")
EIGS_TOL = 1e-10  # Ritz residual, relative to the largest |Ritz value|: eigenvalues to ~1e-10 |H|
MAX_KRYLOV = 300  # Lanczos vectors kept per run before an explicit restart
KRYLOV_BYTES = 2**27  # ... and at most this much memory for them (big networks: fewer vectors)
MAX_RESTARTS = 50
MAX_PROBES = 100_000
BLOCK_FLOATS = 2**22  # a block of products holds (m, N, width) arrays: at most ~32 MiB each


class _Curvature:
    """The network, loss and data at one point, with the forward and backward passes kept.

    ``matmat(V)`` (m, P) -> (m, P) gives the rows H v for each row v of V.
    """

    def __init__(self, net: Network, lossfn: Loss, params: Array, X: Array, y: Array,
                 task: str, delta: float) -> None:
        self.net, self.task, self.delta, self.y = net, task, delta, y
        self.out_hvp = lossfn.out_hvp
        self.layers = net.unflatten(params)
        # contiguous W^T: NumPy's matmul with a transposed view is ~1.7x slower here
        self.wt = [np.ascontiguousarray(W.T) for W, _ in self.layers]
        act = net._act
        self.acts, self.d1, self.d2 = [X], [], []
        for (_, b), wt in zip(self.layers[:-1], self.wt):
            z = self.acts[-1] @ wt
            z += b
            a = act.value(z)
            self.acts.append(a)
            self.d1.append(act.derivative(z, a))
            self.d2.append(act.second_derivative(z, a))
        self.out = self.acts[-1] @ self.wt[-1] + self.layers[-1][1]
        # deltas[i] = dL/d(output of layer i) (N, fan_out), i >= 1 (layer 0's is never needed);
        # curv[i] = dL/da_i * sigma''(z_i), the term the R-pass adds for a curved activation
        self.deltas = [lossfn.grad(self.out, y, task, delta)]
        self.curv = []
        for i in range(len(self.layers) - 1, 0, -1):
            back = self.deltas[0] @ self.layers[i][0]
            self.curv.insert(0, back * self.d2[i - 1])
            self.deltas.insert(0, back * self.d1[i - 1] if i > 1 else None)
        self.finite = bool(np.isfinite(self.out).all() and np.isfinite(self.deltas[-1]).all())

    @property
    def n_params(self) -> int:
        return self.net.n_params

    def matmat(self, V: Array) -> Array:
        """H v for each row v of V (m, P), in blocks that keep the temporaries small."""
        width = max(self.net.layer_sizes) * self.acts[0].shape[0]
        step = max(1, BLOCK_FLOATS // width)
        if V.shape[0] <= step:
            return self._block(V)
        return np.concatenate([self._block(V[i:i + step]) for i in range(0, V.shape[0], step)])

    def _block(self, V: Array) -> Array:
        """R-operator: forward R{z}, R{a} along each row of V (m, P), then backward R{delta}."""
        dirs, last = self.net.unflatten(V), len(self.layers) - 1
        r_act, r_pre = [None], []
        for i, (dW, db) in enumerate(dirs):
            rz = self.acts[i] @ np.ascontiguousarray(np.swapaxes(dW, -1, -2))
            rz += db[:, None, :]
            if r_act[i] is not None:
                rz += r_act[i] @ self.wt[i]
            if i < last:
                r_pre.append(rz)
                r_act.append(self.d1[i] * rz)
        r_delta = self.out_hvp(self.out, self.y, self.task, self.delta, rz)
        H, ones = np.empty_like(V), np.ones(self.out.shape[0])
        for i in range(last, -1, -1):
            L, (W, _), dW = self.net.layers[i], self.layers[i], dirs[i][0]
            hw = np.swapaxes(r_delta, -1, -2) @ self.acts[i]
            if i:
                hw += self.deltas[i].T @ r_act[i]
            H[:, L.w_start:L.b_start] = hw.reshape(V.shape[0], -1)
            H[:, L.b_start:L.end] = ones @ r_delta  # the sum over samples; BLAS is faster
            if i:
                back = r_delta @ W
                back += self.deltas[i] @ dW
                back *= self.d1[i - 1]
                r_pre[i - 1] *= self.curv[i - 1]  # r_pre[i - 1] is not read again
                back += r_pre[i - 1]
                r_delta = back
        return H


def _curvature(params: object, X: object, y: object, layer_sizes: Sequence[int],
               activation: str, loss: str, huber_delta: object,
               label_smoothing: object = 0.0) -> _Curvature:
    """Validate the shared arguments once (as ``lossviz.objective`` does) and run the passes."""
    net = Network(layer_sizes, activation)
    task = "regression" if net.layer_sizes[-1] == 1 else "classification"
    lossfn = get_loss(loss, task)
    if lossfn.out_hvp is None:
        raise ValueError(f"loss {loss!r} has no output Hessian (out_hvp) in the registry")
    params = vector(params, "params", net.n_params, f" to match layer_sizes {net.layer_sizes}")
    X = _inputs(X, net)
    y = _targets(y, X.shape[0], task, net.layer_sizes[-1])
    delta = hyper_value(lossfn, huber_delta, label_smoothing)
    with np.errstate(all="ignore"):
        return _Curvature(net, lossfn, params, X, y, task, delta)


def _finite(op: _Curvature) -> _Curvature:
    if not op.finite:
        raise ValueError("the network overflows at these parameters (its output or gradient is "
                         "not finite): the Hessian is not defined there")
    return op


def hvp(params: Array, v: Array, X: Array, y: Array, *, layer_sizes: Sequence[int],
        activation: str, loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0) -> Array:
    """Exact Hessian-vector product H v of the data loss, by one R-operator pass.

    Parameters
    ----------
    params : (P,) flat parameters (layout: see ``lossviz.model``); v : (P,) the direction
    X : (N, d) inputs, N >= 1; y : (N,) class indices (classification) or values (regression)
    layer_sizes : input width, hidden widths..., output width (K >= 2 logits, or 1: regression)
    activation, loss : registry names; huber_delta : Huber's delta (> 0); label_smoothing :
    cross-entropy's eps in [0, 1)

    Returns
    -------
    (P,) float64: H v, H = d²L/dθ² of the mean data loss at ``params`` (no L1/L2 term).
    Where the network overflows the entries are inf or NaN, never an error (as ``objective``).
    """
    op = _curvature(params, X, y, layer_sizes, activation, loss, huber_delta, label_smoothing)
    v = vector(v, "v", op.n_params, f" (one entry per parameter of layer_sizes {op.net.layer_sizes})")
    with np.errstate(all="ignore"):
        return op.matmat(v[None, :])[0]


def hessian_eigs(params: Array, X: Array, y: Array, *, layer_sizes: Sequence[int],
                 activation: str, loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0,
                 k: int = 1,
                 which: str = "largest", seed: int = 0,
                 tol: float = EIGS_TOL) -> tuple[Array, Array]:
    """The k largest or smallest (algebraically) eigenvalues of the data loss's Hessian.

    Lanczos on :func:`hvp` with full reorthogonalization: a run stops when every wanted Ritz
    pair has a residual ||H x - theta x|| <= tol * max|theta| (an eigenvalue's error is at most
    its residual, so the values are accurate to ~1e-10 of the spectral norm by default), or when
    the Krylov space becomes invariant (then its Ritz values are exact). Converged pairs are
    locked and later runs work in their orthogonal complement, so a repeated eigenvalue is found
    as often as it occurs; a run that reaches MAX_KRYLOV vectors restarts from its best Ritz
    vectors (after MAX_RESTARTS restarts the best estimates are returned).

    Parameters
    ----------
    params, X, y, layer_sizes, activation, loss, huber_delta : as :func:`hvp`
    k : how many eigenvalues, 1..P; which : "largest" or "smallest"
    seed : seeds the random start vectors (same seed, same result)
    tol : the relative residual above (between 1e-14 and 1e-2)

    Returns
    -------
    values : (k,) float64, largest first for "largest", smallest first for "smallest"
    vectors : (P, k) float64, unit-norm eigenvectors as columns (sign: largest entry positive)
    """
    op = _finite(_curvature(params, X, y, layer_sizes, activation, loss, huber_delta,
                            label_smoothing))
    k = integer(k, "k", 1, op.n_params)
    if not isinstance(which, str) or which not in WHICH:
        raise ValueError(f"which must be one of: {', '.join(WHICH)}; got {short(which)}")
    tol = number(tol, "tol", 1e-14, 1e-2)
    rng = np.random.default_rng(integer(seed, "seed", 0, 2**64 - 1))
    sign = 1.0 if which == "largest" else -1.0
    with np.errstate(all="ignore"):
        values, vectors = _top_k(lambda V: sign * op.matmat(V), op.n_params, k, rng, tol)
    big = np.argmax(np.abs(vectors), axis=0)
    vectors *= np.sign(vectors[big, np.arange(k)])
    return sign * values, vectors


def _top_k(matmat: Callable[[Array], Array], n: int, k: int, rng: np.random.Generator,
           tol: float) -> tuple[Array, Array]:
    """Largest k eigenpairs of the symmetric operator: Lanczos runs with locking.

    A run from one start vector sees one copy of each eigenvalue; runs in the complement of the
    pairs found so far continue until k are found and the complement holds nothing larger.
    """
    vals, vecs = np.empty(0), np.empty((n, 0))
    while vecs.shape[1] < n and not (k == 1 and vals.size):  # k = 1: one run sees the top one
        kth = np.sort(vals)[-k] if vals.size >= k else -np.inf
        v, x = _lanczos(matmat, n, max(1, k - vals.size), vecs, rng, tol)
        scale = max(np.abs(np.concatenate([vals, v])).max(), np.finfo(float).tiny)
        if v[0] <= kth + tol * scale:
            break  # the complement holds nothing above the k-th found: done
        vals, vecs = np.concatenate([vals, v]), np.hstack([vecs, x])
    order = np.argsort(vals)[::-1][:k]
    return vals[order], vecs[:, order]


def _lanczos(matmat: Callable[[Array], Array], n: int, want: int, locked: Array,
             rng: np.random.Generator, tol: float) -> tuple[Array, Array]:
    """Largest ``want`` (or fewer, if the Krylov space closes early) Ritz pairs in the
    orthogonal complement of ``locked`` (n, j): values (w,) largest first, vectors (n, w)."""
    m_max = max(1, min(n - locked.shape[1], MAX_KRYLOV, KRYLOV_BYTES // (8 * n)))
    start = rng.standard_normal(n)
    for _ in range(MAX_RESTARTS + 1):
        V, T, done = _krylov(matmat, start, m_max, want, locked, tol)
        done |= V.shape[0] == n - locked.shape[1]  # the whole complement: Ritz values exact
        theta, S = np.linalg.eigh(T)
        top = np.argsort(theta)[::-1][:want]
        x = V.T @ S[:, top]
        if done:
            break
        start = x.sum(axis=1)
    return theta[top], x / np.linalg.norm(x, axis=0)


def _orthogonalize(w: Array, V: Array, locked: Array) -> Array:
    """w minus its components along the rows of V and the columns of ``locked``, twice
    (classical Gram-Schmidt twice is as good as modified, and one matrix product)."""
    for _ in range(2):
        w = w - (V @ w) @ V
        if locked.shape[1]:
            w = w - locked @ (locked.T @ w)
    return w


def _krylov(matmat: Callable[[Array], Array], start: Array, m_max: int, want: int,
            locked: Array, tol: float) -> tuple[Array, Array, bool]:
    """Up to ``m_max`` Lanczos steps from ``start``: basis (m, n), tridiagonal T (m, m), and
    whether the wanted Ritz pairs converged (or the space became invariant)."""
    n = start.shape[0]
    V, alpha, beta = np.empty((m_max, n)), [], []
    w = _orthogonalize(start, V[:0], locked)
    b = np.linalg.norm(w)
    if b == 0:  # the start lies in the locked space: any unit vector orthogonal to it
        w = _orthogonalize(np.random.default_rng(0).standard_normal(n), V[:0], locked)
        b = np.linalg.norm(w)
    bound = 0.0  # a running bound on |T| (Gershgorin): the scale of a breakdown
    for j in range(m_max):
        V[j] = w / b
        w = matmat(V[j][None, :])[0]
        alpha.append(float(V[j] @ w))
        if not np.isfinite(alpha[-1]):
            raise ValueError("the Hessian-vector product is not finite at these parameters")
        w = _orthogonalize(w, V[:j + 1], locked)
        b = float(np.linalg.norm(w))
        bound = max(bound, abs(alpha[-1]) + b + (beta[-1] if beta else 0.0))
        closed = b <= 1e-13 * bound  # an invariant subspace: its Ritz values are exact
        if closed or j == m_max - 1 or (j + 1 >= want and (j < 40 or j % 5 == 4)):
            T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
            if closed:
                return V[:j + 1], T, True
            if j + 1 >= want:
                theta, S = np.linalg.eigh(T)
                scale = max(np.abs(theta).max(), np.finfo(float).tiny)
                top = np.argsort(theta)[::-1][:want]
                if (b * np.abs(S[-1, top]) <= tol * scale).all():
                    return V[:j + 1], T, True
        beta.append(b)
    return V, T, False


def hessian_trace(params: Array, X: Array, y: Array, *, layer_sizes: Sequence[int],
                  activation: str, loss: str, huber_delta: float = 1.0, label_smoothing: float = 0.0,
                  n_probes: int = 100, seed: int = 0) -> float:
    """Hutchinson's estimate of tr H: the mean of z^T H z over Rademacher probes z (±1 entries).

    Unbiased; its standard error is sqrt(2 (||H||_F² - sum_i H_ii²) / n_probes): only the
    off-diagonal entries of H add noise (a diagonal H is estimated exactly), and the error
    shrinks as 1/sqrt(n_probes). Probes are evaluated in blocks of R-operator passes.

    Parameters
    ----------
    params, X, y, layer_sizes, activation, loss, huber_delta : as :func:`hvp`
    n_probes : number of probes, 1..100000; seed : seeds the probes

    Returns
    -------
    float: the estimate of the trace of the Hessian of the mean data loss.
    """
    op = _finite(_curvature(params, X, y, layer_sizes, activation, loss, huber_delta,
                            label_smoothing))
    n_probes = integer(n_probes, "n_probes", 1, MAX_PROBES)
    rng = np.random.default_rng(integer(seed, "seed", 0, 2**64 - 1))
    total, done = 0.0, 0
    step = max(1, min(n_probes, BLOCK_FLOATS // op.n_params))
    with np.errstate(all="ignore"):
        while done < n_probes:
            m = min(step, n_probes - done)
            Z = rng.choice(np.array([-1.0, 1.0]), size=(m, op.n_params))
            total += float(np.einsum("ij,ij->", Z, op.matmat(Z)))
            done += m
    return total / n_probes
