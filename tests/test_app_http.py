"""The app over HTTP, without a browser: the page, its assets and every callback, driven by
the JSON requests Dash's renderer sends to ``/_dash-update-component``.

Callbacks are found in ``/_dash-dependencies`` (by the component properties they write), and
their inputs' values come from ``/_dash-layout``, so the requests are those of a fresh page.
"""
from __future__ import annotations

from html.parser import HTMLParser

import dash
import pytest
from dash._utils import stringify_id

from app.views import drawing
from app.page import ids
from app import main as app_main
from dash_client import (SMALL_RUN, Page, app, config_for, draw, follow, page, press, ready_run, settings,  # noqa: F401
                         started_run,
                         tick, updates)


# --- the page -------------------------------------------------------------------------------

class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"])


def test_index_page_serves_everything_itself(app):
    client = app.server.test_client()
    r = client.get("/")
    assert r.status_code == 200
    parser = _Refs()
    parser.feed(r.get_data(as_text=True))
    assert any("plotly" in u or "dash" in u for u in parser.refs), parser.refs
    for url in parser.refs:
        assert not url.lower().startswith(("http:", "https:", "//")), url
        assert client.get(url).status_code == 200, url
    assert any("/assets/" in u and u.split("?")[0].endswith(".css") for u in parser.refs)


@pytest.mark.parametrize("path", ["/_dash-layout", "/_dash-dependencies"])
def test_dash_endpoints_answer(app, path):
    r = app.server.test_client().get(path)
    assert r.status_code == 200
    assert r.get_json()


def test_layout_has_the_buttons_and_every_control(page):
    for button, label in ((ids.TRAIN, "Train"), (ids.PAUSE, "Pause"), (ids.STEP, "Step"), (ids.RESET, "Reset")):
        assert page.value(button, "children") == label
    from app.page.controls import CONTROLS
    for c in CONTROLS:
        assert stringify_id(c.id) in page.props, c.id


def test_serving_is_gunicorn_and_debug_only_when_asked(monkeypatch, tmp_path):
    from app import serve

    served, ran = [], []
    monkeypatch.setattr(serve, "serve", lambda *args: served.append(args))
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: ran.append(kw))
    assert app_main.main(["--cache-dir", str(tmp_path), "--port", "8123", "--workers", "4"]) == 0
    assert served == [("127.0.0.1", 8123, 4, 4)] and ran == []
    assert app_main.main(["--cache-dir", str(tmp_path), "--debug"]) == 0
    assert ran[0]["debug"] is True and len(served) == 1


# --- settings -------------------------------------------------------------------------------

def test_default_settings_give_a_config(page):
    status, data = settings(page)
    assert status == 200
    up = updates(data)
    assert up[ids.CONFIG_ERROR]["children"] == ""
    cfg = up[ids.STORE_CONFIG]["data"]
    assert cfg["dataset"] == "moons" and cfg["hidden"] == [16, 16] and cfg["loss"] == "cross_entropy"


def test_the_layout_holds_the_settings_its_controls_give(page):
    """read_settings does not run at page open (a Train pressed while the page loads would wait
    for it): the layout's store-config is what it would answer for the layout's own controls."""
    cfg = updates(settings(page)[1])[ids.STORE_CONFIG]["data"]
    assert page.value(ids.STORE_CONFIG, "data") == cfg
    assert page.find(ids.STORE_CONFIG, "data")["prevent_initial_call"] is True
    run = page.find(ids.STORE_RUN, "data")
    assert run["prevent_initial_call"] is False  # the page's run is made at once, from the layout's settings
    assert page.value(ids.STORE_COMPARE, "data") is None  # compare is off in the layout
    assert page.find(ids.STORE_COMPARE, "data")["prevent_initial_call"] is True


