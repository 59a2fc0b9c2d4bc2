"""A press of Train is never lost, in real Chromium against a server whose settings callbacks
answer late (as under a class's load): the page's own first calls (settings -> store-config ->
the run callback) are still out, or answered after the press, when Train is clicked.

Mutations these tests catch: a run callback that trusts the page's ``store-run`` State (an
overtaken Train answer leaves the page on a fresh idle run: status stays "ready: press Train");
a run callback that acts only on ``ctx.triggered_id`` (a press carried by a later call is never
seen); ticks that fire on the clock whatever is in flight (answers slower than the clock are
dropped and the curve stalls).
"""
from __future__ import annotations

import time

import pytest

from conftest import _serve_app, _stop
from test_browser import button, snap, wait_for

pytestmark = pytest.mark.browser

SLOW = "store-config.data=1.2;store-compare.data=0.8;store-stream.data=0.15"


@pytest.fixture(scope="module")
def slow_url(tmp_path_factory):
    """The app with its settings callbacks answering 0.8-1.2 s late and each train tick 0.15 s
    late (more than the 100 ms clock: a tick that did not wait for its answer would be dropped)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "LOSSVIZ_REDIS_URL"}
    url, proc = _serve_app(tmp_path_factory.mktemp("slow-server"), dict(env, LOSSVIZ_SLOW_CALLBACKS=SLOW))
    try:
        yield url
    finally:
        _stop(proc)


def press_as_soon_as_visible(chromium, url):
    """A fresh page on ``url`` whose Train is clicked the moment it is visible (not waiting for
    the plots or the settings). Returns (page, page errors, its context to close)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="commit")
    button(page, "Train").click(timeout=30_000)
    return page, errors, context


def curve_rate(page, seconds: float) -> float:
    """Times per second the loss curve grew, sampled every 0.1 s for ``seconds``."""
    grown, last = 0, snap(page)["curve_n"]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.1)
        n = snap(page)["curve_n"]
        grown += n > last
        last = n
    return grown / seconds


@pytest.mark.parametrize("query", ["", "?dataset=circles&epochs=400"])
def test_train_pressed_during_page_load_trains(chromium, slow_url, query):
    page, errors, context = press_as_soon_as_visible(chromium, slow_url + query)
    try:
        s = wait_for(page, lambda s: "training" in s["status"] or "finished" in s["status"],
                     timeout=30, what="the press of Train to start training")
        if "circles" in query:  # the settings on screen are the ones that train
            assert "Step" in s["status"] and "/ 400" in s["status"], s["status"]
            wait_for(page, lambda s: s["curve_n"] > 5, timeout=20, what="the curve to start growing")
            # never stalls (the bug: twice in 17 s, 0.12/s); how fast it grows under a class's load is the
            # load bench's floor (bench/bench_load.py), not a wall-clock assertion here
            rate = curve_rate(page, 5.0)
            assert rate >= 0.6, f"the curve grew {rate:.1f} times a second with ticks answered in 0.15 s"
        wait_for(page, lambda s: "finished" in s["status"], timeout=90, what="the run to finish")
        assert not errors, errors
    finally:
        context.close()


def test_two_quick_presses_pause_what_the_first_started(chromium, slow_url):
    """Train, then Pause 0.3 s later (both while the page's first calls are slow): whichever
    call the page keeps, the run ends up paused, not training and not fresh."""
    page, errors, context = press_as_soon_as_visible(chromium, slow_url + "?epochs=2000")
    try:
        wait_for(page, lambda s: "training" in s["status"], timeout=30, what="training")
        button(page, "Pause").click()
        s = wait_for(page, lambda s: s["status"].startswith("paused"), timeout=30, what="the pause")
        step = s["status"].split("Step ")[1].split(" ")[0]
        time.sleep(1.5)
        assert snap(page)["status"].split("Step ")[1].split(" ")[0] == step  # it stays paused
        assert int(step) > 0
        assert not errors, errors
    finally:
        context.close()
