"""Tests for app.views.figures, landscape_figures and data_figures: pure builders from arrays to
plain-dict figures (traces, axes, scales, text).

Plotly itself is the reference: its validators accept every figure, its "plotly_white" template
and its make_subplots layout are what the dicts copy.
"""
import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.utils
import pytest
from plotly.colors import get_colorscale
from plotly.subplots import make_subplots

from app.views import data_figures, figures, landscape_figures

ALPHAS = np.array([-1.0, 0.0, 1.0])
BETAS = np.array([-2.0, -1.0, 1.0, 2.0])
# z[i, j] is the loss at (alphas[i], betas[j]); distinct values so a wrong transpose shows.
Z = np.array([[1.0, 2.0, 3.0, 4.0],
              [10.0, 20.0, 30.0, 40.0],
              [100.0, 200.0, 300.0, 400.0]])
PATH = np.array([[0.9, 1.8], [0.5, 0.7], [0.1, -0.2], [0.0, 0.0]])
PATH_LOSS = np.array([5.0, 3.0, 2.0, 1.0])
HISTORY = {"step": [0, 10, 20, 30, 40],
           "train_loss": [0.7, 0.5, 0.4, 0.3, 0.2],
           "test_loss": [0.72, 0.55, 0.45, 0.36, 0.3],
           "train_metric": [0.5, 0.7, 0.8, 0.9, 0.95],
           "test_metric": [0.48, 0.66, 0.79, 0.85, 0.9]}
VIRIDIS = get_colorscale("Viridis")


def _points(k=2, n=12, seed=0):
    rng = np.random.default_rng(seed)
    return {"X_train": rng.normal(size=(n, 2)), "y_train": np.arange(n) % k,
            "X_test": rng.normal(size=(n // 2, 2)), "y_test": np.arange(n // 2) % k}


def _scale(trace):
    """A trace's colour scale as a list of [position, colour] (names resolved)."""
    return [list(step) for step in trace["colorscale"]]


def _is_viridis(trace):
    scale = _scale(trace)
    return ([c for _, c in scale] == [c for _, c in VIRIDIS]
            and np.allclose([p for p, _ in scale], [p for p, _ in VIRIDIS]))


# --- contour --------------------------------------------------------------------------------

def test_contour_traces_and_axis_titles():
    fig = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    kinds = [t["type"] for t in fig["data"]]
    assert kinds[0] == "contour"
    assert kinds.count("scatter") >= 1
    layout = fig["layout"]
    assert layout["xaxis"]["title"]["text"] == "α (direction 1)"
    assert layout["yaxis"]["title"]["text"] == "β (direction 2)"
    assert list(layout["xaxis"]["range"]) == [-1.0, 1.0]
    assert list(layout["yaxis"]["range"]) == [-2.0, 2.0]


def test_contour_z_is_transposed_so_rows_are_beta():
    fig = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    c = fig["data"][0]
    assert list(c["x"]) == ALPHAS.tolist() and list(c["y"]) == BETAS.tolist()
    zz = np.array(c["z"])
    assert zz.shape == (len(BETAS), len(ALPHAS))
    for i, _ in enumerate(ALPHAS):
        for j, _ in enumerate(BETAS):
            assert zz[j][i] == Z[i, j]


def test_contour_uses_viridis():
    assert _is_viridis(landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)["data"][0])


def test_contour_log_z_is_log10_of_loss():
    c = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH, log_z=True)["data"][0]
    np.testing.assert_allclose(np.array(c["z"]), np.log10(Z).T, rtol=1e-12)
    assert "log" in c["colorbar"]["title"]["text"]


def test_contour_log_z_of_zero_loss_is_finite():
    z = Z.copy()
    z[1, 1] = 0.0
    c = landscape_figures.contour_figure(ALPHAS, BETAS, z, PATH, log_z=True)["data"][0]
    assert np.all(np.isfinite(np.array(c["z"], dtype=float)))


def test_contour_path_and_current_point():
    fig = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    scatters = [t for t in fig["data"] if t["type"] == "scatter"]
    longest = max(scatters, key=lambda t: len(t["x"]))
    assert list(longest["x"]) == PATH[:, 0].tolist() and list(longest["y"]) == PATH[:, 1].tolist()
    # The current point (a single marker) is the path's last row.
    singles = [t for t in scatters if len(t["x"]) == 1]
    assert singles and (singles[0]["x"][0], singles[0]["y"][0]) == tuple(PATH[-1])


def test_contour_with_empty_path_still_builds():
    fig = landscape_figures.contour_figure(ALPHAS, BETAS, Z, np.zeros((0, 2)))
    assert fig["data"][0]["type"] == "contour"
    assert fig["data"][1]["x"] == [] and fig["data"][2]["x"] == [0.0]


# --- 3-D surface ----------------------------------------------------------------------------

def test_surface3d_traces_scale_and_transpose():
    fig = landscape_figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS)
    s, p = fig["data"][0], fig["data"][1]
    assert s["type"] == "surface" and p["type"] == "scatter3d"
    assert _is_viridis(s)
    np.testing.assert_array_equal(np.array(s["z"]), Z.T)
    assert list(p["x"]) == PATH[:, 0].tolist() and list(p["y"]) == PATH[:, 1].tolist()
    assert list(p["z"]) == PATH_LOSS.tolist()


