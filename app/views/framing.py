"""What a plot frames: the values a class can see, and how what lies beyond is drawn and said.

A run that diverges reaches losses of millions; one outlier sits ten times further off than the
rest of the data. Framed on everything, such a plot shows a dot and a flat line. So each plot is
framed on what can be seen, and says what it left out:

- a loss above ``OFF_CHART`` times the loss at the start is off the chart (and off the plane of
  a comparison), and R² below ``R2_FLOOR`` too: the axis stops there, and a note says so;
- the data plot is framed on the bulk of the points (the inliers); a point or prediction beyond
  the frame is drawn at its edge, as a triangle pointing where it lies.

Pure functions of arrays and numbers (no plotly, no dash): the figure builders call them.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

OFF_CHART = 10.0  # a loss above this many times its value at the start is off the chart
R2_FLOOR = -1.0  # R² below this (far worse than predicting the mean) is off the chart
EDGE_PAD = 0.12  # a data frame reaches this fraction of its points' extent beyond them
NOTE_FONT = dict(size=11, color="#7a2e00")


def loss_ceiling(starts: Sequence[float | None]) -> float | None:
    """The highest loss a chart shows: ``OFF_CHART`` times the largest loss at the start
    (None when no start is known, or it is zero: then nothing is clipped)."""
    ok = [float(s) for s in starts if s is not None and math.isfinite(s) and s > 0]
    return OFF_CHART * max(ok) if ok else None


def first_finite(values: Sequence[float | None]) -> float | None:
    """The first finite number of a curve (its value at the start), or None."""
    return next((float(v) for v in values if v is not None and math.isfinite(v)), None)


def beyond(values, lo: float | None = None, hi: float | None = None) -> bool:
    """Whether any finite value lies below ``lo`` or above ``hi`` (None: no bound)."""
    v = np.asarray([np.nan if x is None else x for x in np.ravel(values)], dtype=float)
    v = v[np.isfinite(v)]
    return bool((hi is not None and (v > hi).any()) or (lo is not None and (v < lo).any()))


def off_chart_note(name: str, text: str, xref: str, yref: str, visible: bool, top: bool = True,
                   side: str = "left", detail: str = "") -> dict:
    """A note inside a plot's top (or bottom) edge, at its ``side``, saying what is off the chart
    in a few words (``text``: a narrow plot in presentation mode has room for little more), and
    ``detail`` (the bound, how far) when the pointer is on it.

    Not ``visible`` yet, it is drawn transparent: the page shows it when streamed points pass
    the bound its ``name`` ("offchart <axis> max|min") names (assets/lossviz.js). ``xref``/``yref``
    are the subplot's axes ("x", "y2", ...).
    """
    note = dict(name=name, text=text, opacity=1.0 if visible else 0.0, showarrow=False, xref=f"{xref} domain",
                yref=f"{yref} domain", x=0.02 if side == "left" else 0.98, y=1.0 if top else 0.0, xanchor=side,
                yanchor="top" if top else "bottom", font=dict(NOTE_FONT), bgcolor="rgba(255,255,255,0.8)")
    if detail:
        note["hovertext"] = detail
    return note


def loss_bounds(ceiling: float) -> dict:
    """A loss axis's autorange bounds: never below 0 (a tiny positive number, so a log axis
    takes it too), never above ``ceiling`` (the bounds also keep the far-off points' padding
    from stretching the other end)."""
    return dict(clipmin=1e-300, clipmax=float(ceiling))


def metric_bounds(metric_label: str) -> dict:
    """A metric axis's autorange bounds: accuracy within [0, 1], R² within [R2_FLOOR, 1]."""
    return dict(clipmin=0.0 if metric_label != "R²" else R2_FLOOR, clipmax=1.0)


def data_frame(values: np.ndarray, keep: np.ndarray | None = None) -> tuple[float, float]:
    """(lo, hi) of an axis framed on ``values[keep]`` (all finite values when keep is None),
    with a margin of ``EDGE_PAD`` of their extent on each side."""
    v = np.asarray(values, dtype=float)
    if keep is not None:
        v = v[np.asarray(keep, dtype=bool)]
    v = v[np.isfinite(v)]
    if not len(v):
        return -1.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    pad = EDGE_PAD * (hi - lo) if hi > lo else max(abs(lo), 1.0) * 0.5
    return lo - pad, hi + pad


def at_edge(values: np.ndarray, frame: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Values drawn inside ``frame``: each one beyond it moved just inside its edge, and the
    marker symbol that says which way it lies ("triangle-up" above, "triangle-down" below,
    "circle" inside). Returns (drawn values, symbols) of the same length."""
    v = np.asarray(values, dtype=float)
    lo, hi = frame
    inset = 0.015 * (hi - lo)
    above, below = ~(v <= hi), v < lo  # NaN and +inf count as above
    drawn = np.where(above, hi - inset, np.where(below, lo + inset, v))
    symbols = np.where(above, "triangle-up", np.where(below, "triangle-down", "circle"))
    return drawn, symbols
