"""The app for a notebook: ``lossviz.show(**settings)`` opens it with those settings.

Settings are the keys of a shareable link (``app/page/state.py``): the RunConfig field names, the view
keys, ``compare``/``b``, ``lesson`` and ``present``. They are checked here the way the page checks
a link — the same table, the same parsers — but a value the page would replace by its default is
an error in Python, raised before any server starts. The app opens on the link's query: a visit to
``/`` without one is redirected to it, so Dash's own Jupyter display (an iframe on ``/``) opens
with the settings and the page restores them as it restores any link.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from lossviz.landscape import validate_span

from .runs import caps
from .page import ids
from .page.compare import COMPARE_FIELDS, suggestion
from .page.controls import CONTROLS, DEFAULT, parse_controls
from .page.state import ALIASES, BY_KEY, ROWS, from_query

MODES = ("inline", "external", "tab")  # how show() opens the app
FLAGS = ("log_z", "present")  # keys whose value is on/off
FALLBACK = re.compile(r"; (kept its default.*|ignored|compare mode stays off|run B gets the suggested value)$")
SETTING_KEYS = (*(r.key for r in ROWS), "hidden", "compare", "b", "lesson")


def settings_query(settings: dict[str, Any]) -> str:
    """The link query (``?dataset=circles&hidden=8,8``) for ``settings``; ValueError naming the
    key for an unknown key or a value the page would not take. ``None`` values are left out."""
    texts = {}
    for name, value in settings.items():
        key = ALIASES.get(name, name)
        if key not in SETTING_KEYS:
            raise ValueError(f"lossviz.show: {name!r} is not a setting; known: "
                             f"{', '.join(sorted({*SETTING_KEYS, *ALIASES}))}")
        if value is not None:
            texts[key] = _as_text(key, value)
    if "lesson" in texts:
        _check_lesson(texts)
    else:
        _check_settings(texts)
    order = [k for k in SETTING_KEYS if k in texts]
    return "?" + urlencode([(k, texts[k]) for k in order], safe=",")


def _as_text(key: str, value: Any) -> str:
    """A Python value as the link writes it (True -> 1, (8, 8) -> 8,8)."""
    if key in FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"lossviz.show: {key!r} takes True or False, got {value!r}")
        return "1" if value else "0"
    if isinstance(value, bool):
        raise ValueError(f"lossviz.show: {key!r} takes a {'name' if key in BY_KEY else 'value'}, got {value!r}")
    if isinstance(value, (list, tuple)) and key in ("hidden", "b"):
        return ",".join(str(v) for v in value)
    return str(value)


def _check_lesson(texts: dict[str, str]) -> None:
    from .page.lessons import lesson_by_id, load_lessons

    others = sorted(set(texts) - {"lesson", "present"})
    if others:
        raise ValueError(f"lossviz.show: a lesson sets every control itself; drop {', '.join(others)}")
    try:
        lesson_by_id(load_lessons(), texts["lesson"])
    except ValueError as exc:
        raise ValueError(f"lossviz.show: {exc}") from None


def _check_settings(texts: dict[str, str]) -> None:
    """Every problem the page would report for this link, as one ValueError."""
    query = "?" + urlencode(list(texts.items()), safe=",")
    values, problems = from_query(query)
    if problems:  # the page falls back and says so; Python refuses, in the page's words
        raise ValueError("lossviz.show: " + "; ".join(FALLBACK.sub("", p) for p in problems))
    try:
        config = _config(values)
        if "range" in texts:
            caps.check("range", validate_span(float(texts["range"])))
    except ValueError as exc:
        raise ValueError(f"lossviz.show: {exc}") from None
    if texts.get("plane") == "compare" and "compare" not in texts:
        raise ValueError("lossviz.show: plane='compare' (the A–B plane) needs compare=FIELD")
    if "compare" in texts:
        texts["b"] = _run_b_value(texts["compare"], texts.get("b"), config)


def _config(values: dict) -> Any:
    """The RunConfig the restored controls give (ValueError as the page words it)."""
    fields = {c.field: values.get((c.id, "value"), c.default) for c in CONTROLS}
    if (ids.LAYERS, "value") in values:
        n, widths = values[(ids.LAYERS, "value")], values[("widths", "value")]
    else:
        n, widths = len(DEFAULT.hidden), list(DEFAULT.hidden)
    return parse_controls(fields, n, widths)


def _run_b_value(field: str, text: str | None, config: Any) -> str:
    """Run B's value as link text: checked, or the page's own suggestion when not given."""
    spec = COMPARE_FIELDS[field]
    if text is None:
        choice, typed = suggestion(field, config)
        return choice if spec.options else typed
    if spec.options:
        names = [o["value"] for o in spec.options]
        if text not in names:
            raise ValueError(f"lossviz.show: 'b' for compare={field!r}: choose one of {', '.join(names)}")
    else:
        try:
            spec.parse(text)
        except ValueError as exc:
            raise ValueError(f"lossviz.show: 'b': {exc}") from None
    return text


def create_embedded_app(query: str, cache_dir: str | None = None):
    """The Dash app (runs on threads of this process) that opens on ``query``."""
    from flask import redirect, request

    from .main import create_app

    app = create_app(cache_dir)
    target = query.lstrip("?")

    @app.server.before_request
    def open_with_settings():
        # A relative redirect keeps any proxy prefix Jupyter puts before the app's path.
        if target and request.method == "GET" and request.path == "/" and not request.query_string:
            return redirect("?" + target, code=302)
        return None

    return app


# --- show in a notebook ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """A lossviz app serving on a thread of this process (see :func:`show`)."""

    url: str  # the page, with the settings' query
    query: str
    app: Any = field(repr=False)  # the dash.Dash app
    server: Any = field(repr=False)  # the werkzeug server thread's server

    def stop(self) -> None:
        """Stop serving (the page in the cell stops answering)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __str__(self) -> str:
        return self.url


