"""The Curvature view over HTTP: λmax, λmin and the trace along the stored path, measured a few
rows per request and cached, beside the loss, with the stability line 2/η -- for Adam the
preconditioned sharpness λmax(P⁻¹H) against its line 38/η; and its pure parts."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lossviz
from app.page import ids
from lossviz.sharpness import sharpness
from app.views.panels import curvature as cv
from app.views.panels.curvature import log_ticks, path_steps, rows_to_measure, sharpness_figure, summary, too_big
from app.runs.run import TRAJECTORY_BYTES, RunView, new_run
from dash_client import app, config_for, follow, page, press, updates  # noqa: F401

EOS = {(ids.DATASET, "value"): "sine", (ids.SAMPLES, "value"): "200", (ids.LOSS, "value"): "mse",
       (ids.OPTIMIZER, "value"): "sgd", (ids.LR, "value"): "0.1", (ids.EPOCHS, "value"): "400",
       (ids.BATCH, "value"): "0", (ids.SEED, "value"): "0"}
ADAM = {**EOS, (ids.OPTIMIZER, "value"): "adam", (ids.LR, "value"): "0.01"}
RAW, PRE, LAMBDA_MIN = "λmax(H)", "λmax(P⁻¹H)", "λmin(H)"  # the legend's words; the full ones on hover


def hover_name(trace: dict) -> str:
    """A trace's full words: the hover box's name (``<extra>…</extra>``)."""
    return trace["hovertemplate"].split("<extra>")[1].split("</extra>")[0]


def curvature(page, run, trigger=ids.INTERVAL_CURVATURE):
    dep = page.find(ids.GRAPH_SHARPNESS, "figure")
    status, data = page.call(dep, {(ids.STORE_RUN_CURVATURE, "data"): run, (ids.PAGE_VIEW, "value"): "curvature",
                                   (trigger, "n_intervals"): 1}, changed=[f"{trigger}.n_intervals"])
    assert status == 200
    return updates(data)


def test_path_steps_are_the_trainers_recorded_steps():
    config = lossviz.RunConfig(dataset="sine", n_samples=200, loss="mse", epochs=1500)
    tr = lossviz.Trainer(config, trajectory_bytes=TRAJECTORY_BYTES)
    recorded = [0]
    while not tr.finished:
        tr.advance(1)
        if len(tr._trajectory) > len(recorded):
            recorded.append(tr.step_count)
    steps = path_steps(tr.total_steps, tr.net.n_params, len(tr.trajectory), tr.step_count)
    assert steps.tolist() == recorded


def test_rows_spread_and_keep_the_last():
    assert rows_to_measure(5) == [0, 1, 2, 3, 4]
    rows = rows_to_measure(500)
    assert len(rows) <= 121 and rows[0] == 0 and rows[-1] == 499
    assert too_big(300_000, 16_000) and not too_big(400, 160)


def measured_view(page, values):
    """Train ``values`` to the end, then ask the view until every row is measured: its updates."""
    status, data = press(page, ids.TRAIN, config_for(page, values), speed="fast")
    up = updates(data)
    run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
    stream, _, _ = follow(page, run, cursor, timeout=60)
    assert stream["done"]
    run = dict(run, running=False)
    for _ in range(30):  # a few rows per request until every row is measured
        out = curvature(page, run)
        if out[ids.INTERVAL_CURVATURE]["disabled"]:
            break
    assert out[ids.INTERVAL_CURVATURE]["disabled"]
    return out


def test_curvature_view_measures_the_stored_path_with_its_stability_line(page):
    out = measured_view(page, EOS)
    fig = out[ids.GRAPH_SHARPNESS]["figure"]
    by_name = {t["name"]: t for t in fig["data"]}
    lam = by_name[RAW]
    edge = next(t for n, t in by_name.items() if n.startswith("stability line 2/η"))
    assert edge["y"] == [20.0, 20.0] and edge["yaxis"] == lam["yaxis"] == "y2" and "for λmax(H)" in hover_name(edge)
    assert hover_name(lam) == "λmax(H) (sharpness)" and "< 0: curving down" in hover_name(by_name[LAMBDA_MIN])
    assert lam["x"][-1] == 400 and len(lam["x"]) >= 50 and PRE not in by_name  # SGD: no preconditioner
    # The numbers are the engine's: λmax at the last row equals lossviz.sharpness on the final weights
    tr = lossviz.Trainer(lossviz.RunConfig.from_dict(config_for(page, EOS)))
    tr.advance(400)
    assert math.isclose(lam["y"][-1], sharpness(tr), rel_tol=1e-5)
    assert max(lam["y"]) >= 0.9 * 20  # this run reaches the edge of stability
    note = out[ids.CURVATURE_NOTE]["children"]
    assert "The sharpness λmax(H)" in note and "stability line" in note
    assert all(v <= l + 1e-9 for v, l in zip(by_name[LAMBDA_MIN]["y"], lam["y"]))


def test_adam_is_drawn_against_its_line_in_preconditioned_sharpness(page):
    """Full-batch Adam: λmax(P⁻¹H), P from Adam's state at each row (retraced), against 38/η on its
    own row; λmax(H) far below that line on the Hessian's row; the note names both."""
    out = measured_view(page, ADAM)
    fig = out[ids.GRAPH_SHARPNESS]["figure"]
    by_name = {t["name"]: t for t in fig["data"]}
    pre, raw = by_name[PRE], by_name[RAW]
    edge = next(t for n, t in by_name.items() if n.startswith("stability line (2+2β₁)/((1−β₁)η)"))
    assert edge["y"] == pytest.approx([3800, 3800]) and "for λmax(P⁻¹H)" in hover_name(edge)
    assert edge["yaxis"] == pre["yaxis"] == "y4" and raw["yaxis"] == "y2"
    assert fig["layout"]["yaxis4"]["title"]["text"] == "λmax<br>(P⁻¹H)"
    assert pre["y"][0] is None and pre["x"] == raw["x"]  # no state before the first step
    tr = lossviz.Trainer(lossviz.RunConfig.from_dict(config_for(page, ADAM)))
    tr.advance(400)
    assert math.isclose(pre["y"][-1], sharpness(tr, preconditioned=True), rel_tol=1e-5)
    assert math.isclose(raw["y"][-1], sharpness(tr), rel_tol=1e-5)
    assert max(v for v in pre["y"] if v is not None) >= 0.9 * 3800 and max(raw["y"]) < 0.05 * 3800
    note = out[ids.CURVATURE_NOTE]["children"]
    assert note.startswith("The preconditioned sharpness λmax(P⁻¹H) ") and "λmax(H), the Hessian's own sharpness, " in note


