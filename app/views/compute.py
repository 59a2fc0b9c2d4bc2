"""What the plots show, computed by the engine: landscape planes and data views of a run.

Each function takes a run (or its parts) and returns plain arrays; the callbacks hand those to
the figure builders. Costly results are cached by the callbacks under their inputs' key.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import lossviz
from lossviz.losses import softmax

from . import framing
from ..runs.run import RunView

Array = np.ndarray
DIRECTION_MODES = ("random", "pca")
DATA_GRID = 90
SURFACE_BUDGET_MACS = 2e10  # about half a second of float32 work on two cores
MIN_POINTS = 256
MAX_SHOWN = 2000  # data points drawn in the data plot


SURFACES = {"train": "its training loss", "mse": "MSE", "cross_entropy": "cross-entropy", "huber": "Huber",
            "metric": "accuracy / R²"}  # what a landscape may show over its plane ("surface of")


def surface_loss(run: RunView, of: str) -> tuple[str, str]:
    """(loss drawn, its label) for a landscape of ``of`` (see SURFACES): the run's own loss, a
    yardstick loss (cross-entropy only for classes), or "metric" (accuracy or R²)."""
    if of == "metric":
        return run.config.loss, _metric_label(run)
    if of in ("mse", "huber") or (of == "cross_entropy" and run.data.task == "classification"):
        return of, lossviz.LOSSES[of].label.lower() if of != "mse" else "MSE"
    return run.config.loss, "loss"


# The planes a single run's landscape may lie in (URL key ``plane``), in the words the page uses.
PLANES = {"random": "Random directions", "pca": "Path (PCA) plane", "hessian": "Hessian eigenvectors",
          "init_final": "Init → now"}
NORMALIZATIONS = {"filter": "filter-normalized", "layer": "layer-normalized", "none": "not normalized"}
HESSIAN_PLANE_WORK = 2e7  # parameters x training points: bigger networks get no eigenvector plane live


def landscape(run: RunView, grid: int, span: float, mode: str = "random", of: str = "train",
              norm: str = "filter") -> dict:
    """Loss over a plane through the current weights, with the path projected onto it.

    mode "random": two Gaussian directions (seeded by the run's seed) normalized per filter,
    per layer or not at all (``norm``), alpha, beta in [-span, span]. "pca": the top two
    principal directions of the path, the grid sized to hold the whole path. "hessian": the
    Hessian's top two eigenvectors at the current weights (unit length), in [-span, span].
    "init_final": direction 1 from the current weights back to the initial ones (α = −1 is the
    start), direction 2 a filter-normalized random direction orthogonal to it, of the same length.

    Returns a dict: alphas (Ga,), betas (Gb,), z (Ga, Gb), path (T, 2), path_loss (T,),
    offplane (T,) each path point's distance from the plane (in weight units) and relative to its
    distance from the centre, explained (2,) (PCA only, else NaN), mode (the plane drawn), note.
    """
    tr = run
    center, traj = tr.params.copy(), tr.trajectory
    d1, d2, alphas, betas, explained, mode, note = _plane(tr, center, traj, grid, span, mode, norm)
    path = lossviz.project_trajectory(traj, center, d1, d2)
    if mode in ("pca", "init_final"):
        alphas, betas = _axes_around(path, grid, square=mode == "init_final")
    drawn_loss, z_label = surface_loss(tr, of)
    kw = dict(layer_sizes=tr.net.layer_sizes, activation=tr.config.activation,
              loss=drawn_loss, huber_delta=tr.config.huber_delta,
              label_smoothing=tr.config.label_smoothing)
    n_use, grid_use = live_budget(tr.net.layer_sizes, tr.data.X_train.shape[0], grid)
    if grid_use < grid:
        alphas, betas = np.linspace(alphas[0], alphas[-1], grid_use), np.linspace(betas[0], betas[-1], grid_use)
    rows = np.sort(np.random.default_rng(tr.config.seed).permutation(tr.data.X_train.shape[0])[:n_use])
    X, y = tr.data.X_train[rows], tr.data.y_train[rows]
    with np.errstate(all="ignore"):
        z, metric = lossviz.surface_with_metric(center, d1, d2, alphas, betas, X, y, **kw)
        path_loss = lossviz.trajectory_losses(path, center, d1, d2, X, y, **kw)
    if of == "metric":  # the yardstick itself over the plane (the path drawn at its loss's height)
        z = metric
    offplane, relative = off_plane(traj, center, d1, d2, path)
    return dict(alphas=alphas, betas=betas, z=z, metric=metric, path=path, path_loss=path_loss, z_label=z_label,
                explained=explained, mode=mode, n_points=n_use, n_train=tr.data.X_train.shape[0],
                grid=grid_use, grid_asked=grid, center=center, d1=d1, d2=d2, metric_label=_metric_label(tr),
                offplane=offplane, offplane_relative=relative, note=note, norm=norm)


def _plane(run: RunView, center: Array, traj: Array, grid: int, span: float, mode: str, norm: str):
    """(d1, d2, alphas, betas, explained, the plane drawn, a note) for ``landscape``; a plane that
    cannot be drawn yet falls back to random directions, and the note says why."""
    explained, note = np.full(2, np.nan), ""
    axis = lossviz.landscape.grid_axis(grid, span)
    if mode == "pca" and len(traj) < 3:
        mode, note = "random", "The path (PCA) plane needs a path: train a few steps first."
    if mode == "pca":
        d1, d2, explained = lossviz.pca_directions(traj)
        return d1, d2, axis, axis, explained, mode, note
    if mode == "hessian":
        if run.net.n_params * run.data.X_train.shape[0] > HESSIAN_PLANE_WORK:
            mode, note = "random", ("The Hessian's eigenvectors are computed live for smaller networks "
                                    "(parameters × training points up to 2e7): random directions instead.")
        else:
            with np.errstate(all="ignore"):
                values, vectors = lossviz.hessian_eigs(center, run.data.X_train, run.data.y_train, k=2,
                                                       layer_sizes=run.net.layer_sizes, tol=1e-6,
                                                       activation=run.config.activation, loss=run.config.loss,
                                                       huber_delta=run.config.huber_delta,
                                                       label_smoothing=run.config.label_smoothing)
            note = (f"Directions 1 and 2 are the Hessian's top eigenvectors here (unit length): the loss curves "
                    f"most along them, λ1 = {values[0]:.4g}, λ2 = {values[1]:.4g}.")
            return vectors[:, 0].copy(), vectors[:, 1].copy(), axis, axis, explained, mode, note
    if mode == "init_final":
        back = traj[0] - center
        length = float(np.linalg.norm(back))
        if length == 0:
            mode, note = "random", "Init → now needs the weights to have moved: train a few steps first."
        else:
            d1 = -back  # α = −1 at the initial weights, 0 now
            r, _ = lossviz.random_directions(center, run.net, run.config.seed, "filter")
            r = r - (r @ d1) / (d1 @ d1) * d1
            d2 = r * (length / max(float(np.linalg.norm(r)), 1e-300))
            note = ("Direction 1 runs from the initial weights (α = −1) to the weights now (α = 0); direction 2 is "
                    "a random direction across it, as long.")
            return d1, d2, axis, axis, explained, mode, note
    norm = norm if norm in NORMALIZATIONS else "filter"
    d1, d2 = lossviz.random_directions(center, run.net, run.config.seed, norm)
    return d1, d2, axis, axis, explained, "random", note


def off_plane(traj: Array, center: Array, d1: Array, d2: Array, path: Array) -> tuple[Array, Array]:
    """Each path point's distance from the plane (T,), and as a fraction of its distance from the
    centre (T,): a point far off the plane does not sit at the loss drawn under it."""
    with np.errstate(all="ignore"):
        rest = traj - center - np.outer(path[:, 0], d1) - np.outer(path[:, 1], d2)
        dist = np.linalg.norm(rest, axis=1)
        whole = np.linalg.norm(traj - center, axis=1)
        relative = np.where(whole > 0, dist / np.where(whole > 0, whole, 1.0), 0.0)
    return dist, relative


def _both_paths_pca(runs: list[RunView], theta0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plane through θ0 that holds most of both paths' movement: (d1, d2, explained (2,))."""
    offsets = np.vstack([r.trajectory for r in runs]) - theta0
    _, s, vt = np.linalg.svd(offsets, full_matrices=False)
    if len(s) < 2 or s[1] == 0:
        raise ValueError("the path (PCA) plane needs both runs to move: train a few steps first")
    return vt[0], vt[1], (s[:2] ** 2) / np.sum(s ** 2)


def _plane_through_start(runs: list[RunView], theta0: np.ndarray, plane: str):
    """(d1, d2, kind, explained) of the comparison's plane through the common start."""
    a, b = runs
    if plane == "pca":
        try:
            d1, d2, explained = _both_paths_pca(runs, theta0)
            return d1, d2, "pca", explained
        except ValueError:
            plane = "random"
    if plane == "random":
        d1, d2 = lossviz.random_directions(theta0, a.net, a.config.seed, "filter")
        return d1, d2, "random-chosen", np.full(2, np.nan)
    d1, d2, kind = lossviz.compare_plane(theta0, a.params, b.params, a.net, a.config.seed)
    return d1, d2, kind, np.full(2, np.nan)


def compare_landscape(runs: list[RunView], grid: int, of: str = "train", plane: str = "compare") -> dict:
    """Both runs of a comparison over one plane through the common start θ0 and θA, θB.

    d1 = (θA − θ0)/‖θA − θ0‖, d2 = the part of θB − θ0 orthogonal to d1, normalized
    (``lossviz.compare_plane``; a filter-normalized random plane through θ0 when that plane does
    not exist yet, e.g. at step 0). Each run's own loss is drawn over the plane; both paths start
    at (0, 0). The grid holds θ0, both paths and both current weights with a margin.

    Returns a dict: alphas (G,), betas (G,), z (2, G, G) per run, paths [(T_a, 2), (T_b, 2)],
    kind ("compare" or "random"), same_loss (both train the same loss: one colour range).
    """
    a, b = runs
    theta0 = a.trajectory[0]
    d1, d2, kind, explained = _plane_through_start(runs, theta0, plane)
    paths = [lossviz.project_trajectory(r.trajectory, theta0, d1, d2) for r in runs]
    n_use, grid_use = live_budget(a.net.layer_sizes, a.data.X_train.shape[0], grid)
    rows = np.sort(np.random.default_rng(a.config.seed).permutation(a.data.X_train.shape[0])[:n_use])
    X, y = a.data.X_train[rows], a.data.y_train[rows]
    with np.errstate(all="ignore"):
        own = [lossviz.trajectory_losses(p, theta0, d1, d2, X, y, layer_sizes=r.net.layer_sizes,
                                         activation=r.config.activation, loss=r.config.loss,
                                         huber_delta=r.config.huber_delta,
                                         label_smoothing=r.config.label_smoothing) for p, r in zip(paths, runs)]
    keep = [in_frame(p, l) for p, l in zip(paths, own)]
    alphas, betas = lossviz.compare_axes(np.vstack([p[k] for p, k in zip(paths, keep)]), grid_use)
    with np.errstate(all="ignore"):
        zm = [lossviz.surface_with_metric(theta0, d1, d2, alphas, betas, X, y, layer_sizes=r.net.layer_sizes,
                                          activation=r.config.activation, loss=surface_loss(r, of)[0],
                                          huber_delta=r.config.huber_delta,
                                          label_smoothing=r.config.label_smoothing) for r in runs]
        z, metric = np.stack([a_ for a_, _ in zm]), np.stack([m for _, m in zm])
        if of == "metric":
            z = metric
        starts = [None if of == "metric" else float(l[0]) if of == "train" else
                  loss_at(r, theta0, X, y, surface_loss(r, of)[0]) for r, l in zip(runs, own)]
    same_loss = of != "train" or (a.config.loss, a.config.loss_hyper) == (b.config.loss, b.config.loss_hyper)
    return dict(alphas=alphas, betas=betas, z=z, metric=metric, paths=paths, kind=kind, same_loss=same_loss,
                path_loss=own[0], center=theta0, d1=d1, d2=d2, metric_label=_metric_label(a),
                z_label=surface_loss(a, of)[1], explained=explained, starts=starts,
                exits=[None if k.all() else int(np.argmin(k)) for k in keep],
                n_points=n_use, n_train=a.data.X_train.shape[0], grid=grid_use, grid_asked=grid)


def in_frame(path: Array, loss: Array) -> Array:
    """Which points (T,) of a path a comparison's frame holds: the start, and every point whose
    loss is finite and at most ``framing.OFF_CHART`` times the start's. A diverged run's last
    steps lie thousands of units away: framed on them, both paths would shrink to a dot."""
    ceiling = framing.loss_ceiling([loss[0]]) if len(loss) else None
    keep = np.isfinite(loss) & np.isfinite(path).all(axis=1)
    if ceiling is not None:
        keep &= loss <= ceiling
    keep[:1] = True
    return keep


def loss_at(run: RunView, params: Array, X: Array, y: Array, loss: str | None = None) -> float:
    """The run's data loss (or ``loss``, a yardstick) at ``params`` on the rows X, y."""
    value, _ = lossviz.objective(params, X, y, layer_sizes=run.net.layer_sizes, activation=run.config.activation,
                                 loss=loss or run.config.loss, huber_delta=run.config.huber_delta,
                                 label_smoothing=run.config.label_smoothing)
    return float(value)


def start_loss(run: RunView, of: str = "train") -> float:
    """The loss a landscape of ``of`` draws (see ``surface_loss``), at the run's start, on the
    training points its landscape uses."""
    n_use, _ = live_budget(run.net.layer_sizes, run.data.X_train.shape[0], 8)
    rows = np.sort(np.random.default_rng(run.config.seed).permutation(run.data.X_train.shape[0])[:n_use])
    with np.errstate(all="ignore"):
        return loss_at(run, run.trajectory[0], run.data.X_train[rows], run.data.y_train[rows],
                       surface_loss(run, of)[0])


INTERPOLATION_TS = np.linspace(-0.25, 1.25, 61)


def interpolation(runs: list[RunView]) -> dict:
    """Along the straight line from θA (t = 0) to θB (t = 1), a little beyond each: each run's
    loss (its own loss and activation) and its accuracy or R² — is there a barrier between them?

    Returns a dict: ts (T,), loss (2, T), metric (2, T) (row i: with run i's settings), start
    (2,) each run's loss at the common start (what the chart's ceiling is measured against).
    """
    a, b = runs
    d = b.params - a.params
    n_use, _ = live_budget(a.net.layer_sizes, a.data.X_train.shape[0], 8)
    rows = np.sort(np.random.default_rng(a.config.seed).permutation(a.data.X_train.shape[0])[:n_use])
    X, y = a.data.X_train[rows], a.data.y_train[rows]
    loss, metric = [], []
    with np.errstate(all="ignore"):
        for r in runs:
            z, m = lossviz.surface_with_metric(a.params, d, np.zeros_like(d), INTERPOLATION_TS, [0.0], X, y,
                                               layer_sizes=r.net.layer_sizes, activation=r.config.activation,
                                               loss=r.config.loss, huber_delta=r.config.huber_delta,
                                               label_smoothing=r.config.label_smoothing)
            loss.append(z[:, 0])
            metric.append(m[:, 0])
        start = [loss_at(r, a.trajectory[0], X, y) for r in runs]
    return dict(ts=INTERPOLATION_TS, loss=np.array(loss), metric=np.array(metric), start=np.array(start))


def live_budget(layer_sizes, n_train: int, grid: int) -> tuple[int, int]:
    """Training points and grid size that keep one live landscape near a second of work.

    The cost is about grid^2 * points * (multiply-adds of one forward pass per point). Big
    networks on big data use a seeded subsample of the training points (at least
    ``MIN_POINTS``), then, if still too costly, a coarser grid (at least 11).
    """
    per_point = sum((fi + 1) * fo for fi, fo in zip(layer_sizes[:-1], layer_sizes[1:]))
    n_use = min(n_train, max(MIN_POINTS, int(SURFACE_BUDGET_MACS / (grid * grid * per_point))))
    if grid * grid * n_use * per_point > SURFACE_BUDGET_MACS:
        grid = max(11, int(np.sqrt(SURFACE_BUDGET_MACS / (n_use * per_point))) | 1)
    return n_use, grid


def _axes_around(path: Array, grid: int, square: bool = False) -> tuple[Array, Array]:
    """Grid axes covering the path with a margin (PCA planes have no natural range); ``square``:
    both axes as wide as the wider one (a path along one direction keeps a readable plane)."""
    lo, hi = path.min(axis=0), path.max(axis=0)
    pad = np.maximum(0.25 * (hi - lo), 1e-3)
    lo, hi = lo - pad, hi + pad
    if square:
        mid, half = (lo + hi) / 2, max(hi - lo) / 2
        lo, hi = mid - half, mid + half
    return np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)


