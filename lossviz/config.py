"""The one object that says what a run is: every control of the app maps to one field.

A ``RunConfig`` is a frozen, validated value. Two configs that are equal describe the same run
(same seed, same data, same initial weights), so a config is also a cache key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Set, Sized
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .activations import ACTIVATIONS
from .checks import finite_real, short, whole
from .losses import LOSSES, get_loss
from .datasets import DATASETS
from .model import MAX_LAYERS, MAX_WIDTH
from .optimizers import OPTIMIZERS
from .ranges import FIELD_RANGES, MAX_EPOCHS, MAX_LR, MAX_SEED, Range  # noqa: F401 (re-exported)
from .registry import lookup
from .tabular import is_table_name, parse_table_name

@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run. Validated on construction (ValueError)."""

    dataset: str = "moons"
    n_samples: int = 500
    noise: float | None = None  # None: the dataset's own default
    outlier_fraction: float = 0.1
    test_fraction: float = 0.2
    seed: int = 27  # its untrained default network is at chance (50%) on moons; seed 0 started at 86%
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    huber_delta: float = 1.0
    label_smoothing: float = 0.0  # cross-entropy's targets: (1 - eps) onehot + eps / K
    optimizer: str = "adam"
    momentum: float = 0.9
    lr: float = 0.01
    l2: float = 0.0
    l1: float = 0.0
    batch_size: int = 0  # 0: full batch, one step per epoch
    epochs: int = 200

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", _widths(self.hidden))
        for name in ("n_samples", "seed", "batch_size", "epochs"):
            object.__setattr__(self, name, _whole(getattr(self, name), name))

        # An uploaded table ("csv:<hash>") is in no registry; its task is known with its data,
        # where make_run checks the loss against it.
        if is_table_name(self.dataset):
            parse_table_name(self.dataset)  # the form only: ValueError when malformed
        spec = None if is_table_name(self.dataset) else lookup(DATASETS, self.dataset, "dataset")
        lookup(ACTIVATIONS, self.activation, "activation")
        lookup(OPTIMIZERS, self.optimizer, "optimizer")
        get_loss(self.loss)
        # cross-entropy is not for regression data
        if spec is not None and spec.task not in get_loss(self.loss).tasks:
            fits = ", ".join(name for name, loss in LOSSES.items() if spec.task in loss.tasks)
            raise ValueError(f"loss {self.loss!r} is not defined for {spec.task} data such as "
                             f"dataset {self.dataset!r}; choose one of: {fits}")
        self._check_ranges()
        self._check_data_options()

    def _check_data_options(self) -> None:
        lo, hi = FIELD_RANGES["n_samples"].lo, FIELD_RANGES["n_samples"].hi
        if self.n_samples not in FIELD_RANGES["n_samples"]:
            raise ValueError(f"n_samples must be in {lo}..{hi}, got {self.n_samples}")
        for name in ("noise", "test_fraction", "outlier_fraction"):
            v, r = getattr(self, name), FIELD_RANGES[name]
            if name == "noise" and v is None:
                continue
            f = finite_real(v)
            if f is None or f not in r:
                raise ValueError(f"{name} must be a number between {r.lo:g} and {r.hi:g}, got {short(v)}")
            object.__setattr__(self, name, f)

    def _check_ranges(self) -> None:
        for h in self.hidden:
            if h not in FIELD_RANGES["hidden"]:
                raise ValueError(f"hidden width must be between 1 and {MAX_WIDTH}, got {h}")
        if self.seed not in FIELD_RANGES["seed"]:
            raise ValueError(f"seed must be a whole number from 0 to 2**64 - 1, got {self.seed}")
        self._set_number("lr", "learning rate")
        self._set_number("huber_delta", "huber delta")
        self._set_number("label_smoothing", "label smoothing")
        for name in ("l2", "l1"):
            self._set_number(name, name)
        m = finite_real(self.momentum)
        if m is None or m not in FIELD_RANGES["momentum"]:
            raise ValueError(f"momentum must be in [0, 1), got {short(self.momentum)}")
        object.__setattr__(self, "momentum", m)
        if self.batch_size < 0:
            raise ValueError(f"batch size must be 0 (full batch) or positive, got {self.batch_size}")
        if self.epochs not in FIELD_RANGES["epochs"]:
            raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, got {self.epochs}")

    def _set_number(self, name: str, words: str) -> None:
        """Check a float field is in its range (``FIELD_RANGES``); store it as a float."""
        v, r = getattr(self, name), FIELD_RANGES[name]
        f = finite_real(v)
        if f is None or f not in r:
            raise ValueError(f"{words} must be {_words(r)}, got {short(v)}")
        object.__setattr__(self, name, f)

    @property
    def loss_hyper(self) -> float:
        """The value of this loss's one hyper-parameter (Huber's δ, cross-entropy's ε; 0.0 if
        it has none): what the loss functions receive as ``delta``."""
        name = LOSSES[self.loss].hyper  # the name was checked on construction
        return float(getattr(self, name)) if name else 0.0

    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunConfig":
        """Build from a dict (unknown keys rejected with a clear message)."""
        if not isinstance(d, Mapping):
            raise ValueError(f"settings must be a dict of setting names to values, got {short(d)}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(short(k) for k in d if k not in names)
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return cls(**d)


def _words(r: Range) -> str:
    """A float range in a message: "a positive number up to 100", "a number from 0 to below 1"."""
    if r.lo_open:
        return f"a positive number up to {r.hi:g}"
    return f"a number {r.text()}" if r.hi_open else f"a number between {r.lo:g} and {r.hi:g}"


def _whole(v: Any, name: str) -> int:
    n = whole(v)
    if n is None:
        raise ValueError(f"{name} must be a whole number, got {short(v)}")
    return n


def _widths(hidden: Any) -> tuple[int, ...]:
    """Hidden widths as a tuple of ints; a huge or endless iterable is refused, never read out."""
    if isinstance(hidden, (str, bytes, Mapping, Set)) or not isinstance(hidden, Iterable):
        raise ValueError(f"hidden must be a list of whole numbers (one width per hidden layer), "
                         f"got {short(hidden)}")
    try:
        widths = list(itertools.islice(hidden, MAX_LAYERS))
    except TypeError:  # a 0-d array is Iterable but cannot be iterated
        raise ValueError(f"hidden must be a list of whole numbers (one width per hidden layer), "
                         f"got {short(hidden)}") from None
    if len(widths) >= MAX_LAYERS:
        count = len(hidden) if isinstance(hidden, Sized) else "more"
        raise ValueError(f"at most {MAX_LAYERS - 1} hidden layers, got {count}")
    return tuple(_whole(h, "hidden width") for h in widths)
