"""Training-throughput benchmark: optimizer steps per second of lossviz.Trainer.

Run from the repository root:  python bench/bench_training.py   (or `make bench`)

Network (a) of the issue: 2-16-16-2 tanh, cross-entropy, Adam (lr 0.01) on 1000 moons training
points (load_dataset('moons', n_samples=1250, test_fraction=0.2)). Two settings, timed
interleaved, best of several rounds, with ``Trainer.advance(n)`` only (no evaluation, no
snapshots in the loop -- what the app's training loop pays per step, trajectory recording
included):

- full batch (batch_size=0: one step = forward + backward over all 1000 points): floor 2,000 steps/s
- minibatch 32 (seeded shuffling each epoch, last batch smaller): floor 10,000 steps/s

A benchmark, not a test: a rate below its floor prints FAIL, then a cProfile of that setting
(hot spots by own time), and the exit status stays 0. ``--profile`` prints the profiles always.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from pathlib import Path

import numpy as np

try:
    import lossviz
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import lossviz

from _machine import Settler, busy_note, others_busy, warm_allocator  # noqa: E402 (bench/ on sys.path)

SETTINGS = [
    # name, batch_size, steps per timed call, floor (steps/s)
    ("full batch", 0, 1500, 2_000),
    ("minibatch 32", 32, 6000, 10_000),
]
ROUNDS = 5
SETTLER = Settler(budget_s=20)  # before each timed call: a short pause, and a quiet CPU if one comes
WARMUP_STEPS = 200


def make_trainer(batch_size: int) -> lossviz.Trainer:
    cfg = lossviz.RunConfig(dataset="moons", n_samples=1250, test_fraction=0.2, seed=0,
                            hidden=(16, 16), activation="tanh", loss="cross_entropy",
                            optimizer="adam", lr=0.01, batch_size=batch_size,
                            epochs=100_000)  # enough steps that no timed call hits the end
    trainer = lossviz.Trainer(cfg)
    trainer.advance(WARMUP_STEPS)
    return trainer


def time_advance(trainer: lossviz.Trainer, steps: int) -> float:
    gc.collect()
    SETTLER.settle()
    t0 = time.perf_counter()
    taken = trainer.advance(steps)
    elapsed = time.perf_counter() - t0
    if taken != steps:
        raise RuntimeError(f"advance({steps}) took {taken} steps: status {trainer.status!r} "
                           f"{trainer.message}")
    return taken / elapsed


def profile(trainer: lossviz.Trainer, steps: int, top: int = 14) -> str:
    prof = cProfile.Profile()
    prof.runcall(trainer.advance, steps)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return "\n".join("    " + ln.rstrip() for ln in lines[start:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds (best of)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of every setting")
    opts = ap.parse_args(argv)

    warm_allocator()  # as in bench_surface.py: the state of any process that held a big array
    print(f"lossviz training benchmark: numpy {np.__version__}, {os.cpu_count()} CPUs, busy "
          f"with other work {busy_note(others_busy())}; (a) 2-16-16-2 tanh, cross-entropy, "
          f"Adam lr 0.01, 1000 moons points; Trainer.advance(n), no evaluation; interleaved, "
          f"best of {opts.rounds}", flush=True)
    trainers = {name: make_trainer(bs) for name, bs, _, _ in SETTINGS}
    rates: dict[str, list[float]] = {name: [] for name, *_ in SETTINGS}
    for _ in range(opts.rounds):
        for name, _, steps, _ in SETTINGS:
            rates[name].append(time_advance(trainers[name], steps))
    failed = []
    for name, bs, steps, floor in SETTINGS:
        best, median = max(rates[name]), float(np.median(rates[name]))
        ok = best >= floor
        if not ok:
            failed.append(name)
        n = trainers[name].data.X_train.shape[0]
        print(f"(a) {name} (batch {bs or n}): {best:,.0f} steps/s ({1e6 / best:.0f} us/step; "
              f"median {median:,.0f}) | floor {floor:,} {'PASS' if ok else 'FAIL'}", flush=True)
    for name, _, steps, _ in SETTINGS:
        if opts.profile or name in failed:
            print(f"  cProfile of {name}, advance({steps}) (own time first; cProfile adds "
                  f"overhead per call):\n{profile(trainers[name], steps)}")
    print(f"{SETTLER.summary()} (other work makes rates lower, never higher)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
