"""Figure builders: pure functions from arrays to ``go.Figure``. No model, no metrics here.

Readable on a projector: large fonts, a colour-blind-safe sequential scale (Viridis) for the
loss, axis titles with units, and legends that say train vs test. Every trace that the browser
streams into starts as a Python list (Plotly 7 sends NumPy arrays as typed arrays, which
``extendData`` cannot extend).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SURFACE_SCALE = "Viridis"
TRAIN_COLOUR = "#0072B2"  # Okabe-Ito blue / vermillion / green: colour-blind safe
TEST_COLOUR = "#D55E00"
PATH_COLOUR = "#ffffff"
CLASS_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                 "#F0E442", "#000000", "#999999", "#882255"]
FONT = dict(size=15, family="Inter, Segoe UI, Helvetica, Arial, sans-serif")
ALPHA_TITLE = "α (direction 1)"
BETA_TITLE = "β (direction 2)"


def _base_layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    kw.setdefault("margin", dict(l=60, r=20, t=44, b=50))
    fig.update_layout(title=dict(text=title, x=0.02, font=dict(size=17)), font=FONT,
                      template="plotly_white", uirevision="keep", **kw)
    return fig


def loss_for_display(z: np.ndarray, log_z: bool) -> np.ndarray:
    """The values drawn: the loss, or log10 of it (clipped away from zero) on a log scale."""
    z = np.asarray(z, dtype=float)
    return np.log10(np.maximum(z, 1e-12)) if log_z else z


def _z_title(log_z: bool) -> str:
    return "log₁₀ loss" if log_z else "loss"


def contour_figure(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, path: np.ndarray,
                   *, log_z: bool = False, title: str = "Loss around the weights") -> go.Figure:
    """Filled contour of the loss over (α, β) with the optimizer's path and the current point.

    Parameters
    ----------
    alphas, betas : (Ga,), (Gb,) grid coordinates; z : (Ga, Gb) losses, z[i, j] at (alphas[i], betas[j])
    path : (T, 2) projected (α, β) of the trajectory; its last row is the current point
    """
    zz = loss_for_display(z, log_z).T  # plotly wants rows = y (β), columns = x (α)
    fig = go.Figure(go.Contour(
        x=list(map(float, alphas)), y=list(map(float, betas)), z=zz.tolist(),
        colorscale=SURFACE_SCALE, ncontours=24, name="loss",
        colorbar=dict(title=dict(text=_z_title(log_z)), thickness=14),
        hovertemplate="α %{x:.3f}<br>β %{y:.3f}<br>" + _z_title(log_z) + " %{z:.4g}<extra></extra>"))
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    fig.add_trace(go.Scatter(x=path[:, 0].tolist(), y=path[:, 1].tolist(), mode="lines+markers",
                             name="path", line=dict(color=PATH_COLOUR, width=2.5),
                             marker=dict(size=4, color=PATH_COLOUR)))
    cur = path[-1] if len(path) else np.zeros(2)
    fig.add_trace(go.Scatter(x=[float(cur[0])], y=[float(cur[1])], mode="markers", name="now",
                             marker=dict(size=14, color="#E69F00", symbol="x",
                                         line=dict(width=2, color="black"))))
    _base_layout(fig, title, showlegend=False)
    fig.update_xaxes(title_text=ALPHA_TITLE, range=[float(alphas[0]), float(alphas[-1])])
    fig.update_yaxes(title_text=BETA_TITLE, range=[float(betas[0]), float(betas[-1])])
    return fig


def contour_updates(alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, path: np.ndarray,
                    *, log_z: bool = False) -> dict[tuple, object]:
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
            ("layout", "yaxis", "range"): [float(betas[0]), float(betas[-1])]}


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
                     title: str = "Loss surface (3-D)") -> go.Figure:
    """3-D surface of the loss with the path lifted onto it (path_loss (T,) at each row)."""
    zz = loss_for_display(z, log_z).T
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    pz = loss_for_display(np.asarray(path_loss, float), log_z)
    fig = go.Figure(go.Surface(x=list(map(float, alphas)), y=list(map(float, betas)),
                               z=zz.tolist(), colorscale=SURFACE_SCALE, name="loss",
                               colorbar=dict(title=dict(text=_z_title(log_z)), thickness=14)))
    fig.add_trace(go.Scatter3d(x=path[:, 0].tolist(), y=path[:, 1].tolist(), z=pz.tolist(),
                               mode="lines", name="path", line=dict(color="#E69F00", width=6)))
    _base_layout(fig, title, showlegend=False, margin=dict(l=0, r=0, t=40, b=0),
                 scene_camera=dict(eye=dict(x=1.4, y=1.4, z=0.95)))
    axis = dict(nticks=4, tickfont=dict(size=11), title_font=dict(size=13))
    fig.update_scenes(xaxis=dict(title_text=ALPHA_TITLE, **axis), yaxis=dict(title_text=BETA_TITLE, **axis),
                      zaxis=dict(title_text=_z_title(log_z), **axis),
                      aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.6))
    return fig


def placeholder_3d(title: str = "Loss surface (3-D)") -> go.Figure:
    """A tiny 3-D surface so the WebGL context exists before the first real one arrives."""
    return surface3d_figure(np.array([-1.0, 1.0]), np.array([-1.0, 1.0]), np.zeros((2, 2)),
                            np.zeros((1, 2)), np.zeros(1), title=title)


def curves_figure(history: dict[str, Sequence[float]], metric_label: str,
                  *, log_loss: bool = False) -> go.Figure:
    """Train/test loss (top) and train/test metric (bottom) against optimizer steps.

    history : lists under "step", "train_loss", "test_loss", "train_metric", "test_metric".
    Trace order (for streaming): 0 train loss, 1 test loss, 2 train metric, 3 test metric.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)
    steps = list(history.get("step", []))
    for row, key, label in ((1, "loss", "loss"), (2, "metric", metric_label)):
        for split, colour in (("train", TRAIN_COLOUR), ("test", TEST_COLOUR)):
            fig.add_trace(go.Scatter(x=list(steps), y=list(history.get(f"{split}_{key}", [])),
                                     mode="lines", name=f"{split} {label}",
                                     line=dict(color=colour, width=2.5,
                                               dash="solid" if split == "train" else "dash"),
                                     legendgroup=split), row=row, col=1)
    _base_layout(fig, "Learning curves", legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1.0,
                                                     xanchor="right", font=dict(size=13)))
    fig.update_yaxes(title_text="loss", type="log" if log_loss else "linear", row=1, col=1)
    fig.update_yaxes(title_text=metric_label, row=2, col=1)
    fig.update_xaxes(title_text="optimizer step", row=2, col=1)
    return fig


