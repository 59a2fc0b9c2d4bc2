"""A class on one server: N simulated users against a running lossviz, as their pages would.

    python bench/bench_load.py --url http://127.0.0.1:8050/ --users 30

Each user opens the page (its own session: the layout brings a fresh secret), reads its default
settings, presses Train, and then requests what the page requests on the page's own timers —
a training tick every 150 ms and a view tick every 400 ms, fired on schedule whether or not the
last answer is back, as a browser's intervals fire — applying answers as the page's client-side
code does (cursor, exactly-once points, stop when the run is done). Prints p50/p95 of tick and
landscape latency, errors, runs finished and when, and the server's memory (PSS of its
processes: the gunicorn master, its workers, any `lossviz worker`) at start, at its peak and
after the runs ended; the last line is JSON with at least
``users errors finished tick_p95_ms landscape_p95_ms finish_p95_s``.

Run it on the same machine as the server (it reads the server's memory from /proc).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psutil
import urllib3
from dash._utils import stringify_id

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app import ids  # noqa: E402
from app.dash_protocol import Page, updates  # noqa: E402

from app.layout import TICK_MS, VIEW_MS  # noqa: E402

TICK_S, VIEW_S = TICK_MS / 1000, VIEW_MS / 1000  # the page's own dcc.Interval periods
BAD_WORDS = ("went wrong", "expired", "another session", "busy")


class Transport:
    """The renderer's requests over one keep-alive HTTP connection pool (one per user)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = urllib3.PoolManager(maxsize=8, timeout=urllib3.Timeout(connect=5, read=60))

    def get(self, path: str):
        return self.http.request("GET", self.base + path)

    def get_json(self, path: str):
        return json.loads(self.get(path).data)

    def post_json(self, path: str, body):
        r = self.http.request("POST", self.base + path, body=json.dumps(body).encode(),
                              headers={"Content-Type": "application/json"})
        return r.status, (json.loads(r.data) if r.status == 200 and r.data else None)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tick_ms: list = field(default_factory=list)
    view_ms: list = field(default_factory=list)
    landscape_ms: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def add(self, kind: str, ms: float) -> None:
        with self.lock:
            getattr(self, kind).append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


class User:
    """One page: its session, run, cursor and what its plots show."""

    def __init__(self, base: str, deps: list, stats: Stats, widgets: dict | None = None,
                 speed: str = "normal") -> None:
        self.transport = Transport(base)
        self.stats = stats
        self.transport.get("/")
        self.page = Page(self.transport, deps)
        self.lock = threading.Lock()
        self.run = self.cursor = self.drawn = None
        self.pressed = self.first_point = self.finished_at = None
        self.done = False
        self.widgets, self.speed = widgets or {}, speed
        self.dep_tick = self.page.find(ids.STORE_STREAM, "data")
        self.dep_view = self.page.find(ids.GRAPH_CONTOUR, "figure")

    def start(self) -> None:
        dep = self.page.find(ids.STORE_CONFIG, "data")
        status, data = self.page.call(dep, self.widgets, changed=[f"{ids.DATASET}.value"])
        up = updates(data)
        if ids.STORE_CONFIG not in up:
            raise SystemExit(f"the settings were refused: {up.get(ids.CONFIG_ERROR)}")
        config = up[ids.STORE_CONFIG]["data"]
        self.pressed = time.monotonic()
        status, data = self.page.call(self.page.find(ids.STORE_RUN, "data"),
                                      {(ids.STORE_CONFIG, "data"): config, (ids.TRAIN, "n_clicks"): 1,
                                       (ids.SPEED, "value"): self.speed},
                                      changed=[f"{ids.TRAIN}.n_clicks"])
        up = updates(data)
        said = str(up.get(ids.STATUS, {}).get("children", ""))
        if status != 200 or ids.STORE_RUN not in up or any(w in said for w in BAD_WORDS):
            self.stats.error(f"Train answered {status}: {said}")
            self.done = True
            return
        self.run, self.cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]

    def tick(self) -> None:
        with self.lock:
            run, cursor = self.run, self.cursor
        t0 = time.monotonic()
        status, data = self.page.call(self.dep_tick, {(ids.INTERVAL_TRAIN, "n_intervals"): 1,
                                                      (ids.STORE_RUN, "data"): run, (ids.STORE_CURSOR, "data"): cursor})
        self.stats.add("tick_ms", 1000 * (time.monotonic() - t0))
        up = updates(data)
        if status != 200 or ids.STORE_STREAM not in up:
            self.stats.error(f"tick answered {status}: {up.get(ids.STATUS)}")
            return
        self._apply(up[ids.STORE_STREAM]["data"])

    def _apply(self, stream: dict) -> None:
        """As assets/lossviz.js applyStream: points exactly once, stop on the last command's end."""
        if any(w in stream["status"] for w in BAD_WORDS):
            self.stats.error(stream["status"])
        with self.lock:
            counts = list(self.cursor["n"])
            for i, run in enumerate(stream["runs"][:len(counts)]):
                skip = counts[i] - run["start"]
                count = len(run["x"][0]) - skip
                if skip >= 0 and count > 0:
                    counts[i] += count
                    if self.first_point is None:
                        self.first_point = time.monotonic() - self.pressed
            self.cursor = dict(self.cursor, n=counts)
            if stream["seq"] == self.run.get("seq", 0) and stream["done"] and not self.done:
                self.done = True
                self.run = dict(self.run, running=False)
                if "finished" in stream["status"]:
                    self.finished_at = time.monotonic() - self.pressed

    def view(self) -> None:
        with self.lock:
            run, drawn = self.run, self.drawn
        t0 = time.monotonic()
        status, data = self.page.call(self.dep_view, {(ids.INTERVAL_VIEW, "n_intervals"): 1, (ids.STORE_RUN, "data"): run,
                                                      (ids.STORE_DRAWN, "data"): drawn},
                                      changed=[f"{ids.INTERVAL_VIEW}.n_intervals"])
        ms = 1000 * (time.monotonic() - t0)
        self.stats.add("view_ms", ms)
        if status not in (200, 204):
            self.stats.error(f"view answered {status}")
            return
        up = updates(data)
        if up.get(ids.VIEW_ERROR, {}).get("children"):
            self.stats.error(up[ids.VIEW_ERROR]["children"])
        if ids.GRAPH_CONTOUR in up or ids.GRAPH_SURFACE in up:
            self.stats.add("landscape_ms", ms)
        if ids.STORE_DRAWN in up:
            with self.lock:
                self.drawn = up[ids.STORE_DRAWN]["data"]