@pytest.mark.parametrize("values, words", [
    ({(stringify_id({"type": ids.WIDTH, "index": 0}), "value"): "0"}, "Width of layer 1"),
    ({(stringify_id({"type": ids.WIDTH, "index": 1}), "value"): "abc"}, "Width of layer 2"),
    ({(ids.LR, "value"): "1e9"}, "learning rate"),
    ({(ids.SAMPLES, "value"): ""}, "Samples"),
    ({(ids.SAMPLES, "value"): "abc"}, "Samples"),
    ({(ids.DATASET, "value"): "sine", (ids.LOSS, "value"): "cross_entropy"}, "Cross-entropy"),
])
def test_bad_settings_show_a_message_and_keep_the_last_config(page, values, words):
    status, data = page.call(page.find(ids.STORE_CONFIG, "data"), values)
    assert status == 200
    up = updates(data)
    assert words.lower() in up[ids.CONFIG_ERROR]["children"].lower()
    assert ids.STORE_CONFIG not in up


# --- running --------------------------------------------------------------------------------

def test_train_creates_a_running_run(page):
    run, cursor, up = started_run(page)
    assert isinstance(run["run_id"], str) and run["run_id"]
    assert run["running"] is True
    assert up[ids.CLOCK_TRAIN]["disabled"] is False
    assert cursor == {"run_id": run["run_id"], "n": [1]}
    fig = up[ids.GRAPH_CURVES]["figure"]
    assert [t["name"] for t in fig["data"]][:2] == ["train loss", "test loss"]
    assert "Step 0" in up[ids.STATUS]["children"]


def test_a_new_config_alone_makes_a_paused_run(page):
    training, _, _ = started_run(page)
    new = config_for(page, {**SMALL_RUN, (ids.EPOCHS, "value"): "90"})
    status, data = page.call(page.find(ids.STORE_RUN, "data"),
                             {(ids.STORE_CONFIG, "data"): new}, changed=[f"{ids.STORE_CONFIG}.data"])
    assert status == 200
    up = updates(data)
    assert up[ids.STORE_RUN]["data"]["running"] is False
    assert up[ids.STORE_RUN]["data"]["run_id"] != training["run_id"]
    assert up[ids.CLOCK_TRAIN]["disabled"] is True


def test_the_same_config_again_keeps_the_run_the_page_shows(page):
    """A settings call that carries an old run (its page dropped the Train answer) gets the run
    the server knows the page shows, still training — not a fresh idle one."""
    training, _, _ = started_run(page)
    status, data = page.call(page.find(ids.STORE_RUN, "data"),
                             {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_RUN, "data"): None},
                             changed=[f"{ids.STORE_CONFIG}.data"])
    assert status == 200
    run = updates(data)[ids.STORE_RUN]["data"]
    assert run["run_id"] == training["run_id"] and run["running"] is True


def test_train_trains_at_the_speed_on_screen(app):
    """The page's run is made as it opens (at Normal); Slow chosen then, and Train pressed before
    the Speed box's own call reached the server (or while it found no run yet): the press's call
    carries the speed on screen, and the run trains at it. Mutation caught: the speed taken only
    when a run is made."""
    page = Page(app.server.test_client())
    run = ready_run(page)
    store = app.lossviz_services.store
    assert store.speed(run["run_id"]) == "normal"
    status, data = press(page, ids.TRAIN, config_for(page), run, speed="slow")
    assert status == 200 and updates(data)[ids.STORE_RUN]["data"]["run_id"] == run["run_id"]
    assert store.speed(run["run_id"]) == "slow"
    press(page, ids.PAUSE, config_for(page), run)


def test_ticks_stream_every_point_exactly_once_until_the_end(app):
    page = Page(app.server.test_client())  # its own page: a fresh run, not this module's last one
    run, cursor, _ = started_run(page, speed="fast")
    stream, steps, cursor = follow(page, run, cursor)
    assert stream["done"] is True and "finished" in stream["status"] and "Step 100 / 100" in stream["status"]
    assert steps == [float(s) for s in range(1, 101)]  # step 0 came with the Train answer
    # A tick that repeats an old cursor gets the same points again (ticks are idempotent).
    status, data = tick(page, run, {"run_id": run["run_id"], "n": [95]})
    again = updates(data)[ids.STORE_STREAM]["data"]["runs"][0]
    assert again["start"] == 95 and again["x"][0] == [95.0, 96.0, 97.0, 98.0, 99.0, 100.0]


