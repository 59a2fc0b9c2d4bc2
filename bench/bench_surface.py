"""Loss-surface benchmark: lossviz.surface vs a naive per-point loop (and loss-landscapes).

Run from the repository root:  python bench/bench_surface.py   (or `make bench`)

For two networks, all measured side by side in one run, interleaved, best of several repeats:

  (a) 2-16-16-2 tanh on 1000 moons points, (b) 2-64-64-64-3 relu on 2000 blobs points;
  a 51 x 51 grid on [-1, 1]^2 around weights trained briefly with Adam, filter-normalized random
  directions (lossviz.random_directions), cross-entropy.

Columns: ``fast`` = lossviz.surface (default float32 path), ``float64`` = the same with
dtype=numpy.float64, ``naive loop`` = one full float64 forward pass per grid point (the faster
of lossviz.surface_naive and an independent loop written below; both are shown in the details),
``loss-landscapes`` = loss_landscapes.random_plane on a torch nn.Sequential with the same
weights, data and grid size, timed in a separate process (bench/_torch_peer.py).
Floors (issue 13, item 2): naive/fast >= 10x and loss-landscapes/fast >= 5x for (a), >= 3x and
>= 1.5x for (b); the fast path at >= 50% of this machine's floor for the case (below); peak extra
memory of one fast call < 256 MiB (tracemalloc, which NumPy reports its buffers to); fast within
1e-5 relative of float64 and float64 within 1e-9 relative of the naive loops (elementwise).

The machine's floor for a case is the larger of two lower bounds, each measured here on all CPUs
at once (one thread per CPU, operands in cache): the transcendental evaluations (tanh per
hidden unit for tanh networks, and the loss's exp/log1p per class and sample) at the measured
float32 np.tanh / np.exp rate, and the FLOPs of the layers after the first (the first is affine
in the plane's coordinates: no per-point product) at the measured float32 GEMM rate of the
case's widest layer shape. The line says which binds and what fraction of it the fast path
reaches (floor time / fast time).

This is a benchmark, not a test: a timing below its floor prints FAIL but the exit status stays
0. The exit status is 1 only when a *correctness* check fails (accuracy, or the torch peer's
weight-layout check).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import lossviz
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import lossviz

from _common import Peer, case_config, save_case, timed, verdict  # noqa: E402 (bench/ on sys.path)
from _machine import Floor, Settler, busy_note, machine_floor, others_busy, warm_allocator  # noqa: E402

HERE = Path(__file__).resolve().parent
PEER = HERE / "_torch_peer.py"
GRID = 51
MEMORY_FLOOR_MIB = 256
FLOOR_FRACTION = 0.5  # the fast path at >= 50% of the machine's floor
FAST_VS_F64 = 1e-5
F64_VS_NAIVE = 1e-9
SETTLER = Settler(budget_s=30)  # before each timed call: a pause, and a quiet CPU if one comes


@dataclass
class Case:
    key: str
    dataset: str
    n_samples: int  # train + test; test_fraction 0.2 leaves 80% for training
    hidden: tuple[int, ...]
    activation: str
    floor: float  # naive / fast
    ll_floor: float  # loss-landscapes / fast
    train_steps: int  # Adam steps before measuring: realistic, non-random weights
    rounds: int  # interleaved rounds; each has every method once (fast: fast_per_round)
    fast_per_round: int
    times: dict[str, list[float]] = field(default_factory=dict)


CASES = [
    Case("a", "moons", 1250, (16, 16), "tanh", 10.0, 5.0, 200, rounds=3, fast_per_round=2),
    Case("b", "blobs", 2500, (64, 64, 64), "relu", 3.0, 1.5, 100, rounds=2, fast_per_round=3),
]


# ------------------------------------------------------------------ an independent naive loop
_ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
}


def naive_loop(params, d1, d2, alphas, betas, X, y, layer_sizes, activation):
    """Cross-entropy at every grid point by one plain float64 forward pass each.

    Written from the documented flat layout (per layer W (fan_out, fan_in) row-major, then b),
    sharing no code with lossviz: the second opinion for both the time and the values.
    """
    act = _ACT[activation]
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    rows = np.arange(X.shape[0])
    out = np.empty((len(alphas), len(betas)))
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            theta = params + a * d1 + b * d2
            h, pos = X, 0
            for k, (fan_in, fan_out) in enumerate(shapes):
                W = theta[pos:pos + fan_in * fan_out].reshape(fan_out, fan_in)
                pos += fan_in * fan_out
                h = h @ W.T + theta[pos:pos + fan_out]
                pos += fan_out
                if k < len(shapes) - 1:
                    h = act(h)
            m = h.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(h - m).sum(axis=1))
            out[i, j] = np.mean(lse - h[rows, y])
    return out


# ------------------------------------------------------------------ measuring
def peak_mib(fn) -> float:
    """Peak bytes allocated (Python + NumPy buffers) during fn(), above what was live before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20


