"""The app over HTTP keeps working whatever it is sent: bad view options, garbage in any input
of any callback, an out-of-range learning rate, a diverging run."""
from __future__ import annotations

import pytest
from dash._utils import stringify_id

from app.page import ids
from dash_client import (GARBAGE, _is_wildcard, _parse_id, app, config_for, draw, follow, page,  # noqa: F401
                         press, settings, started_run, tick, updates)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app with the per-page and per-address request rates lifted: this module fires thousands of garbage
    requests from one page as fast as it can (the rate itself is tested in test_app_hostile_http)."""
    import dataclasses

    from app.runs.caps import CAPS
    from app.main import create_app

    kept = {name: CAPS[name] for name in ("session_requests", "client_requests")}
    for name, cap in kept.items():
        CAPS[name] = dataclasses.replace(cap, limit=1e9)
    try:
        return create_app(str(tmp_path_factory.mktemp("runs")))
    finally:
        CAPS.update(kept)


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
        updates(press(page, ids.TRAIN, config, speed="fast")[1]))
    stream, _, _ = follow(page, run, cursor, timeout=10)
    assert stream["done"] is True  # the page then stops both intervals (assets/lossviz.js)
    line = stream["status"]
    assert "diverged" in line and "lower the learning rate" in line
    assert "became exploded" not in line  # reads as a sentence: "the loss exploded"
    assert all(v is None or v == v for ys in stream["runs"][0]["y"] for v in ys)