def test_surface3d_log_z_transforms_surface_and_path():
    fig = landscape_figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS, log_z=True)
    np.testing.assert_allclose(np.array(fig["data"][0]["z"]), np.log10(Z).T, rtol=1e-12)
    np.testing.assert_allclose(np.array(fig["data"][1]["z"]), np.log10(PATH_LOSS), rtol=1e-12)
    assert "log" in fig["layout"]["scene"]["zaxis"]["title"]["text"]


def test_surface3d_axis_titles_have_units():
    # The issue asks for axis titles with units ("α (direction 1)") on the surface plots.
    scene = landscape_figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS)["layout"]["scene"]
    assert scene["xaxis"]["title"]["text"] == "α (direction 1)"
    assert scene["yaxis"]["title"]["text"] == "β (direction 2)"


def test_placeholder_3d_is_a_surface():
    assert landscape_figures.placeholder_3d()["data"][0]["type"] == "surface"


# --- curves ---------------------------------------------------------------------------------

def test_curves_traces_say_train_and_test():
    fig = figures.curves_figure(HISTORY, "accuracy")
    assert len(fig["data"]) == 4 and all(t["type"] == "scatter" for t in fig["data"])
    names = [t["name"] for t in fig["data"]]
    # Order used by streaming: 0 train loss, 1 test loss, 2 train metric, 3 test metric.
    assert "train" in names[0] and "loss" in names[0]
    assert "test" in names[1] and "loss" in names[1]
    assert "train" in names[2] and "accuracy" in names[2]
    assert "test" in names[3] and "accuracy" in names[3]
    for t, key in zip(fig["data"], ("train_loss", "test_loss", "train_metric", "test_metric")):
        assert list(t["x"]) == HISTORY["step"] and list(t["y"]) == HISTORY[key]
    assert fig["data"][0]["line"]["color"] != fig["data"][1]["line"]["color"]
    assert fig["layout"]["yaxis2"]["title"]["text"] == "accuracy"


def test_curves_data_are_python_lists_for_extend_data():
    data = figures.curves_figure(HISTORY, "R²")["data"]
    for t in data:
        assert type(t["x"]) is list and type(t["y"]) is list


def test_curves_empty_history_builds_four_empty_traces():
    data = figures.curves_figure({}, "accuracy")["data"]
    assert len(data) == 4
    assert all(type(t["x"]) is list and t["x"] == [] for t in data)


def test_curves_log_loss_axis():
    assert figures.curves_figure(HISTORY, "accuracy", log_loss=True)["layout"]["yaxis"]["type"] == "log"
    assert figures.curves_figure(HISTORY, "accuracy")["layout"]["yaxis"]["type"] == "linear"


@pytest.mark.parametrize("start", [0, 2, 5])
def test_stream_points_sends_only_new_points(start):
    out = figures.stream_points(HISTORY, start)
    assert out["x"] == [HISTORY["step"][start:]] * 4
    assert out["y"] == [HISTORY[k][start:] for k in ("train_loss", "test_loss", "train_metric", "test_metric")]
    assert all(type(v) is list for v in out["x"] + out["y"])


# --- data views -----------------------------------------------------------------------------

def _regions(k, seed=0):
    rng = np.random.default_rng(seed)
    xx, yy = np.linspace(-2, 2, 7), np.linspace(-1, 1, 5)
    logits = rng.normal(size=(len(yy), len(xx), k))
    prob = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return xx, yy, prob


