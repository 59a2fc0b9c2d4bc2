"""Small helpers shared by the bench scripts: how busy the machine is, a warmed allocator, and
the machine's own floor for a loss surface."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np


def _cpu_times() -> tuple[int, int] | None:
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields), idle


def others_busy(seconds: float = 0.5) -> float | None:
    """Fraction of all CPUs busy over ``seconds`` while this process sleeps (Linux; else None)."""
    a = _cpu_times()
    time.sleep(seconds)
    b = _cpu_times()
    if a is None or b is None or b[0] == a[0]:
        return None
    return 1.0 - (b[1] - a[1]) / (b[0] - a[0])


def busy_note(frac: float | None) -> str:
    return "n/a" if frac is None else f"{100 * frac:.0f}%"


def warm_allocator() -> None:
    """Free one large block, as any process that has held a big array has done.

    glibc's malloc serves blocks above its mmap threshold (128 KiB at start) with mmap and gives
    them back on free, so every fresh 1 MiB temporary costs ~256 page faults -- until the first
    free of a larger mmapped block raises the threshold (up to 32 MiB). A naive loop that
    allocates (N, width) temporaries per grid point runs up to ~5x slower before that happens,
    so whether it happened must not be left to chance: it is made to happen here, which favours
    the naive loop (the conservative side for the naive/fast floors).
    """
    block = np.empty(30 * 2**20 // 8)  # 30 MiB, below glibc's 32 MiB DEFAULT_MMAP_THRESHOLD_MAX
    del block


class Settler:
    """Pause before each timed call until the other CPUs' load drops, within a time budget.

    Before every timed call ``settle()`` samples /proc/stat for ``sample`` seconds (this process
    sleeping, so what it sees is other work); while more than ``threshold`` of the CPUs are busy
    it samples again, until the budget for the whole script is spent. Timings taken while the
    machine was busy anyway are counted, and ``summary()`` says so.
    """

    def __init__(self, threshold: float = 0.10, budget_s: float = 60.0, sample: float = 0.1):
        self.threshold, self.budget_s, self.sample = threshold, budget_s, sample
        self.waited = 0.0
        self.calls = 0
        self.busy_calls = 0

    def settle(self) -> None:
        self.calls += 1
        busy = others_busy(self.sample)
        while busy is not None and busy > self.threshold and self.waited < self.budget_s:
            t0 = time.perf_counter()
            busy = others_busy(0.25)
            self.waited += time.perf_counter() - t0
        if busy is not None and busy > self.threshold:
            self.busy_calls += 1

    def summary(self) -> str:
        s = f"waited {self.waited:.0f} s for a quiet machine"
        if self.busy_calls:
            s += (f"; {self.busy_calls} of {self.calls} timed calls started with other work "
                  f"above {100 * self.threshold:.0f}% of the CPUs: those times may be too high")
        return s


# --- the machine's own throughput: the floors the surface benchmark measures against ---------

TANH_PER_UNIT = {"tanh": 1, "relu": 0}  # transcendental calls per hidden unit and sample


def _concurrent_best(work, threads: int, repeats: int) -> float:
    """Best wall time of ``work(i)`` run at once in ``threads`` threads (i = thread index)."""
    from concurrent.futures import ThreadPoolExecutor

    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            t0 = time.perf_counter()
            list(pool.map(work, range(threads)))
            best = min(best, time.perf_counter() - t0)
    return best


def ufunc_rate(ufunc, size: int, threads: int, reps: int = 200, repeats: int = 9) -> float:
    """Elements per second of ``ufunc(x, out=x)`` on float32 arrays of ``size`` elements (each
    thread its own array, so it stays in that core's cache), all ``threads`` at once."""
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-3, 3, size).astype(np.float32) for _ in range(threads)]
    outs = [np.empty_like(a) for a in arrays]

    def work(i: int) -> None:
        for _ in range(reps):
            ufunc(arrays[i], out=outs[i])

    return threads * reps * size / _concurrent_best(work, threads, repeats)


