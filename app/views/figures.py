"""Figure builders: pure functions from arrays to plain-dict Plotly figures. No model, no metrics.

A figure is ``{"data": [trace dicts], "layout": {...}}``, which ``dcc.Graph`` takes as is: built
from literals it costs a few hundredths of a millisecond, where ``go.Figure`` spent 10-20 ms per
figure validating paths (most of a busy server's time). Every array is a Python list: the
browser streams into some traces with ``extendData``, which cannot extend typed arrays.

Readable on a projector: large fonts, a colour-blind-safe sequential scale (Viridis) for the
loss, axis titles with units, and legends that say train vs test.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import framing

Figure = dict[str, Any]  # {"data": [trace dicts], "layout": {...}}, as plotly.js reads it

# plotly.py's 10-stop Viridis, spelled out: the name "Viridis" alone would make plotly.js use
# its own 17-stop Viridis, a slightly different ramp from the one the figures have shown.
VIRIDIS = [[i / 9, c] for i, c in enumerate(("#440154", "#482878", "#3e4989", "#31688e", "#26828e",
                                              "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"))]
SURFACE_SCALE = VIRIDIS
TRAIN_COLOUR = "#0072B2"  # Okabe-Ito blue / vermillion / green: colour-blind safe
TEST_COLOUR = "#D55E00"
PATH_COLOUR = "#ffffff"
CLASS_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                 "#F0E442", "#000000", "#999999", "#882255"]
FONT = dict(size=15, family="Inter, Segoe UI, Helvetica, Arial, sans-serif")
ALPHA_TITLE = "α (direction 1)"
BETA_TITLE = "β (direction 2)"
_MARGIN = dict(l=60, r=20, t=44, b=50)
# The data plots' legend to the right of the plot, one entry per line: below the plot it ran
# into the x-axis title in small plots, and a legend placed by the container's bottom edge
# pushed the margins until a plot squeezed while the page laid itself out had no height left
# (plotly.js: "Something went wrong with axis scaling"). Pushing the width is safe.
_BELOW = dict(legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top", traceorder="normal",
                          font=dict(size=11), tracegroupgap=0),
              margin=dict(l=60, r=10, t=44, b=44))
_CARTESIAN = dict(gridcolor="#EBF0F8", linecolor="#EBF0F8", ticks="", title=dict(standoff=15),
                  zerolinecolor="#EBF0F8", automargin=True, zerolinewidth=2)
_SCENE_AXIS = dict(backgroundcolor="white", gridcolor="#DFE8F3", linecolor="#EBF0F8", showbackground=True,
                   ticks="", zerolinecolor="#EBF0F8", gridwidth=2)
_COLORBAR = dict(colorbar=dict(outlinewidth=0, ticks=""))
# What Plotly's "plotly_white" template sets for the traces and axes drawn here (the whole
# template is 7 KB of JSON per figure; tests check these values against it).
LIGHT = {
    "layout": dict(autotypenumbers="strict", font=dict(color="#2a3f5f"), hovermode="closest",
                   hoverlabel=dict(align="left"), paper_bgcolor="white", plot_bgcolor="white",
                   colorway=["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3",
                             "#FF6692", "#B6E880", "#FF97FF", "#FECB52"],
                   xaxis=_CARTESIAN, yaxis=_CARTESIAN,
                   scene=dict(xaxis=_SCENE_AXIS, yaxis=_SCENE_AXIS, zaxis=_SCENE_AXIS),
                   annotationdefaults=dict(arrowcolor="#2a3f5f", arrowhead=0, arrowwidth=1)),
    "data": {kind: [dict(type=kind, **_COLORBAR)] for kind in ("contour", "heatmap", "surface")},
}


def _fresh(value):
    """A copy of nested dicts and lists, so no figure shares a mutable part with another."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _figure(data: list[dict], title: str, **layout) -> Figure:
    """The figure with the shared look: title, projector fonts, light template, kept zoom."""
    layout.setdefault("margin", dict(_MARGIN))
    layout.update(title=dict(text=title, x=0.02, font=dict(size=17)), font=dict(FONT),
                  template=_fresh(LIGHT), uirevision="keep")
    return {"data": data, "layout": layout}


def loss_for_display(z: np.ndarray, log_z: bool) -> np.ndarray:
    """The values drawn: the loss, or log10 of it (clipped away from zero) on a log scale."""
    z = np.asarray(z, dtype=float)
    return np.log10(np.maximum(z, 1e-12)) if log_z else z


def _z_title(log_z: bool, label: str = "loss") -> str:
    return f"log₁₀ {label}" if log_z else label


def _floats(values: np.ndarray) -> list[float]:
    return list(map(float, values))


