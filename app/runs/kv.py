"""Key-value backends the server's stores are built on: a local diskcache, or Redis.

Both store bytes under string keys with a time to live, and offer an atomic ``add`` (set if
absent) and compare-and-delete / compare-and-renew for leases. Values are bytes made by
``app.runs.codec`` (never pickles), so whatever is in the store is never unpickled.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading

import diskcache

# Where the runs are kept, for every process that opens the store (web servers, job processes,
# Celery workers): Redis when REDIS_ENV names one, else the folder CACHE_ENV names (or a default).
REDIS_ENV = "LOSSVIZ_REDIS_URL"
CACHE_ENV = "LOSSVIZ_CACHE_DIR"


def private_directory(path: str) -> str:
    """Create ``path`` (mode 0700) or check that an existing one is ours and private.

    ValueError when it belongs to another user; a directory of ours with looser permissions is
    tightened (it may hold other sessions' runs).
    """
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.stat(path)
    if info.st_uid != os.getuid():
        raise ValueError(f"the store directory {path} belongs to another user; choose another --cache-dir")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def default_directory() -> str:
    """``$LOSSVIZ_CACHE_DIR``, else a per-user folder in the system temp directory."""
    return os.environ.get(CACHE_ENV) or os.path.join(tempfile.gettempdir(), f"lossviz-{os.getuid()}")


# One writer at a time per folder within a process. SQLite lets one connection write at a time;
# a writer that finds the lock taken sleeps in SQLite's busy handler, 25-100 ms once it has
# waited a little, even when the lock is free a moment later. With a class's jobs on threads of
# one process (each publishing a few times a second) most of their time went there (py-spy: 43%
# of a job process's samples waiting in BEGIN IMMEDIATE). Threads now queue on a Python lock,
# handed over at once; only the few processes sharing the folder meet in SQLite.
_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


def _writer_lock(directory: str) -> threading.Lock:
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(os.path.realpath(directory), threading.Lock())


class DiskKV:
    """A diskcache on a private directory, shared by the processes of one machine.

    ``size_limit`` None never evicts for size (items leave only when they expire): runs live
    there. A size limit evicts the least recently stored items: cached results live there.
    Writes from the threads of one process take turns (``_writer_lock``).
    """

    def __init__(self, directory: str, size_limit: int | None = None) -> None:
        private_directory(directory)
        policy = "none" if size_limit is None else "least-recently-stored"
        # Small SQLite page caches and no mmap: every request thread has its own connection, and
        # diskcache's defaults (32 MB cache + 64 MB mmap each) would add up to hundreds of MB.
        self.cache = diskcache.Cache(directory, size_limit=size_limit or 2 ** 40, eviction_policy=policy,
                                     disk_min_file_size=2 ** 20, sqlite_cache_size=512, sqlite_mmap_size=0)
        self._writing = _writer_lock(directory)

    def get(self, key: str) -> bytes | None:
        return self.cache.get(key)

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        return [self.cache.get(k) for k in keys]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._writing:
            self.cache.set(key, value, expire=ttl)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._writing:
            return self.cache.add(key, value, expire=ttl)

    def delete(self, key: str) -> None:
        with self._writing:
            self.cache.delete(key)

    def touch(self, key: str, ttl: float) -> None:
        with self._writing:
            self.cache.touch(key, expire=ttl)

    def renew_if(self, key: str, value: bytes, ttl: float) -> bool:
        with self._writing, self.cache.transact():
            if self.cache.get(key) != value:
                return False
            self.cache.set(key, value, expire=ttl)
            return True

    def delete_if(self, key: str, value: bytes) -> bool:
        with self._writing, self.cache.transact():
            if self.cache.get(key) != value:
                return False
            self.cache.delete(key)
            return True

    def volume(self) -> int:
        """Bytes this store takes on disk (expired items that are not yet culled included)."""
        return int(self.cache.volume())

    def close(self) -> None:
        self.cache.close()


_RENEW_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
_DELETE_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisKV:
    """The same operations on Redis (``redis://host:port/db``), shared by several machines."""

    def __init__(self, url: str, prefix: str = "lossviz:") -> None:
        import redis  # only when Redis is asked for

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix
        self._renew = self.client.register_script(_RENEW_IF)
        self._delete = self.client.register_script(_DELETE_IF)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> bytes | None:
        return self.client.get(self._k(key))

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        return self.client.mget([self._k(k) for k in keys]) if keys else []

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self.client.set(self._k(key), value, px=int(ttl * 1000))

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self.client.set(self._k(key), value, px=int(ttl * 1000), nx=True))

    def delete(self, key: str) -> None:
        self.client.delete(self._k(key))

    def touch(self, key: str, ttl: float) -> None:
        self.client.pexpire(self._k(key), int(ttl * 1000))

    def renew_if(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self._renew(keys=[self._k(key)], args=[value, int(ttl * 1000)]))

    def delete_if(self, key: str, value: bytes) -> bool:
        return bool(self._delete(keys=[self._k(key)], args=[value]))

    def volume(self) -> int:
        """Bytes of memory the Redis server uses (every client's keys: it is one budget)."""
        return int(self.client.info("memory")["used_memory"])

    def close(self) -> None:
        self.client.close()
