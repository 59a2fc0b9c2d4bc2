"""Fixtures for the real-browser tests (``@pytest.mark.browser``): the served app and Chromium.

The app runs as a real server in a subprocess (``python -m app.main``) on a free port with its
own cache directory; Playwright drives Debian's ``/usr/bin/chromium`` (never a downloaded
browser). Every page is opened with the network closed except 127.0.0.1, and records console
errors, page errors, HTTP errors and any attempt to reach another host, so the tests can assert
that the page needs no CDN and no callback fails.

Playwright is imported inside the fixtures: the other test modules do not need it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}
LOCAL_HOST = "127.0.0.1"
# Every request to a host other than 127.0.0.1 is routed to the blocker (and recorded).
NOT_LOCAL = re.compile(r"^(https?|wss?)://(?!127\.0\.0\.1[:/])")
SKIP_REASON = f"{CHROMIUM} is missing: `make test` installs Debian's chromium first (`make browser`)"
# Chromium's software-WebGL performance notes are warnings, never errors; kept as a guard.
# Known and open (not yet fixed): a view's graphs mounted while their view is hidden are drawn by
# plotly.js at zero size, and now and then it sets an axis title at x = Infinity, which Chromium
# logs as an SVG attribute error (nothing on screen: the plot is redrawn when shown). Matched by
# its exact form only, so any other console error still fails a test.
BENIGN_CONSOLE = ("GL Driver Message", "GPU stall due to ReadPixels", "willReadFrequently",
                  'attribute transform: Trailing garbage, "rotate(-90,Infinity,',
                  'attribute x: Expected length, "Infinity"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL_HOST, 0))
        return s.getsockname()[1]


def _wait_until_answering(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the app did not answer at {url} within {timeout} s:\n{log_path.read_text()}")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``browser`` need Debian's Chromium; skip them (saying so) only without it."""
    no_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(no_chromium)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _serve_app(tmp: Path, env: dict, workers: int = 2):
    """Start ``python -m app.main`` (gunicorn, ``workers`` processes) on a free port."""
    port = _free_port()
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.main", "--host", LOCAL_HOST, "--port", str(port),
                                 "--workers", str(workers), "--cache-dir", str(tmp / "cache")], cwd=ROOT,
                                env=dict(env, PYTHONUNBUFFERED="1"), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{LOCAL_HOST}:{port}/"
    try:
        _wait_until_answering(url, proc, log_path)
    except Exception:
        _stop(proc)
        raise
    return url, proc


@pytest.fixture(scope="session")
def lossviz_url(tmp_path_factory):
    """The real app served by ``python -m app.main`` on a free port (embedded job runner)."""
    env = {k: v for k, v in os.environ.items() if k != "LOSSVIZ_REDIS_URL"}
    url, proc = _serve_app(tmp_path_factory.mktemp("lossviz-server"), env)
    try:
        yield url
    finally:
        _stop(proc)


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_MISSING = f"{REDIS_SERVER} is missing: `make test` installs Debian's redis-server first"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A private Redis server on a free port (no persistence), stopped at the end."""
    if not os.path.exists(REDIS_SERVER):  # the Celery path is part of the suite: its absence fails
        pytest.fail(REDIS_MISSING)
    tmp = tmp_path_factory.mktemp("redis")
    port = _free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--bind", LOCAL_HOST, "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)],
                            stdout=open(tmp / "redis.log", "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection((LOCAL_HOST, port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            _stop(proc)
            raise RuntimeError(f"redis-server did not start: {(tmp / 'redis.log').read_text()}")
        time.sleep(0.1)
    try:
        yield f"redis://{LOCAL_HOST}:{port}/0"
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def celery_worker(redis_url, tmp_path_factory):
    """One ``lossviz worker`` (Celery, thread pool) taking jobs from the test Redis."""
    tmp = tmp_path_factory.mktemp("worker")
    env = dict(os.environ, LOSSVIZ_REDIS_URL=redis_url, LOSSVIZ_CACHE_DIR=str(tmp / "cache"), PYTHONUNBUFFERED="1")
    log_path = tmp / "worker.log"
    proc = subprocess.Popen([sys.executable, "-m", "app.main", "worker", "--concurrency", "8"], cwd=ROOT, env=env,
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready" not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"lossviz worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    try:
        yield proc
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def lossviz_redis_url(redis_url, celery_worker, tmp_path_factory):
    """The real app with runs in Redis, trained by the Celery worker (the scale-out path)."""
    url, proc = _serve_app(tmp_path_factory.mktemp("lossviz-redis"), dict(os.environ, LOSSVIZ_REDIS_URL=redis_url))
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven by Playwright (one per session)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What a page did that a test may want to forbid."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return ([f"console error: {m}" for m in self.console_errors]
                + [f"page error: {m}" for m in self.page_errors]
                + [f"HTTP error: {m}" for m in self.http_errors]
                + [f"outside request: {m}" for m in self.outside_requests])


@pytest.fixture
def app_page(chromium, lossviz_url):
    """A fresh browser context at 1366x768 with the app loaded and only 127.0.0.1 reachable.

    Yields ``(page, log)``; ``log`` is a PageLog filled while the test runs. Any page opened
    this way is a new session of the app (its own run).
    """
    yield from open_page(chromium, lossviz_url)


@pytest.fixture
def redis_app_page(chromium, lossviz_redis_url):
    """Like ``app_page``, on the app whose runs live in Redis and train in a Celery worker."""
    yield from open_page(chromium, lossviz_redis_url)


# The page is up: the plots of the view on screen are drawn (a hidden graph, another view's or
# the 3-D view in 2-D display, is drawn only when it comes on screen: assets/lossviz.js).
PLOTS_DRAWN_JS = ("() => { const shown = [...document.querySelectorAll('.dash-graph')]"
                  ".filter(g => g.offsetParent !== null && g.clientHeight > 40);"
                  " return shown.length > 0 && shown.every(g => g.querySelector('.js-plotly-plot')); }")


def open_page(chromium, url):
    """A fresh context and page on ``url``, guarded and logged (a generator: yields (page, log))."""
    context = chromium.new_context(viewport=VIEWPORT, service_workers="block")
    log = PageLog()

    def block(route):
        if route.request.url not in log.outside_requests:
            log.outside_requests.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(NOT_LOCAL, block)
    page = context.new_page()

    def on_console(msg):
        if msg.type == "error" and not any(s in msg.text for s in BENIGN_CONSOLE):
            log.console_errors.append(msg.text)

    def on_request(req):
        log.requests.append(req.url)
        url = urlparse(req.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != LOCAL_HOST \
                and req.url not in log.outside_requests:
            log.outside_requests.append(req.url)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    page.on("request", on_request)
    page.on("response", lambda r: r.status >= 400 and log.http_errors.append(f"{r.status} {r.url}"))
    page.set_default_timeout(20_000)
    page.goto(url, wait_until="load")
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=30_000)
    try:
        yield page, log
    finally:
        context.close()


@pytest.fixture
def open_link(chromium, lossviz_url):
    """Opens the app at ``lossviz_url + query`` in fresh, guarded contexts: ``open_link("?x=1")``
    gives ``(page, log)``; every context is closed at the end of the test."""
    opened = []

    def opener(query: str):
        gen = open_page(chromium, lossviz_url + query)
        opened.append(gen)
        return next(gen)

    yield opener
    for gen in opened:
        gen.close()
