"""Compare mode in real Chromium: cross-entropy vs MSE on moons with SGD, from one start."""
from __future__ import annotations

import pytest

from test_browser import assert_clean, button, choose, settle, step, type_into, wait_for

pytestmark = pytest.mark.browser

COMPARE_JS = """() => {
  const gd = id => { const el = document.getElementById(id); return el && el.querySelector('.js-plotly-plot'); };
  const t = (g, i) => (g && g.data && g.data[i]) || null;
  const n = tr => (tr && tr.x) ? tr.x.length : 0;
  const curves = gd('graph-curves'), a = gd('graph-contour'), b = gd('graph-contour-b');
  const first = tr => tr && tr.x && tr.x.length ? [tr.x[0], tr.y[0]] : null;
  return {
    traces: curves && curves.data ? curves.data.length : 0,
    counts: curves && curves.data ? curves.data.map(n) : [],
    names: curves && curves.data ? curves.data.map(tr => tr.name) : [],
    a_type: t(a, 0) && t(a, 0).type, b_type: t(b, 0) && t(b, 0).type,
    a_start: first(t(a, 1)), b_start: first(t(b, 1)), a_path: n(t(a, 1)), b_path: n(t(b, 1)),
    a_title: a && a.layout && a.layout.title && a.layout.title.text,
    b_title: b && b.layout && b.layout.title && b.layout.title.text,
    b_visible: !!(document.getElementById('box-contour-b') && document.getElementById('box-contour-b').offsetParent),
    status: document.getElementById('text-status').innerText,
  };
}"""


def cmp(page) -> dict:
    return page.evaluate(COMPARE_JS)


def test_compare_cross_entropy_and_mse_from_one_start(app_page):
    page, log = app_page
    choose(page, "dropdown-optimizer", "SGD")
    type_into(page, "#input-lr", "0.5")
    settle(page)
    page.get_by_label("Compare two runs (A and B)").check()
    page.locator("#dropdown-compare-field").wait_for(state="visible")
    assert page.locator("#dropdown-compare-field").inner_text().strip() == "Loss"
    assert page.locator("#dropdown-compare-choice").inner_text().strip() == "Mean squared error"
    s = wait_for(page, lambda s: "A (Cross-entropy)" in s["status"] and "B (Mean squared error)" in s["status"],
                 what="the status line to read for both runs")
    assert step(s["status"]) == 0
    c = cmp(page)
    assert c["traces"] == 8 and c["b_visible"], c
    button(page, "Train").click()
    wait_for(page, lambda s: step(s["status"]) >= 40, timeout=30, what="both runs to train")
    c = page.wait_for_function(
        "() => { const g = document.querySelector('#graph-contour-b .js-plotly-plot');"
        " return g && g.data && g.data[1] && g.data[1].x.length >= 3; }", timeout=20_000)
    first = cmp(page)
    page.wait_for_timeout(1500)
    later = cmp(page)
    assert first["a_type"] == first["b_type"] == "contour"
    assert later["a_start"] == [0, 0] and later["b_start"] == [0, 0], later  # one common start
    assert "A (Cross-entropy)" in later["a_title"] and "B (Mean squared error)" in later["b_title"]
    for i in range(8):  # A's and B's loss and accuracy curves, train and test, all grow
        assert later["counts"][i] > first["counts"][i] >= 2 or later["counts"][i] > 20, (i, first, later)
    s = wait_for(page, lambda s: "finished" in s["status"], timeout=40, what="both runs to finish")
    page.wait_for_function("() => { const g = document.querySelector('#graph-line .js-plotly-plot');"
                           " return g && g.data && g.data.length === 4 && g.data[0].x.length > 10; }",
                           timeout=20_000)  # the straight line from A's weights to B's
    final = cmp(page)
    assert final["counts"][0] == final["counts"][4] == 201  # lockstep: the same steps for both
    page.get_by_label("Path (PCA) plane").check()  # the other planes stay available
    page.wait_for_function("() => document.getElementById('text-landscape-note').innerText.includes('both paths')",
                           timeout=15_000)
    pca = cmp(page)
    assert pca["a_start"] == [0, 0] or max(abs(v) for v in pca["a_start"]) < 1e-6
    assert "Step 200 / 200" in s["status"]
    assert_clean(log)


