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
                   z_label: str = "loss", offplane: np.ndarray | None = None) -> Figure:
    """Filled contour of the loss over (α, β) with the optimizer's path and the current point.

    Parameters
    ----------
    alphas, betas : (Ga,), (Gb,) grid coordinates; z : (Ga, Gb) losses, z[i, j] at (alphas[i], betas[j])
    path : (T, 2) projected (α, β) of the trajectory; its last row is the current point
    metric : (Ga, Gb) accuracy (or R²) at each grid point, shown on hover beside the loss
    offplane : (T,) each path point's distance from the plane, shown on hover

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
    return _figure([contour, line, now], title, showlegend=False,
                   xaxis=dict(title=dict(text=ALPHA_TITLE), range=[float(alphas[0]), float(alphas[-1])]),
                   yaxis=dict(title=dict(text=BETA_TITLE), range=[float(betas[0]), float(betas[-1])]))


def compare_contour_figure(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, own_path: np.ndarray,
                           other_path: np.ndarray, *, title: str, other_label: str, log_z: bool = False,
                           zrange: tuple[float, float] | None = None, metric: np.ndarray | None = None,
                           metric_label: str = "accuracy", z_label: str = "loss") -> Figure:
    """One run of a comparison: its loss over the shared plane, its own path bold, the other
    run's path faint (both start at (0, 0), the common initial weights).

    z (Ga, Gb) this run's loss; own_path, other_path (T, 2) plane coordinates; ``zrange`` a
    colour range shared with the other run's contour (when both train the same loss).
    Traces: 0 contour, 1 own path, 2 current point, 3 the other run's path, 4 the start.
    """
    fig = contour_figure(alphas, betas, z, own_path, log_z=log_z, title=title, metric=metric,
                         metric_label=metric_label, z_label=z_label)
    other = np.asarray(other_path, dtype=float).reshape(-1, 2)
    fig["data"].append(dict(type="scatter", x=other[:, 0].tolist(), y=other[:, 1].tolist(), mode="lines",
                            name=other_label, line=dict(color="rgba(255,255,255,0.55)", width=1.5, dash="dot")))
    fig["data"].append(dict(type="scatter", x=[0.0], y=[0.0], mode="markers", name="start (both runs)",
                            marker=dict(size=10, color="white", symbol="circle", line=dict(width=2, color="black"))))
    if zrange is not None:
        lo, hi = (float(v) for v in loss_for_display(np.asarray(zrange, float), log_z))
        fig["data"][0].update(zmin=lo, zmax=hi, zauto=False)
    return fig


def interpolation_figure(ts: np.ndarray, loss: np.ndarray, metric: np.ndarray, labels: Sequence[str],
                         metric_label: str, *, colours: Sequence[str] = ("#009E73", "#CC79A7")) -> Figure:
    """Loss (top) and accuracy or R² (bottom) along the line from run A's weights (t = 0) to
    run B's (t = 1): a bump between them is a barrier between the two minima.

    ts (T,); loss, metric (R, T): row i evaluated with run i's settings, named by labels[i].
    Traces: per run its loss (row 1), then per run its metric (row 2).
    """
    data = []
    for row, values, axis in ((1, loss, ""), (2, metric, "2")):
        for i, label in enumerate(labels):
            data.append(dict(type="scatter", x=_floats(ts), y=_floats_or_none(values[i]), mode="lines",
                             name=label, legendgroup=str(i), showlegend=row == 1,
                             line=dict(color=colours[i % len(colours)], width=2.5, dash=("solid", "dash")[i % 2]),
                             xaxis="x" + axis, yaxis="y" + axis))
    marks = [dict(type="line", xref="x2", yref="paper", x0=t, x1=t, y0=0, y1=1,
                  line=dict(color="#999", width=1, dash="dot")) for t in (0.0, 1.0)]
    notes = [dict(x=t, y=1.0, xref="x2", yref="paper", text=text, showarrow=False, yanchor="bottom",
                  font=dict(size=12)) for t, text in ((0.0, "A"), (1.0, "B"))]
    return _figure(data, "Between A and B: the straight line", shapes=marks, annotations=notes,
                   legend=dict(orientation="v", y=1.0, yanchor="top", x=0.01, xanchor="left", font=dict(size=11),
                               bgcolor="rgba(255,255,255,0.75)"),  # inside the loss row: never on a title
                   margin=dict(l=60, r=20, t=44, b=44),
                   xaxis=dict(anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
                   yaxis=dict(anchor="x", domain=[0.55, 1.0], title=dict(text="loss")),
                   xaxis2=dict(anchor="y2", domain=[0.0, 1.0], title=dict(text="t  (0: A's weights, 1: B's)")),
                   yaxis2=dict(anchor="x2", domain=[0.0, 0.45], title=dict(text=metric_label)))


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


def curves_figure(history: dict[str, Sequence[float]], metric_label: str,
                  *, log_loss: bool = False, runs: Sequence[tuple[str, dict]] = ()) -> Figure:
    """Train/test loss (top) and train/test metric (bottom) against optimizer steps.

    history : lists under "step", "train_loss", "test_loss", "train_metric", "test_metric".
    Trace order (for streaming): 0 train loss, 1 test loss, 2 train metric, 3 test metric.
    runs : compare mode instead: [(label, history)] for A and B. Then colour says the split
    (train, test) and the line says the run (A solid, B dashed); run i's traces are 4i..4i+3.
    """
    if not runs:
        runs_, dashes = [("", history)], None
    else:
        runs_, dashes = list(runs), ["solid", "dash"]
    data = []
    for i, (run_label, hist) in enumerate(runs_):
        steps = list(hist.get("step", []))
        for row, key, label in ((1, "loss", "loss"), (2, "metric", metric_label)):
            for split, colour in (("train", TRAIN_COLOUR), ("test", TEST_COLOUR)):
                dash = ("solid" if split == "train" else "dash") if dashes is None else dashes[i % 2]
                width = 2.5 if dashes is None or split == "train" else 1.5
                name = f"{split} {label}" if dashes is None else f"{'AB'[i]}: {run_label}"
                data.append(dict(type="scatter", x=list(steps), y=list(hist.get(f"{split}_{key}", [])),
                                 mode="lines", name=name, legendgroup=f"{i}{split}" if dashes is None else str(i),
                                 showlegend=dashes is None or (split == "train" and row == 1),
                                 line=dict(color=colour, width=width, dash=dash),
                                 xaxis="x" if row == 1 else "x2", yaxis="y" if row == 1 else "y2"))
    # Two rows sharing one step axis, as make_subplots(rows=2, shared_xaxes=True,
    # vertical_spacing=0.1) lays them out: the top row's x follows the bottom row's.
    title = "Learning curves" if dashes is None else "Learning curves · blue train, orange test"
    legend = (dict(orientation="h", y=1.0, yanchor="bottom", x=1.0, xanchor="right", font=dict(size=13))
              if dashes is None else dict(orientation="v", y=1.0, yanchor="top", x=0.99, xanchor="right",
                                          font=dict(size=11), bgcolor="rgba(255,255,255,0.75)"))
    return _figure(data, title, legend=legend, **({} if dashes is None else {"margin": dict(l=60, r=20, t=44, b=44)}),
                   xaxis=dict(anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
                   yaxis=dict(anchor="x", domain=[0.55, 1.0], title=dict(text="loss"),
                              type="log" if log_loss else "linear"),
                   xaxis2=dict(anchor="y2", domain=[0.0, 1.0], title=dict(text="optimizer step")),
                   yaxis2=dict(anchor="x2", domain=[0.0, 0.45], title=dict(text=metric_label)))


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
    return _figure([regions, *_class_points(points, k, class_names)], title, **_fresh(_BELOW),
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


def _class_points(points: dict, k: int, class_names: Sequence[str] = ()) -> list[dict]:
    """One marker trace per split and class present; train filled, test open; a class is named
    by ``class_names`` (an uploaded table's labels) or its number."""
    traces = []
    many = k > 3  # a legend entry per class and split would crowd the plot: one per split
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
                marker=dict(size=7 if split == "train" else 9, color=colour, symbol=symbol,
                            line=dict(width=0.6 if split == "train" else 1.6,
                                      color="black" if split == "train" else colour))))
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
                            axis_titles: tuple[str, str] = ("x", "y")) -> Figure:
    """1-D regression: the points (train/test, traces 0-1) and the network's curve over x (trace 2)."""
    data = [dict(type="scatter", x=_list(points[f"X_{split}"]), y=_list(points[f"y_{split}"]), mode="markers",
                 name=f"{split} points", marker=dict(color=colour, size=7, symbol=symbol))
            for split, colour, symbol in (("train", TRAIN_COLOUR, "circle"),
                                          ("test", TEST_COLOUR, "diamond-open"))]
    data.append(dict(type="scatter", x=_list(x_line), y=_list(y_line), mode="lines", name="network",
                     line=dict(color="black", width=3)))
    return _figure(data, title, **_fresh(_BELOW), xaxis=dict(title=dict(text=axis_titles[0])),
                   yaxis=dict(title=dict(text=axis_titles[1])))


