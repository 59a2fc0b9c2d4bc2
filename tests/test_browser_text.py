"""What a class can read: in every view, one run and two, at 1366x768 and 1920x1080, at the desk
and in presentation mode, no text box in a plot lies over another or is cut by its plot; and in
presentation mode no text on the page is under 18 px.

Text boxes are the plots' SVG text (titles, axis titles, tick labels, legend entries, colour-bar
labels, annotations); the 3-D view's own axis text is drawn by WebGL and is not seen here.
Mutations these catch: a figure whose legend is placed over its axis title, tick labels that
collide at a corner, a presentation mode that leaves legends or the sidebar at desk size, a
text field that lost its box (it showed empty in presentation mode), a title that its enlarged
"A"/"B" labels run into, a log axis whose enlarged ticks crowd each other.
"""
from __future__ import annotations

import time

import pytest

from conftest import PLOTS_DRAWN_JS, open_page
from test_browser import wait_for

pytestmark = pytest.mark.browser

SIZES = {"1366x768": {"width": 1366, "height": 768}, "1920x1080": {"width": 1920, "height": 1080}}
VIEWS = ("plots", "why", "curvature", "surfaces")

PLOT_TEXT_JS = """() => {
  const out = [];
  // hidden: by its own style or an ancestor's (an off-chart note is a transparent annotation group)
  const hidden = (el, top) => { for (let e = el; e && e !== top; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return true; }
    return false; };
  for (const p of document.querySelectorAll('.js-plotly-plot')) {
    if (p.offsetParent === null || p.closest('details:not([open])')) continue;  // not on screen
    const host = p.closest('[id]'), frame = p.getBoundingClientRect();
    const boxes = Array.from(p.querySelectorAll('svg text')).filter(t => {
      if (!(t.textContent || '').trim() || hidden(t, p)) return false;
      const r = t.getBoundingClientRect(); return r.width > 0 && r.height > 0;
    }).map(t => { const r = t.getBoundingClientRect();
      return {text: t.textContent.trim().slice(0, 40), x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
              size: parseFloat(getComputedStyle(t).fontSize)}; });
    const overlaps = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0), h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (w > 2 && h > 2) overlaps.push(a.text + ' / ' + b.text);
    }
    const cut = boxes.filter(b => b.x0 < frame.left - 1 || b.x1 > frame.right + 1 ||
                                  b.y0 < frame.top - 1 || b.y1 > frame.bottom + 1).map(b => b.text);
    const small = boxes.filter(b => b.size < 18).map(b => b.text + ' (' + b.size + ' px)');
    out.push({plot: host ? host.id : '?', overlaps, cut, small});
  }
  return out;
}"""

SMALL_HTML_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('.app *')) {
    if (el.closest('svg') || el.offsetParent === null) continue;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const field = el.tagName === 'INPUT' && el.value;
    if (!own && !field) continue;
    const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 18) bad.push(el.tagName + ' "' + (el.value || el.textContent).trim().slice(0, 30) + '" ' + size + ' px');
  }
  return bad;
}"""

EMPTY_FIELDS_JS = """() => Array.from(document.querySelectorAll('.sidebar input.dash-input-element'))
  .filter(e => e.parentElement.offsetParent !== null && getComputedStyle(e.parentElement).display !== 'none'
               && !e.getClientRects().length)
  .map(e => e.id || e.name)"""


def show_view(page, view: str) -> None:
    page.locator(f"#radio-page-view input[value='{view}']").check()
    time.sleep(2.5)  # the view's first figures (computed for this run) arrive and are drawn


# The plots on screen as laid out now: each one's size, whether presentation mode is enlarging
# it (lossviz.js marks it busy), and where its text boxes are (to the pixel).
LAYOUT_NOW_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .filter(p => p.offsetParent !== null)
  .map(p => [p.clientWidth, p.clientHeight, !!p._lossvizBusy,
             Array.from(p.querySelectorAll('svg text')).map(t => { const r = t.getBoundingClientRect();
               return [r.left, r.top, r.width, r.height].map(Math.round).join(','); }).join(' ')])"""


def settle(page, still: float = 1.2, timeout: float = 10.0) -> None:
    """Wait until the plots on screen are drawn and none has moved or resized a box for ``still``
    seconds (presentation mode enlarges a plot up to a second after it came on screen), at most
    ``timeout`` seconds: a plot measured while it was laid out again showed one-off jumbles.
    What is on screen then is measured as it is, settled or not."""
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=timeout * 1000)
    last, since, end = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < end:
        now = page.evaluate(LAYOUT_NOW_JS)
        if now != last or any(busy for _, _, busy, _ in now):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return
        time.sleep(0.2)


def problems(page, present: bool, layout: bool = True) -> list[str]:
    """What a reader would trip over in the views on screen, once their plots have settled: with
    ``layout``, text over text and text cut by its plot; in presentation mode, text under 18 px;
    always, empty fields."""
    settle(page)
    found = []
    for plot in page.evaluate(PLOT_TEXT_JS):
        if layout:
            found += [f"{plot['plot']}: overlapping text {o}" for o in plot["overlaps"]]
            found += [f"{plot['plot']}: text cut by its plot: {c}" for c in plot["cut"]]
        if present:
            found += [f"{plot['plot']}: small text {s}" for s in plot["small"]]
    if present:
        found += [f"page: small text {s}" for s in page.evaluate(SMALL_HTML_JS)]
    found += [f"sidebar: a field with no box: {f}" for f in page.evaluate(EMPTY_FIELDS_JS)]
    return found


def look(page, views, present: bool, label: str) -> list[str]:
    """Show each of ``views`` in turn: what was found in each, tagged ``[label view]``."""
    found = []
    for view in views:
        show_view(page, view)
        found += [f"[{label}{view}] {p}" for p in problems(page, present)]
    return found


def compare_on(page) -> None:
    """Compare mode on, and both runs trained to the end."""
    page.get_by_label("Compare two runs (A and B)").check()
    wait_for(page, lambda s: "B (" in s["status"], what="compare mode")
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(page, lambda s: "finished" in s["status"] and "B (" in s["status"], timeout=60,
             what="both runs to finish")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_view_reads_cleanly_at_the_desk_and_large_enough_to_present(chromium, lossviz_url, size,
                                                                          monkeypatch):
    """At the desk: no text over text, none cut by its plot, in every view, one run and two. Then
    presentation mode switched on in the same page: every view of the comparison (the most text
    there is, in the narrowest plots), then of run A alone, with no text over text, none cut
    and none under 18 px."""
    import conftest

    monkeypatch.setattr(conftest, "VIEWPORT", SIZES[size])
    gen = open_page(chromium, lossviz_url + "?epochs=40")
    page, _ = next(gen)
    try:
        page.get_by_role("button", name="Train", exact=True).click()
        wait_for(page, lambda s: "finished" in s["status"], timeout=60, what="the run to finish")
        found = look(page, VIEWS, False, "")
        compare_on(page)
        found += look(page, ("why", "plots"), False, "compare ")
        page.get_by_label("present", exact=True).check()
        found += look(page, VIEWS, True, "present, compare ")
        page.get_by_label("Compare two runs (A and B)").uncheck()
        wait_for(page, lambda s: "B (" not in s["status"], what="compare off")
        found += look(page, VIEWS, True, "present ")
        assert not found, "\n".join(dict.fromkeys(found))
    finally:
        gen.close()