def test_compare_off_keeps_run_a(app_page):
    page, log = app_page
    page.get_by_label("Compare two runs (A and B)").check()
    wait_for(page, lambda s: "B (" in s["status"], what="compare mode")
    button(page, "Step").click()
    wait_for(page, lambda s: step(s["status"]) == 1, what="one step of both")
    page.get_by_label("Compare two runs (A and B)").uncheck()
    s = wait_for(page, lambda s: "B (" not in s["status"], what="compare off")
    assert step(s["status"]) == 1, s["status"]  # run A kept where it was
    assert cmp(page)["traces"] == 4 and not cmp(page)["b_visible"]
    assert_clean(log)


def test_why_the_loss_matters_panel_shows_both_losses_and_live_gradients(app_page):
    page, log = app_page
    page.get_by_label("Compare two runs (A and B)").check()
    wait_for(page, lambda s: "B (" in s["status"], what="compare mode")
    page.get_by_label("Why the loss matters").check()
    page.locator("#box-why").wait_for(state="visible")
    assert not page.locator("#box-plots").is_visible()
    page.wait_for_function("() => document.querySelectorAll('#box-why mjx-container').length >= 2",
                           timeout=20_000)  # MathJax served by the app typeset both formulas
    assert "Cross-entropy" in page.locator("#text-why-title-a").inner_text()
    assert "Mean squared error" in page.locator("#text-why-title-b").inner_text()
    js = """id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');
                    return g && g.data ? g.data.map(t => Array.from(t.y || t.x || [])) : []; }"""
    page.wait_for_function(f"() => ({js})('graph-loss-profile').length === 4", timeout=20_000)
    profile = page.evaluate(js, "graph-loss-profile")
    assert abs(profile[2][0] - (-1.0)) < 0.02  # cross-entropy's push at p → 0 is about −1
    assert abs(profile[3][0]) < 0.05  # MSE's push vanishes where the network is confidently wrong
    page.wait_for_function(f"() => ({js})('graph-gradients').length >= 4", timeout=20_000)
    page.evaluate(f"() => {{ window.__before = JSON.stringify(({js})('graph-gradients')); }}")
    page.wait_for_timeout(1000)
    assert page.evaluate(f"() => JSON.stringify(({js})('graph-gradients')) === window.__before")  # paused: still
    button(page, "Train").click()
    page.wait_for_function(f"() => JSON.stringify(({js})('graph-gradients')) !== window.__before", timeout=20_000)
    page.get_by_label("Plots").check()
    page.locator("#box-plots").wait_for(state="visible")
    assert_clean(log)


def _title(page, graph_id: str) -> str:
    return page.evaluate("id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');"
                         " return g && g.layout && g.layout.title ? g.layout.title.text : ''; }", graph_id)


def test_clicking_a_contour_point_shows_that_network(app_page):
    page, log = app_page
    page.get_by_label("Compare two runs (A and B)").check()
    wait_for(page, lambda s: "B (" in s["status"], what="compare mode")
    for _ in range(3):
        button(page, "Step").click()
        page.wait_for_timeout(400)
    wait_for(page, lambda s: step(s["status"]) == 3, what="three steps")
    page.wait_for_function("() => { const g = document.querySelector('#graph-contour-b .js-plotly-plot');"
                           " return g && g.data && g.data[0] && g.data[0].customdata; }", timeout=20_000)
    before = _title(page, "graph-data-b")
    assert "its predictions" in before
    area = page.locator("#graph-contour-b .nsewdrag").first.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.8, area["y"] + area["height"] * 0.3)
    page.wait_for_timeout(300)
    page.mouse.click(area["x"] + area["width"] * 0.8, area["y"] + area["height"] * 0.3)
    page.wait_for_function("() => { const g = document.querySelector('#graph-data-b .js-plotly-plot');"
                           " return g && g.layout.title.text.includes(' at α '); }", timeout=10_000)
    assert "loss" in _title(page, "graph-data-b") and "accuracy" in _title(page, "graph-data-b")
    assert "its predictions" in _title(page, "graph-data")  # A's view is untouched
    button(page, "back to current").click()
    page.wait_for_function("() => { const g = document.querySelector('#graph-data-b .js-plotly-plot');"
                           " return g && !g.layout.title.text.includes(' at α '); }", timeout=10_000)
    assert not page.locator("#button-back").is_visible()
    assert "its predictions" in _title(page, "graph-data-b")
    assert_clean(log)
