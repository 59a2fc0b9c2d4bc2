"""One BLAS thread for small problems, without rediscovering the BLAS libraries on every call
(``threadpool_limits`` scans the loaded libraries each time: a few ms per landscape)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """A context in which BLAS calls use one thread (OpenBLAS' hand-off costs more than small work)."""
    return _controller().limit(limits=1, user_api="blas")
