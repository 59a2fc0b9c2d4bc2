"""The control table: each run control is one row, mapped to one field of ``RunConfig``.

Layout builds the widgets from this table and the callbacks parse their values with it, so a
new setting is one new row. Dropdown options come from the engine's registries.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, replace
from typing import Any, Callable

from lossviz import ACTIVATIONS, DATASETS, LOSSES, OPTIMIZERS, RunConfig
from lossviz.config import FIELD_RANGES

from ..runs import caps
from . import ids

MAX_HIDDEN_LAYERS = int(caps.limit("hidden_layers"))
DEFAULT = RunConfig()
JS_SAFE_INTEGER = 2 ** 53 - 1  # a seed travels the page as a JSON number: no bigger, or it rounds


@dataclass(frozen=True)
class Control:
    """One run control: the config field it sets, its widget id, words and parser."""

    field: str
    id: str
    label: str
    tooltip: str
    kind: str  # "dropdown" or "text"
    default: Any
    parse: Callable[[Any, str], Any] = lambda v, label: v
    options: tuple = ()

    @property
    def allowed(self) -> str:
        """The values the control takes, in words (from the engine's range, or the options)."""
        r = getattr(self.parse, "range", None)
        return r.text() if r is not None else ", ".join(str(o["value"]) for o in self.options
                                                       if not o.get("disabled"))

    @property
    def hint(self) -> str:
        """The tooltip with the allowed values."""
        r = getattr(self.parse, "range", None)
        return f"{self.tooltip} Allowed: {r.text()}." if r is not None else self.tooltip


def _number(field: str, cap: str | None = None, most: float | None = None) -> Callable[[Any, str], Any]:
    """Parser for a text box: a number in the engine's range for ``field`` (``FIELD_RANGES``),
    narrowed by the server cap ``cap`` or to ``most``; else a plain message."""
    r = FIELD_RANGES[field]
    hi = min([r.hi] + [v for v in (caps.limit(cap) if cap else None, most) if v is not None])
    r = replace(r, hi=hi, hi_open=r.hi_open and hi == r.hi)
    kind = int if r.whole else float

    def parse(raw: Any, label: str) -> Any:
        text = "" if raw is None else str(raw).strip()
        if text == "":
            raise ValueError(f"{label}: please enter a number")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{label}: '{text}' is not a number") from None
        if kind is int and not value.is_integer():
            raise ValueError(f"{label}: needs a whole number, got '{text}'")
        if value not in r:
            raise ValueError(f"{label}: must be {r.text()}, got '{text}'")
        return int(text) if kind is int and text.isdigit() else kind(value)

    parse.range = r
    return parse


def _dataset_options() -> tuple:
    opts = []
    for task, title in (("classification", "Classification"), ("regression", "Regression")):
        opts.append({"label": f"— {title} —", "value": f"__{task}", "disabled": True})
        opts += [{"label": s.label, "value": s.name, "title": s.description}
                 for s in DATASETS.values() if s.task == task]
    return tuple(opts)


def _registry_options(registry: dict) -> tuple:
    return tuple({"label": e.label, "value": e.name, "title": e.explanation} for e in registry.values())


CONTROLS: tuple[Control, ...] = (
    Control("dataset", ids.DATASET, "Dataset", "The points the network learns from.",
            "dropdown", DEFAULT.dataset, options=_dataset_options()),
    Control("noise", ids.NOISE, "Noise", "How much the points are jittered (0 = clean).",
            "text", 0.2, _number("noise")),
    Control("n_samples", ids.SAMPLES, "Samples", "How many points, 80% for training.",
            "text", DEFAULT.n_samples, _number("n_samples", "samples")),
    Control("outlier_fraction", ids.OUTLIERS, "Outliers",
            "Fraction of training points moved far off the line.",
            "text", DEFAULT.outlier_fraction, _number("outlier_fraction")),
    Control("activation", ids.ACTIVATION, "Activation", "The bend each hidden neuron applies.",
            "dropdown", DEFAULT.activation, options=_registry_options(ACTIVATIONS)),
    Control("loss", ids.LOSS, "Loss", "How a wrong answer is scored; it sets every gradient.",
            "dropdown", DEFAULT.loss, options=_registry_options(LOSSES)),
    Control("huber_delta", ids.HUBER_DELTA, "Huber δ",
            "Residuals bigger than δ count linearly, not squared.", "text",
            DEFAULT.huber_delta, _number("huber_delta")),
    Control("label_smoothing", ids.LABEL_SMOOTHING, "Label smoothing ε",
            "Cross-entropy aims the true class at 1 − ε + ε/K instead of 1 (0 = off).", "text",
            DEFAULT.label_smoothing, _number("label_smoothing")),
    Control("optimizer", ids.OPTIMIZER, "Optimizer", "The rule that turns gradients into steps.",
            "dropdown", DEFAULT.optimizer, options=_registry_options(OPTIMIZERS)),
    Control("momentum", ids.MOMENTUM, "Momentum", "How much of the last step carries over.",
            "text", DEFAULT.momentum, _number("momentum")),
    Control("lr", ids.LR, "Learning rate", "Step size: too small crawls, too big diverges.",
            "text", DEFAULT.lr, _number("lr")),
    Control("batch_size", ids.BATCH, "Batch size", "Points per step; 0 means all of them (full batch).",
            "text", DEFAULT.batch_size, _number("batch_size", "samples")),
    Control("epochs", ids.EPOCHS, "Epochs", "Passes over the training data.",
            "text", DEFAULT.epochs, _number("epochs", "epochs")),
    Control("l2", ids.L2, "L2", "Weight decay: pulls weights towards zero (0 = off).",
            "text", DEFAULT.l2, _number("l2")),
    Control("l1", ids.L1, "L1", "Pushes small weights to exactly zero (0 = off).",
            "text", DEFAULT.l1, _number("l1")),
    Control("seed", ids.SEED, "Seed", "Same seed, same data and same starting weights.",
            "text", DEFAULT.seed, _number("seed", most=JS_SAFE_INTEGER)),
)
BY_FIELD = {c.field: c for c in CONTROLS}
LAYERS_TOOLTIP = "Hidden layers between input and output (0 = a linear model)."
WIDTH_TOOLTIP = f"Neurons in each hidden layer ({_number('hidden', 'width').range.text()})."


def parse_hidden(n_layers: Any, widths: list[Any]) -> tuple[int, ...]:
    """Hidden widths from the layer-count dropdown and the width boxes."""
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, float, type(None))):
        raise ValueError("Hidden layers: please pick a number")
    n = int(n_layers or 0)
    caps.check("hidden_layers", n)
    parse = _number("hidden", "width")
    return tuple(parse(w, f"Width of layer {i + 1}") for i, w in enumerate(widths[:n]))


