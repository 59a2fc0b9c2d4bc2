"""``lossviz export``: train a run, compute its loss surface, write everything to an .npz.

With ``--compare FIELD=VALUE`` it trains two runs from the same initial weights, differing in
that one setting, and writes both (run B's keys end in ``_b``) over the plane holding both.

The file is self-describing (see the README, "The .npz format"): the network can be rebuilt in
any framework from ``layer_sizes``, ``activation`` and the flat parameter layout (per layer, the
weight matrix (fan_out, fan_in) row-major as ``torch.nn.Linear.weight``, then the bias).
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

import numpy as np

from .checks import number
from .activations import ACTIVATIONS
from .config import FIELD_RANGES, RunConfig
from .datasets import DATASETS
from .losses import LOSSES
from .optimizers import OPTIMIZERS
from .directions import NORMALIZATIONS, pca_directions, random_directions
from .experiment import Experiment, check_vary
from .landscape import grid_axis, surface, validate_grid
from .planes import compare_axes, compare_plane, plane_coordinates
from .training import Trainer

DIRECTION_CHOICES = (*NORMALIZATIONS, "pca")
# --compare FIELD=VALUE: the flags a comparison may vary and how their values parse. Not
# --hidden: a different network has other parameters, so no plane holds both runs.
COMPARE_FLAGS = {"loss": str, "lr": float, "optimizer": str, "activation": str,
                 "huber-delta": float, "label-smoothing": float, "l2": float, "l1": float, "batch-size": int,
                 "momentum": float}


def compute_export(config: RunConfig, *, grid: int = 51, span: float = 1.0,
                   directions: str = "filter") -> dict[str, Any]:
    """Train ``config`` to the end and return the arrays the .npz holds (see module doc).

    The surface is centred on the final weights: ``center`` = ``params_final``.
    """
    grid_axis(grid, span)  # refused before training
    _check_directions(directions)
    trainer = Trainer(config)
    while not trainer.finished:
        trainer.advance(1000)
    return export_arrays(trainer, grid=grid, span=span, directions=directions)


def export_arrays(trainer: Trainer, *, grid: int = 51, span: float = 1.0,
                  directions: str = "filter") -> dict[str, Any]:
    """The .npz arrays of a run as ``trainer`` holds it now (trained or not: the app exports a
    stored run without training it again). Surface centred on the current weights."""
    axis = grid_axis(grid, span)
    _check_directions(directions)
    final = trainer.params.copy()
    explained = np.full(2, np.nan)
    if directions == "pca":
        d1, d2, explained = pca_directions(trainer.trajectory)
    else:
        d1, d2 = random_directions(final, trainer.net, trainer.config.seed, directions)
    return {
        **_shared_keys(trainer), **_run_keys(trainer, final, d1, d2, axis, axis),
        "d1": d1, "d2": d2, "directions": directions, "explained_variance": explained,
        "alphas": axis, "betas": axis.copy(), "center": final,
    }


def _check_directions(directions: str) -> None:
    if directions not in DIRECTION_CHOICES:
        raise ValueError(f"unknown directions {directions!r}; choose one of: "
                         f"{', '.join(DIRECTION_CHOICES)}")


def compute_compare_export(config: RunConfig, vary: str, value: Any, *, grid: int = 51,
                           margin: float = 0.25) -> dict[str, Any]:
    """Train runs A (``config``) and B (``vary`` set to ``value``) from one start to the end.

    Run A's keys are those of :func:`compute_export`; run B's per-run keys carry a ``_b``
    suffix. The plane is the compare plane through θ0 = ``center`` = ``params_init`` holding
    both final points (``lossviz.planes.compare_plane``); ``surface`` and ``surface_b`` are
    each run's data loss on it. A run whose weights overflowed is placed at its last finite
    recorded weights. ``vary`` must keep the parameter count (not ``hidden``).
    """
    grid, margin = validate_grid(grid), number(margin, "margin", 0.0, 10.0)  # before training
    exp = Experiment(config, check_vary(vary), value)
    if not exp.same_start:
        raise ValueError(f"cannot compare {vary} {exp.labels[0]!r} with {exp.labels[1]!r} on "
                         f"one plane: the networks have different parameter counts")
    while not exp.finished:
        exp.advance(1000)
    return compare_export_arrays(exp.a, exp.b, exp.vary, exp.value, grid=grid, margin=margin)


def compare_export_arrays(a: Trainer, b: Trainer, vary: str, value: Any, *, grid: int = 51,
                          margin: float = 0.25) -> dict[str, Any]:
    """The .npz arrays of two runs from one start as the trainers hold them now (see
    :func:`compute_compare_export`; the app exports stored runs this way). Networks of two
    shapes share no plane: each run then gets its own (:func:`own_planes_export_arrays`)."""
    grid, margin = validate_grid(grid), number(margin, "margin", 0.0, 10.0)
    if a.net.layer_sizes != b.net.layer_sizes:
        return own_planes_export_arrays(a, b, vary, value, grid=grid)
    center = a.params_init.copy()
    paths = [_finite_rows(r.trajectory) for r in (a, b)]
    d1, d2, kind = compare_plane(center, paths[0][-1], paths[1][-1], a.net, a.config.seed)
    coords = [np.column_stack(plane_coordinates(p, center, d1, d2)) for p in paths]
    alphas, betas = compare_axes(np.concatenate([np.zeros((1, 2)), *coords]), grid, margin)
    keys_b = _run_keys(b, b.params.copy(), d1, d2, alphas, betas, center)
    return {
        **_shared_keys(a), **_run_keys(a, a.params.copy(), d1, d2, alphas, betas, center),
        **{f"{k}_b": v for k, v in keys_b.items()},
        "d1": d1, "d2": d2, "directions": kind, "explained_variance": np.full(2, np.nan),
        "alphas": alphas, "betas": betas, "center": center,
        "compare": vary, "compare_value": str(value),
    }


def own_planes_export_arrays(a: Trainer, b: Trainer, vary: str, value: Any, *,
                             grid: int = 51) -> dict[str, Any]:
    """Two runs whose networks differ in shape (``hidden``), each over its own plane as
    :func:`export_arrays` draws one run (filter-normalized random directions through its current
    weights): run B's keys, its plane's (``d1_b``, ``alphas_b``…) and ``layer_sizes_b`` end in
    ``_b``; the data, which both runs share, is stored once."""
    arrays_a, arrays_b = (export_arrays(t, grid=grid) for t in (a, b))
    shared = set(_shared_keys(b)) - {"layer_sizes"}
    return {**arrays_a, **{f"{k}_b": v for k, v in arrays_b.items() if k not in shared},
            "compare": vary, "compare_value": str(value)}


def _finite_rows(trajectory: np.ndarray) -> np.ndarray:
    """The rows (T', P) of a trajectory (T, P) with only finite entries (row 0 always is)."""
    return trajectory[np.isfinite(trajectory).all(axis=1)]


def _shared_keys(trainer: Trainer) -> dict[str, Any]:
    """What both runs of a comparison share: the network shape, the data, the schedule."""
    data, config = trainer.data, trainer.config
    return {
        "layer_sizes": np.array(trainer.net.layer_sizes), "task": data.task,
        "dataset": config.dataset, "epochs": config.epochs, "seed": config.seed,
        "X_train": data.X_train, "y_train": data.y_train,
        "X_test": data.X_test, "y_test": data.y_test,
        "feature_mean": data.feature_mean, "feature_std": data.feature_std,
    }


def _run_keys(trainer: Trainer, final: np.ndarray, d1: np.ndarray, d2: np.ndarray,
              alphas: np.ndarray, betas: np.ndarray,
              center: np.ndarray | None = None) -> dict[str, Any]:
    """One run's settings, weights and final state, and its data-loss surface
    (len(alphas), len(betas)) on the plane through ``center`` (default: ``final``)."""
    c, data = trainer.config, trainer.data
    center = final if center is None else center
    z = surface(center, d1, d2, alphas, betas, data.X_train, data.y_train,
                layer_sizes=trainer.net.layer_sizes, activation=c.activation, loss=c.loss,
                huber_delta=c.huber_delta, label_smoothing=c.label_smoothing, dtype=np.float64)
    snap = trainer.evaluate()
    return {
        "activation": c.activation, "loss": c.loss, "huber_delta": c.huber_delta,
        "label_smoothing": c.label_smoothing,
        "optimizer": c.optimizer, "lr": c.lr, "momentum": c.momentum, "l2": c.l2, "l1": c.l1,
        "batch_size": c.batch_size,
        "params_init": trainer.params_init, "params_final": final, "trajectory": trainer.trajectory,
        "surface": z, "steps": trainer.step_count, "status": snap.status,
        "train_loss": snap.train_loss, "test_loss": snap.test_loss,
        "train_metric": snap.train_metric, "test_metric": snap.test_metric,
    }


def _hidden(text: str) -> tuple[int, ...]:
    text = text.strip()
    if text in ("", "none", "0"):
        return ()
    try:
        return tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes comma-separated widths like 16,16, got {text!r}") from None


def _compare(text: str) -> tuple[str, Any]:
    """Parse ``FIELD=VALUE`` (FIELD a flag name) into (RunConfig field, value)."""
    flag, sep, value = text.partition("=")
    flag, value = flag.strip().removeprefix("--"), value.strip()
    if flag == "hidden":
        raise argparse.ArgumentTypeError(
            "--compare hidden: networks of other widths have other parameters, so no plane "
            f"holds both runs; compare one of {', '.join(COMPARE_FLAGS)}")
    if not sep or flag not in COMPARE_FLAGS:
        raise argparse.ArgumentTypeError(
            f"--compare takes FIELD=VALUE with FIELD one of {', '.join(COMPARE_FLAGS)}; "
            f"got {text!r}")
    kind = COMPARE_FLAGS[flag]
    try:
        return flag.replace("-", "_"), kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"--compare {flag}={value}: {value!r} is not {what}") from None


