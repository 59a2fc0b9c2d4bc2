"""Real-browser tests of serving a class: two browser sessions training at once each see only
their own run, and the scale-out path (runs in Redis, trained by a `lossviz worker`) works the
same in a browser as the embedded one."""
from __future__ import annotations

import re
import time

import pytest

from conftest import VIEWPORT, open_page
from test_browser import assert_clean, button, settle, snap, step, type_into, wait_for

pytestmark = pytest.mark.browser


def total_steps(status: str) -> int:
    m = re.search(r"Step \d+ / (\d+)", status)
    assert m, status
    return int(m.group(1))


def test_two_sessions_training_at_once_see_only_their_own_runs(chromium, lossviz_url):
    pages = [open_page(chromium, lossviz_url) for _ in range(2)]
    (alice, alog), (bob, blog) = (next(p) for p in pages)
    try:
        # long enough that Alice is still training when Bob's pause is seen, however slow the machine
        type_into(alice, "#input-epochs", "3000")
        type_into(bob, "#input-epochs", "700")
        type_into(bob, "#input-seed", "7")
        for page in (alice, bob):
            settle(page)
        start_a, start_b = snap(alice), snap(bob)
        assert total_steps(start_a["status"]) == 3000 and total_steps(start_b["status"]) == 700
        assert start_a["curve_y"][0] != start_b["curve_y"][0]  # two seeds: two starting losses
        button(alice, "Train").click()
        button(bob, "Train").click()
        for page in (alice, bob):
            wait_for(page, lambda s: s["curve_n"] >= 40 and s["contour_path"] >= 2, timeout=30,
                     what="both runs to train at once")
        a, b = snap(alice), snap(bob)
        assert total_steps(a["status"]) == 3000 and total_steps(b["status"]) == 700
        assert a["curve_y"][0] == start_a["curve_y"][0] and b["curve_y"][0] == start_b["curve_y"][0]
        # Bob pauses: Alice keeps training.
        button(bob, "Pause").click()
        wait_for(bob, lambda s: "paused" in s["status"], what="Bob's pause")
        n = snap(alice)["curve_n"]
        wait_for(alice, lambda s: s["curve_n"] > n + 10, what="Alice's run to keep going")
        assert "paused" in snap(bob)["status"]
        for log in (alog, blog):
            assert_clean(log)
    finally:
        for p in pages:
            p.close()


def test_the_redis_and_celery_path_trains_live(redis_app_page):
    page, log = redis_app_page
    type_into(page, "#input-epochs", "120")
    s = settle(page)
    assert step(s["status"]) == 0
    button(page, "Train").click()
    s = wait_for(page, lambda s: "finished" in s["status"], timeout=40, what="the run to finish")
    assert step(s["status"]) == 120 and s["curve_n"] == 121
    assert s["curve_y"][-1] < s["curve_y"][0]
    wait_for(page, lambda s: s["contour_z"] and s["contour_path"] >= 3, what="the landscape with its path")
    button(page, "Reset").click()
    wait_for(page, lambda s: step(s["status"]) == 0 and s["curve_n"] == 1, what="Reset")
    button(page, "Step").click()
    wait_for(page, lambda s: step(s["status"]) == 1 and s["curve_n"] == 2, what="one step")
    assert_clean(log)
