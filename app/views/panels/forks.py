"""Forked runs and the loss barrier between them (Frankle et al. 2020), as numbers and a figure.

``measure`` trains a run's settings from its start, forks it at a few steps k into two copies that
differ only in their minibatch order (``lossviz.connectivity.fork_barriers``) and returns plain
arrays; ``barrier_figure`` draws them: the loss along the straight line between each pair's final
weights (one line per k), and the barrier against k. Pure: no dash.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.views.figures import Figure, message_figure
from app.views.figures import _figure as _with_look  # the shared look: title, fonts, template, kept zoom
from lossviz import RunConfig
from lossviz.connectivity import fork_barriers

TITLE = "Forked runs: the loss on the straight line between them"
FORK_POINTS = 21  # points along each line
MAX_FORKS = 4
MAX_FORK_WORK = 4e9  # parameters × training rows × steps trained by all forks (a few seconds)
K_COLOURS = ("#0072B2", "#56B4E9", "#E69F00", "#D55E00")  # Okabe-Ito, early fork blue → late fork red


def fork_steps(total_steps: int, forks: int = MAX_FORKS) -> list[int]:
    """``forks`` fork steps from 0 to half the run, whole and distinct: [0, T/6, T/3, T/2]."""
    ks = np.unique(np.round(np.linspace(0, total_steps / 2, forks)).astype(int))
    return [int(k) for k in ks]


def too_costly(n_params: int, n_train: int, total_steps: int, batch_size: int, forks: int = MAX_FORKS) -> str:
    """Why forking this run is not done here, or "" when it is."""
    rows = min(batch_size, n_train) if batch_size else n_train
    work = 2.0 * forks * n_params * rows * total_steps
    if work > MAX_FORK_WORK:
        return (f"Forking trains {2 * forks} copies of this run: up to {MAX_FORK_WORK:.0e} parameters × rows × "
                f"steps here, this one needs {work:.1e}. Try fewer epochs, samples or weights.")
    return ""


def measure(config: RunConfig, total_steps: int, data=None) -> dict[str, Any]:
    """Fork ``config`` at :func:`fork_steps` and measure each pair's line (see module doc).

    Returns
    -------
    {"ks": (F,) int, "ts": (T,), "losses": (F, T), "barriers": (F,), "ends": (F, 2)} as lists
    """
    out = fork_barriers(config, fork_steps(total_steps), points=FORK_POINTS, data=data)
    return {"ks": [f.k for f in out], "ts": out[0].line.ts.tolist(),
            "losses": [f.line.losses.tolist() for f in out], "barriers": [f.line.barrier for f in out],
            "ends": [[float(f.line.losses[0]), float(f.line.losses[-1])] for f in out]}


def barrier_figure(result: dict[str, Any] | None) -> Figure:
    """Row 1: the loss against t for each fork step k (t = 0: copy 1's final weights, t = 1: copy
    2's); row 2: the barrier (the most the line rises above the chord between its ends) against k.
    A message figure without a result."""
    if not result:
        return message_figure("Press “Fork and measure” to train forked copies of this run.", TITLE)
    ks, ts = result["ks"], result["ts"]
    data = []
    for i, (k, losses) in enumerate(zip(ks, result["losses"])):
        colour = K_COLOURS[i % len(K_COLOURS)]
        data.append(dict(type="scatter", x=ts, y=losses, mode="lines", name=f"forked at step {k}",
                         line=dict(color=colour, width=3), xaxis="x", yaxis="y",
                         hovertemplate=f"t %{{x:.2f}}<br>loss %{{y:.4g}}<extra>forked at step {k}</extra>"))
    data.append(dict(type="scatter", x=ks, y=result["barriers"], mode="lines+markers", name="barrier",
                     line=dict(color="#555555", width=2), marker=dict(size=9, color=list(K_COLOURS[:len(ks)])),
                     xaxis="x2", yaxis="y2", showlegend=False,
                     hovertemplate="forked at step %{x}<br>barrier %{y:.4g}<extra></extra>"))
    return _with_look(data, TITLE, legend=dict(orientation="h", x=0.0, y=-0.22, yanchor="top", font=dict(size=13)),
                      margin=dict(l=60, r=20, t=44, b=80),
                      xaxis=dict(domain=[0.0, 0.58], title=dict(text="t along the line (copy 1 → copy 2)")),
                      yaxis=dict(title=dict(text="training loss")),
                      xaxis2=dict(domain=[0.70, 1.0], anchor="y2", title=dict(text="fork step k")),
                      yaxis2=dict(anchor="x2", title=dict(text="barrier"), rangemode="tozero"))