def _list(values: np.ndarray) -> list:
    return np.ravel(values).tolist()


def contour_figure(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, path: np.ndarray,
                   *, log_z: bool = False, title: str = "Loss around the weights",
                   metric: np.ndarray | None = None, metric_label: str = "accuracy",
                   z_label: str = "loss", offplane: np.ndarray | None = None,
                   zrange: tuple[float, float] | None = None, clipped: bool = False) -> Figure:
    """Filled contour of the loss over (α, β) with the optimizer's path and the current point.

    Parameters
    ----------
    alphas, betas : (Ga,), (Gb,) grid coordinates; z : (Ga, Gb) losses, z[i, j] at (alphas[i], betas[j])
    path : (T, 2) projected (α, β) of the trajectory; its last row is the current point
    metric : (Ga, Gb) accuracy (or R²) at each grid point, shown on hover beside the loss
    offplane : (T,) each path point's distance from the plane, shown on hover
    zrange : (lo, hi) of the colour scale (in loss units); ``clipped``: values above hi exist and
        take the top colour, which the colour bar's title says

    Returns
    -------
    Figure : traces 0 contour, 1 path, 2 current point (see :func:`contour_updates`)
    """
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    cur = path[-1] if len(path) else np.zeros(2)
    contour = dict(type="contour", x=_floats(alphas), y=_floats(betas),
                   z=loss_for_display(z, log_z).T.tolist(),  # plotly wants rows = y (β), columns = x (α)
                   colorscale=_fresh(SURFACE_SCALE), ncontours=24, name="loss",
                   colorbar=dict(title=dict(text=_z_title(log_z, z_label)), thickness=14),
                   hovertemplate="α %{x:.3f}<br>β %{y:.3f}<br>" + _z_title(log_z, z_label) + " %{z:.4g}<extra></extra>")
    if metric is not None:
        contour["customdata"] = [[None if not np.isfinite(v) else round(float(v), 4) for v in row]
                                 for row in np.asarray(metric, dtype=float).T]
        fmt = "%{customdata:.1%}" if metric_label == "accuracy" else "%{customdata:.3f}"
        contour["hovertemplate"] = contour["hovertemplate"].replace(
            "<extra>", f"<br>{metric_label} {fmt}<br>click: this network's predictions<extra>")
    line = dict(type="scatter", x=path[:, 0].tolist(), y=path[:, 1].tolist(), mode="lines+markers",
                name="path", line=dict(color=PATH_COLOUR, width=2.5), marker=dict(size=4, color=PATH_COLOUR))
    if offplane is not None:
        line.update(_offplane(offplane))
    now = dict(type="scatter", x=[float(cur[0])], y=[float(cur[1])], mode="markers", name="now",
               marker=dict(size=14, color="#E69F00", symbol="x", line=dict(width=2, color="black")))
    if zrange is not None:
        _colour_range(contour, zrange, log_z, clipped)
    return _figure([contour, line, now], title, showlegend=False,
                   xaxis=dict(title=dict(text=ALPHA_TITLE), range=[float(alphas[0]), float(alphas[-1])]),
                   yaxis=dict(title=dict(text=BETA_TITLE), range=[float(betas[0]), float(betas[-1])]))


def compare_contour_figure(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, own_path: np.ndarray,
                           other_path: np.ndarray, *, title: str, other_label: str, log_z: bool = False,
                           zrange: tuple[float, float] | None = None, metric: np.ndarray | None = None,
                           metric_label: str = "accuracy", z_label: str = "loss", clipped: bool = False,
                           exits: Sequence[tuple[float, float, str]] = ()) -> Figure:
    """One run of a comparison: its loss over the shared plane, its own path bold, the other
    run's path faint (both start at (0, 0), the common initial weights).

    z (Ga, Gb) this run's loss; own_path, other_path (T, 2) plane coordinates; ``zrange`` a
    colour range (shared with the other run's contour when both train the same loss; ``clipped``
    as in :func:`contour_figure`); ``exits`` [(α, β, text)]: a path leaving the frame towards
    (α, β), said in that corner.
    Traces: 0 contour, 1 own path, 2 current point, 3 the other run's path, 4 the start.
    """
    fig = contour_figure(alphas, betas, z, own_path, log_z=log_z, title=title, metric=metric,
                         metric_label=metric_label, z_label=z_label, zrange=zrange, clipped=clipped)
    other = np.asarray(other_path, dtype=float).reshape(-1, 2)
    fig["data"].append(dict(type="scatter", x=other[:, 0].tolist(), y=other[:, 1].tolist(), mode="lines",
                            name=other_label, line=dict(color="rgba(255,255,255,0.55)", width=1.5, dash="dot")))
    fig["data"].append(dict(type="scatter", x=[0.0], y=[0.0], mode="markers", name="start (both runs)",
                            marker=dict(size=10, color="white", symbol="circle", line=dict(width=2, color="black"))))
    centre = (float(alphas[0] + alphas[-1]) / 2, float(betas[0] + betas[-1]) / 2)
    for x, y, text in exits:  # said in the corner the path leaves towards, clear of the path
        right, top = x >= centre[0], y >= centre[1]
        arrow = {(True, True): "↗", (True, False): "↘", (False, True): "↖", (False, False): "↙"}[(right, top)]
        fig["layout"].setdefault("annotations", []).append(
            dict(xref="x domain", yref="y domain", x=1.0 if right else 0.0, y=1.0 if top else 0.0,
                 xanchor="right" if right else "left", yanchor="top" if top else "bottom", showarrow=False,
                 text=f"{text} {arrow}", font=dict(size=11, color="white"), bgcolor="rgba(0,0,0,0.6)"))
    return fig


