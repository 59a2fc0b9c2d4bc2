"""The page's timer sends each view tick only to the view on screen, in real Chromium.

A view tick used to go to every view's callbacks, shown or hidden (each answered "nothing to
draw", a request and a Dash update per hidden view per tick). Mutations these tests catch: a
view tick sent to every view; a tick routed by a stale page view (the panel never refreshes
while training); clocks that no longer tick at all once the page's timer reads them.
"""
from __future__ import annotations

import json

import pytest

from app.page import ids
from app.page.layout import VIEW_TICKS
from conftest import PLOTS_DRAWN_JS
from test_browser import button, snap, wait_for

pytestmark = pytest.mark.browser


def _tick_counter(page) -> dict[str, int]:
    """Counts, per tick id, the callback requests a tick of it sent (live, filled as they go)."""
    sent = {tick: 0 for tick in (ids.INTERVAL_TRAIN, *VIEW_TICKS.values())}

    def on_request(req):
        if "_dash-update-component" not in req.url or not req.post_data:
            return
        changed = json.loads(req.post_data).get("changedPropIds", [])
        for tick in sent:
            sent[tick] += f"{tick}.n_intervals" in changed

    page.on("request", on_request)
    return sent


def _figure_revisions(page, graph_id: str) -> int:
    """How many times the graph in ``graph_id``'s box has been drawn (plotly_afterplot) so far."""
    return page.evaluate("""(id) => {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot') || document.getElementById(id);
        if (!gd || !gd.on) { return -1; }
        if (!gd._ticksSeen) { gd._ticksSeen = 0; gd.on('plotly_afterplot', () => { gd._ticksSeen += 1; }); }
        return gd._ticksSeen; }""", graph_id)


def _wait_for_ticks(page, sent: dict, least: dict, timeout_s: float = 15.0) -> None:
    """Wait (at least 3 s, at most ``timeout_s``) until each tick in ``least`` has sent that many
    requests; the test's assertions then say what is missing."""
    for i in range(int(timeout_s / 0.25)):
        page.wait_for_timeout(250)  # (events are read only while Playwright waits)
        if i >= 11 and all(sent[t] >= n for t, n in least.items()):
            return


def test_view_ticks_go_only_to_the_view_on_screen(app_page):
    page, log = app_page
    page.goto(page.url.split("?")[0] + "?epochs=4000")
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=30_000)
    sent = _tick_counter(page)
    button(page, "Train").click()
    wait_for(page, lambda s: "training" in s["status"], timeout=20, what="training")
    # ticks while training: on a busy page a view tick comes at most every 3 s (VIEW_BUSY_MS)
    _wait_for_ticks(page, sent, {ids.INTERVAL_TRAIN: 5, ids.INTERVAL_VIEW: 2})
    on_plots = dict(sent)
    assert on_plots[ids.INTERVAL_TRAIN] >= 5, on_plots
    assert on_plots[ids.INTERVAL_VIEW] >= 2, on_plots
    hidden = {t: n for t, n in on_plots.items() if t not in (ids.INTERVAL_TRAIN, ids.INTERVAL_VIEW)}
    assert not any(hidden.values()), f"hidden views were sent ticks: {hidden}"

    page.get_by_text("Why the loss matters", exact=True).click()
    _figure_revisions(page, ids.GRAPH_GRADIENTS)
    page.wait_for_timeout(1000)  # the switch itself redraws once
    before, drawn = dict(sent), _figure_revisions(page, ids.GRAPH_GRADIENTS)
    _wait_for_ticks(page, sent, {ids.INTERVAL_TRAIN: before[ids.INTERVAL_TRAIN] + 5,
                                 ids.INTERVAL_VIEW_WHY: before[ids.INTERVAL_VIEW_WHY] + 2})
    assert "training" in snap(page)["status"]
    assert sent[ids.INTERVAL_VIEW_WHY] - before[ids.INTERVAL_VIEW_WHY] >= 2, sent
    assert sent[ids.INTERVAL_VIEW] == before[ids.INTERVAL_VIEW], "the hidden plots still get view ticks"
    assert sent[ids.INTERVAL_TRAIN] - before[ids.INTERVAL_TRAIN] >= 5, "the curves stopped while a panel shows"
    assert _figure_revisions(page, ids.GRAPH_GRADIENTS) > drawn, "the shown panel is not refreshed while training"
    button(page, "Pause").click()
    wait_for(page, lambda s: s["status"].startswith("paused"), timeout=20, what="the pause")
    assert not log.page_errors and not log.console_errors, (log.page_errors, log.console_errors)


# The callbacks of the hidden panels that a change of run used to fire (app.page.run_gates).
PANEL_OUTPUTS = (ids.GRAPH_GRADIENTS, ids.GRAPH_SHARPNESS, ids.GRAPH_LOSS_ACCURACY, ids.STORE_CONVEXITY)


