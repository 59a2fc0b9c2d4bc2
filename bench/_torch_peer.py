"""The PyTorch side of bench_surface.py, bench_training.py and bench_hessian.py, in its own process.

Three modes: ``_torch_peer.py DATA.npz`` (bench_surface.py: ``loss_landscapes.random_plane``,
below), ``_torch_peer.py train DATA.npz THREADS`` (bench_training.py: a plain PyTorch
training loop, see :func:`train_main`) and ``_torch_peer.py hvp DATA.npz`` (bench_hessian.py:
``torch.autograd.functional.hvp``, see :func:`hvp_main`). All three build the network from the
flat layout of ``lossviz.model`` (:func:`_layers`) and answer through ``bench/_common.reply``.

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
import importlib
import sys
import time

from _common import reply  # bench/ is on sys.path: this script's folder

MAX_SECONDS = 0.5  # hvp mode: a ``run`` stops after this long, once it has made 5 calls


def _layers(layer_sizes):
    """(fan_in, fan_out, slice of W, slice of b) of each layer in the flat layout of
    ``lossviz.model``: per layer W (fan_out, fan_in) row-major, then the bias."""
    pos = 0
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        w = slice(pos, pos + fan_in * fan_out)
        b = slice(w.stop, w.stop + fan_out)
        pos = b.stop
        yield fan_in, fan_out, w, b


def _open(path: str, *modules: str, warm: bool = True):
    """(numpy, torch, the case in ``path``): a ``.npz`` of params, layer_sizes, activation, X, y
    and what the mode needs; with ``warm``, the allocator warmed as lossviz's side warms it. None
    when torch or one of ``modules`` cannot be imported: the error is answered."""
    try:
        import numpy as np
        import torch

        for name in modules:
            importlib.import_module(name)
        from _machine import warm_allocator
    except Exception as exc:  # ImportError, or a broken torch install
        reply({"error": f"{type(exc).__name__}: {exc}"})
        return None
    if warm:
        warm_allocator()
    return np, torch, np.load(path, allow_pickle=False)


def _network(np, data) -> tuple:
    """(flat float64 parameters, layer sizes, activation name) of a case."""
    flat = np.asarray(data["params"], dtype=np.float64)
    return flat, [int(s) for s in data["layer_sizes"]], str(data["activation"])


def _runs():
    """(A, B) of each ``run A B`` line on stdin, until ``quit`` or the end of input; any other
    line is answered with an error."""
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            return
        if cmd[0] != "run" or len(cmd) != 3:
            reply({"error": f"unknown command {line.strip()!r}"})
            continue
        yield int(cmd[1]), int(cmd[2])


def _build(torch, layer_sizes, activation: str, flat, dtype):
    nn = torch.nn
    acts = {
        "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus,
        "leaky_relu": lambda: nn.LeakyReLU(0.01), "linear": nn.Identity,
    }
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}")
    modules, layers = [], list(_layers(layer_sizes))
    for i, (fan_in, fan_out, w, b) in enumerate(layers):
        lin = nn.Linear(fan_in, fan_out, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(flat[w].reshape(fan_out, fan_in), dtype=dtype))
            lin.bias.copy_(torch.as_tensor(flat[b], dtype=dtype))
        modules.append(lin)
        if i < len(layers) - 1:
            modules.append(acts[activation]())
    need = layers[-1][3].stop
    if need != flat.shape[0]:
        raise ValueError(f"flat vector has {flat.shape[0]} entries, layers need {need}")
    return nn.Sequential(*modules)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] in ("train", "hvp"):
        return (train_main if argv[1] == "train" else hvp_main)(argv[2:])
    if len(argv) != 2:
        reply({"error": "usage: _torch_peer.py DATA.npz"})
        return 2
    # The same allocator warm-up as bench_surface.py (raises glibc's mmap threshold), so that
    # neither side pays page faults for its per-point temporaries by chance.
    opened = _open(argv[1], "loss_landscapes", "loss_landscapes.metrics")
    if opened is None:
        return 0
    np, torch, data = opened
    import loss_landscapes.metrics

    flat, layer_sizes, activation = _network(np, data)
    X64 = torch.as_tensor(np.asarray(data["X"], dtype=np.float64))
    y = torch.as_tensor(np.asarray(data["y"], dtype=np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    with torch.no_grad():
        center = float(loss_fn(_build(torch, layer_sizes, activation, flat, torch.float64)(X64), y))
    model32 = _build(torch, layer_sizes, activation, flat, torch.float32)
    X32 = X64.to(torch.float32)
    metric = loss_landscapes.metrics.Loss(loss_fn, X32, y)
    reply({"ready": True, "torch": torch.__version__,
           "loss_landscapes": getattr(loss_landscapes, "__version__", _dist_version()),
           "threads": torch.get_num_threads(), "center_loss_float64": center})

    for steps, seed in _runs():
        model = copy.deepcopy(model32)  # random_plane moves the model's weights in place
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        z = loss_landscapes.random_plane(model, metric, distance=1, steps=steps,
                                         normalization="filter")
        seconds = time.perf_counter() - t0
        z = np.asarray(z, dtype=np.float64)
        reply({"seconds": seconds, "shape": list(z.shape), "finite": bool(np.isfinite(z).all())})
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
    opened = _open(argv[0], warm=False)
    if opened is None:
        return 0
    np, torch, data = opened
    F = torch.nn.functional
    if int(argv[1]) > 0:
        torch.set_num_threads(int(argv[1]))
    flat, layer_sizes, activation = _network(np, data)
    X = torch.tensor(np.asarray(data["X"], dtype=np.float64))
    y = torch.tensor(np.asarray(data["y"], dtype=np.int64))
    lr = float(data["lr"])
    with torch.no_grad():
        center = float(F.cross_entropy(_build(torch, layer_sizes, activation, flat, torch.float64)(X), y))
    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "center_loss_float64": center})
    runs = {}
    for batch_size, steps in _runs():
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
        reply({"seconds": seconds, "loss": float(loss)})
    return 0


def _loss_of_flat(torch, layer_sizes, activation: str, X, y):
    """f(theta) = mean cross-entropy of the MLP whose flat parameter vector is theta."""
    F = torch.nn.functional
    acts = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
            "softplus": F.softplus, "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
            "linear": lambda t: t}
    act = acts[activation]
    layers = list(_layers(layer_sizes))

    def f(theta):
        a = X
        for i, (fan_in, fan_out, w, b) in enumerate(layers):
            a = a @ theta[w].reshape(fan_out, fan_in).T + theta[b]
            if i < len(layers) - 1:
                a = act(a)
        return F.cross_entropy(a, y)

    return f


def hvp_main(argv: list[str]) -> int:
    """The PyTorch side of bench_hessian.py: ``hvp DATA.npz``, one JSON object per line.

    At start it reads a ``.npz`` (params, layer_sizes, activation, X, y, v), builds the
    cross-entropy of the MLP as a function of the flat float64 parameter vector, computes H v by
    double backward and answers ``{"ready": true, "hv": [...], ...}`` (bench_hessian.py compares
    it with lossviz.hvp). Each ``run REPS THREADS`` line sets torch's thread count (0: its
    default) and times REPS calls of ``torch.autograd.functional.hvp(f, params, v)`` (fewer, but
    at least 5, when they take over MAX_SECONDS: on a busy machine torch's threads can be 20x
    slower), answering ``{"seconds": per call, "reps": calls made}``. ``quit`` (or end of
    input) ends it.
    """
    if len(argv) != 1:
        reply({"error": "usage: _torch_peer.py hvp DATA.npz"})
        return 2
    opened = _open(argv[0])
    if opened is None:
        return 0
    np, torch, data = opened
    flat, layer_sizes, activation = _network(np, data)
    params = torch.tensor(flat)
    v = torch.tensor(np.asarray(data["v"], dtype=np.float64))
    X = torch.tensor(np.asarray(data["X"], dtype=np.float64))
    y = torch.tensor(np.asarray(data["y"], dtype=np.int64))
    f = _loss_of_flat(torch, layer_sizes, activation, X, y)
    default_threads = torch.get_num_threads()
    _, hv = torch.autograd.functional.hvp(f, params, v)
    reply({"ready": True, "torch": torch.__version__, "threads": default_threads,
           "hv": hv.tolist()})

    for reps, threads in _runs():
        threads = threads or default_threads
        torch.set_num_threads(threads)
        t0, done = time.perf_counter(), 0
        while done < reps and (done < 5 or time.perf_counter() - t0 < MAX_SECONDS):
            torch.autograd.functional.hvp(f, params, v)
            done += 1
        reply({"seconds": (time.perf_counter() - t0) / done, "threads": threads, "reps": done})
    return 0


def _dist_version() -> str:
    try:
        from importlib.metadata import version

        return version("loss-landscapes")
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
