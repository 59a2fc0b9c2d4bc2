"""The "Curvature" view of the page: λmax, λmin and the trace of the Hessian along the run's
path beside its loss, with the optimizer's stability line — the edge of stability, live (for Adam
and RMSprop against the preconditioned sharpness λmax(P⁻¹H), the one their line holds for).

Measured in the view requests (never in the training job), a few path rows per request within a
time budget and one at a time per process, cached per run: training never waits for it. An adaptive
optimizer's state at past rows comes from retracing the run (``curvature.retracer``), whose state
is cached beside the series so each request goes on where the last stopped.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from . import rescale_page
from ..messages import guarded
from ..run_control import own_run, run_hots
from ...runs.run import history_of, load_view
from ...views.figures import blank_figure
from ...views.panels.curvature import extend, path_steps, rows_to_measure, run_entry, sharpness_figure, summary, too_big

LIVE_BUDGET_S, SETTLED_BUDGET_S = 0.25, 1.5
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def layout() -> html.Div:
    return html.Div([html.Div(id=ids.CURVATURE_NOTE, className="note curvature-note"),
                     html.Div(dcc.Graph(id=ids.GRAPH_SHARPNESS, config=GRAPH_CONFIG, className="graph", figure=blank_figure()),
                              className="plot"),
                     rescale_page.layout(),
                     dcc.Interval(id=ids.INTERVAL_CURVATURE, interval=1000, disabled=True)],
                    id=ids.BOX_CURVATURE, className="curvature", style={"display": "none"})


def _measured(store, hot: dict, view, budget_s: float) -> dict:
    """The run's curvature series, extended within ``budget_s`` and cached with its retracer."""
    steps = path_steps(hot["total_steps"], hot["n_params"], len(view.trajectory), view.step_count)
    key, retrace_key = ("curvature", hot["run_id"]), ("curvature-retrace", hot["run_id"])
    series, retrace = extend(store.get_result(key) or {}, view, steps, budget_s, store.get_result(retrace_key))
    store.put_result(key, series)
    if retrace is not None:
        store.put_result(retrace_key, retrace)
    return series


def register(app, services) -> None:
    rescale_page.register(app, services)

    @app.callback(Output(ids.BOX_CURVATURE, "style"), Input(ids.PAGE_VIEW, "value"),
                  prevent_initial_call=True)  # hidden in the layout
    def show(view):
        return {} if view == "curvature" else {"display": "none"}

    @app.callback(Output(ids.GRAPH_SHARPNESS, "figure"), Output(ids.CURVATURE_NOTE, "children"),
                  Output(ids.INTERVAL_CURVATURE, "disabled"),
                  Input(ids.INTERVAL_VIEW_CURVATURE, "n_intervals"), Input(ids.INTERVAL_CURVATURE, "n_intervals"),
                  Input(ids.STORE_RUN_CURVATURE, "data"), Input(ids.PAGE_VIEW, "value"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)  # the run comes while the panel shows (app.page.run_gates)
    @guarded(ids.CURVATURE_NOTE)
    def curvature(_n, _m, run, view, session):
        if view != "curvature" or not isinstance(run, dict):
            raise PreventUpdate
        hot = own_run(services, run, session)
        if hot is None:
            raise PreventUpdate
        hots = run_hots(services.store, hot)
        running = any(h["state"] == "training" for h in hots)
        if not services.view_slots.acquire(timeout=0.0 if running else 5.0):
            raise PreventUpdate  # busy with a landscape: the next tick measures
        try:
            runs, complete = [], True
            for i, h in enumerate(hots):
                v = load_view(services.store, h)
                why = too_big(v.net.n_params, v.data.X_train.shape[0])
                if why:
                    return no_update, why, True
                series = _measured(services.store, h, v, (LIVE_BUDGET_S if running else SETTLED_BUDGET_S) / len(hots))
                complete = complete and len(series) == len(rows_to_measure(len(v.trajectory)))
                label = f"{'AB'[i]} ({h['label']})" if len(hots) > 1 else ""
                runs.append(run_entry(label, history_of(services.store.points_since(h, 0)), series, v.config))
        finally:
            services.view_slots.release()
        fig = sharpness_figure(runs)
        fig["layout"]["uirevision"] = hot["run_id"]
        return fig, summary(runs), complete and not running