def small_adam_view(epochs=60):
    state = new_run(lossviz.RunConfig(dataset="moons", n_samples=80, hidden=(6,), optimizer="adam", epochs=epochs))
    state.trainer.advance(epochs)
    view = RunView.of_state(state)
    steps = path_steps(state.trainer.total_steps, view.net.n_params, len(view.trajectory), view.step_count)
    return state.trainer, view, steps


def test_the_retracer_gives_each_row_the_optimizers_state_there(monkeypatch):
    tr, view, steps = small_adam_view()
    whole, _ = cv.extend({}, view, steps, budget_s=60)
    assert len(whole) == len(view.trajectory) == 61 and math.isnan(whole["0"][4])
    for r in (1, 30, 60):  # each row's λmax(P⁻¹H) is the one a trainer stopped at that step measures
        t = lossviz.Trainer(tr.config)
        t.advance(r)
        assert math.isclose(whole[str(r)][4], sharpness(t, preconditioned=True), rel_tol=1e-5)
    # Measured a little per request, the retracer's state carried between them: the same numbers
    monkeypatch.setattr(cv, "RETRACE_CHUNK", 3)
    series, retrace = {}, None
    for _ in range(200):
        series, retrace = cv.extend(series, view, steps, budget_s=0.0, retrace=retrace)
        if len(series) == len(whole):
            break
    assert series.keys() == whole.keys()
    np.testing.assert_allclose([series[k] for k in whole], [whole[k] for k in whole], rtol=1e-6)


def test_a_row_the_retrace_does_not_reproduce_gets_no_preconditioned_sharpness():
    tr, view, steps = small_adam_view(20)
    moved = view.trajectory.copy()
    moved[10:] += 1e-3  # not the path this config trains: its optimizer state is unknown there
    series, _ = cv.extend({}, RunView(view.run_id, view.version, view.config, view.data, view.net, view.params,
                                      moved), steps, budget_s=60)
    assert all(math.isfinite(series[str(r)][4]) for r in range(1, 10))
    assert all(math.isnan(series[str(r)][4]) and math.isfinite(series[str(r)][1]) for r in range(10, 21))


def test_figure_and_summary_are_pure():
    runs = [{"label": "", "loss_steps": [0, 10, 20], "loss": [1.0, 0.5, 0.04], "steps": [0, 10, 20],
             "lambda_max": [5.0, 24.0, 18.91], "lambda_min": [-0.1, 0.0, 0.0], "trace": [9.0, 30.0, 31.0],
             "lambda_pre": [None] * 3, "preconditioned": False, "edge": 20.0,
             "edge_label": "stability line 2/η = 20, for λmax(H)"}]
    fig = sharpness_figure(runs)
    assert [t["name"] for t in fig["data"]][:3] == ["train loss", RAW, LAMBDA_MIN]
    assert "yaxis4" not in fig["layout"] and np.isfinite(fig["data"][1]["y"]).all()
    text = summary(runs)
    # now and the peak, each with its own share of the line (18.91 is 95% of 20; the peak 24 is 120%)
    assert "λmax(H) 18.91 now (95% of its stability line 20); at most 24 (120% of the line), at the edge of " \
           "stability." in text
    assert "λmin(H) ≥ 0 now" in text and "not the bowl's bottom" in text and "minimum's bowl" not in text
    runs[0]["lambda_max"], runs[0]["lambda_min"] = [5.0, 6.0, 6.0], [-0.1, 0.0, -0.5]
    text = summary(runs)
    assert "edge of stability" not in text and "30% of its stability line" in text
    assert "λmin(H) < 0 now: along some direction the loss curves downward here" in text
    assert "not a saddle point: the gradient here need not be zero" in text