def show(*, mode: str = "inline", port: int | None = None, height: int = 650,
         host: str = "127.0.0.1", **settings: Any) -> Shown:
    """Open the lossviz app in this notebook, set up with ``settings``.

    Parameters
    ----------
    **settings
        The keys of a shareable link: RunConfig field names (``dataset``, ``n_samples``/``samples``,
        ``noise``, ``outlier_fraction``/``outliers``, ``hidden`` (a tuple such as ``(8, 8)``),
        ``activation``, ``loss``, ``huber_delta``, ``optimizer``, ``momentum``, ``lr``,
        ``batch_size``, ``epochs``, ``l2``, ``l1``, ``seed``), the view (``grid``, ``range``,
        ``plane``, ``log_z``, ``display``, ``surface_of``, ``page``), compare mode
        (``compare=FIELD``, ``b=VALUE``; B's value defaults to the page's suggestion),
        ``lesson=ID`` and ``present=True``. Keys left out keep the page's defaults.
        An unknown key or a value the page would refuse raises ValueError naming it, before
        anything starts.
    mode : "inline" (an iframe in the cell), "external" (print the link) or "tab" (open a
        browser tab). Outside Jupyter every mode serves and prints the link.
    port : the port to serve on; None picks a free one (so several apps can run at once).
    height : the iframe's height in pixels (mode "inline").
    host : the interface to serve on.

    Returns
    -------
    Shown
        ``.url`` (the page with the settings' query), ``.app`` (the Dash app) and ``.stop()``.
        The server is a daemon thread: it ends with the kernel, or at ``.stop()``.

    Notes
    -----
    Dash's iframe opens ``/``, which redirects (relatively, so a Jupyter proxy's prefix is kept)
    to the settings' query; the page then restores them as it restores a shared link. Behind
    JupyterHub, call ``dash.jupyter_dash.infer_jupyter_proxy_config()`` first, as for any Dash app.
    """
    if mode not in MODES:
        raise ValueError(f"lossviz.show: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 5000:
        raise ValueError(f"lossviz.show: height is the iframe's height in pixels (100..5000), got {height!r}")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise ValueError(f"lossviz.show: port must be a whole number 1..65535, got {port!r}")
    query = settings_query(settings)  # ValueError before anything starts
    port = _free_port(host) if port is None else port
    app = create_embedded_app(query)
    url = f"http://{host}:{port}/{query if query != '?' else ''}"
    from dash import jupyter_dash

    if jupyter_dash.active:  # in a kernel: Dash's own Jupyter runner and display (its iframe
        app.run(jupyter_mode=mode, jupyter_height=height, host=host, port=port)  # opens on "/",
        server = jupyter_dash._servers.get((host, port))  # which redirects to the query)
    else:
        server = _serve_in_thread(app, host, port)
        print(f"lossviz is running at {url}", flush=True)
        if mode == "tab":
            import webbrowser

            webbrowser.open(url)
    return Shown(url, query, app, server)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _serve_in_thread(app: Any, host: str, port: int) -> Any:
    """Serve ``app`` on a daemon thread (as Dash's Jupyter runner does); return the server."""
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):  # no line per request under the notebook's cell
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server(host, port, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, name=f"lossviz-show-{port}", daemon=True).start()
    return server