@pytest.mark.parametrize("k", [2, 3, 10])
def test_classification_figure_heatmap_and_valid_colourscale(k):
    xx, yy, prob = _regions(k)
    fig = data_figures.classification_figure(xx, yy, prob, _points(k))
    h = fig["data"][0]
    assert h["type"] == "heatmap"
    assert all(t["type"] == "scatter" for t in fig["data"][1:])
    pos = [s[0] for s in h["colorscale"]]
    assert pos[0] == 0 and pos[-1] == 1
    assert all(a < b for a, b in zip(pos, pos[1:]))
    # Each cell's value lies in its predicted class's band [c, c+1) of zmin=0 .. zmax=k.
    z = np.array(h["z"])
    assert z.shape == (len(yy), len(xx))
    np.testing.assert_array_equal(np.floor(z), prob.argmax(-1))
    assert (h["zmin"], h["zmax"]) == (0, k)
    assert list(h["x"]) == xx.tolist() and list(h["y"]) == yy.tolist()


def test_classification_figure_points_cover_every_class_and_split():
    k = 3
    pts = _points(k)
    fig = data_figures.classification_figure(*_regions(k), pts)
    scat = fig["data"][1:]
    n_train = sum(len(t["x"]) for t in scat if "train" in t["name"])
    n_test = sum(len(t["x"]) for t in scat if "test" in t["name"])
    assert n_train == len(pts["y_train"]) and n_test == len(pts["y_test"])


@pytest.mark.parametrize("k, entries", [
    (2, ["class 0 (train)", "class 1 (train)", "class 0 (test)", "class 1 (test)"]),
    (10, ["train (colour: class)", "test (colour: class)"]),
])
def test_classification_legend_is_compact_for_many_classes(k, entries):
    # Up to 3 classes: an entry per class and split; more: one entry per split.
    fig = data_figures.classification_figure(*_regions(k), _points(k, n=40))
    shown = [t["name"] for t in fig["data"][1:] if t["showlegend"]]
    assert shown == entries
    assert all(t["legendgroup"] in t["name"] for t in fig["data"][1:])


def test_projected_classes_figure_axes_and_points():
    pts = _points(3)
    pred_tr, pred_te = np.zeros(len(pts["y_train"]), int), np.ones(len(pts["y_test"]), int)
    fig = data_figures.projected_classes_figure(pts, pred_tr, pred_te, 3)
    assert all(t["type"] == "scatter" for t in fig["data"])
    assert sum(len(t["x"]) for t in fig["data"]) == len(pred_tr) + len(pred_te)
    assert "component 1" in fig["layout"]["xaxis"]["title"]["text"]


def test_regression_curve_figure():
    pts = {"X_train": np.array([[0.0], [1.0]]), "y_train": np.array([0.0, 1.0]),
           "X_test": np.array([[0.5]]), "y_test": np.array([0.4])}
    fig = data_figures.regression_curve_figure(np.linspace(0, 1, 5), np.linspace(0, 1, 5) ** 2, pts)
    names = [t["name"] for t in fig["data"]]
    assert any("train" in n for n in names) and any("test" in n for n in names)
    line = [t for t in fig["data"] if t["mode"] == "lines"]
    assert len(line) == 1 and list(line[0]["y"]) == (np.linspace(0, 1, 5) ** 2).tolist()
    # regression_curve_updates patches that same trace.
    assert fig["data"][2] is line[0]


def test_predicted_vs_actual_figure_has_diagonal_over_all_targets():
    pts = {"X_train": np.zeros((3, 4)), "y_train": np.array([-1.0, 0.0, 2.0]),
           "X_test": np.zeros((2, 4)), "y_test": np.array([-3.0, 1.0])}
    fig = data_figures.predicted_vs_actual_figure(pts, np.array([0.1, 0.2, 0.3]), np.array([0.4, 0.5]))
    diag = [t for t in fig["data"] if t["mode"] == "lines"]
    assert len(diag) == 1
    assert list(diag[0]["x"]) == [-3.0, 2.0] and list(diag[0]["y"]) == [-3.0, 2.0]
    names = [t["name"] for t in fig["data"]]
    assert "train" in names and "test" in names


def test_message_figure_shows_text():
    fig = figures.message_figure("press Train to start", "Data")
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["press Train to start"]
    assert fig["layout"]["title"]["text"] == "Data"
    assert not fig["data"]


# --- every builder: plain, valid, light, independent -----------------------------------------

_REG = {"X_train": np.array([[0.0], [1.0]]), "y_train": np.array([0.0, 1.0]),
        "X_test": np.array([[0.5]]), "y_test": np.array([0.4])}
