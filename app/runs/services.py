"""What the callbacks share in one server process: the run store, the job runner, and the
slots for costly views. Made once by ``create_app``; nothing here holds a user's state."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .load import LoadMeter
from .store import RunStore

VIEW_SLOTS = 1  # landscapes computed at once per process: more would only queue on the cores


class KeyedLocks:
    """A lock per key (a run id), made on first use and dropped when nobody holds or waits for it.

    Within one process: a browser keeps its connections to one server process, so this is
    where its overlapping requests meet; across processes the worst case is work done twice.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [lock, users]

    @contextmanager
    def hold(self, key: str, wait_s: float | None):
        """Yields True when the lock was taken (waiting up to ``wait_s``; None: no wait)."""
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        got = entry[0].acquire(timeout=wait_s) if wait_s else entry[0].acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                entry[0].release()
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]


class Pacer:
    """When each key (a run id) was last answered, to space out answers that a page's timer
    asks for faster than it can take them (bounded: the oldest keys are forgotten)."""

    def __init__(self, most: int = 4096) -> None:
        self._guard = threading.Lock()
        self._last: dict[str, float] = {}
        self.most = most

    def due(self, key: str, gap_s: float) -> bool:
        """True (and the clock restarts) when ``gap_s`` has passed since the last True for ``key``."""
        now = time.monotonic()
        with self._guard:
            if now - self._last.get(key, -1e9) < gap_s:
                return False
            self._last[key] = now
            if len(self._last) > self.most:
                for old in sorted(self._last, key=self._last.get)[: self.most // 2]:
                    del self._last[old]
            return True


@dataclass
class Services:
    store: RunStore
    runner: object  # ThreadRunner or CeleryRunner: .submit(run_id) -> bool
    view_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(VIEW_SLOTS))
    load: LoadMeter = field(default_factory=LoadMeter)
    view_locks: KeyedLocks = field(default_factory=KeyedLocks)
    view_pacer: Pacer = field(default_factory=Pacer)
