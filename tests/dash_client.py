"""A tiny Dash renderer for tests: calls the app's callbacks over HTTP, as a fresh page would.

Callbacks are found in ``/_dash-dependencies`` (by the component properties they write), and
their inputs' values come from ``/_dash-layout``. ``app`` and ``page`` are module-scoped
fixtures; test modules import them with the helpers.
"""
from __future__ import annotations

import pytest

from app import dash_protocol as protocol
from app.page import ids
from app.dash_protocol import _is_wildcard, _parse_id, updates  # noqa: F401 (used by test modules)
from app.main import create_app

GARBAGE = [None, "abc", "", -1, 1e308, [], {"a": 1}, True]

class FlaskTransport:
    """The renderer's requests over Flask's test client."""

    def __init__(self, client):
        self.client = client

    def get_json(self, path):
        return self.client.get(path).get_json()

    def post_json(self, path, body):
        r = self.client.post(path, json=body)
        return r.status_code, (r.get_json(silent=True) if r.status_code == 200 else None)


class Page(protocol.Page):
    """A fresh page (its own session) of the app behind a Flask test client."""

    def __init__(self, client):
        super().__init__(FlaskTransport(client))
        self.client = client


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
        have = (cursor or {}).get("n", [0])[0]
        first = stream["runs"][0]
        new = first["x"][0][max(0, have - first["start"]):]
        steps += new
        cursor = {"run_id": run["run_id"], "n": [have + len(new)] + list((cursor or {}).get("n", [0, 0])[1:])}
        if (until(stream) if until else stream["done"]) or time.monotonic() > deadline:
            return stream, steps, cursor
        time.sleep(0.05)


def draw(page, run, drawn=None, **view):
    dep = page.find(ids.GRAPH_CONTOUR, "figure")
    values = {(ids.STORE_RUN, "data"): run, (ids.STORE_DRAWN, "data"): drawn,
              (ids.GRID, "value"): view.get("grid", 11), (ids.RANGE, "value"): view.get("span", "1.0"),
              (ids.LOG_Z, "value"): view.get("log_z", []), (ids.DISPLAY, "value"): view.get("display", "both"),
              (ids.DIRECTIONS, "value"): view.get("directions", "random")}
    if "page_load" in view:  # what the page says of its own drawing (assets/lossviz.js)
        values[(ids.STORE_PAGE_BUSY, "data")] = view["page_load"]
    return page.call(dep, values, changed=[f"{ids.STORE_RUN}.data"])
