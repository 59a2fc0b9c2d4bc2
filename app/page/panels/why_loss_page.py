"""The "Why the loss matters" panel on the page: each run's loss formula, one point's loss and
gradient against how right it is, and the live spread of every training point's push.

Shown instead of the plots when the page's view is "Why the loss matters" (one run or two); the
formulas and profiles follow the settings, the histogram follows training at the view pace.
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from lossviz import LOSSES, RunConfig

from .. import ids
from ..run_control import own_run, run_hots
from ...views.figures import blank_figure
from ...views.panels.why_loss import flagged_points, formula_markdown, gradient_histogram_figure, \
    per_sample_grad_norms, profile_figure

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def layout() -> html.Div:
    """The panel (hidden until the page's view asks for it)."""
    formulas = html.Div([html.Div([html.Div(id=ids.WHY_TITLE_A, className="why-title"),
                                   html.Div(id=ids.WHY_FORMULA_A, className="why-formula")]),
                         html.Div([html.Div(id=ids.WHY_TITLE_B, className="why-title"),
                                   html.Div(id=ids.WHY_FORMULA_B, className="why-formula")],
                                  id=ids.WHY_BOX_B)], className="why-formulas")
    graphs = html.Div([html.Div(dcc.Graph(id=ids.GRAPH_PROFILE, config=GRAPH_CONFIG, className="graph", figure=blank_figure()),
                                className="plot"),
                       html.Div(dcc.Graph(id=ids.GRAPH_GRADIENTS, config=GRAPH_CONFIG, className="graph", figure=blank_figure()),
                                className="plot")], className="why-graphs")
    return html.Div([formulas, graphs], id=ids.BOX_WHY, className="why", style={"display": "none"})


def _formula(text: str):
    """A formula typeset by MathJax. Made when the panel is first shown, so the page does not load
    MathJax (2 MB) until someone asks for it."""
    return dcc.Markdown(text, mathjax=True)


def _losses(config: RunConfig, compare: dict | None) -> list[tuple[str, str, float, float]]:
    """(label, loss name, δ, ε) per run: A, then B when it differs in its loss, δ or ε."""
    runs = [("A" if compare else "", config.loss, config.huber_delta, config.label_smoothing)]
    if compare and compare.get("vary") in ("loss", "huber_delta", "label_smoothing"):
        b = config.replace(**{compare["vary"]: compare["value"]})
        runs.append(("B", b.loss, b.huber_delta, b.label_smoothing))
    return runs


def register(app, services) -> None:
    """Attach the panel's callbacks (the page's runs read through ``app.page.run_control``)."""
    from ...runs.run import load_view

    @app.callback(Output(ids.BOX_WHY, "style"), Output(ids.PLOTS, "style"), Input(ids.PAGE_VIEW, "value"),
                  prevent_initial_call=True)  # the layout shows the plots
    def show_panel(view):
        why, plots = view == "why", view in (None, "plots")
        return ({} if why else {"display": "none"}), ({} if plots else {"display": "none"})

    @app.callback(Output(ids.WHY_TITLE_A, "children"), Output(ids.WHY_FORMULA_A, "children"),
                  Output(ids.WHY_TITLE_B, "children"), Output(ids.WHY_FORMULA_B, "children"),
                  Output(ids.WHY_BOX_B, "style"), Output(ids.GRAPH_PROFILE, "figure"),
                  Input(ids.PAGE_VIEW, "value"), Input(ids.STORE_CONFIG, "data"), Input(ids.STORE_COMPARE, "data"),
                  prevent_initial_call=True)  # drawn when the panel first shows (the layout opens on the plots)
    def formulas(view, config_dict, compare):
        if view != "why" or not isinstance(config_dict, dict):
            raise PreventUpdate
        try:
            config = RunConfig.from_dict(config_dict)
            runs = _losses(config, compare if isinstance(compare, dict) and compare.get("vary") else None)
            task, n_classes = _task_and_classes(services, config)
            k = 2 if task != "classification" else max(2, n_classes)
            texts = [formula_markdown(loss, task, delta, eps, k=k) for _, loss, delta, eps in runs]
            titles = [f"{label + ' · ' if label else ''}{LOSSES[loss].label}" for label, loss, *_ in runs]
            fig = profile_figure([(label or "", loss) for label, loss, *_ in runs], task, runs[0][2], k=k,
                                 label_smoothing=[eps for *_, eps in runs])
        except ValueError as exc:
            return str(exc), "", "", "", {"display": "none"}, no_update
        b_title, b_text, b_style = ((titles[1], _formula(texts[1]), {}) if len(runs) > 1
                                    else ("", "", {"display": "none"}))
        return titles[0], _formula(texts[0]), b_title, b_text, b_style, fig

    @app.callback(Output(ids.GRAPH_GRADIENTS, "figure"), Input(ids.INTERVAL_VIEW_WHY, "n_intervals"),
                  Input(ids.STORE_RUN_WHY, "data"), Input(ids.PAGE_VIEW, "value"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)  # the run comes while the panel shows (app.page.run_gates)
    def gradients(_n, run, view, session):
        if view != "why" or not isinstance(run, dict):
            raise PreventUpdate
        hot = own_run(services, run, session)
        if hot is None:
            raise PreventUpdate
        runs, hots = [], run_hots(services.store, hot)
        for name, h in zip("AB", hots):
            v = load_view(services.store, h)
            c = v.config
            with np.errstate(all="ignore"):
                out = v.net.forward(v.params, v.data.X_train)
            norms = per_sample_grad_norms(out, v.data.y_train, c.loss, v.data.task, c.huber_delta,
                                          c.label_smoothing)
            # the run's letter (the formulas above name each run's loss); one run: no label
            label = name if len(hots) > 1 else ""
            mask = v.data.outlier_mask if v.data.task == "regression" else None
            runs.append({"label": label, "norms": norms, "flagged": flagged_points(out, v.data.y_train, v.data.task, mask),
                         "flag_label": "misclassified" if v.data.task == "classification" else "outliers"})
        fig = gradient_histogram_figure(runs)
        fig["layout"]["uirevision"] = hot["run_id"]
        return fig


def _task_and_classes(services, config: RunConfig) -> tuple[str, int]:
    """(task, number of classes) of a config's data: the registry's, or an uploaded table's."""
    from lossviz import DATASETS

    from ...runs.run import table_data

    table = table_data(services.store, config)
    if table is not None:
        return table.task, table.n_classes
    spec = DATASETS[config.dataset]
    return spec.task, spec.n_classes
