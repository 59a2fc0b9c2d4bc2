"""Tests for app.views.panels.best_rate: compare mode's "each at its best learning rate"."""
import json
import math

import numpy as np
import pytest

import lossviz
from app.views.panels import best_rate as br
from lossviz import RunConfig

SMALL = RunConfig(dataset="moons", n_samples=100, hidden=(8,), activation="tanh", loss="cross_entropy",
                  optimizer="sgd", lr=0.5, epochs=30, seed=3)
MSE = {"vary": "loss", "value": "mse"}


@pytest.fixture(scope="module")
def result():
    return br.run_sweep(SMALL, br.sweep_plan(SMALL, MSE))


def test_the_plan_sweeps_seven_rates_around_the_pages_rate():
    plan = br.sweep_plan(SMALL, MSE)
    assert plan["rates"] == [0.0625, 0.125, 0.25, 0.5, 1, 2, 4] and plan["runs"] == 14
    assert plan["vary"] == "loss" and plan["value"] == "mse" and 0 < plan["work"] <= br.MAX_SWEEP_WORK
    json.dumps(plan)
    assert [o["value"] for o in br.RATE_MODES] == ["same", "best"]


@pytest.mark.parametrize("config, compare, words", [
    (SMALL, None, "turn on compare mode"),
    (SMALL, {"vary": "lr", "value": 1.0}, "sweeps the learning rate itself"),
    (SMALL.replace(epochs=100_000, n_samples=2000, hidden=(64, 64)), MSE, "Use fewer epochs"),
])
def test_a_sweep_that_cannot_be_fair_or_is_too_big_is_refused_in_words(config, compare, words):
    with pytest.raises(ValueError, match=words):
        br.sweep_plan(config, compare)


def test_the_result_is_the_engines_sweep_as_json(result):
    a, b = lossviz.compare_lr_sweep(SMALL, "loss", "mse", result["rates"])
    json.loads(json.dumps(result))
    assert result["metric"] == "accuracy" and [r["label"] for r in result["runs"]] == ["Cross-entropy",
                                                                                      "Mean squared error"]
    for run, sweep in zip(result["runs"], (a, b)):
        assert run["best"] == sweep.best and run["best_rate"] == sweep.best_rate
        assert np.allclose(run["final_loss"], sweep.final_loss)
        assert np.allclose(run["loss"], sweep.loss[sweep.best]) and run["test_metric"] == sweep.test_metric[sweep.best]
    assert result["steps"][0] == 0 and result["steps"][-1] == 30


def test_the_rate_figure_marks_each_best_rate(result):
    fig = br.rate_figure(result)
    assert len(fig["data"]) == 4 and fig["layout"]["xaxis"]["type"] == "log"
    a, b = lossviz.compare_lr_sweep(SMALL, "loss", "mse", result["rates"])
    for i, (run, sweep) in enumerate(zip(result["runs"], (a, b))):
        line, marks = fig["data"][2 * i], fig["data"][2 * i + 1]
        assert line["x"] == result["rates"] and line["name"].startswith("AB"[i])
        assert marks["x"][0] == run["best_rate"] and marks["marker"]["symbol"][0] == "star"
        # cross-entropy and squared error are in different units: the figure draws accuracy
        assert np.allclose(line["y"], sweep.metric[:, -1])
    assert "accuracy" in fig["layout"]["yaxis"]["title"]["text"] and "type" not in fig["layout"]["yaxis"]


def test_one_loss_for_both_runs_is_drawn_as_the_loss():
    same = dict(br.run_sweep(SMALL, br.sweep_plan(SMALL, {"vary": "activation", "value": "relu"})))
    fig = br.rate_figure(same)
    assert br.RATES_TITLE in json.dumps(fig["layout"]["title"]) and fig["layout"]["yaxis"]["type"] == "log"
    assert fig["data"][0]["y"] == same["runs"][0]["final_loss"]
    assert br.best_curves_figure(same)["data"][0]["y"] == same["runs"][0]["loss"]


def test_a_diverged_rate_is_a_cross_along_the_top():
    config = RunConfig(dataset="sine", n_samples=60, hidden=(8,), loss="mse", optimizer="sgd", lr=8.0, epochs=30)
    res = br.run_sweep(config, br.sweep_plan(config, {"vary": "activation", "value": "relu"}))
    assert res["metric"] == "R²" and "diverged" in res["runs"][0]["status"]
    run, fig = res["runs"][0], br.rate_figure(res)
    crosses = [k for k, s in enumerate(run["status"]) if s == "diverged"]
    assert all(run["final_loss"][k] is None for k in crosses)
    assert fig["data"][1]["marker"]["symbol"].count("x") == len(crosses)
    assert math.isclose(fig["data"][1]["y"][-1], 3 * max(v for r in res["runs"] for v in r["final_loss"] if v))


def test_the_curves_figure_shows_each_run_at_its_own_best_rate(result):
    fig = br.best_curves_figure(result)
    assert [t["x"] for t in fig["data"]] == [result["steps"]] * 2
    for trace, run in zip(fig["data"], result["runs"]):
        assert f"lr {run['best_rate']:g}" in trace["name"] and trace["y"] == run["metric"]  # shared measure


def test_the_summary_names_each_best_rate_and_when_it_reached_the_target(result):
    text = br.summary(result, target=0.8).splitlines()
    assert len(text) == 2 and text[0].startswith("A (Cross-entropy): best rate")
    for line, run in zip(text, result["runs"]):
        assert f"best rate {run['best_rate']:g} of 0.0625, 0.125" in line
        hits = [s for s, m in zip(result["steps"], run["metric"]) if m >= 0.8]
        assert (f"80.0% at step {hits[0]}" if hits else "never 80.0%") in line
