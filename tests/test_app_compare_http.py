"""Compare mode over HTTP: the settings read, two runs from one start in one job, the stream of
both, the views of both (one shared plane, or one each for two network shapes)."""
from __future__ import annotations

import time

import pytest

from app import ids
from dash_client import SMALL_RUN, app, config_for, page, tick, updates  # noqa: F401 (fixtures)


def read_compare(page, field, choice=None, text=""):
    dep = page.find(ids.STORE_COMPARE, "data")
    status, data = page.call(dep, {(ids.COMPARE, "value"): ["on"], (ids.COMPARE_FIELD, "value"): field,
                                   (ids.COMPARE_CHOICE, "value"): choice, (ids.COMPARE_VALUE, "value"): text,
                                   (ids.STORE_CONFIG, "data"): config_for(page)}, changed=[f"{ids.COMPARE}.value"])
    assert status == 200
    return updates(data)


def start(page, compare, speed="fast"):
    dep = page.find(ids.STORE_RUN, "data")
    status, data = page.call(dep, {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_COMPARE, "data"): compare,
                                   (ids.TRAIN, "n_clicks"): 1, (ids.SPEED, "value"): speed},
                             changed=[f"{ids.TRAIN}.n_clicks"])
    assert status == 200
    return updates(data)


def test_compare_settings_are_read_and_checked(page):
    up = read_compare(page, "loss", "mse")
    assert up[ids.STORE_COMPARE]["data"] == {"vary": "loss", "value": "mse"} and up[ids.COMPARE_ERROR]["children"] == ""
    up = read_compare(page, "loss", "cross_entropy")  # A's own loss
    assert "same as run A's" in up[ids.COMPARE_ERROR]["children"]
    up = read_compare(page, "lr", text="abc")
    assert "not a number" in up[ids.COMPARE_ERROR]["children"]
    up = read_compare(page, "hidden", text="8,8")
    assert up[ids.STORE_COMPARE]["data"] == {"vary": "hidden", "value": [8, 8]}


def test_two_runs_stream_in_lockstep_to_the_end(page):
    up = start(page, {"vary": "loss", "value": "mse"})
    run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
    assert len(run["run_ids"]) == 2 and cursor["n"] == [1, 1]
    assert len(up[ids.GRAPH_CURVES]["figure"]["data"]) == 8
    got, deadline = [[], []], time.monotonic() + 30
    while time.monotonic() < deadline:
        status, data = tick(page, run, cursor)
        stream = updates(data)[ids.STORE_STREAM]["data"]
        for i, r in enumerate(stream["runs"]):
            new = r["x"][0][cursor["n"][i] - r["start"]:]
            got[i] += new
        cursor = {"run_id": run["run_id"], "n": [c + len(g) for c, g in zip([1, 1], got)]}
        # B never shows a step that A has not reached
        assert not got[1] or not got[0] or got[1][-1] <= got[0][-1] or stream["done"]
        if stream["done"]:
            break
        time.sleep(0.05)
    assert stream["done"] and "finished" in stream["status"]
    assert got[0] == got[1] == [float(s) for s in range(1, 101)]
    assert "A (Cross-entropy)" in stream["status"] and "B (Mean squared error)" in stream["status"]


def draw(page, run, grid=11):
    dep = page.find(ids.GRAPH_CONTOUR, "figure")
    return page.call(dep, {(ids.STORE_RUN, "data"): run, (ids.STORE_DRAWN, "data"): None, (ids.GRID, "value"): grid,
                           (ids.DIRECTIONS, "value"): "compare"},  # what Compare on sets the plane to
                     changed=[f"{ids.STORE_RUN}.data"])


@pytest.mark.parametrize("compare, plane_words", [({"vary": "loss", "value": "mse"}, "its loss"),
                                                  ({"vary": "hidden", "value": [8]}, "its own plane")])
def test_views_of_both_runs(page, compare, plane_words):
    up = start(page, compare, speed="slow")
    run = dict(up[ids.STORE_RUN]["data"], running=False)
    status, data = draw(page, run)
    assert status == 200
    out = updates(data)
    a, b = out[ids.GRAPH_CONTOUR]["figure"], out[ids.GRAPH_CONTOUR_B]["figure"]
    assert plane_words in a["layout"]["title"]["text"] and plane_words in b["layout"]["title"]["text"]
    assert a["layout"]["title"]["text"].startswith("A (") and b["layout"]["title"]["text"].startswith("B (")
    if compare["vary"] == "loss":
        assert a["data"][1]["x"][0] == 0 and b["data"][1]["x"][0] == 0  # one start at the origin
        assert "one plane through the common start" in out[ids.LANDSCAPE_NOTE]["children"] or \
            "random plane through the common start" in out[ids.LANDSCAPE_NOTE]["children"]
    else:
        assert "another shape" in out[ids.LANDSCAPE_NOTE]["children"]
    dep = page.find(ids.STORE_RUN, "data")
    page.call(dep, {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_COMPARE, "data"): compare,
                    (ids.PAUSE, "n_clicks"): 1, (ids.STORE_RUN, "data"): up[ids.STORE_RUN]["data"]},
              changed=[f"{ids.PAUSE}.n_clicks"])