def _colour_range(contour: dict, zrange: tuple[float, float], log_z: bool, clipped: bool) -> None:
    """Fix a contour's colour scale to ``zrange`` (loss units); when values above it were
    ``clipped`` to the top colour, its colour bar says so."""
    lo, hi = (float(v) for v in loss_for_display(np.asarray(zrange, float), log_z))
    contour.update(zmin=lo, zmax=hi, zauto=False)
    if clipped:
        title = contour["colorbar"]["title"]["text"]
        contour["colorbar"]["title"]["text"] = f"{title}<br><sup>capped at {float(zrange[1]):.3g}</sup>"


def interpolation_figure(ts: np.ndarray, loss: np.ndarray, metric: np.ndarray, labels: Sequence[str],
                         metric_label: str, *, colours: Sequence[str] = ("#009E73", "#CC79A7"),
                         losses: Sequence[str] = (), start: Sequence[float] = ()) -> Figure:
    """Loss (top) and accuracy or R² (bottom) along the line from run A's weights (t = 0) to
    run B's (t = 1): a bump between them is a barrier between the two minima.

    ts (T,); loss, metric (R, T): row i evaluated with run i's settings, named by labels[i].
    losses : each run's loss in words; when they differ, the shared measure goes on top and each
    loss below on its own axis (their values are in different units).
    start : (R,) each run's loss at the common start: a loss above ``framing.OFF_CHART`` times it
    is off the chart (a diverged run's end), and so is R² below ``framing.R2_FLOOR``; a note says so.
    Traces: per run its loss, then per run its metric.
    """
    split = len(losses) == 2 and losses[0] != losses[1]
    axes = _curve_axes(split)
    data = []
    for key, values in (("loss", loss), ("metric", metric)):
        for i, label in enumerate(labels):
            xa, ya = axes["loss"][i] if key == "loss" else axes["metric"]
            data.append(dict(type="scatter", x=_floats(ts), y=_floats_or_none(values[i]), mode="lines",
                             name=label if not split else label.split(" ")[0], legendgroup=str(i),
                             showlegend=key == ("metric" if split else "loss"),
                             line=dict(color=colours[i % len(colours)], width=2.5, dash=("solid", "dash")[i % 2]),
                             xaxis=xa, yaxis=ya))
    layout = _curve_layout(split, metric_label, False, losses)
    for ax in ("xaxis", "xaxis2", "xaxis3"):
        if ax in layout and "title" in layout[ax]:
            layout[ax]["title"] = dict(text="t  (0: A's weights, 1: B's)" if not split else "t (A→B)")
    subplots = list(dict.fromkeys([*axes["loss"], axes["metric"]]))
    marks = [dict(type="line", xref=xa, yref=f"{ya} domain", x0=t, x1=t, y0=0, y1=1,
                  line=dict(color="#999", width=1, dash="dot")) for xa, ya in subplots for t in (0.0, 1.0)]
    top = axes["loss"][0] if not split else axes["metric"]
    notes = [dict(x=t, y=1.0, xref=top[0], yref=f"{top[1]} domain", text=text, showarrow=False, yanchor="bottom",
                  font=dict(size=12)) for t, text in ((0.0, "A"), (1.0, "B"))]
    notes += layout.pop("annotations", []) + _clip_line(layout, loss, metric, labels, metric_label, axes, start)
    legend = _SPLIT_LEGEND if split else dict(orientation="v", y=1.0, yanchor="top", x=0.01, xanchor="left",
                                              font=dict(size=11), bgcolor="rgba(255,255,255,0.75)")  # never on a title
    return _figure(data, "Between A and B: the straight line", shapes=marks, annotations=notes, legend=legend,
                   margin=dict(l=60, r=20, t=44, b=44), **layout)


