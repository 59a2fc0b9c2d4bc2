"""Values to bytes and back without pickle: JSON for structure, ``.npy`` for arrays.

Everything the server stores (run records, trainer state, landscapes) goes through here, so
nothing read back from a store is ever unpickled, whoever wrote the bytes. A value is any mix
of dicts (str keys), lists, tuples (read back as lists), str, int, float (NaN and inf kept),
bool, None and NumPy arrays of numbers or strings.

Layout: 4-byte big-endian length of the JSON header, the header, then the arrays' ``.npy``
bytes back to back; arrays are replaced in the header by ``{"__array__": [offset, length]}``.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np

_HEAD = struct.Struct(">I")
_ARRAY = "__array__"


def encode(value: Any) -> bytes:
    """Bytes for ``value`` (see the module docstring for what a value may hold)."""
    blobs: list[bytes] = []
    offset = [0]

    def walk(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(v), allow_pickle=False)
            data = buf.getvalue()
            blobs.append(data)
            ref = {_ARRAY: [offset[0], len(data)]}
            offset[0] += len(data)
            return ref
        if isinstance(v, dict):
            if _ARRAY in v:
                raise ValueError(f"a dict key may not be {_ARRAY!r}")
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        if v is None or isinstance(v, (str, int, float, bool)):
            return v
        raise TypeError(f"cannot encode a {type(v).__name__}")

    head = json.dumps(walk(value), separators=(",", ":")).encode()
    return _HEAD.pack(len(head)) + head + b"".join(blobs)


def decode(data: bytes) -> Any:
    """The value :func:`encode` turned into ``data`` (ValueError on malformed bytes)."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) < _HEAD.size:
        raise ValueError("not an encoded value")
    data = bytes(data)
    (n,) = _HEAD.unpack_from(data)
    try:
        head = json.loads(data[_HEAD.size:_HEAD.size + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not an encoded value") from exc
    base = _HEAD.size + n
    if base == len(data):  # no arrays: the JSON is the value (most records a tick reads)
        return head

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if set(v) == {_ARRAY}:
                start, length = v[_ARRAY]
                return np.load(io.BytesIO(data[base + start:base + start + length]), allow_pickle=False)
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(head)