def test_a_change_of_run_sends_nothing_for_hidden_panels_and_a_panel_shown_gets_the_run(app_page):
    """Train, Pause and the run's end change the page's run; hidden panels are not asked (each
    call held one of the browser's six connections to the server, and the training tick queued
    behind them). A panel brought on screen gets the run then, and draws it. Mutation caught:
    the panels fed from the page's run itself (their calls on every change), or the gate never
    passing the run on (the shown panel stays blank)."""
    page, log = app_page
    page.goto(page.url.split("?")[0] + "?epochs=60")
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=30_000)
    asked: list[str] = []

    def on_request(req):
        if "_dash-update-component" in req.url and req.post_data:
            asked.append(json.loads(req.post_data).get("output", ""))

    page.on("request", on_request)
    button(page, "Train").click()
    wait_for(page, lambda s: s["status"].startswith("finished"), timeout=60, what="the run to finish")
    page.wait_for_timeout(1000)
    runs = [o for o in asked if f"{ids.STORE_RUN}.data" in o]
    assert runs, "the press sent no run call"
    panels = [o for o in asked if any(p in o for p in PANEL_OUTPUTS)]
    assert not panels, f"hidden panels were asked on a change of run: {panels}"
    page.get_by_text("Curvature", exact=True).click()
    wait_for(page, lambda s: page.evaluate(f"""() => {{
        const gd = document.querySelector('#{ids.GRAPH_SHARPNESS} .js-plotly-plot');
        return !!gd && (gd.data || []).some(t => (t.y || []).length > 1); }}"""), timeout=30,
             what="the curvature panel to draw the run once shown")
    assert any(ids.GRAPH_SHARPNESS in o for o in asked)
    assert not log.page_errors and not log.console_errors, (log.page_errors, log.console_errors)


def test_clocks_are_read_by_the_page_timer_not_dash():
    """The two clocks never fire as dcc.Intervals (each firing was a Dash update even when its
    tick was held back); the page's timer reads them through the store of clocks."""
    from pathlib import Path

    from app.page.layout import clocks, serve_layout

    layout = serve_layout(lambda: "s" * 40)
    found = {}

    def walk(node):
        if hasattr(node, "id") and getattr(node, "id", None) in (ids.CLOCK_TRAIN, ids.CLOCK_VIEW, ids.STORE_CLOCKS):
            found[node.id] = node
        for child in (getattr(node, "children", None) or []) if isinstance(getattr(node, "children", None), list) \
                else [getattr(node, "children", None)]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)

    walk(layout)
    assert found[ids.CLOCK_TRAIN].max_intervals == 0 and found[ids.CLOCK_VIEW].max_intervals == 0
    assert found[ids.STORE_CLOCKS].data == clocks()
    assert set(clocks()[ids.CLOCK_VIEW]["views"]) == set(VIEW_TICKS)
    script = (Path(__file__).resolve().parents[1] / "assets" / "lossviz.js").read_text()
    assert f'"{ids.STORE_CLOCKS}"' in script  # the id the timer reads is the layout's


def test_the_training_tick_is_applied_without_dash_and_every_point_arrives(app_page):
    """The training tick goes straight to the server and its answer is applied with set_props:
    the curve grows by every step (none lost, none twice) and Dash's own store of the stream is
    never written (through the renderer it would hold the last answer). Mutations caught: the
    tick sent through Dash again; an answer applied twice or dropped (the curve's steps would
    repeat or skip)."""
    page, log = app_page
    page.goto(page.url.split("?")[0] + "?epochs=150")
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=30_000)
    sent = _tick_counter(page)
    button(page, "Train").click()
    wait_for(page, lambda s: s["status"].startswith("finished"), timeout=60, what="the run to finish")
    assert sent[ids.INTERVAL_TRAIN] >= 3, sent
    steps = page.evaluate("""() => {
        const gd = document.querySelector('#graph-curves .js-plotly-plot');
        return Array.from(gd.data[0].x); }""")
    assert steps == list(range(len(steps))) and len(steps) == 151, (len(steps), steps[:5], steps[-5:])
    stream = page.evaluate(f"() => window.dash_component_api.getLayout('{ids.STORE_STREAM}').props.data")
    assert stream is None, "the training tick went through Dash's renderer"
    assert not log.page_errors and not log.console_errors, (log.page_errors, log.console_errors)


def test_hidden_graphs_are_drawn_when_they_come_on_screen(app_page):
    """A hidden panel's graph is not drawn while the page loads (13 such draws held a slow page
    for seconds); it is drawn, with its figure, once its panel is shown. Mutation caught: the
    deferral removed (the graph is drawn at load), or never released (the panel stays empty)."""
    page, log = app_page
    page.wait_for_function("document.querySelectorAll('#graph-contour .js-plotly-plot').length == 1",
                           timeout=30_000)
    page.wait_for_timeout(2000)
    drawn = f"() => !!document.querySelector('#{ids.GRAPH_PROFILE} .js-plotly-plot')"
    assert not page.evaluate(drawn), "a hidden panel's graph was drawn during page load"
    page.get_by_text("Why the loss matters", exact=True).click()
    page.wait_for_function(drawn, timeout=10_000)
    traces = page.evaluate(f"() => document.querySelector('#{ids.GRAPH_PROFILE} .js-plotly-plot').data.length")
    assert traces >= 1, "the panel's graph came on screen without its figure"
    assert not log.page_errors and not log.console_errors, (log.page_errors, log.console_errors)
