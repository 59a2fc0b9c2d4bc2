"""Links over HTTP: the page's restore callback reads a link into the controls, and the settings
callback reads those controls. A bad value of any key keeps its default and the link note names
the key (issue 17: ``lr=abc`` put "abc" in the box and Train was refused), so the settings the
page ends with always train."""
from __future__ import annotations

import pytest

from app.page import ids
from app.page.controls import BY_FIELD, DEFAULT
from dash_client import app, page, updates  # noqa: F401

CONTROL_IDS = {c.id for c in BY_FIELD.values()} | {ids.LAYERS, ids.GRID, ids.RANGE}


def restore(page, search):
    """The restore callback's updates for a fresh page opened on ``search``."""
    status, data = page.call(page.find(ids.STORE_RESTORED, "data"),
                             {(ids.URL, "search"): search, (ids.STORE_RESTORED, "data"): None})
    assert status == 200, status
    return updates(data)


def settings_after(page, up):
    """What the settings callback makes of the restored controls: (config or None, error)."""
    values = {}
    for cid, props in up.items():
        if "value" in props and (cid in CONTROL_IDS or cid.startswith("{")):  # "{…}": a width box
            values[(cid, "value")] = props["value"]
    status, data = page.call(page.find(ids.STORE_CONFIG, "data"), values, changed=[f"{ids.DATASET}.value"])
    assert status == 200, status
    got = updates(data)
    return got.get(ids.STORE_CONFIG, {}).get("data"), got.get(ids.CONFIG_ERROR, {}).get("children")


BAD = [  # (query, key named, the field that keeps its default)
    ("?lr=abc", "lr", "lr"),
    ("?lr=-1", "lr", "lr"),
    ("?lr=1e999", "lr", "lr"),
    ("?epochs=-5", "epochs", "epochs"),
    ("?epochs=2.5", "epochs", "epochs"),
    ("?seed=1e99", "seed", "seed"),
    ("?seed=x", "seed", "seed"),
    ("?samples=0", "samples", "n_samples"),
    ("?noise=lots", "noise", "noise"),
    ("?momentum=2", "momentum", "momentum"),
    ("?batch_size=-3", "batch_size", "batch_size"),
    ("?l2=nan", "l2", "l2"),
    ("?hidden=x", "hidden", "hidden"),
    ("?hidden=16,100000", "hidden", "hidden"),
    ("?dataset=nope", "dataset", "dataset"),
    ("?loss=nope", "loss", "loss"),
]


@pytest.mark.parametrize("query,key,field", BAD)
def test_a_bad_value_keeps_its_default_and_the_note_names_the_key(page, query, key, field):
    up = restore(page, query + "&seed=4" if key != "seed" else query + "&epochs=7")
    note = up[ids.LINK_NOTE]["children"]
    assert f"'{key}'" in note and "kept its default" in note, note
    if field != "hidden":
        assert BY_FIELD[field].id not in up or "value" not in up[BY_FIELD[field].id]  # the box keeps its default
    config, error = settings_after(page, up)
    assert config is not None, error  # the page's settings train
    expected = list(DEFAULT.hidden) if field == "hidden" else BY_FIELD[field].default
    assert config[field] == expected
    assert config["seed" if key != "seed" else "epochs"] == (4 if key != "seed" else 7)  # the good keys apply


def test_several_bad_values_are_all_named_and_the_good_ones_apply(page):
    up = restore(page, "?lr=abc&epochs=-5&hidden=x&seed=1e99&grid=abc&range=0&noise=0.1")
    note = up[ids.LINK_NOTE]["children"]
    for key in ("lr", "epochs", "hidden", "seed", "grid", "range"):
        assert f"'{key}'" in note, (key, note)
    assert "'noise'" not in note
    assert ids.GRID not in up and ids.RANGE not in up
    config, error = settings_after(page, up)
    assert config is not None, error
    assert (config["lr"], config["epochs"], config["seed"], config["noise"]) == (DEFAULT.lr, DEFAULT.epochs,
                                                                                 DEFAULT.seed, 0.1)


def test_good_values_fill_the_boxes_as_written(page):
    up = restore(page, "?lr=0.03&epochs=60&seed=3&hidden=8,4&samples=120&grid=31&range=2")
    assert up[ids.LINK_NOTE]["children"] == ""
    assert (up[ids.LR]["value"], up[ids.EPOCHS]["value"], up[ids.SEED]["value"]) == ("0.03", "60", "3")
    assert (up[ids.GRID]["value"], up[ids.RANGE]["value"], up[ids.LAYERS]["value"]) == (31, "2", 2)
    config, error = settings_after(page, up)
    assert config is not None, error
    assert (config["lr"], config["epochs"], config["seed"], config["hidden"]) == (0.03, 60, 3, [8, 4])


