"""What the page's Export buttons download, built from the stored run (never by training again).

``gather`` reads a run (and its partner in compare mode) from the store with the landscape the
page shows (cached by its inputs, computed when missing); the builders turn that into files:

- ``curves_csv``: one row per recorded step (step, losses, metrics; B's columns end in ``_b``);
- ``surface_csv``: one row per grid point (alpha, beta, loss; ``loss_b`` in compare mode, with
  ``alpha_b``, ``beta_b`` when each run has its own plane);
- ``run_json``: settings, curves, the path on the plane, the surface, the link's query;
- ``run_npz``: the arrays of ``lossviz export`` (both runs, ``_b`` keys, in compare mode);
- ``html_snapshot``: the plots as a standalone page, plotly.js inlined (opens offline).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossviz.export import compare_export_arrays, export_arrays
from lossviz.landscape import validate_grid, validate_span

from ..runs import caps
from . import drawing, figures
from .drawing_compare import compare_view, contour_of, line_figure
from ..runs.run import RunView, history_of, load_view, restore, run_hots
from ..runs.services import Services
from ..runs.store import CURVE_KEYS
from .compute import NORMALIZATIONS, PLANES, SURFACES, data_view, landscape

EXPORT_WORK = 4e10  # grid² · samples · parameters of the .npz's float64 surface (~2 s on 2 cores)
METRIC_WORDS = {"classification": "accuracy", "regression": "r2"}


@dataclass(frozen=True)
class Page:
    """The view settings the page shows (what the landscape in an export is computed for)."""

    grid: int = 41
    span: float = 1.0
    plane: str = "random"
    of: str = "train"
    log_z: bool = False
    query: str = ""
    norm: str = "filter"

    @classmethod
    def of_inputs(cls, grid: Any, span_text: Any, plane: Any, of: Any, log_z: Any, search: Any,
                  norm: Any = "filter") -> "Page":
        """The page's widget values, checked as the landscape's own callback checks them."""
        try:
            span = float(span_text)
        except (TypeError, ValueError):
            raise ValueError(f"Range: '{span_text}' is not a number") from None
        grid, span = validate_grid(grid), validate_span(span)
        caps.check("grid", grid)
        return cls(grid, span, plane if plane in (*PLANES, "compare") else "random",
                   of if of in SURFACES else "train", bool(log_z), search if isinstance(search, str) else "",
                   norm if norm in NORMALIZATIONS else "filter")


@dataclass(frozen=True)
class Stored:
    """A run as stored, with its partner in compare mode: records, curve points, views."""

    hots: list[dict]
    points: list[list[list]]  # per run: rows [step, train_loss, test_loss, train_metric, test_metric]
    views: list[RunView]
    landscape: dict
    page: Page

    @property
    def compare(self) -> bool:
        return len(self.hots) > 1

    @property
    def names(self) -> list[str]:
        if not self.compare:
            return ["run"]
        return [f"{'AB'[i]} ({h['label']})" for i, h in enumerate(self.hots)]


def gather(services: Services, hot: dict, page: Page) -> Stored:
    """The stored run behind ``hot`` (and its partners) with the landscape ``page`` asks for."""
    store = services.store
    hots = run_hots(store, hot)
    points = [store.points_since(h, 0) for h in hots]
    views = [load_view(store, h) for h in hots]
    if len(views) > 1:
        plane = page.plane if page.plane in ("random", "pca") else "compare"
        view = compare_view(services, views, page.grid, False, page.of, plane)
    else:
        mode = page.plane if page.plane in PLANES else "random"
        key = [views[0].run_id, views[0].version, page.grid, page.span, mode, page.of, page.norm]
        view = drawing.landscape_for(services, views[0], key, page.grid, page.span, mode, False)[0]
        if view is None:  # the landscape slot was refused: compute it here
            view = landscape(views[0], page.grid, page.span, mode, page.of, page.norm)
    return Stored(hots, points, views, view, page)


# --- CSV ------------------------------------------------------------------------------------

def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return repr(float(v)) if isinstance(v, float) else str(v)


def curves_csv(run: Stored) -> str:
    """One row per recorded step: step, train/test loss, train/test accuracy (or R²)."""
    metric = METRIC_WORDS[run.hots[0]["task"]]
    names = ["train_loss", "test_loss", f"train_{metric}", f"test_{metric}"]
    header = ["step"] + names + ([f"{n}_b" for n in names] if run.compare else [])
    by_step = [{row[0]: row[1:] for row in pts} for pts in run.points]
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    for row in run.points[0]:
        cells = [int(row[0]), *row[1:]]
        if run.compare:
            cells += list(by_step[1].get(row[0], [None] * 4))
        out.writerow([_cell(c) for c in cells])
    return buf.getvalue()


def surface_csv(run: Stored) -> str:
    """One row per grid point: alpha, beta, the value there; in compare mode B's value beside it
    (``<label>_b``), or, when each run has its own plane, B's own alpha_b, beta_b and value (the
    shorter grid's cells blank when the two differ in size)."""
    view = run.landscape
    zs = list(view["z"]) if run.compare else [view["z"]]  # compare: (2, G, G) stacked, or a list
    axes = view["axes"] if view.get("kind") == "own" else [(view["alphas"], view["betas"])]
    label = view.get("z_label", "loss").replace(" ", "_").replace("/", "_")
    points = [_grid_points(*axes[min(k, len(axes) - 1)], z) for k, z in enumerate(zs)]
    if len(axes) > 1:  # each run over its own plane: B's axes too
        header = ["alpha", "beta", label, "alpha_b", "beta_b", f"{label}_b"]
        rows = [a + b for a, b in itertools.zip_longest(*points, fillvalue=[None] * 3)]
    else:
        header = ["alpha", "beta", label] + ([f"{label}_b"] if len(zs) > 1 else [])
        rows = [p[0] + [q[2] for q in p[1:]] for p in zip(*points)]
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    out.writerows([_cell(c) for c in row] for row in rows)
    return buf.getvalue()


