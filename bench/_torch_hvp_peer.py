"""The PyTorch side of bench_hessian.py: times ``torch.autograd.functional.hvp`` in its own process.

As with ``_torch_peer.py``, torch's OpenMP threads and NumPy's OpenBLAS threads in one process
make timings erratic, so bench_hessian.py starts this script and drives it over stdin/stdout,
one JSON object per line:

- at start it reads a ``.npz`` (params, layer_sizes, activation, X, y, v), builds the
  cross-entropy of the MLP as a function of the flat float64 parameter vector (the layout of
  ``lossviz.model``: per layer W (fan_out, fan_in) row-major, then the bias), computes H v by
  double backward and answers ``{"ready": true, "hv": [...], ...}`` (bench_hessian.py compares
  it with lossviz.hvp) -- or ``{"error": "..."}`` when torch is missing;
- each ``run REPS THREADS`` line sets torch's thread count (0: its default) and times REPS
  calls of ``torch.autograd.functional.hvp(f, params, v)`` (fewer, but at least 5, when they
  take over MAX_SECONDS: on a busy machine torch's threads can be 20x slower), answering
  ``{"seconds": per call, "reps": calls made}``;
- ``quit`` (or end of input) ends it.

This script imports nothing from lossviz.
"""

from __future__ import annotations

import json
import sys
import time

MAX_SECONDS = 0.5


def _reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _loss_of_flat(torch, layer_sizes, activation: str, X, y):
    """f(theta) = mean cross-entropy of the MLP whose flat parameter vector is theta."""
    F = torch.nn.functional
    acts = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
            "softplus": F.softplus, "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
            "linear": lambda t: t}
    act = acts[activation]
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))

    def f(theta):
        a, pos = X, 0
        for i, (fan_in, fan_out) in enumerate(pairs):
            W = theta[pos:pos + fan_in * fan_out].reshape(fan_out, fan_in)
            pos += fan_in * fan_out
            a = a @ W.T + theta[pos:pos + fan_out]
            pos += fan_out
            if i < len(pairs) - 1:
                a = act(a)
        return F.cross_entropy(a, y)

    return f


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        _reply({"error": "usage: _torch_hvp_peer.py DATA.npz"})
        return 2
    try:
        import numpy as np
        import torch
    except Exception as exc:  # ImportError, or a broken torch install
        _reply({"error": f"{type(exc).__name__}: {exc}"})
        return 0

    block = np.empty(30 * 2**20 // 8)  # the allocator warm-up of bench/_machine.py
    del block
    data = np.load(argv[1], allow_pickle=False)
    params = torch.tensor(np.asarray(data["params"], dtype=np.float64))
    v = torch.tensor(np.asarray(data["v"], dtype=np.float64))
    X = torch.tensor(np.asarray(data["X"], dtype=np.float64))
    y = torch.tensor(np.asarray(data["y"], dtype=np.int64))
    f = _loss_of_flat(torch, [int(s) for s in data["layer_sizes"]], str(data["activation"]), X, y)
    default_threads = torch.get_num_threads()
    _, hv = torch.autograd.functional.hvp(f, params, v)
    _reply({"ready": True, "torch": torch.__version__, "threads": default_threads,
            "hv": hv.tolist()})

    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "run" or len(cmd) != 3:
            _reply({"error": f"unknown command {line.strip()!r}"})
            continue
        reps, threads = int(cmd[1]), int(cmd[2]) or default_threads
        torch.set_num_threads(threads)
        t0, done = time.perf_counter(), 0
        while done < reps and (done < 5 or time.perf_counter() - t0 < MAX_SECONDS):
            torch.autograd.functional.hvp(f, params, v)
            done += 1
        _reply({"seconds": (time.perf_counter() - t0) / done, "threads": threads, "reps": done})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
