"""The "Surfaces" view of the page: the accuracy surface beside the loss surface on one grid,
train and test loss over the same plane (where does the test minimum sit?), the straight line
from the initial weights to now, and on demand the convexity map |λmin/λmax| with a progress bar.

The plane is the one the landscape shows (its plane, grid, range and normalization settings);
in compare mode these are run A's. Everything is cached by its inputs in the results store; the
convexity map is computed a few rows per request (never in the training job) for the weights
as they were when it was asked for.
"""

from __future__ import annotations

import time

from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from . import forks_page
from ...views.drawing import landscape_for
from ...views.exports import Page
from ...views.figures import blank_figure
from ..messages import guarded
from ..run_control import own_run, run_hots
from ...runs.run import load_view
from ...views.compute import PLANES
from ...views.panels.surfaces import (CONVEXITY_WORK, convexity_figure, convexity_grid, convexity_rows,
                                      init_line_figure, init_to_now, loss_and_accuracy_figure, test_surface,
                                      train_test_figure)

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}
CONVEXITY_BUDGET_S = 0.4


def _graph(graph_id: str):
    # blank until the view's first figure: a graph's own default axes (0 to 6) squeezed their
    # ticks together in a short plot
    return html.Div(dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="graph", figure=blank_figure()),
                    className="plot")


def layout() -> html.Div:
    convexity = html.Div([
        html.Div([html.Button("Compute convexity map", id=ids.CONVEXITY_BUTTON, className="btn small",
                              title="|λmin/λmax| of the Hessian at each point of a coarse grid over this plane, "
                                    "for the weights as they are now (a few seconds for a small network)"),
                  html.Progress(id=ids.CONVEXITY_PROGRESS, value="0", max="1", className="progress"),
                  html.Span(id=ids.CONVEXITY_TEXT, className="note inline")], className="convexity-bar"),
        dcc.Graph(id=ids.GRAPH_CONVEXITY, config=GRAPH_CONFIG, className="graph", figure=blank_figure())],
        className="plot convexity-box")
    return html.Div([html.Div(id=ids.SURFACES_NOTE, className="note"),
                     html.Div([_graph(ids.GRAPH_LOSS_ACCURACY), _graph(ids.GRAPH_TRAIN_TEST),
                               _graph(ids.GRAPH_INIT_LINE), convexity], className="surfaces-grid"),
                     forks_page.layout(),
                     dcc.Interval(id=ids.INTERVAL_CONVEXITY, interval=500, disabled=True),
                     dcc.Store(id=ids.STORE_CONVEXITY)],
                    id=ids.BOX_SURFACES, className="surfaces", style={"display": "none"})


def _page(grid, span, plane, of, log_z, norm) -> Page:
    page = Page.of_inputs(grid, span, plane, of, log_z, "", norm)
    return page if page.plane in PLANES else Page(page.grid, page.span, "random", page.of, page.log_z, "", page.norm)


def _view(services, run, page: Page, running: bool):
    key = [run.run_id, run.version, page.grid, page.span, page.plane, "train", page.norm]
    return landscape_for(services, run, key, page.grid, page.span, page.plane, running)[0], key


def _cached(store, key: tuple, compute):
    """The result under ``key`` in the results store, computed and stored when missing."""
    value = store.get_result(key)
    if value is None:
        value = compute()
        store.put_result(key, value)
    return value


def _surfaces(services, hot: dict, page: Page) -> tuple:
    """The view's three figures and its note for the run ``hot`` (PreventUpdate while busy)."""
    store, running = services.store, hot["state"] == "training"
    rv = load_view(store, hot)
    land, key = _view(services, rv, page, running)
    if land is None:
        raise PreventUpdate  # busy: the next tick draws
    z_test = _cached(store, ("test-surface", *key), lambda: test_surface(rv, land))
    line = _cached(store, ("init-line", rv.run_id, rv.version), lambda: init_to_now(rv))
    other = None
    hots = run_hots(store, hot)
    if len(hots) > 1:  # compare mode: B's own line, init → now, beside A's
        rb = load_view(store, hots[1])
        other = _cached(store, ("init-line", rb.run_id, rb.version), lambda: init_to_now(rb))
    figs = [loss_and_accuracy_figure(land, page.log_z), train_test_figure(land, z_test),
            init_line_figure(line, land.get("metric_label", "accuracy"), other)]
    for fig in figs:
        fig["layout"]["uirevision"] = str(key[:1] + key[2:])
    who = f"Run A ({hot['label']}): " if hot.get("lead") else ""
    return (*figs, who + f"Over the landscape's plane ({PLANES[land['mode']].lower()}), the loss and "
            f"{land.get('metric_label', 'accuracy')} on one grid, and train vs test loss: the stars mark each "
            "minimum on this plane.")


