"""The ``lossviz`` console script: serve the app, run a job worker, or export a run.

    lossviz [--workers N] [--host H] [--port P]   serve (gunicorn, N processes)
    lossviz worker [--concurrency N]              a Celery worker (needs LOSSVIZ_REDIS_URL)
    lossviz export ...                            write a run to an .npz (see --help)
    lossviz lessons [--check]                     list the lessons (--check: verify their claims)

Without ``LOSSVIZ_REDIS_URL`` the app trains runs on threads of its own processes and keeps
them in a private folder on this disk; with it, runs live in Redis and ``lossviz worker``
processes (on this machine or others) train them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from .runs.kv import CACHE_ENV, REDIS_ENV
from .runs.memory import limit_arenas

ASSETS = Path(__file__).resolve().parent.parent / "assets"
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def create_app(cache_dir: str | None = None, redis_url: str | None = None, job_process: bool = False):
    """Build the Dash app. Runs live under ``cache_dir`` (or in Redis at ``redis_url``, trained
    by Celery workers); without Redis they train on threads of this process, or with
    ``job_process`` on threads of a child process (what the server uses)."""
    import dash

    from .page import callbacks, guard
    from . import static
    from .page.first_page import FirstPage
    from .runs.jobs import CeleryRunner, ProcessRunner, ThreadRunner
    from .runs.kv import default_directory
    from .page.layout import serve_layout
    from .runs.services import Services
    from .runs.store import RunStore

    store = RunStore.open(cache_dir, redis_url)
    if redis_url:
        from .runs.worker import make_celery

        runner = CeleryRunner(make_celery(redis_url))
    elif job_process:
        runner = ProcessRunner(cache_dir or default_directory())
    else:
        runner = ThreadRunner(store)
    app = dash.Dash(__name__, title="lossviz — loss landscape explorer", assets_folder=str(ASSETS),
                    update_title=None, serve_locally=True,
                    assets_path_ignore=["vendor"])  # plotly.js: loaded by the graphs (app.static)
    clients = guard.client_limits()  # what one network address may do (pages opened, requests)
    app.layout = lambda: serve_layout(store.new_session, clients.page_allowed)  # a signed session id per page
    services = Services(store, runner)
    first_page = FirstPage(store)
    callbacks.register(app, services, first_page)
    app.lossviz_services = services  # for tests and tools: the store and runner this app uses
    app.lossviz_first_page = first_page  # for the server's warm-up
    guard.protect(app.server, clients)
    static.install(app)
    return app


def _serve(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="lossviz", description="Start the lossviz app "
                                "(`lossviz worker --help`: a Celery job worker; `lossviz export --help`: "
                                "write a run to an .npz).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--workers", type=int, default=2, help="server processes (gunicorn); default 2")
    p.add_argument("--threads", type=int, default=4, help="request threads per process; default 4")
    p.add_argument("--debug", action="store_true", help="Dash's development server with dev tools (one process)")
    p.add_argument("--cache-dir", default=None, help=f"where runs are stored (default: ${CACHE_ENV} or a "
                                                     "private folder in the temp dir)")
    args = p.parse_args(argv)
    if not 1 <= args.workers <= 64 or not 1 <= args.threads <= 64:
        p.error("--workers and --threads must be between 1 and 64")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    limit_arenas()
    for var in BLAS_THREAD_VARS:  # several processes share the cores: one BLAS thread each
        os.environ.setdefault(var, "1")
    if args.cache_dir:
        os.environ[CACHE_ENV] = os.path.abspath(args.cache_dir)
    redis_url = os.environ.get(REDIS_ENV) or None
    print(f"lossviz is running at http://{args.host}:{args.port}/  (Ctrl+C to stop)"
          + ("; runs in Redis, trained by `lossviz worker`" if redis_url else ""), flush=True)
    if args.debug:
        app = create_app(args.cache_dir, redis_url)
        app.run(host=args.host, port=args.port, debug=True, threaded=True, use_reloader=False,
                dev_tools_disable_version_check=True)
        return 0
    from .serve import serve

    serve(args.host, args.port, args.workers, args.threads)
    return 0


def _lessons(argv: Sequence[str]) -> int:
    """``lossviz lessons``: each lesson's id and title, a tab between them, one lesson per line."""
    p = argparse.ArgumentParser(prog="lossviz lessons", description="List the lessons: id, a tab, title.")
    p.add_argument("--file", default=None, help="a lessons TOML file to read instead of the app's own")
    p.add_argument("--check", action="store_true", help="also train every lesson and check its claim "
                                                        "(exit status 1 if one does not hold)")
    args = p.parse_args(argv)
    from .page.lessons import load_lessons

    try:
        lessons = load_lessons(args.file)
    except (OSError, ValueError) as exc:
        print(f"lossviz lessons: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for lesson in lessons:
        print(f"{lesson.id}\t{lesson.title}", flush=True)
        if args.check:
            verdict = lesson.check()
            failed += not verdict.holds
            print(f"    {verdict}", flush=True)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        from lossviz.export import main as export_main

        return export_main(argv[1:])
    if argv[:1] == ["worker"]:
        from .runs.worker import main as worker_main

        return worker_main(argv[1:])
    if argv[:1] == ["lessons"]:
        return _lessons(argv[1:])
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())