def max_rel(a: np.ndarray, ref: np.ndarray) -> float:
    """max over the grid of |a - ref| / |ref| (elementwise relative difference)."""
    return float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), np.finfo(float).tiny)))


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1e3:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def times_fmt(x: float) -> str:
    return f"{x:.1f}x" if x < 10 else f"{x:.0f}x"


def setup(case: Case):
    trainer = lossviz.Trainer(case_config(case.dataset, case.n_samples, case.hidden, case.activation,
                                          epochs=1000))
    trainer.advance(case.train_steps)
    params = trainer.params.copy()
    d1, d2 = lossviz.random_directions(params, trainer.net, seed=0, normalization="filter")
    grid = np.linspace(-1.0, 1.0, GRID)
    X, y = np.asarray(trainer.data.X_train), np.asarray(trainer.data.y_train)
    return trainer.net.layer_sizes, params, d1, d2, grid, X, y


def floor_line(floor: Floor, fast: float) -> tuple[str, float]:
    frac = floor.seconds / fast
    parts = [f"tanh/exp {ms(floor.transcendental)} ({floor.notes[0]})",
             f"GEMM {ms(floor.gemm)} ({floor.notes[1]})"]
    return (f"    machine floor ({os.cpu_count()} CPUs at once): {' | '.join(parts)}; {floor.binds} "
            f"binds: fast at {100 * frac:.0f}% of the floor (goal >= {100 * FLOOR_FRACTION:.0f}%) "
            f"{verdict(frac >= FLOOR_FRACTION)}"), frac


