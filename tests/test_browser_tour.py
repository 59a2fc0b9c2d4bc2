"""Every lesson as a class sees it: one page walks through all of them with ▶ (next lesson),
at 1366x768 at the desk, and at 1920x1080 both in presentation mode (a projector) and at the
desk (the page switches mode once per lesson; MODES). At each lesson it trains a little (Train,
some steps, Pause; a short lesson may finish) and looks at its view in each mode:

- nowhere on the page "Something went wrong" (a callback's failure, or plotly.js's);
- every line trace of the contours and data plots (the paths, a fitted curve) has a point
  inside its axes' ranges: no path or fit is framed out of its plot;
- the lesson's run got there (its title shown, its step count in the status);
- in the lesson's view, no plot text over other text or cut by its plot, and in presentation
  mode no text under 18 px (``problems`` of test_browser_text.py, which checks every view of
  one default run and two);
- no console error, page error or failed request over the whole tour.

One page per size instead of a page per lesson (15 loads each). Mutations it catches: the data
plot's redraw indexing the drawn record's data_key that compare mode leaves None (every
single-run lesson after a compare lesson said "Something went wrong"), a path framed out of its
contour, a lesson that fails to apply (its title never shows), a plot drawn while hidden (its
axis titles at infinity: console errors).
"""
from __future__ import annotations

import time

import pytest

from app.page.lessons import load_lessons
from conftest import open_page
from test_browser import assert_clean, step, wait_for
from test_browser_text import SIZES, problems

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


def what_a_class_sees(page) -> list[str]:
    """The problems on screen now: failures named on the page, lines framed out of their plots."""
    broken = ["the page says 'Something went wrong'"] if page.evaluate(WENT_WRONG_JS) else []
    return broken + [f"{t}: no point inside its plot's axes" for t in page.evaluate(FRAMED_JS)]


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
        wait_for(page, lambda s: s["status"].startswith(("paused", "finished", "diverged")), timeout=20, what="the pause")
    page.wait_for_timeout(1200)  # the lesson's views of the stopped run arrive and are drawn


# The modes each lesson is seen in, by size, the first the page starts in.
MODES = {"1366x768": ("present", "desk"), "1920x1080": ("present", "desk")}


@pytest.mark.parametrize("size", list(MODES))
def test_every_lesson_trains_and_shows_its_paths_at_the_desk_and_presented(chromium, lossviz_url, size, monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "VIEWPORT", SIZES[size])
    start = time.monotonic()
    gen = open_page(chromium, lossviz_url + f"?lesson={LESSONS[0].id}")
    page, log = next(gen)
    try:
        page.get_by_label("Fast").check()
        present = MODES[size][0] == "present"
        present_box = page.get_by_label("present", exact=True)
        if present:
            present_box.check()
        broken = []
        for i, lesson in enumerate(LESSONS):
            if i:
                page.locator("#button-lesson-next").click()
            train_a_little(page, show_lesson(page, lesson))
            # in the mode the page is in, then in the other (it stays there for the next lesson):
            # every lesson is seen at the desk and presented
            for k in range(len(MODES[size])):
                if k:
                    present = not present
                    present_box.set_checked(present)
                mode = "present" if present else "desk"
                broken += [f"[{lesson.id}, {mode}] {p}" for p in what_a_class_sees(page)]
                broken += [f"[{lesson.id}, {mode}] {p}" for p in problems(page, present=present)]
        took = time.monotonic() - start
        assert not broken, f"({took:.0f} s)\n" + "\n".join(dict.fromkeys(broken))
        assert_clean(log)
        print(f"tour at {size}, {MODES[size]}: {took:.0f} s")
    finally:
        gen.close()