def _clip_line(layout: dict, loss: np.ndarray, metric: np.ndarray, labels: Sequence[str], metric_label: str,
               axes: dict, start: Sequence[float]) -> list[dict]:
    """The A-B line's axes stopped at the off-chart bounds (in ``layout``), and its notes."""
    notes = []
    for ya in dict.fromkeys(a[1] for a in axes["loss"]):
        rows = [i for i, (_, y) in enumerate(axes["loss"]) if y == ya and i < len(labels)]
        ceiling = framing.loss_ceiling([start[i] for i in rows if i < len(start)])
        if ceiling is None:
            continue
        layout[_axis_key(ya)]["autorangeoptions"] = framing.loss_bounds(ceiling)
        over = [i for i in rows if framing.beyond(loss[i], hi=ceiling)]
        if over:
            top = max(float(np.nanmax(np.where(np.isfinite(loss[i]), loss[i], np.nan))) for i in over)
            notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} max", f"↑ off the chart: up to {top:.2g}<br>"
                                                f"(> {framing.OFF_CHART:g}× the start)", axes["loss"][rows[0]][0], ya,
                                                True, side="right"))
    xa, ya = axes["metric"]
    layout[_axis_key(ya)]["autorangeoptions"] = framing.metric_bounds(metric_label)
    if metric_label == "R²" and framing.beyond(metric, lo=framing.R2_FLOOR):
        notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} min", "↓ off the chart: R² below "
                                            f"{framing.R2_FLOOR:g}", xa, ya, True, top=False, side="right"))
    return notes


def _floats_or_none(values) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def _offplane(offplane: np.ndarray) -> dict:
    """Hover text of the path's points: how far each lies off the plane drawn under it."""
    return dict(customdata=_floats_or_none(offplane),
                hovertemplate="path α %{x:.3f}, β %{y:.3f}<br>off this plane by %{customdata:.3g}<extra></extra>")


def contour_updates(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, path: np.ndarray,
                    *, log_z: bool = False, metric: np.ndarray | None = None,
                    offplane: np.ndarray | None = None) -> dict[tuple, object]:
    """What changes in :func:`contour_figure` as training goes on, keyed by property path.

    Sending only these (as a ``Patch``) keeps the trace, its colour bar and the user's zoom,
    and costs a fraction of a whole figure.
    """
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    cur = path[-1] if len(path) else np.zeros(2)
    return {("data", 0, "x"): list(map(float, alphas)), ("data", 0, "y"): list(map(float, betas)),
            ("data", 0, "z"): loss_for_display(z, log_z).T.tolist(),
            ("data", 1, "x"): path[:, 0].tolist(), ("data", 1, "y"): path[:, 1].tolist(),
            ("data", 2, "x"): [float(cur[0])], ("data", 2, "y"): [float(cur[1])],
            ("layout", "xaxis", "range"): [float(alphas[0]), float(alphas[-1])],
            ("layout", "yaxis", "range"): [float(betas[0]), float(betas[-1])],
            **({} if metric is None else {("data", 0, "customdata"): [
                [None if not np.isfinite(v) else round(float(v), 4) for v in row]
                for row in np.asarray(metric, dtype=float).T]}),
            **({} if offplane is None else {("data", 1, "customdata"): _floats_or_none(offplane)})}


def surface3d_updates(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, path: np.ndarray,
                      path_loss: np.ndarray, *, log_z: bool = False) -> dict[tuple, object]:
    """What changes in :func:`surface3d_figure` as training goes on (see contour_updates)."""
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    return {("data", 0, "x"): list(map(float, alphas)), ("data", 0, "y"): list(map(float, betas)),
            ("data", 0, "z"): loss_for_display(z, log_z).T.tolist(),
            ("data", 1, "x"): path[:, 0].tolist(), ("data", 1, "y"): path[:, 1].tolist(),
            ("data", 1, "z"): loss_for_display(np.asarray(path_loss, float), log_z).tolist()}


def surface3d_figure(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, path: np.ndarray,
                     path_loss: np.ndarray, *, log_z: bool = False,
                     title: str = "Loss surface (3-D)", z_label: str = "loss") -> Figure:
    """3-D surface of the loss with the path lifted onto it (path_loss (T,) at each row).

    Shapes as in :func:`contour_figure`; traces 0 surface, 1 path (see :func:`surface3d_updates`).
    """
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    surface = dict(type="surface", x=_floats(alphas), y=_floats(betas), z=loss_for_display(z, log_z).T.tolist(),
                   colorscale=_fresh(SURFACE_SCALE), name="loss",
                   colorbar=dict(title=dict(text=_z_title(log_z, z_label)), thickness=14))
    line = dict(type="scatter3d", x=path[:, 0].tolist(), y=path[:, 1].tolist(), mode="lines", name="path",
                z=loss_for_display(np.asarray(path_loss, float), log_z).tolist(),
                line=dict(color="#E69F00", width=6))

    def axis(text: str) -> dict:
        return dict(title=dict(text=text, font=dict(size=13)), tickfont=dict(size=11), nticks=4)

    scene = dict(camera=dict(eye=dict(x=1.4, y=1.4, z=0.95)), xaxis=axis(ALPHA_TITLE), yaxis=axis(BETA_TITLE),
                 zaxis=axis(_z_title(log_z, z_label)), aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.6))
    return _figure([surface, line], title, showlegend=False, margin=dict(l=0, r=0, t=40, b=0), scene=scene)


