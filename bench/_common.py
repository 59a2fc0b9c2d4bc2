"""What the bench scripts share besides the machine (bench/_machine.py): the network they time,
timing one call on a quiet machine, the processes that time the other side over a pipe, and the
app served to headless Chromium.

Only the standard library is imported here at the top: the torch peer (bench/_torch_peer.py),
which imports nothing from lossviz, reads its side of the pipe the same way.
"""

from __future__ import annotations

import gc
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --- the network the benches time --------------------------------------------------------------

def case_config(dataset: str = "moons", n_samples: int = 1250, hidden: tuple[int, ...] = (16, 16),
                activation: str = "tanh", **changes):
    """The ``lossviz.RunConfig`` of a bench case: cross-entropy, Adam at lr 0.01, 20% held out,
    seed 0; by default network (a) of the issue, 2-16-16-2 tanh on 1000 moons training points.
    ``changes``: any other RunConfig field (epochs, batch_size, ...)."""
    import lossviz  # here, not at the top: the torch peer must not load lossviz

    fields = dict(dataset=dataset, n_samples=n_samples, test_fraction=0.2, seed=0, hidden=hidden,
                  activation=activation, loss="cross_entropy", optimizer="adam", lr=0.01)
    return lossviz.RunConfig(**(fields | changes))


def save_case(path: Path, params, layer_sizes, activation: str, X, y, **extra) -> None:
    """The ``.npz`` a torch peer reads: flat float64 parameters in lossviz's layout, the layer
    sizes, the activation, the data, and whatever else its mode needs (``lr``, ``v``)."""
    import numpy as np

    np.savez(path, params=params, layer_sizes=np.array(layer_sizes), activation=np.array(activation),
             X=X, y=y, **extra)


# --- timing ------------------------------------------------------------------------------------

def timed(fn, settler, reps: int = 1) -> tuple[float, object]:
    """(seconds per call, the last result) of ``reps`` calls of ``fn()``, after a garbage
    collection and ``settler.settle()`` (bench/_machine.Settler: a quiet machine, if one comes)."""
    gc.collect()
    settler.settle()
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn()
    return (time.perf_counter() - t0) / reps, out


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- the other side, in its own process ----------------------------------------------------------

def reply(obj: dict) -> None:
    """A peer's answer: one JSON object on one line of stdout."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer:
    """A process that answers each command line with one JSON line (the torch peer, or
    bench_training.py's lossviz side), so that torch's OpenMP threads and NumPy's OpenBLAS threads
    never share a process. Its first line is ``{"ready": true, ...}`` (kept in ``info``) or
    ``{"error": ...}``; ``error`` is then set and the process closed."""

    def __init__(self, argv: list[str], what: str = "the process", cwd: Path | None = None) -> None:
        self.what, self.info = what, {}
        self._stderr = tempfile.TemporaryFile(mode="w+")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, text=True, cwd=cwd,
                                         env=dict(os.environ, PYTHONUNBUFFERED="1"))
        except OSError as exc:
            self.proc, self.error = None, f"cannot start {argv[0]}: {exc}"
            return
        self.info = self._read()
        self.error = None if self.info.get("ready") else self.info.get("error", "no answer")
        if self.error:
            self.close()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            tail = self._stderr.read().strip().splitlines()[-3:]
            return {"error": f"{self.what} ended: " + (" / ".join(tail) or "no output")}
        return json.loads(line)

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


# --- the app, served to headless Chromium --------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}
NOT_LOCAL = re.compile(r"^(https?|wss?)://(?!127\.0\.0\.1[:/])")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(cache_dir: str) -> tuple[subprocess.Popen, str]:
    """``python -m app.main`` (one process, the development server) on a free port."""
    return _serve([sys.executable, "-m", "app.main"], [], cache_dir, None, "the app", 60)


def start_lossviz(cache_dir: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """``lossviz --port P --workers 2`` (gunicorn, as a teacher serves it) on a free port."""
    exe = Path(sys.executable).with_name("lossviz")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.main"]
    return _serve(cmd, ["--workers", "2"], cache_dir, env, "lossviz", 90)


def _serve(cmd: list[str], options: list[str], cache_dir: str, env: dict | None, name: str,
           timeout_s: float) -> tuple[subprocess.Popen, str]:
    """Start the app on a free port and wait until it answers; SystemExit if it does not."""
    port = free_port()
    proc = subprocess.Popen(cmd + ["--host", "127.0.0.1", "--port", str(port), *options, "--cache-dir", cache_dir],
                            cwd=ROOT, env=dict(os.environ, **(env or {})), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{name} did not answer at {url}")


def now() -> float:
    """Seconds on the monotonic clock (what every timing here is measured on)."""
    return time.monotonic()


def pct(values: list, q: float) -> float:
    """The q-th percentile of ``values`` (nearest rank); NaN for none."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]
