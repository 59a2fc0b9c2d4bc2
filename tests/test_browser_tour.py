"""Every lesson as a class sees it: one page per screen size (1366x768, 1920x1080) opens the first
lesson and walks through all of them with ▶ (next lesson). At each lesson it trains a little
(Train, some steps, Pause; a short lesson may finish) and looks at the lesson's view at the desk
and in presentation mode:

- nowhere on the page "Something went wrong" (a callback's failure, or plotly.js's);
- no text box in a plot over another, none cut by its plot (``PLOT_TEXT_JS`` of test_browser_text);
- every line trace of the contours and data plots (the paths, a fitted curve) has a point
  inside its axes' ranges: no path or fit is framed out of its plot;
- no console error, page error or failed request.

KNOWN_TEXT_PROBLEMS (open, so that part is an xfail, not yet an assertion): at 1366x768, in
presentation mode, the A↔B line plot's title runs into its "A"/"B" markers' labels and its two
bottom titles into each other; the data plots' titles are cut at the right; the sharpness plot's
log ticks and its three y-axis titles collide; the "why" panel's histogram's log ticks (2, 5 and
10^k) collide; off-chart notes run into titles; at the desk, some lessons' curves and line plots
still have 0/1 tick labels over each other. A failure on the page, a framed-out path, a console
error still fail the test.

One page per size instead of a page per lesson, size and mode (60 loads): the tour takes about
155 s a size on this 2-core machine (measured; printed with -s, and in a failure's message).
Mutations it catches: the data plot's redraw indexing the drawn record's data_key that compare
mode leaves None (every single-run lesson after a compare lesson said "Something went wrong";
fixed in app/views/drawing.py), a path framed out of its contour, a lesson that fails to apply
(its title never shows).
"""
from __future__ import annotations

import time

import pytest

from app.page.lessons import load_lessons
from conftest import open_page
from test_browser import assert_clean, step, wait_for
from test_browser_text import PLOT_TEXT_JS, SIZES

pytestmark = pytest.mark.browser

LESSONS = load_lessons()
SOME_STEPS = 25  # trained before a lesson is looked at (all of a shorter lesson's)

# The line traces of the contours (the paths) and of the data plots (a fitted curve) on screen
# that have no point inside the ranges their axes show now (a log axis's range is in decades).
# The learning curves are left out: a diverged run's curve leaves its plot by design, and a
# note says so (framing.py).
FRAMED_JS = """() => {
  const out = [];
  for (const id of ['graph-contour', 'graph-contour-b', 'graph-data', 'graph-data-b']) {
    const host = document.getElementById(id), gd = host && host.querySelector('.js-plotly-plot');
    if (!gd || gd.offsetParent === null || !gd._fullLayout) continue;
    const L = gd._fullLayout;
    (gd._fullData || []).forEach((t, i) => {
      if (t.type !== 'scatter' || t.visible !== true || !/lines/.test(t.mode || '')) return;
      const xa = L['xaxis' + (t.xaxis || 'x').slice(1)], ya = L['yaxis' + (t.yaxis || 'y').slice(1)];
      if (!xa || !ya || !t.x || !t.y) return;
      const at = (ax, v) => ax.type === 'log' ? (v > 0 ? Math.log10(v) : NaN) : v;
      const inside = (ax, v) => { const r = ax.range.map(Number), w = at(ax, v);
        return w >= Math.min(r[0], r[1]) && w <= Math.max(r[0], r[1]); };
      let finite = 0, shown = 0;
      for (let k = 0; k < t.x.length; k++) {
        const x = Number(t.x[k]), y = Number(t.y[k]);
        if (t.x[k] === null || t.y[k] === null || !isFinite(x) || !isFinite(y)) continue;
        finite++;
        if (inside(xa, x) && inside(ya, y)) shown++;
      }
      if (finite >= 2 && !shown) out.push(id + ' trace ' + i + ' (' + (t.name || '') + ')');
    });
  }
  return out;
}"""

WENT_WRONG_JS = "() => document.body.innerText.includes('Something went wrong')"


def what_a_class_sees(page) -> tuple[list[str], list[str]]:
    """The problems on screen now: (failures named on the page and lines framed out of their
    plots; text over text or cut by its plot)."""
    broken = ["the page says 'Something went wrong'"] if page.evaluate(WENT_WRONG_JS) else []
    broken += [f"{t}: no point inside its plot's axes" for t in page.evaluate(FRAMED_JS)]
    text = []
    for plot in page.evaluate(PLOT_TEXT_JS):
        text += [f"{plot['plot']}: overlapping text {o}" for o in plot["overlaps"]]
        text += [f"{plot['plot']}: text cut by its plot: {c}" for c in plot["cut"]]
    return broken, text


def show_lesson(page, lesson) -> int:
    """Wait until ``lesson`` is applied and its run ready; its total steps."""
    page.wait_for_function("t => document.getElementById('text-lesson').innerText.includes(t)", arg=lesson.title,
                           timeout=20_000)
    steps = lesson.experiment().runs[0].total_steps
    wait_for(page, lambda s: "Step 0 / " in s["status"] and (f"/ {steps:,}" in s["status"] or f"/ {steps}" in s["status"])
             and ("B (" in s["status"]) == (lesson.compare is not None), timeout=30, what=f"lesson {lesson.id}'s run")
    return steps


def train_a_little(page, steps: int) -> None:
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(page, lambda s: "finished" in s["status"] or ("Step" in s["status"] and step(s["status"]) >= min(steps, SOME_STEPS)), timeout=40,
             what=f"{min(steps, SOME_STEPS)} steps")
    if "finished" not in page.locator("#text-status").inner_text():
        page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_timeout(2500)  # the lesson's views of the paused run arrive and are drawn


def set_present(page, on: bool) -> None:
    box = page.get_by_label("present", exact=True)
    box.check() if on else box.uncheck()
    page.wait_for_timeout(2000)  # every plot on screen enlarged (or back), drawn again


@pytest.mark.parametrize("size", list(SIZES))
def test_every_lesson_reads_cleanly_at_the_desk_and_presented(chromium, lossviz_url, size, monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "VIEWPORT", SIZES[size])
    start = time.monotonic()
    gen = open_page(chromium, lossviz_url + f"?lesson={LESSONS[0].id}")
    page, log = next(gen)
    try:
        page.get_by_label("Fast").check()
        broken, text = [], []
        for i, lesson in enumerate(LESSONS):
            if i:
                page.locator("#button-lesson-next").click()
            steps = show_lesson(page, lesson)
            train_a_little(page, steps)
            for mode in ("desk", "present"):
                if mode == "present":
                    set_present(page, True)
                b, t = what_a_class_sees(page)
                broken += [f"[{lesson.id}, {mode}] {p}" for p in b]
                text += [f"[{lesson.id}, {mode}] {p}" for p in t]
            set_present(page, False)
        took = time.monotonic() - start
        assert not broken, f"({took:.0f} s)\n" + "\n".join(dict.fromkeys(broken))
        assert_clean(log)
        print(f"tour at {size}: {took:.0f} s")
        if text:  # known and open: the module docstring lists them
            pytest.xfail(f"text over text or cut ({took:.0f} s):\n" + "\n".join(dict.fromkeys(text)))
    finally:
        gen.close()