def test_ticks_only_read(app):
    page = Page(app.server.test_client())  # a page of its own: its own run from step 0
    run, cursor, _ = started_run(page, speed="slow")
    def moved(s) -> bool:  # two steps or more (a starved test may first look when it has finished)
        return int(s["status"].split("Step ")[1].split(" ")[0]) >= 2

    stream, _, cursor = follow(page, run, cursor, until=moved)
    assert moved(stream), stream["status"]  # (follow gives up after 30 s)
    status, data = press(page, ids.PAUSE, config_for(page), run)
    paused = updates(data)[ids.STORE_RUN]["data"]  # the run as the page shows it: the pause's number
    stream, _, _ = follow(page, paused, cursor)
    assert stream["done"], stream  # (the pause acknowledged: follow gives up after 30 s)
    step = stream["status"]
    for _ in range(5):  # many ticks on a paused run: the step does not move
        status, data = tick(page, paused, cursor)
        assert updates(data)[ids.STORE_STREAM]["data"]["status"] == step


def test_a_tick_before_the_job_takes_up_train_says_training(app):
    """The Train answer says "training…"; a tick that comes before the job has acknowledged the
    press must not flip the status back to "ready: press Train" (the run's own state)."""
    page = Page(app.server.test_client())
    run = ready_run(page)  # step 0, no job: nothing will acknowledge a command
    waiting = dict(run, seq=run["seq"] + 1, running=True)  # as the Train answer leaves the page
    stream = updates(tick(page, waiting, None)[1])[ids.STORE_STREAM]["data"]
    assert stream["status"].startswith("training…") and stream["done"] is False, stream
    paused = dict(run, seq=run["seq"] + 1, running=False)  # a Pause or Step not taken up yet
    assert updates(tick(page, paused, None)[1])[ids.STORE_STREAM]["data"]["status"].startswith("ready")
    idle = updates(tick(page, run, None)[1])[ids.STORE_STREAM]["data"]
    assert idle["status"].startswith("ready") and idle["done"] is True


def test_tick_without_a_run_does_nothing(page):
    _, cursor, _ = started_run(page)
    assert tick(page, None, cursor)[0] == 204
    assert tick(page, {"running": True}, cursor)[0] == 204


def test_tick_on_an_expired_run_says_so(page):
    # A run missing from the store (expired, or a restarted server with a new cache) must
    # tell the user, not fail silently: the message reaches the status line.
    status, data = tick(page, {"run_id": "nosuchrun", "running": True, "seq": 3}, None)
    assert status == 200, status
    assert "expired" in updates(data)[ids.STATUS]["children"]


def test_pause_then_step_then_reset(app):
    page = Page(app.server.test_client())  # a page of its own: its first run, its first commands
    run, cursor, _ = started_run(page, speed="slow")
    config = config_for(page)
    follow(page, run, cursor, until=lambda s: "Step 3 " in s["status"])
    status, data = press(page, ids.PAUSE, config, run)
    assert status == 200
    paused = updates(data)[ids.STORE_RUN]["data"]
    assert paused["run_id"] == run["run_id"] and paused["running"] is False and paused["seq"] == 2
    stream, _, cursor = follow(page, paused, cursor)
    assert stream["status"].startswith("paused") and stream["done"]
    at = int(stream["status"].split("Step ")[1].split(" ")[0])

    status, data = press(page, ids.STEP, config, paused)
    stepped = updates(data)[ids.STORE_RUN]["data"]
    assert stepped["running"] is False and stepped["seq"] == 3
    assert updates(data)[ids.CLOCK_TRAIN]["disabled"] is False  # the page waits for the step
    stream, steps, _ = follow(page, stepped, cursor)
    assert f"Step {at + 1} " in stream["status"] and steps[-1] == at + 1

    status, data = press(page, ids.RESET, config, stepped)
    up = updates(data)
    assert up[ids.STORE_RUN]["data"]["run_id"] != run["run_id"]
    assert "Step 0 " in up[ids.STATUS]["children"]


