"""What the plots show in compare mode: run A and run B over one plane, side by side.

The plane passes through the common start θ0 and both runs' current weights (see
``views.compare_landscape``); each run's own loss is drawn over it in its own contour, its own
path bold and the other's faint. Figures are whole (plain dicts are cheap to build) and paced
like the single-run views: while training, at most one repaint per pace, slower under load.
"""

from __future__ import annotations

import time

import numpy as np
from dash import no_update
from dash.exceptions import PreventUpdate

from lossviz import RunConfig

from . import figures, framing, landscape_figures
from .drawing import data_figure, data_view_paced, fresh_axes
from ..runs.run import RunView
from ..runs.services import Services
from .compute import compare_landscape, interpolation, landscape, start_loss

COMPARE_EVERY_S = 1.0  # two contours, two data views and a line per repaint: each blocks the page a little
SHORT_LOSS = {"mse": "MSE", "cross_entropy": "cross-entropy", "huber": "Huber"}


def loss_names(configs: list[dict]) -> list[str]:
    """Each run's loss as the plots name it ("MSE", "cross-entropy", "Huber"); with Huber's δ
    (or the label smoothing ε) when the runs train it with two values: two losses, in two units."""
    names = [SHORT_LOSS.get(c["loss"], c["loss"]) for c in configs]
    for loss, key, sign in (("huber", "huber_delta", "δ"), ("cross_entropy", "label_smoothing", "ε")):
        values = [c.get(key, getattr(RunConfig(), key)) for c in configs]
        if all(c["loss"] == loss for c in configs) and len(set(values)) > 1:
            names = [f"{SHORT_LOSS[loss]} {sign}={v:g}" for v in values]
    return names


def draw_compare(services: Services, runs: list[RunView], labels: list[str], grid: int, log_z: bool,
                 display: str, running: bool, drawn: dict, of: str = "train", plane: str = "compare"):
    """(contour A, 3-D, data A, drawn, view error, note, contour B, data B, A↔B line) for the page;
    the 3-D view is not shown in compare mode (the straight line between A and B is)."""
    key = [runs[0].run_id, runs[0].version, runs[1].version, grid, of, plane, log_z, display]
    now, slow = time.time(), (1.0 if not running else services.load.slowdown())
    contours_due = drawn.get("ckey") != key
    data_due = drawn.get("cdata") != key[:3]
    if not (contours_due or data_due):
        raise PreventUpdate
    shown = drawn.get("ckey") or [None, 0, 0]
    moved = shown[1] > 0  # the first repaint after Train comes at once, the next ones at a pace
    if running and moved and shown[0] == key[0] and now - drawn.get("ct", 0) < COMPARE_EVERY_S * slow / 2:
        raise PreventUpdate
    # While training, the contours (with the A–B line) and the data views take turns: two small
    # repaints block the page less than one big one (curves keep streaming between them).
    if running and contours_due and data_due and drawn.get("cturn") == "contours" and shown[0] == key[0]:
        contours_due = False
    elif running and contours_due and data_due:
        data_due = False
    names = [f"{'AB'[i]} ({labels[i]})" for i in range(2)]
    out = {"contour_a": no_update, "contour_b": no_update, "data_a": no_update, "data_b": no_update,
           "line": no_update, "note": no_update}
    meta = dict(drawn, ct=now, run_id=runs[0].run_id, key=None, key3d=None, data_key=None)
    if contours_due:
        view = compare_view(services, runs, grid, running, of, plane)
        if view is None:  # busy: ask again on the next tick
            raise PreventUpdate
        revision = str(key[:1] + [view["kind"], log_z])
        out["contour_a"], out["contour_b"] = (fresh_axes(contour_of(view, i, names, log_z), revision)
                                              for i in range(2))
        out["line"], out["note"] = line_figure(runs, names, revision), plane_note(view, names, runs)
        meta.update(ckey=key, cturn="contours")
    if data_due:
        revision = str(key[:1])
        out["data_a"], out["data_b"] = (fresh_axes(fig, revision) for fig in
                                        data_figures([data_view_paced(services, r) for r in runs], names))
        meta.update(cdata=key[:3], cturn="data")
    return (out["contour_a"], no_update, out["data_a"], meta, "", out["note"], out["contour_b"], out["data_b"],
            out["line"])


