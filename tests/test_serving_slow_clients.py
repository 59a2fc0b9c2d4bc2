"""Slow and many clients cannot take the server's request threads (the real server, 2 processes).

- **Slowloris**: sockets that send a request line and then one header line every few seconds
  (and a few that send a body a byte at a time) never finish a request. Meanwhile the page, its
  layout and a callback answer within 2 s each, and the server closes the slow sockets itself.
- **A flood of idle connections**, several times what a process keeps open: the page keeps
  answering, no process holds more connections than its bound, and every flood socket is closed
  by the server.

Every ordinary request goes on a fresh connection, so they land on both processes.
"""
from __future__ import annotations

import http.client
import json
import os
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

import psutil
import pytest

from app.page import ids
from app.dash_protocol import Page
from conftest import _serve_app, _stop

pytestmark = pytest.mark.served  # times a real server's answers: run beside the browser tests

PROMPT_S = 2.0  # an ordinary request's answer, with the slow or idle sockets open
CLOSED_WITHIN_S = 30.0  # the server closes a socket that never finishes its request by then
MAX_CONNECTIONS = 48  # per server process (LOSSVIZ_MAX_CONNECTIONS), so a flood in a test exceeds it


class Fresh:
    """GETs and POSTs, each on a new connection (so they spread over the processes)."""

    def __init__(self, url: str) -> None:
        self.base = url.rstrip("/")

    def get_json(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return json.loads(r.read())

    def request(self, path, body=None, timeout=10.0):
        """(status, seconds) of one request; status 0 when it failed or timed out."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers={
            "Connection": "close", **({"Content-Type": "application/json"} if data else {})})
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = 0
        return status, time.monotonic() - t0


class Sockets:
    """Raw client sockets driven by one thread: each sends ``first`` at once and then ``drip``
    every ``every`` seconds (nothing, for idle sockets). Records when the server closed each."""

    def __init__(self, url: str, n: int, first: bytes, drip: bytes | None, every: float) -> None:
        u = urlparse(url)
        self.addr, self.first, self.drip, self.every = (u.hostname, u.port), first, drip, every
        self.socks: list[socket.socket] = []
        self.closed_at: dict[int, float] = {}  # index -> seconds after start
        self.refused = 0  # connections the server did not take at all
        self._stop = threading.Event()
        self.t0 = time.monotonic()
        for _ in range(n):
            try:
                s = socket.create_connection(self.addr, timeout=5)
            except OSError:
                self.refused += 1
                continue
            try:
                if first:
                    s.sendall(first)
            except OSError:
                pass
            s.setblocking(False)
            self.socks.append(s)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _poll(self, timeout: float) -> None:
        open_ = [s for i, s in enumerate(self.socks) if i not in self.closed_at]
        if not open_:
            time.sleep(timeout)
            return
        readable, _, _ = select.select(open_, [], [], timeout)
        for s in readable:
            i = self.socks.index(s)
            try:
                while s.recv(65536):  # a 408 or 503 before the close is fine
                    pass
            except BlockingIOError:
                continue
            except OSError:
                pass
            self.closed_at[i] = time.monotonic() - self.t0  # recv gave b"" (or a reset)

    def _run(self) -> None:
        next_drip = time.monotonic() + self.every
        n = 0
        while not self._stop.is_set():
            self._poll(0.1)
            if self.drip is not None and time.monotonic() >= next_drip:
                n += 1
                for i, s in enumerate(self.socks):
                    if i not in self.closed_at:
                        try:
                            s.send(self.drip.replace(b"#", str(n).encode()))
                        except BlockingIOError:
                            pass
                        except OSError:
                            self.closed_at[i] = time.monotonic() - self.t0
                next_drip += self.every

    def all_closed(self) -> bool:
        return len(self.closed_at) == len(self.socks)

    def wait_all_closed(self, within: float) -> None:
        while not self.all_closed() and time.monotonic() - self.t0 < within:
            time.sleep(0.2)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self.socks:
            s.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "LOSSVIZ_REDIS_URL"}
    env["LOSSVIZ_MAX_CONNECTIONS"] = str(MAX_CONNECTIONS)
    url, proc = _serve_app(tmp_path_factory.mktemp("slow-clients"), env, workers=2)
    try:
        yield url, proc
    finally:
        _stop(proc)


def _callback_body(url: str) -> dict:
    """A real callback request (the settings become a run config), as the page sends it."""
    page = Page(Fresh(url))
    return page.body(page.find(ids.STORE_CONFIG, "data"), {(ids.SAMPLES, "value"): "150"},
                     changed=[f"{ids.SAMPLES}.value"])


def _probe_for(url: str, seconds: float, callback: dict) -> list[tuple[str, int, float]]:
    """The page, its layout and a callback, over and over for ``seconds``: (what, status, s)."""
    fresh, out = Fresh(url), []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for what, path, body in (("page", "/", None), ("layout", "/_dash-layout", None),
                                 ("callback", "/_dash-update-component", callback)):
            status, took = fresh.request(path, body)
            out.append((what, status, took))
        time.sleep(0.3)
    return out


def _assert_prompt(answers: list[tuple[str, int, float]]) -> None:
    slow = [(w, s, round(t, 2)) for w, s, t in answers if s != 200 or t > PROMPT_S]
    assert answers and not slow, f"{len(slow)} of {len(answers)} requests failed or took > {PROMPT_S} s: {slow[:8]}"


def _server_connections(proc, port: int) -> list[int]:
    """Established connections on the served port, per server process (gunicorn's workers)."""
    counts = []
    for child in psutil.Process(proc.pid).children():
        try:
            conns = child.net_connections(kind="tcp")
        except psutil.Error:
            continue
        n = sum(1 for c in conns if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)
        if n or any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in conns):
            counts.append(n)
    return counts


def test_slowloris_does_not_stall_the_page_and_is_closed(server):
    url, _ = server
    callback = _callback_body(url)
    _assert_prompt(_probe_for(url, 1, callback))  # answering before
    headers = Sockets(url, 20, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n",
                      b"X-Slow-#: yes\r\n", every=3.0)
    bodies = Sockets(url, 4, b"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{",
                     b" ", every=2.0)
    try:
        assert len(headers.socks) == 20 and len(bodies.socks) == 4
        time.sleep(1.0)  # every slow socket has reached the server
        answers = _probe_for(url, 14, callback)
        headers.wait_all_closed(CLOSED_WITHIN_S)
        bodies.wait_all_closed(CLOSED_WITHIN_S)
        _assert_prompt(answers)
        assert headers.all_closed(), f"{len(headers.closed_at)} of 20 slow-header sockets closed in {CLOSED_WITHIN_S} s"
        assert bodies.all_closed(), f"{len(bodies.closed_at)} of 4 slow-body sockets closed in {CLOSED_WITHIN_S} s"
        _assert_prompt(_probe_for(url, 1, callback))  # and after
    finally:
        headers.close()
        bodies.close()


def test_a_flood_of_idle_connections_is_bounded_and_closed(server):
    url, proc = server
    port = urlparse(url).port
    callback = _callback_body(url)
    idle = Sockets(url, 300, b"", None, every=1.0)  # connect, send nothing
    partial = Sockets(url, 100, b"GET / HTTP/1.1\r\n", None, every=1.0)  # a request line, then nothing
    try:
        most = []
        answers = []
        end = time.monotonic() + 8
        while time.monotonic() < end:
            most.append(max(_server_connections(proc, port) or [0]))
            answers += _probe_for(url, 0.5, callback)
        idle.wait_all_closed(CLOSED_WITHIN_S)
        partial.wait_all_closed(CLOSED_WITHIN_S)
        _assert_prompt(answers)
        # a process keeps at most its bound (and the probe in flight)
        assert max(most) <= MAX_CONNECTIONS + 2, most
        assert idle.all_closed(), f"{len(idle.closed_at)} of {len(idle.socks)} idle sockets closed by the server"
        assert partial.all_closed(), f"{len(partial.closed_at)} of {len(partial.socks)} partial requests closed"
        _assert_prompt(_probe_for(url, 1, callback))
    finally:
        idle.close()
        partial.close()


def test_bodies_are_read_by_the_front_and_capped(server):
    """A chunked callback body reaches the app with its length; a body over the request cap gets
    the app's 413; one declared over the upload cap gets 413 unread, and the connection goes on."""
    from app.runs.caps import CAPS

    url, _ = server
    u = urlparse(url)
    body = json.dumps(_callback_body(url)).encode()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("POST", "/_dash-update-component", body=iter([body[:100], body[100:]]),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)
        r = conn.getresponse()
        assert r.status == 200 and "response" in json.loads(r.read())
        too_big = b"x" * (int(CAPS["upload_bytes"].limit) + 1)
        conn.request("POST", "/_dash-update-component", body=too_big, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 413 and "'request_bytes' cap" in json.loads(r.read())["error"]
        conn.request("GET", "/_dash-layout")  # the same connection, after the unread body
        r = conn.getresponse()
        assert r.status == 200 and r.read()
    finally:
        conn.close()
    big = {"output": f"{ids.STORE_CONFIG}.data", "outputs": {"id": ids.STORE_CONFIG, "property": "data"},
           "inputs": [{"id": ids.SEED, "property": "value", "value": "1" * int(CAPS["request_bytes"].limit)}],
           "changedPropIds": [f"{ids.SEED}.value"]}
    status, _ = Fresh(url).request("/_dash-update-component", big)  # read whole, refused by the app
    assert status == 413
