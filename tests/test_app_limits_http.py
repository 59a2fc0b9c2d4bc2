"""Limits at the server for what a client sends (issue 17, item 2): each hole tried over HTTP as
a hostile client would, and what that request gets now."""
from __future__ import annotations

import time

import numpy as np
import pytest

from app import ids
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