def test_same_settings_same_run(app):
    one, two = Page(app.server.test_client()), Page(app.server.test_client())
    a = updates(press(one, ids.TRAIN, config_for(one))[1])
    b = updates(press(two, ids.TRAIN, config_for(two))[1])
    fa, fb = a[ids.GRAPH_CURVES]["figure"], b[ids.GRAPH_CURVES]["figure"]
    assert [t["y"] for t in fa["data"]] == [t["y"] for t in fb["data"]]


# --- drawing --------------------------------------------------------------------------------

def test_draw_views_after_train(page):
    run, _, _ = started_run(page)
    status, data = draw(page, run, grid=21)
    assert status == 200
    up = updates(data)
    contour = up[ids.GRAPH_CONTOUR]["figure"]["data"][0]
    assert contour["type"] == "contour"
    assert len(contour["x"]) == len(contour["y"]) == 21
    assert up[ids.GRAPH_SURFACE]["figure"]["data"][0]["type"] == "surface"
    assert up[ids.GRAPH_DATA]["figure"]["data"][0]["type"] == "heatmap"
    assert up[ids.VIEW_ERROR]["children"] == ""


def test_view_options_redraw_without_recomputing(page, monkeypatch):
    computed = []
    real = drawing.landscape
    monkeypatch.setattr(drawing, "landscape", lambda *a, **k: computed.append(a[1:]) or real(*a, **k))
    run = ready_run(page, {**SMALL_RUN, (ids.SEED, "value"): "5"})
    status, data = draw(page, run, grid=11)
    drawn = updates(data)[ids.STORE_DRAWN]["data"]
    assert len(computed) == 1
    status, data = draw(page, run, drawn, grid=11, log_z=["log"])
    assert status == 200 and len(computed) == 1
    assert ids.GRAPH_CONTOUR in updates(data)
    # Nothing changed at all: nothing to send.
    drawn = updates(data)[ids.STORE_DRAWN]["data"]
    status, data = draw(page, run, drawn, grid=11, log_z=["log"])
    assert status == 204 or not {ids.GRAPH_CONTOUR, ids.GRAPH_SURFACE, ids.GRAPH_DATA} & set(updates(data))


# --- what the page says of its own drawing (store-page-busy) ----------------------------------

def _long_run(page):
    """A run that trains for a while, once its job has begun (its state is "training")."""
    run, cursor, _ = started_run(page, values={**SMALL_RUN, (ids.EPOCHS, "value"): "5000"})
    def moving(s) -> bool:  # the job has taken Train up and stepped (the word alone comes before)
        return s["status"].startswith("training") and "Step 0 /" not in s["status"]

    stream, _, _ = follow(page, run, cursor, until=moving)
    assert moving(stream), stream["status"]
    return run


def test_a_busy_page_gets_no_live_3d_view_and_is_told_why(page):
    """A page that says it is busy drawing gets the live contour and data plot but not the 3-D
    view (its paint would hold up the curves), and the note says so; a calm page gets all three.
    Mutation caught: the page's state ignored (the busy page is sent the 3-D view)."""
    run = _long_run(page)
    status, data = draw(page, run, grid=11, page_load={"busy": True, "ms": {}})
    up = updates(data)
    assert status == 200 and up[ids.GRAPH_CONTOUR]["figure"]["data"][0]["type"] == "contour"
    assert ids.GRAPH_SURFACE not in up, "a busy page was sent the 3-D view while training"
    assert drawing.BUSY_3D_NOTE in up[ids.LANDSCAPE_NOTE]["children"]
    status, data = draw(page, run, grid=11, page_load={"busy": False, "ms": {}})
    up = updates(data)
    assert up[ids.GRAPH_SURFACE]["figure"]["data"][0]["type"] == "surface"
    assert drawing.BUSY_3D_NOTE not in up[ids.LANDSCAPE_NOTE]["children"]


