"""Convexity map benchmark (issue 12's floor): |λmin/λmax| over a 21 x 21 grid for 2-16-16-2 tanh,
cross-entropy, on 1,000 moons points, within 10 s.

Run from the repository root:  python bench/bench_convexity.py [--grid 21] [--rounds 3]

Also prints one point's cost, and λmin/λmax from the map's 30-step Lanczos against the converged
``lossviz.hessian_eigs`` at the centre (a benchmark, not a test: the exit status stays 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import lossviz
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import lossviz

from lossviz.convexity import convexity_map, extreme_eigenvalues  # noqa: E402

FLOOR_S = 10.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=21)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    config = lossviz.RunConfig(dataset="moons", n_samples=1250, test_fraction=0.2, hidden=(16, 16),
                               activation="tanh", loss="cross_entropy", optimizer="adam", lr=0.01, epochs=200)
    tr = lossviz.Trainer(config)
    tr.advance(200)
    X, y = tr.data.X_train, tr.data.y_train
    kw = dict(layer_sizes=tr.net.layer_sizes, activation="tanh", loss="cross_entropy")
    d1, d2 = lossviz.random_directions(tr.params, tr.net, 0)
    ax = np.linspace(-1, 1, args.grid)
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        m = convexity_map(tr.params, d1, d2, ax, ax, X, y, **kw)
        times.append(time.perf_counter() - start)
    best = min(times)
    lo, hi = extreme_eigenvalues(tr.params, X, y, **kw)
    top = lossviz.hessian_eigs(tr.params, X, y, which="largest", **kw)[0][0]
    bottom = lossviz.hessian_eigs(tr.params, X, y, which="smallest", **kw)[0][0]
    print(f"convexity map {args.grid}x{args.grid}, 2-16-16-2 tanh, N={X.shape[0]}, P={tr.net.n_params}: "
          f"best {best:.2f} s of {args.rounds} (median {np.median(times):.2f} s), "
          f"{1000 * best / args.grid ** 2:.1f} ms per point | floor {FLOOR_S:.0f} s "
          f"{'PASS' if best <= FLOOR_S else 'FAIL'} ({FLOOR_S / best:.1f}x under)")
    print(f"  at the centre: 30-step Lanczos λmin {lo:.6g}, λmax {hi:.6g}; converged λmin {bottom:.6g}, "
          f"λmax {top:.6g} (rel. diff {abs(lo - bottom) / abs(top):.1e}, {abs(hi - top) / abs(top):.1e} of λmax)")
    print(f"  ratio |λmin/λmax| over the map: median {np.nanmedian(m['ratio']):.3g}, max {np.nanmax(m['ratio']):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
