"""Compare mode's "each at its best learning rate" on the page, in real Chromium: the section shows
in compare mode only, its button sweeps A and B from one start, and the plotted numbers are the
engine's own sweep of the same settings (rebuilt here, not read back from the page).

Mutations these tests catch: a sweep of B's settings for both runs, or of other rates (the finals
differ from the engine's); a section shown without compare mode; a sweep that never draws.
"""
from __future__ import annotations

import numpy as np
import pytest

from app.page import ids
from app.views.panels import best_rate as br
from lossviz import RunConfig
from test_browser import assert_clean

pytestmark = pytest.mark.browser

PLOTTED = """(id) => { const g = document.querySelector('#' + id + ' .js-plotly-plot');
  return g && g.data ? g.data.map(t => ({name: t.name, x: t.x, y: t.y})) : []; }"""


def test_each_at_its_best_rate_sweeps_a_and_b_from_one_start(app_page):
    page, log = app_page
    box = page.locator(f"#{ids.BOX_BEST_RATE}")
    assert not box.is_visible()  # compare mode off: nothing to compare
    page.get_by_label("Compare two runs (A and B)").check()
    page.locator("#dropdown-compare-field").wait_for(state="visible")
    box.wait_for(state="visible")
    box.locator("summary").click()
    page.locator(f"#{ids.BEST_RATE_BUTTON}").click()
    note = page.locator(f"#{ids.BEST_RATE_NOTE}")
    page.wait_for_function(f"() => document.getElementById('{ids.BEST_RATE_NOTE}').innerText.includes('B (')",
                           timeout=60_000)
    text = note.inner_text()
    assert "A (Cross-entropy): best rate" in text and "B (Mean squared error): best rate" in text, text

    config = RunConfig()  # the page's defaults; B changes the loss to squared error
    expected = br.run_sweep(config, br.sweep_plan(config, {"vary": "loss", "value": "mse"}))
    rates = page.evaluate(PLOTTED, ids.GRAPH_BEST_RATES)
    lines = [t for t in rates if t["name"]]
    assert [t["name"] for t in lines] == ["A: Cross-entropy", "B: Mean squared error"]
    for line, run in zip(lines, expected["runs"]):
        assert line["x"] == pytest.approx(expected["rates"])
        # two losses in different units: the sweep is drawn in their shared measure, accuracy
        np.testing.assert_allclose(np.array(line["y"], dtype=float),
                                   np.array(run["final_metric_by_rate"], dtype=float), rtol=1e-9)
        assert f"best rate {run['best_rate']:g}" in text
    curves = page.evaluate(PLOTTED, ids.GRAPH_BEST_CURVES)
    assert len(curves) == 2 and all(len(c["y"]) == len(expected["steps"]) for c in curves)
    assert_clean(log)

    page.get_by_label("Compare two runs (A and B)").uncheck()
    box.wait_for(state="hidden")