def placeholder_3d(title: str = "Loss surface (3-D)") -> Figure:
    """A tiny 3-D surface so the WebGL context exists before the first real one arrives."""
    return surface3d_figure(np.array([-1.0, 1.0]), np.array([-1.0, 1.0]), np.zeros((2, 2)),
                            np.zeros((1, 2)), np.zeros(1), title=title)


LOSS_AXES = ("yaxis", "yaxis3")  # the curves' loss axes: one, or one per run when their losses differ


def curves_figure(history: dict[str, Sequence[float]], metric_label: str,
                  *, log_loss: bool = False, runs: Sequence[tuple[str, dict]] = (),
                  losses: Sequence[str] = ()) -> Figure:
    """Train/test loss (top) and train/test metric (bottom) against optimizer steps.

    history : lists under "step", "train_loss", "test_loss", "train_metric", "test_metric".
    Trace order (for streaming): 0 train loss, 1 test loss, 2 train metric, 3 test metric.
    runs : compare mode instead: [(label, history)] for A and B. Then colour says the split
    (train, test) and the line says the run (A solid, B dashed); run i's traces are 4i..4i+3.
    losses : each run's loss in words; when A's and B's differ their values are in different
    units, so the shared measure (accuracy or R²) goes on top and each loss below on its own axis.

    A loss above ``framing.OFF_CHART`` times its start, and R² below ``framing.R2_FLOOR``, are off
    the chart (a diverged run): the axis stops there and a note says so (the page shows the note
    when streamed points first pass the bound).
    """
    compare = bool(runs)
    runs_ = list(runs) if compare else [("", history)]
    split = compare and len(losses) == 2 and losses[0] != losses[1]
    axes = _curve_axes(split)
    data = []
    for i, (run_label, hist) in enumerate(runs_):
        steps = list(hist.get("step", []))
        for key, label in (("loss", "loss"), ("metric", metric_label)):
            xa, ya = axes["loss"][i] if key == "loss" else axes["metric"]
            for split_name, colour in (("train", TRAIN_COLOUR), ("test", TEST_COLOUR)):
                dash = ("solid" if split_name == "train" else "dash") if not compare else ("solid", "dash")[i % 2]
                width = 2.5 if not compare or split_name == "train" else 1.5
                name = f"{split_name} {label}" if not compare else (
                    "AB"[i] if split else f"{'AB'[i]}: {run_label}")
                data.append(dict(type="scatter", x=list(steps), y=list(hist.get(f"{split_name}_{key}", [])),
                                 mode="lines", name=name,
                                 legendgroup=f"{i}{split_name}" if not compare else str(i),
                                 showlegend=not compare or (split_name == "train" and key == ("metric" if split
                                                                                             else "loss")),
                                 line=dict(color=colour, width=width, dash=dash), xaxis=xa, yaxis=ya))
    title = "Learning curves" if not compare else "Learning curves · blue train, orange test"
    layout = _curve_layout(split, metric_label, log_loss, losses)
    layout["annotations"] = layout.get("annotations", []) + _clip_curves(layout, runs_, metric_label, axes)
    legend = (dict(orientation="h", y=1.0, yanchor="bottom", x=1.0, xanchor="right", font=dict(size=13))
              if not compare else _SPLIT_LEGEND if split else
              dict(orientation="v", y=1.0, x=0.99, xanchor="right", yanchor="top", font=dict(size=11),
                   bgcolor="rgba(255,255,255,0.75)"))
    return _figure(data, title, legend=legend, **({} if not compare else {"margin": dict(l=60, r=20, t=44, b=44)}),
                   **layout)


def _axis_key(ref: str) -> str:
    """"y3" -> "yaxis3": the layout key of an axis a trace names."""
    return ref[0] + "axis" + ref[1:]


def _curve_axes(split: bool) -> dict:
    """Which (x, y) axes each curve is drawn on: {"loss": [run A's, run B's], "metric": shared}."""
    if split:  # the shared measure on top; A's loss bottom left, B's bottom right
        return {"loss": [("x", "y"), ("x3", "y3")], "metric": ("x2", "y2")}
    return {"loss": [("x", "y"), ("x", "y")], "metric": ("x2", "y2")}


