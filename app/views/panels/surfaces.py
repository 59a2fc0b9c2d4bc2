"""The "Surfaces" view's numbers and figures (pure functions): the accuracy surface beside the
loss surface on one grid, train and test loss as contour lines over the same plane (where does
the test minimum sit?), the straight line from the initial weights to now, and the convexity
map |λmin/λmax| (Li et al. 2018, Fig. 7) computed in parts.
"""

from __future__ import annotations

import math

import numpy as np

import lossviz
from lossviz.convexity import convexity_map

from .. import figures
from ...runs.run import RunView

Array = np.ndarray
LINE_TS = np.linspace(-0.25, 1.25, 61)
CONVEXITY_WORK = 2e7  # parameters x training points: bigger networks get no convexity map
TRAIN, TEST = figures.TRAIN_COLOUR, figures.TEST_COLOUR
RUN_B = "#CC79A7"  # run B's colour in the "why" view too (Okabe-Ito purple)


def test_surface(run: RunView, view: dict) -> Array:
    """The run's own loss on its test points over the landscape's plane (Ga, Gb)."""
    c = run.config
    with np.errstate(all="ignore"):
        return lossviz.surface(view["center"], view["d1"], view["d2"], view["alphas"], view["betas"],
                               run.data.X_test, run.data.y_test, layer_sizes=run.net.layer_sizes,
                               activation=c.activation, loss=c.loss, huber_delta=c.huber_delta,
                               label_smoothing=c.label_smoothing)


def init_to_now(run: RunView) -> dict:
    """Loss and accuracy (or R²) on both splits along θ(t) = θ_init + t (θ_now − θ_init), t in
    [−0.25, 1.25]: ts (T,), loss {train, test} (T,), metric {train, test} (T,)."""
    c, d = run.config, run.data
    start = run.trajectory[0]
    kw = dict(layer_sizes=run.net.layer_sizes, activation=c.activation, loss=c.loss, huber_delta=c.huber_delta,
              label_smoothing=c.label_smoothing)
    out = {"ts": LINE_TS, "loss": {}, "metric": {}}
    with np.errstate(all="ignore"):
        step = run.params - start
        for split, X, y in (("train", d.X_train, d.y_train), ("test", d.X_test, d.y_test)):
            z, m = lossviz.surface_with_metric(start, step, np.zeros_like(step), LINE_TS, [0.0], X, y,
                                               dtype=np.float64, **kw)
            out["loss"][split], out["metric"][split] = z[:, 0], m[:, 0]
    return out


