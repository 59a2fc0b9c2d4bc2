"""Forked runs on the Surfaces view: a button trains copies of the run forked at a few steps and
draws the loss on the straight line between each pair and the barrier against the fork step
(``app.views.panels.forks``). Measured in the request, for small runs only, one at a time per process.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from lossviz import tabular

from .. import ids
from ..messages import guarded
from ..run_control import pressed_run
from ...runs.run import load_view
from ...views.figures import blank_figure
from ...views.panels.forks import barrier_figure, measure, too_costly

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def layout() -> html.Details:
    """A closed section under the Surfaces grid (it takes no room until opened)."""
    return html.Details([
        html.Summary("Forked runs: does SGD noise part two copies of this run? (Frankle et al. 2020)"),
        html.Div([html.Button("Fork and measure", id=ids.FORKS_BUTTON, className="btn small",
                              title="Train this run's settings from its start, fork it at 4 steps into two copies "
                                    "with other minibatch orders, train both to the end, and draw the loss on the "
                                    "straight line between their final weights"),
                  html.Span(id=ids.FORKS_NOTE, className="note inline", role="status")],
                 style={"display": "flex", "gap": "8px", "alignItems": "center"}),
        # a blank figure until measured: a graph drawn inside the closed section has no size to lay out in
        dcc.Loading(dcc.Graph(id=ids.GRAPH_FORKS, config=GRAPH_CONFIG, figure=blank_figure(),
                              style={"height": "380px"}))],
        id=ids.BOX_FORKS, className="forks")


def _note(result: dict) -> str:
    b = result["barriers"]
    shrink = "shrinks" if b[-1] < b[0] else "does not shrink"
    return (f"Barrier {b[0]:.3g} for copies forked at step 0, {b[-1]:.3g} at step {result['ks'][-1]}: it {shrink} "
            "as the copies share more of their start.")


def register(app, services) -> None:
    @app.callback(Output(ids.GRAPH_FORKS, "figure"), Output(ids.FORKS_NOTE, "children"),
                  Input(ids.FORKS_BUTTON, "n_clicks"), State(ids.STORE_RUN, "data"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)
    @guarded(ids.FORKS_NOTE)
    def forks(clicks, run, session):
        hot = pressed_run(services, clicks, run, session)
        v = load_view(services.store, hot)
        c = v.config
        n_train = v.data.X_train.shape[0]
        if c.batch_size == 0 or c.batch_size >= n_train:
            return barrier_figure(None), "Full-batch training has no minibatch noise, so forks never part: set a batch size."
        total = c.epochs * -(-n_train // c.batch_size)
        why = too_costly(v.net.n_params, n_train, total, c.batch_size)
        if why:
            return barrier_figure(None), why
        if not services.view_slots.acquire(timeout=5.0):
            return barrier_figure(None), "The server is busy drawing: press the button again in a moment."
        try:
            result = measure(c, total, data=v.data if tabular.is_table_name(c.dataset) else None)
        finally:
            services.view_slots.release()
        return barrier_figure(result), _note(result)