def gemm_flops(m: int, k: int, n: int, threads: int, batch: int = 8, reps: int = 10,
               repeats: int = 9) -> float:
    """FLOP/s of float32 ``(m, k) @ (k, n)`` products, ``batch`` per np.matmul call, each
    thread with its own operands and one BLAS thread (as the fast path runs them), at once."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    ops = [(rng.standard_normal((batch, m, k), dtype=np.float32),
            rng.standard_normal((batch, k, n), dtype=np.float32),
            np.empty((batch, m, n), dtype=np.float32)) for _ in range(threads)]

    def work(i: int) -> None:
        a, b, c = ops[i]
        for _ in range(reps):
            np.matmul(a, b, out=c)

    with threadpool_limits(1, user_api="blas"):
        seconds = _concurrent_best(work, threads, repeats)
    return threads * reps * batch * 2.0 * m * k * n / seconds


@dataclass
class Floor:
    """The machine's floor for one case: both lower bounds, in seconds, and what they rest on."""

    transcendental: float
    gemm: float
    notes: tuple[str, str]

    @property
    def seconds(self) -> float:
        return max(self.transcendental, self.gemm)

    def best(self, other: "Floor") -> "Floor":
        """Each bound from the measurement that found the machine faster (less disturbed)."""
        t = min((self, other), key=lambda f: f.transcendental)
        g = min((self, other), key=lambda f: f.gemm)
        return Floor(t.transcendental, g.gemm, (t.notes[0], g.notes[1]))

    @property
    def binds(self) -> str:
        return "tanh/exp" if self.transcendental >= self.gemm else "GEMM"


def machine_floor(layer_sizes, n: int, activation: str, points: int, settle) -> Floor:
    """Measure this machine's tanh/exp and GEMM rates (all CPUs at once) for a surface of
    ``points`` grid points of the network ``layer_sizes`` on ``n`` samples (cross-entropy);
    ``settle()`` runs before each measurement (``Settler.settle``: a quiet machine)."""
    threads = os.cpu_count() or 1
    hidden, k = layer_sizes[1:-1], layer_sizes[-1]
    width = max(hidden)
    settle()
    tanh_rate = ufunc_rate(np.tanh, width * n, threads)
    settle()
    exp_rate = ufunc_rate(np.exp, width * n, threads)
    n_tanh = points * n * sum(hidden) * TANH_PER_UNIT[activation]
    n_exp = points * n * k  # cross-entropy: K - 1 exp and one log1p per sample
    t_trans = n_tanh / tanh_rate + n_exp / exp_rate
    flops = points * n * sum(2 * a * b for a, b in zip(layer_sizes[1:-1], layer_sizes[2:]))
    shape = max(zip(layer_sizes[1:-1], layer_sizes[2:]), key=lambda ab: ab[0] * ab[1])
    m, kk = shape[1], shape[0]
    # The best of all N samples at once and of OpenBLAS' small-matrix size (M N K <= 1e6, no
    # packing), whichever this machine multiplies faster.
    rates = {}
    for cols in sorted({n, max(1, min(n, 10**6 // (m * kk)))}):
        batch = max(1, (1 << 21) // (4 * (kk + m) * cols))  # operands of ~2 MiB per thread
        settle()
        rates[cols] = gemm_flops(m, kk, cols, threads, batch=batch)
    cols = max(rates, key=rates.get)
    peak = rates[cols]
    trans_note = (f"{n_tanh / 1e6:.1f}M tanh at {tanh_rate / 1e9:.2f} G/s + {n_exp / 1e6:.1f}M "
                  f"exp at {exp_rate / 1e9:.2f} G/s")
    gemm_note = (f"{flops / 1e9:.1f} GFLOP at {peak / 1e9:.0f} GFLOP/s, the best float32 "
                 f"({m}x{kk}) @ ({kk}x{cols}), of " + ", ".join(f"{c} columns {r / 1e9:.0f}"
                                                            for c, r in rates.items()))
    return Floor(t_trans, flops / peak, (trans_note, gemm_note))
