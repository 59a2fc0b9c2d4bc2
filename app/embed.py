"""The app for a notebook: ``lossviz.show(**settings)`` opens it with those settings.

Settings are the keys of a shareable link (``app/state.py``): the RunConfig field names, the view
keys, ``compare``/``b``, ``lesson`` and ``present``. They are checked here the way the page checks
a link — the same table, the same parsers — but a value the page would replace by its default is
an error in Python, raised before any server starts. The app opens on the link's query: a visit to
``/`` without one is redirected to it, so Dash's own Jupyter display (an iframe on ``/``) opens
with the settings and the page restores them as it restores any link.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from lossviz.landscape import validate_span

from . import caps, ids
from .compare import COMPARE_FIELDS, suggestion
from .controls import CONTROLS, DEFAULT, parse_controls
from .state import ALIASES, BY_KEY, ROWS, from_query

FLAGS = ("log_z", "present")  # keys whose value is on/off
FALLBACK = re.compile(r"; (kept its default|ignored|compare mode stays off)$")
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
    from .lessons import lesson_by_id, load_lessons

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
    if "b" in texts and "compare" not in texts:
        raise ValueError("lossviz.show: 'b' is run B's value; say which setting it is with compare=FIELD")
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
