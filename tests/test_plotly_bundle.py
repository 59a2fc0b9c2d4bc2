"""What the page downloads (``app.static``): our plotly.js bundle holds every trace type the
app's figures use and is served where Dash's graphs load plotly.js from; text answers are
gzip-compressed for browsers that accept it; fingerprinted assets may be cached."""
from __future__ import annotations

import ast
import gzip
import json
import re
from pathlib import Path

import pytest

from app.page import ids
from app import static
from dash_client import Page, app, ready_run  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
TRACE_KEYS = {"x", "y", "z", "values"}  # a dict with a constant type and data is a trace (a shape has x0, x1)


def _trace_types_in(path: Path) -> set[str]:
    """Trace types a module's figure code writes: dict(type="...", x=...) and {"type": "...", "x": ...}."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            keys = set(kw)
            kind = kw.get("type")
        elif isinstance(node, ast.Dict):
            pairs = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
            keys, kind = set(pairs), pairs.get("type")
        else:
            continue
        if isinstance(kind, ast.Constant) and isinstance(kind.value, str) and keys & TRACE_KEYS:
            found.add(kind.value)
    return found


def _app_trace_types() -> set[str]:
    return set().union(*(_trace_types_in(p) for p in (ROOT / "app").rglob("*.py")))


def _registered() -> set[str]:
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', static.PLOTLY_BUNDLE.read_text()))


def test_the_figures_use_the_trace_types_we_know():
    assert {"scatter", "contour", "heatmap", "surface", "scatter3d"} <= _app_trace_types()


def test_the_bundle_registers_every_trace_type_the_figures_use():
    missing = _app_trace_types() - _registered()
    assert not missing, f"add {sorted(missing)} to tools/plotly-bundle/entry.js and rebuild the bundle"
    assert set(static.TRACE_TYPES) == _registered()


def test_the_bundle_is_served_where_the_graphs_load_plotly(app):
    client = app.server.test_client()
    r = client.get("/" + static.PLOTLY_PATH, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == static.PLOTLY_BUNDLE.read_bytes()
    assert client.get("/" + static.PLOTLY_PATH, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    plain = client.get("/" + static.PLOTLY_PATH)
    assert "Content-Encoding" not in plain.headers and plain.data == static.PLOTLY_BUNDLE.read_bytes()


def test_the_bundle_is_not_a_script_of_the_page(app):
    html = app.server.test_client().get("/").get_data(as_text=True)
    assert "vendor/" not in html and "plotly-lossviz" not in html


@pytest.mark.parametrize("path", ["/", "/_dash-layout", "/_dash-dependencies"])
def test_text_answers_are_compressed_when_asked(app, path):
    client = app.server.test_client()
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    unpacked = gzip.decompress(packed.data)
    if path == "/_dash-dependencies":  # the others hold a fresh secret or token per load
        assert unpacked == plain.data
    assert abs(len(unpacked) - len(plain.data)) < 100
    assert len(packed.data) < len(plain.data) / 2


def test_callback_answers_are_compressed_when_asked(app):
    page = Page(app.server.test_client())
    run = ready_run(page, values={(ids.SAMPLES, "value"): "120"})
    body = page.body(page.find(ids.GRAPH_CONTOUR, "figure"), {(ids.STORE_RUN, "data"): run},
                     changed=[f"{ids.STORE_RUN}.data"])
    r = page.client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    answer = json.loads(gzip.decompress(r.data))
    assert answer["response"][ids.GRAPH_CONTOUR]["figure"]["data"][0]["type"] == "contour"
    small = page.client.post("/_dash-update-component", headers={"Accept-Encoding": "gzip"},
                             json=page.body(page.find(ids.STORE_CONFIG, "data"), {}, changed=[f"{ids.DATASET}.value"]))
    assert small.status_code == 200 and "Content-Encoding" not in small.headers  # one packet anyway


def test_fingerprinted_assets_may_be_cached_a_year(app):
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/assets/style\.css\?m=[0-9.]+)"', html).group(1)
    r = client.get(css)
    assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
    assert "immutable" not in client.get("/assets/style.css").headers.get("Cache-Control", "")