@pytest.mark.parametrize("query,box,value", [
    ("?compare=lr&b=abc", ids.COMPARE_VALUE, "0.1"),  # 10 × run A's default learning rate, as compare suggests
    ("?compare=lr&lr=0.05&b=-2", ids.COMPARE_VALUE, "0.5"),
    ("?compare=loss&b=nope", ids.COMPARE_CHOICE, "mse"),
])
def test_a_bad_value_for_run_b_gets_the_suggested_one(page, query, box, value):
    up = restore(page, query)
    assert "'b'" in up[ids.LINK_NOTE]["children"]
    assert up[box]["value"] == value and up[ids.COMPARE]["value"] == ["on"]


def test_a_lesson_press_whose_answer_was_dropped_is_applied_by_the_next_call(page):
    """▶ pressed, then the address bar changed (the controls moved) before the press's answer was
    applied: Dash drops the overtaken answer, so the newer call, made for the address bar, must
    still move to the next lesson. Caught before: the ▶ press was lost (a teacher pressed twice)."""
    from app.page.lessons import load_lessons

    order = [lesson.id for lesson in load_lessons()]
    dep = page.find(ids.LESSON, "value")
    # The address bar's call, carrying one ▶ press the page has not seen answered yet.
    status, data = page.call(dep, {(ids.URL, "search"): "?dataset=moons", (ids.LESSON_NEXT, "n_clicks"): 1,
                                   (ids.LESSON, "value"): order[0], (ids.STORE_LESSON_STEPS, "data"): None},
                             changed=[f"{ids.URL}.search"])
    assert status == 200, status
    up = updates(data)
    assert up[ids.LESSON]["value"] == order[1]
    # Another call carrying the same count (the page's client does) once that answer is in:
    # nothing moves twice.
    applied = up[ids.STORE_LESSON_STEPS]["data"]
    status, _ = page.call(dep, {(ids.URL, "search"): "?dataset=mooons", (ids.LESSON, "value"): order[1],
                                (ids.STORE_LESSON_STEPS, "data"): applied}, changed=[f"{ids.URL}.search"])
    assert status == 204
    # ◀ pressed, its answer dropped too: back one; ◀ again: back round to the last lesson.
    for current, want in ((order[1], order[0]), (order[0], order[-1])):
        status, data = page.call(dep, {(ids.URL, "search"): "?dataset=moons", (ids.LESSON_PREV, "n_clicks"): 1,
                                       (ids.LESSON, "value"): current, (ids.STORE_LESSON_STEPS, "data"): applied},
                                 changed=[f"{ids.URL}.search"])
        up = updates(data)
        assert up[ids.LESSON]["value"] == want
        applied = up[ids.STORE_LESSON_STEPS]["data"]


@pytest.mark.parametrize("lesson", __import__("app.page.lessons", fromlist=["load_lessons"]).load_lessons(),
                         ids=lambda lesson: lesson.id)
def test_every_lesson_link_opens_its_lesson_with_its_settings(app, lesson):
    """?lesson=<id>: the picker takes the lesson from the address, the lesson sets its widgets,
    and the settings read from them are the lesson's own run (what its claim was checked on).
    (The lesson tour, tests/test_browser_tour.py, trains every lesson in Chromium.) Mutations
    caught: a lesson id not read from the link, a widget the lesson does not set, a setting read
    back differently from what the lesson says."""
    from dash_client import Page

    page = Page(app.server.test_client())  # a fresh page: no presses of ◀/▶ carried
    status, data = page.call(page.find(ids.LESSON, "value"),
                             {(ids.URL, "search"): f"?lesson={lesson.id}", (ids.STORE_LESSON_STEPS, "data"): None},
                             changed=[f"{ids.URL}.search"])
    assert status == 200 and updates(data)[ids.LESSON]["value"] == lesson.id
    status, data = page.call(page.find(ids.STORE_LESSON, "data"), {(ids.LESSON, "value"): lesson.id},
                             changed=[f"{ids.LESSON}.value"])
    assert status == 200, status
    up = updates(data)
    assert lesson.title in str(up[ids.LESSON_TEXT]["children"])
    config, error = settings_after(page, up)
    assert not error, error
    want = lesson.config().to_dict()
    if want.get("noise") is None:  # the dataset's own noise, shown in its box
        from lossviz import DATASETS

        want["noise"] = DATASETS[want["dataset"]].default_noise
        config = dict(config, noise=config["noise"] if config.get("noise") is not None else want["noise"])
    assert {k: config.get(k) for k in want} == want