def regression_curve_updates(y_line: np.ndarray) -> dict[tuple, object]:
    """What changes in :func:`regression_curve_figure` as training goes on: the curve."""
    return {("data", 2, "y"): np.ravel(y_line).tolist()}


def predicted_vs_actual_figure(points: dict, pred_train: np.ndarray, pred_test: np.ndarray,
                               *, title: str = "Predicted vs actual") -> Figure:
    """Multi-feature regression: predictions against targets, with the ideal diagonal."""
    data = [dict(type="scatter", x=_list(points[f"y_{split}"]), y=_list(pred), mode="markers",
                 name=split, marker=dict(color=colour, size=7))
            for split, pred, colour in (("train", pred_train, TRAIN_COLOUR), ("test", pred_test, TEST_COLOUR))]
    lo = float(min(np.min(points["y_train"]), np.min(points["y_test"])))
    hi = float(max(np.max(points["y_train"]), np.max(points["y_test"])))
    data.append(dict(type="scatter", x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                     line=dict(color="black", dash="dot")))
    return _figure(data, title, **_fresh(_BELOW), xaxis=dict(title=dict(text="actual (standardized)")),
                   yaxis=dict(title=dict(text="predicted")))


def message_figure(text: str, title: str = "") -> Figure:
    """An empty figure that says why there is nothing to show yet."""
    note = dict(text=text, showarrow=False, font=dict(size=16, color="#555"), xref="paper", yref="paper",
                x=0.5, y=0.5)
    return _figure([], title, annotations=[note], xaxis=dict(visible=False), yaxis=dict(visible=False))
