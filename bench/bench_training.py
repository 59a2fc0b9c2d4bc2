"""Training-throughput benchmark: optimizer steps per second of lossviz.Trainer beside PyTorch.

Run from the repository root:  python bench/bench_training.py   (or `make bench`)

Network (a) of the issue: 2-16-16-2 tanh, cross-entropy, Adam (lr 0.01) on 1000 moons training
points (load_dataset('moons', n_samples=1250, test_fraction=0.2)), float64. Two settings:

- full batch (batch_size=0: one step = forward + backward over all 1000 points):
  floor 2x PyTorch (and 2,000 steps/s)
- minibatch 32 (seeded shuffling each epoch, last batch smaller): floor 4x PyTorch (and 10,000 steps/s)

lossviz's side is ``Trainer.advance(n)`` only (no evaluation, no snapshots in the loop -- what
the app's training loop pays per step, trajectory recording included). PyTorch's side
(bench/_torch_peer.py) is the plain loop ``opt.zero_grad(); loss = F.cross_entropy(model(X),
y); loss.backward(); opt.step()`` on an ``nn.Sequential`` holding the same float64 weights and
the same data, minibatches from a seeded ``randperm`` per epoch. Each side runs in its own
process (started with this Python; ``--torch-python`` picks another), driven over a pipe, so
torch's OpenMP threads and NumPy's OpenBLAS threads never share a process; while one side runs
the others wait idle. PyTorch runs with as many threads as lossviz's BLAS may use and with its
default; when the two differ both are printed and the faster one sets the ratio. Rounds are
interleaved (each round times every side on every setting), best of N.

A benchmark, not a test: a ratio below its floor prints FAIL, then a cProfile of lossviz on that
setting (hot spots by own time), and the exit status stays 0; it is 1 only when PyTorch's
model does not hold lossviz's weights (its float64 loss at the start differs by more than 1e-9).
``--profile`` prints the profiles always.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    import lossviz
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import lossviz

from _common import Peer, case_config, reply, save_case  # noqa: E402 (bench/ on sys.path)
from _machine import Settler, busy_note, others_busy, warm_allocator  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTINGS = [
    # name, batch_size, steps per timed call, floor (x PyTorch), floor (steps/s)
    ("full batch", 0, 1000, 2.0, 2_000),
    ("minibatch 32", 32, 3000, 4.0, 10_000),
]
ROUNDS = 5
SETTLER = Settler(budget_s=30)  # before each timed call: a short pause, and a quiet CPU if one comes
WARMUP_STEPS = 200
LAYOUT_TOL = 1e-9


def config(batch_size: int) -> lossviz.RunConfig:
    return case_config(batch_size=batch_size, epochs=100_000)  # enough steps that no timed call hits the end


# ------------------------------------------------------------------ lossviz's process
def serve() -> int:
    """``--serve``: lossviz's side, one JSON line per command (``run I STEPS``, ``profile I STEPS``)."""
    warm_allocator()  # as in bench_surface.py: the state of any process that held a big array
    trainers = []
    for _, bs, _, _, _ in SETTINGS:
        trainers.append(lossviz.Trainer(config(bs)))
        trainers[-1].advance(WARMUP_STEPS)
    from threadpoolctl import threadpool_info

    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    reply({"ready": True, "threads": max(blas, default=1)})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        trainer, steps = trainers[int(cmd[1])], int(cmd[2])
        if cmd[0] == "profile":
            reply({"text": profile(trainer, steps)})
            continue
        gc.collect()
        t0 = time.perf_counter()
        taken = trainer.advance(steps)
        seconds = time.perf_counter() - t0
        reply({"seconds": seconds, "taken": taken, "status": trainer.status})
    return 0


def profile(trainer: lossviz.Trainer, steps: int, top: int = 14) -> str:
    prof = cProfile.Profile()
    prof.runcall(trainer.advance, steps)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return "\n".join("    " + ln.rstrip() for ln in lines[start:])


# ------------------------------------------------------------------ driving the processes
def torch_peers(python: str, npz: Path, threads: int) -> tuple[list[Peer], str | None]:
    """PyTorch with lossviz's thread count, and with its default when that differs."""
    script = str(HERE / "_torch_peer.py")
    peers = [Peer([python, script, "train", str(npz), str(threads)], cwd=HERE)]
    if peers[0].error:
        return [], peers[0].error
    default = Peer([python, script, "train", str(npz), "0"], cwd=HERE)
    if default.error or default.info["threads"] == threads:
        default.close()
    else:
        peers.append(default)
    return peers, None


def write_data(path: Path) -> float:
    """The network, weights and data both sides train; returns lossviz's loss at the start."""
    t = lossviz.Trainer(config(0))
    save_case(path, t.params_init, t.net.layer_sizes, t.config.activation, t.data.X_train, t.data.y_train,
              lr=np.array(t.config.lr))
    return t.evaluate().train_loss


