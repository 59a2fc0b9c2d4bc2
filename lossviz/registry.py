"""A tiny helper shared by every registry: look a name up or say what is allowed."""

from __future__ import annotations

from typing import Mapping, TypeVar

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: object, kind: str) -> T:
    """Return ``registry[name]`` or raise a ValueError that lists the allowed names.

    Parameters
    ----------
    registry : mapping from name to entry
    name : the requested name (anything; non-strings are rejected the same way)
    kind : what the entries are, for the message ("loss", "optimizer", ...)
    """
    if isinstance(name, str) and name in registry:
        return registry[name]
    allowed = ", ".join(registry)
    raise ValueError(f"unknown {kind} {name!r}; choose one of: {allowed}")
