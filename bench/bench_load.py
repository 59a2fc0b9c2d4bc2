"""A class on one server: N simulated pages, and optionally N real Chromium pages, against a running lossviz.

    python bench/bench_load.py --url http://127.0.0.1:8050/ --users 27 --pages 3 [--repeat K]

**Simulated pages** (``User``) do over HTTP what Dash's renderer does in a browser, driven by the
app's own ``/_dash-dependencies`` (no callback is named here but the few the page's client-side
code answers):

- *Page open*: ``GET /``, the scripts and style sheet it names, ``/_dash-layout`` and
  ``/_dash-dependencies`` (as the renderer, after the scripts), plotly.js and dcc's lazily loaded
  chunks for the components in the layout, over at most six connections (a browser's limit per
  host), gzip accepted. Then every callback a fresh page fires at mount (not
  ``prevent_initial_call``; ``dcc.Location`` sets the URL it mounted with), and every callback
  each answer's changed props fire in turn, with the renderer's rules: a callback waits while any
  of its inputs is an output, directly or down the chain, of a callback still requested or in
  flight; a newer call of a callback drops the answer of its call in flight (the *overtaken*
  answer is counted and never applied); repeated requests that have not gone out yet merge.
- *Train*: pressed the moment the button shows (the layout is in), plus a random delay of up to
  ``--press-jitter`` s (students do not all click at once): ``n_clicks`` and
  ``n_clicks_timestamp`` go up and fire whatever listens, as a click does.
- *Ticks*: every ``dcc.Interval`` in the layout runs on its own timer while it is enabled (the
  app enables and disables them through callbacks), but the page's two clocks, which never fire
  themselves: the page's own timer (``assets/lossviz.js``, ported) reads them every 25 ms and
  passes a clock's tick on to its tick interval once a period has passed and none of the last
  tick's requests is still out (2 s to send them once armed, 45 s to give up); the view clock's
  tick is the one of the view on screen (a simulated page shows the plots). The training clock's
  tick is "direct", as in the page: its request goes straight to the server (not through the
  renderer's queue, never overtaken), one at a time, and its answer is applied as
  ``lossviz.applyStream`` applies it (curve points exactly once by cursor, status, the stop at
  the end of a run), ported. The client-side callback ``lossviz.whenCalm`` (the first 3-D view
  asked for once the page is calm: a simulated page always is) is ported too; other client-side
  callbacks change nothing the server sees and are skipped. So a view tick sends every callback listening on ``interval-view`` (the
  landscape's), and the end of a run (``store-run.data`` changes) fires whatever listens on it.
- *Latency* of a tick's requests is from when its clock fired (the timer's own schedule, not when
  a thread got to it) to the answer: ``tick`` for the training tick, ``view`` for each request of
  a view tick, ``landscape`` for the view answers that carry a new contour or 3-D surface.

**Real pages** (``--pages N``): N headless Chromium pages (``/usr/bin/chromium`` through
Playwright, run at ``nice 19``: a class's browsers draw on the students' laptops) open with the
simulated ones; a script installed before the page's own presses Train the moment its button is
visible and records the status text and the curve graph's length (``gd.data[0].x.length``)
every 25 ms. Per page: whether the press was lost (the status still says "ready" 10 s after the
press, or the run never says "finished"), how often per second the curve grew (growths from the
press to "finished", over that time), and the time from Train to finished.

Prints the latencies (p50/p95), errors, runs finished and when, lost presses, curve updates per
second, overtaken answers, page-open time, the CPU time of the server, this client and the
browsers, and the server's memory (PSS of its processes) at start, at its peak and after the
runs. The last line is JSON with at least ``users errors finished tick_p95_ms landscape_p95_ms
finish_p95_s pages pages_finished page_curve_updates_per_s_min lost_presses``; with
``--repeat K`` every round is printed and the last line adds the rounds up (sums of counts,
worst of latencies and rates).

Run it on the same machine as the server (it reads the server's memory and CPU from /proc).
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import random
import re
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psutil
from dash._utils import stringify_id

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import now, pct  # noqa: E402
from _machine import Settler  # noqa: E402
from _load_pages import RealPages, lost_press, page_line, said_ready  # noqa: E402
from _load_server import machine_busy, cpu_seconds, memory_mb, server_roots  # noqa: E402
from app.page import ids  # noqa: E402
from app.dash_protocol import Page, _walk, updates  # noqa: E402
from app.static import PLOTLY_PATH  # noqa: E402

BAD_WORDS = ("went wrong", "expired", "another session", "busy")
CONNECTIONS = 6  # a browser's connections per host (HTTP/1.1)
GATE_ARMED_S, GATE_GIVE_UP_S = 2.0, 45.0  # assets/lossviz.js: ARMED_MS, GIVE_UP_MS
POLL_S = 0.025  # assets/lossviz.js: the page's timer reads its clocks every POLL_MS
# --draw-ms: a page whose main thread draws (software WebGL on a weak laptop). After a long task a
# queued timer runs TIMER_S after it ends, an answer's body is read BODY_S after its fetch resolved.
TIMER_S, BODY_S = 0.001, 0.005
# dcc's components whose code loads lazily, and the chunk each one loads when it mounts.
ASYNC_CHUNKS = {"Dropdown": "async-dropdown.js", "Upload": "async-upload.js", "Slider": "async-slider.js",
                "RangeSlider": "async-slider.js", "Graph": "async-graph.js"}
DCC_PATH = "_dash-component-suites/dash/dcc/"



class Transport:
    """One page's HTTP/1.1 keep-alive connections, at most CONNECTIONS of them (more requests
    wait for one, as in a browser), gzip accepted as a browser does. A request that fails on a
    reused connection before any answer is sent again once on a new one (what browsers do when
    the server closed an idle keep-alive connection); ``retried`` counts those."""

    HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept": "*/*", "Connection": "keep-alive"}

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        u = urlparse(self.base)
        self.host, self.port, self.prefix = u.hostname, u.port or 80, u.path
        self.idle: list[http.client.HTTPConnection] = []
        self.slots = threading.BoundedSemaphore(CONNECTIONS)
        self.lock = threading.Lock()
        self.retried = 0

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                decode: bool = True):
        """(status, body): ``decode=False`` keeps the body as it came over the wire (its size)."""
        with self.slots:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            for attempt in (0, 1):
                reused = conn is not None
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                try:
                    conn.request(method, self.prefix + path, body=body, headers=dict(self.HEADERS, **(headers or {})))
                    r = conn.getresponse()
                    data = r.read()
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    conn.close()
                    conn = None
                    if not reused or attempt:
                        raise
                    with self.lock:
                        self.retried += 1
            if r.will_close:
                conn.close()
            else:
                with self.lock:
                    self.idle.append(conn)
        if decode and r.getheader("Content-Encoding") == "gzip":
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        return r.status, data

    def get(self, path: str, decode: bool = True):
        return self.request("GET", path, decode=decode)

    def get_json(self, path: str):
        status, data = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return json.loads(data)

    def post_json(self, path: str, body):
        status, data = self.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        return status, (json.loads(data) if status == 200 and data else None)

    def close(self) -> None:
        with self.lock:
            for conn in self.idle:
                conn.close()
            self.idle.clear()


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tick_ms: list = field(default_factory=list)
    view_ms: list = field(default_factory=list)
    landscape_ms: list = field(default_factory=list)
    open_ms: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    requests: int = 0
    dropped: dict = field(default_factory=dict)  # callback name -> answers overtaken and dropped
    wire_bytes: int = 0

    def add(self, kind: str, ms: float) -> None:
        with self.lock:
            getattr(self, kind).append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def count(self, name: str, dropped: bool) -> None:
        with self.lock:
            self.requests += 1
            if dropped:
                self.dropped[name] = self.dropped.get(name, 0) + 1


class Clock:
    """One timer thread for every simulated page: calls ``fn(t)`` at monotonic time ``t``."""

    def __init__(self) -> None:
        self.heap: list = []
        self.cv = threading.Condition()
        self.seq = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True, name="bench-clock")
        self.thread.start()

    def at(self, t: float, fn) -> None:
        with self.cv:
            self.seq += 1
            heapq.heappush(self.heap, (t, self.seq, fn))
            self.cv.notify()

    def stop(self) -> None:
        with self.cv:
            self.stopped = True
            self.cv.notify()

    def _run(self) -> None:
        while True:
            with self.cv:
                while not self.stopped and (not self.heap or self.heap[0][0] > now()):
                    self.cv.wait(None if not self.heap else max(0.0, self.heap[0][0] - now()))
                if self.stopped:
                    return
                t, _, fn = heapq.heappop(self.heap)
            try:
                fn(t)
            except Exception as exc:  # noqa: BLE001 - a bug here must not stop every page's clock
                print(f"clock: {type(exc).__name__}: {exc}", file=sys.stderr)


class Callback:
    """One entry of /_dash-dependencies, its ids made concrete against the layout."""

    def __init__(self, index: int, dep: dict, page: Page, clientside: dict) -> None:
        self.i, self.dep = index, dep
        self.outputs = []  # [(component id string, property with any @hash)], in the answer's order
        for o in Page.outputs_of(dep):
            self.outputs += [(cid, o["property"]) for cid in _concrete(o["id"], page)]
        self.inputs = {(cid, s["property"]) for s in dep["inputs"] for cid in _concrete(s["id"], page)}
        self.name = ",".join(sorted({f"{c}.{p.split('@')[0]}" for c, p in self.outputs}))[:80]
        present = all(_is_pattern(s["id"]) or s["id"] in page.props for s in dep["inputs"] + dep["state"])
        self.initial = present and not dep.get("prevent_initial_call")
        self.kind, self.tick = "server", None
        fn = dep.get("clientside_function")
        if fn:
            code = clientside.get(fn.get("function_name"), "")
            if "whenCalm" in code:
                self.kind = "pass"  # its input, once the page is calm: a simulated page always is
            else:
                self.kind = "skip"  # changes only what the page shows (styles, notes)


def _is_pattern(id_text: str) -> bool:
    return id_text.startswith("{") and any(isinstance(v, list) for v in json.loads(id_text).values())


def _concrete(id_text: str, page: Page) -> list[str]:
    if not id_text.startswith("{"):
        return [id_text]
    pattern = json.loads(id_text)
    if not any(isinstance(v, list) for v in pattern.values()):
        return [stringify_id(pattern)]
    return [stringify_id(c) for c in page._matching(pattern)]


@dataclass
class Request:
    changed: set
    initial: bool
    at: float  # first requested
    dropped: bool = False
    tick: tuple | None = None  # (tick id, its clock's firing time, request number)
    sent: float = 0.0


class _Given:
    """A transport that hands Page the layout already fetched."""

    def __init__(self, layout) -> None:
        self.layout = layout

    def get_json(self, path):
        return self.layout


class User:
    """One simulated page: Dash's renderer and the app's client-side code, over HTTP.

    ``start()`` opens the page in a thread of its own and presses Train ``press_delay`` s after
    the button shows; from then on the page runs on ``clock`` and its own six connections until
    ``close()``."""

    def __init__(self, base: str, stats: Stats, clock: Clock, widgets: dict | None = None,
                 speed: str | None = None, press_delay: float = 0.0, draw_s: float = 0.0) -> None:
        self.base, self.stats, self.clock = base, stats, clock
        self.widgets = dict(widgets or {})
        if speed:
            self.widgets[(ids.SPEED, "value")] = speed
        self.press_delay = press_delay
        self.transport = Transport(base)
        self.http = ThreadPoolExecutor(max_workers=CONNECTIONS)
        self.lock = threading.RLock()
        self.closed = False
        self.requested: dict[int, Request] = {}
        self.executing: dict[int, list[Request]] = {}
        self.gate_out: dict[str, dict[int, float]] = {}
        self.gate_armed: dict[str, float | None] = {}
        self.tick_fired: dict[str, float] = {}  # tick id -> when the clock that let it through fired
        self.interval_gen: dict[str, int] = {}
        self.n_req = 0
        self.opened_at = self.visible_at = self.pressed_at = None
        self.statuses: list[tuple[float, str]] = []
        self.grows: list[float] = []
        self.finished_at = None  # s from the press to "finished"
        self.first_point = None  # s from the press to the first curve points
        self.failed = None
        self.draw_s = draw_s
        self.busy_until = 0.0  # the page's main thread draws until then (draw_s > 0 only)
        self.trace = False  # print every callback request and answer (--trace: the first page's)
        self.thread = threading.Thread(target=self._open_safely, daemon=True)

    # -- page open -------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def _open_safely(self) -> None:
        try:
            self.open()
        except Exception as exc:  # noqa: BLE001 - a page that fails to open is an error, not a crash
            self.failed = f"page open: {type(exc).__name__}: {exc}"
            self.stats.error(self.failed)

    def open(self) -> None:
        t0 = self.opened_at = now()
        status, html = self.transport.get("/")
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        html = html.decode()
        end_id = re.search(r'"end_id":"([^"]+)"', html)
        self.cb_path = "/_dash-update-component" + (f"?endId={end_id.group(1)}" if end_id else "")
        clientside = dict(re.findall(r'ns\["([0-9a-f]+)"\] = (.*?);\n\}\)\(\);', html, re.S))
        urls = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link[^>]*href="([^"]+)"', html)
        self._fetch_all([u for u in urls if u.startswith("/")])  # the scripts run, then the renderer
        later = [self.http.submit(self._asset, "/" + PLOTLY_PATH)]  # plotly-early.js: beside the layout
        layout_f = self.http.submit(self.transport.get_json, "/_dash-layout")
        deps_f = self.http.submit(self.transport.get_json, "/_dash-dependencies")
        layout, deps = layout_f.result(), deps_f.result()
        page = Page(_Given(layout), deps)
        page.transport = self.transport
        types = {}
        for node in _walk(layout):
            types.setdefault(node.get("type"), []).append(node["props"])
        chunks = sorted({ASYNC_CHUNKS[t] for t in types if t in ASYNC_CHUNKS})
        with self.lock:
            self.page = page
            self.cbs = [Callback(i, d, page, clientside) for i, d in enumerate(deps)]
            self.by_input: dict[tuple, list[Callback]] = {}
            for cb in self.cbs:
                for key in cb.inputs:
                    self.by_input.setdefault(key, []).append(cb)
            self.touched = {cb.i: self._downstream(cb) for cb in self.cbs}
            self.tracked = {k for cb in self.cbs for k in cb.inputs} | {
                (cid, s["property"]) for cb in self.cbs for s in cb.dep["state"] for cid in _concrete(s["id"], page)}
            self.intervals = {stringify_id(p["id"]) for p in types.get("Interval", []) if "id" in p}
            # assets/lossviz.js's timer: which clock feeds which ticks (app.layout.clocks)
            self.clocks = page.value(ids.STORE_CLOCKS, "data") or {}
            self.clock_of_tick = {t: c for c, spec in self.clocks.items() for t in spec["ticks"]}
            # the direct tick's callback: the one whose output the train clock's "direct" names
            direct = [".".join(spec["direct"]["output"]) for spec in self.clocks.values() if spec.get("direct")]
            self.direct_cbs = {cb.i: spec["direct"] for cb in self.cbs for spec in self.clocks.values()
                               if spec.get("direct") and f"{cb.outputs[0][0]}.{cb.outputs[0][1]}" in direct}
            for (cid, prop), value in self.widgets.items():  # typed into the page before it starts
                page.props.setdefault(cid, {})[prop] = value
            self.statuses.append((now(), str(page.value(ids.STATUS, "children"))))
            self._mount(types.get("Location", []))
        self.visible_at = now()
        self.stats.add("open_ms", 1000 * (self.visible_at - t0))
        later += [self.http.submit(self._asset, "/" + DCC_PATH + c) for c in chunks]
        self.clock.at(self.visible_at + self.press_delay, lambda t: self.press(ids.TRAIN))
        wait(later)

    def _asset(self, path: str) -> None:
        status, body = self.transport.get(path, decode=False)
        with self.stats.lock:
            self.stats.wire_bytes += len(body)
        if status != 200:
            self.stats.error(f"GET {path} answered {status}")

    def _fetch_all(self, paths: list[str]) -> None:
        for f in [self.http.submit(self._asset, p) for p in paths]:
            f.result()

    def _downstream(self, cb: Callback) -> set:
        """Every output this callback's answer can change, directly or through the callbacks it
        fires (as dash-renderer's getAllSubsequentOutputsForCallback)."""
        touched, todo = set(), [cb]
        while todo:
            new = {o for c in todo for o in c.outputs} - touched
            touched |= new
            todo = [c for o in new for c in self.by_input.get(o, [])]
        return touched

    def _mount(self, locations: list[dict]) -> None:
        for cb in self.cbs:
            if cb.initial:
                self._request(cb, set(), initial=True)
        url = urlparse(self.base + "/")
        for props in locations:  # dcc.Location reports the address it mounted with
            cid = stringify_id(props["id"])
            mounted = {"pathname": url.path or "/", "search": "", "hash": "", "href": self.base + "/"}
            self._set({cid: {k: v for k, v in mounted.items() if props.get(k) != v}}, None)
        for cid in self.intervals:  # the ones enabled in the layout start with the page
            if not self.page.props.get(cid, {}).get("disabled"):
                self._observe((cid, "disabled"), False, now())
        self._pump()

    # -- the user --------------------------------------------------------------------------
    def press(self, button: str) -> None:
        with self.lock:
            if self.closed:
                return
            props = self.page.props.setdefault(button, {})
            if button == ids.TRAIN and self.pressed_at is None:
                self.pressed_at = now()
            self._set({button: {"n_clicks": (props.get("n_clicks") or 0) + 1,
                                "n_clicks_timestamp": int(time.time() * 1000)}}, None)
            self._pump()

    def close(self) -> None:
        with self.lock:
            self.closed = True
        self.http.shutdown(wait=False, cancel_futures=True)
        self.transport.close()

    @property
    def quiet(self) -> bool:
        with self.lock:
            return not self.requested and not any(self.executing.values())

    @property
    def done(self) -> bool:
        """The run finished (or the page could not open) and the page has nothing left to ask."""
        return self.failed is not None or (self.finished_at is not None and self.quiet)

    # -- the renderer ----------------------------------------------------------------------
    def _request(self, cb: Callback, changed: set, initial: bool = False) -> None:
        req = self.requested.get(cb.i)
        if req is None:
            self.requested[cb.i] = Request(set(changed), initial, now())
        else:  # not sent yet: one request, the changes merged (an initial call gives way)
            req.changed |= changed
            req.initial = req.initial and initial
        for old in self.executing.pop(cb.i, []):  # a newer call overtakes the one in flight
            old.dropped = True

    def _pump(self) -> None:
        while self.requested and not self.closed:
            pending = set(self.requested) | {i for i, reqs in self.executing.items() if reqs}
            blocked = set().union(*(self.touched[i] for i in pending))
            ready = [i for i in self.requested
                     if not ((self.cbs[i].inputs - set(self.cbs[i].outputs)) & blocked)]
            if not ready and not any(self.executing.values()):
                ready = [next(iter(self.requested))]  # a loop: the renderer starts with the first
            if not ready:
                return
            for i in ready:
                req = self.requested.pop(i)
                cb = self.cbs[i]
                if cb.kind == "server":
                    self._send(cb, req)
                else:
                    self._clientside(cb, req)

    def _send(self, cb: Callback, req: Request) -> None:
        changed = sorted(req.changed)
        body = self.page.body(cb.dep, {}, changed=changed)
        for tick in self.clock_of_tick:  # assets/lossviz.js: a request a tick fires is counted out
            if f"{tick}.n_intervals" in changed:
                self.n_req += 1
                self.gate_out.setdefault(tick, {})[self.n_req] = now()
                self.gate_armed[tick] = None
                req.tick = (tick, self.tick_fired.get(tick, now()), self.n_req)
        self.executing.setdefault(cb.i, []).append(req)
        req.sent = now()
        if self.trace:
            print(f"{req.sent - self.opened_at:7.3f} -> {cb.name[:60]} {changed}", flush=True)
        self.http.submit(self._post, cb, req, body)

    def _post(self, cb: Callback, req: Request, body: dict) -> None:
        error = None
        try:
            status, data = self.transport.post_json(self.cb_path, body)
        except Exception as exc:  # noqa: BLE001 - a failed request is an error to count
            status, data, error = None, None, f"{type(exc).__name__}: {exc}"
        with self.lock:
            if self.busy_until > now():  # the page's main thread is drawing: the answer waits
                self.clock.at(self.busy_until, lambda t: self._resolved(cb, req, status, data, error, True))
            else:
                self._resolved(cb, req, status, data, error, False)

    def _resolved(self, cb: Callback, req: Request, status, data, error, waited: bool) -> None:
        """The request's fetch resolves: the gate counts it answered; the renderer applies the
        answer once it has read it (at once on an idle page; BODY_S later after a long task,
        when a tick's timer, queued behind the same task, may go first)."""
        t = now()
        with self.lock:
            if req.tick:
                self.gate_out.get(req.tick[0], {}).pop(req.tick[2], None)
            if self.closed:
                return
            start = req.tick[1] if req.tick else req.sent
            ms = 1000 * (t - start)
            if req.tick and req.tick[0] == ids.INTERVAL_TRAIN:
                self.stats.add("tick_ms", ms)
            elif req.tick and req.tick[0] == ids.INTERVAL_VIEW:
                self.stats.add("view_ms", ms)
            if error or status not in (200, 204):
                self.stats.error(error or f"{cb.name} answered {status}")
            if waited:
                self.clock.at(t + BODY_S, lambda _: self._apply(cb, req, status, data, ms))
            else:
                self._apply(cb, req, status, data, ms)

    def _apply(self, cb: Callback, req: Request, status, data, ms: float) -> None:
        with self.lock:
            if self.closed:
                return
            self.stats.count(cb.name, req.dropped)
            if self.trace:
                print(f"{now() - self.opened_at:7.3f} <- {cb.name[:60]} {status}{' DROPPED' if req.dropped else ''}"
                      f" {ms:.0f} ms", flush=True)
            if req.dropped:
                return
            reqs = self.executing.get(cb.i, [])
            if req in reqs:
                reqs.remove(req)
            if status == 200:
                up = updates(data)
                if cb.i in self.direct_cbs:
                    up = self._direct_updates(up, self.direct_cbs[cb.i])
                if ids.GRAPH_CONTOUR in up or ids.GRAPH_SURFACE in up:
                    if any(o[0] == ids.GRAPH_CONTOUR and "@" not in o[1] for o in cb.outputs):
                        self.stats.add("landscape_ms", ms)
                if self.draw_s:  # drawing blocks the page: a 3-D surface draw_s, a contour an eighth
                    cost = sum(self.draw_s * (1.0 if "surface" in cid else 0.125)
                               for cid, props in up.items() if "figure" in props and "graph-" in cid
                               and ("surface" in cid or "contour" in cid))
                    if cost:
                        self.busy_until = max(now(), self.busy_until) + cost
                self._set(up, cb)
            self._pump()

    def _clientside(self, cb: Callback, req: Request) -> None:
        value = lambda key: self.page.props.get(key[0], {}).get(key[1])  # noqa: E731
        if cb.kind == "pass":
            cid, prop = cb.outputs[0]
            self._set({cid: {prop: value(next(iter(cb.inputs)))}}, cb)

    def _direct_updates(self, up: dict, direct: dict) -> dict:
        """A direct tick's answer as the page applies it (assets/lossviz.js, LOSSVIZ_STREAM):
        applyStream on the stream with the run and cursor the page holds now, each result to its
        property; side updates (a message) as they are."""
        (run_id, run_prop), (cursor_id, cursor_prop) = direct["state"][:2]
        out_id, out_prop = direct["output"]
        stream = up.pop(out_id, {}).get(out_prop)
        if stream is None:
            return up
        results = self._apply_stream(stream, self.page.props.get(cursor_id, {}).get(cursor_prop),
                                     self.page.props.get(run_id, {}).get(run_prop))
        for (cid, prop), v in zip(direct["apply"], results):
            if v is not None:
                up.setdefault(cid, {})[prop] = v
        return up

    def _gate(self, tick: str) -> bool:
        """assets/lossviz.js (LOSSVIZ_TICKS.busy): pass the tick only when the last one's requests are all in."""
        t = now()
        armed = self.gate_armed.get(tick)
        if armed is not None and t - armed < GATE_ARMED_S:
            return False
        out = self.gate_out.setdefault(tick, {})
        for n, sent in list(out.items()):
            if t - sent < GATE_GIVE_UP_S:
                return False
            del out[n]
        self.gate_armed[tick] = t
        return True

    @staticmethod
    def _apply_stream(stream, cursor, run) -> list:
        """window.lossviz.applyStream (None: no_update): [extendData, cursor, status, run,
        train clock disabled, view clock disabled]."""
        out = [None] * 6
        if not stream or not run or stream.get("run_id") != run.get("run_id"):
            return out
        if cursor and stream["run_id"] == cursor.get("run_id") and isinstance(cursor.get("n"), list):
            counts, grew = list(cursor["n"]), False
            for r, s in enumerate(stream["runs"][:len(counts)]):
                skip = counts[r] - s["start"]
                count = len(s["x"][0]) - skip
                if skip < 0 or count <= 0:
                    continue
                counts[r] += count
                grew = True
            if grew:
                out[0] = True  # the points themselves are not kept
                out[1] = {"run_id": cursor["run_id"], "n": counts}
        if stream["seq"] != (run.get("seq") or 0):
            return out
        out[2] = stream["status"]
        if stream["done"]:
            out[3] = dict(run, running=False, version=stream.get("version"))
            out[4] = out[5] = True
        return out

    def _set(self, up: dict, source: Callback | None) -> None:
        """Props changed by an answer, a click or a timer: keep them, note what the page shows,
        and fire every callback listening (the source itself excepted)."""
        t = now()
        fired = []
        for cid, props in up.items():
            if cid.startswith("{"):
                cid = stringify_id(json.loads(cid))
            for prop, v in props.items():
                prop = prop.split("@")[0]
                key = (cid, prop)
                if isinstance(v, dict) and "__dash_patch_update" in v:
                    v = _patched(self.page.props.get(cid, {}).get(prop), v)
                if key in self.tracked or cid in self.intervals:
                    self.page.props.setdefault(cid, {})[prop] = v
                self._observe(key, v, t)
                fired.append(key)
        for key in fired:
            for cb in self.by_input.get(key, []):
                if cb is not source:
                    self._request(cb, {f"{key[0]}.{key[1]}"})

    def _observe(self, key: tuple, v, t: float) -> None:
        cid, prop = key
        if cid == ids.STATUS and prop == "children":
            text = v if isinstance(v, str) else json.dumps(v)
            self.statuses.append((t, text))
            if any(w in text for w in BAD_WORDS):
                self.stats.error(text[:200])
            if self.pressed_at is not None and self.finished_at is None and "finished" in text:
                self.finished_at = t - self.pressed_at
        elif cid == ids.GRAPH_CURVES and prop == "extendData" and v:
            self.grows.append(t)
            if self.pressed_at is not None and self.first_point is None:
                self.first_point = t - self.pressed_at
        elif cid == ids.VIEW_ERROR and prop == "children" and v:
            self.stats.error(str(v)[:200])
        elif cid in self.intervals and prop in ("disabled", "interval"):
            self.interval_gen[cid] = self.interval_gen.get(cid, 0) + 1
            props = self.page.props.get(cid, {})
            if not props.get("disabled"):
                gen = self.interval_gen[cid]
                self.clock.at(t + (props.get("interval") or 1000) / 1000, lambda ft: self._interval(cid, gen, ft))

    def _interval(self, cid: str, gen: int, fired: float) -> None:
        """dcc.Interval: n_intervals goes up every `interval` ms while it is enabled. The page's
        clocks never fire (max_intervals 0): the page's timer passes their ticks on (_clock)."""
        with self.lock:
            props = self.page.props.get(cid, {})
            if self.closed or self.interval_gen.get(cid) != gen or props.get("disabled"):
                return
            if self.busy_until > now():  # a timer fires once the page's long task is over
                self.clock.at(self.busy_until + TIMER_S, lambda ft: self._interval(cid, gen, fired))
                return
            step = (props.get("interval") or 1000) / 1000
            if cid in self.clocks:
                self._clock(cid, gen, fired, step)
                return
            n = (props.get("n_intervals") or 0) + 1
            if props.get("max_intervals", -1) not in (-1, None) and n > props["max_intervals"]:
                return
            self._set({cid: {"n_intervals": n}}, None)
            self._pump()
            self.clock.at(max(fired + step, now()), lambda ft: self._interval(cid, gen, ft))

    def _clock(self, cid: str, gen: int, due: float, step: float) -> None:
        """assets/lossviz.js's timer: the clock's tick is passed on once the last one is answered
        (read again every POLL_S until then), and the next one is due a period later."""
        tick = self._tick_of(cid)
        if not self._gate(tick):
            self.clock.at(now() + POLL_S, lambda ft: self._interval(cid, gen, due))
            return
        self.tick_fired[tick] = max(due, now() - POLL_S)  # the timer's read that let it through
        n = (self.page.props.get(tick, {}).get("n_intervals") or 0) + 1
        direct = [i for i, d in self.direct_cbs.items() if self.clocks[cid].get("direct") is d]
        if direct:  # straight to the server, beside the renderer's queue
            self.page.props.setdefault(tick, {})["n_intervals"] = n
            self._send(self.cbs[direct[0]], Request({f"{tick}.n_intervals"}, False, now()))
        else:
            self._set({tick: {"n_intervals": n}}, None)
            self._pump()
        self.clock.at(now() + step, lambda ft: self._interval(cid, gen, ft))

    def _tick_of(self, clock: str) -> str:
        """The tick a clock feeds; the view clock's is the one of the view on screen."""
        spec = self.clocks[clock]
        if not spec.get("views"):
            return spec["ticks"][0]
        shown = self.page.value(spec["view"], "value")
        return spec["ticks"][spec["views"].index(shown) if shown in spec["views"] else 0]

    # -- results ---------------------------------------------------------------------------
    def lost(self) -> bool:
        return lost_press(self.pressed_at, self.statuses, self.finished_at)

    def curve_rate(self) -> float | None:
        if self.pressed_at is None or self.finished_at is None or self.finished_at <= 0:
            return None
        end = self.pressed_at + self.finished_at
        return sum(1 for g in self.grows if self.pressed_at <= g <= end) / self.finished_at


def _patched(old, patch: dict):
    """A dash Patch applied to a copy of a kept value (only what the renderer does for these)."""
    value = json.loads(json.dumps(old)) if old is not None else {}
    for op in patch.get("operations", []):
        *path, last = op["location"] or [None]
        target = value
        for k in path:
            target = target[k]
        p = op.get("params", {})
        name = op["operation"]
        if last is None:
            continue
        if name == "Assign":
            target[last] = p.get("value")
        elif name == "Delete":
            del target[last]
        elif name == "Merge":
            target[last].update(p.get("value") or {})
        elif name in ("Extend", "Append"):
            getattr(target[last], name.lower())(p.get("value"))
    return value


# -- real pages --------------------------------------------------------------------------------


def simulate(url: str, n_users: int, timeout_s: float, settle_s: float, widgets: dict | None = None,
             speed: str | None = None, n_pages: int = 0, press_jitter: float = 0.5, ramp_s: float = 0.0,
             workers_too: bool = False, seed: int | None = None, trace: bool = False, draw_s: float = 0.0) -> dict:
    rng = random.Random(seed)
    stats, clock = Stats(), Clock()
    roots = server_roots(url)
    if not roots:
        raise SystemExit(f"nothing listens at {url} on this machine (the bench reads the server's processes)")
    me = psutil.Process()
    mem_start, cpu_start = memory_mb(url, workers_too, roots), cpu_seconds(url, workers_too, roots)
    machine_start = machine_busy()
    my_cpu = sum(me.cpu_times()[:2])
    peak = [mem_start]
    stop = threading.Event()

    def watch_memory():
        while not stop.wait(1.0):
            peak[0] = max(peak[0], memory_mb(url, workers_too, roots))

    threading.Thread(target=watch_memory, daemon=True).start()
    pages = RealPages(url, n_pages, timeout_s) if n_pages else None
    if pages:
        pages.start()
        pages.ready.wait(60)  # the browser is up and its pages are opening: the class starts now
    t0 = now()
    users = [User(url, stats, clock, widgets, speed, press_delay=rng.uniform(0, press_jitter), draw_s=draw_s)
             for _ in range(n_users)]
    if users:
        users[0].trace = trace
    for k, u in enumerate(users):
        clock.at(t0 + (ramp_s * k / max(1, n_users - 1) if ramp_s else 0.0), lambda t, u=u: u.start())
    deadline = t0 + ramp_s + timeout_s
    while now() < deadline and not all(u.done for u in users):
        time.sleep(0.1)
    for u in users:
        u.close()
    clock.stop()
    if pages:
        pages.join(timeout_s + 60)
    server_cpu = cpu_seconds(url, workers_too, roots) - cpu_start
    client_cpu, wall = sum(me.cpu_times()[:2]) - my_cpu, now() - t0
    machine_end = machine_busy()
    busy_s = others_s = busy_frac = float("nan")
    if machine_start and machine_end:  # all CPU time spent on the machine, and what was not ours
        busy_s = machine_end[0] - machine_start[0]
        busy_frac = busy_s / ((machine_end[1] - machine_start[1]) * (os.cpu_count() or 1))
        others_s = busy_s - server_cpu - client_cpu - (pages.cpu_s if pages else 0.0)
    time.sleep(settle_s)
    stop.set()
    finish = [u.finished_at for u in users if u.finished_at is not None]
    first = [u.first_point for u in users if u.first_point is not None]
    rates = [r for r in (u.curve_rate() for u in users) if r is not None]
    sim_lost = sum(u.lost() for u in users)
    still_ready = sum(said_ready(u.pressed_at, u.statuses) for u in users)
    pr = pages.results if pages else []
    page_rates = [p["curve_updates_per_s"] for p in pr if p["curve_updates_per_s"] is not None]
    page_lost = sum(p["lost"] for p in pr) + (n_pages - len(pr))
    still_ready += sum(p["still_ready"] for p in pr) + (n_pages - len(pr))
    page_errors = (pages.bad + ([pages.error] if pages.error else [])) if pages else []
    r = {"users": n_users, "errors": len(stats.errors) + len(page_errors), "finished": len(finish),
         "tick_p50_ms": round(pct(stats.tick_ms, 50), 1), "tick_p95_ms": round(pct(stats.tick_ms, 95), 1),
         "tick_max_ms": round(max(stats.tick_ms, default=float("nan")), 1),
         "landscape_p50_ms": round(pct(stats.landscape_ms, 50), 1),
         "landscape_p95_ms": round(pct(stats.landscape_ms, 95), 1),
         "view_p95_ms": round(pct(stats.view_ms, 95), 1),
         "landscapes_per_user": round(len(stats.landscape_ms) / max(1, n_users), 1),
         "first_point_p95_s": round(pct(first, 95), 2),
         "finish_p50_s": round(pct(finish, 50), 2), "finish_p95_s": round(pct(finish, 95), 2),
         "finish_max_s": round(max(finish, default=float("nan")), 2),
         "requests": stats.requests,
         "server_cpu_s": round(server_cpu, 1), "client_cpu_s": round(client_cpu, 1), "wall_s": round(wall, 1),
         "mem_start_mb": round(mem_start), "mem_peak_mb": round(peak[0]),
         "mem_after_mb": round(memory_mb(url, workers_too, roots)),
         "pages": n_pages, "pages_finished": sum(p["finish_s"] is not None for p in pr),
         "page_curve_updates_per_s_min": round(min(page_rates), 2) if page_rates else None,
         "page_finish_max_s": round(max((p["finish_s"] for p in pr if p["finish_s"] is not None),
                                        default=float("nan")), 2),
         "lost_presses": sim_lost + page_lost, "page_lost_presses": page_lost, "sim_lost_presses": sim_lost,
         "still_ready_after_10s": still_ready,
         "curve_updates_per_s_min": round(min(rates), 2) if rates else None,
         "curve_updates_per_s_p50": round(pct(rates, 50), 2) if rates else None,
         "dropped_answers": sum(stats.dropped.values()),
         "open_p95_s": round(pct(stats.open_ms, 95) / 1000, 2),
         "open_kib_per_user": round(stats.wire_bytes / 1024 / max(1, n_users)),
         "retried": sum(u.transport.retried for u in users),
         "pages_cpu_s": round(pages.cpu_s, 1) if pages else 0.0,
         "others_cpu_s": round(max(0.0, others_s), 1),
         "machine_busy_pct": round(100 * busy_frac) if busy_frac == busy_frac else None,
         "error_samples": sorted(set(stats.errors + page_errors))[:5],
         "dropped_by_callback": dict(stats.dropped), "page_results": pr}
    return r


SUMS = ("users", "pages", "errors", "finished", "requests", "pages_finished", "lost_presses", "page_lost_presses",
        "sim_lost_presses", "still_ready_after_10s", "dropped_answers", "retried")
FLOAT_SUMS = ("server_cpu_s", "client_cpu_s", "wall_s", "pages_cpu_s", "others_cpu_s")
WORST = ("tick_p50_ms", "tick_p95_ms", "tick_max_ms", "landscape_p50_ms", "landscape_p95_ms", "view_p95_ms",
         "first_point_p95_s", "finish_p50_s", "finish_p95_s", "finish_max_s", "page_finish_max_s", "open_p95_s",
         "mem_peak_mb", "machine_busy_pct")
LOWEST = ("page_curve_updates_per_s_min", "curve_updates_per_s_min", "curve_updates_per_s_p50", "landscapes_per_user")


def _aggregate(rounds: list[dict]) -> dict:
    """Rounds added up: counts summed, latencies and memory at their worst, rates at their lowest."""
    if len(rounds) == 1:
        return rounds[0]
    out = dict(rounds[-1])

    def nums(k):
        return [r[k] for r in rounds if isinstance(r.get(k), (int, float)) and r[k] == r[k]]

    for k in SUMS:
        out[k] = sum(nums(k))
    for k in FLOAT_SUMS:
        out[k] = round(sum(nums(k)), 1)
    for k in WORST:
        out[k] = max(nums(k)) if nums(k) else float("nan")
    for k in LOWEST:
        out[k] = min(nums(k)) if nums(k) else None
    out["mem_start_mb"], out["mem_after_mb"] = rounds[0]["mem_start_mb"], rounds[-1]["mem_after_mb"]
    out["repeats"] = len(rounds)
    out["error_samples"] = sorted({e for r in rounds for e in r["error_samples"]})[:5]
    out["dropped_by_callback"], out["page_results"] = {}, []
    return out


def report(r: dict) -> None:
    print(f"users {r['users']} · errors {r['errors']} · runs finished {r['finished']}/{r['users']} "
          f"· time to finish p50 {r['finish_p50_s']} s, p95 {r['finish_p95_s']} s, max {r['finish_max_s']} s "
          f"· first curve point p95 {r['first_point_p95_s']} s · page open p95 {r['open_p95_s']} s "
          f"({r['open_kib_per_user']} KiB on the wire)")
    print(f"tick latency (from its clock) p50 {r['tick_p50_ms']} ms, p95 {r['tick_p95_ms']} ms, "
          f"max {r['tick_max_ms']} ms · view p95 {r['view_p95_ms']} ms · landscape p50 {r['landscape_p50_ms']} ms, "
          f"p95 {r['landscape_p95_ms']} ms "
          f"({r['landscapes_per_user']} per user) · {r['requests']} requests, {r['dropped_answers']} answers "
          f"overtaken and dropped · curve updates/s per simulated page: min {r['curve_updates_per_s_min']}, "
          f"p50 {r['curve_updates_per_s_p50']}")
    if r["pages"]:
        print(f"real pages {r['pages']}: finished {r['pages_finished']} · curve updates/s min "
              f"{r['page_curve_updates_per_s_min']} · Train to finished max {r['page_finish_max_s']} s")
    print(f"lost presses {r['lost_presses']} (real pages {r['page_lost_presses']}, simulated {r['sim_lost_presses']}; "
          f"{r['still_ready_after_10s']} of them still said 'ready' 10 s after the press, the others never finished)"
          f" · {r['retried']} requests sent again after the server closed a kept-alive connection")
    print(f"server CPU {r['server_cpu_s']} s, this client's {r['client_cpu_s']} s, the browsers' "
          f"{r['pages_cpu_s']} s (nice 19), other work on the machine {r['others_cpu_s']} s, in {r['wall_s']} s "
          f"({r['machine_busy_pct']}% of the CPUs busy)")
    print(f"server memory: start {r['mem_start_mb']} MB, peak {r['mem_peak_mb']} MB, "
          f"after the runs {r['mem_after_mb']} MB")
    if r["error_samples"]:
        print("errors, e.g.: " + " | ".join(r["error_samples"]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--users", type=int, default=30, help="simulated pages")
    p.add_argument("--pages", type=int, default=0, help="real headless Chromium pages besides them")
    p.add_argument("--repeat", type=int, default=1, help="rounds, one after the other (fresh pages each)")
    p.add_argument("--timeout", type=float, default=90.0, help="stop waiting for runs after this many seconds")
    p.add_argument("--settle", type=float, default=5.0, help="seconds after the runs end before memory is read")
    p.add_argument("--press-jitter", type=float, default=0.5,
                   help="a simulated page presses Train up to this many seconds after the button shows")
    p.add_argument("--ramp", type=float, default=0.0, help="open the simulated pages over this many seconds")
    p.add_argument("--workers-too", action="store_true",
                   help="count every `lossviz worker` process on the machine as the server's (Celery mode)")
    p.add_argument("--quiet-budget", type=float, default=30.0,
                   help="before each round, wait up to this many seconds in all for other work to drop below "
                        "10%% of the CPUs")
    p.add_argument("--draw-ms", type=float, default=0.0,
                   help="simulated pages: main-thread time per 3-D surface drawn (a contour: an eighth), as on a "
                        "weak laptop's software WebGL (0.3-0.6 s); default 0, a page that never waits")
    p.add_argument("--seed", type=int)
    p.add_argument("--trace", action="store_true", help="print the first simulated page's requests and answers")
    p.add_argument("--samples", help="the Samples box (default: the page's)")
    p.add_argument("--epochs", help="the Epochs box (default: the page's)")
    p.add_argument("--hidden", help="hidden widths, e.g. 256,256 (default: the page's)")
    p.add_argument("--speed", choices=["slow", "normal", "fast", "max"], help="default: the page's")
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
    rounds = []
    settler = Settler(budget_s=args.quiet_budget)
    for k in range(args.repeat):
        settler.settle()
        r = simulate(args.url, args.users, args.timeout, args.settle, widgets, args.speed, args.pages,
                     args.press_jitter, args.ramp, args.workers_too, None if args.seed is None else args.seed + k,
                     args.trace, args.draw_ms / 1000)
        rounds.append(r)
        if args.repeat > 1:
            print(f"-- round {k + 1}/{args.repeat}")
        report(r)
        for i, pr in enumerate(r["page_results"]):
            print(f"  page {i + 1}: " + page_line(pr))
        if r["dropped_by_callback"]:
            print("  overtaken answers by callback: "
                  + ", ".join(f"{k} {v}" for k, v in r["dropped_by_callback"].items()))
        if args.repeat > 1:
            print(json.dumps(_public(r)))
    total = _aggregate(rounds)
    if args.repeat > 1:
        print(f"-- all {args.repeat} rounds")
        report(total)
    print(settler.summary().replace("timed calls", "rounds"))
    print(json.dumps(_public(total)))
    return 0


def _public(r: dict) -> dict:
    """The JSON line: no samples or per-page lists, NaN (nothing measured) as null."""
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()
            if k not in ("error_samples", "page_results", "dropped_by_callback")}


if __name__ == "__main__":
    sys.exit(main())