def bench_case(case: Case, torch_python: str | None, workdir: Path) -> tuple[list[str], bool]:
    layer_sizes, params, d1, d2, grid, X, y = setup(case)
    kw = dict(layer_sizes=layer_sizes, activation=case.activation, loss="cross_entropy")
    args = (params, d1, d2, grid, grid, X, y)
    label = (f"({case.key}) {'-'.join(map(str, layer_sizes))} {case.activation} "
             f"N={X.shape[0]} G={GRID}")

    methods = {
        "fast": lambda: lossviz.surface(*args, **kw),
        "float64": lambda: lossviz.surface(*args, **kw, dtype=np.float64),
        "surface_naive": lambda: lossviz.surface_naive(*args, **kw),
        "own_loop": lambda: naive_loop(*args, layer_sizes, case.activation),
    }
    # Warm-up (first-call costs: imports, page faults), then the memory peak of one fast call.
    results = {"fast": methods["fast"](), "float64": methods["float64"]()}
    peak = peak_mib(methods["fast"])
    floor_args = (layer_sizes, X.shape[0], case.activation, GRID * GRID, SETTLER.settle)
    floor = machine_floor(*floor_args)  # measured again after the timings

    peer, peer_note, peer_info = None, "", {}
    if torch_python is not None:
        npz = workdir / f"case_{case.key}.npz"
        save_case(npz, params, layer_sizes, case.activation, X, y)
        peer = Peer([torch_python, str(PEER), str(npz)], "the torch process")
        if peer.error:
            peer_note, peer = peer.error, None
        else:
            peer_info = peer.info

    times: dict[str, list[float]] = {m: [] for m in [*methods, "loss-landscapes"]}
    torch_ok = True
    for r in range(case.rounds):
        naive_order = ["surface_naive", "own_loop"] if r % 2 == 0 else ["own_loop", "surface_naive"]
        for name in ["fast"] * case.fast_per_round + ["float64", *naive_order]:
            t, results[name] = timed(methods[name], SETTLER)
            times[name].append(t)
        if peer is not None:
            SETTLER.settle()
            reply = peer.ask(f"run {GRID} {r}")
            if "seconds" in reply:
                times["loss-landscapes"].append(reply["seconds"])
                torch_ok &= reply["shape"] == [GRID, GRID] and reply["finite"]
            else:
                peer_note, torch_ok = reply.get("error", "no answer"), False
                peer.close()
                peer = None
    best = {m: (min(v) if v else None) for m, v in times.items()}

    # Correctness (not timing): the exit status depends on these.
    center = lossviz.surface(params, d1, d2, [0.0], [0.0], X, y, **kw, dtype=np.float64)[0, 0]
    e_fast = max_rel(results["fast"], results["float64"])
    e_lib = max_rel(results["float64"], results["surface_naive"])
    e_own = max_rel(results["float64"], results["own_loop"])
    acc_ok = e_fast <= FAST_VS_F64 and max(e_lib, e_own) <= F64_VS_NAIVE

    naive_name = min(("surface_naive", "own_loop"), key=lambda m: best[m])
    naive = best[naive_name]
    ratio = naive / best["fast"]
    ll = best["loss-landscapes"]
    ll_part = (f"loss-landscapes/fast {ll / best['fast']:.2f}x (floor {case.ll_floor:g}x) "
               f"{verdict(ll / best['fast'] >= case.ll_floor)}" if ll else "loss-landscapes/fast n/a")
    floor = floor.best(machine_floor(*floor_args))
    floor_text, frac = floor_line(floor, best["fast"])
    lines = [
        f"{label}: fast {ms(best['fast'])} | float64 {ms(best['float64'])} | naive loop "
        f"{ms(naive)} | loss-landscapes {ms(ll) if ll else 'skipped'} | naive/fast {ratio:.2f}x "
        f"(floor {case.floor:g}x) {verdict(ratio >= case.floor)} | {ll_part} | floor fraction "
        f"{100 * frac:.0f}% {verdict(frac >= FLOOR_FRACTION)} | peak {peak:.0f} MiB "
        f"{verdict(peak < MEMORY_FLOOR_MIB)}",
        floor_text,
    ]
    other = "own_loop" if naive_name == "surface_naive" else "surface_naive"
    pct = 100.0 * (best[other] / naive - 1.0)
    lines.append(
        f"    naive loops: lossviz.surface_naive {ms(best['surface_naive'])}, bench's own loop "
        f"{ms(best['own_loop'])} (the ratio uses the faster, {naive_name}; the other is "
        f"{pct:.0f}% slower); float64/fast {best['float64'] / best['fast']:.1f}x; "
        f"best of {len(times['fast'])} fast, {len(times['own_loop'])} per naive loop")
    lines.append(
        f"    accuracy: fast vs float64 max rel {e_fast:.1e} (<= {FAST_VS_F64:g}) "
        f"{verdict(e_fast <= FAST_VS_F64)} | float64 vs surface_naive {e_lib:.1e}, vs own loop "
        f"{e_own:.1e} (<= {F64_VS_NAIVE:g}) {verdict(max(e_lib, e_own) <= F64_VS_NAIVE)} | "
        f"loss range {results['float64'].min():.3g}..{results['float64'].max():.3g}")
    layout_ok = True
    if ll:
        info = peer_info
        c_err = abs(info.get("center_loss_float64", math.nan) - center) / abs(center)
        layout_ok = c_err <= F64_VS_NAIVE and torch_ok
        lines.append(
            f"    loss-landscapes {info.get('loss_landscapes', '?')} random_plane(steps={GRID}, "
            f"normalization='filter'): {ms(ll)} best of {len(times['loss-landscapes'])} "
            f"(torch {info.get('torch', '?')}, float32, {info.get('threads', '?')} threads, own "
            f"process) = {times_fmt(ll / best['fast'])} the fast path; same weights: torch float64 "
            f"loss at the centre vs lossviz rel {c_err:.1e} {verdict(layout_ok)}")
        if peer_note:
            lines.append(f"    loss-landscapes stopped early: {peer_note}")
    else:
        lines.append(f"    loss-landscapes: skipped ({peer_note or 'disabled'}); "
                     "install with: pip install -e '.[bench]'")
    if peer is not None:
        peer.close()
    return lines, acc_ok and layout_ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--torch-python", default=sys.executable,
                    help="Python with torch + loss-landscapes for the third column "
                         "(default: this one)")
    ap.add_argument("--no-torch", action="store_true", help="skip the loss-landscapes column")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds per case (default: 3 for (a), 2 for (b))")
    ap.add_argument("--case", choices=[c.key for c in CASES], action="append",
                    help="run only this case (repeatable)")
    opts = ap.parse_args(argv)

    import threadpoolctl

    blas = ", ".join(f"{i['internal_api']} {i.get('version') or ''} x{i['num_threads']}".strip()
                     for i in threadpoolctl.threadpool_info())
    warm_allocator()
    busy = others_busy()
    print(f"lossviz surface benchmark: numpy {np.__version__}, {os.cpu_count()} CPUs ({blas}), "
          f"busy with other work {busy_note(busy)}; {GRID}x{GRID} grid on [-1, 1]^2, "
          "filter-normalized random directions, cross-entropy; interleaved, best of N", flush=True)
    t_start = time.perf_counter()
    ok = True
    with tempfile.TemporaryDirectory(prefix="lossviz-bench-") as tmp:
        for case in CASES:
            if opts.case and case.key not in opts.case:
                continue
            if opts.rounds:
                case.rounds = opts.rounds
                case.fast_per_round = max(1, math.ceil(5 / opts.rounds))
            lines, case_ok = bench_case(case, None if opts.no_torch else opts.torch_python,
                                        Path(tmp))
            ok &= case_ok
            print("\n".join(lines), flush=True)
    print(f"total {time.perf_counter() - t_start:.0f} s; {SETTLER.summary()}; correctness "
          f"{'OK' if ok else 'FAILED'} (timing floors never change the exit status)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
