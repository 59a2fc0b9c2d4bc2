"""Limits at the server for what a client sends (issue 17, item 2): each hole tried over HTTP as
a hostile client would, and what that request gets now."""
from __future__ import annotations

import base64
import gzip
import re
import secrets
import time

import numpy as np
import pytest

from app.runs import caps
from app.page import ids
from app import static
from app.main import create_app
from app.views.panels.surfaces import convexity_grid
from app.runs.store import RunStore
from dash_client import Page, app, config_for, follow, page, press, started_run, updates  # noqa: F401 (fixtures)
from lossviz import tabular

VIEW = {(ids.PAGE_VIEW, "value"): "surfaces", (ids.GRID, "value"): 11, (ids.RANGE, "value"): "1.0",
        (ids.DIRECTIONS, "value"): "random", (ids.LOG_Z, "value"): [], (ids.NORMALIZATION, "value"): "filter"}


@pytest.fixture(scope="module")
def finished(page):
    run, cursor, _ = started_run(page, speed="fast")
    follow(page, run, cursor)
    return dict(run, running=False)


# --- 1. the convexity map's grid is the server's -------------------------------------------------

def _convexity(page, run, asked=None, **values):
    dep = page.find(ids.STORE_CONVEXITY, "data")
    body = {**VIEW, (ids.STORE_RUN, "data"): run, **values}
    if asked is None:
        status, data = page.call(dep, {**body, (ids.CONVEXITY_BUTTON, "n_clicks"): 1},
                                 changed=[f"{ids.CONVEXITY_BUTTON}.n_clicks"])
    else:
        status, data = page.call(dep, {**body, (ids.STORE_CONVEXITY, "data"): asked,
                                       (ids.INTERVAL_CONVEXITY, "n_intervals"): 1},
                                 changed=[f"{ids.INTERVAL_CONVEXITY}.n_intervals"])
    assert status == 200, status
    return updates(data)


def test_a_client_sent_convexity_grid_is_ignored(app, page, finished):
    """Before: {"grid": 4000} in store-convexity made a 4000×4000 map (12.7 s, +1.4 GB, a 160 MB
    answer). Now the grid comes from the landscape the server computed at the page's grid."""
    asked = _convexity(page, finished)[ids.STORE_CONVEXITY]["data"]
    expected = convexity_grid(11)
    assert asked["grid"] == expected
    hostile = dict(asked, grid=4000)
    for _ in range(40):
        start = time.monotonic()
        out = _convexity(page, finished, hostile)
        assert time.monotonic() - start < 5.0
        assert out[ids.CONVEXITY_PROGRESS]["max"] == str(expected)
        if out[ids.INTERVAL_CONVEXITY]["disabled"]:
            break
        assert out[ids.STORE_CONVEXITY]["data"]["grid"] == expected  # what the page gets back
    z = np.array(out[ids.GRAPH_CONVEXITY]["figure"]["data"][0]["z"], dtype=float)
    assert z.shape == (expected, expected) and np.isfinite(z).all()
    key = out[ids.STORE_CONVEXITY]["data"]["key"]
    stored = app.lossviz_services.store.get_result(("convexity", *key))
    assert np.asarray(stored["ratio"]).shape == (expected, expected)


def test_a_convexity_key_naming_another_run_or_grid_is_refused(page, finished):
    asked = _convexity(page, finished)[ids.STORE_CONVEXITY]["data"]
    other = dict(asked, key=["0" * 24] + asked["key"][1:])
    out = _convexity(page, finished, other)
    assert "another run" in out[ids.CONVEXITY_TEXT]["children"]
    assert ids.GRAPH_CONVEXITY not in out
    huge = dict(asked, key=asked["key"][:2] + [4000] + asked["key"][3:], grid=4000)
    start = time.monotonic()
    out = _convexity(page, finished, huge)
    assert time.monotonic() - start < 2.0
    assert "press the button again" in out[ids.CONVEXITY_TEXT]["children"]
    assert out[ids.INTERVAL_CONVEXITY]["disabled"] is True
    for junk in ({"key": "x"}, {"key": [1, 2]}, {"key": ["a", "b", "c", "d", "e", "f", "g"]}):
        out = _convexity(page, finished, junk)
        assert "press the button again" in out[ids.CONVEXITY_TEXT]["children"], junk


# --- 2. the gzip cache of static files is bounded --------------------------------------------

GZIP = {"Accept-Encoding": "gzip"}
SUITES = "/_dash-component-suites/"


def _made_up(i: int) -> str:
    return f"v{i}x{secrets.token_hex(3)}m{secrets.token_hex(4)}"