def _ask_convexity(services, hot: dict, page: Page) -> dict | str:
    """What a press of the button asks for ({key, grid, t}), or why it cannot be done."""
    rv = load_view(services.store, hot)
    if rv.net.n_params * rv.data.X_train.shape[0] > CONVEXITY_WORK:
        return (f"The convexity map is computed for networks up to {CONVEXITY_WORK:.0e} parameters × "
                f"training points; this one has {rv.net.n_params:,} × {rv.data.X_train.shape[0]:,}.")
    _, key = _view(services, rv, page, False)  # the plane the map lies in, cached under its key
    return {"key": key, "grid": convexity_grid(page.grid), "t": time.time()}


def _asked_key(hot: dict, asked) -> list:
    """The landscape key a page sends back ({"key": [...]}), as the server made it: only its own
    run's, each part of its type (ValueError for anything else)."""
    k = asked.get("key") if isinstance(asked, dict) else None
    if not isinstance(k, list) or len(k) != 7:
        raise ValueError("The convexity map was asked for in a way this server does not know: press the button again.")
    try:  # through JSON: 1.0 comes back as 1, and the cache keys are exact
        key = [str(k[0]), int(k[1]), int(k[2]), float(k[3]), str(k[4]), str(k[5]), str(k[6])]
    except (TypeError, ValueError, OverflowError):
        raise ValueError("The convexity map was asked for in a way this server does not know: "
                         "press the button again.") from None
    if key[0] != hot["run_id"]:
        raise PermissionError("That convexity map belongs to another run: press the button again.")
    return key


def _advance_convexity(services, hot: dict, asked: dict) -> tuple:
    """A few more rows of the asked map (for CONVEXITY_BUDGET_S): the callback's outputs.

    The map's grid is the server's own, from the landscape it lies in (computed here at a
    validated grid), never the one the page sends back: the page only names the landscape."""
    store = services.store
    key = _asked_key(hot, asked)
    land = store.get_result(tuple(key))
    if land is None:
        return None, True, no_update, "0", "1", "The landscape changed: press the button again."
    t = asked.get("t")
    asked = {"key": key, "grid": convexity_grid(len(land["alphas"])),
             "t": t if isinstance(t, (int, float)) and not isinstance(t, bool) else 0}
    done = store.get_result(("convexity", *key)) or {}
    if done and len(done.get("alphas", ())) != asked["grid"]:
        done = {}  # not this server's map of that landscape: start it again
    if not services.view_slots.acquire(timeout=0.0):
        raise PreventUpdate  # a landscape is being computed here: the next tick goes on
    try:
        rv = load_view(store, hot)
        if rv.version != key[1]:  # the run moved on: measure the weights the map was asked for
            rv = type(rv)(rv.run_id, key[1], rv.config, rv.data, rv.net, land["center"], rv.trajectory)
        start = time.perf_counter()
        while time.perf_counter() - start < CONVEXITY_BUDGET_S and done.get("rows_done", 0) < asked["grid"]:
            done = convexity_rows(rv, land, asked["grid"], done, 1)
    finally:
        services.view_slots.release()
    store.put_result(("convexity", *key), done)
    finished = done["rows_done"] >= asked["grid"]
    words = (f"{done['rows_done']} of {asked['grid']} rows" if not finished else
             f"done: {asked['grid']}×{asked['grid']} points at step {key[1]}")
    return asked, finished, convexity_figure(done, land["path"]), str(done["rows_done"]), str(asked["grid"]), words