BUILDERS = {
    "contour": lambda: landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH),
    "contour_log": lambda: landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH, log_z=True),
    "surface3d": lambda: landscape_figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS),
    "placeholder_3d": landscape_figures.placeholder_3d,
    "curves": lambda: figures.curves_figure(HISTORY, "accuracy"),
    "curves_empty_log": lambda: figures.curves_figure({}, "R²", log_loss=True),
    "classification": lambda: data_figures.classification_figure(*_regions(2), _points(2)),
    "classification_10": lambda: data_figures.classification_figure(*_regions(10), _points(10, n=40)),
    "projected": lambda: data_figures.projected_classes_figure(_points(3), np.arange(12) % 3, np.zeros(6, int), 3),
    "regression_curve": lambda: data_figures.regression_curve_figure(np.linspace(0, 1, 5), np.linspace(0, 1, 5), _REG),
    "predicted_vs_actual": lambda: data_figures.predicted_vs_actual_figure(_REG, np.zeros(2), np.ones(1)),
    "message": lambda: figures.message_figure("x"),
    # issue 20: framed plots (DIVERGED and OUTLIERS are defined with their tests below)
    "curves_diverged": lambda: figures.curves_figure({}, "R²", runs=[("a", HISTORY), ("b", DIVERGED)],
                                                     losses=["MSE", "MSE"]),
    "curves_two_losses": lambda: figures.curves_figure({}, "accuracy", runs=[("a", HISTORY), ("b", HISTORY)],
                                                       losses=["cross-entropy", "MSE"], log_loss=True),
    "line_two_losses": lambda: landscape_figures.interpolation_figure(
        np.linspace(0, 1, 3), np.array([[1.0, 2.0, 30.0], [0.1, 0.2, 0.3]]), np.full((2, 3), 0.5), ["A (x)", "B (y)"],
        "R²", losses=["MSE", "Huber"], start=[1.0, 0.1]),
    "regression_outliers": lambda: data_figures.regression_curve_figure(
        np.linspace(-1, 1, 5), np.linspace(-1, 1, 5), OUTLIERS, outliers=np.array([0, 0, 0, 1, 1], bool),
        others=[("B's line", np.zeros(5))]),
    "predicted_off_frame": lambda: data_figures.predicted_vs_actual_figure(_REG, np.array([0.0, 1e6]),
                                                                           np.ones(1)),
    "contour_capped": lambda: landscape_figures.compare_contour_figure(ALPHAS, BETAS, Z, PATH, PATH, title="t",
                                                                       other_label="o", zrange=(1.0, 50.0),
                                                                       clipped=True, exits=[(0.1, 0.1, "leaves")]),
}
builders = pytest.mark.parametrize("build", list(BUILDERS.values()), ids=list(BUILDERS))


@builders
def test_fonts_are_large_enough_for_a_projector(build):
    assert build()["layout"]["font"]["size"] >= 14


def _leaves(node):
    """Every container and leaf of a figure, depth first."""
    yield node
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        yield from _leaves(child)


@builders
def test_figure_is_plain_python_data(build):
    # Plain dicts and lists only (no NumPy arrays or scalars, no tuples): the browser extends
    # some traces with extendData, which fails on typed arrays; and the standard json module
    # encodes the figure without Plotly's encoder.
    fig = build()
    assert type(fig) is dict and set(fig) == {"data", "layout"}
    kinds = {type(v) for v in _leaves(fig)}
    assert kinds <= {dict, list, str, bool, int, float, type(None)}, kinds
    json.dumps(fig, allow_nan=False)


@builders
def test_plotly_validates_the_figure_and_reads_it_unchanged(build):
    # go.Figure checks every property name and value against Plotly's schema (a misspelt key
    # raises), and must read back exactly what the builder wrote.
    fig = build()
    checked = go.Figure(fig).to_plotly_json()
    assert json.loads(json.dumps(checked, cls=plotly.utils.PlotlyJSONEncoder)) == json.loads(json.dumps(fig))


@builders
def test_every_figure_has_the_light_look_and_keeps_zoom(build):
    layout = build()["layout"]
    assert layout["template"] == figures.LIGHT
    assert layout["uirevision"] == "keep"
    assert layout["title"]["x"] == 0.02 and layout["title"]["font"]["size"] == 17


def _assert_within(small, big, where="template"):
    if isinstance(small, dict):
        for key, value in small.items():
            assert key in big, f"{where}.{key}"
            _assert_within(value, big[key], f"{where}.{key}")
    elif isinstance(small, list) and small and isinstance(small[0], dict):
        assert len(small) == len(big), where
        for a, b in zip(small, big):
            _assert_within(a, b, where)
    else:
        assert small == big, (where, small, big)


def test_light_template_is_a_part_of_plotly_white():
    white = pio.templates["plotly_white"].to_plotly_json()
    _assert_within(figures.LIGHT, white)
    # ... and covers what these figures draw: page, axes, 3-D scene, colour bars, hover.
    drawn = {"font", "paper_bgcolor", "plot_bgcolor", "xaxis", "yaxis", "scene", "hovermode"}
    assert drawn <= set(figures.LIGHT["layout"])
    assert {"contour", "surface", "heatmap"} <= set(figures.LIGHT["data"])


