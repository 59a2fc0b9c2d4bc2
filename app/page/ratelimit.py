"""How fast one page, and one network address, may send callback requests: token buckets per
session and per address, in each process.

A page's own traffic stays far below the rate (its ticks wait for their answers: about ten
requests a second while training); a script that loops on the callback endpoint gets HTTP 429
instead of the server's threads. Per process, not shared: a session's keep-alive connections
meet one process, and a client spread over several processes gets a bucket in each (still a
bound). At most ``most`` sessions are remembered (the quietest are forgotten first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RequestBuckets:
    """Token buckets keyed by session: ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float, most: int = 4096) -> None:
        self.rate, self.burst, self.most = float(rate), float(burst), most
        self._guard = threading.Lock()
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # key -> [tokens, at]

    def take(self, key: str) -> bool:
        """True when ``key`` may send one more request now (and counts it)."""
        now = time.monotonic()
        with self._guard:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = [tokens - 1.0 if allowed else tokens, now]
            while len(self._buckets) > self.most:
                self._buckets.popitem(last=False)
            return allowed


class ClientLimits:
    """What one network address may do, per process: callback requests a second
    ('client_requests'), pages opened a minute ('client_pages': each is a new session)."""

    def __init__(self, requests_per_s: float, pages_per_min: float) -> None:
        self.requests = RequestBuckets(requests_per_s, 2 * requests_per_s)
        self.pages = RequestBuckets(pages_per_min / 60, pages_per_min)

    def page_allowed(self) -> bool:
        """True when this request's address may open one more page now (and counts it); True
        outside a request (Dash builds the layout once at start-up to check it)."""
        from flask import has_request_context

        return not has_request_context() or self.pages.take(address())

    def request_allowed(self) -> bool:
        return self.requests.take(address())


def address() -> str:
    """The network address of this request's client (the socket's peer: a proxy in front must
    be on this host and pass the client's own address, or a whole class counts as one)."""
    from flask import request

    return request.remote_addr or "?"


def session_of(body: dict) -> str | None:
    """The session id a callback request carries (as an input or a state), if any."""
    from . import ids

    for key in ("state", "inputs"):
        for spec in body.get(key, []):
            if isinstance(spec, dict) and spec.get("id") == ids.STORE_SESSION and isinstance(spec.get("value"), str):
                return spec["value"][:120]
    return None
