"""Export: each plot as PNG or SVG (drawn by plotly.js in the browser), and the run as CSV,
JSON, the engine's .npz or a standalone HTML page — built on the server from the stored run
(``app.views.exports``), never by training again."""

from __future__ import annotations

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from ...views import exports
from .. import ids
from ..messages import guarded
from ..run_control import own_run

# kind: (button text, file name, mime type, tooltip)
DOWNLOADS = {
    "curves_csv": ("Curves CSV", "lossviz-curves.csv", "text/csv",
                   "One row per recorded step: train/test loss and accuracy (or R²); B's columns end in _b"),
    "surface_csv": ("Surface CSV", "lossviz-surface.csv", "text/csv",
                    "One row per grid point of the landscape shown: alpha, beta, loss (and B's loss_b in compare mode)"),
    "json": ("JSON", "lossviz-run.json", "application/json",
             "Settings, curves, the path on the plane and the surface, in one file"),
    "npz": (".npz", "lossviz-run.npz", "application/octet-stream",
            "The arrays of `lossviz export` (weights, path, data, surface; run B's keys end in _b)"),
    "html": ("HTML snapshot", "lossviz-snapshot.html", "text/html",
             "The plots as one web page that opens offline (plotly.js inside)"),
}
# The plots on the page, as display (2d, 3d, both) and compare mode show them: (label, graph id).
SINGLE_PLOTS = {"2d": [("Landscape (contour)", ids.GRAPH_CONTOUR)], "3d": [("Landscape 3-D", ids.GRAPH_SURFACE)]}
SINGLE_PLOTS["both"] = SINGLE_PLOTS["2d"] + SINGLE_PLOTS["3d"]
COMPARE_PLOTS = [("A's landscape", ids.GRAPH_CONTOUR), ("B's landscape", ids.GRAPH_CONTOUR_B),
                 ("Line A ↔ B", ids.GRAPH_LINE), ("Learning curves", ids.GRAPH_CURVES), ("A's data", ids.GRAPH_DATA),
                 ("B's data", ids.GRAPH_DATA_B)]


def plot_options(display: str, compare: bool) -> list[dict]:
    """The plots a person can save as an image: those on the page now, and only those."""
    single = SINGLE_PLOTS[display] if isinstance(display, str) and display in SINGLE_PLOTS else SINGLE_PLOTS["both"]
    shown = COMPARE_PLOTS if compare else single + [
        ("Learning curves", ids.GRAPH_CURVES), ("Data", ids.GRAPH_DATA)]
    return [{"label": label, "value": v} for label, v in shown]


def layout():
    plot = dcc.Dropdown(id=ids.EXPORT_PLOT, options=plot_options("both", False),
                        value=ids.GRAPH_CONTOUR, clearable=False, searchable=False,
                        className="ctl-dropdown export-plot")
    images = [html.Span("Plot", className="vlabel"), plot,
              html.Button("PNG", id=ids.EXPORT_PNG, className="btn small", title="Save this plot as a PNG image"),
              html.Button("SVG", id=ids.EXPORT_SVG, className="btn small",
                          title="Save this plot as an SVG (vector) image")]
    runs = [html.Span("Run", className="vlabel")] + [
        html.Button(text, id={"type": ids.EXPORT, "kind": kind}, className="btn small", title=tip)
        for kind, (text, _name, _mime, tip) in DOWNLOADS.items()]
    return html.Details([html.Summary("Export"),
                         html.Div([html.Div(images, className="export-row"), html.Div(runs, className="export-row"),
                                   html.Span(id=ids.EXPORT_NOTE, className="note inline", role="status")],
                                  className="export-body"),
                         dcc.Download(id=ids.DOWNLOAD)], className="export", id="box-export")


def register(app, services) -> None:
    @app.callback(Output(ids.DOWNLOAD, "data"), Output(ids.EXPORT_NOTE, "children"),
                  Input({"type": ids.EXPORT, "kind": ALL}, "n_clicks"),
                  State(ids.STORE_RUN, "data"), State(ids.STORE_SESSION, "data"), State(ids.GRID, "value"),
                  State(ids.RANGE, "value"), State(ids.DIRECTIONS, "value"), State(ids.SURFACE_OF, "value"),
                  State(ids.LOG_Z, "value"), State(ids.URL, "search"), State(ids.NORMALIZATION, "value"),
                  prevent_initial_call=True)
    @guarded(ids.EXPORT_NOTE)
    def download(clicks, run, session, grid, span, plane, of, log_z, search, norm):
        kind = (ctx.triggered_id or {}).get("kind") if isinstance(ctx.triggered_id, dict) else None
        if kind not in DOWNLOADS or not any(clicks or []):
            raise PreventUpdate
        hot = own_run(services, run, session)
        if hot is None:
            raise LookupError("Nothing to export yet: press Train first.")
        page = exports.Page.of_inputs(grid, span, plane, of, log_z, search, norm)
        stored = exports.gather(services, hot, page)
        _text, name, mime, _tip = DOWNLOADS[kind]
        if kind == "npz":
            data = dcc.send_bytes(exports.run_npz(services, stored), name, type=mime)
        else:
            build = {"curves_csv": exports.curves_csv, "surface_csv": exports.surface_csv,
                     "json": exports.run_json, "html": exports.html_snapshot}[kind]
            data = dict(content=build(stored), filename=name, type=mime)
        steps = ", ".join(f"step {h['step']}" for h in stored.hots)
        return data, f"{name} saved ({steps})"

    @app.callback(Output(ids.EXPORT_PLOT, "options"), Output(ids.EXPORT_PLOT, "value"),
                  Input(ids.DISPLAY, "value"), Input(ids.COMPARE, "value"), State(ids.EXPORT_PLOT, "value"),
                  prevent_initial_call=True)  # the layout's options are those of "both", compare off
    def plot_choices(display, compare, picked):
        options = plot_options(display, bool(compare))
        values = [o["value"] for o in options]
        return options, (no_update if picked in values else values[0])

    app.clientside_callback(
        """function(png, svg, which) {
            var t = window.dash_clientside.callback_context.triggered;
            if (!t.length || !(png || svg)) { return window.dash_clientside.no_update; }
            var format = t[0].prop_id.indexOf("png") >= 0 ? "png" : "svg";
            var box = document.getElementById(which);
            var gd = box && (box.classList.contains("js-plotly-plot") ? box : box.querySelector(".js-plotly-plot"));
            if (!gd || !window.Plotly || !gd.offsetParent) {
                return "That plot is not on the page now (compare mode and the 2D/3D choice decide what shows).";
            }
            var name = "lossviz-" + which.replace("graph-", "");
            window.Plotly.downloadImage(gd, {format: format, filename: name, scale: format === "png" ? 2 : 1});
            return name + "." + format + " saved";
        }""",
        Output(ids.EXPORT_NOTE, "children", allow_duplicate=True), Input(ids.EXPORT_PNG, "n_clicks"),
        Input(ids.EXPORT_SVG, "n_clicks"), State(ids.EXPORT_PLOT, "value"), prevent_initial_call=True)
