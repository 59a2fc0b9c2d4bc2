"""How fast one page may send callback requests: a token bucket per session, in each process.

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


def session_of(body: dict) -> str | None:
    """The session id a callback request carries (as an input or a state), if any."""
    from . import ids

    for key in ("state", "inputs"):
        for spec in body.get(key, []):
            if isinstance(spec, dict) and spec.get("id") == ids.STORE_SESSION and isinstance(spec.get("value"), str):
                return spec["value"][:120]
    return None
