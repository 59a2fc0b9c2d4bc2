"""Real-browser tests: the served app in headless Chromium, checked the way a person sees it.

Each test opens a fresh page (a new session, so its own run) on the real server started by
``conftest.py``; the network is closed except 127.0.0.1. Plots are read from the Plotly graph
divs (``.js-plotly-plot`` inside each ``dcc.Graph``): the loss curve is trace 0 of
``#graph-curves``, the contour is trace 0 of ``#graph-contour`` and the path its trace 1, the
3-D surface is trace 0 of ``#graph-surface`` and its path trace 1.
"""

from __future__ import annotations

import re
import time

import pytest

from app.page import ids
from app.views.drawing import BUSY_3D_NOTE

pytestmark = pytest.mark.browser

BUTTONS = ("Train", "Pause", "Step", "Reset")
DEFAULT_GRID = 41

# One snapshot of what the page shows.
SNAPSHOT_JS = """() => {
  const gd = id => { const el = document.getElementById(id); return el && el.querySelector('.js-plotly-plot'); };
  const dims = z => (z && z.length) ? [z.length, (z[0] && z[0].length) || 0] : null;
  const trace = (g, i) => (g && g.data && g.data[i]) || null;
  const len = t => (t && t.x) ? t.x.length : 0;
  const curves = gd('graph-curves'), contour = gd('graph-contour'), surface = gd('graph-surface');
  const loss = trace(curves, 0);
  return {
    curve_n: len(loss),
    curve_y: loss && loss.y ? Array.from(loss.y) : [],
    contour_type: trace(contour, 0) && trace(contour, 0).type,
    contour_z: dims(trace(contour, 0) && trace(contour, 0).z),
    contour_path: len(trace(contour, 1)),
    surface_type: trace(surface, 0) && trace(surface, 0).type,
    surface_z: dims(trace(surface, 0) && trace(surface, 0).z),
    surface_path: len(trace(surface, 1)),
    status: document.getElementById('text-status').innerText,
    config_error: document.getElementById('text-config-error').innerText.trim(),
    view_error: document.getElementById('text-view-error').innerText.trim(),
  };
}"""


# ---------------------------------------------------------------- helpers


def snap(page) -> dict:
    return page.evaluate(SNAPSHOT_JS)


def wait_for(page, predicate, timeout: float = 15.0, every: float = 0.2, what: str = "condition") -> dict:
    """Poll the page's snapshot until ``predicate(snapshot)``; fail with the last snapshot."""
    deadline = time.monotonic() + timeout
    while True:
        s = snap(page)
        if predicate(s):
            return s
        if time.monotonic() > deadline:
            s.pop("curve_y", None)
            pytest.fail(f"timed out after {timeout} s waiting for {what}; page shows {s}")
        page.wait_for_timeout(every * 1000)


def settle(page, quiet: float = 1.0, timeout: float = 15.0) -> dict:
    """Wait until the status line, the curve and the landscape stop changing for ``quiet`` s."""
    keys = ("status", "curve_n", "contour_z", "contour_path", "surface_z", "config_error")
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        s = snap(page)
        sig = tuple(str(s[k]) for k in keys)
        if sig != last:
            last, since = sig, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return s
        page.wait_for_timeout(100)
    pytest.fail(f"the page never settled; it shows {snap(page)['status']!r}")


def button(page, name: str):
    """The button labelled exactly ``name`` (Dash 4 dropdowns are buttons named by their value)."""
    return page.get_by_role("button", name=name, exact=True)


def choose(page, dropdown_id: str, label: str) -> None:
    """Open a Dash 4 dropdown by clicking it and click the option labelled ``label``."""
    page.locator(f"#{dropdown_id}").click()
    option = page.locator(".dash-dropdown-content [role=option]").filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    option.click()
    page.wait_for_function(
        "([id, label]) => document.getElementById(id).innerText.trim() === label", arg=[dropdown_id, label])


def type_into(page, selector: str, text: str) -> None:
    """Replace a (debounced) text box's content and commit it with Enter, as a person would."""
    box = page.locator(selector)
    box.click()
    box.fill(text)
    box.press("Enter")


def accuracy(status: str) -> float:
    m = re.search(r"accuracy ([0-9.]+)% train", status)
    assert m, f"no training accuracy in the status line {status!r}"
    return float(m.group(1))


def step(status: str) -> int:
    m = re.search(r"Step (\d+)", status)
    assert m, f"no step in the status line {status!r}"
    return int(m.group(1))


def assert_clean(log) -> None:
    assert not log.problems(), "\n".join(log.problems())


def curve_growth(page, seconds: float, every: float = 0.3) -> list[int]:
    """Curve point counts sampled over ``seconds``."""
    counts = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        counts.append(snap(page)["curve_n"])
        page.wait_for_timeout(every * 1000)
    return counts


def increases(counts: list[int]) -> int:
    return sum(b > a for a, b in zip(counts, counts[1:]))


# ---------------------------------------------------------------- tests


