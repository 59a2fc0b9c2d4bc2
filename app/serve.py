"""Serve the app with gunicorn: several processes, each an asyncio front (uvicorn, ``app.front``)
with a few request threads behind it.

Each process builds its own app after the fork (no threads exist before it), warms it with one
request of each kind (Dash 4.4 has a first-request race with threaded workers), and from then
on shares runs with the others only through the store. Connections, slow request heads and
bodies and slow readers are the front's business; a request thread only ever sees a whole
request.
"""

from __future__ import annotations

import os
import sys

from gunicorn.app.base import BaseApplication

from .runs.memory import IdleTrimmer, trim

SWITCH_INTERVAL_S = 0.0005
FAST_LANE = "lossviz.fast_lane"  # the server's extension: which requests go ahead (app.page.lanes)
PROFILE_ENV = "LOSSVIZ_PROFILE"  # a folder: each request's cProfile goes there (bench_live_cost.py)


def make_server():
    """The Flask server of a fresh, warmed app (configured from the environment)."""
    from .main import CACHE_ENV, REDIS_ENV, create_app
    from .page.lanes import fast_lane

    app = create_app(os.environ.get(CACHE_ENV) or None, os.environ.get(REDIS_ENV) or None, job_process=True)
    # A tick is a few milliseconds of Python between waits; a landscape computed on another
    # thread holds the GIL for its whole switch interval each time the tick wants it back, so at
    # the default 5 ms a tick waited seconds behind a landscape. 0.5 ms keeps ticks quick.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    trimmer = IdleTrimmer().start()
    app.server.before_request(trimmer.touch)
    client = app.server.test_client()
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        client.get(path)
    _warm_views()
    app.lossviz_first_page.get()  # the default run's first figures (app.page.first_page), ready to send
    app.server.extensions[FAST_LANE] = fast_lane(app.callback_map)
    trim()
    if os.environ.get(PROFILE_ENV):  # one cProfile file per request, to see where a server's time goes
        from werkzeug.middleware.profiler import ProfilerMiddleware

        os.makedirs(os.environ[PROFILE_ENV], exist_ok=True)
        app.server.wsgi_app = ProfilerMiddleware(app.server.wsgi_app, stream=None, profile_dir=os.environ[PROFILE_ENV],
                                                 filename_format="{method}.{path}.{time:.6f}.{elapsed:.0f}ms.prof")
    return app.server


def _warm_views() -> None:
    """Compute and draw one small landscape, so what the first page would load lazily (BLAS,
    the figure code) is loaded before the server says it is ready."""
    from lossviz import RunConfig

    from .views import drawing
    from .runs.run import RunView, advance_run, new_run
    from .views.compute import data_view, landscape

    state = new_run(RunConfig(n_samples=60, hidden=(4,), epochs=3))
    advance_run(state, 3)
    view = RunView.of_state(state)
    drawn = landscape(view, 11, 1.0)
    drawing.contour_of(drawn, False, False, "warm")
    drawing.surface3d_of(drawn, False, False, "warm")
    drawing._data_output(data_view(view), False, "warm")


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .front import front

        server = make_server()
        # --threads: the pool that runs the Flask app; ticks and presses have a lane of their own
        return front(server, self.cfg.threads, server.extensions.get(FAST_LANE))


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn in the foreground until interrupted."""
    from .front import max_connections

    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
               "worker_class": "app.front.LossvizWorker", "worker_connections": max_connections(),
               "timeout": 60, "graceful_timeout": 5, "keepalive": 5,
               "accesslog": None, "loglevel": "warning", "preload_app": False,
               "control_socket_disable": True, "proc_name": "lossviz",
               "raw_env": [], "max_requests": 0}).run()



