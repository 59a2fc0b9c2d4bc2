""""Sharpness is not invariant" on the Curvature view: a button that rescales the run's first
hidden layer by a and the next layer's weights by 1/a (Dinh et al. 2017) at its current weights,
and shows the loss (unchanged) and λmax (changed) before and after.

``summary`` is pure (a ``lossviz.rescale.Rescaled`` in, a table's rows and a sentence out); the
callback reads the run, calls the engine, calls ``summary`` and returns.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from lossviz import ACTIVATIONS
from lossviz.rescale import Rescaled, rescaled_sharpness

from .. import ids
from ..messages import guarded
from ..run_control import pressed_run
from ...runs.run import load_view
from ...views.panels.curvature import too_big

FACTORS = (0.1, 0.5, 2.0, 10.0)
DEFAULT_FACTOR = 10.0


def layout() -> html.Div:
    """The row under the Curvature plot: the factor, the button, and the result."""
    options = [{"label": f"a = {a:g}", "value": a} for a in FACTORS]
    return html.Div([
        html.Span("Sharpness is not invariant:", className="vlabel"),
        dcc.Dropdown(id=ids.RESCALE_FACTOR, options=options, value=DEFAULT_FACTOR, clearable=False,
                     searchable=False, className="ctl-dropdown", style={"width": "110px"}),
        html.Button("Rescale layer 1 by a, layer 2 by 1/a", id=ids.RESCALE_BUTTON, className="btn small",
                    title="Dinh et al. 2017: with ReLU the network computes the same function, so the loss "
                          "stays; λmax of the Hessian does not. Measured at the run's current weights."),
        html.Div(id=ids.RESCALE_RESULT, className="note", role="status")],
        className="rescale-bar", style={"display": "flex", "flexWrap": "wrap", "gap": "8px", "alignItems": "center"})


def summary(r: Rescaled, activation: str) -> tuple[list[tuple[str, str, str]], str]:
    """(rows (quantity, before, after), one sentence) for a rescaling's result."""
    rows = [("data loss", f"{r.loss_before:.6g}", f"{r.loss_after:.6g}"),
            ("λmax of the Hessian", f"{r.sharpness_before:.4g}", f"{r.sharpness_after:.4g}")]
    ratio = r.sharpness_after / r.sharpness_before if r.sharpness_before else float("nan")
    label = ACTIVATIONS[activation].label
    if r.homogeneous:
        text = (f"Layer {r.layer + 1} × {r.a:g}, layer {r.layer + 2}'s weights × 1/{r.a:g}: with {label} the network "
                f"is the same function (outputs move by {r.output_change:.1g} at most), so the loss is unchanged, "
                f"yet λmax is {ratio:.3g}x what it was. Sharpness depends on how the weights are written, not "
                f"only on the function they compute (Dinh et al. 2017).")
    else:
        text = (f"{label} is not positively homogeneous (σ(a·z) ≠ a·σ(z)), so this rescaling changes the function: "
                f"outputs move by up to {r.output_change:.3g}. Pick ReLU, Leaky ReLU or Linear to see one function "
                f"with two sharpnesses.")
    return rows, text


def _table(rows: list[tuple[str, str, str]]) -> html.Table:
    head = html.Tr([html.Th(""), html.Th("before"), html.Th("after")])
    return html.Table([head] + [html.Tr([html.Td(q), html.Td(b), html.Td(a)]) for q, b, a in rows],
                      className="rescale-table", style={"borderSpacing": "10px 0"})


def register(app, services) -> None:
    @app.callback(Output(ids.RESCALE_RESULT, "children"), Input(ids.RESCALE_BUTTON, "n_clicks"),
                  State(ids.RESCALE_FACTOR, "value"), State(ids.STORE_RUN, "data"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)
    @guarded(ids.RESCALE_RESULT)
    def rescale(clicks, factor, run, session):
        hot = pressed_run(services, clicks, run, session)
        v = load_view(services.store, hot)
        if len(v.net.layer_sizes) < 3:
            return "A network without hidden layers has no layer to rescale: add a hidden layer."
        why = too_big(v.net.n_params, v.data.X_train.shape[0])
        if why:
            return why
        c = v.config
        a = factor if factor in FACTORS else DEFAULT_FACTOR
        if not services.view_slots.acquire(timeout=5.0):
            return "The server is busy drawing: press the button again in a moment."
        try:
            r = rescaled_sharpness(v.params, v.data.X_train, v.data.y_train, layer_sizes=v.net.layer_sizes,
                                   activation=c.activation, loss=c.loss, huber_delta=c.huber_delta,
                                   label_smoothing=c.label_smoothing, layer=0, a=a)
        except ValueError as exc:
            return f"Not measured here: {exc}"
        finally:
            services.view_slots.release()
        rows, text = summary(r, c.activation)
        return [_table(rows), html.Div(text)]
