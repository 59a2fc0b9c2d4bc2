"""Limits at the server for what a client sends (issue 17, item 2): each hole tried over HTTP as
a hostile client would, and what that request gets now."""
from __future__ import annotations

import gzip
import secrets
import time

import numpy as np
import pytest

from app import ids, static
from app.panels.surfaces import convexity_grid
from dash_client import app, follow, page, started_run, updates  # noqa: F401 (fixtures)

VIEW = {(ids.PAGE_VIEW, "value"): "surfaces", (ids.GRID, "value"): 11, (ids.RANGE, "value"): "1.0",
        (ids.DIRECTIONS, "value"): "random", (ids.LOG_Z, "value"): [], (ids.NORMALIZATION, "value"): "filter"}


@pytest.fixture(scope="module")
def finished(page):
    run, cursor, _ = started_run(page, speed="fast")
    follow(page, run, cursor)
    return dict(run, running=False)


# --- 1. the convexity map's grid is the server's -------------------------------------------------

def _convexity(page, run, asked=None, **values):
    dep = page.find(ids.STORE_CONVEXITY, "data")
    body = {**VIEW, (ids.STORE_RUN, "data"): run, **values}
    if asked is None:
        status, data = page.call(dep, {**body, (ids.CONVEXITY_BUTTON, "n_clicks"): 1},
                                 changed=[f"{ids.CONVEXITY_BUTTON}.n_clicks"])
    else:
        status, data = page.call(dep, {**body, (ids.STORE_CONVEXITY, "data"): asked,
                                       (ids.INTERVAL_CONVEXITY, "n_intervals"): 1},
                                 changed=[f"{ids.INTERVAL_CONVEXITY}.n_intervals"])
    assert status == 200, status
    return updates(data)


def test_a_client_sent_convexity_grid_is_ignored(app, page, finished):
    """Before: {"grid": 4000} in store-convexity made a 4000×4000 map (12.7 s, +1.4 GB, a 160 MB
    answer). Now the grid comes from the landscape the server computed at the page's grid."""
    asked = _convexity(page, finished)[ids.STORE_CONVEXITY]["data"]
    expected = convexity_grid(11)
    assert asked["grid"] == expected
    hostile = dict(asked, grid=4000)
    for _ in range(40):
        start = time.monotonic()
        out = _convexity(page, finished, hostile)
        assert time.monotonic() - start < 5.0
        assert out[ids.CONVEXITY_PROGRESS]["max"] == str(expected)
        if out[ids.INTERVAL_CONVEXITY]["disabled"]:
            break
        assert out[ids.STORE_CONVEXITY]["data"]["grid"] == expected  # what the page gets back
    z = np.array(out[ids.GRAPH_CONVEXITY]["figure"]["data"][0]["z"], dtype=float)
    assert z.shape == (expected, expected) and np.isfinite(z).all()
    key = out[ids.STORE_CONVEXITY]["data"]["key"]
    stored = app.lossviz_services.store.get_result(("convexity", *key))
    assert np.asarray(stored["ratio"]).shape == (expected, expected)


def test_a_convexity_key_naming_another_run_or_grid_is_refused(page, finished):
    asked = _convexity(page, finished)[ids.STORE_CONVEXITY]["data"]
    other = dict(asked, key=["0" * 24] + asked["key"][1:])
    out = _convexity(page, finished, other)
    assert "another run" in out[ids.CONVEXITY_TEXT]["children"]
    assert ids.GRAPH_CONVEXITY not in out
    huge = dict(asked, key=asked["key"][:2] + [4000] + asked["key"][3:], grid=4000)
    start = time.monotonic()
    out = _convexity(page, finished, huge)
    assert time.monotonic() - start < 2.0
    assert "press the button again" in out[ids.CONVEXITY_TEXT]["children"]
    assert out[ids.INTERVAL_CONVEXITY]["disabled"] is True
    for junk in ({"key": "x"}, {"key": [1, 2]}, {"key": ["a", "b", "c", "d", "e", "f", "g"]}):
        out = _convexity(page, finished, junk)
        assert "press the button again" in out[ids.CONVEXITY_TEXT]["children"], junk


# --- 2. the gzip cache of static files is bounded --------------------------------------------

GZIP = {"Accept-Encoding": "gzip"}
SUITES = "/_dash-component-suites/"


def _made_up(i: int) -> str:
    return f"v{i}x{secrets.token_hex(3)}m{secrets.token_hex(4)}"


def test_made_up_fingerprints_do_not_grow_the_static_cache(app):
    """Before: each made-up ``plotly.v<random>.min.js`` address was packed and kept on its own
    (150 of them: +217 MB in one worker, never freed). Now the cache holds one entry per real
    file, whatever fingerprint the address carries, and the answer is still the file."""
    client, packed = app.server.test_client(), app.server.extensions["lossviz.packed"]
    real = client.get(SUITES + "dash/deps/react-dom@18.3.1.min.js", headers=GZIP)
    assert real.status_code == 200 and real.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(real.data)
    files = len(packed)
    for i in range(40):
        r = client.get(f"{SUITES}dash/deps/react-dom@18.{_made_up(i)}.3.1.min.js", headers=GZIP)
        assert r.status_code == 200 and gzip.decompress(r.data) == body
    plotly = [client.get(f"{SUITES}plotly/package_data/plotly.{_made_up(i)}.min.js", headers=GZIP)
              for i in range(4)]
    assert all(r.status_code == 200 and r.headers["Content-Encoding"] == "gzip" for r in plotly)
    assert len({r.data for r in plotly}) == 1
    assert len(packed) <= files + 1  # the full plotly.min.js, once
    assert packed.bytes <= static.PACKED_BYTES


def test_the_static_cache_keeps_at_most_its_files_and_bytes():
    packed = static.PackedFiles(most_files=3, most_bytes=4000)
    rng = np.random.default_rng(0)
    bodies = {f"/assets/f{i}.js": rng.bytes(1500) for i in range(10)}  # random: gzip cannot shrink them
    for path, body in bodies.items():
        assert gzip.decompress(packed.packed(path, body)) == body
        assert len(packed) <= 3 and packed.bytes <= 4000
    assert len(packed) == 2  # two 1.5 KB files fit in 4 KB, a third does not
    changed = b"console.log(1);" * 200
    assert gzip.decompress(packed.packed("/assets/f9.js", changed)) == changed  # a changed file: packed again
    big = rng.bytes(5000)
    assert gzip.decompress(packed.packed("/assets/big.js", big)) == big and "big" not in str(packed._entries)