def test_curves_axes_are_laid_out_as_make_subplots_does():
    ref_fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.16)
    ref = ref_fig.layout.to_plotly_json()
    layout = figures.curves_figure(HISTORY, "accuracy")["layout"]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        assert {k: layout[axis][k] for k in ref[axis]} == ref[axis], axis
    ref_fig.add_scatter(x=[0], y=[0], row=1, col=1).add_scatter(x=[0], y=[0], row=2, col=1)
    rows = [(t.xaxis, t.yaxis) for t in ref_fig.data]
    data = figures.curves_figure(HISTORY, "accuracy")["data"]
    assert [(t["xaxis"], t["yaxis"]) for t in data] == [rows[0], rows[0], rows[1], rows[1]]


def test_figures_share_no_mutable_parts():
    # A caller may change its figure (drawing sets uirevision): no other figure, and no
    # module constant, may change with it.
    first = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    second = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    before = copy.deepcopy(second)
    first["layout"]["template"]["layout"]["font"]["color"] = "red"
    first["layout"]["template"]["data"]["contour"][0]["colorbar"]["ticks"] = "outside"
    first["layout"]["font"]["size"] = 99
    first["layout"]["margin"]["l"] = 0
    first["data"][0]["colorscale"][0][1] = "red"
    assert second == before == landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)


