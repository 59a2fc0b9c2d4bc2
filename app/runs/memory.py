"""Keep a long-running server process's memory flat: give freed heap back to the OS when idle.

NumPy arrays freed after a burst of work stay in glibc's heap (and in a few arenas) unless
trimmed; after thirty runs that is a hundred MB per process that no one uses.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time

log = logging.getLogger("lossviz.memory")


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def trim() -> None:
    """Collect garbage and return free heap pages to the OS (no-op off glibc)."""
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def limit_arenas(n: int = 2) -> None:
    """Each thread may get its own glibc malloc arena, which keeps freed NumPy buffers;
    a few shared arenas keep a long-running server's memory flat (no-op off glibc)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-8, n)  # M_ARENA_MAX


class IdleTrimmer:
    """Trims the heap once the process has been quiet for ``quiet_s`` after some work."""

    def __init__(self, quiet_s: float = 2.0) -> None:
        self.quiet_s = quiet_s
        self._last_work = time.monotonic()
        self._dirty = False

    def touch(self) -> None:
        """Called when the process did work (a request, a job ending)."""
        self._last_work = time.monotonic()
        self._dirty = True

    def start(self) -> "IdleTrimmer":
        threading.Thread(target=self._loop, name="lossviz-trim", daemon=True).start()
        return self

    def _loop(self) -> None:
        while True:
            time.sleep(self.quiet_s / 2)
            if self._dirty and time.monotonic() - self._last_work > self.quiet_s:
                self._dirty = False
                trim()
