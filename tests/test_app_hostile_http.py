"""Hostile input to every callback, property-based: whatever one input or the whole body holds,
the server answers 2xx or 4xx — never a 500, never a traceback, never a hang."""
from __future__ import annotations

import json
import time

import pytest
from dash._utils import stringify_id
from hypothesis import HealthCheck, given, settings, strategies as st

from app.page import ids
from dash_client import _is_wildcard, _parse_id, app, config_for, page, updates  # noqa: F401 (fixtures)

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
                      st.sampled_from(["nan", "inf", "-1e400", "1e400", "0", "", " ", "16,16", "../x"]))
JUNK = st.recursive(JSON_LEAF, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                    max_leaves=12)
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _answer_is_clean(status: int, data) -> None:
    assert status in (200, 204) or 400 <= status < 500, status
    text = json.dumps(data or {})
    assert "Traceback" not in text and 'File "' not in text


def _inputs(page):
    """(callback, key, changed id) for every input and state of every server callback."""
    out = []
    for dep in page.server_callbacks():
        for spec in dep["inputs"] + dep["state"]:
            id_ = _parse_id(spec["id"])
            cids = page._matching(id_)[:1] if _is_wildcard(id_) else [id_]
            for cid in cids:
                key = (stringify_id(cid) if isinstance(cid, dict) else cid, spec["property"])
                out.append((dep, key))
    return out


def test_every_callback_input_takes_any_junk(page):
    cases = _inputs(page)
    assert len(cases) > 30  # every callback, every input

    @settings(SETTINGS, max_examples=200)
    @given(index=st.integers(0, len(cases) - 1), junk=JUNK)
    def one(index, junk):
        dep, key = cases[index]
        status, data = page.call(dep, {key: junk}, changed=[f"{key[0]}.{key[1]}"])
        _answer_is_clean(status, data)

    one()


@settings(SETTINGS, max_examples=100)
@given(body=JUNK)
def test_any_json_body_gets_a_4xx_not_a_500(app, body):
    r = app.server.test_client().post("/_dash-update-component", data=json.dumps(body),
                                      content_type="application/json")
    assert r.status_code < 500, (r.status_code, body)


@settings(SETTINGS, max_examples=60)
@given(settings_=st.dictionaries(st.sampled_from(["dataset", "n_samples", "noise", "hidden", "activation", "loss",
                                                  "lr", "epochs", "batch_size", "seed", "optimizer", "l2", "bogus"]),
                                 JUNK, max_size=4))
def test_hostile_settings_sent_straight_to_train(page, settings_):
    """A client that skips the widgets and sends its own settings dict with Train."""
    config = {**config_for(page), **settings_}
    dep = page.find(ids.STORE_RUN, "data")
    for _ in range(50):  # this loop outruns the page's request rate ('session_requests'): a 429 waits
        status, data = page.call(dep, {(ids.STORE_CONFIG, "data"): config, (ids.TRAIN, "n_clicks"): 1},
                                 changed=[f"{ids.TRAIN}.n_clicks"])
        if status != 429:
            break
        time.sleep(0.1)
    _answer_is_clean(status, data)
    up = updates(data)
    if ids.STORE_RUN not in up:  # refused: a plain message on the status line
        assert up[ids.STATUS]["children"], up
    else:  # accepted: stop it again
        page.call(dep, {(ids.STORE_CONFIG, "data"): config, (ids.PAUSE, "n_clicks"): 1,
                        (ids.STORE_RUN, "data"): up[ids.STORE_RUN]["data"]}, changed=[f"{ids.PAUSE}.n_clicks"])


def test_a_page_that_floods_the_callbacks_gets_429_and_others_are_served(app):
    """One session looping on the tick endpoint is held to the 'session_requests' rate; another
    page's requests go on being answered meanwhile."""
    from app.runs.caps import CAPS
    from dash_client import Page

    flood, other = Page(app.server.test_client()), Page(app.server.test_client())
    dep = flood.find(ids.STORE_STREAM, "data")
    statuses = [flood.call(dep, {(ids.INTERVAL_TRAIN, "n_intervals"): i, (ids.STORE_RUN, "data"): {"run_id": "x"}})[0]
                for i in range(int(4 * CAPS["session_requests"].limit))]
    assert 429 in statuses and statuses[:int(CAPS["session_requests"].limit)].count(429) == 0
    status, _ = other.call(other.find(ids.STORE_STREAM, "data"),
                           {(ids.INTERVAL_TRAIN, "n_intervals"): 1, (ids.STORE_RUN, "data"): {"run_id": "x"}})
    assert status in (200, 204)


@pytest.fixture(scope="module")
def tight_app(tmp_path_factory):
    """The app with small per-address caps: 5 pages a minute, 20 requests a second (bursts of 40)."""
    import dataclasses

    from app.runs.caps import CAPS
    from app.main import create_app

    kept = {name: CAPS[name] for name in ("client_pages", "client_requests", "session_requests")}
    CAPS["client_pages"] = dataclasses.replace(kept["client_pages"], limit=5)
    CAPS["client_requests"] = dataclasses.replace(kept["client_requests"], limit=20)
    CAPS["session_requests"] = dataclasses.replace(kept["session_requests"], limit=1e9)  # the address's cap alone
    try:
        return create_app(str(tmp_path_factory.mktemp("runs")))
    finally:
        CAPS.update(kept)


def _client_at(app, address: str):
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_one_address_opening_page_after_page_is_told_to_wait_and_others_are_not(tight_app):
    """Each page opened is a new session with its own caps, so one client could mint sessions
    without end; an address opening more than 'client_pages' pages a minute gets a page that
    says so (and no session), while another address opens the app as usual. Mutation caught:
    the layout issuing sessions with no per-address bound."""
    from app.page import ids

    hostile = _client_at(tight_app, "10.0.0.1")
    layouts = [hostile.get("/_dash-layout").get_json() for _ in range(7)]
    text = json.dumps(layouts[-1])
    assert "client_pages" in text and "Wait a minute" in text and ids.STORE_SESSION not in text
    assert ids.STORE_SESSION in json.dumps(layouts[0])
    assert ids.STORE_SESSION in json.dumps(_client_at(tight_app, "10.0.0.2").get("/_dash-layout").get_json())


def test_one_address_over_its_request_rate_gets_429_whatever_its_sessions(tight_app):
    """Requests from one address, spread over many sessions (each under its own rate), are held
    to 'client_requests'; another address is answered meanwhile. Mutation caught: requests
    counted per session only."""
    from dash_client import Page

    pages = [Page(_client_at(tight_app, "10.0.0.3")) for _ in range(4)]  # 4 layouts: under the page cap
    dep = pages[0].find(ids.STORE_STREAM, "data")
    statuses = [pages[i % 4].call(dep, {(ids.INTERVAL_TRAIN, "n_intervals"): i,
                                        (ids.STORE_RUN, "data"): {"run_id": "x"}})[0] for i in range(120)]
    assert 429 in statuses, statuses
    other = Page(_client_at(tight_app, "10.0.0.4"))
    status, _ = other.call(other.find(ids.STORE_STREAM, "data"),
                           {(ids.INTERVAL_TRAIN, "n_intervals"): 1, (ids.STORE_RUN, "data"): {"run_id": "x"}})
    assert status in (200, 204)
