"""Lessons on the page: a picker with previous/next, ``/?lesson=ID``, and the lesson's words.

Choosing a lesson sets every control at once — settings, compare mode, view options — from
``app/page/lessons.toml``. A dataset's default noise, compare mode's suggested value for B and its
default plane are applied when a person changes those controls, never when a lesson just set
them: the lesson leaves a short-lived note (``store-lesson``) that those callbacks honour.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from lossviz import DATASETS

from .. import ids
from ..controls import CONTROLS, MAX_HIDDEN_LAYERS
from ..lessons import lesson_by_id, load_lessons

LESSON_NOTE_S = 3.0  # how long a lesson's "I set these" note holds off the defaults


def layout() -> html.Div:
    lessons = load_lessons()
    picker = dcc.Dropdown(id=ids.LESSON, options=[{"label": f"{i + 1}. {l.title}", "value": l.id}
                                                  for i, l in enumerate(lessons)],
                          placeholder="Lessons: pick one to set everything up", clearable=True,
                          searchable=False, className="ctl-dropdown lesson-picker")
    return html.Div([html.Div([picker,
                               html.Button("◀", id=ids.LESSON_PREV, className="btn small", title="Previous lesson"),
                               html.Button("▶", id=ids.LESSON_NEXT, className="btn small", title="Next lesson")],
                              className="lesson-row"),
                     html.Div(id=ids.LESSON_TEXT, className="lesson-text"),
                     dcc.Location(id=ids.URL, refresh=False), dcc.Store(id=ids.STORE_LESSON),
                     dcc.Store(id=ids.STORE_LESSON_STEPS)],
                    className="lesson-bar")


def asked_lesson(search) -> str | None:
    """The ``lesson`` of a URL query (``?lesson=ID``), or None."""
    if not isinstance(search, str) or len(search) > 2000:
        return None
    return parse_qs(search.lstrip("?")).get("lesson", [None])[0]


def fresh_note(note, key: str, value) -> bool:
    """True while a lesson's note says it just set ``key`` to ``value`` (so a default must wait)."""
    return isinstance(note, dict) and time.time() - note.get("t", 0) < LESSON_NOTE_S and note.get(key) == value


def _text_value(field: str, value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def control_values(lesson) -> dict:
    """Every widget value a lesson sets: {(id, prop): value}."""
    config, out = lesson.config(), {}
    noise = config.noise if config.noise is not None else DATASETS[config.dataset].default_noise
    for c in CONTROLS:
        value = noise if c.field == "noise" else getattr(config, c.field)
        out[(c.id, "value")] = value if c.kind == "dropdown" else _text_value(c.field, value)
    out[(ids.LAYERS, "value")] = len(config.hidden)
    out[("widths", "value")] = [str(w) for w in config.hidden] + ["16"] * (MAX_HIDDEN_LAYERS - len(config.hidden))
    return out


def register(app, services) -> None:
    from ..compare import COMPARE_FIELDS

    outputs = [Output(c.id, "value", allow_duplicate=True) for c in CONTROLS]
    outputs += [Output(ids.LAYERS, "value", allow_duplicate=True),
                Output({"type": ids.WIDTH, "index": ALL}, "value", allow_duplicate=True),
                Output(ids.COMPARE, "value", allow_duplicate=True), Output(ids.COMPARE_FIELD, "value", allow_duplicate=True),
                Output(ids.COMPARE_CHOICE, "value", allow_duplicate=True),
                Output(ids.COMPARE_VALUE, "value", allow_duplicate=True),
                Output(ids.DIRECTIONS, "value", allow_duplicate=True), Output(ids.SURFACE_OF, "value", allow_duplicate=True),
                Output(ids.PAGE_VIEW, "value", allow_duplicate=True), Output(ids.DISPLAY, "value", allow_duplicate=True),
                Output(ids.STORE_LESSON, "data"), Output(ids.LESSON_TEXT, "children")]

    n_widths = MAX_HIDDEN_LAYERS
    width_at = len(CONTROLS) + 1  # the ALL output wants a list, even of no_update

    def nothing(*tail):
        out = [no_update] * (len(outputs) - len(tail)) + list(tail)
        out[width_at] = [no_update] * n_widths
        return tuple(out)

    @app.callback(*outputs, Input(ids.LESSON, "value"), prevent_initial_call=True)
    def apply_lesson(lesson_id):
        if not lesson_id:
            return nothing(None, "")
        try:
            lesson = lesson_by_id(load_lessons(), str(lesson_id)[:100])
        except ValueError as exc:
            return nothing(str(exc))
        values = control_values(lesson)
        compare, view = lesson.compare, lesson.view
        field = compare.field if compare else "loss"
        b = compare.value if compare else None
        options = COMPARE_FIELDS[field].options if field in COMPARE_FIELDS else ()
        choice = b if options else no_update
        text = (",".join(map(str, b)) if isinstance(b, (list, tuple)) else _text_value(field, b)) \
            if compare and not options else no_update
        plane = view.get("plane", "compare" if compare else "random")
        note = {"t": time.time(), "dataset": lesson.config().dataset, "field": field, "plane": plane,
                "choice": b if options else None}
        words = [html.B(lesson.title), html.Span(" " + lesson.explanation + " "),
                 html.Span("Question: " + lesson.question, className="lesson-question")]
        return (*[values[(c.id, "value")] for c in CONTROLS], values[(ids.LAYERS, "value")],
                values[("widths", "value")], ["on"] if compare else [], field, choice, text, plane,
                view.get("surface_of", "train"), view.get("page", "plots"), view.get("display", "both"),
                note, words)

    @app.callback(Output(ids.LESSON, "value"), Output(ids.STORE_LESSON_STEPS, "data"),
                  Input(ids.URL, "search"), Input(ids.LESSON_PREV, "n_clicks"), Input(ids.LESSON_NEXT, "n_clicks"),
                  State(ids.LESSON, "value"), State(ids.STORE_LESSON_STEPS, "data"))
    def choose_lesson(search, prev, nxt, current, applied):
        """◀/▶ by their click counts, not by which input fired: a call made for another reason (the
        address bar following the controls) can overtake a press's own call, and Dash then drops
        the press's answer; the newer call still carries the count, so the press is applied."""
        lessons = [l.id for l in load_lessons()]
        current = current if isinstance(current, str) else None
        counts = {"prev": _count(prev), "next": _count(nxt)}
        applied = applied if isinstance(applied, dict) else {}
        step = (counts["next"] - _count(applied.get("next"))) - (counts["prev"] - _count(applied.get("prev")))
        if step:
            at = lessons.index(current) if current in lessons else (-1 if step > 0 else 0)
            return lessons[(at + step) % len(lessons)], counts
        if ctx.triggered_id in (ids.LESSON_PREV, ids.LESSON_NEXT):
            raise PreventUpdate  # that press was applied already
        asked = asked_lesson(search)
        if asked is None or len(asked) > 100:
            raise PreventUpdate
        if asked not in lessons:
            raise PreventUpdate  # the picker stays empty; the page says why (below)
        return asked, counts

    @app.callback(Output(ids.LESSON_TEXT, "children", allow_duplicate=True), Input(ids.URL, "search"),
                  prevent_initial_call="initial_duplicate")
    def unknown_lesson(search):
        asked = asked_lesson(search)
        if asked is None or asked in {l.id for l in load_lessons()}:
            raise PreventUpdate
        return f"lesson: there is no lesson '{str(asked)[:60]}' — pick one from the list (the page kept its defaults)"


def _count(n) -> int:
    """A click count from the page (anything else counts as none)."""
    return n if isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 10 ** 6 else 0
