"""The page's first figures (``app.page.first_page``): the default run's contour and data plot at
step 0, sent by a callback of the page's first batch (its layout names them); the page's first
view request adopts them; a link or lesson opens without them, so its first landscape is its
own run's."""
from __future__ import annotations

import numpy as np
import pytest

from app.page import first_page, ids
from app.dash_protocol import _walk
from app.runs.run import RunView, new_run
from app.views.compute import data_view, landscape
from dash_client import Page, app, draw, ready_run, settings, updates  # noqa: F401

DEFAULT_VIEW = dict(grid=first_page.FIRST_VIEW["grid"], span=str(first_page.FIRST_VIEW["span"]))


def _layout(app, referer=None):
    headers = {"Referer": referer} if referer else {}
    return app.server.test_client().get("/_dash-layout", headers=headers).get_json()


def _prop(layout, component, prop):
    for node in _walk(layout):
        if node["props"].get("id") == component:
            return node["props"].get(prop)
    raise KeyError(component)


def _first_figures(page):
    dep = page.find(ids.GRAPH_CONTOUR, "figure", duplicate=True)
    status, data = page.call(dep, {(ids.STORE_FIRST, "data"): page.value(ids.STORE_FIRST, "data")})
    return status, updates(data)


@pytest.fixture(scope="module")
def default_views():
    view = RunView.of_state(new_run(first_page.default_config()))
    return landscape(view, first_page.FIRST_VIEW["grid"], first_page.FIRST_VIEW["span"]), data_view(view)


def test_the_layout_names_the_first_figures(app):
    layout = _layout(app)
    token = first_page.default_token()
    assert _prop(layout, ids.STORE_FIRST, "data") == token
    assert _prop(layout, ids.STORE_DRAWN, "data") == {"first": token}
    assert not _prop(layout, ids.GRAPH_SURFACE, "figure")["data"]  # a flat note: no WebGL scene yet


def test_the_first_batch_brings_the_default_runs_contour(app, default_views):
    drawn, _ = default_views
    status, up = _first_figures(Page(app.server.test_client()))
    assert status == 200
    contour = up[ids.GRAPH_CONTOUR]["figure"]
    assert [t["type"] for t in contour["data"]] == ["contour", "scatter", "scatter"]
    np.testing.assert_allclose(np.array(contour["data"][0]["z"], float).T, drawn["z"], rtol=1e-12)
    assert contour["data"][2]["x"] == [0.0] and contour["data"][2]["y"] == [0.0]  # the current point
    assert ids.GRAPH_DATA not in up  # it comes with the 3-D view, after the contour


def test_an_unknown_token_brings_nothing(app):
    page = Page(app.server.test_client())
    dep = page.find(ids.GRAPH_CONTOUR, "figure", duplicate=True)
    for token in ("nonsense", None, 3):
        status, data = page.call(dep, {(ids.STORE_FIRST, "data"): token})
        assert status == 204 or not updates(data), token


def test_the_default_config_is_what_the_controls_give(app):
    status, data = settings(Page(app.server.test_client()))
    assert status == 200
    assert updates(data)[ids.STORE_CONFIG]["data"] == first_page.default_config().to_dict()


@pytest.mark.parametrize("query", ["?dataset=circles", "?lesson=cross-entropy-vs-mse", "?present=1"])
def test_a_link_or_lesson_opens_without_them(app, query):
    layout = _layout(app, "http://127.0.0.1:8050/" + query)
    assert _prop(layout, ids.STORE_FIRST, "data") is None
    assert _prop(layout, ids.STORE_DRAWN, "data") is None


def test_then_the_3d_view_and_the_data(app, default_views):
    page = Page(app.server.test_client())
    status, up = _first_figures(page)
    assert up[ids.STORE_FIRST_3D]["data"] == first_page.default_token()  # asked for once the contour is in
    status, data = page.call(page.find(ids.STORE_FIRST_FIGURES, "data"),
                             {(ids.STORE_FIRST_3D_CALM, "data"): up[ids.STORE_FIRST_3D]["data"]})  # once calm (page JS)
    figs = updates(data)[ids.STORE_FIRST_FIGURES]["data"]  # drawn by the page unless a run has started
    surface = figs["surface"]
    assert [t["type"] for t in surface["data"]] == ["surface", "scatter3d"]
    np.testing.assert_allclose(np.array(surface["data"][0]["z"], float).T, default_views[0]["z"], rtol=1e-12)
    data_fig = figs["data"]
    assert data_fig["data"][0]["type"] == "heatmap" and default_views[1]["kind"] == "regions"


def test_the_first_view_request_adopts_them(app):
    page = Page(app.server.test_client())
    run = ready_run(page, values={})  # the default settings: a run at step 0
    figures = {ids.GRAPH_CONTOUR, ids.GRAPH_SURFACE, ids.GRAPH_DATA, ids.STORE_DRAWN}
    for view in (DEFAULT_VIEW, dict(DEFAULT_VIEW, display="2d")):
        status, data = draw(page, run, drawn=page.value(ids.STORE_DRAWN, "data"), **view)
        assert status in (200, 204)  # contour, 3-D view and data plot are on the page already
        assert not figures & set(updates(data)), updates(data)


@pytest.mark.parametrize("view", [dict(DEFAULT_VIEW, grid=21), dict(DEFAULT_VIEW, log_z=["log"]),
                                  dict(DEFAULT_VIEW, span="2.0")])
def test_other_view_options_draw_their_own(app, view):
    page = Page(app.server.test_client())
    run = ready_run(page, values={})
    status, data = draw(page, run, drawn=page.value(ids.STORE_DRAWN, "data"), **view)
    assert status == 200
    assert updates(data)[ids.GRAPH_CONTOUR]["figure"]["data"][0]["type"] == "contour"


def test_other_settings_draw_their_own(app):
    page = Page(app.server.test_client())
    run = ready_run(page, values={(ids.SAMPLES, "value"): "120"})
    status, data = draw(page, run, drawn=page.value(ids.STORE_DRAWN, "data"), **DEFAULT_VIEW)
    assert status == 200
    up = updates(data)
    assert ids.GRAPH_CONTOUR in up and ids.GRAPH_DATA in up
