"""Serving a class over HTTP: sessions own their runs, caps are enforced at the door (named in
the message), and malformed or oversized requests get a 4xx, never a 500."""
from __future__ import annotations

import json
import time

import pytest
from dash._utils import stringify_id

from app.runs import caps, store as app_store
from app.page import ids
from app.main import create_app
from dash_client import (SMALL_RUN, Page, config_for, draw, follow, page, press, ready_run, started_run,  # noqa: F401
                         tick, updates)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(str(tmp_path_factory.mktemp("serving")))


def test_each_page_load_gets_its_own_strong_secret(app):
    a, b = Page(app.server.test_client()), Page(app.server.test_client())
    sa, sb = a.value(ids.STORE_SESSION, "data"), b.value(ids.STORE_SESSION, "data")
    assert sa != sb and len(sa) >= 32  # 24 random bytes, url-safe: 192 bits


@pytest.mark.parametrize("forged", ["x" * 40, "a" * 32 + ".0123456789abcdef0123456789abcdef", None, 17])
def test_a_session_id_the_server_did_not_sign_is_refused(app, forged):
    """Sessions are server-issued: a made-up id cannot own runs (one client, one session per page)."""
    page = Page(app.server.test_client())
    status, data = page.call(page.find(ids.STORE_RUN, "data"),
                             {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_SESSION, "data"): forged,
                              (ids.TRAIN, "n_clicks"): 1}, changed=[f"{ids.TRAIN}.n_clicks"])
    assert status == 200
    up = updates(data)
    assert ids.STORE_RUN not in up and "reload the page" in up[ids.STATUS]["children"]
    sessions_runs = [k for k in app.lossviz_services.store.runs.cache.iterkeys()
                     if str(k).startswith("session:") and str(k).count(":") == 1]
    owner = app_store.owner_of(forged) if isinstance(forged, str) else None
    assert f"session:{owner}" not in sessions_runs


def test_a_run_answers_only_to_the_session_that_made_it(app):
    alice, mallory = Page(app.server.test_client()), Page(app.server.test_client())
    run, cursor, _ = started_run(alice, speed="slow")
    status, data = tick(mallory, run, cursor)
    assert status == 200
    up = updates(data)
    assert ids.STORE_STREAM not in up and "another session" in up[ids.STATUS]["children"]
    status, data = press(mallory, ids.PAUSE, config_for(mallory), run)
    # A press acts on the presser's own session only: the run it names is not even read.
    assert updates(data)[ids.STORE_RUN]["data"]["run_id"] != run["run_id"]
    status, data = draw(mallory, run)
    assert "another session" in updates(data)[ids.VIEW_ERROR]["children"]
    # Alice's run was not paused by Mallory's press.
    stream, _, _ = follow(alice, run, cursor, until=lambda s: "Step 2 " in s["status"])
    assert "training" in stream["status"]
    press(alice, ids.PAUSE, config_for(alice), run)


@pytest.mark.parametrize("change, cap", [({"hidden": [16] * 5}, "hidden_layers"),
                                         ({"hidden": [16] * 7}, "hidden_layers"),
                                         ({"hidden": [600]}, "width"),
                                         ({"hidden": [512, 512, 512]}, "parameters"),
                                         ({"hidden": [256, 256], "n_samples": 20000}, "work_per_step")])
def test_caps_are_enforced_on_the_request_not_only_in_the_widgets(page, change, cap):
    config = {**config_for(page), **change}  # as a hostile client would send it
    status, data = press(page, ids.TRAIN, config)
    assert status == 200
    up = updates(data)
    assert ids.STORE_RUN not in up
    assert f"'{cap}' cap" in up[ids.STATUS]["children"] or "at most" in up[ids.STATUS]["children"]


def test_the_settings_say_a_cap_before_train(page):
    status, data = page.call(page.find(ids.STORE_CONFIG, "data"),
                             {**SMALL_RUN, (ids.SAMPLES, "value"): "20000", (ids.LAYERS, "value"): 2,
                              (stringify_id({"type": ids.WIDTH, "index": 0}), "value"): "256",
                              (stringify_id({"type": ids.WIDTH, "index": 1}), "value"): "256"},
                             changed=[f"{ids.SAMPLES}.value"])
    assert status == 200
    assert "'work_per_step' cap" in updates(data)[ids.CONFIG_ERROR]["children"]


def test_the_grid_cap_is_named(page):
    run, _, _ = started_run(page, speed="slow")
    status, data = draw(page, run, grid=151)
    assert "'grid' cap" in updates(data)[ids.VIEW_ERROR]["children"]
    press(page, ids.PAUSE, config_for(page), run)


def test_an_oversized_body_gets_413_naming_the_cap(app):
    client = app.server.test_client()
    body = json.dumps({"output": "x", "outputs": {}, "inputs": [{"id": "input-lr", "property": "value",
                                                                   "value": "1" * 50_000_000}]})
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert r.status_code == 413
    assert "request_bytes" in r.get_data(as_text=True)
    assert len(r.get_data()) < 1000  # never echoes the body back