def stream_points(history: dict[str, Sequence[float]], start: int) -> dict:
    """New curve points from index ``start`` as Plotly ``extendData`` for curves_figure."""
    xs = list(history["step"][start:])
    ys = [list(history[k][start:]) for k in ("train_loss", "test_loss", "train_metric", "test_metric")]
    return {"x": [xs] * 4, "y": ys}


def classification_figure(xx: np.ndarray, yy: np.ndarray, prob: np.ndarray, points: dict,
                          *, title: str = "Data and decision regions",
                          axis_titles: tuple[str, str] = ("x₁", "x₂")) -> go.Figure:
    """Decision regions (predicted class over a grid) with the data points on top.

    xx (Gx,), yy (Gy,) grid axes; prob (Gy, Gx, K) predicted probabilities;
    points: {"X_train" (n, 2), "y_train" (n,), "X_test", "y_test"} in the same coordinates.
    """
    k = prob.shape[-1]
    fig = go.Figure(go.Heatmap(x=xx.tolist(), y=yy.tolist(), z=region_values(prob).tolist(),
                               colorscale=_class_scale(k), zmin=0, zmax=k, showscale=False,
                               hoverinfo="skip", name="prediction"))
    _add_class_points(fig, points, k)
    _base_layout(fig, title, legend=dict(orientation="h", y=-0.2, yanchor="top"),
                 margin=dict(l=60, r=20, t=44, b=30))
    fig.update_xaxes(title_text=axis_titles[0], range=[float(xx[0]), float(xx[-1])])
    fig.update_yaxes(title_text=axis_titles[1], range=[float(yy[0]), float(yy[-1])])
    return fig


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


