"""The "Curvature" view of the page: λmax, λmin and the trace of the Hessian along the run's
path beside its loss, with the optimizer's stability line — the edge of stability, live.

Measured in the view requests (never in the training job), a few path rows per request within a
time budget and one at a time per process, cached per run: training never waits for it.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from ..messages import guarded
from ..run_control import own_run, run_hots
from ..runs import history_of, load_view
from .curvature import extend, path_steps, rows_to_measure, sharpness_figure, summary, threshold_words, too_big

LIVE_BUDGET_S, SETTLED_BUDGET_S = 0.25, 1.5
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def layout() -> html.Div:
    return html.Div([html.Div(id=ids.CURVATURE_NOTE, className="note curvature-note"),
                     html.Div(dcc.Graph(id=ids.GRAPH_SHARPNESS, config=GRAPH_CONFIG, className="graph"),
                              className="plot"),
                     dcc.Interval(id=ids.INTERVAL_CURVATURE, interval=1000, disabled=True)],
                    id=ids.BOX_CURVATURE, className="curvature", style={"display": "none"})


def register(app, services) -> None:
    @app.callback(Output(ids.BOX_CURVATURE, "style"), Input(ids.PAGE_VIEW, "value"))
    def show(view):
        return {} if view == "curvature" else {"display": "none"}

    @app.callback(Output(ids.GRAPH_SHARPNESS, "figure"), Output(ids.CURVATURE_NOTE, "children"),
                  Output(ids.INTERVAL_CURVATURE, "disabled"),
                  Input(ids.INTERVAL_VIEW, "n_intervals"), Input(ids.INTERVAL_CURVATURE, "n_intervals"),
                  Input(ids.STORE_RUN, "data"), Input(ids.PAGE_VIEW, "value"), State(ids.STORE_SESSION, "data"))
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
                steps = path_steps(h["total_steps"], h["n_params"], len(v.trajectory), int(h["step"]))
                key = ("curvature", h["run_id"])
                series = extend(services.store.get_result(key) or {}, v,
                                steps, (LIVE_BUDGET_S if running else SETTLED_BUDGET_S) / len(hots))
                services.store.put_result(key, series)
                complete = complete and len(series) == len(rows_to_measure(len(v.trajectory)))
                points = history_of(services.store.points_since(h, 0))
                rows = sorted(series.values())
                edge, edge_label = threshold_words(v.config)
                runs.append({"label": f"{'AB'[i]} ({h['label']})" if len(hots) > 1 else "",
                             "loss_steps": points["step"], "loss": points["train_loss"],
                             "steps": [r[0] for r in rows], "lambda_max": [r[1] for r in rows],
                             "lambda_min": [r[2] for r in rows], "trace": [r[3] for r in rows],
                             "edge": edge, "edge_label": edge_label})
        finally:
            services.view_slots.release()
        fig = sharpness_figure(runs)
        fig["layout"]["uirevision"] = hot["run_id"]
        return fig, summary(runs), complete and not running
