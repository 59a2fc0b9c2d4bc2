"""The Surfaces view over HTTP: loss and accuracy on one grid, train vs test loss over the same
plane with each minimum marked, the line init → now, and the convexity map in parts with its
progress; and the pure figures."""
from __future__ import annotations

import numpy as np
import pytest

import lossviz
from app.page import ids
from app.views.panels.surfaces import init_to_now, train_test_figure
from app.runs.run import RunView, advance_run, new_run
from dash_client import app, draw, follow, page, started_run, updates  # noqa: F401

VIEW = {(ids.PAGE_VIEW, "value"): "surfaces", (ids.GRID, "value"): 11, (ids.RANGE, "value"): "1.0",
        (ids.DIRECTIONS, "value"): "random", (ids.LOG_Z, "value"): [], (ids.NORMALIZATION, "value"): "filter"}


@pytest.fixture(scope="module")
def finished(page):
    run, cursor, _ = started_run(page, speed="fast")
    follow(page, run, cursor)
    return dict(run, running=False)


def test_surfaces_view_draws_its_three_plots(page, finished):
    dep = page.find(ids.GRAPH_LOSS_ACCURACY, "figure")
    status, data = page.call(dep, {**VIEW, (ids.STORE_RUN_SURFACES, "data"): finished},
                             changed=[f"{ids.STORE_RUN_SURFACES}.data"])
    assert status == 200
    out = updates(data)
    both = out[ids.GRAPH_LOSS_ACCURACY]["figure"]
    assert [t["type"] for t in both["data"][:2]] == ["contour", "contour"]
    assert np.array(both["data"][0]["z"]).shape == np.array(both["data"][1]["z"], dtype=float).shape == (11, 11)
    tt = out[ids.GRAPH_TRAIN_TEST]["figure"]
    assert {t["name"] for t in tt["data"]} >= {"train loss", "test loss", "train loss minimum", "test loss minimum"}
    line = out[ids.GRAPH_INIT_LINE]["figure"]
    assert len(line["data"]) == 4 and "minimum" in out[ids.SURFACES_NOTE]["children"]


def test_convexity_map_fills_in_parts_with_progress(page, finished):
    dep = page.find(ids.STORE_CONVEXITY, "data")
    values = {**VIEW, (ids.GRID, "value"): 41,  # a 21 x 21 map: more than one request's work
              (ids.STORE_RUN, "data"): finished, (ids.CONVEXITY_BUTTON, "n_clicks"): 1}
    status, data = page.call(dep, values, changed=[f"{ids.CONVEXITY_BUTTON}.n_clicks"])
    assert status == 200
    out = updates(data)
    asked, seen = out[ids.STORE_CONVEXITY]["data"], []
    # as the browser sends it back: JavaScript has one number type, 1.0 returns as 1
    asked = dict(asked, key=[int(v) if isinstance(v, float) and v.is_integer() else v for v in asked["key"]])
    for _ in range(60):
        seen.append(int(out[ids.CONVEXITY_PROGRESS]["value"]))
        if out[ids.INTERVAL_CONVEXITY]["disabled"]:
            break
        status, data = page.call(dep, {**values, (ids.STORE_CONVEXITY, "data"): asked,
                                       (ids.INTERVAL_CONVEXITY, "n_intervals"): 1},
                                 changed=[f"{ids.INTERVAL_CONVEXITY}.n_intervals"])
        out = updates(data)
    total = asked["grid"]
    assert total == 21 and len(seen) > 2 and seen[-1] == total and seen == sorted(seen) and "done" in out[ids.CONVEXITY_TEXT]["children"]
    heat = out[ids.GRAPH_CONVEXITY]["figure"]["data"][0]
    z = np.array(heat["z"], dtype=float)
    assert z.shape == (total, total) and np.isfinite(z).all() and (z >= 0).all()


def test_init_line_ends_at_the_losses_at_init_and_now():
    state = new_run(lossviz.RunConfig(n_samples=120, epochs=40))
    advance_run(state, 40)
    run = RunView.of_state(state)
    line = init_to_now(run)
    c, d = run.config, run.data
    for t, params in ((0.0, run.trajectory[0]), (1.0, run.params)):
        i = int(np.argmin(np.abs(line["ts"] - t)))
        out = run.net.forward(params, d.X_test)
        want = float(lossviz.loss_value(c.loss, out, d.y_test, d.task))
        assert line["loss"]["test"][i] == pytest.approx(want, rel=1e-10)


def test_train_test_figure_marks_each_minimum():
    a = b = np.linspace(-1, 1, 5)
    z = np.add.outer(a ** 2, b ** 2)
    view = {"alphas": a, "betas": b, "z": z, "path": np.zeros((2, 2))}
    fig = train_test_figure(view, np.add.outer((a - 0.5) ** 2, b ** 2))
    stars = {t["name"]: (t["x"][0], t["y"][0]) for t in fig["data"] if t["name"].endswith("minimum")}
    assert stars == {"train loss minimum": (0.0, 0.0), "test loss minimum": (0.5, 0.0)}


def test_back_from_a_clicked_network_counts_when_a_run_call_overtakes_it(page, finished):
    """Click a point of the contour: the data plot shows the network there. A press of "back"
    whose call a run's call overtook (Dash drops the overtaken answer) still brings the network
    as it is now, because the run's call, seeing a clicked network shown, does what "back" does.
    Mutation caught: the run's call only forgetting the click (the clicked network stayed shown
    while the page said it was not)."""
    status, data = draw(page, finished, grid=11)
    drawn = updates(data)[ids.STORE_DRAWN]["data"]
    dep = page.find(ids.STORE_INSPECT, "data")
    base = {(ids.STORE_RUN, "data"): finished, (ids.STORE_DRAWN, "data"): drawn}
    status, data = page.call(dep, {**base, (ids.GRAPH_CONTOUR, "clickData"): {"points": [{"x": 0.25, "y": -0.5}]}},
                             changed=[f"{ids.GRAPH_CONTOUR}.clickData"])
    out = updates(data)
    assert status == 200 and "at α 0.25, β -0.50" in out[ids.GRAPH_DATA]["figure"]["layout"]["title"]["text"]
    inspecting = out[ids.STORE_INSPECT]["data"]
    assert inspecting["alpha"] == 0.25
    status, data = page.call(dep, {**base, (ids.STORE_INSPECT, "data"): inspecting}, changed=[f"{ids.STORE_RUN}.data"])
    out = updates(data)
    assert status == 200 and out[ids.STORE_INSPECT]["data"] is None
    assert "at α" not in out[ids.GRAPH_DATA]["figure"]["layout"]["title"]["text"], "the clicked network stayed"
    status, data = page.call(dep, base, changed=[f"{ids.STORE_RUN}.data"])  # nothing clicked: nothing to redraw
    assert status == 204 or ids.GRAPH_DATA not in updates(data)