def convexity_grid(grid: int) -> int:
    """The convexity map's points per axis: a low-resolution map (at most 21)."""
    return min(21, max(5, grid // 2 | 1))


def convexity_rows(run: RunView, view: dict, grid: int, done: dict, budget_rows: int) -> dict:
    """Compute up to ``budget_rows`` more rows of the convexity map over the view's plane;
    ``done`` holds {"alphas", "betas", "ratio", "lambda_min", "lambda_max", "rows_done"}."""
    if not done:
        alphas = np.linspace(view["alphas"][0], view["alphas"][-1], grid)
        betas = np.linspace(view["betas"][0], view["betas"][-1], grid)
        nan = np.full((grid, grid), np.nan)
        done = {"alphas": alphas, "betas": betas, "ratio": nan, "lambda_min": nan.copy(),
                "lambda_max": nan.copy(), "rows_done": 0}
    start = done["rows_done"]
    rows = list(range(start, min(start + budget_rows, len(done["alphas"]))))
    if rows:
        c = run.config
        part = convexity_map(view["center"], view["d1"], view["d2"], done["alphas"], done["betas"],
                             run.data.X_train, run.data.y_train, layer_sizes=run.net.layer_sizes,
                             activation=c.activation, loss=c.loss, huber_delta=c.huber_delta,
                             label_smoothing=c.label_smoothing, rows=rows)
        done = dict(done)
        for key in ("ratio", "lambda_min", "lambda_max"):
            done[key] = done[key].copy()
            done[key][rows] = part[key][rows]
        done["rows_done"] = rows[-1] + 1
    return done


# --- figures -----------------------------------------------------------------------------

def loss_and_accuracy_figure(view: dict, log_z: bool = False) -> figures.Figure:
    """Loss (left) and accuracy or R² (right) over one grid, the path on both."""
    a, b, path = view["alphas"], view["betas"], np.asarray(view["path"]).reshape(-1, 2)
    label = view.get("metric_label", "accuracy")
    data = [dict(type="contour", x=figures._floats(a), y=figures._floats(b),
                 z=figures.loss_for_display(view["z"], log_z).T.tolist(), colorscale=figures.VIRIDIS,
                 ncontours=20, xaxis="x", yaxis="y", name="loss",
                 colorbar=dict(title=dict(text="log10 loss" if log_z else "loss"), x=0.37, thickness=10, nticks=4),
                 hovertemplate="α %{x:.3f}<br>β %{y:.3f}<br>loss %{z:.4g}<extra></extra>"),
            dict(type="contour", x=figures._floats(a), y=figures._floats(b),
                 z=_finite_rows(np.asarray(view["metric"]).T), colorscale="RdBu", ncontours=20,
                 xaxis="x2", yaxis="y2", name=label, colorbar=dict(title=dict(text=label), x=1.0, thickness=10, nticks=4),
                 hovertemplate="α %{x:.3f}<br>β %{y:.3f}<br>" + label + " %{z:.3f}<extra></extra>")]
    for axis in ("", "2"):
        data.append(dict(type="scatter", x=path[:, 0].tolist(), y=path[:, 1].tolist(), mode="lines", name="path",
                         line=dict(color="white", width=2), xaxis="x" + axis, yaxis="y" + axis, showlegend=False))
    return figures._figure(data, f"Loss and {label} over one plane", showlegend=False,
                           margin=dict(l=50, r=20, t=44, b=40),
                           xaxis=dict(domain=[0, 0.33], title=dict(text=figures.ALPHA_TITLE)),
                           yaxis=dict(title=dict(text=figures.BETA_TITLE)),
                           xaxis2=dict(domain=[0.55, 0.88], title=dict(text=figures.ALPHA_TITLE), anchor="y2"),
                           yaxis2=dict(anchor="x2", matches="y", showticklabels=False))


def train_test_figure(view: dict, z_test: Array) -> figures.Figure:
    """Train and test loss as contour lines over one plane, each minimum marked: the gap between
    the two minima is how far what fits the training points is from what generalizes."""
    a, b = np.asarray(view["alphas"]), np.asarray(view["betas"])
    data = []
    for name, z, colour in (("train loss", np.asarray(view["z"]), TRAIN), ("test loss", z_test, TEST)):
        data.append(dict(type="contour", x=figures._floats(a), y=figures._floats(b), z=_finite_rows(z.T),
                         # values written on the train lines only: two sets of labels ran into each other
                         contours=dict(coloring="lines", showlabels=name == "train loss",
                                       labelfont=dict(size=10, color=colour)),
                         line=dict(width=1.5, color=colour), ncontours=14, showscale=False, name=name,
                         colorscale=[[0, colour], [1, colour]],
                         hovertemplate=f"{name} %{{z:.4g}}<extra></extra>"))
        if np.isfinite(z).any():
            i, j = np.unravel_index(np.nanargmin(np.where(np.isfinite(z), z, np.nan)), z.shape)
            data.append(dict(type="scatter", x=[float(a[i])], y=[float(b[j])], mode="markers",
                             name=f"{name} minimum", marker=dict(size=13, color=colour, symbol="star",
                                                                   line=dict(width=1, color="black"))))
    path = np.asarray(view["path"]).reshape(-1, 2)
    data.append(dict(type="scatter", x=[float(path[-1, 0])], y=[float(path[-1, 1])], mode="markers", name="now",
                     marker=dict(size=12, color="#E69F00", symbol="x", line=dict(width=2, color="black"))))
    return figures._figure(data, "Train vs test loss over the plane", **figures._fresh(figures._BELOW),
                           xaxis=dict(title=dict(text=figures.ALPHA_TITLE)),
                           yaxis=dict(title=dict(text=figures.BETA_TITLE)))


def init_line_figure(line: dict, metric_label: str, other: dict | None = None) -> figures.Figure:
    """Loss (top) and accuracy or R² (bottom), train and test, from the initial weights (t = 0)
    to the weights now (t = 1) along the straight line. ``other``: run B's line in compare mode,
    its training split drawn beside A's (each run from its own start to its own weights)."""
    data = []
    runs = [("A: " if other else "", line, (("train", TRAIN), ("test", TEST)))]
    if other:
        runs.append(("B: ", other, (("train", RUN_B),)))
    for row, key, axis in ((1, "loss", ""), (2, "metric", "2")):
        for who, ln, splits in runs:
            for split, colour in splits:
                name = who + split
                data.append(dict(type="scatter", x=figures._floats(ln["ts"]), y=figures._floats_or_none(ln[key][split]),
                                 mode="lines", name=name, legendgroup=name, showlegend=row == 1,
                                 line=dict(color=colour, width=2.5, dash="dash" if split == "test" else
                                           "dot" if who == "B: " else "solid"),
                                 xaxis="x" + axis, yaxis="y" + axis))
    marks = [dict(type="line", xref="x2", yref="paper", x0=t, x1=t, y0=0, y1=1,
                  line=dict(color="#999", width=1, dash="dot")) for t in (0.0, 1.0)]
    notes = [dict(x=t, y=1.0, xref="x2", yref="paper", text=text, showarrow=False, yanchor="bottom",
                  font=dict(size=12)) for t, text in ((0.0, "init"), (1.0, "now"))]
    loss_axis = dict(anchor="x", domain=[0.55, 1.0], title=dict(text="loss"), nticks=4)
    if other:  # two runs: the loss axis spans t in [0, 1], where the lines are (not the extrapolated ends)
        inside = (np.asarray(line["ts"]) >= 0) & (np.asarray(line["ts"]) <= 1)
        vals = np.concatenate([np.asarray(ln["loss"][s], float)[inside] for _, ln, sp in runs for s, _ in sp])
        vals = vals[np.isfinite(vals)]
        if vals.size:
            # a flat line (the weights have not moved yet) still gets an axis of some height
            pad = 0.05 * max(float(vals.max() - vals.min()), float(np.abs(vals).max()), 1e-6)
            loss_axis["range"] = [float(vals.min()) - pad, float(vals.max()) + pad]
    title = "Init → now, each run" if other else "Init → now, along a straight line"
    # The title on the figure's top edge, "init" and "now" on a line of their own under it
    fig = figures._figure(data, title, shapes=marks,
                           annotations=notes, margin=dict(l=60, r=20, t=figures.NOTES_UNDER_TITLE_TOP, b=40),
                           # inside the loss row's top right (the loss has fallen there), under the
                           # "init" and "now" notes above the plot
                           legend=dict(orientation="h", y=1.0, yanchor="top", x=1.0, xanchor="right",
                                       bgcolor="rgba(255,255,255,0.75)"),
                           xaxis=dict(anchor="y", domain=[0, 1], matches="x2", showticklabels=False),
                           yaxis=loss_axis,
                           xaxis2=dict(anchor="y2", domain=[0, 1], title=dict(text="t  (0: initial weights, 1: now)")),
                           yaxis2=dict(anchor="x2", domain=[0, 0.45], title=dict(text=metric_label), nticks=3))
    fig["layout"]["title"].update(figures._fresh(figures.TITLE_ON_TOP))
    return fig


def convexity_figure(done: dict | None, path: Array | None = None) -> figures.Figure:
    """|λmin/λmax| over the plane (NaN rows not computed yet): dark is locally convex."""
    if not done:
        return figures.message_figure("Press “Compute convexity map”:<br>|λmin/λmax| at each point<br>"
                                      "of a coarse grid (Li et al. 2018, Fig. 7)", "Convexity map")
    ratio = np.asarray(done["ratio"])
    data = [dict(type="heatmap", x=figures._floats(done["alphas"]), y=figures._floats(done["betas"]),
                 z=_finite_rows(ratio.T), colorscale="Cividis", zmin=0.0,
                 zmax=float(max(0.1, np.nanmax(ratio))) if np.isfinite(ratio).any() else 1.0,
                 colorbar=dict(title=dict(text="|λmin/λmax|"), thickness=12),
                 customdata=_finite_rows(np.asarray(done["lambda_min"]).T),
                 hovertemplate="α %{x:.2f}, β %{y:.2f}<br>|λmin/λmax| %{z:.3g}<br>λmin %{customdata:.3g}"
                               "<extra></extra>")]
    if path is not None:
        p = np.asarray(path).reshape(-1, 2)
        data.append(dict(type="scatter", x=p[:, 0].tolist(), y=p[:, 1].tolist(), mode="lines", name="path",
                         line=dict(color="white", width=2)))
    return figures._figure(data, "Convexity map: |λmin/λmax| (dark: locally convex)", showlegend=False,
                           xaxis=dict(title=dict(text=figures.ALPHA_TITLE)),
                           yaxis=dict(title=dict(text=figures.BETA_TITLE)))


def _finite_rows(z: Array) -> list:
    return [[float(v) if math.isfinite(v) else None for v in row] for row in np.asarray(z, dtype=float)]