def test_a_page_slow_to_draw_its_contour_gets_no_live_3d_view(page):
    """A page not busy now but whose contour draws took 0.4 s (a crowded laptop: its 3-D draw
    would take seconds) is not sent the live 3-D view; one whose contour took 50 ms is."""
    run = _long_run(page)
    slow = {"busy": False, "ms": {ids.GRAPH_CONTOUR: 400, ids.GRAPH_SURFACE: 100}}
    up = updates(draw(page, run, grid=11, page_load=slow)[1])
    assert ids.GRAPH_SURFACE not in up, "a page slow to draw was sent the live 3-D view"
    assert drawing.BUSY_3D_NOTE in up[ids.LANDSCAPE_NOTE]["children"]
    quick = {"busy": False, "ms": {ids.GRAPH_CONTOUR: 50}}
    up = updates(draw(page, run, grid=11, page_load=quick)[1])
    assert up[ids.GRAPH_SURFACE]["figure"]["data"][0]["type"] == "surface"


def test_a_live_view_comes_no_more_often_than_its_cost_to_the_page_allows(app, page, monkeypatch):
    """While training, a view the page says took it 2 s to draw is not drawn again 1 s later
    (it may take a sixth of the page's time: every 12 s); one that took 20 ms is.
    Mutation caught: the page's draw times ignored."""
    # the machine's own load stretches live views too (app.runs.load): held at idle here
    monkeypatch.setattr(app.lossviz_services.load, "slowdown", lambda: 1.0)
    run = _long_run(page)
    status, data = draw(page, run, grid=11, page_load={"busy": False, "ms": {}})
    drawn = updates(data)[ids.STORE_DRAWN]["data"]
    drawn = dict(drawn, t2d=drawn["t2d"] - 1.0, t3d=drawn["t3d"] - 1.0, t_data=drawn["t_data"] - 1.0,
                 key=drawn["key"][:1] + [-1] + drawn["key"][2:])  # a second ago, and the weights moved on
    slow = {"busy": False, "ms": {ids.GRAPH_CONTOUR: 2000, ids.GRAPH_DATA: 2000, ids.GRAPH_SURFACE: 2000}}
    status, data = draw(page, run, drawn, grid=11, page_load=slow)
    assert status == 204 or not {ids.GRAPH_CONTOUR, ids.GRAPH_DATA} & set(updates(data)), "a slow page was not spared"
    fast = {"busy": False, "ms": {ids.GRAPH_CONTOUR: 20, ids.GRAPH_DATA: 20, ids.GRAPH_SURFACE: 20}}
    status, data = draw(page, run, drawn, grid=11, page_load=fast)
    assert status == 200 and ids.GRAPH_CONTOUR in updates(data)


@pytest.mark.parametrize("sent", [None, "busy", [1], {"busy": "yes", "ms": {"graph-contour": "NaN"}},
                                  {"ms": {"graph-contour": float("inf"), "graph-data": -5}},
                                  {"ms": {str(i): 1e308 for i in range(10_000)}}])
def test_whatever_the_page_says_of_its_drawing_is_read_safely(sent):
    load = drawing.PageLoad.of(sent)
    assert isinstance(load.busy, bool) and len(load.ms) <= 32
    for graph in (ids.GRAPH_CONTOUR, ids.GRAPH_DATA, ids.GRAPH_SURFACE):
        assert 0.0 <= load.every(graph) <= drawing.PageLoad.SHARE_INVERSE * drawing.PageLoad.MAX_COST_S
