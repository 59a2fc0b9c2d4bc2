"""Issue 20 in real Chromium: what a class sees when a run diverges, when two losses or two network
shapes are compared, and over the spirals' decision regions."""
from __future__ import annotations

import pytest

from test_browser import button, step, wait_for

pytestmark = pytest.mark.browser

PLOT = "document.querySelector('#{} .js-plotly-plot')"


def assert_clean(log) -> None:
    """No problem on the page but one: plotly.js placing a y-axis title at x = Infinity while a plot
    is laid out a few pixels tall (seen on these lessons before issue 20's changes too, about one
    page in three; the plots come out right)."""
    known = ("attribute transform: Trailing garbage, \"rotate(-90,Infinity", "attribute x: Expected length, \"Infinity\"")
    problems = [p for p in log.problems() if not any(k in p for k in known)]
    assert not problems, "\n".join(problems)


def _graph(page, graph_id: str, js: str):
    return page.evaluate(f"() => {{ const gd = {PLOT.format(graph_id)}; return {js}; }}")


def _train_to_end(page, epochs, timeout=90):
    wait_for(page, lambda s: step(s["status"]) == 0 and f"/ {epochs}" in s["status"], timeout=30,
             what="the lesson's runs, ready")
    page.get_by_label("Fast").check()
    button(page, "Train").click()
    return wait_for(page, lambda s: f"Step {epochs} /" in s["status"] and "training" not in s["status"],
                    timeout=timeout, what="the lesson's runs to finish")


def test_a_diverging_run_is_framed_clipped_and_said(open_link):
    page, log = open_link("?lesson=learning-rate-too-high")
    wait_for(page, lambda s: "B (0.26)" in s["status"], timeout=30, what="the lesson's compare mode")
    s = _train_to_end(page, 300)
    assert "B (0.26): diverged at step" in s["status"] and "e+" not in s["status"].split("B (0.26)")[1]
    # The curves stop at 10x the start loss, and the streamed points showed their note; each point
    # was applied once (300 steps of A, B's up to its divergence).
    curves = _graph(page, "graph-curves", "({top: gd._fullLayout.yaxis.range[1], "
                                          "lens: gd.data.map(t => t.y.length), notes: [...gd.querySelectorAll("
                                          "'.annotation')].map(a => [a.textContent, getComputedStyle(a).opacity])})")
    assert curves["top"] < 60 and curves["lens"][:4] == [301] * 4 and max(curves["lens"][4:]) < 120
    assert ["↑ off the chart", "1"] in curves["notes"]
    # The plane is framed on A's path and B's jumps, not on B's exploded weights; B's contour says so.
    page.wait_for_function("() => document.querySelector('#graph-contour-b .annotation')", timeout=20000)
    b = _graph(page, "graph-contour-b", "({x: gd._fullLayout.xaxis.range, zmax: gd.data[0].zmax, "
                                        "note: gd.querySelector('.annotation').textContent})")
    assert b["x"][1] - b["x"][0] < 20 and b["zmax"] < 60 and "B leaves the frame" in b["note"]
    assert "leaves the frame" in page.locator("#text-landscape-note").inner_text()
    assert_clean(log)


def test_two_network_shapes_have_their_own_planes_and_no_line(open_link):
    page, log = open_link("?lesson=wide-vs-deep")
    wait_for(page, lambda s: "B (" in s["status"], timeout=30, what="the lesson's compare mode")
    page.wait_for_function("() => document.querySelector('#radio-directions input[value=random]').checked",
                           timeout=20000)
    disabled = page.evaluate("() => [...document.querySelectorAll('#radio-directions input')]"
                             ".map(i => [i.value, i.disabled])")
    assert dict(disabled) == {"compare": True, "random": False, "pca": True}
    page.get_by_label("Fast").check()
    button(page, "Step").click()
    page.wait_for_function("() => (document.querySelector('#graph-line') || {}).innerText "
                           "&& document.querySelector('#graph-line').innerText.includes('No straight line')",
                           timeout=30000)
    assert_clean(log)


def test_two_losses_are_compared_by_accuracy(open_link):
    page, log = open_link("?lesson=cross-entropy-vs-mse")
    wait_for(page, lambda s: "B (" in s["status"], timeout=30, what="the lesson's compare mode")
    button(page, "Step").click()
    s = wait_for(page, lambda s: step(s["status"]) >= 1, timeout=30, what="one step")
    assert "compare the accuracy" in s["status"] and "loss " not in s["status"]
    axes = _graph(page, "graph-curves", "gd.data.map(t => t.yaxis)")
    assert set(axes) == {"y", "y2", "y3"}
    page.wait_for_function("() => document.getElementById('text-landscape-note').innerText.includes('different units')",
                           timeout=30000)
    assert_clean(log)
