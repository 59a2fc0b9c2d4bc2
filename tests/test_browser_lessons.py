"""Lessons in real Chromium: ``/?lesson=ID`` sets every control, the lesson's words show, the
lesson trains as it says; previous/next move through the file; an unknown lesson is named."""
from __future__ import annotations

import pytest

from app.page.lessons import load_lessons
from test_browser import assert_clean, button, step, wait_for

pytestmark = pytest.mark.browser


def value(page, css: str) -> str:
    el = page.locator(css)
    return el.input_value() if el.evaluate("e => e.tagName") == "INPUT" else el.inner_text().strip()


def test_a_lesson_link_sets_every_control_and_trains_as_it_says(open_link):
    lesson = load_lessons()[0]  # cross-entropy vs MSE: SGD, lr 0.5, compare loss -> MSE
    page, log = open_link(f"?lesson={lesson.id}")
    wait_for(page, lambda s: "B (" in s["status"], timeout=20, what="the lesson's compare mode")
    assert lesson.title in page.locator("#text-lesson").inner_text()
    assert lesson.question in page.locator("#text-lesson").inner_text()
    config = lesson.config()
    assert value(page, "#input-lr") == f"{config.lr:g}"
    assert value(page, "#input-epochs") == str(config.epochs)
    assert value(page, "#dropdown-optimizer") == "SGD"
    assert value(page, "#dropdown-compare-choice") == "Mean squared error"
    assert value(page, "#input-noise") == f"{(config.noise if config.noise is not None else 0.2):g}"
    assert page.locator("#checklist-compare input").is_checked()
    s = wait_for(page, lambda s: step(s["status"]) == 0 and f"/ {config.epochs}" in s["status"],
                 what="the lesson's run, ready")
    page.get_by_label("Fast").check()
    button(page, "Train").click()
    s = wait_for(page, lambda s: "finished" in s["status"], timeout=60, what="the lesson's runs to finish")
    assert "A (Cross-entropy)" in s["status"] and "B (Mean squared error)" in s["status"]
    assert_clean(log)


def test_previous_and_next_walk_the_lessons_and_keep_their_settings(open_link):
    lessons = load_lessons()
    page, log = open_link(f"?lesson={lessons[0].id}")
    wait_for(page, lambda s: "B (" in s["status"], timeout=20, what="the first lesson")
    page.locator("#button-lesson-next").click()
    second = lessons[1]
    page.wait_for_function("t => document.getElementById('text-lesson').innerText.includes(t)", arg=second.title)
    cfg = second.config()
    # The lesson chose its dataset with everything else: the dataset's own default noise did not
    # overwrite the lesson's settings.
    wait_for(page, lambda s: f"/ {cfg.epochs}" in s["status"], timeout=20, what="the second lesson's run")
    if cfg.noise is not None:
        assert value(page, "#input-noise") == f"{cfg.noise:g}"
    assert value(page, "#input-samples") == str(cfg.n_samples)
    page.locator("#button-lesson-prev").click()
    page.wait_for_function("t => document.getElementById('text-lesson').innerText.includes(t)",
                           arg=lessons[0].title)
    assert_clean(log)


def test_an_unknown_lesson_is_named_and_the_page_keeps_its_defaults(open_link):
    page, log = open_link("?lesson=no-such-lesson")
    page.wait_for_function("() => document.getElementById('text-lesson').innerText.includes('no-such-lesson')",
                           timeout=15_000)
    s = wait_for(page, lambda s: "Step 0 / " in s["status"], what="the default run")
    assert "Step 0 / 200" in s["status"]  # the page's own defaults
    assert_clean(log)


# Every lesson's link and settings: tests/test_app_links_http.py (each lesson, over HTTP); every
# lesson trained and looked at in Chromium, at both sizes: tests/test_browser_tour.py.
