"""Compare mode over HTTP: the settings read, two runs from one start in one job, the stream of
both, the views of both (one shared plane, or one each for two network shapes)."""
from __future__ import annotations

import time

import pytest

from app.page import ids
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
                                                  ({"vary": "hidden", "value": [8]}, "its own random plane")])
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
        # No line from A to B can be drawn, and the panel says why (not "comes with Train" forever).
        line = out[ids.GRAPH_LINE]["figure"]
        words = " ".join(a["text"] for a in line["layout"]["annotations"])
        assert not line["data"] and "No straight line from A to B" in words and "two shapes" in words
    dep = page.find(ids.STORE_RUN, "data")
    page.call(dep, {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_COMPARE, "data"): compare,
                    (ids.PAUSE, "n_clicks"): 1, (ids.STORE_RUN, "data"): up[ids.STORE_RUN]["data"]},
              changed=[f"{ids.PAUSE}.n_clicks"])


# --- issue 20: what compare mode shows when the runs differ in loss, shape or fate --------------

def test_two_losses_are_compared_by_accuracy_each_loss_on_its_own_axis(page):
    up = start(page, {"vary": "loss", "value": "mse"}, speed="slow")
    curves = up[ids.GRAPH_CURVES]["figure"]
    # The shared measure on top; A's cross-entropy and B's squared error each on an axis of its own.
    assert {t["yaxis"] for t in curves["data"]} == {"y", "y2", "y3"}
    assert curves["layout"]["yaxis2"]["title"]["text"] == "accuracy"
    titles = [a.get("hovertext") for a in curves["layout"]["annotations"]]
    assert "A's loss: cross-entropy" in titles and "B's loss: MSE" in titles
    status = up[ids.STATUS]["children"]
    assert "loss" not in status.split(" · two losses")[0].split("Step")[1]  # no loss values side by side
    assert "% train" in status and "compare the accuracy" in status
    # The log switch sets both loss axes (and leaves the accuracy axis alone).
    dep = next(d for d in page.deps if any(i["id"] == ids.LOG_LOSS for i in d["inputs"])
               and any(o["id"] == ids.GRAPH_CURVES for o in page.outputs_of(d)))
    status, data = page.call(dep, {(ids.LOG_LOSS, "value"): ["on"], (ids.GRAPH_CURVES, "figure"): curves},
                             changed=[f"{ids.LOG_LOSS}.value"])
    assert status == 200
    patch = data["response"][ids.GRAPH_CURVES]["figure"]
    set_keys = {tuple(op["location"]) for op in patch["operations"]}
    assert set_keys == {("layout", "yaxis", "type"), ("layout", "yaxis3", "type")}
    _pause(page, up)


def _pause(page, up, compare=None):
    dep = page.find(ids.STORE_RUN, "data")
    page.call(dep, {(ids.STORE_CONFIG, "data"): config_for(page), (ids.PAUSE, "n_clicks"): 1,
                    (ids.STORE_COMPARE, "data"): compare or {"vary": "loss", "value": "mse"},
                    (ids.STORE_RUN, "data"): up[ids.STORE_RUN]["data"]}, changed=[f"{ids.PAUSE}.n_clicks"])


def test_two_network_shapes_offer_only_their_own_random_planes(page):
    dep = page.find(ids.DIRECTIONS, "options")
    for trigger in (ids.COMPARE, ids.STORE_COMPARE):
        status, data = page.call(dep, {(ids.COMPARE, "value"): ["on"], (ids.DIRECTIONS, "value"): "compare",
                                       (ids.STORE_COMPARE, "data"): {"vary": "hidden", "value": [8, 8]}},
                                 changed=[f"{trigger}.value" if trigger == ids.COMPARE else f"{trigger}.data"])
        assert status == 200
        out = updates(data)[ids.DIRECTIONS]
        assert out["value"] == "random"
        assert {o["value"]: bool(o.get("disabled")) for o in out["options"]} == \
            {"compare": True, "random": False, "pca": True}
    # One shape: the A-B plane is offered (and chosen when Compare is switched on).
    status, data = page.call(dep, {(ids.COMPARE, "value"): ["on"], (ids.DIRECTIONS, "value"): "random",
                                   (ids.STORE_COMPARE, "data"): {"vary": "loss", "value": "mse"}},
                             changed=[f"{ids.COMPARE}.value"])
    out = updates(data)[ids.DIRECTIONS]
    assert out["value"] == "compare" and not any(o.get("disabled") for o in out["options"])
    # New settings keep the plane the page shows.
    status, data = page.call(dep, {(ids.COMPARE, "value"): ["on"], (ids.DIRECTIONS, "value"): "pca",
                                   (ids.STORE_COMPARE, "data"): {"vary": "loss", "value": "mse"}},
                             changed=[f"{ids.STORE_COMPARE}.data"])
    assert "value" not in (updates(data).get(ids.DIRECTIONS) or {})


def test_a_diverged_run_says_diverged_not_its_numbers(page):
    values = {**SMALL_RUN, (ids.DATASET, "value"): "diabetes", (ids.LAYERS, "value"): 0,
              (ids.OPTIMIZER, "value"): "sgd", (ids.LR, "value"): "0.1", (ids.LOSS, "value"): "mse"}
    config = config_for(page, values)
    assert config["hidden"] == [] and config["dataset"] == "diabetes"
    dep = page.find(ids.STORE_RUN, "data")
    compare = {"vary": "lr", "value": 2.0}
    status, data = page.call(dep, {(ids.STORE_CONFIG, "data"): config, (ids.STORE_COMPARE, "data"): compare,
                                   (ids.TRAIN, "n_clicks"): 1, (ids.SPEED, "value"): "max"},
                             changed=[f"{ids.TRAIN}.n_clicks"])
    up = updates(data)
    run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stream = updates(tick(page, run, cursor)[1])[ids.STORE_STREAM]["data"]
        if stream["done"]:
            break
        time.sleep(0.1)
    status_line = stream["status"]
    assert "B (2): diverged at step" in status_line, status_line
    b_part = status_line.split("B (2)")[1]
    assert "R²" not in b_part and "e+" not in b_part  # no "R² -1.937e+07"
    # The A-B line stops at 10x the loss at the common start, and says it goes beyond.
    status, data = draw(page, dict(run, running=False))
    line = updates(data)[ids.GRAPH_LINE]["figure"]
    assert line["layout"]["yaxis"]["autorangeoptions"]["clipmax"] < 100
    assert any("off the chart" in a["text"] for a in line["layout"]["annotations"])
    assert "leaves the frame" in updates(data)[ids.LANDSCAPE_NOTE]["children"]
