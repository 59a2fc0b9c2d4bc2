"""The app over HTTP, without a browser: the page, its assets and every callback, driven by
the JSON requests Dash's renderer sends to ``/_dash-update-component``.

Callbacks are found in ``/_dash-dependencies`` (by the component properties they write), and
their inputs' values come from ``/_dash-layout``, so the requests are those of a fresh page.
"""
from __future__ import annotations

import json
from html.parser import HTMLParser

import dash
import pytest
from dash._utils import split_callback_id, stringify_id

from app import drawing, ids, main as app_main
from app.main import create_app

GARBAGE = [None, "abc", "", -1, 1e308, [], {"a": 1}, True]


# --- a tiny Dash renderer -------------------------------------------------------------------

def _walk(node):
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        props = node["props"]
        for value in props.values():
            if isinstance(value, (list, dict)):
                yield from _walk(value)


def _is_wildcard(id_):
    return isinstance(id_, dict) and any(isinstance(v, list) for v in id_.values())


def _parse_id(text):
    return json.loads(text) if text.startswith("{") else text


class Page:
    """The layout's component values and the callbacks' dependency list, like the renderer."""

    def __init__(self, client):
        self.client = client
        self.deps = client.get("/_dash-dependencies").get_json()
        layout = client.get("/_dash-layout").get_json()
        self.props = {stringify_id(n["props"]["id"]): dict(n["props"])
                      for n in _walk(layout) if "id" in n["props"]}

    def _matching(self, pattern):
        """Concrete ids in the layout that match a wildcard id (ALL)."""
        found = []
        for key, props in self.props.items():
            cid = props["id"]
            if isinstance(cid, dict) and set(cid) == set(pattern) and all(
                    isinstance(pattern[k], list) or pattern[k] == cid[k] for k in pattern):
                found.append(cid)
        return sorted(found, key=lambda c: json.dumps(c, sort_keys=True))

    @staticmethod
    def outputs_of(dep):
        out = split_callback_id(dep["output"])
        return out if isinstance(out, list) else [out]

    def find(self, component, prop, duplicate=False):
        """The server callback writing component.prop (the ``allow_duplicate`` one or not)."""
        hits = []
        for dep in self.deps:
            if dep.get("clientside_function"):
                continue
            for o in self.outputs_of(dep):
                name, _, dup = o["property"].partition("@")
                if _parse_id(o["id"]) == component and name == prop and bool(dup) == duplicate:
                    hits.append(dep)
        assert len(hits) == 1, (component, prop, duplicate, len(hits))
        return hits[0]

    def server_callbacks(self):
        return [d for d in self.deps if not d.get("clientside_function")]

    def value(self, id_, prop):
        return self.props.get(stringify_id(id_), {}).get(prop)

    def _dep_list(self, specs, values):
        out = []
        for spec in specs:
            id_ = _parse_id(spec["id"])
            if _is_wildcard(id_):
                out.append([{"id": cid, "property": spec["property"],
                             "value": values.get((stringify_id(cid), spec["property"]),
                                                 self.value(cid, spec["property"]))}
                            for cid in self._matching(id_)])
            else:
                key = (id_, spec["property"])
                out.append({"id": id_, "property": spec["property"],
                            "value": values[key] if key in values else self.value(id_, spec["property"])})
        return out

    def body(self, dep, values=None, changed=None):
        """The request body for ``dep`` with some values set: {(id, prop): value}."""
        values = values or {}
        outputs = []
        for o in self.outputs_of(dep):
            id_ = _parse_id(o["id"])
            outputs.append([{"id": cid, "property": o["property"]} for cid in self._matching(id_)]
                           if _is_wildcard(id_) else {"id": id_, "property": o["property"]})
        if changed is None:
            changed = [f"{i}.{p}" for i, p in values if any(
                s["id"] == i and s["property"] == p for s in dep["inputs"])]
        return {"output": dep["output"], "outputs": outputs if len(outputs) > 1 or
                dep["output"].startswith("..") else outputs[0],
                "inputs": self._dep_list(dep["inputs"], values),
                "state": self._dep_list(dep["state"], values),
                "changedPropIds": changed}

    def call(self, dep, values=None, changed=None):
        """POST like the renderer; returns (status, response json or None)."""
        r = self.client.post("/_dash-update-component", json=self.body(dep, values, changed))
        data = r.get_json(silent=True) if r.status_code == 200 else None
        return r.status_code, data


