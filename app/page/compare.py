"""Compare mode's settings: which setting run B changes, and to what.

One row per setting a comparison may vary (``lossviz.VARIABLE_FIELDS``): its label, whether B's
value is picked from a registry (a dropdown) or typed (a number, or widths like ``16,16``), how
it is parsed (the same parser as the main control), and a first suggestion for B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from lossviz import ACTIVATIONS, LOSSES, OPTIMIZERS, VARIABLE_FIELDS, RunConfig

from .controls import BY_FIELD, parse_hidden


@dataclass(frozen=True)
class CompareField:
    field: str
    label: str
    options: tuple = ()  # registry choices (a dropdown); empty: a text box
    parse: Callable[[Any], Any] | None = None
    suggest: Callable[[RunConfig], Any] = lambda c: None


def _choices(registry) -> tuple:
    return tuple({"label": e.label, "value": e.name} for e in registry.values())


def _number(field: str) -> Callable[[Any], Any]:
    c = BY_FIELD[field]
    return lambda raw: c.parse(raw, f"Run B's {c.label.lower()}")


def _widths(raw: Any) -> tuple:
    parts = [p.strip() for p in str(raw or "").split(",") if p.strip()]
    return parse_hidden(len(parts), parts)


def _other(options: tuple, current: str, prefer: str) -> str:
    names = [o["value"] for o in options]
    return prefer if prefer != current and prefer in names else next(n for n in names if n != current)


COMPARE_FIELDS: dict[str, CompareField] = {f.field: f for f in [
    CompareField("loss", "Loss", _choices(LOSSES),
                 suggest=lambda c: "mse" if c.loss != "mse" else "cross_entropy"),
    CompareField("lr", "Learning rate", parse=_number("lr"), suggest=lambda c: min(c.lr * 10, 100.0)),
    CompareField("optimizer", "Optimizer", _choices(OPTIMIZERS),
                 suggest=lambda c: "sgd" if c.optimizer != "sgd" else "adam"),
    CompareField("activation", "Activation", _choices(ACTIVATIONS),
                 suggest=lambda c: "relu" if c.activation != "relu" else "tanh"),
    CompareField("hidden", "Hidden widths", parse=_widths,
                 suggest=lambda c: tuple(2 * w for w in c.hidden) or (16,)),
    CompareField("batch_size", "Batch size", parse=_number("batch_size"),
                 suggest=lambda c: 32 if c.batch_size == 0 else 0),
    CompareField("l2", "L2", parse=_number("l2"), suggest=lambda c: 0.01 if c.l2 == 0 else 0.0),
    CompareField("huber_delta", "Huber δ", parse=_number("huber_delta"),
                 suggest=lambda c: 0.1 if c.huber_delta != 0.1 else 1.0),
    CompareField("label_smoothing", "Label smoothing ε", parse=_number("label_smoothing"),
                 suggest=lambda c: 0.1 if c.label_smoothing == 0 else 0.0),
    CompareField("momentum", "Momentum", parse=_number("momentum"),
                 suggest=lambda c: 0.5 if c.momentum != 0.5 else 0.9),
]}
assert set(COMPARE_FIELDS) <= set(VARIABLE_FIELDS)  # the engine decides what may vary


def field_options() -> list[dict]:
    return [{"label": f.label, "value": f.field} for f in COMPARE_FIELDS.values()]


def suggestion(field: str, config: RunConfig) -> tuple[Any, str]:
    """B's first value for ``field``: (dropdown value or None, text or "")."""
    f = COMPARE_FIELDS[field]
    value = f.suggest(config)
    if f.options:
        return value, ""
    if isinstance(value, tuple):
        return None, ",".join(map(str, value))
    return None, f"{value:g}"


def parse_compare(on: Any, field: Any, choice: Any, text: Any, config: RunConfig) -> dict | None:
    """{"vary": field, "value": B's value} when Compare is on, else None (ValueError in words).

    B's settings are checked whole (``RunConfig``): cross-entropy on regression data, a
    learning rate out of range… are refused here with the engine's message.
    """
    if not on:
        return None
    if field not in COMPARE_FIELDS:
        raise ValueError("Compare: pick the setting run B changes")
    f = COMPARE_FIELDS[field]
    value = (choice if choice in {o["value"] for o in f.options} else None) if f.options else f.parse(text)
    if value is None:
        raise ValueError(f"Compare: pick run B's {f.label.lower()}")
    if value == getattr(config, field):
        raise ValueError(f"Compare: run B's {f.label.lower()} is the same as run A's — pick another")
    try:
        config.replace(**{field: value})
    except ValueError as exc:
        raise ValueError(f"Run B: {exc}") from None
    return {"vary": field, "value": list(value) if isinstance(value, tuple) else value}
