"""Curvature along training: λmax, λmin and the trace of the data loss's Hessian at the recorded
weights of a run's path, beside its loss, with the optimizer's stability line (the edge of
stability, Cohen et al. 2021). Pure functions: a run's arrays in, numbers and a figure out.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np

import lossviz
from lossviz.sharpness import stability_threshold
from lossviz.training import MAX_TRAJECTORY_ROWS

from .. import figures
from ..runs import TRAJECTORY_BYTES

MAX_POINTS = 120  # curvature points per run: at most this many rows of its path are measured
MAX_WORK = 2e7  # parameters x training points: bigger networks are not measured live
TOL = 1e-6  # Lanczos residual (relative): plenty for a plot, several times cheaper than 1e-10
TRACE_PROBES = 20
LAMBDA_COLOUR, LAMBDA_MIN_COLOUR, EDGE_COLOUR = "#0072B2", "#009E73", "#D55E00"


def path_steps(total_steps: int, n_params: int, n_rows: int, step: int) -> np.ndarray:
    """The optimizer step of each row of a stored path (``runs.load_view``'s trajectory): row i
    at i x record_every (as ``lossviz.Trainer`` records with the app's memory budget), the last
    row at the run's current step."""
    rows = max(2, min(MAX_TRAJECTORY_ROWS, TRAJECTORY_BYTES // (8 * n_params)))
    every = max(1, math.ceil(total_steps / (rows - 1)))
    steps = np.minimum(np.arange(n_rows) * every, step)
    if n_rows:
        steps[-1] = step
    return steps


def rows_to_measure(n_rows: int) -> list[int]:
    """At most MAX_POINTS rows spread evenly over a path of ``n_rows`` rows (its last included)."""
    stride = max(1, math.ceil(n_rows / MAX_POINTS))
    rows = list(range(0, n_rows, stride))
    if n_rows and rows[-1] != n_rows - 1:
        rows.append(n_rows - 1)
    return rows


def too_big(n_params: int, n_train: int) -> str:
    """Why a run's curvature is not measured live, or "" when it is."""
    if n_params * n_train > MAX_WORK:
        return (f"Curvature is measured live for networks of up to {MAX_WORK:.0e} parameters x training "
                f"points; this one has {n_params:,} x {n_train:,}. Try fewer samples or a smaller network.")
    return ""


def measure(params: np.ndarray, X: np.ndarray, y: np.ndarray, *, layer_sizes: Sequence[int],
            activation: str, loss: str, huber_delta: float) -> tuple[float, float, float]:
    """(λmax, λmin, trace) of the data loss's Hessian at ``params`` (NaN where not finite)."""
    if not np.isfinite(params).all():
        return math.nan, math.nan, math.nan
    kw = dict(layer_sizes=layer_sizes, activation=activation, loss=loss, huber_delta=huber_delta)
    try:
        top = lossviz.hessian_eigs(params, X, y, k=1, which="largest", tol=TOL, **kw)[0][0]
        bottom = lossviz.hessian_eigs(params, X, y, k=1, which="smallest", tol=TOL, **kw)[0][0]
        trace = lossviz.hessian_trace(params, X, y, n_probes=TRACE_PROBES, **kw)
    except (ValueError, FloatingPointError):
        return math.nan, math.nan, math.nan
    return float(top), float(bottom), float(trace)


def extend(series: dict, run, steps: np.ndarray, budget_s: float) -> dict:
    """Measure the path rows ``series`` lacks (``rows_to_measure``), oldest first, for up to
    ``budget_s`` seconds; returns the series with what was added ({row: [step, λmax, λmin, trace]})."""
    series = dict(series)
    start = time.perf_counter()
    d, c = run.data, run.config
    rows = rows_to_measure(len(run.trajectory))
    for r in rows:
        key = str(r)
        if key in series and series[key][0] == int(steps[r]):
            continue
        series[key] = [int(steps[r]), *measure(run.trajectory[r], d.X_train, d.y_train,
                                                 layer_sizes=run.net.layer_sizes, activation=c.activation,
                                                 loss=c.loss, huber_delta=c.huber_delta)]
        if time.perf_counter() - start > budget_s:
            break
    keep = {str(r) for r in rows}  # a longer path measures other rows: drop the old spread
    return {k: v for k, v in series.items() if k in keep}


def threshold_words(config) -> tuple[float | None, str]:
    """The stability line for a run's optimizer and its label."""
    edge = stability_threshold(config)
    if edge is None:
        return None, "RMSprop has no fixed stability line"
    rule = {"sgd": "2/η", "momentum": "(2+2β)/η", "nesterov": "(2+2β)/((1+2β)η)",
            "adam": "(2+2β₁)/((1−β₁)η), for the preconditioned sharpness"}[config.optimizer]
    batch = "" if config.batch_size == 0 else " (a full-batch rule: this run uses minibatches)"
    return edge, f"stability line {rule} = {edge:.4g}{batch}"


def sharpness_figure(runs: list[dict], metric_label: str = "loss") -> figures.Figure:
    """Training loss (top), λmax and λmin with each run's stability line (middle), the Hessian's
    trace (bottom), against optimizer steps.

    runs : [{"label", "loss_steps", "loss", "steps", "lambda_max", "lambda_min", "trace",
             "edge", "edge_label"}] (one run, or A and B)
    """
    data, finite = [], figures._floats_or_none
    dashes = ["solid", "dash"]
    for i, r in enumerate(runs):
        name = f"{r['label']}: " if r["label"] else ""
        dash = dashes[i % 2]
        data.append(dict(type="scatter", x=list(r["loss_steps"]), y=finite(r["loss"]), mode="lines",
                         name=f"{name}train {metric_label}", line=dict(color="#444444", width=2, dash=dash),
                         xaxis="x", yaxis="y"))
        data.append(dict(type="scatter", x=list(r["steps"]), y=finite(r["lambda_max"]), mode="lines+markers",
                         name=f"{name}λmax (sharpness)", marker=dict(size=4),
                         line=dict(color=LAMBDA_COLOUR, width=2.5, dash=dash), xaxis="x2", yaxis="y2"))
        data.append(dict(type="scatter", x=list(r["steps"]), y=finite(r["lambda_min"]), mode="lines",
                         name=f"{name}λmin (< 0: a saddle direction)",
                         line=dict(color=LAMBDA_MIN_COLOUR, width=1.5, dash=dash), xaxis="x2", yaxis="y2"))
        if r["edge"] is not None and r["steps"]:
            xs = [min(r["loss_steps"][0], r["steps"][0]), max(r["loss_steps"][-1], r["steps"][-1])]
            data.append(dict(type="scatter", x=xs, y=[r["edge"]] * 2, mode="lines", name=f"{name}{r['edge_label']}",
                             line=dict(color=EDGE_COLOUR, width=2, dash="dot"), xaxis="x2", yaxis="y2",
                             hoverinfo="name"))
        data.append(dict(type="scatter", x=list(r["steps"]), y=finite(r["trace"]), mode="lines",
                         name=f"{name}trace of the Hessian", line=dict(color="#CC79A7", width=1.5, dash=dash),
                         xaxis="x3", yaxis="y3"))
    return figures._figure(
        data, "Curvature along training: the edge of stability",
        legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0, font=dict(size=12)),
        margin=dict(l=64, r=20, t=44, b=10),
        xaxis=dict(anchor="y", domain=[0, 1], matches="x3", showticklabels=False),
        yaxis=dict(anchor="x", domain=[0.72, 1.0], title=dict(text=metric_label), type="log"),
        xaxis2=dict(anchor="y2", domain=[0, 1], matches="x3", showticklabels=False),
        yaxis2=dict(anchor="x2", domain=[0.30, 0.66], title=dict(text="eigenvalue")),
        xaxis3=dict(anchor="y3", domain=[0, 1], title=dict(text="optimizer step")),
        yaxis3=dict(anchor="x3", domain=[0.0, 0.24], title=dict(text="trace")))


def summary(runs: list[dict]) -> str:
    """One sentence per run: where λmax is against its stability line, and λmin's sign."""
    parts = []
    for r in runs:
        lam = [v for v in r["lambda_max"] if v is not None and math.isfinite(v)]
        if not lam:
            parts.append(f"{r['label'] or 'The run'}: no curvature measured yet.")
            continue
        low = [v for v in r["lambda_min"] if v is not None and math.isfinite(v)]
        where = ""
        if r["edge"] is not None:
            peak = max(lam)
            where = (f" — {100 * peak / r['edge']:.0f}% of its stability line {r['edge']:.4g} at most"
                     + (": at the edge of stability" if peak >= 0.9 * r["edge"] else ""))
        saddle = (" λmin is negative: the weights sit near a saddle, not a minimum." if low and low[-1] < -1e-3 * max(lam)
                  else " λmin ≥ 0: locally a minimum's bowl." if low else "")
        parts.append(f"{r['label'] or 'Sharpness'}: λmax {lam[-1]:.4g} now{where}.{saddle}")
    return " ".join(parts)
