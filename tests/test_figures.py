"""Tests for app.figures: pure builders from arrays to plain-dict figures (traces, axes, scales, text).

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

from app import figures

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
    fig = figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    kinds = [t["type"] for t in fig["data"]]
    assert kinds[0] == "contour"
    assert kinds.count("scatter") >= 1
    layout = fig["layout"]
    assert layout["xaxis"]["title"]["text"] == "α (direction 1)"
    assert layout["yaxis"]["title"]["text"] == "β (direction 2)"
    assert list(layout["xaxis"]["range"]) == [-1.0, 1.0]
    assert list(layout["yaxis"]["range"]) == [-2.0, 2.0]


def test_contour_z_is_transposed_so_rows_are_beta():
    fig = figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    c = fig["data"][0]
    assert list(c["x"]) == ALPHAS.tolist() and list(c["y"]) == BETAS.tolist()
    zz = np.array(c["z"])
    assert zz.shape == (len(BETAS), len(ALPHAS))
    for i, _ in enumerate(ALPHAS):
        for j, _ in enumerate(BETAS):
            assert zz[j][i] == Z[i, j]


def test_contour_uses_viridis():
    assert _is_viridis(figures.contour_figure(ALPHAS, BETAS, Z, PATH)["data"][0])


def test_contour_log_z_is_log10_of_loss():
    c = figures.contour_figure(ALPHAS, BETAS, Z, PATH, log_z=True)["data"][0]
    np.testing.assert_allclose(np.array(c["z"]), np.log10(Z).T, rtol=1e-12)
    assert "log" in c["colorbar"]["title"]["text"]


def test_contour_log_z_of_zero_loss_is_finite():
    z = Z.copy()
    z[1, 1] = 0.0
    c = figures.contour_figure(ALPHAS, BETAS, z, PATH, log_z=True)["data"][0]
    assert np.all(np.isfinite(np.array(c["z"], dtype=float)))


def test_contour_path_and_current_point():
    fig = figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    scatters = [t for t in fig["data"] if t["type"] == "scatter"]
    longest = max(scatters, key=lambda t: len(t["x"]))
    assert list(longest["x"]) == PATH[:, 0].tolist() and list(longest["y"]) == PATH[:, 1].tolist()
    # The current point (a single marker) is the path's last row.
    singles = [t for t in scatters if len(t["x"]) == 1]
    assert singles and (singles[0]["x"][0], singles[0]["y"][0]) == tuple(PATH[-1])


def test_contour_with_empty_path_still_builds():
    fig = figures.contour_figure(ALPHAS, BETAS, Z, np.zeros((0, 2)))
    assert fig["data"][0]["type"] == "contour"
    assert fig["data"][1]["x"] == [] and fig["data"][2]["x"] == [0.0]


# --- 3-D surface ----------------------------------------------------------------------------

def test_surface3d_traces_scale_and_transpose():
    fig = figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS)
    s, p = fig["data"][0], fig["data"][1]
    assert s["type"] == "surface" and p["type"] == "scatter3d"
    assert _is_viridis(s)
    np.testing.assert_array_equal(np.array(s["z"]), Z.T)
    assert list(p["x"]) == PATH[:, 0].tolist() and list(p["y"]) == PATH[:, 1].tolist()
    assert list(p["z"]) == PATH_LOSS.tolist()


def test_surface3d_log_z_transforms_surface_and_path():
    fig = figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS, log_z=True)
    np.testing.assert_allclose(np.array(fig["data"][0]["z"]), np.log10(Z).T, rtol=1e-12)
    np.testing.assert_allclose(np.array(fig["data"][1]["z"]), np.log10(PATH_LOSS), rtol=1e-12)
    assert "log" in fig["layout"]["scene"]["zaxis"]["title"]["text"]


def test_surface3d_axis_titles_have_units():
    # The issue asks for axis titles with units ("α (direction 1)") on the surface plots.
    scene = figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS)["layout"]["scene"]
    assert scene["xaxis"]["title"]["text"] == "α (direction 1)"
    assert scene["yaxis"]["title"]["text"] == "β (direction 2)"


def test_placeholder_3d_is_a_surface():
    assert figures.placeholder_3d()["data"][0]["type"] == "surface"


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
    fig = figures.classification_figure(xx, yy, prob, _points(k))
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
    fig = figures.classification_figure(*_regions(k), pts)
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
    fig = figures.classification_figure(*_regions(k), _points(k, n=40))
    shown = [t["name"] for t in fig["data"][1:] if t["showlegend"]]
    assert shown == entries
    assert all(t["legendgroup"] in t["name"] for t in fig["data"][1:])


def test_projected_classes_figure_axes_and_points():
    pts = _points(3)
    pred_tr, pred_te = np.zeros(len(pts["y_train"]), int), np.ones(len(pts["y_test"]), int)
    fig = figures.projected_classes_figure(pts, pred_tr, pred_te, 3)
    assert all(t["type"] == "scatter" for t in fig["data"])
    assert sum(len(t["x"]) for t in fig["data"]) == len(pred_tr) + len(pred_te)
    assert "component 1" in fig["layout"]["xaxis"]["title"]["text"]


def test_regression_curve_figure():
    pts = {"X_train": np.array([[0.0], [1.0]]), "y_train": np.array([0.0, 1.0]),
           "X_test": np.array([[0.5]]), "y_test": np.array([0.4])}
    fig = figures.regression_curve_figure(np.linspace(0, 1, 5), np.linspace(0, 1, 5) ** 2, pts)
    names = [t["name"] for t in fig["data"]]
    assert any("train" in n for n in names) and any("test" in n for n in names)
    line = [t for t in fig["data"] if t["mode"] == "lines"]
    assert len(line) == 1 and list(line[0]["y"]) == (np.linspace(0, 1, 5) ** 2).tolist()
    # regression_curve_updates patches that same trace.
    assert fig["data"][2] is line[0]


def test_predicted_vs_actual_figure_has_diagonal_over_all_targets():
    pts = {"X_train": np.zeros((3, 4)), "y_train": np.array([-1.0, 0.0, 2.0]),
           "X_test": np.zeros((2, 4)), "y_test": np.array([-3.0, 1.0])}
    fig = figures.predicted_vs_actual_figure(pts, np.array([0.1, 0.2, 0.3]), np.array([0.4, 0.5]))
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
    "contour": lambda: figures.contour_figure(ALPHAS, BETAS, Z, PATH),
    "contour_log": lambda: figures.contour_figure(ALPHAS, BETAS, Z, PATH, log_z=True),
    "surface3d": lambda: figures.surface3d_figure(ALPHAS, BETAS, Z, PATH, PATH_LOSS),
    "placeholder_3d": figures.placeholder_3d,
    "curves": lambda: figures.curves_figure(HISTORY, "accuracy"),
    "curves_empty_log": lambda: figures.curves_figure({}, "R²", log_loss=True),
    "classification": lambda: figures.classification_figure(*_regions(2), _points(2)),
    "classification_10": lambda: figures.classification_figure(*_regions(10), _points(10, n=40)),
    "projected": lambda: figures.projected_classes_figure(_points(3), np.arange(12) % 3, np.zeros(6, int), 3),
    "regression_curve": lambda: figures.regression_curve_figure(np.linspace(0, 1, 5), np.linspace(0, 1, 5), _REG),
    "predicted_vs_actual": lambda: figures.predicted_vs_actual_figure(_REG, np.zeros(2), np.ones(1)),
    "message": lambda: figures.message_figure("x"),
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
    ref_fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)
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
    first, second = figures.contour_figure(ALPHAS, BETAS, Z, PATH), figures.contour_figure(ALPHAS, BETAS, Z, PATH)
    before = copy.deepcopy(second)
    first["layout"]["template"]["layout"]["font"]["color"] = "red"
    first["layout"]["template"]["data"]["contour"][0]["colorbar"]["ticks"] = "outside"
    first["layout"]["font"]["size"] = 99
    first["layout"]["margin"]["l"] = 0
    first["data"][0]["colorscale"][0][1] = "red"
    assert second == before == figures.contour_figure(ALPHAS, BETAS, Z, PATH)


def test_figures_module_loads_no_dash():
    code = "import sys, app.figures; bad = {'dash', 'flask'} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_interpolation_figure_has_each_runs_loss_and_metric():
    ts = np.linspace(-0.25, 1.25, 7)
    loss = np.array([np.linspace(1, 2, 7), np.linspace(3, 1, 7)])
    metric = np.array([np.full(7, 0.9), np.r_[np.full(6, 0.8), np.nan]])
    fig = figures.interpolation_figure(ts, loss, metric, ["A (x)", "B (y)"], "accuracy")
    data = fig["data"]
    assert [t["name"] for t in data] == ["A (x)", "B (y)"] * 2
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
