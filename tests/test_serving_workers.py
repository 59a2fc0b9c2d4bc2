"""The served app (gunicorn) behaves the same with 1 and 4 worker processes: every request on a
fresh connection (so requests of one page land on different processes), the run's numbers are
those of the engine run directly."""
from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest

from app.page import ids
from app.dash_protocol import Page, updates
from app.runs.run import advance_run, new_run
from conftest import _serve_app, _stop

pytestmark = pytest.mark.served  # times a real server's answers: run beside the browser tests
from lossviz import RunConfig


class FreshConnections:
    """The renderer's requests, each on a new connection (no keep-alive pinning)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def get_json(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return json.loads(r.read())

    def post_json(self, path, body):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Connection": "close"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if r.status == 200 and raw else None)
        except urllib.error.HTTPError as e:
            return e.code, None


@pytest.mark.parametrize("workers", [1, 4])
def test_same_run_with_1_and_4_workers(tmp_path, workers):
    env = {k: v for k, v in os.environ.items() if k != "LOSSVIZ_REDIS_URL"}
    url, proc = _serve_app(tmp_path, env, workers=workers)
    try:
        page = Page(FreshConnections(url))
        widgets = {(ids.SAMPLES, "value"): "150", (ids.EPOCHS, "value"): "60"}
        status, data = page.call(page.find(ids.STORE_CONFIG, "data"), widgets, changed=[f"{ids.SAMPLES}.value"])
        config = updates(data)[ids.STORE_CONFIG]["data"]
        status, data = page.call(page.find(ids.STORE_RUN, "data"),
                                 {(ids.STORE_CONFIG, "data"): config, (ids.TRAIN, "n_clicks"): 1,
                                  (ids.SPEED, "value"): "fast"}, changed=[f"{ids.TRAIN}.n_clicks"])
        up = updates(data)
        run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
        tick = page.find(ids.STORE_STREAM, "data")
        steps, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            status, data = page.call(tick, {(ids.INTERVAL_TRAIN, "n_intervals"): 1, (ids.STORE_RUN, "data"): run,
                                            (ids.STORE_CURSOR, "data"): cursor})
            assert status == 200
            stream = updates(data)[ids.STORE_STREAM]["data"]
            first = stream["runs"][0]
            new = first["x"][0][cursor["n"][0] - first["start"]:]
            steps += new
            cursor = {"run_id": run["run_id"], "n": [cursor["n"][0] + len(new)]}
            if stream["done"]:
                break
            time.sleep(0.1)
        assert stream["done"] and "finished" in stream["status"], stream["status"]
        assert steps == [float(s) for s in range(1, 61)]
        # The engine, run directly with the same settings, prints the same numbers.
        plain = new_run(RunConfig.from_dict(config))
        advance_run(plain, 60)
        loss = plain.history["train_loss"][-1]
        assert f"loss {loss:.4g} train" in stream["status"], (loss, stream["status"])
        status, data = page.call(page.find(ids.GRAPH_CONTOUR, "figure"),
                                 {(ids.STORE_RUN, "data"): {**run, "running": False}, (ids.STORE_DRAWN, "data"): None},
                                 changed=[f"{ids.STORE_RUN}.data"])
        assert status == 200 and updates(data)[ids.GRAPH_CONTOUR]["figure"]["data"][0]["type"] == "contour"
    finally:
        _stop(proc)
