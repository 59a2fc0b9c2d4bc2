"""The one object that says what a run is: every control of the app maps to one field.

A ``RunConfig`` is a frozen, validated value. Two configs that are equal describe the same run
(same seed, same data, same initial weights), so a config is also a cache key.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .activations import ACTIVATIONS
from .losses import get_loss
from .model import MAX_LAYERS, MAX_WIDTH
from .optimizers import OPTIMIZERS
from .registry import lookup

MAX_EPOCHS = 100_000
MAX_LR = 100.0


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run. Validated on construction (ValueError)."""

    dataset: str = "moons"
    n_samples: int = 500
    noise: float | None = None  # None: the dataset's own default
    outlier_fraction: float = 0.1
    test_fraction: float = 0.2
    seed: int = 0
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    huber_delta: float = 1.0
    optimizer: str = "adam"
    momentum: float = 0.9
    lr: float = 0.01
    l2: float = 0.0
    l1: float = 0.0
    batch_size: int = 0  # 0: full batch, one step per epoch
    epochs: int = 200

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(_whole(h, "hidden width") for h in self.hidden))
        for name in ("n_samples", "seed", "batch_size", "epochs"):
            object.__setattr__(self, name, _whole(getattr(self, name), name))
        from .datasets import DATASETS  # late import: datasets pulls in scikit-learn

        spec = lookup(DATASETS, self.dataset, "dataset")
        lookup(ACTIVATIONS, self.activation, "activation")
        get_loss(self.loss, spec.task)  # also: cross-entropy is not for regression data
        lookup(OPTIMIZERS, self.optimizer, "optimizer")
        self._check_ranges()
        self._check_data_options()

    def _check_data_options(self) -> None:
        from .datasets import N_SAMPLES_RANGE, NOISE_RANGE, OUTLIER_FRACTION_RANGE, TEST_FRACTION_RANGE

        lo, hi = N_SAMPLES_RANGE
        if not lo <= self.n_samples <= hi:
            raise ValueError(f"n_samples must be in {lo}..{hi}, got {self.n_samples}")
        checks = (("noise", NOISE_RANGE), ("test_fraction", TEST_FRACTION_RANGE),
                  ("outlier_fraction", OUTLIER_FRACTION_RANGE))
        for name, (lo, hi) in checks:
            v = getattr(self, name)
            if name == "noise" and v is None:
                continue
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi):
                raise ValueError(f"{name} must be a number between {lo:g} and {hi:g}, got {v!r}")

    def _check_ranges(self) -> None:
        if len(self.hidden) + 1 > MAX_LAYERS:
            raise ValueError(f"at most {MAX_LAYERS - 1} hidden layers, got {len(self.hidden)}")
        for h in self.hidden:
            if not 1 <= h <= MAX_WIDTH:
                raise ValueError(f"hidden width must be between 1 and {MAX_WIDTH}, got {h}")
        _positive(self.lr, "learning rate", MAX_LR)
        _positive(self.huber_delta, "huber delta", 1e6)
        for name in ("l2", "l1"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v <= 10):
                raise ValueError(f"{name} must be a number between 0 and 10, got {v!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if self.batch_size < 0:
            raise ValueError(f"batch size must be 0 (full batch) or positive, got {self.batch_size}")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, got {self.epochs}")

    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """Build from a dict (unknown keys rejected with a clear message)."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {', '.join(sorted(names))}")
        return cls(**{**d, "hidden": tuple(d.get("hidden", cls.hidden))})


def _whole(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer():
        raise ValueError(f"{name} must be a whole number, got {v!r}")
    return int(v)


def _positive(v: Any, name: str, upper: float) -> None:
    if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v <= upper):
        raise ValueError(f"{name} must be a positive number up to {upper:g}, got {v!r}")
