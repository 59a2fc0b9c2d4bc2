"""Where runs live on the server: small records per run, in a store shared by every process.

A run is a handful of keys, each with one writer:

* ``hot``: what a tick reads — settings, owner, state, step, version, the acknowledged command,
  and the curve points not yet in a complete chunk (so a tick is one small read). Written when
  the run is made, then only by the job that trains it.
* ``ctl``: the last command (a sequence number and an action); written only by button presses.
* ``speed``: steps per second asked for; written by the speed control.
* ``curve:<c>``: complete chunks of ``CURVE_CHUNK`` curve points, each written once.
* ``traj:<c>``: complete chunks of trajectory rows (the trajectory is appended, never rewritten).
* ``params``: the current weights, saved at a pace (what the landscape and data plots read).
* ``model``: the trainer's whole state (optimizer buffers, RNG), saved when a job stops and
  every few seconds while it runs.
* ``lease``: held by the one job that trains the run; ``seen``: the page's last heartbeat.

Cached results (landscapes) live in a store of their own, so they never evict a run.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossviz import tabular

from . import caps, codec
from .kv import DiskKV, RedisKV, default_directory, private_directory

RUN_TTL_S = 6 * 3600  # a paused run lives this long after its last change
RESULT_TTL_S = 15 * 60  # a cached landscape
UNTRAINED_TTL_S = 15 * 60  # a run made by settings or Reset alone: the page makes it again when gone
RESULTS_BYTES = 256 * 2 ** 20
SESSION_KEY_TTL_S = 10 * 365 * 24 * 3600
SESSION_LOCK_TTL_S = 10.0  # a run request that died lets its page's next one in
LEASE_TTL_S = 10.0  # a job renews its lease every few seconds; a dead job's lease lapses
CURVE_CHUNK = 50
TRAJ_CHUNK_BYTES = 2 ** 19
CURVE_KEYS = ("step", "train_loss", "test_loss", "train_metric", "test_metric")


def owner_of(secret: Any) -> str:
    """The owner tag of a session secret (a hash: the secret itself is never stored)."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        raise PermissionError("This page's session is missing or malformed: reload the page.")
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def new_secret() -> str:
    """A random session secret (192 bits), unsigned (``RunStore.new_session`` signs one)."""
    return secrets.token_urlsafe(24)


