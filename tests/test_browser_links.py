"""Shareable links in real Chromium: a link with non-default settings restores every control,
and after training shows the final loss that the engine (as `lossviz export`) gives for the
same settings; the address bar follows the controls; a bad value is named, not fatal."""
from __future__ import annotations

import re

import pytest

from lossviz import RunConfig
from lossviz.export import build_parser, compute_export
from test_browser import assert_clean, button, step, type_into, wait_for

pytestmark = pytest.mark.browser

LINK = ("?dataset=circles&loss=huber&huber_delta=0.1&hidden=8,8&activation=relu&optimizer=momentum"
        "&lr=0.03&epochs=60&seed=3&grid=31")


def value(page, css: str) -> str:
    el = page.locator(css)
    return el.input_value() if el.evaluate("e => e.tagName") == "INPUT" else el.inner_text().strip()


def test_a_link_restores_every_control_and_gives_the_exports_numbers(open_link):
    page, log = open_link(LINK)
    wait_for(page, lambda s: "/ 60" in s["status"], timeout=20, what="the link's settings to apply")
    assert value(page, "#dropdown-dataset") == "Circles"
    assert value(page, "#dropdown-loss") == "Huber"
    assert value(page, "#input-huber-delta") == "0.1"
    assert value(page, "#dropdown-activation").lower() == "relu"
    assert value(page, "input[name='width-1']") == "8" and value(page, "input[name='width-2']") == "8"
    assert value(page, "#input-lr") == "0.03" and value(page, "#input-seed") == "3"
    assert page.locator("#slider-grid [role=slider]").get_attribute("aria-valuenow") == "31"
    page.get_by_label("Fast").check()
    button(page, "Train").click()
    s = wait_for(page, lambda s: "finished" in s["status"], timeout=40, what="the run to finish")
    shown = float(re.search(r"loss ([0-9.eE+-]+) train", s["status"]).group(1))
    # `lossviz export` with the same flags (its other flags at their defaults, as the page's controls)
    args = build_parser().parse_args(["--dataset", "circles", "--loss", "huber", "--huber-delta", "0.1",
                                      "--hidden", "8,8", "--activation", "relu", "--optimizer", "momentum",
                                      "--lr", "0.03", "--epochs", "60", "--seed", "3"])
    config = RunConfig(dataset=args.dataset, n_samples=args.samples, noise=args.noise, seed=args.seed,
                       hidden=args.hidden, activation=args.activation, loss=args.loss,
                       huber_delta=args.huber_delta, optimizer=args.optimizer, momentum=args.momentum, lr=args.lr,
                       l2=args.l2, l1=args.l1, batch_size=args.batch_size, epochs=args.epochs)
    exported = compute_export(config, grid=3)
    assert f"{exported['train_loss']:.4g}" == f"{shown:.4g}", (exported["train_loss"], shown)
    assert_clean(log)


def test_the_address_bar_follows_the_controls(open_link):
    page, log = open_link("")
    wait_for(page, lambda s: "Step 0 / " in s["status"], what="the page's first run")
    type_into(page, "#input-seed", "7")
    page.wait_for_function("() => window.location.search.includes('seed=7')", timeout=10_000)
    assert "dataset=moons" in page.evaluate("window.location.search")
    button(page, "Copy link").click()
    page.wait_for_function("() => document.getElementById('text-link-note').innerText.length > 0")
    assert_clean(log)


def test_a_bad_value_falls_back_to_its_default_naming_the_key(open_link):
    page, log = open_link("?grid=abc&bogus=1&seed=4")
    page.wait_for_function("() => document.getElementById('text-link-note').innerText.includes(\"'grid'\")",
                           timeout=15_000)
    note = page.locator("#text-link-note").inner_text()
    assert "'bogus'" in note
    assert value(page, "#input-seed") == "4"
    assert page.locator("#slider-grid [role=slider]").get_attribute("aria-valuenow") == "41"
    assert_clean(log)


def test_a_compare_link_without_a_plane_opens_on_the_a_b_plane(open_link):
    """As turning compare mode on does; the Range box (which compare mode's planes do not use:
    they are framed on both runs) is off and says why. A link that names a plane keeps it."""
    page, log = open_link("?compare=loss&b=mse")
    page.wait_for_function("() => { const i = document.querySelector('#radio-directions input:checked');"
                           " return i && i.value === 'compare'; }", timeout=15_000)
    assert page.locator("#input-range").is_disabled()
    assert "both runs" in page.locator("#box-range").get_attribute("title")
    page.get_by_label("Compare two runs (A and B)").uncheck()
    page.wait_for_function("() => !document.getElementById('input-range').disabled", timeout=10_000)
    assert_clean(log)


def test_a_compare_link_that_names_a_plane_keeps_it(open_link):
    page, log = open_link("?compare=loss&b=mse&plane=pca")
    page.wait_for_function("() => { const i = document.querySelector('#radio-directions input:checked');"
                           " return i && i.value === 'pca'; }", timeout=15_000)
    page.wait_for_timeout(1500)  # and it stays there
    assert page.locator("#radio-directions input:checked").get_attribute("value") == "pca"
    assert_clean(log)


def test_presentation_mode_and_its_keys(open_link):
    page, log = open_link("?present=1&lesson=cross-entropy-vs-mse")
    page.wait_for_function("() => document.body.classList.contains('present')", timeout=15_000)
    wait_for(page, lambda s: "B (" in s["status"], timeout=20, what="the lesson in compare mode")
    assert not page.locator("#input-seed").is_visible()  # advanced controls out of the way
    assert page.locator("#input-lr").is_visible() and page.locator("#input-lr").input_value() == "0.5"
    page.locator("#text-status").click()  # focus the page, not a field
    page.keyboard.press("s")
    wait_for(page, lambda s: step(s["status"]) == 1, what="S to take one step")
    page.keyboard.press("c")
    wait_for(page, lambda s: "B (" not in s["status"], what="C to turn compare off")
    page.keyboard.press("ArrowRight")  # a lesson sets every control: on a server the whole suite has
    page.wait_for_function("() => document.getElementById('text-lesson').innerText.includes('Huber')",
                           timeout=25_000)  # been training on, that can take more than 10 s
    page.keyboard.press("r")
    wait_for(page, lambda s: step(s["status"]) == 0, what="R to reset")
    assert_clean(log)
