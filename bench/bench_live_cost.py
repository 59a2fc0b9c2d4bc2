"""Live cost per user: the server's CPU time per second of one user's live training at defaults.

Serves the app as a teacher does (``lossviz``: gunicorn, 2 processes, each with its job
process) unless ``--url`` is given, then drives one simulated page with ``bench_load.py``'s
machinery (``User``: Dash's renderer and the app's client-side code over HTTP): it opens the
page, presses Train at the default settings (moons, 2-16-16-2 tanh, Adam, Normal speed) but 2000
epochs (the default 200 end within ~8 s, before the window; the cost of a second of training does
not depend on how many are left) and requests what the page requests on its own clocks (a
training tick every 100 ms and a view tick every 400 ms, each let through only when the last
one's answers are in: curve points, and every callback a view tick fires — the landscape as
the page paces it, and the panels'). After ``--warmup`` seconds from the press
(the first landscapes) it reads the CPU time (user + system) of every server process — the
gunicorn master, its workers and their job processes (training) — over ``--window`` seconds
of training, and prints it per second of wall time, split by kind of process, against the
issue 13 floor: at most 0.25 s per second (so one core serves four live users).

    python bench/bench_live_cost.py [--window 15] [--url http://127.0.0.1:8050/]

``--profile DIR`` starts the server with ``LOSSVIZ_PROFILE=DIR`` (``app.serve``: a cProfile file
per request) and prints the functions where the window's requests spent their time; the CPU
figure is then inflated by the profiler, so take the two numbers from separate runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import Clock, Stats, User  # noqa: E402
from _common import start_lossviz  # noqa: E402
from _machine import Settler  # noqa: E402

from app.page import ids  # noqa: E402  (bench_load put the repository on the path)

FLOOR_S_PER_S = 0.25


def server_tree(url: str) -> list[psutil.Process]:
    """The server's own processes: what listens on the URL's port, its gunicorn master, and all
    their descendants (workers, job processes); not, as ``bench_load.server_processes(...,
    workers_too=True)`` does, every `lossviz worker` on the machine (another test run's would
    inflate the figure)."""
    port = urlparse(url).port or 80
    roots = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            proc = psutil.Process(conn.pid)
            parent = proc.parent()
            top = parent if parent and parent.cmdline()[:2] == proc.cmdline()[:2] else proc
            roots[top.pid] = top
    found = dict(roots)
    for root in roots.values():
        found.update((p.pid, p) for p in root.children(recursive=True))
    return list(found.values())


def cpu_by_kind(url: str) -> dict[str, float]:
    """CPU seconds so far of the server's processes: "jobs" (the training processes) and
    "server" (gunicorn's master and workers: requests, landscapes, figures)."""
    out = {"server": 0.0, "jobs": 0.0}
    for proc in server_tree(url):
        try:
            kind = "jobs" if "spawn_main" in " ".join(proc.cmdline()) else "server"
            t = proc.cpu_times()
            out[kind] += t.user + t.system
        except psutil.Error:
            pass
    return out


def measure(url: str, warmup_s: float, window_s: float, epochs: int) -> dict:
    stats, clock = Stats(), Clock()
    user = User(url, stats, clock, {(ids.EPOCHS, "value"): str(epochs)})
    user.start()
    deadline = time.monotonic() + 60
    while user.pressed_at is None and user.failed is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if user.pressed_at is None:
        clock.stop()
        raise SystemExit(f"the page did not open: {user.failed or 'no Train button within 60 s'}")
    time.sleep(max(0.0, user.pressed_at + warmup_s - time.monotonic()))
    before, n_views, t0 = cpu_by_kind(url), len(stats.landscape_ms), time.monotonic()
    while time.monotonic() - t0 < window_s and user.finished_at is None:
        time.sleep(0.05)
    after, wall = cpu_by_kind(url), time.monotonic() - t0
    landscapes = len(stats.landscape_ms) - n_views
    finished_early = user.finished_at is not None
    user.close()
    clock.stop()
    used = {k: after[k] - before[k] for k in after}
    total = sum(used.values())
    return {"cpu_per_s": total / wall, "server_per_s": used["server"] / wall, "jobs_per_s": used["jobs"] / wall,
            "wall_s": wall, "landscapes_per_s": landscapes / wall, "errors": len(stats.errors),
            "finished_early": finished_early, "tick_p50_ms": _median(stats.tick_ms),
            "landscape_p50_ms": _median(stats.landscape_ms), "error_samples": sorted(set(stats.errors))[:3]}


def _median(values: list) -> float:
    s = sorted(values)
    return round(s[len(s) // 2], 1) if s else float("nan")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="an app already running (default: start `lossviz` on a free port)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of training before the window")
    p.add_argument("--window", type=float, default=15.0, help="seconds of training measured")
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--profile", metavar="DIR", help="profile the server's requests into DIR and print the top")
    args = p.parse_args(argv)
    proc = None
    with tempfile.TemporaryDirectory(prefix="lossviz-cost-") as cache:
        env = {"LOSSVIZ_PROFILE": os.path.abspath(args.profile)} if args.profile else None
        proc, url = (None, args.url) if args.url else start_lossviz(cache, env)
        try:
            time.sleep(1.0)  # the server settles after its warm-up
            settler = Settler(budget_s=30.0)
            settler.settle()  # others' work slows every request: wait for a quiet machine first
            r = measure(url, args.warmup, args.window, args.epochs)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
    ok = r["cpu_per_s"] <= FLOOR_S_PER_S
    print(f"live cost per user: {r['cpu_per_s']:.3f} s of server CPU per second of training "
          f"(floor <= {FLOOR_S_PER_S} s/s; {r['cpu_per_s'] / FLOOR_S_PER_S:.2f}x the floor) {'PASS' if ok else 'FAIL'}")
    print(f"  requests and views (gunicorn) {r['server_per_s']:.3f} s/s · training (job process) "
          f"{r['jobs_per_s']:.3f} s/s · over {r['wall_s']:.1f} s · {r['landscapes_per_s']:.1f} landscape "
          f"answers/s · tick p50 {r['tick_p50_ms']} ms · landscape p50 {r['landscape_p50_ms']} ms · "
          f"errors {r['errors']}" + (" · the run finished inside the window" if r["finished_early"] else ""))
    if r["error_samples"]:
        print("  errors, e.g.: " + " | ".join(r["error_samples"]))
    print("  " + settler.summary().replace("timed calls", "measurements"))
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if k != "error_samples"}))
    if args.profile:
        print_profile(args.profile)
    return 0


def print_profile(folder: str, top: int = 25) -> None:
    """The request profiles' functions by time spent inside them (callees excluded), and by
    cumulative time: callbacks, figure building, JSON serialization, landscape."""
    import glob
    import pstats

    files = glob.glob(os.path.join(folder, "*.prof"))
    if not files:
        print(f"no profiles in {folder}")
        return
    stats = pstats.Stats(*files)
    stats.files = []  # not a line per file
    print(f"{len(files)} requests profiled; by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print("by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    sys.exit(main())