def _metric_label(run: RunView) -> str:
    return "accuracy" if run.data.task == "classification" else "R²"


def network_at(run: RunView, view: dict, alpha: float, beta: float, index: int | None = None) -> RunView:
    """The run's network with the weights at (α, β) of a drawn plane (``view`` holds its center,
    d1 and d2; ``index`` picks a run's own plane when each run has one)."""
    center, d1, d2 = (view["centers"][index], view["d1s"][index], view["d2s"][index]) if index is not None \
        and "centers" in view else (view["center"], view["d1"], view["d2"])
    params = np.asarray(center) + float(alpha) * np.asarray(d1) + float(beta) * np.asarray(d2)
    return RunView(run.run_id, run.version, run.config, run.data, run.net, params, run.trajectory)


def data_view(run: RunView) -> dict:
    """Arrays for the data plot, by kind: "regions" (2-D classification), "projected"
    (classification with more features, PCA view), "curve" (1-D regression) or "scatter"
    (regression with more features: predicted vs actual)."""
    tr = run
    d, net, params = _shown_points(tr.data, tr.config.seed), tr.net, tr.params
    points = dict(X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test)
    with np.errstate(all="ignore"):
        if d.task == "classification" and d.n_features == 2:
            xx, yy = _span(d, 0), _span(d, 1)
            gx, gy = np.meshgrid(xx, yy)
            grid_pts = np.column_stack([gx.ravel(), gy.ravel()])
            prob = softmax(_forward(net, params, grid_pts)).reshape(len(yy), len(xx), -1)
            return dict(kind="regions", xx=xx, yy=yy, prob=np.nan_to_num(prob, nan=1.0 / d.n_classes),
                        points=points, k=d.n_classes, class_names=tr.data.class_names,
                        axis_titles=tuple(tr.data.feature_names[:2]) or ("x₁", "x₂"))
        if d.task == "classification":
            proj = _pca_projector(d.X_train)
            pts = dict(X_train=proj(d.X_train), y_train=d.y_train, X_test=proj(d.X_test), y_test=d.y_test)
            return dict(kind="projected", points=pts, k=d.n_classes, class_names=tr.data.class_names,
                        pred_train=_forward(net, params, d.X_train).argmax(-1),
                        pred_test=_forward(net, params, d.X_test).argmax(-1))
        if d.n_features == 1:
            x_line = np.linspace(*_bounds(d, 0), 200)[:, None]
            return dict(kind="curve", x_line=x_line[:, 0], y_line=_finite(_forward(net, params, x_line)[:, 0]),
                        points=points, outliers=d.outliers, axis_titles=(tr.data.feature_names[0], "y") if tr.data.feature_names
                        else ("x", "y"))
        return dict(kind="scatter", points=points,
                    pred_train=_finite(_forward(net, params, d.X_train)[:, 0]),
                    pred_test=_finite(_forward(net, params, d.X_test)[:, 0]))