def server_processes(url: str) -> list[psutil.Process]:
    """The server's processes: whatever listens on the URL's port, its parent if it is the
    same program (gunicorn's master), their children, and any `lossviz worker` process."""
    port = urlparse(url).port or 80
    found: dict[int, psutil.Process] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            proc = psutil.Process(conn.pid)
            found[proc.pid] = proc
            parent = proc.parent()
            if parent and "app.main" in " ".join(parent.cmdline()) or parent and "lossviz" in " ".join(parent.cmdline()):
                found[parent.pid] = parent
    for proc in list(found.values()):
        for child in proc.children(recursive=True):
            found[child.pid] = child
    for proc in psutil.process_iter(["cmdline"]):
        line = " ".join(proc.info["cmdline"] or [])
        if "worker" in line and ("lossviz" in line or "app.main" in line) and "bench_load" not in line:
            found[proc.pid] = proc
    return list(found.values())


def memory_mb(url: str) -> float:
    """The server's memory: PSS (shared pages counted once across forked workers), in MB."""
    total = 0
    for proc in server_processes(url):
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.Error:
            pass
    return total / 2 ** 20


def cpu_seconds(url: str) -> float:
    """CPU time (user + system) the server's processes have used so far."""
    total = 0.0
    for proc in server_processes(url):
        try:
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def pct(values: list, q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def simulate(url: str, n_users: int, timeout_s: float, settle_s: float, widgets: dict | None = None,
             speed: str = "normal") -> dict:
    stats = Stats()
    deps = Transport(url).get_json("/_dash-dependencies")
    mem_start, cpu_start, me = memory_mb(url), cpu_seconds(url), psutil.Process()
    my_cpu = sum(me.cpu_times()[:2])
    peak = [mem_start]
    stop = threading.Event()

    def watch_memory():
        while not stop.wait(0.5):
            peak[0] = max(peak[0], memory_mb(url))

    threading.Thread(target=watch_memory, daemon=True).start()
    pool = ThreadPoolExecutor(max_workers=max(16, 6 * n_users))
    users = [User(url, deps, stats, widgets, speed) for _ in range(n_users)]
    for f in [pool.submit(u.start) for u in users]:
        f.result()
    t0 = time.monotonic()
    next_tick = {id(u): t0 for u in users}
    next_view = {id(u): t0 for u in users}
    while time.monotonic() - t0 < timeout_s and not all(u.done for u in users):
        now = time.monotonic()
        for u in users:
            if u.done:
                continue
            if now >= next_tick[id(u)]:
                next_tick[id(u)] += TICK_S
                pool.submit(_safely, u.tick, stats)
            if now >= next_view[id(u)]:
                next_view[id(u)] += VIEW_S
                pool.submit(_safely, u.view, stats)
        time.sleep(0.005)
    for u in users:  # the page's last view update after its run stopped
        pool.submit(_safely, u.view, stats)
    pool.shutdown(wait=True)
    server_cpu, client_cpu, wall = cpu_seconds(url) - cpu_start, sum(me.cpu_times()[:2]) - my_cpu, time.monotonic() - t0
    time.sleep(settle_s)
    stop.set()
    finish = [u.finished_at for u in users if u.finished_at is not None]
    first = [u.first_point for u in users if u.first_point is not None]
    return {"users": n_users, "errors": len(stats.errors), "finished": len(finish),
            "tick_p50_ms": round(pct(stats.tick_ms, 50), 1), "tick_p95_ms": round(pct(stats.tick_ms, 95), 1),
            "tick_max_ms": round(max(stats.tick_ms, default=float("nan")), 1),
            "landscape_p50_ms": round(pct(stats.landscape_ms, 50), 1),
            "landscape_p95_ms": round(pct(stats.landscape_ms, 95), 1),
            "view_p95_ms": round(pct(stats.view_ms, 95), 1),
            "landscapes_per_user": round(len(stats.landscape_ms) / max(1, n_users), 1),
            "first_point_p95_s": round(pct(first, 95), 2),
            "finish_p50_s": round(pct(finish, 50), 2), "finish_p95_s": round(pct(finish, 95), 2),
            "finish_max_s": round(max(finish, default=float("nan")), 2),
            "requests": len(stats.tick_ms) + len(stats.view_ms),
            "server_cpu_s": round(server_cpu, 1), "client_cpu_s": round(client_cpu, 1), "wall_s": round(wall, 1),
            "mem_start_mb": round(mem_start), "mem_peak_mb": round(peak[0]), "mem_after_mb": round(memory_mb(url)),
            "error_samples": sorted(set(stats.errors))[:5]}


def _safely(fn, stats: Stats) -> None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a failed request is an error to count, not a crash
        stats.error(f"{type(exc).__name__}: {exc}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--timeout", type=float, default=90.0, help="stop waiting for runs after this many seconds")
    p.add_argument("--settle", type=float, default=5.0, help="seconds after the runs end before memory is read")
    p.add_argument("--samples", help="the Samples box (default: the page's)")
    p.add_argument("--epochs", help="the Epochs box (default: the page's)")
    p.add_argument("--hidden", help="hidden widths, e.g. 256,256 (default: the page's)")
    p.add_argument("--speed", default="normal", choices=["slow", "normal", "fast", "max"])
    args = p.parse_args()
    widgets = {}
    if args.samples:
        widgets[(ids.SAMPLES, "value")] = args.samples
    if args.epochs:
        widgets[(ids.EPOCHS, "value")] = args.epochs
    if args.hidden:
        widths = args.hidden.split(",")
        widgets[(ids.LAYERS, "value")] = len(widths)
        for i, w in enumerate(widths):
            widgets[(stringify_id({"type": ids.WIDTH, "index": i}), "value")] = w
    r = simulate(args.url, args.users, args.timeout, args.settle, widgets, args.speed)
    print(f"users {r['users']} · errors {r['errors']} · runs finished {r['finished']}/{r['users']} "
          f"· time to finish p50 {r['finish_p50_s']} s, p95 {r['finish_p95_s']} s, max {r['finish_max_s']} s "
          f"· first curve point p95 {r['first_point_p95_s']} s")
    print(f"tick latency p50 {r['tick_p50_ms']} ms, p95 {r['tick_p95_ms']} ms, max {r['tick_max_ms']} ms "
          f"· landscape latency p50 {r['landscape_p50_ms']} ms, p95 {r['landscape_p95_ms']} ms "
          f"({r['landscapes_per_user']} landscapes per user) · {r['requests']} requests")
    print(f"server CPU {r['server_cpu_s']} s and this client's {r['client_cpu_s']} s in {r['wall_s']} s")
    print(f"server memory: start {r['mem_start_mb']} MB, peak {r['mem_peak_mb']} MB, "
          f"after the runs {r['mem_after_mb']} MB")
    if r["error_samples"]:
        print("errors, e.g.: " + " | ".join(r["error_samples"]))
    print(json.dumps({k: v for k, v in r.items() if k != "error_samples"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
