"""The data plots as plain-dict figures: decision regions with the points (classification), the
fitted curve (regression on one input), and predicted against actual (any other regression).

Built on the shared look of ``app.views.figures`` (class colours, legend beside the plot).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import framing
from .figures import CLASS_COLOURS, TEST_COLOUR, TRAIN_COLOUR, _BELOW, Figure, _figure, _fresh, _list


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
        layout["annotations"] = [framing.off_chart_note("offframe", "▲▼ off the frame", "x", "y", True,
                                                        detail="drawn at its edge")]
    return _figure(data, title, **_fresh(_BELOW), **layout)