def timed(peer: Peer, command: str, steps: int) -> float:
    """Steps per second of one timed command, after waiting for a quiet machine."""
    SETTLER.settle()
    answer = peer.ask(command)
    if "seconds" not in answer:
        raise RuntimeError(f"{command!r}: {answer}")
    if answer.get("taken", steps) != steps:
        raise RuntimeError(f"{command!r} took {answer['taken']} steps: status {answer['status']!r}")
    return steps / answer["seconds"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds (best of)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of every setting")
    ap.add_argument("--torch-python", default=sys.executable,
                    help="Python with torch for PyTorch's column (default: this one)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch's column")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.serve:
        return serve()

    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "training.npz"
        start_loss = write_data(npz)
        ours = Peer([sys.executable, str(Path(__file__).resolve()), "--serve"], cwd=HERE)
        if ours.error:
            print(f"lossviz's process failed: {ours.error}")
            return 1
        peers, torch_error = ([], "--no-torch") if opts.no_torch else \
            torch_peers(opts.torch_python, npz, ours.info["threads"])
        try:
            return run(opts, ours, peers, torch_error, start_loss)
        finally:
            for p in [ours, *peers]:
                p.close()


def run(opts, ours: Peer, peers: list[Peer], torch_error: str | None, start_loss: float) -> int:
    info = peers[0].info if peers else {}
    print(f"lossviz training benchmark: numpy {np.__version__}, torch {info.get('torch', '-')}, "
          f"{os.cpu_count()} CPUs, busy with other work {busy_note(others_busy())}; (a) 2-16-16-2 "
          f"tanh, cross-entropy, Adam lr 0.01, 1000 moons points, float64; each side in its own "
          f"process, interleaved, best of {opts.rounds}", flush=True)
    layout_err = max((abs(p.info["center_loss_float64"] - start_loss) for p in peers), default=0.0)
    for i, (_, bs, _, _, _) in enumerate(SETTINGS):  # torch's warm-up; lossviz warmed up at start
        for p in peers:
            p.ask(f"run {bs} {WARMUP_STEPS}")
    rates: dict[tuple[str, int], list[float]] = {}
    for _ in range(opts.rounds):
        for i, (name, bs, steps, _, _) in enumerate(SETTINGS):
            rates.setdefault((name, -1), []).append(timed(ours, f"run {i} {steps}", steps))
            for j, p in enumerate(peers):
                rates.setdefault((name, j), []).append(timed(p, f"run {bs} {steps}", steps))
    failed = [name for name, *_ in SETTINGS
              if not print_setting(name, SETTINGS, rates, peers, torch_error, ours)]
    for i, (name, _, steps, _, _) in enumerate(SETTINGS):
        if opts.profile or name in failed:
            print(f"  cProfile of lossviz, {name}, advance({steps}) (own time first; cProfile adds "
                  f"overhead per call):\n{ours.ask(f'profile {i} {steps}')['text']}")
    if peers:
        print(f"  same weights: torch's float64 loss at the start {peers[0].info['center_loss_float64']:.12f}"
              f", lossviz's {start_loss:.12f} (|diff| {layout_err:.1e}, tolerance {LAYOUT_TOL:g}) "
              f"{'OK' if layout_err <= LAYOUT_TOL else 'MISMATCH'}")
    print(f"{SETTLER.summary()} (other work makes rates lower, never higher)")
    return 0 if layout_err <= LAYOUT_TOL else 1


def print_setting(name, settings, rates, peers, torch_error, ours) -> bool:
    """One line per setting; True when every floor it has is met."""
    bs, _, ratio_floor, abs_floor = next(s[1:] for s in settings if s[0] == name)
    best = max(rates[(name, -1)])
    median = float(np.median(rates[(name, -1)]))
    abs_ok = best >= abs_floor
    line = (f"(a) {name} (batch {bs or 1000}): lossviz {best:,.0f} steps/s ({1e6 / best:.0f} us/step; "
            f"median {median:,.0f})")
    if not peers:
        print(f"{line} | torch skipped ({torch_error}) | floor {abs_floor:,} steps/s "
              f"{'PASS' if abs_ok else 'FAIL'}", flush=True)
        return abs_ok
    torch_best = [max(rates[(name, j)]) for j in range(len(peers))]
    j = int(np.argmax(torch_best))
    threads = ", ".join(f"{p.info['threads']} thread{'s' * (p.info['threads'] != 1)}: "
                        f"{r:,.0f}" for p, r in zip(peers, torch_best))
    ratio = best / torch_best[j]
    ok = ratio >= ratio_floor and abs_ok
    print(f"{line} | torch {torch_best[j]:,.0f} steps/s ({1e6 / torch_best[j]:.0f} us/step; "
          f"{threads}; lossviz's BLAS {ours.info['threads']}) | {ratio:.2f}x torch (floor "
          f"{ratio_floor:g}x) {'PASS' if ratio >= ratio_floor else 'FAIL'} | floor {abs_floor:,} "
          f"steps/s {'PASS' if abs_ok else 'FAIL'}", flush=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
