"""Hessian benchmark: λmax by Lanczos, and lossviz.hvp vs PyTorch's double backward.

Run from the repository root:  python bench/bench_hessian.py   (~10 s on a quiet 2-core machine)

Network (a) of the issue: 2-16-16-2 tanh, cross-entropy, on 1000 moons training points
(load_dataset('moons', n_samples=1250, test_fraction=0.2)), at weights trained 200 steps with
Adam (lr 0.01). Side by side in one run, interleaved, best of several rounds:

- ``λmax``: one ``lossviz.hessian_eigs(..., k=1, which="largest")`` call (validation, forward
  pass and Lanczos included): floor 0.3 s;
- ``hvp``: one ``lossviz.hvp`` call (validation and forward pass included), against one
  ``torch.autograd.functional.hvp(f, params, v)`` call in float64 on the same network, data and
  vector, timed in a separate process (bench/_torch_peer.py hvp) with 1 thread and with torch's
  default thread count; the ratio uses the faster torch time: floor 3x.

Correctness checks (exit status 1 if one fails): λmax within 1e-8 relative of the largest
``numpy.linalg.eigvalsh`` eigenvalue of the dense Hessian (built column by column from hvp), and
torch's H v within 1e-9 relative of lossviz's. A timing below its floor prints FAIL, and the exit
status stays 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

try:
    import lossviz
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import lossviz

import lossviz.hessian  # noqa: E402
from _common import Peer, case_config, save_case, timed, verdict  # noqa: E402 (bench/ on sys.path)
from _machine import Settler, busy_note, others_busy, warm_allocator  # noqa: E402

PEER = Path(__file__).resolve().parent / "_torch_peer.py"
ROUNDS = 5
REPS = 200  # hvp calls per timed call (one call is well under a millisecond)
EIGS_FLOOR_S = 0.3
RATIO_FLOOR = 3.0
SETTLER = Settler(budget_s=30)  # before each timed call: a pause, and a quiet CPU if one comes


def setup():
    trainer = lossviz.Trainer(case_config(epochs=200))
    trainer.advance(200)
    kw = dict(layer_sizes=trainer.net.layer_sizes, activation="tanh", loss="cross_entropy")
    v = np.random.default_rng(1).standard_normal(trainer.net.n_params)
    return trainer.params.copy(), trainer.data.X_train, trainer.data.y_train, v, kw


def count_products(params, X, y, kw) -> int:
    """How many H v products one λmax call makes (an untimed call with a counting wrapper)."""
    cls, count = lossviz.hessian._Curvature, [0]
    original = cls.matmat

    def counting(self, V):
        count[0] += V.shape[0]
        return original(self, V)

    cls.matmat = counting
    try:
        lossviz.hessian_eigs(params, X, y, **kw)
    finally:
        cls.matmat = original
    return count[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds (best of)")
    ap.add_argument("--torch-python", default=sys.executable,
                    help="Python with torch for the torch column (default: this one)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch column")
    opts = ap.parse_args(argv)

    warm_allocator()
    params, X, y, v, kw = setup()
    print(f"lossviz Hessian benchmark: numpy {np.__version__}, {os.cpu_count()} CPUs, busy with "
          f"other work {busy_note(others_busy())}; (a) 2-16-16-2 tanh ({params.size} parameters), "
          f"cross-entropy, {X.shape[0]} moons points, weights after 200 Adam steps; interleaved, "
          f"best of {opts.rounds}", flush=True)
    ok = True
    dense = np.array([lossviz.hvp(params, e, X, y, **kw) for e in np.eye(params.size)])
    ref = np.linalg.eigvalsh((dense + dense.T) / 2)[-1]
    lam = lossviz.hessian_eigs(params, X, y, **kw)[0][0]
    eig_err = abs(lam - ref) / abs(ref)
    ok &= eig_err <= 1e-8
    ours_hv = lossviz.hvp(params, v, X, y, **kw)

    with tempfile.TemporaryDirectory() as tmp:
        peer = None
        if not opts.no_torch:
            npz = Path(tmp) / "hessian_case.npz"
            save_case(npz, params, kw["layer_sizes"], "tanh", X, y, v=v)
            peer = Peer([opts.torch_python, str(PEER), "hvp", str(npz)], "the torch process")
            if peer.error:
                print(f"  torch: skipped ({peer.error}); install with: pip install -e '.[bench]'")
                peer = None
        times: dict[str, list[float]] = {"eigs": [], "ours": [], "torch1": [], "torchN": []}
        for _ in range(opts.rounds):
            times["eigs"].append(timed(lambda: lossviz.hessian_eigs(params, X, y, **kw), SETTLER)[0])
            times["ours"].append(timed(lambda: lossviz.hvp(params, v, X, y, **kw), SETTLER, REPS)[0])
            if peer is not None:
                SETTLER.settle()
                times["torch1"].append(float(peer.ask(f"run {REPS} 1")["seconds"]))
                SETTLER.settle()
                times["torchN"].append(float(peer.ask(f"run {REPS} 0")["seconds"]))
        info = peer.info if peer is not None else {}
        if peer is not None:
            peer.close()

    best = {k: min(t) for k, t in times.items() if t}
    print(f"(a) λmax (hessian_eigs k=1, Lanczos, {count_products(params, X, y, kw)} products): "
          f"{1e3 * best['eigs']:.1f} ms (λmax {lam:.6g}) | floor {1e3 * EIGS_FLOOR_S:.0f} ms "
          f"{verdict(best['eigs'] <= EIGS_FLOOR_S)}")
    if "torch1" in best:
        torch_best = min(best["torch1"], best["torchN"])
        ratio = torch_best / best["ours"]
        hv_err = np.abs(np.array(info["hv"]) - ours_hv).max() / np.abs(ours_hv).max()
        ok &= hv_err <= 1e-9
        print(f"(a) hvp: lossviz {1e3 * best['ours']:.3f} ms | torch.autograd.functional.hvp "
              f"float64 {1e3 * best['torch1']:.3f} ms (1 thread), {1e3 * best['torchN']:.3f} ms "
              f"({info['threads']} threads) | torch/lossviz {ratio:.2f}x (floor {RATIO_FLOOR:g}x) "
              f"{verdict(ratio >= RATIO_FLOOR)}")
        print(f"    torch {info['torch']}, in its own process; H v vs lossviz: max relative "
              f"difference {hv_err:.1e} {verdict(hv_err <= 1e-9)}")
    else:
        print(f"(a) hvp: lossviz {1e3 * best['ours']:.3f} ms | torch skipped")
    print(f"    λmax vs eigvalsh of the dense Hessian: relative difference {eig_err:.1e} "
          f"{verdict(eig_err <= 1e-8)}")
    print(f"{SETTLER.summary()} (other work makes times higher, never lower)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
