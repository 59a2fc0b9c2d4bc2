"""Compare mode's "each at its best learning rate": a small sweep from one start, shown side by side.

Two settings trained at one learning rate are not compared fairly when one of them takes smaller
steps at that rate: squared error on probabilities pushes the logits at most half as hard as
cross-entropy, so at one rate it is simply slower. With this option compare mode trains runs A
and B each at ``SWEEP_RATES`` log-spaced learning rates around the page's rate, from the same
initial weights on the same data (``lossviz.compare_lr_sweep``, one job), then shows

- the sweep: each run's final training loss against the learning rate, its best rate marked
  (a diverged rate drawn as a cross at the top), and
- each run's learning curve at its own best rate, side by side.

Pure functions: settings in, a JSON-able result, plain-dict figures (see :mod:`app.views.figures`) and
words out. No dash: the callbacks run :func:`run_sweep` as a job and place what it returns.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

import lossviz
from app.views.figures import Figure, message_figure
from app.views.figures import _figure as _with_look  # the shared look: title, fonts, template, kept zoom
from lossviz import Dataset, RunConfig
from lossviz.experiment import setting_label
from lossviz.metrics import metric_name
from lossviz.sweep import SWEEP_RATES, sweep_rates

from ...runs import caps

# The option compare mode offers: the two runs at the page's one learning rate, or each at its own
# best rate of a sweep.
RATE_MODES = ({"label": "Same learning rate", "value": "same"},
              {"label": "Each at its best learning rate", "value": "best"})
# All the sweep's runs together, in weight·sample multiply-adds (steps × weights × samples, summed):
# about five minutes of one core, the most one press may ask of a shared server.
MAX_SWEEP_WORK = 3e10
RUN_COLOURS = ("#009E73", "#CC79A7")  # run A, run B: the colours the "why" view gives them
RUN_DASHES = ("solid", "dash")
RATES_TITLE = "Final training loss against the learning rate"
CURVES_TITLE = "Each run at its best learning rate"


def sweep_plan(config: RunConfig, compare: dict | None, data: Dataset | None = None) -> dict:
    """What the sweep will train, checked before it starts (ValueError in words).

    Parameters
    ----------
    config : run A's settings; compare : compare mode's ``{"vary": field, "value": B's value}``
    data : an uploaded table's Dataset (its size counts in the work)

    Returns
    -------
    dict: ``vary``, ``value``, ``rates`` (list of floats), ``runs`` (how many), ``work`` (its
    multiply-adds): JSON-able, as a job takes it.
    """
    if not compare or not compare.get("vary"):
        raise ValueError("Each at its best learning rate: turn on compare mode and pick what run B changes")
    if compare["vary"] == "lr":
        raise ValueError("Each at its best learning rate sweeps the learning rate itself: "
                         "compare another setting")
    config_b = config.replace(**{compare["vary"]: compare["value"]})
    rates = sweep_rates(config.lr)
    work = 0.0
    for c in (config, config_b):
        run = lossviz.Trainer(c, data=data)
        rows = run.data.X_train.shape[0]
        caps.check_config(c, run.net.n_params, rows)
        work += len(rates) * run.total_steps * run.net.n_params * run.batch_size
    if work > MAX_SWEEP_WORK:
        raise ValueError(f"Each at its best learning rate trains {2 * len(rates)} runs: "
                         f"{work:.2g} multiply-adds, over the {MAX_SWEEP_WORK:.0e} a sweep may ask for. "
                         "Use fewer epochs, fewer samples or a smaller network.")
    return {"vary": compare["vary"], "value": compare["value"], "rates": [float(r) for r in rates],
            "runs": 2 * len(rates), "work": work}


def run_sweep(config: RunConfig, plan: dict, progress: Callable[[int, int], None] | None = None,
              data: Dataset | None = None) -> dict:
    """Train the plan's sweep (seconds to minutes: run it as a job) and keep what the views draw.

    Returns
    -------
    dict, JSON-able: ``rates`` (R,), ``steps`` (S,), and per run (``runs``: A then B) its
    ``label``, ``final_loss`` (R,; None where it diverged), ``status`` (R,), ``best`` (an index),
    ``best_rate``, ``loss`` and ``metric`` (S,): the curves at its best rate, ``final_metric``
    and ``test_metric`` there; ``metric`` names the metric ("accuracy" or "R²").
    """
    a, b = lossviz.compare_lr_sweep(config, plan["vary"], plan["value"], plan["rates"], progress=progress,
                                    data=data)
    runs = []
    for sweep in (a, b):
        i = sweep.best
        runs.append({"label": setting_label(plan["vary"], getattr(sweep.config, plan["vary"])),
                     "final_loss": [float(v) if math.isfinite(v) else None for v in sweep.final_loss],
                     "status": list(sweep.status), "best": i, "best_rate": sweep.best_rate,
                     "loss": _json(sweep.loss[i]), "metric": _json(sweep.metric[i]),
                     "final_metric_by_rate": _json(sweep.metric[:, -1]),
                     "final_metric": float(sweep.metric[i, -1]), "test_metric": float(sweep.test_metric[i])})
    task = lossviz.Trainer(config, data=data).data.task
    return {"rates": [float(r) for r in a.rates], "steps": [int(s) for s in a.steps], "runs": runs,
            "metric": metric_name(task), "vary": plan["vary"]}


def shared_measure(result: dict) -> bool:
    """True when A and B train different losses: their loss values are in different units, so
    the figures draw the measure they share (accuracy or R²) instead."""
    return result.get("vary") == "loss"


def _json(values: np.ndarray) -> list:
    return [float(v) if math.isfinite(v) else None for v in values]


def rate_figure(result: dict) -> Figure:
    """Each run's final training loss against the learning rate (log-log), its best rate (the
    lowest final loss of its own) a large marker, a diverged rate a cross along the top; when A
    and B train different losses, their final training metric instead (shared_measure), crosses
    along the bottom. Trace 2i is run i's line, 2i + 1 its marks."""
    rates, data, shared = result["rates"], [], shared_measure(result)
    key = "final_metric_by_rate" if shared else "final_loss"
    finite = [v for r in result["runs"] for v in r[key] if v is not None]
    if not finite:
        return message_figure("Every learning rate of the sweep diverged: lower the page's rate.", RATES_TITLE)
    top = (min(0.0, min(finite)) if shared else max(finite) * 3)  # where a diverged rate's cross goes
    what = f"final training {result['metric']}" if shared else "final training loss"
    for i, run in enumerate(result["runs"]):
        name = f"{'AB'[i]}: {run['label']}"
        data.append({"type": "scatter", "mode": "lines+markers", "x": rates, "y": run[key], "name": name,
                     "line": {"color": RUN_COLOURS[i], "dash": RUN_DASHES[i]}, "marker": {"size": 6},
                     "hovertemplate": "lr %{x:g}: " + what + " %{y:.3g}<extra>" + name + "</extra>"})
        best = run["best"]
        crosses = [k for k, s in enumerate(run["status"]) if s == "diverged"]
        data.append({"type": "scatter", "mode": "markers", "showlegend": False,
                     "x": [rates[best]] + [rates[k] for k in crosses],
                     "y": [run[key][best]] + [top] * len(crosses),
                     "marker": {"color": RUN_COLOURS[i], "size": [14] + [10] * len(crosses),
                                "symbol": ["star"] + ["x"] * len(crosses)},
                     "hovertemplate": [f"best rate {rates[best]:g}"] + ["diverged"] * len(crosses)})
    yaxis = {"title": {"text": what}, **({} if shared else {"type": "log"})}
    title = f"Final training {result['metric']} by rate (★ best)" if shared else RATES_TITLE
    return _with_look(data, title, xaxis={"type": "log", "title": {"text": "learning rate"}}, yaxis=yaxis,
                      legend={"orientation": "h", "y": -0.25})


