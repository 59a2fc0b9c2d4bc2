"""The PyTorch side of bench_surface.py: times ``loss_landscapes.random_plane`` in its own process.

torch's OpenMP threads and NumPy's OpenBLAS threads in one process make timings erratic, so
bench_surface.py starts this script (with the Python that has torch, ``pip install -e
'.[bench]'``) and drives it over stdin/stdout, one JSON object per line:

- at start it reads a ``.npz`` (params, layer_sizes, activation, X, y), builds a
  ``torch.nn.Sequential`` of ``nn.Linear`` layers holding the same weights (the flat layout of
  ``lossviz.model``: per layer W (fan_out, fan_in) row-major, then the bias), checks in float64
  that its cross-entropy at those weights equals the one bench_surface.py computed with lossviz
  (a check of the layout, not of the landscape), and answers ``{"ready": true, ...}`` — or
  ``{"error": "..."}`` when torch or loss_landscapes is missing;
- each ``run STEPS`` line times one ``random_plane(model, Loss(CrossEntropyLoss(), X, y),
  distance=1, steps=STEPS, normalization='filter')`` on a fresh copy of the float32 model (the
  way research users call it: torch's default dtype and thread count) and answers
  ``{"seconds": ..., "shape": [...], "finite": ...}``;
- ``quit`` (or end of input) ends it.

The loss values of ``random_plane`` are not compared with lossviz's: it draws U[0, 1]
directions, normalizes biases too and rescales both directions by the model norm over
``distance``, so only its *time* on the same network, data and grid size is comparable.
This script imports nothing from lossviz.
"""

from __future__ import annotations

import copy
import json
import sys
import time


def _reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _build(torch, layer_sizes, activation: str, flat, dtype):
    nn = torch.nn
    acts = {
        "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus,
        "leaky_relu": lambda: nn.LeakyReLU(0.01), "linear": nn.Identity,
    }
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}")
    modules, pos = [], 0
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    for i, (fan_in, fan_out) in enumerate(pairs):
        lin = nn.Linear(fan_in, fan_out, dtype=dtype)
        with torch.no_grad():
            w = flat[pos:pos + fan_in * fan_out].reshape(fan_out, fan_in)
            pos += fan_in * fan_out
            b = flat[pos:pos + fan_out]
            pos += fan_out
            lin.weight.copy_(torch.as_tensor(w, dtype=dtype))
            lin.bias.copy_(torch.as_tensor(b, dtype=dtype))
        modules.append(lin)
        if i < len(pairs) - 1:
            modules.append(acts[activation]())
    if pos != flat.shape[0]:
        raise ValueError(f"flat vector has {flat.shape[0]} entries, layers need {pos}")
    return nn.Sequential(*modules)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        _reply({"error": "usage: _torch_peer.py DATA.npz"})
        return 2
    try:
        import numpy as np
        import torch
        import loss_landscapes
        import loss_landscapes.metrics
    except Exception as exc:  # ImportError, or a broken torch install
        _reply({"error": f"{type(exc).__name__}: {exc}"})
        return 0

    # The same allocator warm-up as bench_surface.py (raises glibc's mmap threshold), so that
    # neither side pays page faults for its per-point temporaries by chance.
    block = np.empty(30 * 2**20 // 8)
    del block
    data = np.load(argv[1], allow_pickle=False)
    flat = np.asarray(data["params"], dtype=np.float64)
    layer_sizes = [int(s) for s in data["layer_sizes"]]
    activation = str(data["activation"])
    X64 = torch.as_tensor(np.asarray(data["X"], dtype=np.float64))
    y = torch.as_tensor(np.asarray(data["y"], dtype=np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    with torch.no_grad():
        center = float(loss_fn(_build(torch, layer_sizes, activation, flat, torch.float64)(X64), y))
    model32 = _build(torch, layer_sizes, activation, flat, torch.float32)
    X32 = X64.to(torch.float32)
    metric = loss_landscapes.metrics.Loss(loss_fn, X32, y)
    _reply({"ready": True, "torch": torch.__version__,
            "loss_landscapes": getattr(loss_landscapes, "__version__", _dist_version()),
            "threads": torch.get_num_threads(), "center_loss_float64": center})

    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "run" or len(cmd) != 3:
            _reply({"error": f"unknown command {line.strip()!r}"})
            continue
        steps, seed = int(cmd[1]), int(cmd[2])
        model = copy.deepcopy(model32)  # random_plane moves the model's weights in place
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        z = loss_landscapes.random_plane(model, metric, distance=1, steps=steps,
                                         normalization="filter")
        seconds = time.perf_counter() - t0
        z = np.asarray(z, dtype=np.float64)
        _reply({"seconds": seconds, "shape": list(z.shape), "finite": bool(np.isfinite(z).all())})
    return 0


def _dist_version() -> str:
    try:
        from importlib.metadata import version

        return version("loss-landscapes")
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