# Two short entries in one line, at the foot of the shared measure's row (its curves rise away from it).
_SPLIT_LEGEND = dict(orientation="h", y=0.61, yanchor="bottom", x=1.0, xanchor="right", font=dict(size=11),
                     bgcolor="rgba(255,255,255,0.75)")


def _curve_layout(split: bool, metric_label: str, log_loss: bool, losses: Sequence[str]) -> dict:
    scale = "log" if log_loss else "linear"
    if not split:
        # Two rows sharing one step axis, as make_subplots(rows=2, shared_xaxes=True,
        # vertical_spacing=0.1) lays them out: the top row's x follows the bottom row's.
        return dict(xaxis=dict(anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
                    yaxis=dict(anchor="x", domain=[0.55, 1.0], title=dict(text="loss"), type=scale),
                    xaxis2=dict(anchor="y2", domain=[0.0, 1.0], title=dict(text="optimizer step")),
                    yaxis2=dict(anchor="x2", domain=[0.0, 0.45], title=dict(text=metric_label)))
    # B's loss axis on the right: the two loss plots' ticks never meet between them; each loss
    # plot is named above it (a rotated title would not fit its height).
    titles = [dict(text=f"{run}'s loss: {name}", xref=f"{x} domain", yref=f"{y} domain", x=0.5, y=1.0,
                   xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=12))
              for run, name, x, y in (("A", losses[0], "x", "y"), ("B", losses[1], "x3", "y3"))]
    return dict(xaxis2=dict(anchor="y2", domain=[0.0, 1.0], matches="x", showticklabels=False),
                yaxis2=dict(anchor="x2", domain=[0.6, 1.0], title=dict(text=metric_label), nticks=4),
                xaxis=dict(anchor="y", domain=[0.0, 0.42], title=dict(text="step"), nticks=4),
                yaxis=dict(anchor="x", domain=[0.0, 0.4], type=scale, nticks=4),
                xaxis3=dict(anchor="y3", domain=[0.58, 1.0], matches="x", title=dict(text="step"), nticks=4),
                yaxis3=dict(anchor="x3", domain=[0.0, 0.4], type=scale, side="right", nticks=4), annotations=titles)


def _clip_curves(layout: dict, runs_: list, metric_label: str, axes: dict) -> list[dict]:
    """Sets each loss axis's ceiling (``framing.loss_ceiling`` of the starts drawn on it) and the
    metric axis's bounds in ``layout``; returns the off-chart notes, shown already when the
    histories given pass a bound."""
    notes = []
    for ya in dict.fromkeys(a[1] for a in axes["loss"]):
        xa = next(x for x, y in axes["loss"] if y == ya)
        on_axis = [h for (_, h), (_, y) in zip(runs_, axes["loss"]) if y == ya]
        ceiling = framing.loss_ceiling([framing.first_finite(h.get("train_loss", [])) for h in on_axis])
        if ceiling is None:
            continue
        layout[_axis_key(ya)]["autorangeoptions"] = framing.loss_bounds(ceiling)
        over = any(framing.beyond(h.get(k, []), hi=ceiling) for h in on_axis for k in ("train_loss", "test_loss"))
        notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} max", "↑ off the chart: loss > "
                                            f"{framing.OFF_CHART:g}× start", xa, ya, over))
    xa, ya = axes["metric"]
    layout[_axis_key(ya)]["autorangeoptions"] = framing.metric_bounds(metric_label)
    if metric_label != "R²":  # accuracy is never off the chart
        return notes
    under = any(framing.beyond(h.get(k, []), lo=framing.R2_FLOOR) for _, h in runs_
                for k in ("train_metric", "test_metric"))
    notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} min", "↓ off the chart: R² below "
                                        f"{framing.R2_FLOOR:g}", xa, ya, under, top=False, side="right"))
    return notes


def stream_points(history: dict[str, Sequence[float]], start: int) -> dict:
    """New curve points from index ``start`` as Plotly ``extendData`` for curves_figure."""
    xs = list(history["step"][start:])
    ys = [list(history[k][start:]) for k in ("train_loss", "test_loss", "train_metric", "test_metric")]
    return {"x": [xs] * 4, "y": ys}


