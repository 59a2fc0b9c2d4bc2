"""``lossviz worker``: a Celery worker that trains runs sent through Redis.

Jobs run on a pool of threads ('worker_jobs' by default): a run at a normal speed spends most
of its time waiting for its next slice, so one process trains several at once (a process per
job would leave runs queued). The worker and the web processes share runs through Redis
(``LOSSVIZ_REDIS_URL``), and the job budget too: the worker registers its threads there
(``app.runs.budget``), so the web servers send no more jobs than the live workers can run.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from typing import Sequence

from .caps import limit
from .jobs import warm_up
from .priority import JOB_NICENESS
from .memory import IdleTrimmer, limit_arenas, trim

TASK = "lossviz.train"


def make_celery(redis_url: str):
    """A Celery app on ``redis_url`` with the training task registered."""
    from celery import Celery

    celery_app = Celery("lossviz", broker=redis_url)
    # Prefetch 1: a worker whose threads are all busy leaves the next job to another worker.
    celery_app.conf.update(task_acks_late=False, worker_prefetch_multiplier=1, task_ignore_result=True,
                           broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
                           task_time_limit=limit("job_seconds") + 60)
    state = {"trimmer": IdleTrimmer()}

    @celery_app.task(name=TASK)
    def train(run_id: str, share: str | None = None, cost: int = 0) -> str:
        """Train ``run_id``; ``share``: the budget share its web server took, held while the
        job runs and given back at its end."""
        from .budget import RedisBudget
        from .jobs import run_job
        from .kv import CACHE_ENV
        from .store import RunStore

        if "store" not in state:  # one store per worker process, opened on its first job
            state["store"] = RunStore.open(os.environ.get(CACHE_ENV) or None, redis_url)
            state["budget"] = RedisBudget(redis_url)
        try:
            if not isinstance(share, str):
                return run_job(state["store"], str(run_id))
            with state["budget"].hold(share, int(cost)):
                return run_job(state["store"], str(run_id))
        finally:
            state["trimmer"].touch()

    celery_app.lossviz_trimmer = state["trimmer"]
    return celery_app


def main(argv: Sequence[str]) -> int:
    from .kv import REDIS_ENV

    p = argparse.ArgumentParser(prog="lossviz worker", description="Train lossviz runs sent through Redis "
                                f"(set {REDIS_ENV}, e.g. redis://127.0.0.1:6379/0).")
    p.add_argument("--concurrency", type=int, default=int(limit("worker_jobs")),
                   help="runs trained at once (threads; the web servers send no more); default %(default)s")
    args = p.parse_args(argv)
    url = os.environ.get(REDIS_ENV)
    if not url:
        p.error(f"{REDIS_ENV} is not set: the worker takes its jobs from Redis")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.nice(JOB_NICENESS)  # as the web server's (app.runs.priority: Max speed's threads step aside)
    limit_arenas()
    warm_up()  # what the first job would load lazily is loaded before the worker says ready
    trim()
    if args.concurrency < 1:
        p.error("--concurrency must be at least 1")
    celery_app = make_celery(url)
    celery_app.lossviz_trimmer.start()
    from .budget import RedisBudget

    budget, me = RedisBudget(url), f"{socket.gethostname()}:{os.getpid()}"
    beating = budget.keep_registered(me, args.concurrency)  # the web servers may send jobs now
    try:
        celery_app.worker_main(["worker", "--pool", "threads", "--concurrency", str(args.concurrency),
                                "--loglevel", "INFO", "--without-gossip", "--without-mingle"])
    finally:
        beating.set()
        budget.leave(me)
    return 0