def _allowed(field: str) -> str:
    return FIELD_RANGES[field].text()


def _one_of(registry) -> str:
    return "one of " + ", ".join(registry)


def build_parser(prog: str = "lossviz export") -> argparse.ArgumentParser:
    d = RunConfig()
    p = argparse.ArgumentParser(prog=prog, description="Train a run and write its loss surface to an .npz.")
    add = p.add_argument
    add("--dataset", default=d.dataset, help=_one_of(DATASETS))
    add("--samples", type=int, default=d.n_samples, help=_allowed("n_samples"))
    add("--noise", type=float, default=0.2, help=_allowed("noise"))
    add("--seed", type=int, default=d.seed, help=_allowed("seed"))
    add("--hidden", type=_hidden, default=d.hidden,
        help=f"hidden widths, e.g. 16,16 (empty: none); each {_allowed('hidden')}")
    add("--activation", default=d.activation, help=_one_of(ACTIVATIONS))
    add("--loss", default=d.loss, help=_one_of(LOSSES))
    add("--huber-delta", type=float, default=d.huber_delta, help=_allowed("huber_delta"))
    add("--label-smoothing", type=float, default=d.label_smoothing,
        help="cross-entropy's ε; " + _allowed("label_smoothing"))
    add("--optimizer", default=d.optimizer, help=_one_of(OPTIMIZERS))
    add("--momentum", type=float, default=d.momentum, help=_allowed("momentum"))
    add("--lr", type=float, default=d.lr, help=_allowed("lr"))
    add("--l2", type=float, default=d.l2, help=_allowed("l2"))
    add("--l1", type=float, default=d.l1, help=_allowed("l1"))
    add("--batch-size", type=int, default=d.batch_size, help="0 = full batch; " + _allowed("batch_size"))
    add("--epochs", type=int, default=d.epochs, help=_allowed("epochs"))
    add("--grid", type=int, default=51, help="grid points per axis (3..201)")
    add("--range", type=float, default=None, dest="span", help="plane half-width (1.0)")
    add("--directions", default=None, help=f"one of {', '.join(DIRECTION_CHOICES)} (filter)")
    add("--compare", type=_compare, default=None, metavar="FIELD=VALUE",
        help="also train run B with this one setting changed, from the same initial weights "
             f"(FIELD: {', '.join(COMPARE_FLAGS)}); the plane holds both runs")
    add("--out", default="run.npz")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lossviz export``; returns a process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = RunConfig(dataset=args.dataset, n_samples=args.samples, noise=args.noise,
                           seed=args.seed, hidden=args.hidden, activation=args.activation,
                           loss=args.loss, huber_delta=args.huber_delta,
                           label_smoothing=args.label_smoothing,
                           optimizer=args.optimizer, momentum=args.momentum, lr=args.lr,
                           l2=args.l2, l1=args.l1, batch_size=args.batch_size,
                           epochs=args.epochs)
        arrays = _compute(config, args)
    except ValueError as exc:
        parser.error(str(exc))
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {arrays['task']}, {_summary(arrays, '')}, "
          f"surface {arrays['surface'].shape}")
    if "compare" in arrays:
        print(f"  run B ({arrays['compare']} = {arrays['compare_value']}): {_summary(arrays, '_b')}, "
              f"{arrays['directions']} plane")
    return 0


def _compute(config: RunConfig, args: argparse.Namespace) -> dict[str, Any]:
    """The export the parsed flags ask for: one run, or a comparison (ValueError if mixed)."""
    if args.compare is None:
        return compute_export(config, grid=args.grid, span=1.0 if args.span is None else args.span,
                              directions=args.directions or "filter")
    if args.span is not None or args.directions is not None:
        raise ValueError("--range and --directions do not apply with --compare: the two runs "
                         "fix the plane and its extent")
    return compute_compare_export(config, *args.compare, grid=args.grid)


def _summary(arrays: dict[str, Any], suffix: str) -> str:
    return (f"{arrays['steps' + suffix]} steps, status {arrays['status' + suffix]}, "
            f"train loss {arrays['train_loss' + suffix]:.4g}")
