"""Checks for values entering the engine: the value back, cleaned, or one ValueError naming it.

Every public entry point runs its arguments through these once; code past the door trusts them.
Bools are refused as numbers (``True`` is an ``int`` to Python, never a width or a rate to a
user), strings are never parsed (the app parses its text fields itself), and a huge integer is
refused by its range, never by an OverflowError on the way to float.
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np

Array = np.ndarray


def short(value: object, limit: int = 60) -> str:
    """A short ``repr`` of ``value`` for a message; arrays by dtype and shape only."""
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    try:
        text = reprlib.repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not hide the real message
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def finite_real(value: object) -> float | None:
    """``value`` as a float if it is a finite real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        f = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return f + 0.0 if math.isfinite(f) else None  # + 0.0: -0.0 becomes 0.0 (NumPy's scale < 0)


def whole(value: object) -> int | None:
    """``value`` as an int if it is a whole number (an integer, or a float like 3.0), else None.

    Integers of any size come back as they are, so a range check can refuse them by size.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    f = finite_real(value)
    return int(f) if f is not None and f.is_integer() else None


def number(value: object, name: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """``value`` as a finite float in ``[lo, hi]``, or ValueError naming ``name``."""
    f = finite_real(value)
    if f is None or not lo <= f <= hi:
        span = "" if (lo, hi) == (-math.inf, math.inf) else f" between {lo:g} and {hi:g}"
        raise ValueError(f"{name} must be a finite number{span}, got {short(value)}")
    return f


def integer(value: object, name: str, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``lo..hi`` (no upper bound if None), or ValueError naming ``name``."""
    n = whole(value)
    if n is None or n < lo or (hi is not None and n > hi):
        span = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be a whole number {span}, got {short(value)}")
    return n


def real_array(value: object, name: str, finite: bool = True) -> Array:
    """``value`` as a float64 array: numbers only (no bools, strings, None or objects).

    With ``finite``, NaN and infinite entries are refused too. Only arrays, lists, tuples and
    numbers are read: a ``range(10**12)`` or a generator is refused, never materialized.
    """
    if not isinstance(value, (np.ndarray, list, tuple, numbers.Real, np.generic)) \
            and not hasattr(value, "__array__"):
        raise ValueError(f"{name} must be an array of numbers, got {short(value)}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raise ValueError(f"{name} must be an array of numbers, got {short(value)}") from None
    except MemoryError:  # e.g. a list holding range(10**12): nothing was allocated
        raise ValueError(f"{name} is far too large, got {short(value)}") from None
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be an array of numbers, got {short(value)}")
    a = a.astype(np.float64, copy=False)
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def vector(value: object, name: str, size: int, why: str = "") -> Array:
    """A finite float64 vector of shape ``(size,)``; ``why`` says what fixes the size."""
    a = real_array(value, name)
    if a.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},){why}, got shape {a.shape}")
    return a