def _forward(net, params: Array, X: Array, chunk: int = 1024) -> Array:
    """The network's outputs (n, K) in chunks of rows: a wide network's activations for a
    whole 90×90 grid at once would take a hundred MB, for nothing."""
    return np.concatenate([net.forward(params, X[i:i + chunk]) for i in range(0, max(len(X), 1), chunk)])


def _shown_points(data, seed: int):
    """The data with at most MAX_SHOWN train and MAX_SHOWN / 4 test points (a seeded sample):
    a browser draws a few thousand markers quickly, twenty thousand slowly."""
    def pick(n: int, most: int) -> Array:
        return np.sort(np.random.default_rng(seed).permutation(n)[:most]) if n > most else slice(None)

    tr, te = pick(len(data.y_train), MAX_SHOWN), pick(len(data.y_test), MAX_SHOWN // 4)
    return SimpleNamespace(X_train=data.X_train[tr], y_train=data.y_train[tr], X_test=data.X_test[te],
                           y_test=data.y_test[te], task=data.task, n_classes=data.n_classes,
                           n_features=data.n_features, outliers=np.asarray(data.outlier_mask)[tr])


def _finite(a: Array) -> Array:
    return np.nan_to_num(a, nan=0.0, posinf=1e6, neginf=-1e6)


def _bounds(d, j: int) -> tuple[float, float]:
    both = np.concatenate([d.X_train[:, j], d.X_test[:, j]])
    lo, hi = float(both.min()), float(both.max())
    pad = 0.1 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def _span(d, j: int) -> Array:
    return np.linspace(*_bounds(d, j), DATA_GRID)


def _pca_projector(X: Array):
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    basis = vt[:2].T
    return lambda A: (A - mean) @ basis
