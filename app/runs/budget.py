"""The job budget of the Celery path, kept in Redis: the same caps as a server process's
``JobBudget`` ('server_jobs' runs and 'job_memory' MB), for every web server and worker at once.

Each ``lossviz worker`` process registers its threads (``beat``, renewed by a heartbeat); the
budget is the sum over live workers: at most min(its threads, 'server_jobs') jobs and
'job_memory' MB each. A web server ``take``s a share (a token and its cost in bytes) before it
sends a job; the worker that runs the job renews the share while it trains and ``give``s it
back when it ends. Shares and workers carry an expiry: a worker that died (or a job sent and
never started) returns its share after a few seconds. Each step is one Lua script, so two
servers never both take the last place.
"""

from __future__ import annotations

import logging
import secrets
import threading
from contextlib import contextmanager

from . import caps

log = logging.getLogger("lossviz.budget")

SHARE_TTL_S = 30.0  # a running job renews its share every RENEW_EVERY_S
QUEUED_TTL_S = 60.0  # from submit until the job starts on a worker
WORKER_TTL_S = 30.0  # a worker renews its entry every RENEW_EVERY_S
RENEW_EVERY_S = 10.0

# Redis time in milliseconds, and entries whose expiry has passed removed (a zset of expiries,
# a hash of values, same members).
_NOW_AND_SWEEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function sweep(zset, hash)
  local gone = redis.call('ZRANGEBYSCORE', zset, '-inf', now)
  for i = 1, #gone, 500 do
    local part = {unpack(gone, i, math.min(i + 499, #gone))}
    redis.call('ZREM', zset, unpack(part))
    redis.call('HDEL', hash, unpack(part))
  end
end
"""
# KEYS: shares, costs, workers, slots. ARGV: token, cost, ttl ms, jobs per worker, bytes per worker.
_TAKE = _NOW_AND_SWEEP + """
sweep(KEYS[1], KEYS[2])
sweep(KEYS[3], KEYS[4])
local most_jobs, workers = 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[4])) do
  workers = workers + 1
  most_jobs = most_jobs + math.min(tonumber(v), tonumber(ARGV[4]))
end
local used = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do used = used + tonumber(v) end
local jobs, cost = redis.call('ZCARD', KEYS[1]), tonumber(ARGV[2])
if jobs >= most_jobs or (jobs > 0 and used + cost > workers * tonumber(ARGV[5])) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], cost)
return 1
"""
# KEYS: a zset, a hash. ARGV: member, value, ttl ms. (Adds it back if it had lapsed: it is real.)
_RENEW = _NOW_AND_SWEEP + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""
# KEYS: shares, costs, workers, slots. Returns {jobs, bytes, most jobs, workers}.
_USAGE = _NOW_AND_SWEEP + """
sweep(KEYS[1], KEYS[2])
sweep(KEYS[3], KEYS[4])
local used = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do used = used + tonumber(v) end
local most_jobs = 0
for _, v in ipairs(redis.call('HVALS', KEYS[4])) do most_jobs = most_jobs + math.min(tonumber(v), tonumber(ARGV[1])) end
return {redis.call('ZCARD', KEYS[1]), used, most_jobs, redis.call('HLEN', KEYS[4])}
"""


class RedisBudget:
    """Jobs and bytes of training state at once, for every process that shares one Redis."""

    def __init__(self, url: str, prefix: str = "lossviz:budget:", jobs_per_worker: int | None = None,
                 bytes_per_worker: int | None = None) -> None:
        import redis  # only on the Celery path

        self.client = redis.Redis.from_url(url)
        self.jobs_per_worker = int(jobs_per_worker or caps.limit("server_jobs"))
        self.bytes_per_worker = int(bytes_per_worker or caps.limit("job_memory") * 2 ** 20)
        self._shares = [prefix + "shares", prefix + "costs"]
        self._workers = [prefix + "workers", prefix + "slots"]
        self._take = self.client.register_script(_TAKE)
        self._renew = self.client.register_script(_RENEW)
        self._usage = self.client.register_script(_USAGE)

    def take(self, cost: int) -> str | None:
        """A share of the budget for one job costing ``cost`` bytes (its token), or None when the
        live workers' jobs or memory are spent (or no worker is alive)."""
        token = secrets.token_hex(12)
        ok = self._take(keys=self._shares + self._workers,
                        args=[token, int(cost), int(QUEUED_TTL_S * 1000), self.jobs_per_worker, self.bytes_per_worker])
        return token if ok else None

    def renew(self, token: str, cost: int) -> None:
        self._renew(keys=self._shares, args=[token, int(cost), int(SHARE_TTL_S * 1000)])

    def give(self, token: str) -> None:
        with self.client.pipeline() as pipe:
            pipe.zrem(self._shares[0], token).hdel(self._shares[1], token).execute()

    def beat(self, worker: str, slots: int) -> None:
        """Worker ``worker`` is alive and runs ``slots`` jobs at once (for WORKER_TTL_S)."""
        self._renew(keys=self._workers, args=[worker, int(slots), int(WORKER_TTL_S * 1000)])

    def leave(self, worker: str) -> None:
        with self.client.pipeline() as pipe:
            pipe.zrem(self._workers[0], worker).hdel(self._workers[1], worker).execute()

    def usage(self) -> dict:
        """{"jobs", "bytes", "most_jobs", "workers"} now (shares and workers that lapsed left out)."""
        jobs, used, most, workers = self._usage(keys=self._shares + self._workers, args=[self.jobs_per_worker])
        return {"jobs": int(jobs), "bytes": int(used), "most_jobs": int(most), "workers": int(workers)}

    @contextmanager
    def hold(self, token: str, cost: int):
        """While a job runs: its share renewed every RENEW_EVERY_S, given back at the end."""
        done = threading.Event()

        def renew() -> None:
            while True:
                try:
                    self.renew(token, cost)
                except Exception:  # noqa: BLE001 - Redis away for a moment: the share may lapse
                    log.warning("could not renew a job's budget share", exc_info=True)
                if done.wait(RENEW_EVERY_S):
                    return

        thread = threading.Thread(target=renew, name="lossviz-share", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=1.0)
            try:
                self.give(token)
            except Exception:  # noqa: BLE001 - it lapses by itself
                log.warning("could not give back a job's budget share", exc_info=True)

    def keep_registered(self, worker: str, slots: int) -> threading.Event:
        """Register ``worker`` now and renew it on a daemon thread; set the Event to stop."""
        self.beat(worker, slots)
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(RENEW_EVERY_S):
                try:
                    self.beat(worker, slots)
                except Exception:  # noqa: BLE001 - Redis away for a moment: try again
                    log.warning("could not renew this worker's budget entry", exc_info=True)

        threading.Thread(target=loop, name="lossviz-worker-beat", daemon=True).start()
        return stop