def classification_figure(xx: np.ndarray, yy: np.ndarray, prob: np.ndarray, points: dict,
                          *, title: str = "Data and decision regions",
                          axis_titles: tuple[str, str] = ("x₁", "x₂"), class_names: Sequence[str] = ()) -> Figure:
    """Decision regions (predicted class over a grid) with the data points on top.

    xx (Gx,), yy (Gy,) grid axes; prob (Gy, Gx, K) predicted probabilities;
    points: {"X_train" (n, 2), "y_train" (n,), "X_test", "y_test"} in the same coordinates.
    Trace 0 is the heatmap (its ``z`` is :func:`region_values`), then the points.
    """
    k = prob.shape[-1]
    regions = dict(type="heatmap", x=xx.tolist(), y=yy.tolist(), z=region_values(prob).tolist(),
                   colorscale=_class_scale(k), zmin=0, zmax=k, showscale=False, hoverinfo="skip",
                   name="prediction")
    return _figure([regions, *_class_points(points, k, class_names, over_regions=True)], title, **_fresh(_BELOW),
                   xaxis=dict(title=dict(text=axis_titles[0]), range=[float(xx[0]), float(xx[-1])]),
                   yaxis=dict(title=dict(text=axis_titles[1]), range=[float(yy[0]), float(yy[-1])]))


def region_values(prob: np.ndarray) -> np.ndarray:
    """Heatmap values (Gy, Gx) for class probabilities (Gy, Gx, K): class index plus confidence.

    One colour per class, paler where the network is unsure (confidence 1/K -> near white).
    """
    k = prob.shape[-1]
    conf = prob.max(axis=-1)
    return prob.argmax(axis=-1) + np.clip((conf - 1.0 / k) / (1 - 1.0 / k), 0, 0.999)


def _class_scale(k: int) -> list:
    """Colour scale over [0, k]: class c runs from white (unsure) to its pale colour (sure)."""
    scale = []
    for c in range(k):
        colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
        top = 1.0 if c == k - 1 else (c + 1) / k - 1e-9
        scale += [[c / k, "#f4f4f4"], [top, _pale(colour)]]
    return scale


def _pale(hex_colour: str, amount: float = 0.45) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(255 - (255 - v) * amount) for v in (r, g, b)]
    return "#%02x%02x%02x" % tuple(mix)


def _class_points(points: dict, k: int, class_names: Sequence[str] = (), over_regions: bool = False) -> list[dict]:
    """One marker trace per split and class present; train filled, test open; a class is named
    by ``class_names`` (an uploaded table's labels) or its number. ``over_regions``: the points
    lie over decision regions, which they must not hide: many points are drawn smaller and
    translucent, with a white rim instead of a black one."""
    traces = []
    many = k > 3  # a legend entry per class and split would crowd the plot: one per split
    crowded = over_regions and len(points["y_train"]) > 150
    size, opacity, rim = (5, 0.6, "white") if crowded else (7, 1.0, "black")
    for split, symbol in (("train", "circle"), ("test", "diamond-open")):
        X, y = np.asarray(points[f"X_{split}"]), np.asarray(points[f"y_{split}"])
        first = True
        for c in range(k):
            sel = y == c
            if not sel.any():
                continue
            colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
            traces.append(dict(
                type="scatter", x=X[sel, 0].tolist(), y=X[sel, 1].tolist(), mode="markers",
                name=f"{split} (colour: class)" if many else
                f"{class_names[c] if c < len(class_names) else f'class {c}'} ({split})", legendgroup=split,
                showlegend=not many or first,
                marker=dict(size=size if split == "train" else size + 2, color=colour, symbol=symbol,
                            opacity=opacity if split == "train" else min(1.0, opacity + 0.25),
                            line=dict(width=0.6 if split == "train" else (1.2 if crowded else 1.6),
                                      color=rim if split == "train" else colour))))
            first = False
    return traces


def projected_classes_figure(points: dict, pred_train: np.ndarray, pred_test: np.ndarray, k: int,
                             *, title: str = "Data (PCA view), coloured by prediction",
                             class_names: Sequence[str] = ()) -> Figure:
    """Higher-dimensional classification: a 2-D PCA view coloured by the predicted class."""
    data = _class_points({"X_train": points["X_train"], "y_train": pred_train,
                          "X_test": points["X_test"], "y_test": pred_test}, k, class_names)
    return _figure(data, title, **_fresh(_BELOW), xaxis=dict(title=dict(text="principal component 1")),
                   yaxis=dict(title=dict(text="principal component 2")))


