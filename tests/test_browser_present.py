"""Presentation mode in real Chromium at 1366x768: larger plot text and heavier lines while on,
the desk sizes back when off; the advanced controls and the export row out of the way."""
from __future__ import annotations

import pytest

from test_browser import assert_clean, wait_for

pytestmark = pytest.mark.browser

# The plots on screen (a hidden view's plots are enlarged when they are shown: test_browser_text).
FONTS = "[...document.querySelectorAll('.js-plotly-plot')].filter(g => g.offsetParent !== null)" \
        ".map(g => (g.layout.font || {}).size || 15)"
WIDTH = "(() => { const g = document.querySelector('#graph-curves .js-plotly-plot') || " \
        "document.querySelector('#graph-curves'); return g.data[0].line.width; })()"


def test_present_enlarges_the_plots_and_hides_the_advanced(open_link):
    page, log = open_link("?present=1")
    wait_for(page, lambda s: "Step 0 / " in s["status"], what="the page's first run")
    page.wait_for_function(f"{FONTS}.every(s => s >= 16)", timeout=10_000)
    wide = page.evaluate(WIDTH)
    assert not page.locator("#input-seed").is_visible() and not page.locator("#box-export").is_visible()
    page.get_by_label("present").uncheck()
    page.wait_for_function(f"{FONTS}.every(s => s === 15)", timeout=10_000)
    assert page.evaluate(WIDTH) < wide
    assert page.locator("#input-seed").is_visible() and page.locator("#box-export").is_visible()
    assert_clean(log)