def test_figures_modules_load_no_dash():
    code = ("import sys, app.views.figures, app.views.landscape_figures, app.views.data_figures; "
            "bad = {'dash', 'flask'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_interpolation_figure_has_each_runs_loss_and_metric():
    ts = np.linspace(-0.25, 1.25, 7)
    loss = np.array([np.linspace(1, 2, 7), np.linspace(3, 1, 7)])
    metric = np.array([np.full(7, 0.9), np.r_[np.full(6, 0.8), np.nan]])
    fig = landscape_figures.interpolation_figure(ts, loss, metric, ["A (x)", "B (y)"], "accuracy")
    data = fig["data"]
    assert [t["name"] for t in data] == ["A", "B"] * 2  # short: the legend fits a small presented plot
    assert "A (x)" in data[0]["hovertemplate"] and "B (y)" in data[3]["hovertemplate"]
    assert data[0]["y"] == loss[0].tolist() and data[1]["y"] == loss[1].tolist()
    assert data[3]["y"][-1] is None and data[2]["y"] == [0.9] * 7
    assert [t["yaxis"] for t in data] == ["y", "y", "y2", "y2"]
    assert fig["layout"]["yaxis2"]["title"]["text"] == "accuracy"
    json.dumps(fig)


def test_compare_curves_name_runs_and_keep_trace_order():
    h = {"step": [0, 1], "train_loss": [1.0, 0.5], "test_loss": [1.1, 0.6], "train_metric": [0.5, 0.7],
         "test_metric": [0.4, 0.6]}
    fig = figures.curves_figure({}, "accuracy", runs=[("Cross-entropy", h), ("MSE", h)])
    data = fig["data"]
    assert len(data) == 8
    assert [t["line"]["dash"] for t in data] == ["solid"] * 4 + ["dash"] * 4
    assert [t["name"] for t in data if t["showlegend"]] == ["A: Cross-entropy", "B: MSE"]
    assert data[4]["y"] == h["train_loss"] and data[7]["y"] == h["test_metric"]


# --- what a plot frames: diverged runs, two losses, outliers (issue 20) --------------------------

DIVERGED = {"step": [0, 1, 2, 3, 4], "train_loss": [2.0, 1.0, 50.0, 5e5, 2e7], "test_loss": [2.1, 1.1, 60.0, 6e5, 3e7],
            "train_metric": [-1.5, 0.2, -30.0, -3e5, -1.9e7], "test_metric": [-1.6, 0.1, -35.0, -4e5, -2e7]}


def _notes(fig, name_part=""):
    return [a for a in fig["layout"].get("annotations", []) if name_part in a.get("name", "")]


def test_curves_stop_at_ten_times_the_start_loss_and_say_so_when_passed():
    fig = figures.curves_figure({}, "R²", runs=[("0.1", HISTORY), ("0.7", DIVERGED)], losses=["MSE", "MSE"])
    layout = fig["layout"]
    # One loss axis: its ceiling is 10x the larger start (2.0), never the 2e7 that B reached.
    assert layout["yaxis"]["autorangeoptions"] == {"clipmin": 1e-300, "clipmax": 20.0}
    assert layout["yaxis2"]["autorangeoptions"] == {"clipmin": -1.0, "clipmax": 1.0}
    (loss_note,), (r2_note,) = _notes(fig, "yaxis max"), _notes(fig, "yaxis2 min")
    # a few words on the plot, the bound when the pointer is on them
    assert loss_note["opacity"] == 1 and "off the chart" in loss_note["text"] and "10×" in loss_note["hovertext"]
    assert r2_note["opacity"] == 1 and "R² below -1" in r2_note["hovertext"]
    # The page shows a note by its name once streamed points pass its bound (assets/lossviz.js).
    assert loss_note["name"] == "offchart yaxis max" and r2_note["name"] == "offchart yaxis2 min"


def test_curves_that_stay_in_the_chart_keep_their_notes_transparent():
    fig = figures.curves_figure(HISTORY, "accuracy")
    assert [n["opacity"] for n in _notes(fig, "offchart")] == [0]  # accuracy is never off the chart
    assert fig["layout"]["yaxis"]["autorangeoptions"]["clipmax"] == pytest.approx(7.0)
    assert fig["layout"]["yaxis2"]["autorangeoptions"] == {"clipmin": 0.0, "clipmax": 1.0}


def test_curves_of_two_losses_put_the_shared_measure_on_top_and_each_loss_on_its_own_axis():
    other = dict(HISTORY, train_loss=[0.3, 0.2, 0.1, 0.05, 0.03], test_loss=[0.3, 0.2, 0.1, 0.06, 0.04])
    fig = figures.curves_figure({}, "accuracy", runs=[("Cross-entropy", HISTORY), ("Mean squared error", other)],
                                losses=["cross-entropy", "MSE"])
    layout, data = fig["layout"], fig["data"]
    # Trace order for streaming is unchanged: run i's traces 4i..4i+3 (losses, then metrics).
    assert [(t["xaxis"], t["yaxis"]) for t in data] == [("x", "y")] * 2 + [("x2", "y2")] * 2 + \
        [("x3", "y3")] * 2 + [("x2", "y2")] * 2
    assert layout["yaxis2"]["domain"][0] > layout["yaxis"]["domain"][1] == layout["yaxis3"]["domain"][1]
    assert layout["xaxis"]["domain"][1] < layout["xaxis3"]["domain"][0] and layout["yaxis3"]["side"] == "right"
    assert layout["yaxis2"]["title"]["text"] == "accuracy"
    # Each loss plot is named short enough for compare mode's narrow halves at 18 px; which loss
    # it is, its hover says, and so do its curves' names.
    titles = [a for a in layout["annotations"] if "name" not in a]
    assert [a["text"] for a in titles] == ["A's loss", "B's loss"]
    assert [a["hovertext"] for a in titles] == ["A's loss: cross-entropy", "B's loss: MSE"]
    assert [t["name"] for t in data if t["yaxis"] in ("y", "y3")] == ["A's cross-entropy"] * 2 + ["B's MSE"] * 2
    assert [t["name"] for t in data if t["showlegend"]] == ["A", "B"]
    # Each loss axis has its own ceiling, from its own run's start.
    assert layout["yaxis"]["autorangeoptions"]["clipmax"] == pytest.approx(7.0)
    assert layout["yaxis3"]["autorangeoptions"]["clipmax"] == pytest.approx(3.0)
    assert set(figures.LOSS_AXES) <= set(layout)  # what the log-scale switch sets
    # One loss: one loss axis, as before.
    same = figures.curves_figure({}, "accuracy", runs=[("a", HISTORY), ("b", other)], losses=["MSE", "MSE"])
    assert "yaxis3" not in same["layout"] and {t["yaxis"] for t in same["data"]} == {"y", "y2"}


def test_log_loss_applies_to_both_loss_axes():
    fig = figures.curves_figure({}, "R²", log_loss=True, runs=[("a", HISTORY), ("b", HISTORY)], losses=["MSE", "Huber"])
    assert fig["layout"]["yaxis"]["type"] == fig["layout"]["yaxis3"]["type"] == "log"


def test_the_line_between_a_and_a_diverged_b_is_clipped_and_says_how_far_it_goes():
    ts = np.linspace(-0.25, 1.25, 7)
    loss = np.array([[1.0, 0.5, 3.0, 1e3, 1e5, 7.5e6, 1e7]] * 2)
    metric = np.array([[0.0, 0.5, -2.0, -1e3, -1e5, -7e6, -1e7]] * 2)
    fig = landscape_figures.interpolation_figure(ts, loss, metric, ["A (0.1)", "B (0.26)"], "R²", losses=["MSE", "MSE"],
                                       start=[2.0, 2.0])
    layout = fig["layout"]
    assert layout["yaxis"]["autorangeoptions"] == {"clipmin": 1e-300, "clipmax": 20.0}
    assert layout["yaxis2"]["autorangeoptions"] == {"clipmin": -1.0, "clipmax": 1.0}
    notes = _notes(fig, "offchart")  # a few words on the plot, how far when the pointer is on them
    assert all("off" in n["text"] and "chart" in n["text"] for n in notes) and len(notes) == 2
    details = [n["hovertext"] for n in notes]
    assert any("1e+07" in t and "10×" in t for t in details) and any("R² below -1" in t for t in details)
    calm = landscape_figures.interpolation_figure(ts, np.ones((2, 7)), np.zeros((2, 7)), ["A", "B"], "accuracy",
                                                  start=[2.0, 2.0])
    assert not _notes(calm, "offchart")
    assert calm["layout"]["yaxis2"]["autorangeoptions"] == {"clipmin": 0.0, "clipmax": 1.0}


def test_the_line_between_two_losses_gives_each_its_own_axis():
    ts = np.linspace(-0.25, 1.25, 7)
    fig = landscape_figures.interpolation_figure(ts, np.array([np.linspace(1, 2, 7), np.linspace(0.3, 0.1, 7)]),
                                       np.full((2, 7), 0.9), ["A (Cross-entropy)", "B (Mean squared error)"],
                                       "accuracy", losses=["cross-entropy", "MSE"], start=[0.7, 0.25])
    assert [t["yaxis"] for t in fig["data"]] == ["y", "y3", "y2", "y2"]
    assert [t["name"] for t in fig["data"] if t["showlegend"]] == ["A", "B"]
    assert "A's loss" in [a["text"] for a in fig["layout"]["annotations"]]
    assert [t["name"] for t in fig["data"] if t["yaxis"] in ("y", "y3")] == ["A's cross-entropy", "B's MSE"]
    assert fig["layout"]["yaxis3"]["autorangeoptions"]["clipmax"] == pytest.approx(2.5)


def test_short_rows_colour_bars_and_alpha_axes_ask_for_few_ticks():
    # Compare mode under a long lesson at 1366x768 leaves a plot ~245 px high: a row of the
    # curves or the A-B line is ~60 px (~50 px for a loss row of two losses), a contour's colour
    # bar ~80 px, its α axis ~170 px wide; plotly.js's own choice (at least 5 labels) ran their
    # labels together. Presentation mode may lower these further, never raise them.
    ts, other = np.linspace(-0.25, 1.25, 7), dict(HISTORY, train_loss=[0.3, 0.2, 0.1, 0.05, 0.03])
    two = [("a", HISTORY), ("b", other)]
    figs = [figures.curves_figure(HISTORY, "accuracy"), figures.curves_figure({}, "accuracy", runs=two),
            landscape_figures.interpolation_figure(ts, np.ones((2, 7)), np.ones((2, 7)), ["A", "B"], "accuracy")]
    for fig in figs:
        assert [fig["layout"][k]["nticks"] for k in ("yaxis", "yaxis2")] == [3, 3]
    split = [figures.curves_figure({}, "accuracy", runs=two, losses=["cross-entropy", "MSE"]),
             landscape_figures.interpolation_figure(ts, np.ones((2, 7)), np.ones((2, 7)), ["A", "B"], "accuracy",
                                                    losses=["cross-entropy", "MSE"])]
    for fig in split:
        assert [fig["layout"][k]["nticks"] for k in ("yaxis", "yaxis2", "yaxis3")] == [2, 3, 2]
    contour = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    assert contour["data"][0]["colorbar"]["nticks"] == 4 and contour["layout"]["xaxis"]["nticks"] == 3


def test_a_long_compare_title_breaks_after_its_colon_and_stands_on_its_plot():
    fig = figures.retitle(landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH), "B (9, 9, 9, 9): its own random plane")
    title = fig["layout"]["title"]
    assert title["text"] == "B (9, 9, 9, 9):<br>its own random plane"
    # Anchored on the plot's top with the margin made to fit (automargin): centred in its margin
    # it met the top tick at 18 px, and without automargin plotly.js hangs line 2 below the anchor.
    assert (title["yref"], title["y"], title["yanchor"], title["automargin"]) == ("paper", 1.0, "bottom", True)
    assert title["pad"]["b"] >= 12  # the top tick label's upper half at 18 px
    short = figures.retitle(landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH), "A (64): its loss")
    assert short["layout"]["title"]["text"] == "A (64): its loss" and "yref" not in short["layout"]["title"]