def regression_curve_figure(x_line: np.ndarray, y_line: np.ndarray, points: dict,
                            *, title: str = "Data and fitted curve",
                            axis_titles: tuple[str, str] = ("x", "y"), outliers: np.ndarray | None = None,
                            line_name: str = "network", others: Sequence[tuple[str, np.ndarray]] = ()) -> Figure:
    """1-D regression: the points (train/test, traces 0-1) and the network's curve over x (trace 2).

    The plot is framed on the inliers (the training points not flagged in ``outliers`` (n_train,)
    bool, and the test points); a point beyond the frame is drawn at its edge as a triangle
    pointing where it lies (trace 3, "outliers"), its real value on hover. A curve leaving the
    frame leaves it. ``others``: more curves over the same x, [(name, y_line)] (compare mode: the
    other run's fitted line, dashed).
    """
    y_tr, y_te = np.ravel(points["y_train"]).astype(float), np.ravel(points["y_test"]).astype(float)
    flagged = np.zeros(len(y_tr), bool) if outliers is None else np.asarray(outliers, bool)
    frame = framing.data_frame(np.r_[y_tr[~flagged], y_te])
    out = flagged | (y_tr < frame[0]) | (y_tr > frame[1])
    x_tr = np.ravel(points["X_train"])
    data = [dict(type="scatter", x=_list(x), y=_list(y), mode="markers", name=split,
                 marker=dict(color=colour, size=7, symbol=symbol))
            for split, x, y, colour, symbol in (("train", x_tr[~out], y_tr[~out], TRAIN_COLOUR, "circle"),
                                                ("test", points["X_test"], y_te, TEST_COLOUR, "diamond-open"))]
    data.append(dict(type="scatter", x=_list(x_line), y=_list(y_line), mode="lines", name=line_name,
                     line=dict(color="black", width=3)))
    if out.any():
        drawn, symbols = framing.at_edge(y_tr[out], frame)
        data.append(dict(type="scatter", x=_list(x_tr[out]), y=_list(drawn), mode="markers", customdata=_list(y_tr[out]),
                         name="outliers", hovertemplate="x %{x:.3g}<br>y %{customdata:.3g}"
                         "<extra>outlier</extra>", marker=dict(color="#ffffff", size=9, symbol=symbols.tolist(),
                                                               line=dict(color=TRAIN_COLOUR, width=2))))
    for k, (name, y_other) in enumerate(others):
        data.append(dict(type="scatter", x=_list(x_line), y=_list(y_other), mode="lines", name=name,
                         line=dict(color=("#CC79A7", "#009E73")[k % 2], width=2.5, dash="dash")))
    return _figure(data, title, **_fresh(_BELOW), xaxis=dict(title=dict(text=axis_titles[0])),
                   yaxis=dict(title=dict(text=axis_titles[1]), range=list(frame)))


def regression_curve_updates(y_line: np.ndarray) -> dict[tuple, object]:
    """What changes in :func:`regression_curve_figure` as training goes on: the curve."""
    return {("data", 2, "y"): np.ravel(y_line).tolist()}


def predicted_vs_actual_figure(points: dict, pred_train: np.ndarray, pred_test: np.ndarray,
                               *, title: str = "Predicted vs actual") -> Figure:
    """Multi-feature regression: predictions against targets, with the ideal diagonal.

    Framed on the targets (both axes): a prediction beyond the frame (a diverged network's) is
    drawn at its edge as a triangle pointing where it lies, its real value on hover.
    """
    lo = float(min(np.min(points["y_train"]), np.min(points["y_test"])))
    hi = float(max(np.max(points["y_train"]), np.max(points["y_test"])))
    frame = framing.data_frame(np.array([lo, hi]))
    data = []
    for split, pred, colour in (("train", pred_train, TRAIN_COLOUR), ("test", pred_test, TEST_COLOUR)):
        drawn, symbols = framing.at_edge(np.ravel(pred), frame)
        outside = symbols != "circle"
        data.append(dict(type="scatter", x=_list(points[f"y_{split}"]), y=_list(drawn), mode="markers", name=split,
                         customdata=_list(pred), hovertemplate="actual %{x:.3g}<br>predicted %{customdata:.3g}"
                         f"<extra>{split}</extra>",
                         marker=dict(color=colour, size=np.where(outside, 9, 7).tolist(), symbol=symbols.tolist())))
    data.append(dict(type="scatter", x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                     line=dict(color="black", dash="dot")))
    layout = dict(xaxis=dict(title=dict(text="actual (standardized)"), range=list(frame)),
                  yaxis=dict(title=dict(text="predicted"), range=list(frame)))
    if any(framing.beyond(p, *frame) for p in (pred_train, pred_test)):
        layout["annotations"] = [framing.off_chart_note("offframe", "▲▼ off the frame: at its edge", "x", "y", True)]
    return _figure(data, title, **_fresh(_BELOW), **layout)


def message_figure(text: str, title: str = "") -> Figure:
    """An empty figure that says why there is nothing to show yet."""
    note = dict(text=text, showarrow=False, font=dict(size=16, color="#555"), xref="paper", yref="paper",
                x=0.5, y=0.5)
    return _figure([], title, annotations=[note], xaxis=dict(visible=False), yaxis=dict(visible=False))