def test_adaptive_runs_get_a_row_for_the_preconditioned_sharpness_and_say_which_is_which():
    sgd = {"label": "A (SGD)", "loss_steps": [0, 10], "loss": [1.0, 0.5], "steps": [0, 10], "lambda_max": [5.0, 19.0],
           "lambda_min": [-0.1, 0.0], "trace": [9.0, 30.0], "lambda_pre": [None, None], "preconditioned": False,
           "edge": 20.0, "edge_label": "stability line 2/η = 20, for λmax(H)"}
    adam = dict(sgd, label="B (Adam)", lambda_max=[1.0, 2.0], lambda_pre=[None, 3700.0], preconditioned=True,
                edge=3800.0, edge_label="stability line (2+2β₁)/((1−β₁)η) = 3800, for λmax(P⁻¹H)")
    fig = sharpness_figure([sgd, adam])
    axis_of = {hover_name(t): t["yaxis"] for t in fig["data"]}
    assert axis_of["A (SGD): stability line 2/η = 20, for λmax(H)"] == axis_of[f"A (SGD): {RAW} (sharpness)"] == "y2"
    assert axis_of[f"B (Adam): {PRE} (preconditioned sharpness)"] == axis_of[f"B (Adam): {adam['edge_label']}"] == "y4"
    assert f"A (SGD): {PRE} (preconditioned sharpness)" not in axis_of and axis_of[f"B (Adam): {RAW} (sharpness)"] == "y2"
    # The legend: colour says the measure, the dash the run (the title says which): A's entries,
    # and B's that A has none of (its preconditioned sharpness, its own stability line), short
    assert [t["name"] for t in fig["data"] if t["showlegend"]] == [
        "train loss", RAW, LAMBDA_MIN, "stability line 2/η = 20", "tr(H)", PRE,
        "B (Adam): stability line (2+2β₁)/((1−β₁)η) = 3800"]
    assert fig["layout"]["title"]["text"].endswith("A solid, B dashed")
    domains = [fig["layout"][a]["domain"] for a in ("yaxis", "yaxis4", "yaxis2", "yaxis3")]
    assert all(hi <= lo for (lo, _), (_, hi) in zip(domains, domains[1:]))  # stacked, top to bottom
    text = summary([sgd, adam])
    assert text.startswith("A (SGD): the sharpness λmax(H) 19 now (95% of its stability line 20)")
    assert "B (Adam): the preconditioned sharpness λmax(P⁻¹H) 3700 now (97% of its stability line 3800)" in text
    assert "λmax(H), the Hessian's own sharpness, 2 now, 0.053% of that line" in text
    assert cv.threshold_words(lossviz.RunConfig(optimizer="rmsprop", lr=0.01)) == \
        (200.0, "stability line 2/η = 200, for λmax(P⁻¹H)")
    assert "not measured yet" in summary([dict(adam, lambda_pre=[None, None])])


@pytest.mark.parametrize("low, high, expected", [
    (0.026, 0.27, [0.03, 0.1]), (0.004, 0.9, [0.01, 0.1]), (1e-5, 3.0, [1e-5, 1e-3, 0.1]),
    (1e-12, 5.0, [1e-12, 1e-7, 0.01]), (0.15, 0.27, [0.15, 0.2]), (0.31, 0.34, None),
    (0.27, 0.72, [0.3, 0.5])])  # not 0.3, 0.5, 0.7: 0.5 and 0.7 bunched up at 18 px
def test_the_loss_axis_shows_decades_with_whole_labels(low, high, expected):
    """Plotly's own minor labels on a log axis read "5, 2, 0.1, 5, 2": the loss axis gets explicit
    ticks, decades when two or more fit (every k-th), else 1-3 or 1-2-5 steps, each
    labelled in full. At most three: the loss row is ~80 px high, and 18 px labels (presentation
    mode) crowded it at six."""
    loss = list(np.geomspace(high, low, 30)) + [None, math.nan]
    runs = [{"label": "", "loss_steps": list(range(32)), "loss": loss, "steps": [0], "lambda_max": [1.0],
             "lambda_min": [0.0], "trace": [1.0], "lambda_pre": [None], "preconditioned": False, "edge": 20.0,
             "edge_label": "stability line"}]
    axis = sharpness_figure(runs)["layout"]["yaxis"]
    assert axis["type"] == "log" and axis["tickmode"] == "array"
    assert all(low <= v <= high for v in axis["tickvals"]) and 2 <= len(axis["tickvals"]) <= 3
    if expected is not None:
        assert axis["tickvals"] == pytest.approx(expected)
    assert axis["ticktext"] == [f"{v:g}" for v in axis["tickvals"]]
    assert len(set(axis["ticktext"])) == len(axis["ticktext"])  # no label repeats: none is ambiguous
    assert log_ticks([None, math.nan, -1.0]) == {}
