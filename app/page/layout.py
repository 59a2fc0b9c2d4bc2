"""The page: controls on the left, the landscape, curves and data on the right.

``serve_layout`` is a function, so every page load gets fresh client-side stores: nothing of
one user's run is in the module.
"""

from __future__ import annotations

import math
from typing import Callable
from urllib.parse import urlparse

from dash import dcc, html

from ..views import figures
from . import ids
from .first_page import default_config, default_token
from .compare import COMPARE_FIELDS, field_options
from .panels import best_rate_page, curvature_page, export_page, lesson_page, link_page, surfaces_page, upload_page, \
    why_loss_page
from .run_callbacks import STREAM_APPLY, STREAM_STATE
from .run_gates import PANEL_RUNS
from .state import BY_KEY, GRID_MAX, GRID_MIN
from ..runs import caps
from ..runs.store import new_secret
from ..views.compute import NORMALIZATIONS, PLANES, SURFACES
from .controls import (CONTROLS, LAYERS_TOOLTIP, MAX_HIDDEN_LAYERS, SPEEDS, VIEW_DEFAULTS,
                       WIDTH_TOOLTIP, Control, loss_options, visible_fields)

GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "toImageButtonOptions": {"format": "png", "scale": 2}}
LR_MIN_EXP, LR_MAX_EXP = -4, 1
PLANES_SINGLE = [{"label": label, "value": key} for key, label in PLANES.items()]
PLANES_COMPARE = [{"label": "A–B plane", "value": "compare"}] + PLANES_SINGLE[:2]
TICK_MS, VIEW_MS = 100, 400  # the page's timers: curves and status, then landscape and data


def _row(label: str, tooltip: str, widget, field: str | None = None, hidden: bool = False):
    """A labelled control with a plain-words tooltip; ``field`` makes it show/hide-able."""
    kw = {"id": {"type": ids.ROW, "index": field}} if field else {}
    return html.Div([html.Label(label, title=tooltip, className="ctl-label"),
                     html.Div(widget, className="ctl-widget", title=tooltip)],
                    className="ctl-row", style={"display": "none"} if hidden else {}, **kw)


def _widget(c: Control):
    if c.kind == "dropdown":
        opts = loss_options(VIEW_DEFAULTS.get("dataset", "moons")) if c.id == ids.LOSS else list(c.options)
        return dcc.Dropdown(id=c.id, options=opts, value=c.default, clearable=False,
                            searchable=False, className="ctl-dropdown")
    return dcc.Input(id=c.id, type="text", value=str(c.default), debounce=True,
                     inputMode="decimal", className="ctl-input", autoComplete="off")


def _control_row(field: str):
    c = next(c for c in CONTROLS if c.field == field)
    shown = visible_fields(CONTROLS[0].default, "cross_entropy", "adam")
    return _row(c.label, c.hint, _widget(c), field, hidden=field not in shown)


def _network_rows():
    layers = dcc.Dropdown(id=ids.LAYERS, options=[{"label": str(n), "value": n} for n in range(MAX_HIDDEN_LAYERS + 1)],
                          value=2, clearable=False, searchable=False, className="ctl-dropdown")
    widths = html.Div([dcc.Input(id={"type": ids.WIDTH, "index": i}, type="text", value="16",
                                 debounce=True, inputMode="numeric", className="ctl-input width",
                                 style={} if i < 2 else {"display": "none"},
                                 name=f"width-{i + 1}", placeholder=f"layer {i + 1}")
                       for i in range(MAX_HIDDEN_LAYERS)], className="widths")
    return [_row("Hidden layers", LAYERS_TOOLTIP, layers), _row("Widths", WIDTH_TOOLTIP, widths, "widths"),
            _control_row("activation")]


def _lr_row():
    c = next(c for c in CONTROLS if c.field == "lr")
    slider = dcc.Slider(id=ids.LR_SLIDER, min=LR_MIN_EXP, max=LR_MAX_EXP, step=0.05,
                        value=math.log10(c.default), included=False,
                        marks={e: f"1e{e}" for e in range(LR_MIN_EXP, LR_MAX_EXP + 1)},
                        tooltip={"placement": "bottom", "always_visible": False},
                        allow_direct_input=False)  # the box beside it is the learning rate itself
    return html.Div([_row(c.label, c.hint, _widget(c)), html.Div(slider, className="lr-slider",
                                                                        title="Learning rate on a log scale")])


def _section(title: str, children) -> html.Fieldset:
    return html.Fieldset([html.Legend(title)] + list(children), className="section")


