"""What the page downloads, made small: a plotly.js of our own, gzip, and cache headers.

- **plotly.js**: Dash's graphs load plotly.js by themselves from one fixed address (the plotly
  package's full ``plotly.min.js``, 4.8 MB, every trace type there is). The app answers that
  address with ``assets/vendor/plotly-lossviz.min.js`` (1.8 MB: core and scatter, bar, contour,
  heatmap, surface, scatter3d; built by ``tools/plotly-bundle``), so the page keeps loading it
  asynchronously, beside its first requests. Without that file the full one is served.
- **gzip**: text answers (the page, its scripts and styles, the layout and callback answers)
  go gzip-compressed to browsers that accept it: static files compressed once per process and
  kept (``PackedFiles``: keyed by the real file, whatever fingerprint the address carries, and
  bounded in files and bytes), callback answers at a fast level.
- **cache headers**: assets with Dash's fingerprint (``?m=`` its modification time) may be kept
  a year; the plotly.js bundle is revalidated by its ETag on each visit.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import zlib
from collections import OrderedDict
from pathlib import Path

from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PLOTLY_BUNDLE = ASSETS / "vendor" / "plotly-lossviz.min.js"
PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"  # what dcc.Graph loads
TRACE_TYPES = ("scatter", "bar", "contour", "heatmap", "surface", "scatter3d")  # what the bundle registers
COMPRESSIBLE = ("application/json", "application/javascript", "text/javascript", "text/css", "text/html")
MIN_BYTES = 1400  # smaller answers fit one packet anyway
STATIC_LEVEL, DYNAMIC_LEVEL = 6, 1  # gzip 1 compresses a 250 KB figure in ~2 ms, to about a fifth
YEAR_S = 365 * 24 * 3600
# The page loads about fifteen static files (≈2 MB gzipped); room for all of them, and a bound
# whatever addresses clients make up.
PACKED_FILES, PACKED_BYTES = 64, 16 * 2 ** 20


def install(app) -> None:
    """Serve the plotly.js bundle, compress and set cache headers on ``app``'s Flask server."""
    server: Flask = app.server
    prefix = app.config.requests_pathname_prefix or "/"
    if PLOTLY_BUNDLE.exists():
        _serve_bundle(server, prefix + PLOTLY_PATH, PLOTLY_BUNDLE.read_bytes())
    _compress_and_cache(server, prefix)


def _serve_bundle(server: Flask, path: str, body: bytes) -> None:
    etag = hashlib.sha256(body).hexdigest()[:20]
    packed = gzip.compress(body, STATIC_LEVEL, mtime=0)

    @server.before_request
    def plotly_bundle():
        if request.path != path:
            return None
        headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if etag in request.if_none_match:
            return Response(status=304, headers=headers)
        zipped = request.accept_encodings["gzip"] > 0
        resp = Response(packed if zipped else body, mimetype="application/javascript", headers=headers)
        if zipped:
            resp.headers["Content-Encoding"] = "gzip"
        return resp


class PackedFiles:
    """The gzip of static files, one entry per real file and at most ``most_files`` entries and
    ``most_bytes`` bytes (the least recently used go first).

    Dash serves a file at any fingerprint (``name.v<version>m<time>.js``), so the address
    cannot be the key: a client making up fingerprints would add an entry per request. The key
    is the address with the fingerprint taken off; the entry remembers the length and CRC of the
    body it packed, so a changed file is packed again.
    """

    def __init__(self, most_files: int = PACKED_FILES, most_bytes: int = PACKED_BYTES) -> None:
        self.most_files, self.most_bytes = most_files, most_bytes
        self._entries: OrderedDict[str, tuple[tuple[int, int], bytes]] = OrderedDict()
        self._bytes = 0
        self._guard = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def packed(self, path: str, body: bytes) -> bytes:
        """The gzip of ``body``, the static file at ``path``: from the cache, or made and kept."""
        key, tag = check_fingerprint(path)[0], (len(body), zlib.crc32(body))
        with self._guard:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == tag:
                self._entries.move_to_end(key)
                return hit[1]
        zipped = gzip.compress(body, STATIC_LEVEL, mtime=0)
        if len(zipped) <= self.most_bytes:
            with self._guard:
                old = self._entries.pop(key, None)
                self._bytes -= len(old[1]) if old else 0
                self._entries[key] = (tag, zipped)
                self._bytes += len(zipped)
                while len(self._entries) > self.most_files or self._bytes > self.most_bytes:
                    self._bytes -= len(self._entries.popitem(last=False)[1][1])
        return zipped


def _compress_and_cache(server: Flask, prefix: str) -> None:
    static = (prefix + "assets/", prefix + "_dash-component-suites/")
    packed = server.extensions["lossviz.packed"] = PackedFiles()  # one per process

    @server.after_request
    def compress(resp: Response) -> Response:
        path = request.path
        if path.startswith(static[0]) and request.args.get("m") and resp.status_code == 200:
            resp.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
        if (resp.status_code != 200 or "Content-Encoding" in resp.headers or resp.mimetype not in COMPRESSIBLE or request.accept_encodings["gzip"] <= 0):
            return resp
        resp.direct_passthrough = False  # a static file: read it, to compress it
        body = resp.get_data()
        if len(body) < MIN_BYTES:
            return resp
        if path.startswith(static):
            zipped = packed.packed(path, body)
        else:
            zipped = gzip.compress(body, DYNAMIC_LEVEL, mtime=0)
        resp.set_data(zipped)
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers.add("Vary", "Accept-Encoding")
        return resp
