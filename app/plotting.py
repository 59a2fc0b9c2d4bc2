"""Plotly figures for a notebook, without the app: a loss surface with the optimizer's path on
it, and the learning curves.

It lives beside the app's own figure builders because it is front-end code (the engine,
``lossviz``, imports no plotting library); plotly is imported inside the functions. Each function takes a run from :func:`lossviz.load`, or plain arrays — from
:func:`lossviz.surface` and :func:`lossviz.trajectory_on_plane`, or from :func:`lossviz.train`'s
snapshots — and returns a ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Array = np.ndarray
KINDS = ("contour", "3d")
COLORS = ("#d62728", "#1f77b4")  # run A, run B


def plot_surface(surface: Any, alphas: Sequence[float] | None = None, betas: Sequence[float] | None = None,
                 path: Any = None, path_loss: Sequence[float] | None = None, *, kind: str = "contour",
                 log_z: bool = False, title: str | None = None) -> Any:
    """The loss over a plane, with the optimizer's path drawn on it.

    Parameters
    ----------
    surface : a run from :func:`lossviz.load` (its surface, path and, in a comparison, run B's
        path too), or a (G_a, G_b) array ``z[i, j]`` = loss at (alphas[i], betas[j])
    alphas, betas : (G_a,), (G_b,) the grid's coordinates (arrays only)
    path : (T, 2) (alpha, beta) of each step, or the pair ``(coords, losses)`` that
        :func:`lossviz.trajectory_on_plane` returns; None draws no path
    path_loss : (T,) the loss along the path (the 3-D path's height; read off the surface if None)
    kind : "contour" (2-D, the path as a line with its start and end marked) or "3d"
    log_z : draw log10 of the loss (losses near 0 show their shape)

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    z, alphas, betas, paths, title = _surface_parts(surface, alphas, betas, path, path_loss, title)
    shown = np.log10(np.maximum(z, 1e-12)) if log_z else z
    label = "log10 loss" if log_z else "loss"
    fig = go.Figure()
    if kind == "contour":
        fig.add_trace(go.Contour(x=alphas, y=betas, z=shown.T, colorscale="Viridis", name="surface",
                                 colorbar={"title": {"text": label}}, ncontours=30))
    else:
        fig.add_trace(go.Surface(x=alphas, y=betas, z=shown.T, colorscale="Viridis", name="surface",
                                 colorbar={"title": {"text": label}}, opacity=0.9))
    for (name, coords, heights), color in zip(paths, COLORS):
        heights = _bilinear(z, alphas, betas, coords) if heights is None else np.asarray(heights, float)
        _add_path(fig, go, kind, name, coords, np.log10(np.maximum(heights, 1e-12)) if log_z else heights,
                  color)
    axes = {"xaxis": {"title": {"text": "α (direction 1)"}}, "yaxis": {"title": {"text": "β (direction 2)"}}}
    if kind == "3d":
        fig.update_layout(scene={**{k: v for k, v in axes.items()}, "zaxis": {"title": {"text": label}}})
    else:
        fig.update_layout(**axes)
    fig.update_layout(title={"text": title}, height=520, legend={"orientation": "h"})
    return fig


def _surface_parts(surface: Any, alphas, betas, path, path_loss, title):
    """(z, alphas, betas, [(name, coords (T, 2), heights (T,) or None)], title) from a run or arrays."""
    if hasattr(surface, "surface") and hasattr(surface, "path"):  # a Run from lossviz.load
        run = surface
        paths = [("path A" if run.b is not None else "path", run.path, run.path_loss)]
        if run.b is not None:  # run B's path, on run A's surface (both share the plane)
            paths.append(("path B", run.b.path, None))
        s = run.settings
        title = title or f"{s.get('loss')} loss, {s.get('optimizer')} lr {s.get('lr')} ({run.directions} plane)"
        return _grid(run.surface, run.alphas, run.betas) + (paths, title)
    if alphas is None or betas is None:
        raise ValueError("plot_surface: give alphas and betas with a surface array (or pass a loaded run)")
    paths = []
    if path is not None:
        if isinstance(path, tuple) and len(path) == 2 and np.ndim(path[0]) == 2:  # trajectory_on_plane
            path, path_loss = path
        coords = np.asarray(path, float)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"plot_surface: path must have shape (T, 2), got {coords.shape}")
        if path_loss is not None and np.shape(path_loss) != (len(coords),):
            raise ValueError(f"plot_surface: path_loss must have shape ({len(coords)},), got {np.shape(path_loss)}")
        paths.append(("path", coords, path_loss))
    return _grid(surface, alphas, betas) + (paths, title or "loss surface")


