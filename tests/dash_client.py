"""A tiny Dash renderer for tests: calls the app's callbacks over HTTP, as a fresh page would.

Callbacks are found in ``/_dash-dependencies`` (by the component properties they write), and
their inputs' values come from ``/_dash-layout``. ``app`` and ``page`` are module-scoped
fixtures; test modules import them with the helpers.
"""
from __future__ import annotations

import json

import pytest
from dash._utils import split_callback_id, stringify_id

from app import ids
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


def press(page, button, config, run=None, speed="normal"):
    dep = page.find(ids.STORE_RUN, "data")
    values = {(ids.STORE_CONFIG, "data"): config, (button, "n_clicks"): 1, (ids.STORE_RUN, "data"): run,
              (ids.SPEED, "value"): speed}
    return page.call(dep, values, changed=[f"{button}.n_clicks"])


def started_run(page, speed="normal", values=SMALL_RUN):
    """A small run, Train pressed: (run data, cursor, response updates)."""
    status, data = press(page, ids.TRAIN, config_for(page, values), speed=speed)
    assert status == 200, status
    up = updates(data)
    return up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"], up


def ready_run(page, values=SMALL_RUN):
    """A small run made by new settings alone (step 0, not training): its run data."""
    status, data = page.call(page.find(ids.STORE_RUN, "data"), {(ids.STORE_CONFIG, "data"): config_for(page, values)},
                             changed=[f"{ids.STORE_CONFIG}.data"])
    assert status == 200, status
    return updates(data)[ids.STORE_RUN]["data"]


def tick(page, run, cursor):
    """One training tick, as the page's interval sends it (it only reads)."""
    dep = page.find(ids.STORE_STREAM, "data")
    values = {(ids.INTERVAL_TRAIN, "n_intervals"): 1, (ids.STORE_RUN, "data"): run,
              (ids.STORE_CURSOR, "data"): cursor}
    return page.call(dep, values)


def follow(page, run, cursor, timeout=30.0, until=None):
    """Tick every 50 ms, moving the cursor on as the browser does, until the stream says done
    (or ``until(stream)``). Returns (last stream, every step received, final cursor)."""
    import time

    steps, deadline = [], time.monotonic() + timeout
    while True:
        status, data = tick(page, run, cursor)
        assert status == 200, status
        stream = updates(data)[ids.STORE_STREAM]["data"]
        skip = (cursor or {}).get("n", 0) - stream["start"]
        new = stream["x"][0][max(0, skip):]
        steps += new
        cursor = {"run_id": run["run_id"], "n": (cursor or {}).get("n", 0) + len(new)}
        if (until(stream) if until else stream["done"]) or time.monotonic() > deadline:
            return stream, steps, cursor
        time.sleep(0.05)


def draw(page, run, drawn=None, **view):
    dep = page.find(ids.GRAPH_CONTOUR, "figure")
    values = {(ids.STORE_RUN, "data"): run, (ids.STORE_DRAWN, "data"): drawn,
              (ids.GRID, "value"): view.get("grid", 11), (ids.RANGE, "value"): view.get("span", "1.0"),
              (ids.LOG_Z, "value"): view.get("log_z", []), (ids.DISPLAY, "value"): view.get("display", "both"),
              (ids.DIRECTIONS, "value"): view.get("directions", "random")}
    return page.call(dep, values, changed=[f"{ids.STORE_RUN}.data"])