def _buttons():
    speed = html.Div(dcc.RadioItems(id=ids.SPEED, options=[{"label": label, "value": key}
                                                           for key, (label, _) in SPEEDS.items()],
                                    value=VIEW_DEFAULTS["speed"], inline=True, className="speed"),
                     title="Training speed: how many optimizer steps per update")
    buttons = [html.Button("Train", id=ids.TRAIN, className="btn primary", title="Start or continue training (Space)"),
               html.Button("Pause", id=ids.PAUSE, className="btn", title="Stop after the current update (Space)"),
               html.Button("Step", id=ids.STEP, className="btn", title="Take exactly one optimizer step"),
               html.Button("Reset", id=ids.RESET, className="btn", title="Back to the initial weights (same seed)"),
               html.Button("toggle", id=ids.TOGGLE, className="hidden-toggle", tabIndex="-1")]
    return html.Div([html.Div(buttons, className="buttons"), speed], className="run-controls")


def _compare_section():
    tip = ("Train two runs side by side: same data, same initial weights; run B differs from run A "
           "in one setting only.")
    field = dcc.Dropdown(id=ids.COMPARE_FIELD, options=field_options(), value="loss", clearable=False,
                         searchable=False, className="ctl-dropdown")
    choice = dcc.Dropdown(id=ids.COMPARE_CHOICE, options=list(COMPARE_FIELDS["loss"].options), value="mse",
                          clearable=False, searchable=False, className="ctl-dropdown")
    value = dcc.Input(id=ids.COMPARE_VALUE, type="text", value="", debounce=True, className="ctl-input",
                      autoComplete="off", style={"display": "none"})
    rows = html.Div([_row("B changes", "The one setting in which run B differs from run A.", field),
                     _row("B's value", "Run B's value of that setting.", html.Div([choice, value]))],
                    id=ids.COMPARE_ROWS, style={"display": "none"})
    return html.Fieldset([
        html.Legend("Compare"),
        html.Div(dcc.Checklist(id=ids.COMPARE, options=[{"label": "Compare two runs (A and B)", "value": "on"}],
                               value=[], className="check"), title=tip),
        rows, html.Div(id=ids.COMPARE_ERROR, className="error", role="alert")], className="section compare")


def _sidebar():
    return html.Div([
        html.Div([html.H1("lossviz"), html.Span("see how a loss shapes learning", className="tagline")],
                 className="brand"),
        _buttons(),
        _compare_section(),
        _section("Data", [_control_row(f) for f in ("dataset", "noise", "n_samples", "outlier_fraction")]
                 + [upload_page.layout()]),
        _section("Network", _network_rows()),
        _section("Loss", [_control_row("loss"), _control_row("huber_delta"), _control_row("label_smoothing"),
                          html.Div(id=ids.LOSS_NOTE, className="note")]),
        _section("Training", [_control_row("optimizer"), _control_row("momentum"), _lr_row(),
                              _control_row("batch_size"), _control_row("epochs"),
                              html.Div([html.Div([_control_row("l2"), _control_row("l1")], className="pair"),
                                        _control_row("seed")], className="advanced")]),
        html.Div(id=ids.CONFIG_ERROR, className="error", role="alert"),
    ], className="sidebar")


