"""Your own data in a real browser: upload a CSV through the page's file input, train on it, then
upload a broken one and read the message — the way a person would, with no console errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from app.page import ids

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LOSSVIZ_SHOTS")  # a folder: keep a screenshot of the loaded table


def flowers(n=90, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    rows = ["sepal,petal,species"]
    for i in range(n):
        k = i % 3
        rows.append(f"{2 * k + rng.normal():.4f},{k + rng.normal():.4f},{('setosa', 'versicolor', 'virginica')[k]}")
    return ("\n".join(rows) + "\n").encode()


def choose(page, name: str, data: bytes) -> None:
    page.set_input_files(f"#{ids.UPLOAD} input[type=file]",
                         files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


def note(page) -> str:
    return page.inner_text(f"#{ids.UPLOAD_NOTE}")


def status(page) -> str:
    return page.inner_text(f"#{ids.STATUS}")


def test_upload_train_and_refuse_a_broken_file(app_page):
    page, log = app_page
    choose(page, "flowers.csv", flowers())
    page.wait_for_function(f"document.getElementById('{ids.UPLOAD_NOTE}').innerText.includes('90 rows')")
    text = note(page)
    assert "flowers.csv: 90 rows, 2 features (sepal, petal)" in text, text
    assert "label column 'species' holds 3 text values → classification" in text
    assert "Nothing dropped" in text
    assert "flowers.csv" in page.inner_text(f"#{ids.DATASET}")  # the dropdown names the file
    page.wait_for_function("decodeURIComponent(location.search).includes('dataset=csv:')")  # the link: its hash
    page.wait_for_function(f"document.getElementById('{ids.STATUS}').innerText.includes('Step 0 /')")

    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(f"""() => {{ const m = document.getElementById('{ids.STATUS}').innerText
                                         .match(/Step (\\d+) \\//); return m && +m[1] >= 10; }}""")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function(f"document.getElementById('{ids.STATUS}').innerText.startsWith('paused')")
    assert "accuracy" in status(page) and "train" in status(page)
    page.wait_for_function("document.querySelector('#graph-contour .js-plotly-plot').data[0].type === 'contour'")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "upload.png"))

    lines = flowers().decode().split("\n")
    lines[4] = "," + lines[4].split(",", 1)[1]  # row 5 of the file loses its sepal value
    choose(page, "broken.csv", "\n".join(lines).encode())
    # (the note says "reading broken.csv…" while the file travels: wait for the verdict)
    page.wait_for_function(f"document.getElementById('{ids.UPLOAD_NOTE}').innerText.includes('Could not use')")
    assert note(page) == "Could not use broken.csv: missing value in column 'sepal', row 5: fill it in or remove " \
                         "the row.", note(page)
    assert "flowers.csv" in page.inner_text(f"#{ids.DATASET}")  # the good table stays selected
    assert log.problems() == []
