"""The allowed range of every number setting, once, below everything that checks one.

``RunConfig`` (lossviz.config) checks its fields against ``FIELD_RANGES``; the data modules
(lossviz.datasets, lossviz.tabular) check theirs here too, so the data sits below the config
and neither imports the other's module; the app's controls, links and the CLI's help derive
their ranges from it (the app may only narrow one, by a cap).
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import MAX_WIDTH

MAX_EPOCHS = 100_000
MAX_LR = 100.0
MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class Range:
    """The allowed values of one number setting: from ``lo`` to ``hi``; an open end excludes
    its bound (the learning rate is above 0, momentum below 1). ``whole``: integers only."""

    lo: float
    hi: float
    whole: bool = False
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, v: float) -> bool:
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above and below

    def text(self) -> str:
        """In words, e.g. "between 20 and 20,000", "above 0, up to 100", "from 0 to below 1"."""
        show = (lambda v: f"{int(v):,}") if self.whole else (lambda v: f"{v:g}")
        lo, hi = show(self.lo), show(self.hi)
        if self.lo_open:
            return f"above {lo}, up to {hi}" if not self.hi_open else f"above {lo} and below {hi}"
        return f"from {lo} to below {hi}" if self.hi_open else f"between {lo} and {hi}"


# Every number setting's range.
FIELD_RANGES: dict[str, Range] = {
    "n_samples": Range(20, 20_000, whole=True),
    "noise": Range(0.0, 5.0),
    "outlier_fraction": Range(0.0, 0.5),
    "test_fraction": Range(0.05, 0.5),
    "seed": Range(0, MAX_SEED, whole=True),
    "hidden": Range(1, MAX_WIDTH, whole=True),  # each hidden width
    "huber_delta": Range(0.0, 1e6, lo_open=True),
    "label_smoothing": Range(0.0, 1.0, hi_open=True),  # cross-entropy's eps (PyTorch allows 1: nothing learnt)
    "momentum": Range(0.0, 1.0, hi_open=True),
    "lr": Range(0.0, MAX_LR, lo_open=True),
    "l2": Range(0.0, 10.0),
    "l1": Range(0.0, 10.0),
    "batch_size": Range(0, 20_000, whole=True),  # 0: full batch; more than the data is the data
    "epochs": Range(1, MAX_EPOCHS, whole=True),
}
