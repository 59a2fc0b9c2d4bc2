"""The front of each server process: an asyncio HTTP server that takes whole requests before a
request thread sees them, so slow or many clients cannot hold the threads.

gunicorn stays the process manager (``app.serve``); each of its workers is a uvicorn server
(``LossvizWorker``) whose connections cost no thread. A request reaches the Flask app — on a pool
of ``--threads`` threads (the WSGI environ made by a2wsgi) — only once its head and body are in
memory; its answer is handed back to the event loop whole, so a client that reads slowly holds no
thread either.

- **Head**: a connection must send a complete request head within ``HEADER_TIMEOUT_S`` of opening
  (or of its first byte after a previous answer), or it is closed; between requests the
  keep-alive timeout applies. Heads are at most ``MAX_HEAD_BYTES``. The rest of a body that was
  answered unread (413) is read and dropped under the same deadline, so the connection goes on.
- **Body**: read by the event loop, at most the upload cap (``app.runs.caps``: a larger declared
  ``Content-Length`` gets 413 at once, unread); it must arrive within ``BODY_GRACE_S`` plus one
  second per ``BODY_MIN_RATE`` bytes (else 408), and a process holds at most ``BODY_BUDGET``
  bytes of bodies at once (else 503). A chunked body is passed on with its length.
- **Connections**: each process keeps at most ``max_connections`` (``LOSSVIZ_MAX_CONNECTIONS``,
  gunicorn's ``worker_connections``). When a new one comes at the bound, the oldest connection
  that has no request being served (idle, or still sending its head or body) is closed for it;
  when every one is being served the new one gets 503 and is closed at once.
- **Queue**: a request that waited ``QUEUE_WAIT_S`` for a thread gets 503 instead of running, and
  one whose client went away while it waited is dropped.
- **Answers**: a client that accepts no bytes of its answer for ``WRITE_STALL_S`` is cut off.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import resource
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import h11
from a2wsgi.wsgi import build_environ
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker

from .runs.priority import VIEW_NICENESS, step_aside

log = logging.getLogger("lossviz.front")

MAX_CONNECTIONS_ENV = "LOSSVIZ_MAX_CONNECTIONS"
DEFAULT_MAX_CONNECTIONS = 512  # per process: a class of 30 browsers opens ~6 each
HEADER_TIMEOUT_S = 10.0
MAX_HEAD_BYTES = 16 * 1024
BODY_GRACE_S = 10.0
BODY_MIN_RATE = 32 * 1024  # bytes/s: the largest upload (~7 MB) may take 10 s + 3.6 min
BODY_BUDGET = 64 * 2 ** 20  # bytes of request bodies one process holds at once
QUEUE_WAIT_S = 30.0
WRITE_STALL_S = 30.0
RETRY_AFTER_S = 2
FAST_THREADS = 2  # the fast lane's threads per process (Front.fast)


def max_connections() -> int:
    """The per-process connection bound: ``$LOSSVIZ_MAX_CONNECTIONS`` or 512, and never more than
    the open-file limit leaves room for (the process needs files of its own)."""
    wanted = int(os.environ.get(MAX_CONNECTIONS_ENV) or DEFAULT_MAX_CONNECTIONS)
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        wanted = min(wanted, max(16, soft - 128))
    return max(1, wanted)


def _raw_answer(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"retry-after: {RETRY_AFTER_S}\r\nconnection: close\r\n\r\n").encode() + body


BUSY_MESSAGE = "the server is busy: try again in a moment"
REFUSED = _raw_answer(503, "Service Unavailable", BUSY_MESSAGE)


class FrontProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for request heads, a per-process bound on
    connections (closing idle ones first) and a deadline for stalled answers."""

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_connections = getattr(config, "lossviz_max_connections", DEFAULT_MAX_CONNECTIONS)
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        # every connection of this process, oldest first (one server per process)
        if not hasattr(server_state, "lossviz_order"):
            server_state.lossviz_order = OrderedDict()
            server_state.lossviz_refused = 0
        self._order: OrderedDict = server_state.lossviz_order
        self._state = server_state

    # -- the connection bound ------------------------------------------------------------------
    def _serving(self) -> bool:
        """A request of this connection is with the app or its answer is being sent."""
        if self.cycle is None or self.cycle.response_complete:
            return False
        return self.conn.their_state is not h11.SEND_BODY  # a body still coming is not served yet

    def connection_made(self, transport) -> None:  # type: ignore[override]
        if len(self._order) >= self.max_connections:
            victim = next((c for c in self._order if not c._serving()), None)
            if victim is None:
                self._refuse(transport)
                return
            victim._drop()
        super().connection_made(transport)
        self._order[self] = None
        self._arm_head_timer()

    def _refuse(self, transport) -> None:
        self._refused = True
        self.transport = transport
        transport.write(REFUSED)
        transport.close()
        self._state.lossviz_refused += 1
        if self._state.lossviz_refused in (1, 10, 100) or self._state.lossviz_refused % 1000 == 0:
            log.warning("%d connections refused: all %d of this process's connections are being served",
                        self._state.lossviz_refused, self.max_connections)

    def _drop(self) -> None:
        """Close this connection now (it is idle or has not finished its request)."""
        self._order.pop(self, None)
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.close()

    # -- the head deadline ---------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._head_timeout)

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._waiting_for_head():
            self._drop()

    def _waiting_for_head(self) -> bool:
        """Nothing of this connection is with the app, and it is sending something: part of a
        request head, or the rest of a body already answered (413), which is read and dropped."""
        return (self.cycle is None or self.cycle.response_complete) and \
            self.conn.their_state in (h11.IDLE, h11.SEND_BODY)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._waiting_for_head():  # part of a head: it must be complete in time
            self._arm_head_timer()
        elif self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    # -- stalled answers -----------------------------------------------------------------------
    def pause_writing(self) -> None:
        if self._refused:
            return
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(WRITE_STALL_S, self._stalled)

    def resume_writing(self) -> None:
        if self._refused:
            return
        super().resume_writing()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _stalled(self) -> None:
        self._stall_timer = None
        self._order.pop(self, None)
        self.transport.abort()

    # -- the end ---------------------------------------------------------------------------------
    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._stall_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._stall_timer = None

    def connection_lost(self, exc) -> None:
        if self._refused:
            return
        self._order.pop(self, None)
        self._cancel_timers()
        super().connection_lost(exc)

    def eof_received(self) -> None:
        return None

    def shutdown(self) -> None:
        """The server stops: a connection whose request is not with the app yet (a body still
        coming) is closed now, as idle ones are; one being served finishes its answer."""
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete and not self._serving():
            self._drop()
            return
        super().shutdown()