def register(app, services) -> None:
    forks_page.register(app, services)

    @app.callback(Output(ids.BOX_SURFACES, "style"), Input(ids.PAGE_VIEW, "value"),
                  prevent_initial_call=True)  # hidden in the layout
    def show(view):
        # the forked-runs section (closed by default) adds a row: the grid keeps its room, the view scrolls
        return {"gridTemplateRows": "auto minmax(440px, 1fr) auto", "overflowY": "auto"} if view == "surfaces" \
            else {"display": "none"}

    @app.callback(Output(ids.GRAPH_LOSS_ACCURACY, "figure"), Output(ids.GRAPH_TRAIN_TEST, "figure"),
                  Output(ids.GRAPH_INIT_LINE, "figure"), Output(ids.SURFACES_NOTE, "children"),
                  Input(ids.INTERVAL_VIEW_SURFACES, "n_intervals"), Input(ids.STORE_RUN_SURFACES, "data"),
                  Input(ids.PAGE_VIEW, "value"),
                  Input(ids.GRID, "value"), Input(ids.RANGE, "value"), Input(ids.DIRECTIONS, "value"),
                  Input(ids.LOG_Z, "value"), Input(ids.NORMALIZATION, "value"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)  # the run comes while the panel shows (app.page.run_gates)
    @guarded(ids.SURFACES_NOTE)
    def surfaces(_n, run, view, grid, span, plane, log_z, norm, session):
        hot = own_run(services, run, session) if view == "surfaces" and isinstance(run, dict) else None
        if hot is None:
            raise PreventUpdate
        return _surfaces(services, hot, _page(grid, span, plane, "train", log_z, norm))

    @app.callback(Output(ids.STORE_CONVEXITY, "data"), Output(ids.INTERVAL_CONVEXITY, "disabled"),
                  Output(ids.GRAPH_CONVEXITY, "figure"), Output(ids.CONVEXITY_PROGRESS, "value"),
                  Output(ids.CONVEXITY_PROGRESS, "max"), Output(ids.CONVEXITY_TEXT, "children"),
                  Input(ids.CONVEXITY_BUTTON, "n_clicks"), Input(ids.INTERVAL_CONVEXITY, "n_intervals"),
                  Input(ids.STORE_RUN_CONVEXITY, "data"),  # a new run, while a map exists (app.page.run_gates)
                  State(ids.STORE_CONVEXITY, "data"), State(ids.GRID, "value"), State(ids.RANGE, "value"),
                  State(ids.DIRECTIONS, "value"), State(ids.NORMALIZATION, "value"), State(ids.STORE_SESSION, "data"),
                  State(ids.STORE_RUN, "data"), prevent_initial_call=True)  # (nothing to do before a press)
    @guarded(ids.CONVEXITY_TEXT)
    def convexity(clicks, _n, _new_run, asked, grid, span, plane, norm, session, run):
        """The button's presses are counted against those already applied (kept with the map in
        its store), so a press counts whichever input fired this call: a call fired by the run
        (its end, say) that overtakes the press's own call, whose answer Dash then drops, still
        starts the map."""
        clicks = clicks if isinstance(clicks, int) and not isinstance(clicks, bool) and clicks > 0 else 0
        applied = asked.get("clicks", clicks) if isinstance(asked, dict) else 0  # (a map without a count: all)
        asked = asked if isinstance(asked, dict) else {}
        pressed = clicks > (applied if isinstance(applied, int) and not isinstance(applied, bool) else clicks)
        counted = lambda data: dict(data or {}, clicks=clicks)  # noqa: E731
        if ctx.triggered_id == ids.STORE_RUN_CONVEXITY and not pressed:  # another run: the map belongs to the old one
            return counted(None), True, convexity_figure(None), "0", "1", ""
        hot = own_run(services, run, session) if isinstance(run, dict) else None
        if hot is None:
            raise PreventUpdate
        if pressed:
            asked = _ask_convexity(services, hot, _page(grid, span, plane, "train", [], norm))
            if isinstance(asked, str):
                return counted(None), True, no_update, "0", "1", asked
        elif "key" not in asked:
            raise PreventUpdate
        out = _advance_convexity(services, hot, asked)
        return (counted(out[0]),) + tuple(out[1:])
