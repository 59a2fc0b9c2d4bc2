"""Every point of the landscape is a network: clicking a contour shows, in that run's data view,
what the network with those weights predicts, with its loss and accuracy there — until "back to
current" or the next click."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

import lossviz
from lossviz.metrics import metric_value

from .. import ids
from ..run_control import own_run, run_hots
from ...views.drawing import data_figure, fresh_axes
from ...runs.run import load_view
from ...views.compute import data_view, network_at

HIDDEN = {"display": "none"}


def _view_of(store, drawn: dict, slot: int):
    """The drawn landscape (its plane) behind the clicked contour, from the results cache."""
    ckey = drawn.get("ckey")
    if ckey:
        return store.get_result(("compare", *ckey[:6]))
    key = drawn.get("key")
    return store.get_result(tuple(key)) if key and slot == 0 else None


def _numbers(run) -> tuple[float, float]:
    d, c = run.data, run.config
    with np.errstate(all="ignore"):
        out = run.net.forward(run.params, d.X_train)
        loss = float(lossviz.loss_value(c.loss, out, d.y_train, d.task, c.huber_delta, c.label_smoothing))
    return loss, float(metric_value(out, d.y_train, d.task))


def register(app, services) -> None:
    from ..messages import guarded

    @app.callback(Output(ids.GRAPH_DATA, "figure", allow_duplicate=True),
                  Output(ids.GRAPH_DATA_B, "figure", allow_duplicate=True),
                  Output(ids.STORE_INSPECT, "data"), Output(ids.BACK, "style"),
                  Input(ids.GRAPH_CONTOUR, "clickData"), Input(ids.GRAPH_CONTOUR_B, "clickData"),
                  Input(ids.BACK, "n_clicks"), Input(ids.STORE_RUN, "data"),
                  State(ids.STORE_DRAWN, "data"), State(ids.STORE_SESSION, "data"), State(ids.STORE_INSPECT, "data"),
                  prevent_initial_call=True)
    @guarded(ids.VIEW_ERROR)
    def inspect(click_a, click_b, _back, run, drawn, session, inspecting):
        """A click on a contour shows the network at that point; "back" (or a new run) shows
        the networks as they are now. A change of run while a clicked network shows brings
        them back too: so a press of "back" whose call a run's call overtook (Dash drops the
        overtaken answer) still gets the page back."""
        trigger = ctx.triggered_id
        hot = own_run(services, run, session) if isinstance(run, dict) else None
        if hot is None:
            raise PreventUpdate
        hots = run_hots(services.store, hot)
        if trigger in (ids.BACK, ids.STORE_RUN):  # back to the networks as they are now
            if trigger == ids.STORE_RUN and not isinstance(inspecting, dict):
                return no_update, no_update, None, HIDDEN
            figs = [fresh_axes(data_figure(data_view(load_view(services.store, h))), hot["run_id"]) for h in hots]
            if len(hots) > 1:
                for i, (fig, h) in enumerate(zip(figs, hots)):
                    fig["layout"]["title"]["text"] = f"{'AB'[i]} ({h['label']}): its predictions"
            return figs[0], (figs[1] if len(figs) > 1 else no_update), None, HIDDEN
        slot = 0 if trigger == ids.GRAPH_CONTOUR else 1
        click = click_a if slot == 0 else click_b
        points = click.get("points") if isinstance(click, dict) else None
        point = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
        alpha, beta = point.get("x"), point.get("y")
        view = _view_of(services.store, drawn if isinstance(drawn, dict) else {}, slot)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in (alpha, beta))
        if not numbers or view is None or slot >= len(hots):
            raise PreventUpdate
        run_view = network_at(load_view(services.store, hots[slot]), view, alpha, beta,
                              slot if "centers" in view else None)
        loss, metric = _numbers(run_view)
        words = f"{100 * metric:.1f}% accuracy" if run_view.data.task == "classification" else f"R² {metric:.3f}"
        name = f"{'AB'[slot]} ({hots[slot]['label']})" if len(hots) > 1 else "The network"
        fig = data_figure(data_view(run_view))
        fig["layout"]["title"]["text"] = f"{name} at α {alpha:.2f}, β {beta:.2f}: loss {loss:.4g}, {words}"
        fig = fresh_axes(fig, hot["run_id"])
        out = [no_update, no_update]
        out[slot] = fig
        return out[0], out[1], {"slot": slot, "alpha": alpha, "beta": beta, "run_id": hot["run_id"]}, {}