def _grid_points(alphas: Any, betas: Any, z: Any) -> list[list[float]]:
    """[alpha, beta, z] per point of a (len(alphas), len(betas)) grid, alpha the slow index."""
    z = np.asarray(z, dtype=float)
    return [[float(a), float(b), float(z[i, j])] for i, a in enumerate(alphas) for j, b in enumerate(betas)]


# --- JSON -----------------------------------------------------------------------------------

def _floats(a: Any) -> list:
    """An array as nested lists, None where a value is not finite (JSON has no NaN)."""
    arr = np.asarray(a, dtype=float)
    out = arr.astype(object)
    out[~np.isfinite(arr)] = None
    return out.tolist()


def run_json(run: Stored) -> str:
    """Everything the page shows of the run, as one JSON document (see module doc)."""
    view = run.landscape
    zs = list(view["z"]) if run.compare else [view["z"]]  # compare: (2, G, G) stacked, or a list
    axes = view["axes"] if view.get("kind") == "own" else [(view["alphas"], view["betas"])] * len(zs)
    paths = view["paths"] if "paths" in view else [view["path"]]
    metric = METRIC_WORDS[run.hots[0]["task"]]
    runs = []
    for i, (hot, pts) in enumerate(zip(run.hots, run.points)):
        hist = history_of(pts)
        last = hot["last"]
        runs.append({
            "name": run.names[i], "label": hot["label"], "settings": hot["config"], "status": hot["state"],
            "step": hot["step"], "total_steps": hot["total_steps"], "n_params": hot["n_params"],
            "final": {"train_loss": last[1], "test_loss": last[2], f"train_{metric}": last[3],
                      f"test_{metric}": last[4]},
            "curves": {"step": [int(s) for s in hist["step"]],
                       **{k.replace("metric", metric): hist[k] for k in CURVE_KEYS if k != "step"}},
            "path": {"alpha": _floats(np.asarray(paths[i])[:, 0]), "beta": _floats(np.asarray(paths[i])[:, 1])},
            "surface": _floats(zs[i]),  # over surface_axes: alpha the first index
            "surface_axes": {"alpha": _floats(axes[i][0]), "beta": _floats(axes[i][1])},
        })
    doc = {
        "lossviz": "run export", "task": run.hots[0]["task"], "metric": metric,
        "compare": ({"field": run.hots[0].get("vary"), "b": run.hots[0].get("value")} if run.compare else None),
        "view": {"grid": run.page.grid, "range": run.page.span, "plane": view.get("kind", view.get("mode")),
                 "surface_of": run.page.of, "z_label": view.get("z_label", "loss"),
                 "alphas": _floats(view["alphas"]), "betas": _floats(view["betas"])},
        "link_query": run.page.query, "runs": runs,
    }
    return json.dumps(doc, allow_nan=False)


# --- .npz -----------------------------------------------------------------------------------

