"""The views of the page: which plot boxes show, the page's first figures, and the landscape,
data and A–B views on each view tick. The landscape redraws only when the weights or a
computing option changed; view-only options re-draw from the cached result."""

from __future__ import annotations

import json
from contextlib import contextmanager

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate


from . import ids
from ..views.drawing import PageLoad, draw
from .first_page import FirstPage
from ..views.drawing_compare import draw_compare
from ..views.exports import Page
from ..views.compute import NORMALIZATIONS, PLANES, SURFACES
from .layout import VIEW_MS
from .messages import guarded
from .run_control import own_run, run_hots
from ..runs.run import load_view
from ..runs.services import Services



@contextmanager
def one_view_at_a_time(services: Services, run_id: str, timer: bool):
    """While one view request of a run is being answered, a timer's next one answers nothing
    at once (the page's interval fires on schedule, and an overtaken answer would carry
    what the page showed before: the same figures built twice). A request for a changed
    option waits its turn instead, briefly."""
    with services.view_locks.hold(run_id, None if timer else 3.0) as got:
        if not got and timer:
            raise PreventUpdate
        # A timer's requests come on schedule even when answers take longer than that: an
        # answer sent less than a view period ago may not be on the page yet, and the next one
        # would be built from what the page showed before (whole figures again, not patches).
        if timer and not services.view_pacer.due(run_id, 0.75 * VIEW_MS / 1000 * services.load.slowdown()):
            raise PreventUpdate
        yield


PLOT_BOXES = (ids.BOX_CONTOUR, ids.BOX_SURFACE, ids.BOX_CONTOUR_B, ids.BOX_DATA_B, ids.BOX_LINE)


def box_styles(mode: str, compare: bool) -> list[dict]:
    """The style of each of PLOT_BOXES for the 2D/3D/both choice and compare mode."""
    hide, wide = {"display": "none"}, {"gridColumn": "1 / span 2"}
    if compare:  # A and B side by side: both contours, and the straight line between them
        return [{}, hide, {}, {}, {}]
    return [hide if mode == "3d" else (wide if mode == "2d" else {}),
            hide if mode == "2d" else (wide if mode == "3d" else {}), hide, hide, hide]


def register(app, services: Services, first_page: FirstPage) -> None:
    _first_figures(app, first_page)
    _plot_boxes(app)
    _landscape(app, services)


def _first_figures(app, first_page: FirstPage) -> None:
    """The default run's first contour at once, its 3-D view and data plot once the page is calm."""
    def _first(token) -> dict:
        first = first_page.get() if isinstance(token, str) else None
        if first is None or token != first["token"]:
            raise PreventUpdate
        return first

    @app.callback(Output(ids.GRAPH_CONTOUR, "figure", allow_duplicate=True), Output(ids.STORE_FIRST_3D, "data"),
                  Input(ids.STORE_FIRST, "data"), prevent_initial_call="initial_duplicate")
    def first_figures(token):
        """The default run's contour, alone in the page's first batch (app.page.first_page)."""
        return _first(token)["contour"], token

    app.clientside_callback(  # and once the page has stopped drawing for a moment (or Train drew them)
        f"function(token) {{ return window.lossviz.whenCalm(token, ['{ids.GRAPH_SURFACE}', '{ids.GRAPH_DATA}'], "
        f"'{ids.CLOCK_TRAIN}'); }}",
        Output(ids.STORE_FIRST_3D_CALM, "data"), Input(ids.STORE_FIRST_3D, "data"), prevent_initial_call=True)

    @app.callback(Output(ids.STORE_FIRST_FIGURES, "data"), Input(ids.STORE_FIRST_3D_CALM, "data"),
                  prevent_initial_call=True)
    def first_surface(token):
        """Its 3-D view and data plot, asked for once the contour is in and the page is calm (the
        3-D view's WebGL paint blocks the page for most of a second, far longer on a slow or
        crowded laptop; a press of Train meanwhile is answered first)."""
        first = _first(token)
        return {"surface": first["surface"], "data": first["data"]}

    app.clientside_callback(  # drawn only if no run has started meanwhile (its own views are newer)
        f"""function(figs) {{
             var none = window.dash_clientside.no_update;
             if (!figs || window.lossviz.training('{ids.CLOCK_TRAIN}')) {{ return [none, none]; }}
             return [figs.surface, figs.data]; }}""",
        Output(ids.GRAPH_SURFACE, "figure", allow_duplicate=True), Output(ids.GRAPH_DATA, "figure", allow_duplicate=True),
        Input(ids.STORE_FIRST_FIGURES, "data"), prevent_initial_call=True)


