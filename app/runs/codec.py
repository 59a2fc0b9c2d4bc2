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
import re
import struct
import threading
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
                return _read_npy(data, base + start, length)
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(head)


# An .npy header as np.save writes it: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
_NPY_HEADER = re.compile(r"\{'descr': '([<>|=]?[a-zA-Z]\d*)', 'fortran_order': (True|False), "
                         r"'shape': \(((?:\d+, ?)*\d*)\), \}\s*")
_NPY_FALLBACK = threading.Lock()


def _read_npy(data: bytes, at: int, length: int) -> np.ndarray:
    """The array in ``data[at:at + length]`` (.npy bytes), read without ``np.load``.

    np.load parses the header with ``ast.literal_eval``, and on CPython 3.11 (3.11.7 here) the
    parser's recursion bookkeeping is shared between threads: two request threads decoding at
    once raised "SystemError: AST constructor recursion depth mismatch" (one of 16,136 requests
    under a class's load). np.save's own header is read here with a pattern; anything else goes
    to np.load, one thread at a time.
    """
    blob = data[at:at + length]
    if len(blob) < 10 or blob[:6] != b"\x93NUMPY":
        raise ValueError("not an encoded value")
    major = blob[6]
    size, start = (struct.unpack_from("<H", blob, 8)[0], 10) if major == 1 else (struct.unpack_from("<I", blob, 8)[0], 12)
    match = _NPY_HEADER.fullmatch(blob[start:start + size].decode("latin1"))
    if match is None:
        with _NPY_FALLBACK:
            return np.load(io.BytesIO(blob), allow_pickle=False)
    dtype = np.dtype(match.group(1))
    shape = tuple(int(n) for n in match.group(3).replace(" ", "").split(",") if n)
    count = int(np.prod(shape, dtype=np.int64))
    body = blob[start + size:]
    if count * dtype.itemsize != len(body) or dtype.hasobject:
        raise ValueError("not an encoded value")
    flat = np.frombuffer(body, dtype=dtype, count=count).copy()  # writable, as np.load's
    return flat.reshape(shape, order="F" if match.group(2) == "True" else "C")