def _grid(z: Any, alphas: Any, betas: Any) -> tuple[Array, Array, Array]:
    z, alphas, betas = np.asarray(z, float), np.asarray(alphas, float), np.asarray(betas, float)
    if z.shape != (len(alphas), len(betas)):
        raise ValueError(f"plot_surface: surface must have shape (len(alphas), len(betas)) = "
                         f"({len(alphas)}, {len(betas)}), got {z.shape}")
    return z, alphas, betas


def _add_path(fig: Any, go: Any, kind: str, name: str, coords: Array, heights: Array, color: str) -> None:
    """The path as a line, its start as a circle and its end as a cross."""
    ends = {"mode": "markers", "showlegend": False}
    if kind == "contour":
        fig.add_trace(go.Scatter(x=coords[:, 0], y=coords[:, 1], mode="lines", name=name,
                                 line={"color": color, "width": 2}))
        fig.add_trace(go.Scatter(x=coords[[0, -1], 0], y=coords[[0, -1], 1], name=f"{name} start/end",
                                 marker={"color": color, "size": 10, "symbol": ["circle-open", "x"]}, **ends))
    else:
        fig.add_trace(go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=heights, mode="lines", name=name,
                                   line={"color": color, "width": 5}))
        fig.add_trace(go.Scatter3d(x=coords[[0, -1], 0], y=coords[[0, -1], 1], z=heights[[0, -1]],
                                   name=f"{name} start/end",
                                   marker={"color": color, "size": 4, "symbol": ["circle-open", "x"]}, **ends))


def _bilinear(z: Array, alphas: Array, betas: Array, coords: Array) -> Array:
    """The surface read at each (alpha, beta) of ``coords`` (T, 2), clamped to the grid."""
    def cell(axis: Array, v: Array) -> tuple[Array, Array]:
        i = np.clip(np.searchsorted(axis, v) - 1, 0, len(axis) - 2)
        t = np.clip((v - axis[i]) / (axis[i + 1] - axis[i]), 0.0, 1.0)
        return i, t

    (i, s), (j, t) = cell(alphas, coords[:, 0]), cell(betas, coords[:, 1])
    return ((1 - s) * (1 - t) * z[i, j] + s * (1 - t) * z[i + 1, j]
            + (1 - s) * t * z[i, j + 1] + s * t * z[i + 1, j + 1])


def plot_curves(run: Any, *, log_loss: bool = False, title: str | None = None) -> Any:
    """Training and test loss (top) and accuracy or R² (bottom) against the step.

    Parameters
    ----------
    run : a run from :func:`lossviz.load` (run B dashed in a comparison), a mapping of equal-length
        arrays ``step``, ``train_loss``, ``test_loss`` and optionally ``train_metric``,
        ``test_metric``, or the snapshots :func:`lossviz.train` yields (a list of Snapshot)
    log_loss : a log scale for the loss axis

    Returns
    -------
    plotly.graph_objects.Figure with one trace per curve, named like "train loss", "test accuracy"
    (with "A "/"B " before them in a comparison)
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = _curve_sets(run)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("loss", runs[0][2]))
    for (name, curves, metric), color in zip(runs, COLORS):
        for split, dash in (("train", "solid"), ("test", "dot")):
            for row, what, words in ((1, "loss", "loss"), (2, "metric", metric)):
                key = f"{split}_{what}"
                if key in curves:
                    fig.add_trace(go.Scatter(x=curves["step"], y=curves[key], mode="lines",
                                             name=f"{name} {split} {words}".strip(),
                                             line={"color": color, "dash": dash}), row=row, col=1)
    fig.update_yaxes(type="log" if log_loss else "linear", row=1, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_layout(title={"text": title or "learning curves"}, height=520)
    return fig


def _curve_sets(run: Any) -> list[tuple[str, Mapping[str, Any], str]]:
    """[(name, curves, metric name)] for run A (and run B) of a run, a mapping or snapshots."""
    if hasattr(run, "curves") and hasattr(run, "task"):  # a Run from lossviz.load
        metric = "accuracy" if run.task == "classification" else "R²"
        if run.b is None:
            return [("", run.curves, metric)]
        return [("A", run.curves, metric), ("B", run.b.curves, metric)]
    if isinstance(run, Mapping):
        if "step" not in run or "train_loss" not in run:
            raise ValueError("plot_curves: a mapping needs 'step' and 'train_loss' arrays")
        return [("", run, "metric")]
    snaps = list(run)
    if not snaps or not all(hasattr(s, "step") and hasattr(s, "train_loss") for s in snaps):
        raise ValueError("plot_curves: give a loaded run, a mapping of curves or lossviz.train's snapshots")
    keys = ("step", "train_loss", "test_loss", "train_metric", "test_metric")
    curves = {k: np.array([getattr(s, k) for s in snaps], dtype=float) for k in keys}
    metric = "accuracy" if getattr(snaps[0], "task", "classification") == "classification" else "R²"
    return [("", curves, metric)]