def _plot_boxes(app) -> None:
    """Which plot boxes show, in the browser."""
    # In the browser, at once: B's boxes are shown before B's first figures can arrive (a figure
    # drawn into a hidden box is laid out with no size: plotly.js puts its axis titles at infinity).
    table = {key: box_styles(key, False) for key in ("2d", "3d", "both")} | {"compare": box_styles("both", True)}
    app.clientside_callback(  # the layout's boxes are those of "both", compare off
        f"""function(mode, compare) {{ var t = {json.dumps(table)};
             return (compare && compare.length) ? t.compare : (t[mode] || t.both); }}""",
        *[Output(box, "style") for box in PLOT_BOXES],
        Input(ids.DISPLAY, "value"), Input(ids.COMPARE, "value"), prevent_initial_call=True)


def _landscape(app, services: Services) -> None:
    """The landscape, data and A–B views on each view tick (redrawn only when something changed)."""
    @app.callback(Output(ids.GRAPH_CONTOUR, "figure"), Output(ids.GRAPH_SURFACE, "figure"),
                  Output(ids.GRAPH_DATA, "figure"), Output(ids.STORE_DRAWN, "data"),
                  Output(ids.VIEW_ERROR, "children"), Output(ids.LANDSCAPE_NOTE, "children"),
                  Output(ids.GRAPH_CONTOUR_B, "figure"), Output(ids.GRAPH_DATA_B, "figure"),
                  Output(ids.GRAPH_LINE, "figure"),
                  Input(ids.INTERVAL_VIEW, "n_intervals"), Input(ids.STORE_RUN, "data"),
                  Input(ids.GRID, "value"), Input(ids.RANGE, "value"), Input(ids.DIRECTIONS, "value"),
                  Input(ids.LOG_Z, "value"), Input(ids.DISPLAY, "value"), Input(ids.SURFACE_OF, "value"),
                  Input(ids.NORMALIZATION, "value"),
                  State(ids.STORE_DRAWN, "data"), State(ids.STORE_SESSION, "data"), State(ids.STORE_INSPECT, "data"),
                  State(ids.STORE_PAGE_BUSY, "data"))
    @guarded(ids.VIEW_ERROR)
    def draw_views(_n, run, grid, span_text, directions, log_z, display, of, norm, drawn, session, inspecting,
                   page_busy):
        of = of if of in SURFACES else "train"
        out = _draw_views(run, grid, span_text, directions, log_z, display, drawn, session, of, norm,
                          page_busy if isinstance(page_busy, dict) else {})
        if isinstance(inspecting, dict) and inspecting.get("run_id") == (run or {}).get("run_id"):
            out = list(out)
            out[2 if inspecting.get("slot") == 0 else 7] = no_update  # the clicked network stays shown
        return tuple(out)

    def _draw_views(run, grid, span_text, directions, log_z, display, drawn, session, of, norm, page_busy):
        if not run:
            raise PreventUpdate
        try:  # grid and range checked as every view checks them (app.views.exports.Page)
            page = Page.of_inputs(grid, span_text, directions, of, log_z, "", norm)
            grid, span = page.grid, page.span
        except ValueError as exc:
            return no_update, no_update, no_update, no_update, str(exc), no_update, no_update, no_update, no_update
        hot = own_run(services, run, session)
        if hot is None:
            raise PreventUpdate
        directions = directions if directions in (*PLANES, "compare") else "random"
        drawn = drawn if isinstance(drawn, dict) else {}
        with one_view_at_a_time(services, hot["run_id"], ctx.triggered_id == ids.INTERVAL_VIEW):
            hots = run_hots(services.store, hot)
            running = any(h["state"] == "training" for h in hots)
            try:
                if len(hots) > 1:
                    views = [load_view(services.store, h) for h in hots]
                    plane = directions if directions in ("random", "pca") else "compare"
                    return draw_compare(services, views, [h["label"] for h in hots], grid, bool(log_z),
                                        display, running, drawn, of, plane)
                single = directions if directions != "compare" else "random"
                return draw(services, load_view(services.store, hot), grid, span, single, bool(log_z),
                            display, running, drawn, of, norm if norm in NORMALIZATIONS else "filter",
                            page=PageLoad.of(page_busy)) \
                    + (no_update, no_update, no_update)
            except PreventUpdate:  # nothing to repaint; still clear a message about a fixed input
                return (no_update,) * 4 + ("",) + (no_update,) * 4
            except LookupError:
                if services.store.hot(hot["run_id"]) is None:
                    raise PreventUpdate  # Reset or new settings replaced it while it was drawn
                raise