def data_figures(views: list[dict], names: list[str]) -> list:
    """Each run's data plot, titled; a fitted curve is drawn with the other run's beside it
    (dashed), so the two fits are compared in one frame."""
    figs, run = [], [n.split(" ")[0] for n in names]
    for i, view in enumerate(views):
        fig = data_figure(view, [(f"{run[1 - i]}'s line", views[1 - i])], name=f"{run[i]}'s line")
        figs.append(_titled(fig, f"{names[i]}: its predictions"))
    return figs


def line_figure(runs: list[RunView], names: list[str], revision: str):
    """The straight line from A's weights to B's; when the networks have two shapes there is no
    such line, and the figure says why."""
    sizes = [r.net.layer_sizes for r in runs]
    if sizes[0] != sizes[1]:
        hidden = ["·".join(map(str, s[1:-1])) or "none" for s in sizes]
        return fresh_axes(figures.message_figure(
            f"No straight line from A to B:<br>their networks have<br>two shapes (hidden layers<br>{hidden[0]} and "
            f"{hidden[1]}), so their<br>weights are not points<br>of one space.",
            "Between A and B"), revision)
    between = interpolation(runs)
    metric = "accuracy" if runs[0].data.task == "classification" else "R²"
    return fresh_axes(landscape_figures.interpolation_figure(between["ts"], between["loss"], between["metric"], names, metric,
                                                    losses=_losses(runs),
                                                    start=list(between["start"])), revision)


def _losses(runs: list[RunView]) -> list[str]:
    return loss_names([r.config.to_dict() for r in runs])


def compare_view(services: Services, runs: list[RunView], grid: int, running: bool, of: str = "train",
                  plane: str = "compare") -> dict | None:
    """The comparison's landscape for these weights, cached by its inputs; None when busy."""
    store = services.store
    key = ("compare", runs[0].run_id, runs[0].version, runs[1].version, grid, of, plane)
    view = store.get_result(key)
    if view is not None:
        return view
    if not services.view_slots.acquire(timeout=None if not running else 0.0):
        return None
    try:
        if runs[0].net.layer_sizes == runs[1].net.layer_sizes:
            view = compare_landscape(runs, grid, of, plane)
        else:  # two shapes of network: no one plane holds both; each gets its own
            own = [landscape(r, grid, 1.0, "random", of) for r in runs]
            same = of != "train" or len(set(_losses(runs))) == 1
            view = dict(alphas=own[0]["alphas"], betas=own[0]["betas"], z=[o["z"] for o in own],
                        paths=[o["path"] for o in own], kind="own", same_loss=same,
                        starts=[None if of == "metric" else start_loss(r, of) for r in runs], exits=[None, None],
                        axes=[(o["alphas"], o["betas"]) for o in own], path_loss=own[0]["path_loss"],
                        centers=[o["center"] for o in own], d1s=[o["d1"] for o in own],
                        d2s=[o["d2"] for o in own], metric_label=own[0]["metric_label"], z_label=own[0]["z_label"])
    finally:
        services.view_slots.release()
    store.put_result(key, view)
    return view


def contour_of(view: dict, i: int, names: list[str], log_z: bool):
    alphas, betas = view["axes"][i] if view["kind"] == "own" else (view["alphas"], view["betas"])
    zrange, clipped = colour_range(view, i)
    if view["kind"] == "own":
        return _titled(landscape_figures.contour_figure(alphas, betas, view["z"][i], view["paths"][i], log_z=log_z,
                                                        z_label=view["z_label"], zrange=zrange, clipped=clipped),
                       f"{names[i]}: its own random plane")
    exits = []  # where this run's path leaves the frame (its loss passed the ceiling), said there
    at = (view.get("exits") or [None, None])[i]
    if at:
        x, y = view["paths"][i][at]  # the first point off the frame: the corner it leaves towards
        exits.append((x, y, f"{names[i].split(' ')[0]} leaves the frame:<br>loss > {framing.OFF_CHART:g}× start"))
    fig = landscape_figures.compare_contour_figure(alphas, betas, view["z"][i], view["paths"][i], view["paths"][1 - i],
                                                   title="", other_label=names[1 - i], log_z=log_z, zrange=zrange,
                                                   metric=view["metric"][i], metric_label=view["metric_label"],
                                                   z_label=view["z_label"], clipped=clipped, exits=exits)
    return _titled(fig, f"{names[i]}: {_what(view)}")