MALFORMED = [b"", b"not json", b"[]", b"null", b"{}", b'{"output": 3}',
             b'{"output": "x", "outputs": {}, "inputs": 7}',
             b'{"output": "x", "outputs": {}, "inputs": [{"id": "a"}]}',
             b'{"output": "x", "outputs": {}, "inputs": [], "changedPropIds": [1]}',
             b'{"output": "nosuch.children", "outputs": {"id": "nosuch", "property": "children"}, "inputs": []}',
             b'{"output": "text-status.children", "outputs": {"id": "text-status", "property": "children"},'
             b' "inputs": [{"id": "input-lr", "property": "value", "value": 1}], "changedPropIds": ["input-lr.value"]}']


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_callback_bodies_get_400_not_500(app, body):
    r = app.server.test_client().post("/_dash-update-component", data=body, content_type="application/json")
    assert 400 <= r.status_code < 500 or r.status_code == 204, (r.status_code, body)


def test_cap_table_names_every_limit():
    for name in ("hidden_layers", "width", "samples", "epochs", "grid", "range", "request_bytes",
                 "work_per_step", "session_jobs", "server_jobs", "job_seconds", "idle_seconds"):
        assert name in caps.CAPS and f"'{name}'" in caps.CAPS[name].message(1e12)


def test_the_session_jobs_cap_is_enforced_and_named(app):
    from app.page.callbacks import command
    from app.runs.run import create_run
    from app.runs.store import owner_of

    page = Page(app.server.test_client())
    services = app.lossviz_services
    owner = owner_of(page.value(ids.STORE_SESSION, "data"))
    config = {**config_for(page), "epochs": 100000}
    from lossviz import RunConfig

    runs = [create_run(services.store, RunConfig.from_dict(config), owner)["run_id"] for _ in range(3)]
    services.store.put_session_runs(owner, runs)
    for rid in runs[:2]:
        seq, word = command(services, rid, "train", owner)
        assert word == "", word
    seq, word = command(services, runs[2], "train", owner)
    assert "'session_jobs' cap" in word
    for rid in runs[:2]:
        command(services, rid, "pause", owner)


def test_resets_and_new_settings_do_not_pile_up_runs(app):
    """40 Resets and settings changes leave one stored run for the page (each replaced run is
    stopped and deleted, with every chunk of it), not 40 kept for 6 hours."""
    store = app.lossviz_services.store
    page = Page(app.server.test_client())
    run, _, _ = started_run(page, speed="fast")

    def hot_keys():
        return {str(k) for k in store.runs.cache.iterkeys() if str(k).endswith(":hot")}

    before = hot_keys()
    config = config_for(page)
    for i in range(20):
        press(page, ids.RESET, config)
        status, data = page.call(page.find(ids.STORE_RUN, "data"),
                                 {(ids.STORE_CONFIG, "data"): config_for(page, {**SMALL_RUN, (ids.SEED, "value"): str(i)})},
                                 changed=[f"{ids.STORE_CONFIG}.data"])
        assert status == 200
    after = hot_keys()
    mine = after - before
    assert len(mine) == 1, f"{len(mine)} runs of this page are stored"
    assert f"run:{run['run_id']}:hot" not in after  # the first run is gone, chunks and all
    assert not [k for k in store.runs.cache.iterkeys() if str(k).startswith(f"run:{run['run_id']}:")
                and not str(k).endswith(":gone")]


def test_a_run_that_never_trains_is_kept_minutes_and_one_that_trains_hours(app):
    from app.runs.store import RUN_TTL_S, UNTRAINED_TTL_S

    store, page = app.lossviz_services.store, Page(app.server.test_client())
    ready = ready_run(page)
    expire = store.runs.cache.get(f"run:{ready['run_id']}:hot", expire_time=True)[1]
    assert expire - time.time() <= UNTRAINED_TTL_S + 1
    # stored as its record only: its weights are its config's, rebuilt when read
    assert store.model(ready["run_id"]) is None and store.params(ready["run_id"]) is None
    run, _, _ = started_run(page)
    expire = store.runs.cache.get(f"run:{run['run_id']}:hot", expire_time=True)[1]
    assert expire - time.time() > RUN_TTL_S - 60


def test_a_full_run_store_refuses_new_runs_with_a_message(app, monkeypatch):
    store, page = app.lossviz_services.store, Page(app.server.test_client())
    monkeypatch.setattr(type(store.runs), "volume", lambda self: int(5e9))
    status, data = press(page, ids.TRAIN, config_for(page))
    assert status == 200
    up = updates(data)
    assert ids.STORE_RUN not in up and "'run_store' cap" in up[ids.STATUS]["children"]
