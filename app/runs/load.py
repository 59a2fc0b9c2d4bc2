"""How busy this machine is, for pacing live views: under load the landscape refreshes less
often, so training ticks (cheap, and what makes the curves live) keep their pace."""

from __future__ import annotations

import os
import threading
import time

BUSY_FROM = 0.6  # below this fraction of the CPUs busy, views run at full pace
MOST_SLOWDOWN = 12.0  # at 100% busy, live views refresh this many times less often (training and
# the curves come first: a class of thirty on two cores keeps every run finishing)


class LoadMeter:
    """The fraction of all CPUs busy over the last half second or so (Linux /proc/stat)."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self._lock = threading.Lock()
        self._last = (time.monotonic(), *self._read())
        self._busy = 0.0

    @staticmethod
    def _read() -> tuple[float, float]:
        try:
            with open("/proc/stat") as f:
                fields = [float(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return 0.0, 0.0
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
        return sum(fields) - idle, sum(fields)

    def busy(self) -> float:
        with self._lock:
            t, used, total = self._last
            now = time.monotonic()
            if now - t >= self.every_s:
                u, tot = self._read()
                if tot > total:
                    self._busy = (u - used) / (tot - total)
                self._last = (now, u, tot)
            return self._busy

    def slowdown(self) -> float:
        """1 when the machine has room; up to MOST_SLOWDOWN as it saturates."""
        excess = max(0.0, self.busy() - BUSY_FROM) / (1 - BUSY_FROM)
        return 1.0 + (MOST_SLOWDOWN - 1.0) * min(1.0, excess)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
