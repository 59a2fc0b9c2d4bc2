"""Compare mode's "each at its best learning rate", on the page: a closed section under the plots
(shown in compare mode only) whose button sweeps ``SWEEP_RATES`` learning rates for run A and
run B from their one start (``app.panels.best_rate``) and draws the sweep and each run's curve at
its own best rate, with one line per run in words.

Measured in the request, one at a time per process (the view slots), for sweeps small enough to
take seconds: a bigger one is refused in words, as forking is.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from lossviz import tabular

from .. import ids
from ..messages import guarded
from ..run_control import pressed_run, run_hots
from ...runs.run import load_view
from ...views.figures import blank_figure
from ...views.panels.best_rate import SWEEP_RATES, best_curves_figure, rate_figure, run_sweep, summary, sweep_plan

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}
# The most one press may train here, in weight·sample multiply-adds (all the sweep's runs): a few
# seconds of one core (the default moons comparison is 4e8, about 1.5 s).
MAX_REQUEST_WORK = 2e9
SUMMARY = f"Each at its best learning rate: is the comparison fair? ({SWEEP_RATES} rates each, one start)"


def layout() -> html.Details:
    """Closed until opened; hidden unless compare mode is on (the figures come with the button)."""
    return html.Details([
        html.Summary(SUMMARY),
        html.P("At one learning rate, a setting that takes smaller steps looks slower even when it is "
               "not: squared error pushes a classifier's outputs about half as hard as cross-entropy. "
               "The button trains A and B each at a few learning rates around the page's, from the "
               "same start, and shows each at its best (★: the rate with its lowest final loss). With two "
               "losses, the plots compare them by their shared measure.", className="note"),
        html.Div([html.Button(f"Sweep {SWEEP_RATES} learning rates for A and B", id=ids.BEST_RATE_BUTTON,
                              className="btn small",
                              title="Train run A's and run B's settings at log-spaced learning rates around the "
                                    "page's (a factor of 2 apart), from the same initial weights on the same data"),
                  html.Span(id=ids.BEST_RATE_NOTE, className="note inline", role="status",
                            style={"whiteSpace": "pre-line"})],
                 style={"display": "flex", "gap": "8px", "alignItems": "center"}),
        html.Div([dcc.Loading(dcc.Graph(id=ids.GRAPH_BEST_RATES, config=GRAPH_CONFIG, figure=blank_figure(),
                                          style={"height": "340px"})),
                  dcc.Loading(dcc.Graph(id=ids.GRAPH_BEST_CURVES, config=GRAPH_CONFIG, figure=blank_figure(),
                                          style={"height": "340px"}))],
                 className="best-rate-grid")],
        id=ids.BOX_BEST_RATE, className="best-rate", style={"display": "none"})


def register(app, services) -> None:
    @app.callback(Output(ids.BOX_BEST_RATE, "style"), Input(ids.COMPARE, "value"),
                  prevent_initial_call=True)  # hidden in the layout (compare is off)
    def show(compare):
        return {} if compare else {"display": "none"}

    @app.callback(Output(ids.GRAPH_BEST_RATES, "figure"), Output(ids.GRAPH_BEST_CURVES, "figure"),
                  Output(ids.BEST_RATE_NOTE, "children"),
                  Input(ids.BEST_RATE_BUTTON, "n_clicks"), State(ids.STORE_RUN, "data"),
                  State(ids.STORE_SESSION, "data"), prevent_initial_call=True)
    @guarded(ids.BEST_RATE_NOTE)
    def sweep(clicks, run, session):
        hot = pressed_run(services, clicks, run, session)
        hots = run_hots(services.store, hot)
        if len(hots) < 2 or not hot.get("vary"):
            return (blank_figure(), blank_figure(),
                    "Turn on compare mode and pick what run B changes: the sweep trains A and B.")
        v = load_view(services.store, hots[0])
        data = v.data if tabular.is_table_name(v.config.dataset) else None
        try:
            plan = sweep_plan(v.config, {"vary": hot["vary"], "value": hot["value"]}, data)
        except ValueError as exc:
            return blank_figure(), blank_figure(), str(exc)
        if plan["work"] > MAX_REQUEST_WORK:
            return (blank_figure(), blank_figure(),
                    f"This sweep trains {plan['runs']} runs: {plan['work']:.1e} weight·sample multiply-adds, over "
                    f"the {MAX_REQUEST_WORK:.0e} one press may ask for here. Try fewer epochs, samples or weights.")
        if not services.view_slots.acquire(timeout=5.0):
            return blank_figure(), blank_figure(), "The server is busy drawing: press the button again in a moment."
        try:
            result = run_sweep(v.config, plan, data=data)
        finally:
            services.view_slots.release()
        return rate_figure(result), best_curves_figure(result), summary(result)

