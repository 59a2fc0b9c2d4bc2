"""Curvature along training: λmax, λmin and the trace of the data loss's Hessian H at the recorded
weights of a run's path, beside its loss, with the optimizer's stability line (the edge of
stability, Cohen et al. 2021). For Adam and RMSprop the line holds for the preconditioned
sharpness λmax(P⁻¹H), P from the optimizer's state (Cohen et al. 2022): that is measured and
drawn against it, with λmax(H) beside. Pure functions: a run's arrays in, numbers and a figure out.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np

import lossviz
from lossviz import Trainer
from lossviz.sharpness import line_is_preconditioned, stability_threshold
from lossviz.tabular import is_table_name
from lossviz.training import MAX_TRAJECTORY_ROWS

from .. import figures
from ...runs.run import TRAJECTORY_BYTES

MAX_POINTS = 120  # curvature points per run: at most this many rows of its path are measured
MAX_WORK = 2e7  # parameters x training points: bigger networks are not measured live
TOL = 1e-6  # Lanczos residual (relative): plenty for a plot, several times cheaper than 1e-10
TRACE_PROBES = 20
MAX_LOG_TICKS = 3  # labels on the loss axis at most (its row is ~80 px high; 18 px labels in presentation mode)
RETRACE_CHUNK = 10  # steps a retracer takes between looks at the clock
RETRACE_RTOL = 1e-6  # a retraced row this close to the stored one has its optimizer state
LAMBDA_COLOUR, LAMBDA_MIN_COLOUR, EDGE_COLOUR, PRE_COLOUR = "#0072B2", "#009E73", "#D55E00", "#56B4E9"
RAW, PRE = "λmax(H)", "λmax(P⁻¹H)"  # the Hessian's sharpness, and the adaptive optimizers' preconditioned one
# Subplot rows (y domains): loss, eigenvalues of H, trace; y4, the preconditioned sharpness, for Adam or RMSprop
# Gaps of ~8% between rows: the labels at one row's foot and the next row's top (half an 18 px
# label each) would meet in a narrower one.
ROWS = {"y": [0.72, 1.0], "y2": [0.32, 0.64], "y3": [0.0, 0.24]}
ROWS_ADAPTIVE = {"y": [0.78, 1.0], "y4": [0.52, 0.70], "y2": [0.26, 0.44], "y3": [0.0, 0.18]}
# What λmin's sign says at a point the weights pass through, where the gradient need not be zero
NEGATIVE = ("λmin(H) < 0 now: along some direction the loss curves downward here. That is the shape of the "
            "slope the weights are on, not a saddle point: the gradient here need not be zero.")
NON_NEGATIVE = ("λmin(H) ≥ 0 now: along every direction the loss curves upward (or not at all) here, "
                "bowl-shaped locally; the gradient need not be zero, so this is not the bowl's bottom.")


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
            activation: str, loss: str, huber_delta: float, label_smoothing: float = 0.0,
            preconditioner: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """(λmax, λmin, trace) of the data loss's Hessian H at ``params``, and λmax(P⁻¹H) with the
    adaptive optimizer's ``preconditioner`` P (P,) (NaN without one; NaN where not finite)."""
    if not np.isfinite(params).all():
        return math.nan, math.nan, math.nan, math.nan
    kw = dict(layer_sizes=layer_sizes, activation=activation, loss=loss, huber_delta=huber_delta,
              label_smoothing=label_smoothing)
    try:
        top = lossviz.hessian_eigs(params, X, y, k=1, which="largest", tol=TOL, **kw)[0][0]
        bottom = lossviz.hessian_eigs(params, X, y, k=1, which="smallest", tol=TOL, **kw)[0][0]
        trace = lossviz.hessian_trace(params, X, y, n_probes=TRACE_PROBES, **kw)
        pre = math.nan if preconditioner is None else \
            lossviz.preconditioned_sharpness(params, X, y, preconditioner, tol=TOL, **kw)
    except (ValueError, FloatingPointError):
        return math.nan, math.nan, math.nan, math.nan
    return float(top), float(bottom), float(trace), float(pre)


