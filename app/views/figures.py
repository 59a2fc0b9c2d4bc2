"""Figure builders: pure functions from arrays to plain-dict Plotly figures. No model, no metrics.

This module holds the look every figure shares (``_figure``: title, fonts, template, kept zoom;
colours; ``message_figure``) and the learning curves. The landscape plots are built in
``landscape_figures``, the data plots in ``data_figures``, each on this look.

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


# The tick labels stand this far (px) off their axes: the lowest y label no longer meets the x
# axis's first label at the plot's corner ("−1" over "−1"). The x labels clear the lowest y
# label's lower half even at presentation mode's 18 px (half of its box is ~10 px).
Y_TICK_STANDOFF, X_TICK_STANDOFF = 10, 9
# A title over notes that name places above a plot ("A" and "B", "init" and "now"): pinned to the
# figure's top edge, with the notes in the margin below it (room for both at 18 px).
TITLE_ON_TOP = dict(yref="container", y=1.0, yanchor="top", pad=dict(t=6))
NOTES_UNDER_TITLE_TOP = 58  # px of top margin: the title's line and the notes' line
TITLE_CHARS = 32  # a longer title (compare mode's run names) breaks after its colon
# Such a title stands on its plot, this far (px) above it, clear of the top tick label's upper
# half (~11 px at 18 px), and plotly.js makes the top margin as tall as it needs (automargin,
# which also lifts the first line by the ones under it). Centred in a margin 26 px taller, it met
# that label at 18 px; pinned to the figure's top, plotly.js cut its first line off; anchored
# at its bottom without automargin, plotly.js hung its second line below the anchor.
TITLE_OVER_PLOT = dict(yref="paper", y=1.0, yanchor="bottom", pad=dict(b=14), automargin=True)
_FLAT_TRACES = ("surface", "scatter3d", "pie")  # traces with no cartesian axes


def _figure(data: list[dict], title: str, **layout) -> Figure:
    """The figure with the shared look: title, projector fonts, light template, kept zoom."""
    layout.setdefault("margin", dict(_MARGIN))
    layout.update(title=dict(text=title, x=0.02, font=dict(size=17)), font=dict(FONT),
                  template=_fresh(LIGHT), uirevision="keep")
    flat_only = not any(t.get("type", "scatter") not in _FLAT_TRACES for t in data)
    for letter, standoff in (("y", Y_TICK_STANDOFF), ("x", X_TICK_STANDOFF)):
        axes = [k for k in layout if k.startswith(f"{letter}axis")] or ([] if flat_only else [f"{letter}axis"])
        for key in axes:
            layout[key] = {"ticklabelstandoff": standoff, **(layout.get(key) or {})}
    return {"data": data, "layout": layout}


def retitle(fig: Figure, text: str) -> Figure:
    """``fig`` titled ``text``; a title longer than ``TITLE_CHARS`` is broken after its first
    colon ("B (Mean squared error):<br>its predictions": on one line it outran compare mode's
    narrow plots at presentation mode's 18 px), standing on the plot in a top margin made for it."""
    head, colon, tail = text.partition(": ")
    if len(text) > TITLE_CHARS and colon and tail:
        text = f"{head}:<br>{tail}"
        fig["layout"]["title"].update(_fresh(TITLE_OVER_PLOT))
    fig["layout"]["title"]["text"] = text
    return fig


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


def _floats_or_none(values) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


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
                name = (f"{split_name} {label}" if not compare else f"{'AB'[i]}: {run_label}" if not split
                        else f"{'AB'[i]}'s {losses[i]}" if key == "loss" else "AB"[i])  # a loss's hover names it
                data.append(dict(type="scatter", x=list(steps), y=list(hist.get(f"{split_name}_{key}", [])),
                                 mode="lines", name=name,
                                 legendgroup=f"{i}{split_name}" if not compare else str(i),
                                 showlegend=not compare or (split_name == "train" and key == ("metric" if split
                                                                                             else "loss")),
                                 line=dict(color=colour, width=width, dash=dash), xaxis=xa, yaxis=ya))
    title = "Learning curves" if not compare else "Curves · blue train, orange test"
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


# Tick labels per row of the curves and the A-B line at most: a row is ~60 px high in a 245 px
# plot (compare mode under a long lesson at 1366x768, where the page scrolls instead of shrinking
# the plots further), and plotly.js puts up to nticks + 1 labels in it (4 ran 15 px labels
# together). Presentation mode lowers it further for its 18 px labels (assets/lossviz.js).
ROW_TICKS = 3
SPLIT_LOSS_TICKS = 2  # each loss's row with two losses: ~50 px in the A-B line's plot, 3 ran together there
# Two short entries in one line, at the foot of the shared measure's row (its curves rise away from it).
_SPLIT_LEGEND = dict(orientation="h", y=0.61, yanchor="bottom", x=1.0, xanchor="right", font=dict(size=11),
                     bgcolor="rgba(255,255,255,0.75)")


def _curve_layout(split: bool, metric_label: str, log_loss: bool, losses: Sequence[str]) -> dict:
    scale = "log" if log_loss else "linear"
    if not split:
        # Two rows sharing one step axis, as make_subplots(rows=2, shared_xaxes=True,
        # vertical_spacing=0.16) lays them out: the top row's x follows the bottom row's. The loss
        # row's "0" and the accuracy row's "1" at their facing edges met 0.1 apart in a 245 px
        # plot (compare mode under a long lesson at 1366x768).
        return dict(xaxis=dict(anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
                    yaxis=dict(anchor="x", domain=[0.58, 1.0], title=dict(text="loss"), type=scale, nticks=ROW_TICKS),
                    xaxis2=dict(anchor="y2", domain=[0.0, 1.0], title=dict(text="optimizer step")),
                    yaxis2=dict(anchor="x2", domain=[0.0, 0.42], title=dict(text=metric_label), nticks=ROW_TICKS))
    # B's loss axis on the right: the two loss plots' ticks never meet between them; each loss
    # plot is named above it (a rotated title would not fit its height).
    # A's name starts at its plot's left edge and B's ends at its plot's right edge: centred,
    # the two ran into each other in compare mode's narrow plots at 18 px. The names are short
    # ("A's loss"): "A's cross-entropy" and "B's MSE" met in the ~90 px halves of compare mode
    # at 1366 px and 18 px. Which loss each is, the hover says (and the runs' titles, the status).
    titles = [dict(text=f"{run}'s loss", hovertext=f"{run}'s loss: {name}", xref=f"{x} domain",
                   yref=f"{y} domain", x=edge, y=1.0, xanchor=side, yanchor="bottom", yshift=8, showarrow=False,
                   font=dict(size=12))
              for run, name, x, y, edge, side in (("A", losses[0], "x", "y", 0.0, "left"),
                                                  ("B", losses[1], "x3", "y3", 1.0, "right"))]  # over the top tick
    return dict(xaxis2=dict(anchor="y2", domain=[0.0, 1.0], matches="x", showticklabels=False),
                yaxis2=dict(anchor="x2", domain=[0.6, 1.0], title=dict(text=metric_label), nticks=ROW_TICKS),
                xaxis=dict(anchor="y", domain=[0.0, 0.42], title=dict(text="step"), nticks=4),
                yaxis=dict(anchor="x", domain=[0.0, 0.4], type=scale, nticks=SPLIT_LOSS_TICKS),
                xaxis3=dict(anchor="y3", domain=[0.58, 1.0], matches="x", title=dict(text="step"), nticks=4),
                yaxis3=dict(anchor="x3", domain=[0.0, 0.4], type=scale, side="right", nticks=SPLIT_LOSS_TICKS),
                annotations=titles)


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
        notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} max", "↑ off the chart", xa, ya, over,
                                            detail=f"loss > {framing.OFF_CHART:g}× start"))
    xa, ya = axes["metric"]
    layout[_axis_key(ya)]["autorangeoptions"] = framing.metric_bounds(metric_label)
    if metric_label != "R²":  # accuracy is never off the chart
        return notes
    under = any(framing.beyond(h.get(k, []), lo=framing.R2_FLOOR) for _, h in runs_
                for k in ("train_metric", "test_metric"))
    notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} min", "↓ off the chart", xa, ya, under,
                                        top=False, side="right", detail=f"R² below {framing.R2_FLOOR:g}"))
    return notes


def stream_points(history: dict[str, Sequence[float]], start: int) -> dict:
    """New curve points from index ``start`` as Plotly ``extendData`` for curves_figure."""
    xs = list(history["step"][start:])
    ys = [list(history[k][start:]) for k in ("train_loss", "test_loss", "train_metric", "test_metric")]
    return {"x": [xs] * 4, "y": ys}


def blank_figure() -> Figure:
    """Nothing measured yet: no axes, no text (a graph's own default draws axes from -1 to 6)."""
    return {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                   "margin": {"l": 10, "r": 10, "t": 10, "b": 10}}}


def message_figure(text: str, title: str = "") -> Figure:
    """An empty figure that says why there is nothing to show yet."""
    note = dict(text=text, showarrow=False, font=dict(size=16, color="#555"), xref="paper", yref="paper",
                x=0.5, y=0.5)
    return _figure([], title, annotations=[note], xaxis=dict(visible=False), yaxis=dict(visible=False))