def export_grid(layer_sizes, n_train: int, grid: int) -> int:
    """The page's grid, made coarser (down to 11) when its float64 surface would cost too much."""
    p = sum((a + 1) * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    while grid > 11 and grid * grid * n_train * p > EXPORT_WORK:
        grid -= 10
    return grid


def run_npz(services: Services, run: Stored) -> bytes:
    """The run in ``lossviz export``'s .npz format, from the stored trainer(s)."""
    trainers = [restore(services.store, h).trainer for h in run.hots]
    a = trainers[0]
    grid = export_grid(a.net.layer_sizes, a.data.X_train.shape[0], run.page.grid)
    with services.view_slots:
        if run.compare:
            arrays = compare_export_arrays(a, trainers[1], run.hots[0]["vary"], _value(run.hots[0]["value"]),
                                           grid=grid)
        else:
            directions = "pca" if run.page.plane == "pca" and len(a.trajectory) >= 3 else (
                run.page.norm if run.page.plane == "random" else "filter")
            arrays = export_arrays(a, grid=grid, span=run.page.span, directions=directions)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _value(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


# --- HTML -----------------------------------------------------------------------------------

def page_figures(run: Stored) -> list[figures.Figure]:
    """The page's plots, whole, for the snapshot: landscape(s), 3-D or A–B line, curves, data."""
    view, log_z = run.landscape, run.page.log_z
    metric = "accuracy" if run.hots[0]["task"] == "classification" else "R²"
    if run.compare:
        figs = [contour_of(view, i, run.names, log_z) for i in range(2)]
        line = line_figure(run.views, run.names, "snapshot")
        figs += [line] if isinstance(line, dict) else []
        figs.append(figures.curves_figure({}, metric, runs=[(h["label"], history_of(p))
                                                           for h, p in zip(run.hots, run.points)]))
    else:
        figs = [drawing.contour_of(view, log_z, False, "snapshot"),
                drawing.surface3d_of(view, log_z, False, "snapshot"),
                figures.curves_figure(history_of(run.points[0]), metric)]
    for i, v in enumerate(run.views):
        fig = drawing.data_figure(data_view(v))
        if run.compare:
            fig["layout"]["title"]["text"] = f"{run.names[i]}: its predictions"
        figs.append(fig)
    return figs


def _plotly_js() -> str:
    """The plotly.js bundle plotly.py ships, with every "http(s)://" in it written "http(s):\\/\\/":
    the same string to JavaScript (its map and logo links, never fetched by these plots), so the
    snapshot's text names no outside address."""
    from plotly.offline import get_plotlyjs

    return re.sub(r"(https?):/{2}", r"\1:\\/\\/", get_plotlyjs())


SNAPSHOT_CSS = """
body { font-family: Inter, Segoe UI, Helvetica, Arial, sans-serif; margin: 16px; color: #1b2430; }
h1 { font-size: 22px; margin: 0 0 4px; } p { margin: 4px 0 12px; color: #44505f; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
.plot { height: 440px; border: 1px solid #dde3ea; border-radius: 6px; }
"""


def html_snapshot(run: Stored) -> str:
    """A standalone page of the current plots: plotly.js and the figures inlined, no outside URL."""
    figs = page_figures(run)
    for fig in figs:
        fig["layout"].pop("uirevision", None)
    settings = run.hots[0]["config"]
    words = ", ".join(f"{k} {v}" for k, v in settings.items() if k in ("dataset", "loss", "optimizer", "lr",
                                                                         "activation", "epochs", "seed"))
    if run.compare:
        words += f" · B: {run.hots[0].get('vary')} = {run.hots[1]['label']}"
    status = ", ".join(f"{n}: step {h['step']} of {h['total_steps']}, {h['state']}" for n, h in zip(run.names, run.hots))
    data = json.dumps(_plain(figs), allow_nan=False).replace("</", "<\\/")
    boxes = "".join(f'<div class="plot" id="plot-{i}"></div>' for i in range(len(figs)))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>lossviz snapshot</title>"
        f"<style>{SNAPSHOT_CSS}</style>"
        f"<script>{_plotly_js()}</script></head><body>"
        f"<h1>lossviz snapshot</h1><p>{_escape(words)}<br>{_escape(status)}</p>"
        f'<div class="plots">{boxes}</div>'
        f'<script type="application/json" id="lossviz-figures">{data}</script>'
        "<script>(function () {"
        "var figs = JSON.parse(document.getElementById('lossviz-figures').textContent);"
        "figs.forEach(function (f, i) { Plotly.newPlot('plot-' + i, f.data, f.layout,"
        " {displaylogo: false, responsive: true, topojsonURL: ''}); });"
        "})();</script></body></html>\n")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(value: Any) -> Any:
    """A figure as JSON-ready values: arrays to lists, non-finite numbers to None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