def _view_bar():
    return html.Div([
        html.Span("Grid", title="Points per axis of the surface (more is finer and slower)", className="vlabel"),
        html.Div(dcc.Slider(id=ids.GRID, min=GRID_MIN, max=GRID_MAX, step=10, value=VIEW_DEFAULTS["grid"],
                            allow_direct_input=False,
                            marks={v: str(v) for v in range(GRID_MIN, GRID_MAX + 1, 30)}), className="grid-slider",
                 title="Points per axis of the surface"),
        html.Span("Range ±", title="How far from the weights the plane reaches, in direction units", className="vlabel"),
        html.Div(dcc.Input(id=ids.RANGE, type="text", value=str(VIEW_DEFAULTS["span"]), debounce=True,
                           className="ctl-input range", inputMode="decimal"),
                 id=ids.RANGE_BOX, title=range_title(False)),
        html.Div(dcc.Checklist(id=ids.LOG_Z, options=[{"label": "log z", "value": "log"}], value=[],
                               className="check", inline=True),
                 title="Colour and height by log10 of the loss: shows detail near the minimum"),
        html.Div(dcc.RadioItems(id=ids.DISPLAY, options=[{"label": x, "value": v} for x, v in
                                                         (("2D", "2d"), ("3D", "3d"), ("Both", "both"))],
                                value=VIEW_DEFAULTS["display"], inline=True, className="radio"),
                 title="Show the contour, the 3-D surface, or both"),
        html.Div(dcc.RadioItems(id=ids.DIRECTIONS, options=PLANES_SINGLE,
                                value=VIEW_DEFAULTS["directions"], inline=True, className="radio"),
                 title="Random directions; the plane that best holds the path(s); the Hessian's top two "
                       "eigenvectors (where the loss curves most); the line from the initial weights to now "
                       "with a random direction across it; in compare mode the plane through the common start "
                       "and both runs' weights"),
        html.Div(dcc.Dropdown(id=ids.NORMALIZATION, options=[{"label": v, "value": k} for k, v in NORMALIZATIONS.items()],
                              value="filter", clearable=False, searchable=False, className="ctl-dropdown norm"),
                 title="How random directions are scaled: per filter (Li et al. 2018, the default), per layer, or "
                       "not at all (raw Gaussian: scale-dependent pictures)", id=ids.BOX_NORMALIZATION),
        html.Span("Surface of", className="vlabel", title="What the landscape shows over its plane"),
        html.Div(dcc.Dropdown(id=ids.SURFACE_OF, options=[{"label": v, "value": k} for k, v in SURFACES.items()],
                              value="train", clearable=False, searchable=False, className="ctl-dropdown surface-of"),
                 title="The ground the optimizer walks on is the loss it trains with; the others are yardsticks "
                       "drawn over the same plane at the same weights"),
        html.Div(dcc.RadioItems(id=ids.PAGE_VIEW, options=[{"label": "Plots", "value": "plots"},
                                                           {"label": "Why the loss matters", "value": "why"},
                                                           {"label": "Curvature", "value": "curvature"},
                                                           {"label": "Surfaces", "value": "surfaces"}],
                                value="plots", inline=True, className="radio"),
                 title="The landscape and curves; each loss's formula, gradient and how hard each point pushes; "
                       "or the Hessian's curvature along training (the edge of stability)"),
        html.Div(dcc.Checklist(id=ids.LOG_LOSS, options=[{"label": "log loss axis", "value": "log"}],
                               value=[], className="check", inline=True),
                 title="Show the learning curves' loss on a logarithmic axis"),
        html.Div(dcc.Checklist(id=ids.PRESENT, options=[{"label": "present", "value": "on"}], value=[],
                               className="check", inline=True),
                 title="Presentation mode for a projector: larger text and lines, high contrast, advanced "
                       "controls hidden. Keys: Space train/pause, S step, R reset, C compare, ←/→ lessons"),
        *link_page.layout(),
        html.Button("back to current", id=ids.BACK, className="btn small", style={"display": "none"},
                    title="The data views show the networks as they are now again"),
        html.Span(id=ids.VIEW_ERROR, className="error inline"),
    ], className="view-bar")


def _plots():
    """The plots. The 3-D view starts as a flat note: its WebGL scene is made when its first
    surface arrives, after the contour is on screen."""
    cfg = GRAPH_CONFIG
    contour = html.Div(dcc.Graph(id=ids.GRAPH_CONTOUR, config=cfg, className="graph",
                                 figure=figures.message_figure("computing the loss landscape…", "Loss around the weights")),
                       id=ids.BOX_CONTOUR, className="plot")
    surface = html.Div(dcc.Graph(id=ids.GRAPH_SURFACE, config=cfg, className="graph",
                                 figure=figures.message_figure("drawing the 3-D view…", "Loss surface (3-D)")),
                       id=ids.BOX_SURFACE, className="plot")
    curves = html.Div(dcc.Graph(id=ids.GRAPH_CURVES, config=cfg, className="graph",
                                figure=figures.curves_figure({}, "accuracy")), className="plot")
    data = html.Div(dcc.Graph(id=ids.GRAPH_DATA, config=cfg, className="graph",
                              figure=figures.message_figure("loading the data…", "Data")), className="plot")
    hidden = {"display": "none"}
    contour_b = html.Div(dcc.Graph(id=ids.GRAPH_CONTOUR_B, config=cfg, className="graph",
                                   figure=figures.message_figure("run B's landscape comes with Train", "Run B")),
                         id=ids.BOX_CONTOUR_B, className="plot", style=hidden)
    data_b = html.Div(dcc.Graph(id=ids.GRAPH_DATA_B, config=cfg, className="graph",
                                figure=figures.message_figure("run B's data view comes with Train", "Run B")),
                      id=ids.BOX_DATA_B, className="plot", style=hidden)
    line = html.Div(dcc.Graph(id=ids.GRAPH_LINE, config=cfg, className="graph",
                              figure=figures.message_figure("the line from A to B comes with Train",
                                                            "Between A and B")),
                    id=ids.BOX_LINE, className="plot", style=hidden)
    return html.Div([contour, contour_b, surface, line, curves, data, data_b], id=ids.PLOTS, className="plots")


# The view clock's tick per page view (radio-page-view's values): a hidden view is sent none.
VIEW_TICKS = {"plots": ids.INTERVAL_VIEW, "why": ids.INTERVAL_VIEW_WHY, "curvature": ids.INTERVAL_VIEW_CURVATURE,
              "surfaces": ids.INTERVAL_VIEW_SURFACES}


