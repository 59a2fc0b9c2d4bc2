"""Compare mode: two runs that differ in one setting, on the same data, from the same weights.

``Experiment(config)`` is one run; ``Experiment(config, "loss", "mse")`` adds a second run whose
config is ``config.replace(loss="mse")``. Both see identical data (the data settings cannot be
varied) and, whenever their networks have the same shape, identical initial parameters: the
difference between them is the varied setting and nothing else, not a different seed's luck.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .activations import ACTIVATIONS
from .checks import integer, short
from .config import RunConfig
from .datasets import Dataset
from .losses import LOSSES
from .optimizers import OPTIMIZERS
from .training import Snapshot, Trainer


def _number(v: float) -> str:
    return f"{v:g}"


# The settings a comparison may vary (all leave the data alone), each with how its value reads.
VARIABLE_FIELDS: dict[str, Callable[[Any], str]] = {
    "loss": lambda v: LOSSES[v].label,
    "lr": _number,
    "optimizer": lambda v: OPTIMIZERS[v].label,
    "activation": lambda v: ACTIVATIONS[v].label,
    "hidden": lambda v: ", ".join(str(w) for w in v) if v else "none",
    "batch_size": lambda v: str(v) if v else "full batch",
    "l2": _number,
    "l1": _number,
    "huber_delta": _number,
    "label_smoothing": _number,
    "momentum": _number,
}


def check_vary(vary: object) -> str:
    """``vary`` if it names a setting a comparison may vary, else ValueError listing them."""
    if isinstance(vary, str) and vary in VARIABLE_FIELDS:
        return vary
    raise ValueError(f"cannot compare runs that differ in {short(vary)}: the two runs must see "
                     f"the same data; vary one of: {', '.join(VARIABLE_FIELDS)}")


def setting_label(field: str, value: Any) -> str:
    """The value of a variable setting in words: a registry label, a number, widths."""
    return VARIABLE_FIELDS[check_vary(field)](value)


class Experiment:
    """One run, or two runs A and B that differ only in the RunConfig field ``vary``.

    Run B's config is ``config.replace(**{vary: value})`` (validated by RunConfig: e.g.
    cross-entropy on regression data is refused with its message). Both runs train on the same
    data. When their networks have the same layer sizes, B starts from A's initial parameters
    (``params_init``) and ``same_start`` is True; this holds for a changed activation too, so B
    keeps A's weights even where its own activation would have drawn them at another scale.
    When ``vary="hidden"`` changes the parameter count, no common start exists: B is
    initialized from the same seed on its own and ``same_start`` is False.

    Attributes
    ----------
    runs : list of 1 or 2 Trainers; a, b : the runs (b is None for one run)
    vary, value : the varied field and B's value (None for one run)
    labels : list of str, per run the varied setting's value in words ([""] for one run)
    same_start : bool, True when every run starts from the same parameter vector
    """

    def __init__(self, config: RunConfig, vary: str | None = None, value: Any = None,
                 trajectory_bytes: int | None = None, data: Dataset | None = None) -> None:
        if not isinstance(config, RunConfig):
            raise TypeError(f"config must be a lossviz.RunConfig, got {short(config)}")
        self.trajectory_bytes = trajectory_bytes  # each run's path memory budget (Trainer's)
        self.data = data  # an uploaded table's Dataset: both runs see the same data
        self.a = Trainer(config, trajectory_bytes=trajectory_bytes, data=data)
        self.b: Trainer | None = None
        self.vary, self.value = None, None
        self.labels = [""]
        if vary is None:
            if value is not None:
                raise ValueError(f"value {short(value)} given without a setting to vary")
        else:
            self._add_b(config, check_vary(vary), value)
        self.runs = [r for r in (self.a, self.b) if r is not None]
        self.same_start = all(np.array_equal(r.params_init, self.a.params_init) for r in self.runs)

    def _add_b(self, config: RunConfig, vary: str, value: Any) -> None:
        config_b = config.replace(**{vary: value})
        b = Trainer(config_b, trajectory_bytes=self.trajectory_bytes, data=self.data)
        if b.net.layer_sizes == self.a.net.layer_sizes:
            b = Trainer(config_b, params_init=self.a.params_init, trajectory_bytes=self.trajectory_bytes,
                        data=self.data)
        self.b, self.vary, self.value = b, vary, getattr(config_b, vary)
        self.labels = _distinct([setting_label(vary, getattr(c, vary)) for c in (config, config_b)],
                                [getattr(c, vary) for c in (config, config_b)])

    @property
    def finished(self) -> bool:
        """True when every run is done or diverged."""
        return all(r.finished for r in self.runs)

    def advance(self, n: int = 1) -> list[int]:
        """Step the unfinished runs in lockstep, up to ``n`` steps each.

        Every unfinished run is brought to step s + n, s the lowest step count among them, or
        to its end; a run that diverges stops alone while the other goes on. Returns the steps
        taken per run (a list as long as ``runs``).
        """
        n = integer(n, "n", 0)
        active = [r for r in self.runs if not r.finished]
        target = min((r.step_count for r in active), default=0) + n
        return [0 if r.finished else r.advance(max(0, target - r.step_count)) for r in self.runs]

    def evaluate(self) -> list[Snapshot]:
        """One Snapshot per run, in the order of ``runs``."""
        return [r.evaluate() for r in self.runs]


def _distinct(labels: list[str], values: list[Any]) -> list[str]:
    """Labels that differ when the values do (f"{v:g}" rounds 0.0100001 to "0.01")."""
    if labels[0] == labels[1] and values[0] != values[1]:
        return [repr(v) for v in values]
    return labels