def updates(data):
    """All updates of a response, declared outputs and set_props side updates: {id: {prop: v}}."""
    merged = {}
    for part in ("response", "sideUpdate"):
        for cid, props in (data or {}).get(part, {}).items():
            merged.setdefault(cid, {}).update(props)
    return merged


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="module")
def page(app):
    return Page(app.server.test_client())


SMALL_RUN = {(ids.SAMPLES, "value"): "120", (ids.EPOCHS, "value"): "100"}


def settings(page):
    """read_settings on the page's own values (as on the first load)."""
    return page.call(page.find(ids.STORE_CONFIG, "data"), {}, changed=[f"{ids.DATASET}.value"])


def config_for(page, values=SMALL_RUN):
    status, data = page.call(page.find(ids.STORE_CONFIG, "data"), dict(values), changed=[f"{ids.DATASET}.value"])
    assert status == 200
    return data["response"][ids.STORE_CONFIG]["data"]


def press(page, button, config, run=None):
    dep = page.find(ids.STORE_RUN, "data")
    values = {(ids.STORE_CONFIG, "data"): config, (button, "n_clicks"): 1, (ids.STORE_RUN, "data"): run}
    return page.call(dep, values, changed=[f"{button}.n_clicks"])


def started_run(page):
    """A small run, Train pressed: (run data, cursor, response updates)."""
    status, data = press(page, ids.TRAIN, config_for(page))
    assert status == 200, status
    up = updates(data)
    return up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"], up


def tick(page, run, cursor, speed="normal"):
    dep = page.find(ids.STORE_STREAM, "data")
    values = {(ids.INTERVAL_TRAIN, "n_intervals"): 1, (ids.STORE_RUN, "data"): run,
              (ids.SPEED, "value"): speed, (ids.STORE_CURSOR, "data"): cursor}
    return page.call(dep, values)


def draw(page, run, drawn=None, **view):
    dep = page.find(ids.GRAPH_CONTOUR, "figure")
    values = {(ids.STORE_RUN, "data"): run, (ids.STORE_DRAWN, "data"): drawn,
              (ids.GRID, "value"): view.get("grid", 11), (ids.RANGE, "value"): view.get("span", "1.0"),
              (ids.LOG_Z, "value"): view.get("log_z", []), (ids.DISPLAY, "value"): view.get("display", "both"),
              (ids.DIRECTIONS, "value"): view.get("directions", "random")}
    return page.call(dep, values, changed=[f"{ids.STORE_RUN}.data"])


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
    from app.controls import CONTROLS
    for c in CONTROLS:
        assert stringify_id(c.id) in page.props, c.id


def test_debug_mode_is_off_unless_asked(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: calls.append(kw))
    assert app_main.main(["--cache-dir", str(tmp_path), "--port", "8123"]) == 0
    assert app_main.main(["--cache-dir", str(tmp_path), "--debug"]) == 0
    assert calls[0]["debug"] is False and calls[0]["port"] == 8123 and calls[0]["host"] == "127.0.0.1"
    assert calls[1]["debug"] is True


# --- settings -------------------------------------------------------------------------------

