"""``lossviz export``: train a run, compute its loss surface, write everything to an .npz.

The file is self-describing (see the README, "The .npz format"): the network can be rebuilt in
any framework from ``layer_sizes``, ``activation`` and the flat parameter layout (per layer, the
weight matrix (fan_out, fan_in) row-major as ``torch.nn.Linear.weight``, then the bias).
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

import numpy as np

from .config import RunConfig
from .directions import NORMALIZATIONS, pca_directions, random_directions
from .landscape import grid_axis, surface
from .training import Trainer

DIRECTION_CHOICES = (*NORMALIZATIONS, "pca")


def compute_export(config: RunConfig, *, grid: int = 51, span: float = 1.0,
                   directions: str = "filter") -> dict[str, Any]:
    """Train ``config`` to the end and return the arrays the .npz holds (see module doc)."""
    axis = grid_axis(grid, span)
    if directions not in DIRECTION_CHOICES:
        raise ValueError(f"unknown directions {directions!r}; choose one of: "
                         f"{', '.join(DIRECTION_CHOICES)}")
    trainer = Trainer(config)
    while not trainer.finished:
        trainer.advance(1000)
    traj = trainer.trajectory
    final = trainer.params.copy()
    explained = np.full(2, np.nan)
    if directions == "pca":
        d1, d2, explained = pca_directions(traj)
    else:
        d1, d2 = random_directions(final, trainer.net, config.seed, directions)
    data, net = trainer.data, trainer.net
    z = surface(final, d1, d2, axis, axis, data.X_train, data.y_train,
                layer_sizes=net.layer_sizes, activation=config.activation, loss=config.loss,
                huber_delta=config.huber_delta, dtype=np.float64)
    snap = trainer.evaluate()
    return {
        "layer_sizes": np.array(net.layer_sizes), "activation": config.activation,
        "loss": config.loss, "huber_delta": config.huber_delta, "task": data.task,
        "dataset": config.dataset, "optimizer": config.optimizer, "lr": config.lr,
        "momentum": config.momentum, "l2": config.l2, "l1": config.l1,
        "batch_size": config.batch_size, "epochs": config.epochs, "seed": config.seed,
        "params_init": trainer.params_init, "params_final": final, "trajectory": traj,
        "d1": d1, "d2": d2, "directions": directions, "explained_variance": explained,
        "alphas": axis, "betas": axis.copy(), "surface": z,
        "X_train": data.X_train, "y_train": data.y_train,
        "X_test": data.X_test, "y_test": data.y_test,
        "feature_mean": data.feature_mean, "feature_std": data.feature_std,
        "steps": trainer.step_count, "status": snap.status,
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


def build_parser(prog: str = "lossviz export") -> argparse.ArgumentParser:
    d = RunConfig()
    p = argparse.ArgumentParser(prog=prog, description="Train a run and write its loss surface to an .npz.")
    add = p.add_argument
    add("--dataset", default=d.dataset)
    add("--samples", type=int, default=d.n_samples, help="number of samples (20..20000)")
    add("--noise", type=float, default=0.2)
    add("--seed", type=int, default=d.seed)
    add("--hidden", type=_hidden, default=d.hidden, help="hidden widths, e.g. 16,16 (empty: none)")
    add("--activation", default=d.activation)
    add("--loss", default=d.loss)
    add("--huber-delta", type=float, default=d.huber_delta)
    add("--optimizer", default=d.optimizer)
    add("--momentum", type=float, default=d.momentum)
    add("--lr", type=float, default=d.lr)
    add("--l2", type=float, default=d.l2)
    add("--l1", type=float, default=d.l1)
    add("--batch-size", type=int, default=d.batch_size, help="0 = full batch")
    add("--epochs", type=int, default=d.epochs)
    add("--grid", type=int, default=51, help="grid points per axis (3..201)")
    add("--range", type=float, default=1.0, dest="span", help="plane half-width")
    add("--directions", default="filter", help=f"one of {', '.join(DIRECTION_CHOICES)}")
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
                           optimizer=args.optimizer, momentum=args.momentum, lr=args.lr,
                           l2=args.l2, l1=args.l1, batch_size=args.batch_size,
                           epochs=args.epochs)
        arrays = compute_export(config, grid=args.grid, span=args.span, directions=args.directions)
    except ValueError as exc:
        parser.error(str(exc))
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {arrays['task']}, {arrays['steps']} steps, status {arrays['status']}, "
          f"train loss {arrays['train_loss']:.4g}, surface {arrays['surface'].shape}")
    return 0
