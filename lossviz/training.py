"""Training as a stream of snapshots.

``Trainer`` holds one run's state (parameters, optimizer, step count, trajectory) and advances
it on request, so a UI can pause, resume and single-step; ``train`` wraps it as a generator.
Divergence (NaN, inf, a loss that explodes) ends the run with a status, never an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import numpy as np

from .checks import integer, short, vector
from .config import RunConfig
from .datasets import Dataset, load_dataset
from .fast_step import WORKSPACE_BYTES, EpochRows, StepBuffers
from .losses import get_loss
from .metrics import metric_value
from .model import Network
from .optimizers import make_optimizer
from .penalties import penalty_grad, penalty_value
from .tabular import is_table_name, supplied

Array = np.ndarray
MAX_TRAJECTORY_ROWS = 500
EXPLODE_FACTOR = 1e6  # a loss this many times its start (and above 1e3) counts as diverged


@dataclass(frozen=True)
class Snapshot:
    """The state of a run after ``step`` optimizer steps.

    Losses are data losses (no penalty); ``objective`` adds the L1/L2 penalty. ``train_metric``
    and ``test_metric`` are accuracy in [0, 1] (classification) or R^2 (regression), also
    readable as ``train_accuracy``/``test_accuracy`` or ``train_r2``/``test_r2`` (None otherwise).
    ``status`` is ``"running"``, ``"done"`` or ``"diverged"``; ``message`` says why in words.
    ``params`` (n_params,) is a copy of the parameter vector on trajectory steps (step 0, every
    ``Trainer.record_every`` steps, the last step), else None.
    """

    step: int
    epoch: float
    train_loss: float
    test_loss: float
    train_metric: float
    test_metric: float
    objective: float
    grad_norm: float
    status: str = "running"
    message: str = ""
    params: Array | None = field(default=None, repr=False, compare=False)
    task: str = "classification"

    @property
    def train_accuracy(self) -> float | None:
        return self.train_metric if self.task == "classification" else None

    @property
    def test_accuracy(self) -> float | None:
        return self.test_metric if self.task == "classification" else None

    @property
    def train_r2(self) -> float | None:
        return self.train_metric if self.task == "regression" else None

    @property
    def test_r2(self) -> float | None:
        return self.test_metric if self.task == "regression" else None


@lru_cache(maxsize=16)
def _cached_dataset(name: str, n_samples: int, noise: float | None, test_fraction: float,
                    seed: int, outlier_fraction: float) -> Dataset:
    # A memo of a pure function (datasets are read-only): runs restored from a store and
    # several users on the same settings share one copy.
    return load_dataset(name, n_samples=n_samples, noise=noise, test_fraction=test_fraction,
                        seed=seed, outlier_fraction=outlier_fraction)


def dataset_for(config: RunConfig, data: Dataset | None = None) -> Dataset:
    """The (read-only, cached) dataset a config trains on. An uploaded table's (``csv:<hash>``)
    is in no registry: it comes as ``data`` (see ``lossviz.tabular``), checked to be that table."""
    if is_table_name(config.dataset) or data is not None:
        return supplied(config.dataset, data)
    return _cached_dataset(config.dataset, config.n_samples, config.noise, config.test_fraction,
                           config.seed, config.outlier_fraction)


def make_run(config: RunConfig, data: Dataset | None = None) -> tuple[Dataset, Network, Array]:
    """Data, network and initial parameters for a config (deterministic in its seed); ``data``
    only for an uploaded table (``dataset_for``)."""
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a lossviz.RunConfig, got {short(config)}")
    data = dataset_for(config, data)
    get_loss(config.loss, data.task)  # cross-entropy on regression fails here, clearly
    out = data.n_classes if data.task == "classification" else 1
    net = Network((data.X_train.shape[1], *config.hidden, out), config.activation)
    params = net.init_params(np.random.default_rng([config.seed, 1]))
    return data, net, params


class Trainer:
    """One run, advanced step by step. Never shared between users: a value keyed by run id.

    ``params_init`` overrides the seeded initial weights (compare mode: two runs, one start).
    ``trajectory_bytes`` caps the memory of the recorded path (default: about 500 rows).
    ``data`` is the Dataset of an uploaded table (``config.dataset`` is ``csv:<hash>``).
    """

    def __init__(self, config: RunConfig, params_init: Array | None = None,
                 trajectory_bytes: int | None = None, data: Dataset | None = None) -> None:
        self.config = config
        self.data, self.net, params = make_run(config, data)
        if params_init is not None:
            params = vector(params_init, "params_init", self.net.n_params, " (the network's parameter count)").copy()
        if trajectory_bytes is not None:
            trajectory_bytes = integer(trajectory_bytes, "trajectory_bytes", 0)
        self.params_init = params.copy()
        self.params = params
        self.loss = get_loss(config.loss, self.data.task)
        self.optimizer = make_optimizer(config.optimizer, self.net.n_params, config.lr,
                                        config.momentum)
        n = self.data.X_train.shape[0]
        self.batch_size = n if config.batch_size in (0, None) else min(config.batch_size, n)
        self.steps_per_epoch = math.ceil(n / self.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        rows = MAX_TRAJECTORY_ROWS  # fewer when a memory budget (bytes) is given: big networks
        if trajectory_bytes is not None:
            rows = max(2, min(rows, trajectory_bytes // (8 * self.net.n_params)))
        self.record_every = max(1, math.ceil(self.total_steps / (rows - 1)))
        self.step_count = 0
        self.status, self.message = "running", ""
        self._rng = np.random.default_rng([config.seed, 2])
        self._order = np.arange(n)
        self._trajectory = [params.copy()]
        self._last_grad_norm = float("nan")
        self._first_loss: float | None = None
        self._forget_buffers()

    def _forget_buffers(self) -> None:
        """Drop the fast path's caches (rebuilt on the next step): the epoch's rows, the buffers."""
        self._rows: EpochRows | None = None
        self._buffers: dict[int, StepBuffers] = {}

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        # (an uploaded table's data stays: no config can rebuild it)
        for key in ("loss", "_rows", "_buffers") + (() if is_table_name(self.config.dataset) else ("data",)):
            # data: rebuilt from the config, so a stored run stays small; loss: registry entries
            # hold functions, looked up again by name; the rest: caches of the fast path
            del state[key]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "data" not in state:
            self.data = dataset_for(self.config)
        self.loss = get_loss(self.config.loss, self.data.task)
        self._forget_buffers()

    # --- saving and restoring ---------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything that moves during training, as arrays and plain scalars (no pickle needed).

        ``Trainer.from_state_dict(config, d)`` continues bit for bit where this one stopped:
        params and params_init (P,), trajectory (rows, P), the minibatch order (n_train,) and its
        RNG state, the optimizer's buffers, the step count, status and divergence baseline.
        """
        return {"params": self.params.copy(), "params_init": self.params_init.copy(),
                "trajectory": np.array(self._trajectory), "order": self._order.copy(),
                "rng": self._rng.bit_generator.state, "optimizer": self.optimizer.state_dict(),
                "step_count": self.step_count, "status": self.status, "message": self.message,
                "last_grad_norm": self._last_grad_norm, "first_loss": self._first_loss}

    @classmethod
    def from_state_dict(cls, config: RunConfig, state: dict, trajectory_bytes: int | None = None,
                        data: Dataset | None = None) -> "Trainer":
        """A trainer for ``config`` restored from :meth:`state_dict` (ValueError on a mismatch)."""
        trainer = cls(config, state["params_init"], trajectory_bytes, data)
        params = np.array(state["params"], dtype=np.float64)
        traj = np.asarray(state["trajectory"], dtype=np.float64)
        order = np.asarray(state["order"])
        if params.shape != trainer.params.shape or traj.ndim != 2 or traj.shape[1] != params.shape[0] \
                or sorted(order.tolist()) != list(range(trainer._order.shape[0])):
            raise ValueError("saved trainer state does not match this configuration")
        trainer.params = params
        trainer._trajectory = list(traj.copy())
        trainer._order = order.astype(trainer._order.dtype)
        trainer._forget_buffers()  # the epoch's rows follow the restored order
        trainer._rng.bit_generator.state = state["rng"]
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.step_count = int(state["step_count"])
        trainer.status, trainer.message = str(state["status"]), str(state["message"])
        trainer._last_grad_norm = float(state["last_grad_norm"])
        first = state["first_loss"]
        trainer._first_loss = None if first is None else float(first)
        return trainer

    # --- stepping ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.status != "running" or self.step_count >= self.total_steps

    def objective_grad(self, idx: Array | None = None) -> tuple[float, Array]:
        """Objective (data loss + penalty) and its flat gradient on training rows ``idx``.

        The exact path, allocating as it goes; ``advance`` takes the fast path
        (:meth:`_step_objective_grad`), which gives the same bits.
        """
        X, y = self.data.X_train, self.data.y_train
        if idx is not None:
            X, y = X[idx], y[idx]
        c, task = self.config, self.data.task
        out, cache = self.net.forward_cache(self.params, X)
        value, grad_out = self.loss.value_and_grad(out, y, task, c.loss_hyper)
        grad = self.net.backward(self.params, X, cache, grad_out)
        if c.l2 or c.l1:
            mask = self.net.weight_mask
            value += penalty_value(self.params, mask, c.l2, c.l1)
            grad += penalty_grad(self.params, mask, c.l2, c.l1)
        return value, grad

    def _batch(self) -> Array | None:
        """This step's training rows (None: all of them), reshuffled at each epoch's start."""
        if self.batch_size >= self._order.shape[0]:
            return None
        k = self.step_count % self.steps_per_epoch
        if k == 0:
            self._rng.shuffle(self._order)
            self._rows = None
        return self._order[k * self.batch_size:(k + 1) * self.batch_size]

    def _step_objective_grad(self, views: list[tuple[Array, Array]]) -> tuple[float, Array]:
        """:meth:`objective_grad` on this step's batch, bit for bit, into reused buffers (see
        ``lossviz.fast_step``). The gradient is a buffer: valid until the next step."""
        idx, d, c = self._batch(), self.data, self.config
        if self._rows is None:
            k_classes = self.net.layer_sizes[-1] if d.task == "classification" else None
            self._rows = EpochRows(d.X_train, d.y_train, None if idx is None else self._order,
                                   self.batch_size, k_classes)
        X, y, onehot, pick = self._rows.batch(self.step_count % self.steps_per_epoch)
        buf = self._step_buffers(X.shape[0])
        out = buf.workspace.forward(views, X)
        if buf.cross_entropy is not None:
            value, grad_out = buf.cross_entropy(out, onehot, pick)
        else:
            value, grad_out = self.loss.value_and_grad(out, y, d.task, c.loss_hyper)
        grad = buf.workspace.backward(views, X, grad_out)
        if c.l2 or c.l1:
            mask = self.net.weight_mask
            value += penalty_value(self.params, mask, c.l2, c.l1)
            grad += penalty_grad(self.params, mask, c.l2, c.l1)
        return value, grad

    def _step_buffers(self, rows: int) -> StepBuffers:
        """Buffers for batches of ``rows`` rows: kept while they fit ``WORKSPACE_BYTES``."""
        buf = self._buffers.get(rows)
        if buf is None:
            buf = StepBuffers(self.net, self.loss, rows, self.config.loss_hyper)
            if buf.nbytes + sum(b.nbytes for b in self._buffers.values()) <= WORKSPACE_BYTES:
                self._buffers[rows] = buf
        return buf

    def advance(self, n_steps: int = 1) -> int:
        """Take up to ``n_steps`` optimizer steps; return how many were taken."""
        n_steps = integer(n_steps, "n_steps", 0)
        taken = 0
        views = self.net.unflatten(self.params)  # the optimizer updates params in place
        with np.errstate(all="ignore"):  # divergence is detected below, not raised by NumPy
            while taken < n_steps and not self.finished:
                value, grad = self._step_objective_grad(views)
                self._last_grad_norm = math.sqrt(grad @ grad)
                if not self._check_finite(value):
                    break
                self.optimizer.step(self.params, grad)
                self.step_count += 1
                taken += 1
                if self.step_count % self.record_every == 0 or self.step_count == self.total_steps:
                    self._record()
        return taken

    def _check_finite(self, value: float) -> bool:
        if self._first_loss is None:
            self._first_loss = value
        limit = max(1e3, EXPLODE_FACTOR * abs(self._first_loss or 1.0))
        if math.isfinite(value) and math.isfinite(self._last_grad_norm) and value < limit:
            return True
        what = "became infinite" if not math.isfinite(value) else "exploded"
        self.status = "diverged"
        self.message = f"diverged: the loss {what} — lower the learning rate"
        self._record()
        return False

    def _record(self) -> None:
        if not np.array_equal(self._trajectory[-1], self.params) or len(self._trajectory) == 1:
            self._trajectory.append(self.params.copy())

    # --- reading ----------------------------------------------------------------------
    @property
    def trajectory(self) -> Array:
        """(rows, n_params): the initial vector, every ``record_every``-th step, the current one."""
        rows = self._trajectory
        if not np.array_equal(rows[-1], self.params):
            rows = rows + [self.params.copy()]
        return np.array(rows)

    @property
    def on_trajectory_step(self) -> bool:
        """True where the trajectory records a row: step 0, every record_every steps, the end."""
        return self.step_count % self.record_every == 0 or self.finished

    def evaluate(self) -> Snapshot:
        """Losses and metrics on both splits at the current parameters (and the parameters
        themselves on trajectory steps)."""
        d, c = self.data, self.config
        with np.errstate(all="ignore"):
            out_tr = self.net.forward(self.params, d.X_train)
            out_te = self.net.forward(self.params, d.X_test)
            tr = float(self.loss.value(out_tr, d.y_train, d.task, c.loss_hyper))
            te = float(self.loss.value(out_te, d.y_test, d.task, c.loss_hyper))
            pen = penalty_value(self.params, self.net.weight_mask, c.l2, c.l1) if (c.l2 or c.l1) else 0.0
            m_tr, m_te = metric_value(out_tr, d.y_train, d.task), metric_value(out_te, d.y_test, d.task)
        status = "done" if self.status == "running" and self.finished else self.status
        message = self.message or ("finished" if status == "done" else "")
        params = self.params.copy() if self.on_trajectory_step else None
        return Snapshot(self.step_count, self.step_count / self.steps_per_epoch, tr, te, m_tr, m_te,
                        tr + pen, self._last_grad_norm, status, message, params, d.task)


def train(config: RunConfig, *, every: int | None = None, params_init: Array | None = None,
          data: Dataset | None = None) -> Iterator[Snapshot]:
    """Train ``config`` to the end, yielding a Snapshot every ``every`` steps (default: each
    epoch) and on every trajectory step (those carry ``params``: at most about 500 of them).

    The first snapshot is at step 0 (before training); the last has status "done" or "diverged".
    """
    trainer = Trainer(config, params_init, data=data)
    every = trainer.steps_per_epoch if every is None else integer(every, "every", 0) or trainer.steps_per_epoch
    yield trainer.evaluate()
    while not trainer.finished:
        step, k = trainer.step_count, trainer.record_every
        trainer.advance(min(every - step % every, k - step % k))
        yield trainer.evaluate()