OUTLIERS = {"X_train": np.array([[-1.0], [0.0], [1.0], [0.5], [-0.5]]), "y_train": np.array([-1.0, 0.0, 1.0, 15.0, -14.0]),
            "X_test": np.array([[0.2]]), "y_test": np.array([0.2])}


def test_the_data_view_is_framed_on_the_inliers_with_outliers_at_its_edge():
    mask = np.array([False, False, False, True, True])
    xs = np.linspace(-1, 1, 5)
    fig = data_figures.regression_curve_figure(xs, xs, OUTLIERS, outliers=mask, line_name="A's line",
                                          others=[("B's line", 0.8 * xs)])
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert -1.5 < lo < -1.0 and 1.0 < hi < 1.5  # the inliers, with a margin; not ±15
    train, test, line, out, other = fig["data"]
    assert train["y"] == [-1.0, 0.0, 1.0] and line["name"] == "A's line" and line["y"] == xs.tolist()
    assert out["name"] == "outliers" and out["customdata"] == [15.0, -14.0]  # true values on hover
    assert out["marker"]["symbol"] == ["triangle-up", "triangle-down"] and lo < min(out["y"]) < max(out["y"]) < hi
    assert other["name"] == "B's line" and other["line"]["dash"] == "dash" and other["y"] == (0.8 * xs).tolist()
    # Streaming patches the run's own line, trace 2.
    assert data_figures.regression_curve_updates(xs) == {("data", 2, "y"): xs.tolist()}


