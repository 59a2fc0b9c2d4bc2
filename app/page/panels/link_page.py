"""Shareable links: the whole state in the address bar, updated as controls change (no
reload); opening a link restores every control; "Copy link" puts it on the clipboard."""

from __future__ import annotations

import time

from dash import ALL, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from ..controls import MAX_HIDDEN_LAYERS
from ..state import BY_KEY, ROWS, from_query, to_query
from .lesson_page import asked_lesson


def layout() -> list:
    return [html.Button("Copy link", id=ids.COPY_LINK, className="btn small",
                        title="Copy a link that opens this page with every setting as it is now"),
            html.Span(id=ids.LINK_NOTE, className="note inline")]


def register(app) -> None:
    rows = [r for r in ROWS]
    outputs = [Output(r.widget, r.prop, allow_duplicate=True) for r in rows]
    outputs += [Output(ids.LAYERS, "value", allow_duplicate=True),
                Output({"type": ids.WIDTH, "index": ALL}, "value", allow_duplicate=True),
                Output(ids.COMPARE, "value", allow_duplicate=True), Output(ids.COMPARE_FIELD, "value", allow_duplicate=True),
                Output(ids.COMPARE_CHOICE, "value", allow_duplicate=True),
                Output(ids.COMPARE_VALUE, "value", allow_duplicate=True),
                Output(ids.STORE_LESSON, "data", allow_duplicate=True), Output(ids.LINK_NOTE, "children"),
                Output(ids.STORE_RESTORED, "data")]

    def _nothing(outs):
        out = [no_update] * len(outs)
        out[len(rows) + 1] = [no_update] * MAX_HIDDEN_LAYERS
        return out

    @app.callback(*outputs, Input(ids.URL, "search"), State(ids.STORE_RESTORED, "data"),
                  prevent_initial_call="initial_duplicate")
    def restore(search, restored):
        """Once per page: the link's settings into the controls (a lesson link is the lesson's)."""
        if restored:
            raise PreventUpdate
        if not isinstance(search, str) or not search.strip("?") or asked_lesson(search):
            out = _nothing(outputs)
            out[-1] = True  # nothing to read: from now on the link follows the controls
            if asked_lesson(search):  # a lesson sets the settings; the link may still ask to present
                present = from_query(search)[0].get((ids.PRESENT, "value"))
                out[[i for i, r in enumerate(rows) if r.widget == ids.PRESENT][0]] = present or no_update
            return out
        values, problems = from_query(search)
        out = [values.get((r.widget, r.prop), no_update) for r in rows]
        out += [values.get((ids.LAYERS, "value"), no_update),
                values.get(("widths", "value"), [no_update] * MAX_HIDDEN_LAYERS),
                values.get((ids.COMPARE, "value"), no_update), values.get((ids.COMPARE_FIELD, "value"), no_update),
                values.get((ids.COMPARE_CHOICE, "value"), no_update),
                values.get((ids.COMPARE_VALUE, "value"), no_update)]
        dataset = values.get((BY_KEY["dataset"].widget, "value"))
        plane = values.get((BY_KEY["plane"].widget, "value"))
        out.append({"t": time.time(), "dataset": dataset, "field": values.get((ids.COMPARE_FIELD, "value")),
                    "plane": plane, "choice": values.get((ids.COMPARE_CHOICE, "value"))})
        out.append(("Link: " + " · ".join(problems)) if problems else "")
        out.append(True)
        return out

    inputs = [Input(r.widget, r.prop) for r in rows]

    @app.callback(Output(ids.URL, "search", allow_duplicate=True), *inputs, Input(ids.LAYERS, "value"),
                  Input({"type": ids.WIDTH, "index": ALL}, "value"), Input(ids.STORE_COMPARE, "data"),
                  State(ids.STORE_RESTORED, "data"), prevent_initial_call=True)
    def write_link(*args):
        """The address bar follows the controls (replacing the query, not reloading)."""
        *values, layers, widths, compare, restored = args
        if not restored:
            raise PreventUpdate  # the link is still being read
        n = layers if isinstance(layers, int) and 0 <= layers <= MAX_HIDDEN_LAYERS else 0
        hidden = [str(w) for w in (widths or [])[:n]]
        current = {r.key: v for r, v in zip(rows, values)}
        return to_query(current, hidden, compare if isinstance(compare, dict) and compare.get("vary") else None)

    app.clientside_callback(
        """function(n) {
            if (!n) { return window.dash_clientside.no_update; }
            var url = window.location.href;
            if (navigator.clipboard && window.isSecureContext) {
                navigator.clipboard.writeText(url).catch(function () {});
                return "link copied";
            }
            var box = document.createElement("textarea");
            box.value = url; document.body.appendChild(box); box.select();
            var ok = false; try { ok = document.execCommand("copy"); } catch (e) {}
            document.body.removeChild(box);
            return ok ? "link copied" : "copy the address bar: it holds the link";
        }""",
        Output(ids.LINK_NOTE, "children", allow_duplicate=True), Input(ids.COPY_LINK, "n_clicks"),
        prevent_initial_call=True)
