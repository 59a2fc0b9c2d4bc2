"""Issue 18.5's views in real Chromium: label smoothing's row and its push vanishing before p = 1
in the "why" view, the Curvature view's rescaling button (same loss, other λmax), and the
Surfaces view's forked runs."""
from __future__ import annotations

import re

import pytest

from test_browser import assert_clean, button, wait_for

pytestmark = pytest.mark.browser


def test_label_smoothing_row_and_why_view(open_link):
    page, log = open_link("?label_smoothing=0.1&page=why&dataset=blobs")
    page.wait_for_function("() => document.querySelector('#graph-loss-profile .annotation-text')", timeout=30000)
    assert page.locator("#input-label-smoothing").input_value() == "0.1"
    assert page.locator("#input-label-smoothing").is_visible()
    notes = page.eval_on_selector_all("#graph-loss-profile .annotation-text", "els => els.map(e => e.textContent)")
    assert any("push 0 at p = 1 − ε + ε/K = 0.933" in n for n in notes), notes
    page.wait_for_function("() => document.getElementById('box-why').innerText.includes('0.9333 (K = 3)')",
                           timeout=30000)  # the formula's sentence, typeset once MathJax has loaded
    button(page, "Cross-entropy").click()  # Dash 4 dropdowns are buttons named by their value
    page.get_by_role("option", name="Mean squared error").click()
    page.wait_for_function("() => !document.querySelector('#input-label-smoothing').offsetParent", timeout=10000)
    assert_clean(log)


def test_rescale_button_keeps_the_loss_and_moves_lambda_max(open_link):
    page, log = open_link("?activation=relu&page=curvature&epochs=60&hidden=8,8&samples=200")
    wait_for(page, lambda s: "/ 60" in s["status"], timeout=20, what="the run")
    page.get_by_label("Fast").check()
    button(page, "Train").click()
    wait_for(page, lambda s: "finished" in s["status"], timeout=60, what="the run to finish")
    page.click("#button-rescale")
    page.wait_for_function("() => document.querySelector('#text-rescale-result').innerText.includes('λmax is')",
                           timeout=60000)
    text = page.locator("#text-rescale-result").inner_text()
    cells = [r.split("\t") for r in text.splitlines() if "\t" in r]
    loss = next(c for c in cells if c[0].strip() == "data loss")
    sharp = next(c for c in cells if c[0].strip().startswith("λmax"))
    assert loss[1] == loss[2] and float(sharp[2]) > 2 * float(sharp[1]), text
    assert re.search(r"same function", text)
    assert_clean(log)


def test_forks_section_draws_lines_and_barriers(open_link):
    page, log = open_link("?page=surfaces&samples=120&hidden=8&activation=relu&optimizer=sgd&lr=0.3&batch_size=16"
                          "&epochs=6")
    wait_for(page, lambda s: "/ 6" in s["status"] or "/ 36" in s["status"], timeout=20, what="the run")
    page.click("#box-forks summary")
    page.click("#button-forks")
    page.wait_for_function("() => document.querySelector('#text-forks-note').innerText.includes('Barrier')",
                           timeout=60000)
    legend = page.eval_on_selector_all("#graph-forks .legendtext", "els => els.map(e => e.textContent)")
    assert legend[:2] == ["forked at step 0", "forked at step 6"], legend
    assert_clean(log)
