"""Export in real Chromium: each plot saves as PNG and SVG, each run download parses, and the HTML
snapshot draws its plots in a browser that can reach nothing (opened from a file)."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest

from test_browser import assert_clean, button, choose, wait_for

pytestmark = pytest.mark.browser


def save(page, click) -> tuple[str, bytes]:
    with page.expect_download(timeout=30_000) as info:
        click()
    d = info.value
    return d.suggested_filename, open(d.path(), "rb").read()


def test_every_download_parses(app_page, tmp_path):
    page, log = app_page
    wait_for(page, lambda s: "Step 0 / " in s["status"], what="the page's first run")
    page.get_by_label("Fast").check()
    button(page, "Train").click()
    s = wait_for(page, lambda s: "finished" in s["status"], timeout=60, what="the run to finish")
    page.locator("#box-export summary").click()

    for fmt, magic in (("PNG", b"\x89PNG"), ("SVG", b"<svg")):
        name, raw = save(page, lambda: button(page, fmt).click())
        assert name == f"lossviz-contour.{fmt.lower()}" and magic in raw[:200], (name, raw[:60])

    name, raw = save(page, lambda: button(page, "Curves CSV").click())
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    total = int(s["status"].split("/ ")[1].split()[0].replace(",", ""))
    assert name == "lossviz-curves.csv" and int(rows[-1]["step"]) == total and float(rows[-1]["train_loss"]) > 0

    name, raw = save(page, lambda: button(page, "JSON").click())
    doc = json.loads(raw)
    assert doc["runs"][0]["status"] == "finished" and doc["runs"][0]["curves"]["step"][-1] == total

    name, raw = save(page, lambda: button(page, ".npz").click())
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert {"params_final.npy", "surface.npy", "trajectory.npy"} <= set(z.namelist())
    with np.load(io.BytesIO(raw), allow_pickle=False) as f:
        assert int(f["steps"]) == total

    name, raw = save(page, lambda: button(page, "HTML snapshot").click())
    snapshot = tmp_path / name
    snapshot.write_bytes(raw)
    assert_clean(log)

    # The snapshot, offline: every request that is not the file itself is refused and counted.
    context = page.context.browser.new_context()
    asked = []
    context.route("**/*", lambda route: (asked.append(route.request.url), route.abort())
                  if not route.request.url.startswith("file:") else route.continue_())
    offline = context.new_page()
    errors = []
    offline.on("pageerror", lambda e: errors.append(str(e)))
    offline.goto(snapshot.as_uri())
    offline.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4", timeout=30_000)
    assert offline.locator(".contourlayer path").count() > 0 and not asked and not errors, (asked, errors)
    context.close()


def test_compare_mode_offers_only_its_plots_and_every_one_saves(open_link):
    """Compare mode: the plot list holds A's and B's plots and the A↔B line, no 3-D view (it
    offered one, then said it was not on the page); each saves; the surface CSV holds both runs."""
    page, log = open_link("?compare=loss&b=mse&samples=120&epochs=30")
    wait_for(page, lambda s: "B (" in s["status"] and "Step 0 / " in s["status"], timeout=20,
             what="the link's comparison")
    page.get_by_label("Fast").check()
    button(page, "Train").click()
    wait_for(page, lambda s: s["status"].count("finished") >= 1 and "Step 30 / 30" in s["status"], timeout=60,
             what="both runs to finish")
    page.locator("#box-export summary").click()
    page.locator("#dropdown-export-plot").click()
    labels = [t.strip() for t in page.locator(".dash-dropdown-content [role=option]").all_inner_texts()]
    page.keyboard.press("Escape")
    assert labels == ["A's landscape", "B's landscape", "Line A ↔ B", "Learning curves", "A's data", "B's data"]
    for label in labels:
        choose(page, "dropdown-export-plot", label)
        name, raw = save(page, lambda: button(page, "PNG").click())
        assert name.endswith(".png") and raw.startswith(b"\x89PNG"), (label, name)
    name, raw = save(page, lambda: button(page, "Surface CSV").click())
    rows = list(csv.reader(io.StringIO(raw.decode())))
    assert rows[0] == ["alpha", "beta", "loss", "loss_b"] and len(rows) > 100
    assert "Something went wrong" not in page.locator("#text-export-note").inner_text()
    assert_clean(log)