def test_network_guard_catches_outside_requests(app_page):
    """The no-CDN check can fail: a request to another host is blocked and recorded."""
    page, log = app_page
    result = page.evaluate("""() => fetch('https://cdn.example.com/plotly.min.js')
                                  .then(() => 'loaded', () => 'blocked')""")
    assert result == "blocked"
    assert any("cdn.example.com" in u for u in log.outside_requests)
    log.outside_requests.clear()


def test_page_loads_cleanly_with_four_plots_and_buttons(app_page):
    page, log = app_page
    s = settle(page)
    assert "lossviz" in page.title().lower()
    assert page.locator(".js-plotly-plot").count() >= 4
    for graph_id in ("graph-contour", "graph-surface", "graph-curves", "graph-data"):
        assert page.locator(f"#{graph_id} .js-plotly-plot").is_visible(), graph_id
    for name in BUTTONS:
        b = button(page, name)
        assert b.count() == 1, f"no single button labelled exactly {name!r}"
        assert b.is_visible() and b.is_enabled(), name
    assert "Step 0" in s["status"] and "ready" in s["status"].lower(), s["status"]
    # Served by the app itself: every script and stylesheet came from 127.0.0.1.
    assert any("/_dash-component-suites/" in u for u in log.requests)
    assert log.outside_requests == []
    assert_clean(log)


def test_circles_huber_trains_live(app_page):
    """Pick circles + Huber and a grid of 21; Train: curve grows, loss falls, accuracy rises,
    the contour is 21x21 with a path of several points."""
    page, log = app_page
    choose(page, "dropdown-dataset", "Circles")
    choose(page, "dropdown-loss", "Huber")
    page.locator("#input-huber-delta").wait_for(state="visible", timeout=5000)  # Huber δ shows for Huber
    thumb = page.locator("#slider-grid [role=slider]")
    thumb.focus()
    thumb.press("ArrowLeft")
    thumb.press("ArrowLeft")
    assert thumb.get_attribute("aria-valuenow") == "21"
    before = settle(page)
    assert step(before["status"]) == 0 and before["curve_n"] == 1, before["status"]
    assert before["contour_z"] == [21, 21], before["contour_z"]
    acc0 = accuracy(before["status"])
    assert acc0 < 75, f"circles at step 0 should be near chance, got {acc0}%"

    button(page, "Train").click()
    counts, accs = [], []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s = snap(page)
        counts.append(s["curve_n"])
        accs.append(accuracy(s["status"]))
        if s["curve_n"] >= 60 and s["contour_path"] >= 3 and len(counts) >= 8:
            break
        page.wait_for_timeout(300)
    s = snap(page)
    assert increases(counts) >= 3, f"the loss curve should grow over time, counts {counts}"
    assert s["curve_n"] > counts[0] >= 1
    assert s["curve_y"][-1] < s["curve_y"][0], "the training loss should fall"
    assert accs[-1] > acc0, f"accuracy should rise: {acc0}% at step 0, readings {accs}"
    assert step(s["status"]) > 0
    assert s["contour_type"] == "contour" and s["contour_z"] == [21, 21], s["contour_z"]
    assert s["contour_path"] >= 3, f"the path on the contour has {s['contour_path']} points"
    assert s["config_error"] == "" and s["view_error"] == ""
    assert_clean(log)


def test_pause_stops_growth_and_reset_clears(app_page):
    """Pause freezes the curve within half a second; Reset goes back to step 0; Step takes one."""
    page, log = app_page
    type_into(page, "#input-epochs", "2000")  # long enough not to finish on its own
    settle(page)
    button(page, "Train").click()
    wait_for(page, lambda s: s["curve_n"] >= 10, what="the curve to grow")
    button(page, "Pause").click()
    page.wait_for_timeout(500)  # Pause answers within half a second
    paused = snap(page)
    later = curve_growth(page, 1.5)
    assert set(later) == {paused["curve_n"]}, f"the curve grew after Pause: {paused['curve_n']} then {later}"
    status = snap(page)["status"]
    assert "paused" in status, f"after Pause (and 2 s) the status line still reads {status!r}"
    assert step(status) > 0

    button(page, "Reset").click()
    s = wait_for(page, lambda s: s["curve_n"] == 1 and step(s["status"]) == 0, what="Reset to clear the run")
    assert "Step 0 " in s["status"], s["status"]
    wait_for(page, lambda s: s["contour_path"] == 1, what="the path to shrink back to the start point")
    assert set(curve_growth(page, 1.0)) == {1}, "the curve grew after Reset without Train"

    button(page, "Step").click()  # exactly one optimizer step, then stay paused
    s = wait_for(page, lambda s: step(s["status"]) == 1, timeout=5, what="Step to take one step")
    page.wait_for_timeout(800)
    s = snap(page)
    assert step(s["status"]) == 1 and s["curve_n"] == 2, (s["status"], s["curve_n"])
    assert_clean(log)