def test_made_up_fingerprints_do_not_grow_the_static_cache(app):
    """Before: each made-up ``plotly.v<random>.min.js`` address was packed and kept on its own
    (150 of them: +217 MB in one worker, never freed). Now the cache holds one entry per real
    file, whatever fingerprint the address carries, and the answer is still the file."""
    client, packed = app.server.test_client(), app.server.extensions["lossviz.packed"]
    real = client.get(SUITES + "dash/deps/react-dom@18.3.1.min.js", headers=GZIP)
    assert real.status_code == 200 and real.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(real.data)
    files = len(packed)
    for i in range(40):
        r = client.get(f"{SUITES}dash/deps/react-dom@18.{_made_up(i)}.3.1.min.js", headers=GZIP)
        assert r.status_code == 200 and gzip.decompress(r.data) == body
    plotly = [client.get(f"{SUITES}plotly/package_data/plotly.{_made_up(i)}.min.js", headers=GZIP)
              for i in range(4)]
    assert all(r.status_code == 200 and r.headers["Content-Encoding"] == "gzip" for r in plotly)
    assert len({r.data for r in plotly}) == 1
    assert len(packed) <= files + 1  # the full plotly.min.js, once
    assert packed.bytes <= static.PACKED_BYTES


def test_the_static_cache_keeps_at_most_its_files_and_bytes():
    packed = static.PackedFiles(most_files=3, most_bytes=4000)
    rng = np.random.default_rng(0)
    bodies = {f"/assets/f{i}.js": rng.bytes(1500) for i in range(10)}  # random: gzip cannot shrink them
    for path, body in bodies.items():
        assert gzip.decompress(packed.packed(path, body)) == body
        assert len(packed) <= 3 and packed.bytes <= 4000
    assert len(packed) == 2  # two 1.5 KB files fit in 4 KB, a third does not
    changed = b"console.log(1);" * 200
    assert gzip.decompress(packed.packed("/assets/f9.js", changed)) == changed  # a changed file: packed again
    big = rng.bytes(5000)
    assert gzip.decompress(packed.packed("/assets/big.js", big)) == big and "big" not in str(packed._entries)


# --- 3. uploads: a valid session, and quotas per page and for all ----------------------------