def test_default_settings_give_a_config(page):
    status, data = settings(page)
    assert status == 200
    up = updates(data)
    assert up[ids.CONFIG_ERROR]["children"] == ""
    cfg = up[ids.STORE_CONFIG]["data"]
    assert cfg["dataset"] == "moons" and cfg["hidden"] == [16, 16] and cfg["loss"] == "cross_entropy"


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
    assert up[ids.INTERVAL_TRAIN]["disabled"] is False
    assert cursor == {"run_id": run["run_id"], "n": 1}
    fig = up[ids.GRAPH_CURVES]["figure"]
    assert [t["name"] for t in fig["data"]][:2] == ["train loss", "test loss"]
    assert "Step 0" in up[ids.STATUS]["children"]


def test_a_new_config_alone_makes_a_paused_run(page):
    status, data = page.call(page.find(ids.STORE_RUN, "data"),
                             {(ids.STORE_CONFIG, "data"): config_for(page)}, changed=[f"{ids.STORE_CONFIG}.data"])
    assert status == 200
    up = updates(data)
    assert up[ids.STORE_RUN]["data"]["running"] is False
    assert up[ids.INTERVAL_TRAIN]["disabled"] is True


def test_tick_streams_only_new_points(page):
    run, cursor, _ = started_run(page)
    status, data = tick(page, run, cursor, speed="slow")
    assert status == 200
    up = updates(data)
    stream = up[ids.STORE_STREAM]["data"]
    assert stream["run_id"] == run["run_id"] and stream["start"] == cursor["n"] == 1
    assert stream["x"] == [[1.0]] * 4  # one step at "slow" speed: the point of step 1 only
    assert len(stream["y"]) == 4 and all(len(y) == 1 for y in stream["y"])
    assert "Step 1 " in stream["status"] and stream["done"] is False
    # The next tick, with the cursor moved on by the browser, starts where this one ended.
    status, data = tick(page, run, {"run_id": run["run_id"], "n": 2}, speed="normal")
    stream = updates(data)[ids.STORE_STREAM]["data"]
    assert stream["start"] == 2 and stream["x"][0] == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def test_tick_without_a_running_run_does_nothing(page):
    run, cursor, _ = started_run(page)
    assert tick(page, {**run, "running": False}, cursor)[0] == 204
    assert tick(page, None, cursor)[0] == 204


def test_tick_on_an_expired_run_says_so(page):
    # A run missing from the store (expired, or a restarted server with a new cache) must
    # tell the user, not fail silently: the message reaches the status line.
    status, data = tick(page, {"run_id": "no-such-run", "running": True, "version": 3}, None)
    assert status == 200, status
    assert "expired" in updates(data)[ids.STATUS]["children"]


def test_pause_then_step_then_reset(page):
    run, cursor, _ = started_run(page)
    config = config_for(page)
    tick(page, run, cursor, speed="fast")
    status, data = press(page, ids.PAUSE, config, run)
    assert status == 200
    paused = updates(data)[ids.STORE_RUN]["data"]
    assert paused["run_id"] == run["run_id"] and paused["running"] is False
    assert "paused" in updates(data)[ids.STATUS]["children"]

    status, data = press(page, ids.STEP, config, paused)
    up = updates(data)
    assert up[ids.STORE_RUN]["data"]["running"] is False
    assert "Step 31 " in up[ids.STATUS]["children"]
    assert len(up[ids.GRAPH_CURVES]["figure"]["data"][0]["x"]) == 32

    status, data = press(page, ids.RESET, config, paused)
    up = updates(data)
    assert up[ids.STORE_RUN]["data"]["run_id"] != run["run_id"]
    assert "Step 0 " in up[ids.STATUS]["children"]


def test_same_settings_same_run(page):
    a = updates(press(page, ids.TRAIN, config_for(page))[1])
    b = updates(press(page, ids.TRAIN, config_for(page))[1])
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
    run, _, _ = started_run(page)
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


@pytest.mark.parametrize("view, words", [({"grid": "abc"}, "grid"), ({"span": "x"}, "Range"),
                                         ({"span": "0"}, "range"), ({"grid": 1000}, "grid")])