def best_curves_figure(result: dict) -> Figure:
    """Each run's training loss along the run at its own best rate, A and B on shared axes: how
    fast each gets there when each is tuned (their training metric when A and B train different
    losses: shared_measure). Trace i is run i."""
    data, shared = [], shared_measure(result)
    key, what = ("metric", f"training {result['metric']}") if shared else ("loss", "training loss")
    for i, run in enumerate(result["runs"]):
        name = f"{'AB'[i]}: {run['label']}, lr {run['best_rate']:g}"
        data.append({"type": "scatter", "mode": "lines", "x": result["steps"], "y": run[key], "name": name,
                     "line": {"color": RUN_COLOURS[i], "dash": RUN_DASHES[i]},
                     "hovertemplate": "step %{x}: " + what + " %{y:.3g}<extra>" + name + "</extra>"})
    return _with_look(data, CURVES_TITLE, xaxis={"title": {"text": "step"}},
                      yaxis={"title": {"text": what}, **({} if shared else {"type": "log"})},
                      legend={"orientation": "h", "y": -0.25})


def summary(result: dict, target: float | None = None) -> str:
    """One line per run in words: its best rate, its final training (and test) metric there, and,
    with ``target``, the first step its training metric reached it."""
    lines, percent = [], result["metric"] == "accuracy"
    show = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.3f}")
    for i, run in enumerate(result["runs"]):
        words = (f"{'AB'[i]} ({run['label']}): best rate {run['best_rate']:g} of "
                 f"{', '.join(f'{r:g}' for r in result['rates'])}; training {result['metric']} "
                 f"{show(run['final_metric'])}, test {show(run['test_metric'])}")
        if run["best"] in (0, len(result["rates"]) - 1):
            words += (f"; its best is the sweep's {'lowest' if run['best'] == 0 else 'highest'} rate, "
                      f"so a rate {'below' if run['best'] == 0 else 'above'} it may do better still")
        if target is not None:
            hits = [s for s, m in zip(result["steps"], run["metric"]) if m is not None and m >= target]
            words += f"; {show(target)} at step {hits[0]}" if hits else f"; never {show(target)}"
        lines.append(words)
    return "\n".join(lines)


def default_rates(config: RunConfig) -> Sequence[float]:
    """The rates the option sweeps for these settings: ``SWEEP_RATES`` of them around its rate."""
    return [float(r) for r in sweep_rates(config.lr, SWEEP_RATES)]