def range_title(compare: bool) -> str:
    """The Range box's tooltip; compare mode frames its planes on both runs, so the box is off."""
    if compare:
        return "Compare mode frames the plane on both runs' paths (the Range box applies to one run)"
    return f"How far from the weights the plane reaches, in direction units ({BY_KEY['range'].allowed})"


def clocks() -> dict:
    """What the page's timer (assets/lossviz.js) reads: each clock's period (ms) and the ticks it
    feeds; the view clock's tick is the one of the view on screen (``view``: the radio's id)."""
    # The train clock's tick goes straight to the server and its answer to STREAM_APPLY ("direct").
    direct = {"output": [ids.STORE_STREAM, "data"], "state": [list(s) for s in STREAM_STATE],
              "apply": [list(a) for a in STREAM_APPLY]}
    return {ids.CLOCK_TRAIN: {"ms": TICK_MS, "ticks": [ids.INTERVAL_TRAIN], "direct": direct},
            ids.CLOCK_VIEW: {"ms": VIEW_MS, "ticks": list(VIEW_TICKS.values()), "busy": ids.STORE_PAGE_BUSY,
                             "views": list(VIEW_TICKS), "view": ids.PAGE_VIEW}}


def _stores(first: str | None, session: str):
    """The page's stores; ``first`` (a page opened without a query) names the first figures it
    asks for at once (app.page.first_page) and that its first view request then adopts."""
    # The settings the controls show at first (read_settings does not run at page open): a Train
    # pressed while the page loads is sent at once, not after a settings round trip.
    return [dcc.Store(id=ids.STORE_SESSION, data=session), dcc.Store(id=ids.STORE_CONFIG, data=default_config().to_dict()),
            dcc.Store(id=ids.STORE_COMPARE), dcc.Store(id=ids.STORE_INSPECT), dcc.Store(id=ids.STORE_RESTORED), dcc.Store(id=ids.STORE_PRESENT), dcc.Store(id=ids.STORE_RUN), *[dcc.Store(id=store) for store in PANEL_RUNS.values()], dcc.Store(id=ids.STORE_RUN_CONVEXITY), dcc.Store(id=ids.STORE_STREAM),
            dcc.Store(id=ids.STORE_CURSOR), dcc.Store(id=ids.STORE_DRAWN, data={"first": first} if first else None),
            dcc.Store(id=ids.STORE_FIRST, data=first), dcc.Store(id=ids.STORE_FIRST_3D), dcc.Store(id=ids.STORE_FIRST_3D_CALM),
            dcc.Store(id=ids.STORE_FIRST_FIGURES),
            # switched on and off by callbacks, read by the page's timer (app.ids), never firing
            dcc.Interval(id=ids.CLOCK_TRAIN, interval=TICK_MS, disabled=True, max_intervals=0),
            dcc.Interval(id=ids.CLOCK_VIEW, interval=VIEW_MS, disabled=True, max_intervals=0),
            dcc.Store(id=ids.STORE_CLOCKS, data=clocks()), dcc.Store(id=ids.STORE_PAGE_BUSY, data=False),
            dcc.Interval(id=ids.INTERVAL_TRAIN, disabled=True),  # ticked by the page's timer only
            *[dcc.Interval(id=tick, disabled=True) for tick in VIEW_TICKS.values()]]


def _plain_open() -> bool:
    """True when this layout is for a page opened at its defaults: in a request (not Dash's
    validation at start-up) from a page whose address has no query (not a link or a lesson;
    the renderer's layout request carries the page's address as its referrer)."""
    from flask import has_request_context, request

    return has_request_context() and not urlparse(request.referrer or "").query


def serve_layout(new_session: Callable[[], str] = new_secret, allowed: Callable[[], bool] = lambda: True):
    """The whole page (called per page load); ``new_session`` issues its session id. When
    ``allowed()`` says no (the 'client_pages' cap), a page that says so and has no session."""
    if not allowed():
        return html.Div(html.P(caps.CAPS["client_pages"].message("more") + " Wait a minute, then reload the page.",
                               id=ids.STATUS, className="status", role="status"), id=ids.APP, className="app refused")
    first = default_token() if _plain_open() else None
    main = html.Div([lesson_page.layout(),
                     html.Div("Ready: press Train (or Space).", id=ids.STATUS, className="status",
                              role="status", **{"aria-live": "polite"}),
                     _view_bar(), html.Div([_plots(), why_loss_page.layout(), curvature_page.layout(),
                                            surfaces_page.layout()],
                                           className="stage"),
                     html.Div(id=ids.LANDSCAPE_NOTE, className="note landscape-note"),
                     best_rate_page.layout(), export_page.layout()], className="main")
    return html.Div([_sidebar(), main] + _stores(first, new_session()), id=ids.APP, className="app")