def retracer(run, saved: dict | None = None) -> Trainer:
    """A trainer that retraces ``run`` from its first path row, restored from ``saved`` (its
    ``state_dict``, carried between requests) when that fits. Training is deterministic in its
    config, so it passes through the run's path with the optimizer's state at every step: the one
    place an adaptive optimizer's preconditioner at a past row can come from."""
    data = run.data if is_table_name(run.config.dataset) else None
    if saved is not None:
        try:
            return Trainer.from_state_dict(run.config, saved, trajectory_bytes=0, data=data)
        except (ValueError, KeyError, TypeError):
            pass  # another run's or an older layout's state: start again
    return Trainer(run.config, params_init=run.trajectory[0], trajectory_bytes=0, data=data)


def _retrace(tracer: Trainer, run, row: int, step: int, deadline: float) -> tuple[Trainer, np.ndarray | None, bool]:
    """Advance ``tracer`` to ``step`` (from the start again if it is past it) until ``deadline``:
    (tracer, the preconditioner at that step or None, whether the step was reached). None also
    when the retraced weights are not the run's row there (the retrace went astray)."""
    if tracer.step_count > step:
        tracer = retracer(run)
    while tracer.step_count < step and not tracer.finished:
        tracer.advance(min(RETRACE_CHUNK, step - tracer.step_count))
        if tracer.step_count < step and time.perf_counter() > deadline:
            return tracer, None, False
    row_params = run.trajectory[row]
    same = tracer.step_count == step and \
        np.linalg.norm(tracer.params - row_params) <= RETRACE_RTOL * (1 + np.linalg.norm(row_params))
    return tracer, tracer.optimizer.preconditioner() if same else None, True


def extend(series: dict, run, steps: np.ndarray, budget_s: float,
           retrace: dict | None = None) -> tuple[dict, dict | None]:
    """Measure the path rows ``series`` lacks (``rows_to_measure``), oldest first, for up to
    ``budget_s`` seconds ({row: [step, λmax, λmin, trace, λmax(P⁻¹H)]}). For an adaptive
    optimizer a :func:`retracer` (``retrace``: its saved state) supplies each row's preconditioner.

    Returns the series with what was added, and the retracer's state to pass next time (None for
    a plain optimizer)."""
    series = dict(series)
    deadline = time.perf_counter() + budget_s
    d, c = run.data, run.config
    tracer = retracer(run, retrace) if line_is_preconditioned(c) else None
    rows = rows_to_measure(len(run.trajectory))
    for r in rows:
        key = str(r)
        if key in series and len(series[key]) == 5 and series[key][0] == int(steps[r]):
            continue
        pre = None
        if tracer is not None:
            tracer, pre, reached = _retrace(tracer, run, r, int(steps[r]), deadline)
            if not reached:
                break  # out of time on the way: the next request goes on from here
        series[key] = [int(steps[r]), *measure(run.trajectory[r], d.X_train, d.y_train,
                                                 layer_sizes=run.net.layer_sizes, activation=c.activation,
                                                 loss=c.loss, huber_delta=c.huber_delta,
                                                 label_smoothing=c.label_smoothing, preconditioner=pre)]
        if time.perf_counter() > deadline:
            break
    keep = {str(r) for r in rows}  # a longer path measures other rows: drop the old spread (and old layouts)
    series = {k: v for k, v in series.items() if k in keep and len(v) == 5}
    return series, None if tracer is None else tracer.state_dict()


def threshold_words(config) -> tuple[float | None, str]:
    """The stability line for a run's optimizer and its label, naming the sharpness it is for."""
    edge = stability_threshold(config)
    if edge is None:
        return None, f"{config.optimizer} has no stability line"
    rule = {"sgd": "2/η", "momentum": "(2+2β)/η", "nesterov": "(2+2β)/((1+2β)η)", "rmsprop": "2/η",
            "adam": "(2+2β₁)/((1−β₁)η)"}[config.optimizer]
    of = PRE if line_is_preconditioned(config) else RAW
    batch = "" if config.batch_size == 0 else " (a full-batch rule: this run uses minibatches)"
    return edge, f"stability line {rule} = {edge:.4g}, for {of}{batch}"


def run_entry(label: str, points: dict, series: dict, config) -> dict:
    """What :func:`sharpness_figure` and :func:`summary` read of one run: its loss curve
    (``points``: ``runs.history_of``), its measured ``series`` in step order, its line."""
    rows = sorted(series.values())
    edge, edge_label = threshold_words(config)
    return {"label": label, "loss_steps": points["step"], "loss": points["train_loss"],
            "steps": [r[0] for r in rows], "lambda_max": [r[1] for r in rows], "lambda_min": [r[2] for r in rows],
            "trace": [r[3] for r in rows], "lambda_pre": [r[4] for r in rows],
            "preconditioned": line_is_preconditioned(config), "edge": edge, "edge_label": edge_label}


