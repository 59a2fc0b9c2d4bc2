"""Notebook helpers: ``load`` reads a ``lossviz export`` file (NumPy only); ``show`` hands over to
the app (``app.embed.show``), which opens in a cell.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .losses import loss_value
from .metrics import metric_value
from .model import Network
from .paths import project_trajectory, trajectory_losses

Array = np.ndarray


# --- show ------------------------------------------------------------------------------------
NOTEBOOK_ENTRY_POINTS = "lossviz.notebook"  # where the app registers its notebook runner


def show(**settings: Any) -> Any:
    """Open the lossviz app in this notebook, set up with ``settings`` (the keys of a shareable
    link; ``mode``, ``port``, ``height``, ``host``).

    The engine does not know the app: the app registers its notebook runner under the
    ``lossviz.notebook`` entry point (pyproject.toml), found and loaded only when this is called,
    so ``import lossviz`` stays an engine import.
    """
    from importlib.metadata import entry_points

    found = list(entry_points(group=NOTEBOOK_ENTRY_POINTS, name="show"))
    if not found:
        raise RuntimeError("lossviz.show needs the lossviz app installed beside the engine "
                           "(pip install -e . in the project registers it)")
    return found[0].load()(**settings)


# --- load ------------------------------------------------------------------------------------
REQUIRED = ("layer_sizes", "task", "activation", "loss", "params_init", "params_final", "trajectory",
            "d1", "d2", "alphas", "betas", "surface", "X_train", "y_train", "X_test", "y_test")
SHARED = ("dataset", "epochs", "seed")  # settings both runs of a comparison share
PER_RUN = ("activation", "loss", "huber_delta", "label_smoothing", "optimizer", "lr", "momentum", "l2", "l1", "batch_size")
FINAL = ("steps", "status", "train_loss", "test_loss", "train_metric", "test_metric")


@dataclass(frozen=True, eq=False, repr=False)
class Run:
    """One run of a ``lossviz export`` file, as arrays (read-only). Shapes: P parameters,
    T recorded steps, G grid points per axis, n samples, d features.

    settings : the RunConfig fields the file records (``hidden`` from ``layer_sizes``)
    final : the final state (``steps``, ``status``, ``train_loss``, ``test_loss``, ``train_metric``,
        ``test_metric``; the metric is accuracy, or R² for regression)
    params_init, params_final : (P,); trajectory : (T, P)
    curves : ``step``, ``train_loss``, ``test_loss``, ``train_metric``, ``test_metric``, each (T,),
        at the trajectory's rows (data loss, no L1/L2 penalty)
    alphas, betas : (G,); surface : (G, G), the data loss at center + alphas[i] d1 + betas[j] d2
    d1, d2, center : (P,); directions : how the plane was chosen
    path, path_loss : (T', 2) the finite trajectory rows projected on the plane, (T',) the loss there
    data : ``X_train``, ``y_train``, ``X_test``, ``y_test``, ``feature_mean``, ``feature_std``
    b : run B of a comparison (same plane and data), else None; compare : (field, B's value) or None
    arrays : every array in the file, by key
    """

    settings: dict[str, Any]
    final: dict[str, Any]
    task: str
    layer_sizes: tuple[int, ...]
    params_init: Array
    params_final: Array
    trajectory: Array
    curves: dict[str, Array]
    alphas: Array
    betas: Array
    surface: Array
    d1: Array
    d2: Array
    center: Array
    directions: str
    path: Array
    path_loss: Array
    data: dict[str, Array] = field(repr=False)
    b: "Run | None" = field(default=None, repr=False)
    compare: tuple[str, str] | None = None
    arrays: dict[str, Array] = field(default_factory=dict)

    def __repr__(self) -> str:
        s, f = self.settings, self.final
        text = (f"{s.get('dataset')} {self.layer_sizes} {s['activation']}, {s['loss']}, "
                f"{s.get('optimizer')} lr {s.get('lr')}: {f.get('steps')} steps, {f.get('status')}, "
                f"train loss {f.get('train_loss', float('nan')):.4g}, surface {self.surface.shape}")
        if self.b is not None:
            text += f"; b: {self.compare[0]} = {self.compare[1]}, train loss {self.b.final.get('train_loss', float('nan')):.4g}"
        return f"Run({text})"


def load(path: str | os.PathLike) -> Run:
    """Read a ``lossviz export`` .npz (or the page's .npz download) back as arrays.

    Never unpickles (``allow_pickle=False``). FileNotFoundError for a missing file; ValueError
    for a file that is not a lossviz export, naming what is wrong.
    """
    arrays = _read_npz(os.fspath(path))
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise ValueError(f"lossviz.load: {os.fspath(path)!r} is not a lossviz export: "
                         f"no {', '.join(missing)}")
    for a in arrays.values():
        a.flags.writeable = False
    b = _run(arrays, "_b") if "trajectory_b" in arrays else None
    return _run(arrays, "", b)


def _read_npz(path: str) -> dict[str, Array]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"lossviz.load: no file {path!r}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # an .npz is a zip archive of .npy arrays
            raise ValueError(f"lossviz.load: {path!r} is not a lossviz export (.npz): not a zip "
                             "archive of arrays (lossviz never unpickles)")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):  # a single .npy array
            raise ValueError("it holds one array, not named arrays")
        with npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"lossviz.load: {path!r} is not a lossviz export (.npz): {exc}") from None


def _scalar(a: Array) -> Any:
    return a.item() if a.ndim == 0 else a


def _run(arrays: dict[str, Array], suffix: str, b: Run | None = None) -> Run:
    """Run A (suffix "") or run B ("_b") of the file: B has its own per-run keys, the rest shared."""
    get = lambda k: arrays[k + suffix] if k + suffix in arrays else arrays[k]  # noqa: E731
    layer_sizes = tuple(int(n) for n in get("layer_sizes"))  # B's own when the shapes differ
    settings = {k: _scalar(arrays[k]) for k in SHARED if k in arrays}
    settings["hidden"] = layer_sizes[1:-1]
    settings.update({k: _scalar(get(k)) for k in PER_RUN if k + suffix in arrays or k in arrays})
    data = {k: arrays[k] for k in ("X_train", "y_train", "X_test", "y_test", "feature_mean", "feature_std")
            if k in arrays}
    task, trajectory = str(arrays["task"]), get("trajectory")
    net = Network(layer_sizes, settings["activation"])
    center = get("center") if "center" in arrays else get("params_final")
    finite = trajectory[np.isfinite(trajectory).all(axis=1)]
    d1, d2 = get("d1"), get("d2")  # B's own plane when the runs' shapes differ
    path = project_trajectory(finite, center, d1, d2)
    path_loss = trajectory_losses(path, center, d1, d2, data["X_train"], data["y_train"],
                                  layer_sizes=layer_sizes, activation=settings["activation"],
                                  loss=settings["loss"], huber_delta=settings.get("huber_delta", 1.0),
                                  label_smoothing=settings.get("label_smoothing", 0.0))
    final = {k: _scalar(get(k)) for k in FINAL if k + suffix in arrays or k in arrays}
    curves = _curves(net, trajectory, data, task, settings, final.get("steps"))
    compare = (str(arrays["compare"]), str(arrays["compare_value"])) if "compare" in arrays else None
    return Run(settings, final, task, layer_sizes, get("params_init"), get("params_final"), trajectory,
               curves, get("alphas"), get("betas"), get("surface"), d1, d2, center,
               str(get("directions")) if "directions" in arrays else "", _frozen(path), _frozen(path_loss),
               data, b, compare, arrays)


def _frozen(a: Array) -> Array:
    a.flags.writeable = False
    return a


def _curves(net: Network, trajectory: Array, data: dict, task: str, settings: dict,
            steps: int | None) -> dict[str, Array]:
    """Losses (no penalty) and metrics (T,) on both splits at each trajectory row (T, P)."""
    out = {"step": _row_steps(len(trajectory), steps, settings, len(data["X_train"]))}
    hyper = dict(huber_delta=settings.get("huber_delta", 1.0),
                 label_smoothing=settings.get("label_smoothing", 0.0))
    with np.errstate(all="ignore"):
        for split in ("train", "test"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            chunks = [net.forward_many(trajectory[i:i + 64], X) for i in range(0, len(trajectory), 64)]
            outs = np.concatenate(chunks)
            out[f"{split}_loss"] = np.asarray(loss_value(settings["loss"], outs, y, task, **hyper), float)
            out[f"{split}_metric"] = np.asarray(metric_value(outs, y, task), float)
    return {k: _frozen(v) for k, v in out.items()}


def _row_steps(rows: int, steps: int | None, settings: dict, n_train: int) -> Array:
    """The optimizer step of each trajectory row: step 0, every k-th step, the last — k as the
    trainer chose it from the schedule; spread evenly when the rows do not fit that schedule."""
    from .training import MAX_TRAJECTORY_ROWS

    if steps is None:
        return np.arange(rows)
    batch = settings.get("batch_size", 0)
    batch = n_train if not batch else min(batch, n_train)
    total = math.ceil(n_train / batch) * settings.get("epochs", 1)
    k = max(1, math.ceil(total / (MAX_TRAJECTORY_ROWS - 1)))
    if rows == 1 + steps // k + (steps % k > 0):
        return np.minimum(np.arange(rows) * k, steps)
    return np.rint(np.linspace(0, steps, rows)).astype(int)