def parse_controls(values: dict[str, Any], n_layers: Any, widths: list[Any]) -> RunConfig:
    """A validated RunConfig from raw widget values; ValueError with a plain message."""
    fields = {c.field: c.parse(values.get(c.field), c.label) for c in CONTROLS}
    fields["hidden"] = parse_hidden(n_layers, widths)
    task = DATASETS[fields["dataset"]].task if fields["dataset"] in DATASETS else None
    if task == "regression" and fields["loss"] == "cross_entropy":
        raise ValueError("Cross-entropy needs classes: pick MSE or Huber for regression data")
    config = RunConfig(**fields)
    caps.check_config(config)  # said now, beside the settings, not only when Train is pressed
    return config


def visible_fields(dataset: str, loss: str, optimizer: str) -> set[str]:
    """Fields whose rows apply to the current choices (others are hidden)."""
    spec = DATASETS.get(dataset)
    shown = {c.field for c in CONTROLS} - {"noise", "outlier_fraction", "huber_delta", "label_smoothing",
                                           "momentum"}
    if spec is not None and spec.uses_noise:
        shown.add("noise")
    if spec is not None and spec.uses_outliers:
        shown.add("outlier_fraction")
    hyper = LOSSES[loss].hyper if loss in LOSSES else None
    if hyper is not None:  # the loss's own hyper-parameter: Huber's δ, cross-entropy's ε
        shown.add(hyper)
    if optimizer in OPTIMIZERS and OPTIMIZERS[optimizer].uses_momentum:
        shown.add("momentum")
    return shown


def loss_options(dataset: str) -> list[dict]:
    """Loss options with cross-entropy greyed out (and why) on regression data."""
    regression = DATASETS.get(dataset) is not None and DATASETS[dataset].task == "regression"
    opts = []
    for e in LOSSES.values():
        off = regression and "regression" not in e.tasks
        label = f"{e.label} (needs classes)" if off else e.label
        opts.append({"label": label, "value": e.name, "disabled": off, "title": e.explanation})
    return opts


SPEEDS = {  # label, optimizer steps per training tick (None: as many as fit in the tick)
    "slow": ("Slow", 1),
    "normal": ("Normal", 6),
    "fast": ("Fast", 30),
    "max": ("Max", None),
}
VIEW_DEFAULTS = dict(grid=41, span=1.0, log_z=False, display="both", directions="random",
                     speed="normal")


def is_number(v) -> bool:
    """A finite int or float from the page (not a bool, not text)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
