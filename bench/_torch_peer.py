"""The PyTorch side of bench_surface.py and bench_training.py, each in its own process.

Two modes: ``_torch_peer.py DATA.npz`` (bench_surface.py: ``loss_landscapes.random_plane``,
below) and ``_torch_peer.py train DATA.npz THREADS`` (bench_training.py: a plain PyTorch
training loop, see :func:`train_main`).

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
    if len(argv) >= 2 and argv[1] == "train":
        return train_main(argv[2:])
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


def _batches(torch, X, y, batch_size: int, gen):
    """(X, y) of each step without end: everything (full batch), or minibatches cut from a
    seeded permutation drawn at each epoch's start (the last one smaller)."""
    n = X.shape[0]
    while True:
        if batch_size >= n:
            yield X, y
            continue
        perm = torch.randperm(n, generator=gen)
        for k in range(0, n, batch_size):
            idx = perm[k:k + batch_size]
            yield X[idx], y[idx]


def train_main(argv: list[str]) -> int:
    """The PyTorch side of bench_training.py: ``train DATA.npz THREADS`` (THREADS 0: torch's default).

    Reads a ``.npz`` (params, layer_sizes, activation, X, y, lr), sets the thread count, checks
    that its float64 cross-entropy at those weights equals lossviz's (``center_loss``, a check
    of the flat layout) and answers ``{"ready": true, "threads": ..., ...}``. Then each
    ``run BATCH STEPS`` line takes STEPS more steps of a float64 ``nn.Sequential`` with Adam
    (one model per batch size, continuing where its last run stopped), the plain loop::

        opt.zero_grad(); loss = F.cross_entropy(model(xb), yb); loss.backward(); opt.step()

    and answers ``{"seconds": ..., "loss": ...}``. ``quit`` (or end of input) ends it.
    """
    try:
        import numpy as np
        import torch
        import torch.nn.functional as F
    except Exception as exc:  # ImportError, or a broken torch install
        _reply({"error": f"{type(exc).__name__}: {exc}"})
        return 0
    data = np.load(argv[0], allow_pickle=False)
    if int(argv[1]) > 0:
        torch.set_num_threads(int(argv[1]))
    flat = np.asarray(data["params"], dtype=np.float64)
    layer_sizes, activation = [int(s) for s in data["layer_sizes"]], str(data["activation"])
    X = torch.tensor(np.asarray(data["X"], dtype=np.float64))
    y = torch.tensor(np.asarray(data["y"], dtype=np.int64))
    lr = float(data["lr"])
    with torch.no_grad():
        center = float(F.cross_entropy(_build(torch, layer_sizes, activation, flat, torch.float64)(X), y))
    _reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "center_loss_float64": center})
    runs = {}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "run" or len(cmd) != 3:
            _reply({"error": f"unknown command {line.strip()!r}"})
            continue
        batch_size, steps = int(cmd[1]), int(cmd[2])
        if batch_size not in runs:
            model = _build(torch, layer_sizes, activation, flat, torch.float64)
            runs[batch_size] = (model, torch.optim.Adam(model.parameters(), lr=lr),
                                _batches(torch, X, y, batch_size or X.shape[0],
                                         torch.Generator().manual_seed(0)))
        model, opt, batches = runs[batch_size]
        t0 = time.perf_counter()
        for _ in range(steps):
            xb, yb = next(batches)
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - t0
        _reply({"seconds": seconds, "loss": float(loss)})
    return 0


def _dist_version() -> str:
    try:
        from importlib.metadata import version

        return version("loss-landscapes")
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
