"""The landscape plots as plain-dict figures: the contour with the path, the 3-D surface, the
A↔B line of compare mode, and the patches that update them while a run trains.

Built on the shared look of ``app.views.figures`` (Viridis for the loss, α/β axis titles).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import framing
from .figures import (ALPHA_TITLE, BETA_TITLE, NOTES_UNDER_TITLE_TOP, TITLE_ON_TOP, Figure, PATH_COLOUR,
                      SURFACE_SCALE, _SPLIT_LEGEND, _axis_key, _curve_axes, _curve_layout, _figure, _floats,
                      _floats_or_none, _fresh, _z_title, loss_for_display)


# Labels on a contour's colour bar at most (plotly.js puts up to this many + 1, at least bar/this
# px apart): a bar is ~90 px long in a 245 px plot under a two-line title (compare mode under a
# long lesson at 1366x768), where plotly.js's own choice put five 15 px labels in ~80 px,
# touching. With 3 a bar from 0 to 33 had one label.
COLORBAR_TICKS = 4
# Labels on the α axis at most: compare mode's contours are ~170 px wide at 1366x768, where
# plotly.js's five labels ("−0.15", "−0.1", ...) turned on end and ran into each other.
ALPHA_TICKS = 3


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
                   colorbar=dict(title=dict(text=_z_title(log_z, z_label)), thickness=14, nticks=COLORBAR_TICKS),
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
                   xaxis=dict(title=dict(text=ALPHA_TITLE), range=[float(alphas[0]), float(alphas[-1])],
                              nticks=ALPHA_TICKS),
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
    if clipped:  # its two lines read up the bar's side: on top, they left a 245 px plot's bar 47 px long
        title = contour["colorbar"]["title"]
        title.update(text=f"{title['text']}<br><sup>capped at {float(zrange[1]):.3g}</sup>", side="right")


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
            # The legend names the runs by letter (their settings are in each contour's title and
            # the status): at 18 px in presentation mode "B (SGD + momentum)" was wider than this
            # plot at 1366x768, and plotly took the room from the plot. The hover names them whole.
            run = label.split(" ")[0]  # "A"; with two losses a loss's hover names its loss
            name = f"{run}'s {losses[i]}" if split and key == "loss" else run
            what = "loss" if key == "loss" and not split else losses[i] if key == "loss" else metric_label
            data.append(dict(type="scatter", x=_floats(ts), y=_floats_or_none(values[i]), mode="lines",
                             name=name, legendgroup=str(i),
                             hovertemplate=f"{label}<br>t %{{x:.2f}}: {what} %{{y:.4g}}<extra></extra>",
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
    # The title on the figure's top edge, "A" and "B" on a line of their own under it
    fig = _figure(data, "Between A and B: the straight line", shapes=marks, annotations=notes, legend=legend,
                  margin=dict(l=60, r=20, t=NOTES_UNDER_TITLE_TOP, b=44), **layout)
    fig["layout"]["title"].update(_fresh(TITLE_ON_TOP))
    return fig


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
            # two short lines: the runs' legend takes the row's left half
            notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} max", "↑ off<br>the chart",
                                                axes["loss"][rows[0]][0], ya, True, side="right",
                                                detail=f"up to {top:.2g} (> {framing.OFF_CHART:g}× the start)"))
    xa, ya = axes["metric"]
    layout[_axis_key(ya)]["autorangeoptions"] = framing.metric_bounds(metric_label)
    if metric_label == "R²" and framing.beyond(metric, lo=framing.R2_FLOOR):
        notes.append(framing.off_chart_note(f"offchart {_axis_key(ya)} min", "↓ off the chart", xa, ya, True,
                                            top=False, side="right", detail=f"R² below {framing.R2_FLOOR:g}"))
    return notes


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
                   # its title up the bar's side: on top, presentation mode's 18 px top tick met it
                   colorbar=dict(title=dict(text=_z_title(log_z, z_label), side="right"), thickness=14,
                                 nticks=COLORBAR_TICKS))
    line = dict(type="scatter3d", x=path[:, 0].tolist(), y=path[:, 1].tolist(), mode="lines", name="path",
                z=loss_for_display(np.asarray(path_loss, float), log_z).tolist(),
                line=dict(color="#E69F00", width=6))

    def axis(text: str) -> dict:
        return dict(title=dict(text=text, font=dict(size=13)), tickfont=dict(size=11), nticks=4)

    # The look-at point below the surface's middle lifts the picture into the empty top of the
    # panel: the near corner's axis titles ("β (direction 2)") stay inside a short panel.
    camera = dict(eye=dict(x=1.4, y=1.4, z=0.95), center=dict(x=0, y=0, z=-0.2))
    scene = dict(camera=camera, xaxis=axis(ALPHA_TITLE), yaxis=axis(BETA_TITLE),
                 zaxis=axis(_z_title(log_z, z_label)), aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.6))
    return _figure([surface, line], title, showlegend=False, margin=dict(l=0, r=0, t=40, b=0), scene=scene)


def placeholder_3d(title: str = "Loss surface (3-D)") -> Figure:
    """A tiny 3-D surface so the WebGL context exists before the first real one arrives."""
    return surface3d_figure(np.array([-1.0, 1.0]), np.array([-1.0, 1.0]), np.zeros((2, 2)),
                            np.zeros((1, 2)), np.zeros(1), title=title)