def test_bad_view_options_show_a_message(page, view, words):
    run, _, _ = started_run(page)
    status, data = draw(page, run, **view)
    assert status == 200
    assert words.lower() in updates(data)[ids.VIEW_ERROR]["children"].lower()


# --- nothing answers 500 --------------------------------------------------------------------

def _valid_values(page):
    """Values of a page with a small, paused, drawn run (fresh: fuzzing may step the last one)."""
    config = config_for(page)
    status, data = page.call(page.find(ids.STORE_RUN, "data"), {(ids.STORE_CONFIG, "data"): config},
                             changed=[f"{ids.STORE_CONFIG}.data"])
    up = updates(data)
    run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
    drawn = updates(draw(page, run, grid=11)[1])[ids.STORE_DRAWN]["data"]
    # With the page drawn, garbage in one view option redraws only what it touches (fast).
    return {(ids.STORE_CONFIG, "data"): config, (ids.STORE_RUN, "data"): run,
            (ids.STORE_CURSOR, "data"): cursor, (ids.STORE_DRAWN, "data"): drawn,
            (ids.GRID, "value"): 11, (ids.RANGE, "value"): "1.0", (ids.LOG_Z, "value"): [],
            (ids.DISPLAY, "value"): "both", (ids.DIRECTIONS, "value"): "random"}


def test_every_callback_survives_garbage_in_any_one_input(page):
    failures = []
    for dep in page.server_callbacks():
        base = _valid_values(page)
        for spec in dep["inputs"] + dep["state"]:
            id_ = _parse_id(spec["id"])
            keys = ([(stringify_id(c), spec["property"]) for c in page._matching(id_)[:1]]
                    if _is_wildcard(id_) else [(id_, spec["property"])])
            for key in keys:
                for junk in GARBAGE:
                    status, _ = page.call(dep, {**base, key: junk}, changed=[f"{key[0]}.{key[1]}"])
                    if status not in (200, 204):
                        failures.append((dep["output"][:60], key, junk, status))
    assert not failures, "HTTP 500 from:\n" + "\n".join(map(repr, failures))


def test_the_app_keeps_answering_after_garbage(page):
    status, data = settings(page)
    assert status == 200 and updates(data)[ids.STORE_CONFIG]["data"]
    assert page.client.get("/").status_code == 200


def test_learning_rate_box_never_sends_a_non_number_to_the_slider(page):
    dep = page.find(ids.LR, "value")
    for text in ("inf", "1e400", "nan", "-1", "0", "abc", ""):
        status, data = page.call(dep, {(ids.LR, "value"): text})
        assert status in (200, 204), text
        slider = updates(data).get(ids.LR_SLIDER, {})
        if "value" in slider:
            assert isinstance(slider["value"], (int, float)), (text, slider)
    status, data = page.call(dep, {(ids.LR, "value"): "0.1"})
    assert updates(data)[ids.LR_SLIDER]["value"] == pytest.approx(-1.0)


def test_a_diverging_run_stops_and_says_why_in_plain_words(page):
    config = config_for(page, {(ids.DATASET, "value"): "sine", (ids.LOSS, "value"): "mse",
                               (ids.OPTIMIZER, "value"): "sgd", (ids.LR, "value"): "100",
                               (ids.SAMPLES, "value"): "100", (ids.EPOCHS, "value"): "50"})
    run, cursor = (lambda up: (up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]))(
        updates(press(page, ids.TRAIN, config)[1]))
    status, data = tick(page, run, cursor, speed="fast")
    assert status == 200
    up = updates(data)
    stream = up[ids.STORE_STREAM]["data"]
    assert stream["done"] is True  # the page then stops both intervals (assets/lossviz.js)
    line = stream["status"]
    assert "diverged" in line and "lower the learning rate" in line
    assert "became exploded" not in line  # reads as a sentence: "the loss exploded"
    assert all(v is None or v == v for ys in up[ids.STORE_STREAM]["data"]["y"] for v in ys)