def colour_range(view: dict, i: int) -> tuple[tuple[float, float] | None, bool]:
    """Run i's contour colour range (shared by both runs when they draw one loss) and whether
    values above it were clipped: the scale stops at ``framing.OFF_CHART`` times the loss at the
    start, so a steep or diverged landscape does not squeeze the rest into one colour."""
    runs = (0, 1) if view["same_loss"] else (i,)
    values = np.concatenate([np.ravel(np.asarray(view["z"][j], dtype=float)) for j in runs])
    values = values[np.isfinite(values)]
    if not len(values):
        return None, False
    lo, hi = float(values.min()), float(values.max())
    floored = view["z_label"] == "R²" and lo < framing.R2_FLOOR
    lo = max(lo, framing.R2_FLOOR) if floored else lo
    ceiling = framing.loss_ceiling([(view.get("starts") or [None, None])[j] for j in runs])
    if ceiling is not None and hi > ceiling > lo:
        return (lo, ceiling), True
    return ((lo, hi) if view["same_loss"] or floored else None), False


def _what(view: dict) -> str:
    return "its loss" if view["z_label"] == "loss" else view["z_label"]


def _titled(fig, title: str):
    return figures.retitle(fig, title)


def plane_note(view: dict, names: list[str], runs: list[RunView] | None = None) -> str:
    """What the page says under the plots: the plane, what the frame leaves out, and why two
    losses are not compared by value."""
    parts = [_plane_words(view, names), _frame_words(view, names)]
    if runs is not None and len(set(_losses(runs))) > 1:
        metric = "accuracy" if runs[0].data.task == "classification" else "R²"
        parts.append(f"A and B train different losses, whose values are in different units: a smaller number "
                     f"from one loss does not mean a better fit than a larger one from the other. Compare the runs "
                     f"by {metric}, their shared measure (the curves' top row and the status line); each loss "
                     "has its own axis.")
    return " ".join(p for p in parts if p)


def _frame_words(view: dict, names: list[str]) -> str:
    gone = [names[j] for j, at in enumerate(view.get("exits") or []) if at]
    if not gone:
        return ""
    return (f"{' and '.join(gone)} leave{'s' if len(gone) == 1 else ''} the frame where the loss passes "
            f"{framing.OFF_CHART:g}× its value at the start (diverging): the plane is framed on the steps before, "
            "and colours above that level are clipped.")


def _plane_words(view: dict, names: list[str]) -> str:
    if view["kind"] == "compare":
        return (f"Both contours lie on one plane through the common start (white dot) and both runs' "
                f"weights now: direction 1 points to {names[0]}, direction 2 to {names[1]}; each shows "
                "its own loss.")
    if view["kind"] == "random":
        return "The runs have not moved apart yet: a random plane through the common start for now."
    if view["kind"] == "random-chosen":
        return ("Random filter-normalized directions through the common start (white dot): both paths "
                "projected onto them, each contour its own run's loss.")
    if view["kind"] == "pca":
        e = view["explained"]
        return (f"The plane through the common start that holds most of both paths: directions 1 and 2 "
                f"hold {100 * e[0]:.0f}% and {100 * e[1]:.0f}% of their movement.")
    return ("B's network has another shape: no single plane holds both, so each contour uses its own random "
            "plane through the run's weights (filter-normalized, ±1), and there is no straight line from A to B."
            + (" Both contours share one colour scale: one colour is one loss." if view["same_loss"] else ""))