def _table(rows: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["a,b,c,label"] + [",".join(f"{v:.6f}" for v in rng.normal(size=3)) + f",{i % 2}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _upload(page, data: bytes, filename: str, values=None):
    file = {"contents": "data:text/csv;base64," + base64.b64encode(data).decode(), "filename": filename}
    status, body = page.call(page.find(ids.STORE_UPLOAD, "data"), {(ids.STORE_UPLOAD_FILE, "data"): file, **(values or {})})
    assert status == 200, status
    return updates(body)


@pytest.fixture
def small_quotas(monkeypatch):
    """Quotas of a few small tables (each ~20 KB): 50 KB per page, 100 KB for all."""
    for name, mb in (("session_tables", 0.05), ("server_tables", 0.1)):
        monkeypatch.setitem(caps.CAPS, name, caps.Cap(name, mb, caps.CAPS[name].counts))


@pytest.fixture
def fresh_app(tmp_path):
    return create_app(str(tmp_path / "runs"))


def test_an_upload_needs_a_session_this_server_made(fresh_app):
    """Before: any request could store a table (6 h), session or not. Now it is refused."""
    page, data = Page(fresh_app.server.test_client()), _table(200, 0)
    store = fresh_app.lossviz_services.store
    for forged in (None, "", "x" * 40, page.value(ids.STORE_SESSION, "data") + "0"):
        up = _upload(page, data, "t.csv", {(ids.STORE_SESSION, "data"): forged})
        assert "session" in up[ids.UPLOAD_NOTE]["children"] and ids.DATASET not in up, forged
    assert store.table(tabular.content_hash(data)) is None and store.table_usage() == 0
    up = _upload(page, data, "t.csv")  # the page's own session
    assert up[ids.DATASET]["value"] == f"csv:{tabular.content_hash(data)}"


def test_uploads_stop_at_the_quota_of_a_page_and_of_all_pages(fresh_app, small_quotas):
    """Before: every distinct table was kept, without end. Now each page keeps at most the
    'session_tables' quota, all pages together the 'server_tables' one, with a message naming it."""
    store = fresh_app.lossviz_services.store
    page, tables = Page(fresh_app.server.test_client()), [_table(600, i) for i in range(8)]
    assert all(15_000 < len(t) < 25_000 for t in tables)
    for t in tables[:2]:
        assert _upload(page, t, "ok.csv")[ids.DATASET]["value"].startswith("csv:")
    up = _upload(page, tables[2], "third.csv")
    note = up[ids.UPLOAD_NOTE]["children"]
    assert "Could not keep third.csv" in note and "'session_tables'" in note and ids.DATASET not in up
    assert store.table(tabular.content_hash(tables[2])) is None
    assert _upload(page, tables[0], "again.csv")[ids.DATASET]["value"].startswith("csv:")  # kept already: no more bytes
    for i, t in enumerate(tables[2:5]):  # other pages, each within its own quota
        assert _upload(Page(fresh_app.server.test_client()), t, f"p{i}.csv")[ids.DATASET]["value"].startswith("csv:")
    up = _upload(Page(fresh_app.server.test_client()), tables[5], "full.csv")
    assert "'server_tables'" in up[ids.UPLOAD_NOTE]["children"] and ids.DATASET not in up
    assert store.table_usage() <= 0.1 * 2 ** 20


def test_expired_tables_leave_the_quota(tmp_path, small_quotas):
    from app.runs import codec

    store, owner = RunStore.open(str(tmp_path)), "o" * 32
    a, b, c = _table(600, 1), _table(600, 2), _table(600, 3)
    store.put_table(tabular.content_hash(a), a, "a.csv", owner)
    store.put_table(tabular.content_hash(b), b, "b.csv", owner)
    assert store.table_usage(owner) == store.table_usage() == len(a) + len(b)
    with pytest.raises(caps.CapExceeded, match="session_tables"):
        store.put_table(tabular.content_hash(c), c, "c.csv", owner)
    store.runs.delete(f"table:{tabular.content_hash(a)}:about")  # a expired; b is kept by a run
    for key in ("tables:all", f"tables:session:{owner}"):  # RUN_TTL_S later: time to look again
        ledger = {d: [size, 0.0] for d, (size, _) in codec.decode(store.runs.get(key)).items()}
        store.runs.set(key, codec.encode(ledger), 60)
    assert store.table_usage(owner) == store.table_usage() == len(b)
    store.put_table(tabular.content_hash(c), c, "c.csv", owner)  # room again
    assert store.table(tabular.content_hash(c)) == c
    store.close()


# --- 4. the Celery path keeps the job budget in Redis ---------------------------------------

@pytest.fixture
def redis_apps(redis_url, tmp_path):
    """Two web servers on one Redis (a database of their own: no worker of the session reads
    its queue, so jobs sent stay queued and keep their shares)."""
    url = redis_url.rsplit("/", 1)[0] + "/7"
    apps = [create_app(str(tmp_path / f"runs{i}"), url) for i in range(2)]
    budget = apps[0].lossviz_services.runner.budget
    budget.client.flushdb()
    yield apps, budget
    budget.client.flushdb()


def _train_on(app_, speed="normal"):
    """A fresh page of ``app_`` presses Train: its status line."""
    page = Page(app_.server.test_client())
    status, data = press(page, ids.TRAIN, config_for(page), speed=speed)
    assert status == 200, status
    return str(updates(data)[ids.STATUS]["children"])


def test_the_celery_path_refuses_jobs_beyond_the_workers_budget(redis_apps):
    """Before: CeleryRunner.submit always said yes (40 forged sessions at Max speed all sent to
    a worker of 64 threads; an honest student waited at step 0). Now two web servers share one
    budget in Redis: at most the live workers' threads, then "busy" naming the caps."""
    apps, budget = redis_apps
    said = _train_on(apps[0])  # no worker alive: nothing is sent, and the page says so
    assert "busy" in said and "no `lossviz worker` is running" in said, said
    beating = budget.keep_registered("test-worker", 3)  # a worker with three threads
    try:
        said = [_train_on(apps[i % 2], "max") for i in range(5)]
        assert ["busy" in s for s in said] == [False, False, False, True, True], said
        assert "'worker_jobs'" in said[-1] and "'job_memory'" in said[-1] and "3 runs" in said[-1]
        assert budget.usage()["jobs"] == 3 and budget.usage()["most_jobs"] == 3
    finally:
        beating.set()
        budget.leave("test-worker")


def test_the_celery_budget_counts_memory_and_lets_lapsed_shares_go(redis_apps, monkeypatch):
    from app.runs import budget as budget_module

    apps, budget = redis_apps
    budget.beat("test-worker", 8)
    for app_ in apps:
        app_.lossviz_services.runner.budget.bytes_per_worker = 1  # the first job fits, no second
    assert "busy" not in _train_on(apps[0]) and "busy" in _train_on(apps[1])
    budget.client.flushdb()
    monkeypatch.setattr(budget_module, "QUEUED_TTL_S", 0.3)  # a job sent and never started...
    monkeypatch.setattr(budget_module, "WORKER_TTL_S", 0.6)  # ...on a worker that died
    budget.beat("test-worker", 1)
    assert budget.take(10) is not None and budget.take(10) is None
    time.sleep(0.4)
    assert budget.usage()["jobs"] == 0 and budget.take(10) is not None  # the share came back
    time.sleep(0.7)
    assert budget.usage()["workers"] == 0 and budget.take(10) is None  # no worker: no job


def test_a_celery_job_holds_its_share_while_it_trains_and_gives_it_back(celery_worker, redis_url, tmp_path):
    app_ = create_app(str(tmp_path / "runs"), redis_url)
    budget = app_.lossviz_services.runner.budget
    deadline = time.monotonic() + 20
    while budget.usage()["workers"] < 1:  # the worker registers its threads as it starts
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert budget.usage()["most_jobs"] == 8  # the fixture's --concurrency
    page = Page(app_.server.test_client())
    run, cursor, _ = started_run(page, values={(ids.SAMPLES, "value"): "120", (ids.EPOCHS, "value"): "60"})
    assert budget.usage()["jobs"] >= 1
    stream, steps, _ = follow(page, run, cursor)
    assert stream["done"] and steps and steps[-1] > 0
    while budget.usage()["jobs"]:
        assert time.monotonic() < deadline + 30
        time.sleep(0.1)


# --- 5. a job whose page never sent a heartbeat is stopped as idle --------------------------

def test_a_run_whose_page_never_ticks_is_stopped_as_idle(app, page, monkeypatch):
    """Before: a client that pressed Train and never sent a tick (no heartbeat ever) kept a job
    training until its 600 s limit. Now 'idle_seconds' count from the job's start."""
    from app.runs import jobs

    monkeypatch.setitem(caps.CAPS, "idle_seconds", caps.Cap("idle_seconds", 1.0, caps.CAPS["idle_seconds"].counts))
    monkeypatch.setattr(jobs, "SEEN_EVERY_S", 0.05)
    run, _, _ = started_run(page, values={(ids.SAMPLES, "value"): "120", (ids.EPOCHS, "value"): "100000"})
    store = app.lossviz_services.store
    assert store.seen(run["run_id"]) is None
    deadline = time.monotonic() + 10
    while store.hot(run["run_id"])["state"] != "paused" or store.leased(run["run_id"]):
        assert time.monotonic() < deadline, store.hot(run["run_id"])["state"]
        time.sleep(0.1)
    hot = store.hot(run["run_id"])
    assert "closed" in hot["message"] and 0 < hot["step"] < 100_000


def test_a_press_of_the_convexity_button_counts_when_a_run_call_overtakes_it(app):
    """The press's own call can be overtaken by one the run fired (its end); Dash drops the
    overtaken answer. That call, carrying the button's count, starts the map all the same
    (before: it cleared the map, and the press did nothing). A call with no new press still
    clears the map of an old run. Mutation caught: presses read from the trigger alone."""
    page = Page(app.server.test_client())  # a page of its own: its run and its button's count
    run, cursor, _ = started_run(page, speed="fast")
    follow(page, run, cursor)
    finished = dict(run, running=False)
    dep = page.find(ids.STORE_CONVEXITY, "data")
    # (the run's call, while a map exists: app.page.run_gates)
    body = {**VIEW, (ids.STORE_RUN, "data"): finished, (ids.STORE_RUN_CONVEXITY, "data"): finished,
            (ids.CONVEXITY_BUTTON, "n_clicks"): 1}
    status, data = page.call(dep, body, changed=[f"{ids.STORE_RUN_CONVEXITY}.data"])  # the press's answer was dropped
    out = updates(data)
    said = out[ids.CONVEXITY_TEXT]["children"]  # rows done within the call's time: any number of them
    assert status == 200 and (said.startswith("done") or re.match(r"\d+ of \d+ rows", said)), out
    assert out[ids.GRAPH_CONVEXITY]["figure"]["data"], "the press started no map"
    asked = out[ids.STORE_CONVEXITY]["data"]
    assert "key" in asked and asked["clicks"] == 1
    again = {k: v for k, v in body.items() if k != (ids.CONVEXITY_BUTTON, "n_clicks")}  # (the page's count, unchanged)
    status, data = page.call(dep, {**again, (ids.STORE_CONVEXITY, "data"): asked},
                             changed=[f"{ids.STORE_RUN_CONVEXITY}.data"])
    out = updates(data)
    assert out[ids.INTERVAL_CONVEXITY]["disabled"] is True and "key" not in out[ids.STORE_CONVEXITY]["data"]
    assert out[ids.CONVEXITY_TEXT]["children"] == ""