def log_ticks(values: Sequence[float | None]) -> dict:
    """Tick values and labels for a log axis over ``values``: the decades inside their range (every
    k-th of many), or 1-3 or 1-2-5 steps when fewer than two decades fit, each label the whole
    number (plotly's own minor labels, "5, 2, 0.1, 5, 2", drop the decade and read ambiguously).
    {} without positive values."""
    v = np.array([x for x in values if x is not None and math.isfinite(x) and x > 0])
    if not v.size:
        return {}
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))

    def inside(ticks):
        return [t for t in ticks if v.min() <= t * (1 + 1e-9) and t <= v.max() * (1 + 1e-9)]

    for mantissas in ((1,), (1, 3), (1, 2, 5), (1, 1.5, 2, 3, 5, 7)):
        ticks = inside([float(f"{m}e{e}") for e in range(lo, hi + 1) for m in mantissas])
        if len(ticks) >= 2:
            ticks = ticks[::-(-len(ticks) // MAX_LOG_TICKS)]  # many decades: every k-th, so labels never crowd
            break
    else:  # a narrow range: three points across it, rounded to as few digits as keep them inside
        for digits in range(2, 17):
            ticks = inside(sorted({float(f"{t:.{digits}g}") for t in np.geomspace(v.min(), v.max(), 3)}))
            if len(ticks) >= 2:
                break
    ticks = _spread(ticks, v) if not mantissas == (1,) else ticks  # decades are thinned above
    return dict(tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def _spread(ticks: list[float], v: np.ndarray) -> list[float]:
    """``ticks`` with each closer than 1/2.5 of the values' log span to the last one kept dropped
    (0.3, 0.5, 0.7 over 0.27-0.72 -> 0.3, 0.5): 1-2-5 steps bunch up at the top of a decade, and
    their 18 px labels ran together in presentation mode. At least two are kept."""
    gap = math.log10(v.max() / v.min()) / 2.5
    kept = ticks[:1]
    for t in ticks[1:]:
        if math.log10(t / kept[-1]) >= gap:
            kept.append(t)
    return kept if len(kept) >= 2 else ticks


def sharpness_figure(runs: list[dict], metric_label: str = "loss") -> figures.Figure:
    """Training loss (top); for adaptive optimizers the preconditioned sharpness λmax(P⁻¹H) with
    their stability line; λmax and λmin of the Hessian H (with the plain optimizers' line); the
    Hessian's trace (bottom); against optimizer steps. Each line is drawn with the sharpness it
    holds for.

    runs : [{"label", "loss_steps", "loss", "steps", "lambda_max", "lambda_min", "trace",
             "lambda_pre", "preconditioned", "edge", "edge_label"}] (one run, or A and B)
    """
    data, finite = [], figures._floats_or_none
    adaptive = any(r["preconditioned"] for r in runs)
    compare, named = len(runs) > 1, set()
    for i, r in enumerate(runs):
        name, dash = f"{r['label']}: " if r["label"] else "", ["solid", "dash"][i % 2]
        # Short legend entries, their full words on hover: at 18 px the long entries took the
        # rows' height. In compare mode colour says the measure and the dash the run, so the
        # legend holds A's entries, and those of B's that A has not (its own stability line).

        def trace(x, y, what, words, axis, colour, width=1.5, markers=False):
            legend = what not in named
            named.add(what)
            data.append(dict(type="scatter", x=list(x), y=finite(y), name=what, showlegend=legend,
                             mode="lines+markers" if markers else "lines", marker=dict(size=4),
                             line=dict(color=colour, width=width, dash=dash), xaxis=f"x{axis}", yaxis=f"y{axis}",
                             hovertemplate=f"step %{{x}}: %{{y:.4g}}<extra>{name}{words}</extra>"))

        trace(r["loss_steps"], r["loss"], f"train {metric_label}", f"train {metric_label}", "", "#444444", 2)
        if r["preconditioned"]:
            trace(r["steps"], r["lambda_pre"], PRE, f"{PRE} (preconditioned sharpness)", 4, PRE_COLOUR, 2.5, True)
        trace(r["steps"], r["lambda_max"], RAW, f"{RAW} (sharpness)", 2, LAMBDA_COLOUR, 2.5, True)
        trace(r["steps"], r["lambda_min"], "λmin(H)", "λmin(H) (< 0: curving down along some direction)", 2,
              LAMBDA_MIN_COLOUR)
        if r["edge"] is not None and r["steps"]:
            xs = [min(r["loss_steps"][0], r["steps"][0]), max(r["loss_steps"][-1], r["steps"][-1])]
            short = r["edge_label"].split(", for ")[0]  # its row says which sharpness it is for
            other = i > 0 and short != runs[0]["edge_label"].split(", for ")[0]
            trace(xs, [r["edge"]] * 2, f"{name}{short}" if other else short, r["edge_label"],
                  4 if r["preconditioned"] else 2, EDGE_COLOUR, 2)
            data[-1]["line"]["dash"] = "dot"
        trace(r["steps"], r["trace"], "tr(H)", "trace of H", 3, "#CC79A7")
    rows = ROWS_ADAPTIVE if adaptive else ROWS
    axes = dict(yaxis=dict(anchor="x", domain=rows["y"], title=dict(text=metric_label), type="log",
                           **log_ticks([v for r in runs for v in r["loss"]])),
                yaxis2=dict(anchor="x2", domain=rows["y2"], title=dict(text="λ(H)"), nticks=3),
                yaxis3=dict(anchor="x3", domain=rows["y3"], title=dict(text="tr(H)"), nticks=3),
                xaxis3=dict(anchor="y3", domain=[0, 1], title=dict(text="optimizer step")))
    for axis in ("", "2", "4") if adaptive else ("", "2"):
        axes[f"xaxis{axis}"] = dict(anchor=f"y{axis}", domain=[0, 1], matches="x3", showticklabels=False)
    if adaptive:
        axes["yaxis4"] = dict(anchor="x4", domain=rows["y4"], title=dict(text="λmax<br>(P⁻¹H)"), nticks=3)
    title = "Curvature along training: the edge of stability" + (
        f" · {runs[0]['label'].split(' ')[0]} solid, {runs[1]['label'].split(' ')[0]} dashed" if compare else "")
    return figures._figure(
        data, title,
        legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0, font=dict(size=12)),
        margin=dict(l=64, r=20, t=44, b=10), **axes)


def _percent(value: float, edge: float) -> str:
    share = 100 * value / edge
    return f"{share:.0f}%" if abs(share) >= 10 else f"{share:.2g}%"  # small shares: 1.2%, 0.053%, not 0%


def _against_line(what: str, values: list[float], edge: float | None) -> str:
    """"λmax(H) 18.91 now (95% of its stability line 20); at most 24 (120%): ..." -- now and the
    peak each with its own share of the line."""
    now, peak = values[-1], max(values)
    if edge is None:
        return f"{what} {now:.4g} now, at most {peak:.4g}"
    return (f"{what} {now:.4g} now ({_percent(now, edge)} of its stability line {edge:.4g}); at most {peak:.4g} "
            f"({_percent(peak, edge)} of the line)" + (", at the edge of stability" if peak >= 0.9 * edge else ""))


def _finite(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def summary(runs: list[dict]) -> str:
    """One paragraph per run: the sharpness its stability line holds for against that line (now
    and at its peak), λmax(H) beside it for an adaptive optimizer, and what λmin's sign says."""
    parts = []
    for r in runs:
        lam, pre, low = _finite(r["lambda_max"]), _finite(r.get("lambda_pre", [])), _finite(r["lambda_min"])
        lead = f"{r['label']}: " if r["label"] else ""
        if not lam:
            parts.append(f"{lead}no curvature measured yet.")
            continue
        if r["preconditioned"]:
            where = _against_line(f"the preconditioned sharpness {PRE}", pre, r["edge"]) if pre else \
                f"the preconditioned sharpness {PRE} not measured yet (the optimizer has no state before its first step)"
            raw = f"; {RAW}, the Hessian's own sharpness, {lam[-1]:.4g} now" + \
                (f", {_percent(lam[-1], r['edge'])} of that line" if r["edge"] else "")
            text = f"{lead}{where}{raw}."
        else:
            text = f"{lead}{_against_line(f'the sharpness {RAW}', lam, r['edge'])}."
        if low:
            text += " " + (NEGATIVE if low[-1] < -1e-3 * max(lam) else NON_NEGATIVE)
        parts.append(text[0].upper() + text[1:])
    return " ".join(parts)