def _signature(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def traj_rows_per_chunk(n_params: int) -> int:
    return max(1, min(32, TRAJ_CHUNK_BYTES // (8 * n_params)))


@dataclass
class RunStore:
    """Runs in ``runs`` (never evicted for size), results in ``results`` (size-bounded)."""

    runs: Any
    results: Any
    _session_key: bytes | None = field(default=None, repr=False)  # read once from ``runs``

    @classmethod
    def open(cls, directory: str | None = None, redis_url: str | None = None) -> "RunStore":
        """Runs in Redis when ``redis_url`` is given (shared by machines), else on this disk;
        results always on this machine's disk (they are recomputed where they are drawn)."""
        directory = private_directory(directory or default_directory())
        runs = RedisKV(redis_url) if redis_url else DiskKV(f"{directory}/runs")
        return cls(runs, DiskKV(f"{directory}/results", RESULTS_BYTES))

    def close(self) -> None:
        self.runs.close()
        self.results.close()

    # --- small records ------------------------------------------------------------------
    def _get(self, run_id: str, part: str):
        raw = self.runs.get(f"run:{run_id}:{part}")
        return None if raw is None else codec.decode(raw)

    def _put(self, run_id: str, part: str, value, ttl: float = RUN_TTL_S) -> None:
        gone, key = f"run:{run_id}:gone", f"run:{run_id}:{part}"
        if self.runs.get(gone) is not None:
            return  # deleted while its job was stopping: nothing of it comes back
        self.runs.set(key, codec.encode(value), ttl)
        # A delete between the look and the write (delete_run marks the run gone, then deletes)
        # would leave this key behind for hours: look again, after the write.
        if self.runs.get(gone) is not None:
            self.runs.delete(key)

    def hot(self, run_id: Any) -> dict | None:
        if not isinstance(run_id, str) or not run_id.isalnum() or len(run_id) > 64:
            return None
        return self._get(run_id, "hot")

    def put_hot(self, hot: dict) -> None:
        self._put(hot["run_id"], "hot", hot)

    def control(self, run_id: str) -> dict:
        """The last command; for a deleted run, a stop newer than any (its job ends at once)."""
        ctl = self._get(run_id, "ctl")
        if ctl is None and self.runs.get(f"run:{run_id}:gone") is not None:
            return {"seq": 2 ** 53, "action": "stop"}
        return ctl or {"seq": 0, "action": "none"}

    def put_control(self, run_id: str, ctl: dict) -> None:
        self._put(run_id, "ctl", ctl)

    def speed(self, run_id: str) -> str | None:
        return self._get(run_id, "speed")

    def put_speed(self, run_id: str, speed: str) -> None:
        self._put(run_id, "speed", speed)

    def seen(self, run_id: str) -> float | None:
        return self._get(run_id, "seen")

    def mark_seen(self, run_id: str, every_s: float = 5.0) -> None:
        """The page is still open (written at most every ``every_s`` seconds)."""
        now = time.time()
        last = self.seen(run_id)
        if last is None or now - last >= every_s:
            self._put(run_id, "seen", now)

    # --- curves and trajectory, in chunks ---------------------------------------------------
    def put_curve_chunk(self, run_id: str, index: int, points: list) -> None:
        self._put(run_id, f"curve:{index}", points)

    def points_since(self, hot: dict, n: int) -> list:
        """Curve points ``n`` onwards: from complete chunks, then the hot record's tail."""
        n = max(0, int(n))
        done = hot["chunks"] * CURVE_CHUNK
        out: list = []
        if n < done:
            keys = [f"run:{hot['run_id']}:curve:{c}" for c in range(n // CURVE_CHUNK, hot["chunks"])]
            for raw in self.runs.get_many(keys):
                if raw is None:
                    raise LookupError("this run's curve has expired")
                out.extend(codec.decode(raw))
            out = out[n - (n // CURVE_CHUNK) * CURVE_CHUNK:]
        return out + hot["tail"][max(0, n - done):]

    def put_traj_chunk(self, run_id: str, index: int, rows: np.ndarray) -> None:
        self._put(run_id, f"traj:{index}", rows)

    def trajectory(self, run_id: str, n_chunks: int) -> list[np.ndarray]:
        raws = self.runs.get_many([f"run:{run_id}:traj:{c}" for c in range(n_chunks)])
        if any(r is None for r in raws):
            raise LookupError("this run's path has expired")
        return [codec.decode(r) for r in raws]

    def params(self, run_id: str) -> dict | None:
        return self._get(run_id, "params")

    def put_params(self, run_id: str, step: int, params: np.ndarray, traj_tail: np.ndarray,
                   traj_start: int) -> None:
        """Weights (P,) at ``step`` and the path rows from ``traj_start`` on (the rest is chunked)."""
        self._put(run_id, "params", {"step": step, "params": params, "traj_tail": traj_tail,
                                     "traj_start": traj_start})

    def model(self, run_id: str) -> dict | None:
        return self._get(run_id, "model")

    def put_model(self, run_id: str, state: dict) -> None:
        self._put(run_id, "model", state)

    def keep(self, hot: dict, ttl: float = RUN_TTL_S) -> None:
        """Restart every key's time to live (a paused run lives RUN_TTL_S from now; a run that
        never trained, UNTRAINED_TTL_S), its uploaded table's too (never shortened)."""
        rid = hot["run_id"]
        parts = ["hot", "ctl", "speed", "params", "model", "seen", "partners"]
        parts += [f"curve:{c}" for c in range(hot["chunks"])] + [f"traj:{c}" for c in range(hot["traj_chunks"])]
        for part in parts:
            self.runs.touch(f"run:{rid}:{part}", ttl)
        dataset = hot["config"]["dataset"]
        if ttl >= RUN_TTL_S and tabular.is_table_name(dataset):
            digest = tabular.parse_table_name(dataset)[0]
            for key in (f"table:{digest}", f"table:{digest}:about"):
                self.runs.touch(key, RUN_TTL_S)

    # --- uploaded tables, by content hash (the same file is one entry, whoever sent it) -------
    def put_table(self, digest: str, data: bytes, filename: str, owner: str) -> None:
        """Keep an uploaded CSV's bytes (at most the 'table_bytes' cap) as long as a run lives,
        for the session ``owner`` (an owner tag): CapExceeded when the session's tables or all
        tables kept would go over the 'session_tables' or 'server_tables' cap."""
        caps.check("table_bytes", len(data))
        if digest != tabular.content_hash(data):
            raise ValueError("the table's name is not the hash of its bytes")
        if not isinstance(owner, str) or not owner:
            raise PermissionError("This page's session is missing or malformed: reload the page.")
        with self._tables_lock():
            self._reserve_table(owner, digest, len(data))
            self.runs.set(f"table:{digest}", bytes(data), RUN_TTL_S)
            self.runs.set(f"table:{digest}:about", codec.encode({"filename": str(filename)[:200]}), RUN_TTL_S)

    def table(self, digest: Any) -> bytes | None:
        """An uploaded CSV's bytes by content hash (None when unknown or expired)."""
        if not _hex_digest(digest):
            return None
        return self.runs.get(f"table:{digest}")

    def table_filename(self, digest: Any) -> str | None:
        raw = self.runs.get(f"table:{digest}:about") if _hex_digest(digest) else None
        return None if raw is None else codec.decode(raw)["filename"]

    # Quotas: a ledger of the tables kept ({digest: [bytes, when to look again]}), one for all
    # and one per session. A table lives at least RUN_TTL_S after it is put (longer while a run
    # on it is kept), so an entry is checked against the store only after that, then every
    # TABLE_RECHECK_S: it leaves the ledger when its table has expired.
    TABLE_RECHECK_S = 600.0
    TABLES_LOCK_TTL_S = 5.0

    def table_usage(self, owner: str | None = None) -> int:
        """Bytes of uploaded tables kept: the session ``owner``'s, or (None) everyone's."""
        key = "tables:all" if owner is None else f"tables:session:{owner}"
        return sum(size for size, _ in self._table_ledger(key, time.time()).values())

    def _reserve_table(self, owner: str, digest: str, size: int) -> None:
        """Count ``digest`` in the session's and the store's ledgers, or CapExceeded (nothing
        counted). Called with the tables lock held."""
        now = time.time()
        ledgers = {"session_tables": f"tables:session:{owner}", "server_tables": "tables:all"}
        entries = {cap: self._table_ledger(key, now) for cap, key in ledgers.items()}
        for cap, ledger in entries.items():
            if digest not in ledger:
                used = sum(s for s, _ in ledger.values()) + size
                if used > caps.limit(cap) * 2 ** 20:
                    raise caps.CapExceeded(caps.CAPS[cap].message(f"{used / 2 ** 20:.1f} MB"))
        for cap, key in ledgers.items():
            entries[cap][digest] = [size, now + RUN_TTL_S]
            self.runs.set(key, codec.encode(entries[cap]), RUN_TTL_S + self.TABLE_RECHECK_S)

    def _table_ledger(self, key: str, now: float) -> dict:
        """A ledger without the tables that have expired."""
        raw = self.runs.get(key)
        ledger = {} if raw is None else codec.decode(raw)
        for digest, (size, check_at) in list(ledger.items()):
            if check_at < now:
                if self.runs.get(f"table:{digest}:about") is None:
                    del ledger[digest]
                else:
                    ledger[digest] = [size, now + self.TABLE_RECHECK_S]
        return ledger

    def _tables_lock(self):
        """One ledger change at a time, across processes and machines (a holder that died lets
        go after TABLES_LOCK_TTL_S)."""
        return self._held("tables:lock", self.TABLES_LOCK_TTL_S, self.TABLES_LOCK_TTL_S,
                          "The server is busy keeping other uploads: try again.")

    def partners(self, run_id: str) -> list[str]:
        """The runs a lead run's job trains in lockstep with it (compare mode), lead excluded."""
        return self._get(run_id, "partners") or []

    def put_partners(self, run_id: str, partners: list[str]) -> None:
        self._put(run_id, "partners", list(partners))

    # --- one job per run ------------------------------------------------------------------
    def acquire(self, run_id: str, token: str) -> bool:
        return self.runs.add(f"run:{run_id}:lease", token.encode(), LEASE_TTL_S)

    def renew(self, run_id: str, token: str) -> bool:
        return self.runs.renew_if(f"run:{run_id}:lease", token.encode(), LEASE_TTL_S)

    def release(self, run_id: str, token: str) -> None:
        self.runs.delete_if(f"run:{run_id}:lease", token.encode())

    def leased(self, run_id: str) -> bool:
        return self.runs.get(f"run:{run_id}:lease") is not None

    # --- sessions -------------------------------------------------------------------------
    def session_key(self) -> bytes:
        """The key that signs session ids: made once per store (so every process and machine
        that shares the runs shares it), kept with the runs."""
        if self._session_key is None:
            self.runs.add("server:session-key", secrets.token_bytes(32), SESSION_KEY_TTL_S)
            key = self.runs.get("server:session-key")
            if key is None:
                raise RuntimeError("the run store lost its session key")
            self._session_key = key
        return self._session_key

    def new_session(self) -> str:
        """A server-issued session id: a random token (192 bits) and its signature."""
        token = secrets.token_urlsafe(24)
        return f"{token}.{_signature(self.session_key(), token)}"

    def owner(self, secret: Any) -> str:
        """The owner tag of a session id this server issued; PermissionError for any other string
        (a client cannot make sessions of its own)."""
        token, _, sig = secret.rpartition(".") if isinstance(secret, str) else ("", "", "")
        if not token or not hmac.compare_digest(sig, _signature(self.session_key(), token)):
            raise PermissionError("This page's session is not one this server made: reload the page.")
        return owner_of(secret)

    def session_runs(self, owner: str) -> list[str]:
        raw = self.runs.get(f"session:{owner}")
        return [] if raw is None else codec.decode(raw)

    def put_session_runs(self, owner: str, run_ids: list[str]) -> None:
        self.runs.set(f"session:{owner}", codec.encode(run_ids), RUN_TTL_S)

    def presses(self, owner: str) -> dict:
        """How many presses of each run button this session's page has had handled
        (``{"train": n, ...}``): a press counts once, whichever request carries it first."""
        raw = self.runs.get(f"session:{owner}:presses")
        return {} if raw is None else codec.decode(raw)

    def put_presses(self, owner: str, presses: dict) -> None:
        self.runs.set(f"session:{owner}:presses", codec.encode(presses), RUN_TTL_S)

    def session_lock(self, owner: str, wait_s: float = 5.0):
        """Hold this session's lock (one run request of a page at a time, across processes and
        machines); after ``wait_s`` without it, PermissionError. A holder that died lets go
        after SESSION_LOCK_TTL_S."""
        return self._held(f"session:{owner}:lock", SESSION_LOCK_TTL_S, wait_s,
                          "This page's last request is still being answered: try again.")

    @contextmanager
    def _held(self, key: str, ttl: float, wait_s: float, busy: str):
        """A lock in ``runs`` (so every process and machine sharing them sees it): taken within
        ``wait_s`` or PermissionError(``busy``); it lapses after ``ttl`` if its holder died."""
        token, deadline = secrets.token_hex(8).encode(), time.monotonic() + wait_s
        while not self.runs.add(key, token, ttl):
            if time.monotonic() > deadline:
                raise PermissionError(busy)
            time.sleep(0.01)
        try:
            yield
        finally:
            self.runs.delete_if(key, token)

    def check_room(self) -> None:
        """Refuse a new run while the run store holds more than its 'run_store' cap (every
        page's runs and tables; the oldest leave as they expire)."""
        caps.check("run_store", self.runs.volume() / 2 ** 20)

    def was_deleted(self, run_id: Any) -> bool:
        """True for a run that ``delete_run`` dropped (in the last RUN_TTL_S)."""
        return isinstance(run_id, str) and run_id.isalnum() and len(run_id) <= 64 and \
            self.runs.get(f"run:{run_id}:gone") is not None

    def delete_run(self, run_id: str) -> None:
        """Drop every key of a run the page no longer shows (a job still training it finds its
        records gone and stops)."""
        hot = self.hot(run_id)
        if hot is None:
            return
        parts = ["hot", "ctl", "speed", "params", "model", "seen", "partners"]
        parts += [f"curve:{c}" for c in range(hot["chunks"] + 1)]
        parts += [f"traj:{c}" for c in range(hot["traj_chunks"] + 1)]
        self.runs.set(f"run:{run_id}:gone", b"1", RUN_TTL_S)
        for part in parts:
            self.runs.delete(f"run:{run_id}:{part}")

    # --- cached results -------------------------------------------------------------------
    def get_result(self, key: tuple):
        raw = self.results.get(_result_key(key))
        return None if raw is None else codec.decode(raw)

    def put_result(self, key: tuple, value, ttl: float = RESULT_TTL_S) -> None:
        self.results.set(_result_key(key), codec.encode(value), ttl)


def _hex_digest(digest: Any) -> bool:
    return isinstance(digest, str) and len(digest) == tabular.HASH_CHARS and \
        all(c in "0123456789abcdef" for c in digest)


def _result_key(key: tuple) -> str:
    def part(v):
        if isinstance(v, float):
            return repr(v) if math.isfinite(v) else str(v)
        return str(v)

    return "result:" + "|".join(part(v) for v in key)