def test_a_data_view_without_outliers_is_framed_on_all_points_and_a_wild_curve_leaves_it():
    fig = data_figures.regression_curve_figure(np.linspace(0, 1, 5), np.full(5, 3000.0), _REG)
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert lo < 0.0 and 1.0 < hi < 2.0 and len(fig["data"]) == 3


def test_predictions_beyond_the_targets_are_drawn_at_the_frames_edge():
    pts = {"X_train": np.zeros((3, 4)), "y_train": np.array([-1.0, 0.0, 2.0]),
           "X_test": np.zeros((1, 4)), "y_test": np.array([1.0])}
    fig = data_figures.predicted_vs_actual_figure(pts, np.array([0.5, -3e3, 1e6]), np.array([0.9]))
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert fig["layout"]["xaxis"]["range"] == [lo, hi] and lo < -1.0 and 2.0 < hi < 3.0
    train = fig["data"][0]
    assert train["marker"]["symbol"] == ["circle", "triangle-down", "triangle-up"]
    assert train["customdata"] == [0.5, -3e3, 1e6] and all(lo < y < hi for y in train["y"])
    assert "off the frame" in fig["layout"]["annotations"][0]["text"]


@pytest.mark.parametrize("n, small", [(12, False), (400, True)])
def test_many_points_over_decision_regions_are_small_and_translucent(n, small):
    fig = data_figures.classification_figure(*_regions(2), _points(2, n=n))
    train = [t for t in fig["data"][1:] if "train" in t["name"]]
    marker = train[0]["marker"]
    assert (marker["size"] < 7 and marker["opacity"] < 1 and marker["line"]["color"] == "white") == small
    if not small:
        assert marker["size"] == 7 and marker["opacity"] == 1
    # Without regions under them (the PCA view), points stay as they were.
    assert data_figures.projected_classes_figure(_points(3, n=400), np.zeros(400, int), np.zeros(200, int), 3)[
        "data"][0]["marker"]["opacity"] == 1


def test_a_capped_colour_scale_says_so_and_a_path_leaving_the_frame_is_named():
    fig = landscape_figures.compare_contour_figure(ALPHAS, BETAS, Z, PATH, PATH[::-1], title="B", other_label="A",
                                         zrange=(1.0, 50.0), clipped=True, exits=[(0.9, 1.8, "B leaves the frame")])
    contour = fig["data"][0]
    assert (contour["zmin"], contour["zmax"], contour["zauto"]) == (1.0, 50.0, False)
    assert "capped at 50" in contour["colorbar"]["title"]["text"]
    # Its two lines up the bar's side: on top they took most of a short plot's bar (47 of 108 px).
    assert contour["colorbar"]["title"]["side"] == "right"
    (note,) = fig["layout"]["annotations"]
    assert note["text"].startswith("B leaves the frame") and note["text"].endswith("↗")  # towards the top right
    plain = landscape_figures.contour_figure(ALPHAS, BETAS, Z, PATH, zrange=(1.0, 400.0))
    assert plain["data"][0]["colorbar"]["title"]["text"] == "loss" and "side" not in plain["data"][0]["colorbar"]["title"]