def test_invalid_width_shows_message_and_page_still_works(app_page):
    page, log = app_page
    settle(page)
    for bad in ("0", "abc", ""):
        type_into(page, "input[name='width-1']", bad)
        s = wait_for(page, lambda s: "width" in s["config_error"].lower(), timeout=5,
                     what=f"a message about the width {bad!r}")
        assert page.locator("#text-config-error").is_visible()
        assert "Traceback" not in s["config_error"]
    type_into(page, "input[name='width-1']", "8")
    wait_for(page, lambda s: s["config_error"] == "", timeout=5, what="the width message to go away")
    assert page.locator("input[name='width-1']").input_value() == "8"

    type_into(page, "#input-lr", "1e9")
    s = wait_for(page, lambda s: "learning rate" in s["config_error"].lower(), timeout=5,
                 what="a message about the learning rate 1e9")
    type_into(page, "#input-lr", "0.01")
    wait_for(page, lambda s: s["config_error"] == "", timeout=5, what="the learning-rate message to go away")

    settle(page)
    button(page, "Train").click()
    counts = curve_growth(page, 3.0)
    assert increases(counts) >= 3, f"training should still work after fixing the width: {counts}"
    assert "training" in snap(page)["status"] or "finished" in snap(page)["status"]
    assert_clean(log)


def test_space_toggles_train_and_pause(app_page):
    page, log = app_page
    type_into(page, "#input-epochs", "2000")
    settle(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Space")
    wait_for(page, lambda s: "training" in s["status"], timeout=5, what="Space to start training")
    counts = curve_growth(page, 1.5)
    assert increases(counts) >= 2, f"Space should start training: {counts}"

    page.keyboard.press("Space")
    wait_for(page, lambda s: "paused" in s["status"], timeout=5, what="Space to pause (status 'paused')")
    page.wait_for_timeout(500)
    n = snap(page)["curve_n"]
    assert set(curve_growth(page, 1.5)) == {n}, "the curve grew after Space paused it"

    # After clicking Train with the mouse the focus is on that button: Space must still pause
    # (toggle once), not press the focused button as well.
    button(page, "Train").click()
    wait_for(page, lambda s: "training" in s["status"], timeout=5, what="Train to resume")
    page.keyboard.press("Space")
    wait_for(page, lambda s: "paused" in s["status"], timeout=5, what="Space to pause with Train focused")
    page.wait_for_timeout(1000)
    assert "paused" in snap(page)["status"], "Space pressed the focused Train button too"
    assert_clean(log)


def test_3d_surface_has_default_grid_after_train(app_page):
    page, log = app_page
    type_into(page, "#input-epochs", "2000")
    settle(page)
    button(page, "Train").click()
    # While training, the 3-D mesh is thinned (each software-WebGL repaint blocks the page); a
    # page too busy drawing for it (slow 2-D draws: a crowded machine) is told so instead.
    def busy() -> bool:
        return BUSY_3D_NOTE in page.inner_text(f"#{ids.LANDSCAPE_NOTE}")

    s = wait_for(page, lambda s: s["surface_path"] > 1 or busy(), timeout=15,
                 what="the 3-D surface to be redrawn for a run with steps (or the page told it is busy)")
    if s["surface_path"] > 1:
        assert s["surface_type"] == "surface"
        assert 2 < s["surface_z"][0] <= DEFAULT_GRID, s["surface_z"]
    button(page, "Pause").click()
    # ... and once paused it is drawn at the chosen grid size.
    s = wait_for(page, lambda s: s["surface_z"] == [DEFAULT_GRID, DEFAULT_GRID], timeout=10,
                 what="the full-resolution 3-D surface after Pause")
    assert page.locator("#graph-surface .js-plotly-plot").is_visible()
    assert page.locator("#graph-surface canvas").count() >= 1, "no WebGL canvas for the 3-D surface"
    assert_clean(log)


def test_train_again_at_the_end_and_reset_while_training_keep_working(app_page):
    """Late answers from a finished or replaced run must not stop the new one."""
    page, log = app_page
    page.get_by_label("Max", exact=True).check()
    button(page, "Train").click()
    wait_for(page, lambda s: "finished" in s["status"], timeout=20, what="the first run to finish")
    for _ in range(3):  # Train right at the end starts the same run again; click fast
        button(page, "Train").click()
        page.wait_for_timeout(150)
    wait_for(page, lambda s: "finished" in s["status"] and step(s["status"]) == 200, timeout=20,
             what="the restarted run to reach step 200 and finish")
    type_into(page, "#input-epochs", "3000")
    page.get_by_label("Normal", exact=True).check()
    settle(page)
    button(page, "Train").click()
    wait_for(page, lambda s: step(s["status"]) > 20, timeout=10, what="training to get going")
    button(page, "Reset").click()
    button(page, "Train").click()
    s = wait_for(page, lambda s: step(s["status"]) > 30 and "training" in s["status"], timeout=15,
                 what="a run trained right after Reset to progress")
    assert s["curve_n"] > 10
    assert_clean(log)