class _Ticket:
    """A request on its way to a thread: when it was queued, and whether its client left."""

    __slots__ = ("queued", "gone")

    def __init__(self) -> None:
        self.queued = time.monotonic()
        self.gone = False


async def _answer(send, status: int, message: str, close: bool = True) -> None:
    """A JSON error answer from the front itself (``close``: and the connection is closed)."""
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status in (408, 503):
        headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _watch(receive, ticket: _Ticket) -> None:
    """Marks ``ticket`` gone when the client disconnects (uvicorn's receive() answers
    http.disconnect then, and also once the answer is complete, when it no longer matters)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    ticket.gone = True


class Front:
    """The ASGI app of a process: reads each request whole, then runs ``wsgi_app`` on one of
    ``threads`` threads and takes its answer back whole (one hand-off each way: a thread never
    waits for the client or for the event loop)."""

    def __init__(self, wsgi_app, threads: int, body_limit: int, too_large: str,
                 fast: Callable[[bytes], bool] | None = None) -> None:
        self.app = wsgi_app
        self.threads = threads
        self.body_limit = body_limit
        self.too_large = too_large
        self.buffered = 0  # bytes of request bodies held now
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lossviz-request",
                                       initializer=step_aside, initargs=(VIEW_NICENESS,))  # below the fast lane
        # The fast lane: requests ``fast`` picks by their body (the page's training tick and run
        # buttons, app.page.lanes) run on threads the others never hold.
        self.fast = fast
        self.fast_pool = ThreadPoolExecutor(max_workers=FAST_THREADS, thread_name_prefix="lossviz-fast")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":  # no WebSockets here
            return None
        length, chunked, headers = None, False, []
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return await _answer(send, 400, "bad Content-Length")
            elif name == b"transfer-encoding":
                chunked = True
            else:
                headers.append((name, value))
        if length is not None and length > self.body_limit:
            # Never read: the connection drops what follows (see FrontProtocol), so a client that
            # sends its whole body before reading still gets this answer.
            return await _answer(send, 413, self.too_large, close=False)
        body = b""
        if length or chunked:
            body = await self._read_body(receive, send, length)
            if body is None:
                return None
        try:
            if length is not None or chunked:
                headers.append((b"content-length", str(len(body)).encode()))
            environ = build_environ(dict(scope, headers=headers), io.BytesIO(body))
            environ.pop("asgi.scope", None)
            ticket = _Ticket()
            watch = asyncio.ensure_future(_watch(receive, ticket))  # a request still queued is dropped
            pool = self.fast_pool if self.fast is not None and self.fast(body) else self.pool
            try:
                status, out_headers, chunks = await asyncio.get_running_loop().run_in_executor(
                    pool, self._in_thread, environ, ticket)
            finally:
                watch.cancel()
        finally:
            self.buffered -= len(body)
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        for chunk in chunks[:-1]:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": chunks[-1] if chunks else b"", "more_body": False})

    async def _read_body(self, receive, send, length: int | None) -> bytes | None:
        """The whole body (its bytes stay counted in ``buffered``; the caller gives them back),
        or None after answering 408/413/503 or when the client left."""
        loop = asyncio.get_running_loop()
        start, parts, got = loop.time(), [], 0
        ok = False
        try:
            while True:
                allowed = BODY_GRACE_S + max(length or 0, got) / BODY_MIN_RATE
                try:
                    message = await asyncio.wait_for(receive(), start + allowed - loop.time())
                except asyncio.TimeoutError:
                    await _answer(send, 408, f"the request's body did not arrive within {allowed:.0f} s")
                    return None
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                if got + len(chunk) > self.body_limit:
                    await _answer(send, 413, self.too_large)
                    return None
                if self.buffered + len(chunk) > BODY_BUDGET:
                    await _answer(send, 503, BUSY_MESSAGE)
                    return None
                self.buffered += len(chunk)
                got += len(chunk)
                parts.append(chunk)
                if not message.get("more_body", False):
                    ok = True
                    return b"".join(parts)
        finally:
            if not ok:
                self.buffered -= got

    def _in_thread(self, environ, ticket: _Ticket):
        """On a pool thread: (status, headers, body chunks) of the app's answer — unless the
        request waited too long for a thread (503) or its client left (nothing is run)."""
        if ticket.gone:
            return 503, [(b"connection", b"close")], []
        if time.monotonic() - ticket.queued > QUEUE_WAIT_S:
            body = json.dumps({"error": BUSY_MESSAGE}).encode()
            return 503, [(b"content-type", b"application/json"), (b"retry-after", str(RETRY_AFTER_S).encode()),
                         (b"content-length", str(len(body)).encode())], [body]
        started: list = []
        chunks: list[bytes] = []

        def start_response(status: str, headers, exc_info=None):
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append  # the old write() callable

        result = self.app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    chunks.append(bytes(chunk))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return (int(status.split(" ", 1)[0]),
                [(k.strip().lower().encode("latin-1"), v.strip().encode("latin-1")) for k, v in headers], chunks)

    @staticmethod
    async def _lifespan(receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def front(wsgi_app, threads: int, fast: Callable[[bytes], bool] | None = None) -> Front:
    """The ASGI front of ``wsgi_app`` with a pool of ``threads`` request threads (and
    FAST_THREADS more for the requests ``fast`` picks)."""
    from .runs.caps import CAPS

    return Front(wsgi_app, threads, int(CAPS["upload_bytes"].limit), CAPS["request_bytes"].message("more"), fast)


ACCEPT_BATCH = 1  # connections taken per turn of the event loop (asyncio's default: the backlog, 2048)


class FairLoop(asyncio.SelectorEventLoop):
    """An event loop that accepts one connection per turn. The processes share one listening
    socket; asyncio's loop would take every waiting connection at once, so a burst (a page's six,
    a class's thirty) all landed on whichever process woke first while the other idled. Taking
    one per turn lets each process take its share, and a busy one (whose turns are slower) less."""

    def _start_serving(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *args, **kwargs):
        return super()._start_serving(protocol_factory, sock, sslcontext, server, ACCEPT_BATCH, *args, **kwargs)


class LossvizWorker(UvicornWorker):
    """gunicorn's worker running uvicorn with ``FrontProtocol`` (the bound is gunicorn's
    ``worker_connections``; the keep-alive timeout its ``keepalive``)."""

    CONFIG_KWARGS: dict[str, Any] = {"loop": "app.front:FairLoop", "http": FrontProtocol, "lifespan": "off",
                                     "access_log": False, "h11_max_incomplete_event_size": MAX_HEAD_BYTES}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.lossviz_max_connections = self.cfg.worker_connections
        self.config.timeout_graceful_shutdown = max(1, int(self.cfg.graceful_timeout) - 1)
