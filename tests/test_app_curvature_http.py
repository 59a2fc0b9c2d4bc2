"""The Curvature view over HTTP: λmax, λmin and the trace along the stored path, measured a few
rows per request and cached, beside the loss, with the stability line 2/η; and its pure parts."""
from __future__ import annotations

import math

import numpy as np

import lossviz
from app import ids
from lossviz.sharpness import sharpness
from app.panels.curvature import path_steps, rows_to_measure, sharpness_figure, summary, too_big
from app.runs import TRAJECTORY_BYTES
from dash_client import app, config_for, follow, page, press, updates  # noqa: F401

EOS = {(ids.DATASET, "value"): "sine", (ids.SAMPLES, "value"): "200", (ids.LOSS, "value"): "mse",
       (ids.OPTIMIZER, "value"): "sgd", (ids.LR, "value"): "0.1", (ids.EPOCHS, "value"): "400",
       (ids.BATCH, "value"): "0"}


def curvature(page, run, trigger=ids.INTERVAL_CURVATURE):
    dep = page.find(ids.GRAPH_SHARPNESS, "figure")
    status, data = page.call(dep, {(ids.STORE_RUN, "data"): run, (ids.PAGE_VIEW, "value"): "curvature",
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


def test_curvature_view_measures_the_stored_path_with_its_stability_line(page):
    status, data = press(page, ids.TRAIN, config_for(page, EOS), speed="fast")
    up = updates(data)
    run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
    stream, _, _ = follow(page, run, cursor, timeout=60)
    assert stream["done"]
    run = dict(run, running=False)
    for _ in range(20):  # a few rows per request until every row is measured
        out = curvature(page, run)
        if out[ids.INTERVAL_CURVATURE]["disabled"]:
            break
    assert out[ids.INTERVAL_CURVATURE]["disabled"]
    fig = out[ids.GRAPH_SHARPNESS]["figure"]
    by_name = {t["name"]: t for t in fig["data"]}
    lam = by_name["λmax (sharpness)"]
    edge = next(t for n, t in by_name.items() if n.startswith("stability line 2/η"))
    assert edge["y"] == [20.0, 20.0] and lam["x"][-1] == 400 and len(lam["x"]) >= 50
    # The numbers are the engine's: λmax at the last row equals lossviz.sharpness on the final weights
    tr = lossviz.Trainer(lossviz.RunConfig.from_dict(config_for(page, EOS)))
    tr.advance(400)
    assert math.isclose(lam["y"][-1], sharpness(tr), rel_tol=1e-5)
    assert max(lam["y"]) >= 0.9 * 20  # this run reaches the edge of stability
    assert "stability line" in out[ids.CURVATURE_NOTE]["children"]
    assert all(v <= l + 1e-9 for v, l in zip(by_name["λmin (< 0: a saddle direction)"]["y"], lam["y"]))


def test_figure_and_summary_are_pure():
    runs = [{"label": "", "loss_steps": [0, 10], "loss": [1.0, 0.5], "steps": [0, 10], "lambda_max": [5.0, 19.0],
             "lambda_min": [-0.1, 0.0], "trace": [9.0, 30.0], "edge": 20.0, "edge_label": "stability line 2/η = 20"}]
    fig = sharpness_figure(runs)
    assert [t["name"] for t in fig["data"]][:3] == ["train loss", "λmax (sharpness)", "λmin (< 0: a saddle direction)"]
    assert "95% of its stability line" in summary(runs) and "edge of stability" in summary(runs)
    runs[0]["lambda_max"] = [5.0, 6.0]
    assert "edge of stability" not in summary(runs)
    assert np.isfinite(fig["data"][1]["y"]).all()