def _add_class_points(fig: go.Figure, points: dict, k: int) -> None:
    for split, symbol in (("train", "circle"), ("test", "diamond-open")):
        X, y = np.asarray(points[f"X_{split}"]), np.asarray(points[f"y_{split}"])
        for c in range(k):
            sel = y == c
            if not sel.any():
                continue
            colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
            many = k > 3  # a legend entry per class and split would crowd the plot
            fig.add_trace(go.Scatter(
                x=X[sel, 0].tolist(), y=X[sel, 1].tolist(), mode="markers",
                name=f"{split} (colour: class)" if many else f"class {c} ({split})", legendgroup=split,
                showlegend=not many or not any(t.legendgroup == split and t.showlegend is not False
                                               for t in fig.data if isinstance(t, go.Scatter)),
                marker=dict(size=7 if split == "train" else 9, color=colour, symbol=symbol,
                            line=dict(width=0.6 if split == "train" else 1.6, color="black" if split == "train" else colour))))


def projected_classes_figure(points: dict, pred_train: np.ndarray, pred_test: np.ndarray, k: int,
                             *, title: str = "Data (PCA view), coloured by prediction") -> go.Figure:
    """Higher-dimensional classification: a 2-D PCA view coloured by the predicted class."""
    fig = go.Figure()
    _add_class_points(fig, {"X_train": points["X_train"], "y_train": pred_train,
                            "X_test": points["X_test"], "y_test": pred_test}, k)
    _base_layout(fig, title, legend=dict(orientation="h", y=-0.2, yanchor="top"),
                 margin=dict(l=60, r=20, t=44, b=30))
    fig.update_xaxes(title_text="principal component 1")
    fig.update_yaxes(title_text="principal component 2")
    return fig


def regression_curve_figure(x_line: np.ndarray, y_line: np.ndarray, points: dict,
                            *, title: str = "Data and fitted curve",
                            axis_titles: tuple[str, str] = ("x", "y")) -> go.Figure:
    """1-D regression: the points (train/test) and the network's curve over x."""
    fig = go.Figure()
    for split, colour, symbol in (("train", TRAIN_COLOUR, "circle"), ("test", TEST_COLOUR, "diamond-open")):
        fig.add_trace(go.Scatter(x=np.ravel(points[f"X_{split}"]).tolist(),
                                 y=np.ravel(points[f"y_{split}"]).tolist(), mode="markers",
                                 name=f"{split} points", marker=dict(color=colour, size=7, symbol=symbol)))
    fig.add_trace(go.Scatter(x=np.ravel(x_line).tolist(), y=np.ravel(y_line).tolist(), mode="lines",
                             name="network", line=dict(color="black", width=3)))
    _base_layout(fig, title, legend=dict(orientation="h", y=-0.2, yanchor="top"),
                 margin=dict(l=60, r=20, t=44, b=30))
    fig.update_xaxes(title_text=axis_titles[0])
    fig.update_yaxes(title_text=axis_titles[1])
    return fig


def regression_curve_updates(y_line: np.ndarray) -> dict[tuple, object]:
    """What changes in :func:`regression_curve_figure` as training goes on: the curve."""
    return {("data", 2, "y"): np.ravel(y_line).tolist()}


def predicted_vs_actual_figure(points: dict, pred_train: np.ndarray, pred_test: np.ndarray,
                               *, title: str = "Predicted vs actual") -> go.Figure:
    """Multi-feature regression: predictions against targets, with the ideal diagonal."""
    fig = go.Figure()
    for split, pred, colour in (("train", pred_train, TRAIN_COLOUR), ("test", pred_test, TEST_COLOUR)):
        fig.add_trace(go.Scatter(x=np.ravel(points[f"y_{split}"]).tolist(), y=np.ravel(pred).tolist(),
                                 mode="markers", name=split, marker=dict(color=colour, size=7)))
    lo = float(min(np.min(points["y_train"]), np.min(points["y_test"])))
    hi = float(max(np.max(points["y_train"]), np.max(points["y_test"])))
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                             line=dict(color="black", dash="dot")))
    _base_layout(fig, title, legend=dict(orientation="h", y=-0.2, yanchor="top"),
                 margin=dict(l=60, r=20, t=44, b=30))
    fig.update_xaxes(title_text="actual (standardized)")
    fig.update_yaxes(title_text="predicted")
    return fig


def message_figure(text: str, title: str = "") -> go.Figure:
    """An empty figure that says why there is nothing to show yet."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, font=dict(size=16, color="#555"),
                       xref="paper", yref="paper", x=0.5, y=0.5)
    _base_layout(fig, title)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
