"""Tests for app.views.panels.why_loss: formulas, loss-profile and gradient-histogram figures.

The engine is the reference for every number drawn (lossviz.loss_profile); Plotly's validators
are the reference for the figures' form.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.utils
import pytest
from plotly.subplots import make_subplots

import lossviz
from app.views import figures
from app.views.panels import why_loss as wl

TASKS = ("classification", "regression")
PAIRS = [(name, task) for name, loss in lossviz.LOSSES.items() for task in TASKS if task in loss.tasks]
pairs = pytest.mark.parametrize("name, task", PAIRS, ids=[f"{n}-{t}" for n, t in PAIRS])


def _split_markdown(md):
    """(TeX inside the $$ fences, the text after them) of formula_markdown's output."""
    lines = md.split("\n")
    assert lines[0] == "$$", md
    close = lines.index("$$", 1)
    return "\n".join(lines[1:close]), "\n".join(lines[close + 1:]).strip()


# --- formula_markdown -------------------------------------------------------------------------

@pairs
def test_formula_is_display_math_then_one_plain_sentence(name, task):
    tex, sentence = _split_markdown(wl.formula_markdown(name, task))
    # remark-math (dcc.Markdown) ends a display block at the first "$": the TeX has none.
    assert "$" not in tex and r"\partial" in tex  # the gradient at the output, written here
    assert "\n" not in sentence and sentence.endswith(".") and ". " not in sentence
    # Plain words: nothing Markdown or MathJax would read as markup.
    assert not set(sentence) & set("$_*\\`#[]"), sentence


@pairs
def test_formula_uses_no_mathjax_extension_that_loads_from_a_cdn(name, task):
    # The page works offline: only TeX that MathJax's bundled base and AMS packages know.
    tex = wl.formula_markdown(name, task)
    for macro in (r"\color", r"\boldsymbol", r"\bm", r"\cancel", r"\bbox", r"\enclose", r"\ce{"):
        assert macro not in tex


def test_cross_entropy_formula_and_gradient():
    tex, sentence = _split_markdown(wl.formula_markdown("cross_entropy", "classification"))
    assert r"-\log \mathrm{softmax}(z)_y" in tex
    assert r"\frac{\partial L}{\partial z_y} &= p_y - 1" in tex
    assert "confidently wrong" in sentence


def test_mse_on_probabilities_shows_the_softmax_slope_and_the_vanishing_gradient():
    tex, sentence = _split_markdown(wl.formula_markdown("mse", "classification"))
    assert r"\mathrm{softmax}(z)" in tex and r"\frac{1}{K}\sum_{k=1}^{K}" in tex
    assert r"\underbrace{p_y(1 - p_y)}_{\text{softmax slope}}" in tex
    assert r"\to\; 0 \ \text{ as } p_y \to 0" in tex
    assert "softmax slope" in sentence and r"\delta" not in tex


def test_mse_regression_gradient_is_twice_the_residual():
    tex, _ = _split_markdown(wl.formula_markdown("mse", "regression"))
    assert r"(\hat y - y)^2 = r^2" in tex and r"\frac{\partial L}{\partial \hat y} &= 2r" in tex


@pytest.mark.parametrize("delta, shown", [(1.0, "1"), (0.5, "0.5"), (2.25, "2.25"),
                                          (1e-5, r"1 \times 10^{-5}")])
@pytest.mark.parametrize("task", TASKS)
def test_huber_formula_shows_the_delta_value_and_the_cap(task, delta, shown):
    tex, sentence = _split_markdown(wl.formula_markdown("huber", task, huber_delta=delta))
    assert rf"\delta = {shown} " in tex + " "
    assert r"\tfrac12 r^2 & |r| \le \delta" in tex and r"\delta\,(|r| - \tfrac12\delta)" in tex
    cap = (r"\max(-\delta, \min(r, \delta))" if task == "classification"
           else r"\delta\,\operatorname{sign}(r) & |r| > \delta")
    assert cap in tex
    assert "δ" in sentence


def test_cross_entropy_on_regression_raises_the_registry_message():
    with pytest.raises(ValueError) as registry:
        lossviz.get_loss("cross_entropy", "regression")
    with pytest.raises(ValueError) as ours:
        wl.formula_markdown("cross_entropy", "regression")
    assert str(ours.value) == str(registry.value)


@pytest.mark.parametrize("loss, task, words", [
    ("hinge", "classification", "unknown loss 'hinge'; choose one of: mse, cross_entropy, huber"),
    ("mse", "ranking", "unknown task 'ranking'"),
])
def test_formula_unknown_loss_or_task(loss, task, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        wl.formula_markdown(loss, task)


@pytest.mark.parametrize("delta", [0.0, -1.0, float("nan"), float("inf"), True, "1"])
def test_formula_refuses_a_bad_delta(delta):
    with pytest.raises(ValueError, match="huber_delta"):
        wl.formula_markdown("huber", "regression", huber_delta=delta)


# --- profile_figure ---------------------------------------------------------------------------

@pairs
@pytest.mark.parametrize("delta", [1.0, 0.3])
def test_profile_numbers_are_loss_profiles(name, task, delta):
    fig = wl.profile_figure([("A", name)], task, delta, k=3)
    loss_line, grad_line = fig["data"]
    x = np.array(loss_line["x"])
    assert grad_line["x"] == loss_line["x"]
    value, grad = lossviz.loss_profile(name, task, x, k=3, huber_delta=delta)
    assert loss_line["y"] == value.tolist() and grad_line["y"] == grad.tolist()


def test_profile_passes_the_number_of_classes_on():
    x = wl.profile_x("classification")
    three = wl.profile_figure([("A", "mse")], "classification", k=3)["data"][1]["y"]
    assert three == lossviz.loss_profile("mse", "classification", x, k=3)[1].tolist()
    assert three != lossviz.loss_profile("mse", "classification", x, k=2)[1].tolist()


@pytest.mark.parametrize("task, losses", [("classification", [("A", "cross_entropy"), ("B", "mse")]),
                                          ("regression", [("A", "mse"), ("B", "huber")])])
def test_profile_two_losses_share_the_axes(task, losses):
    fig = wl.profile_figure(losses, task)
    data = fig["data"]
    assert len(data) == 4
    # Order: the losses (row 1), then their gradients (row 2); A solid, B dashed.
    assert [(t["xaxis"], t["yaxis"]) for t in data] == [("x", "y"), ("x", "y"), ("x2", "y2"), ("x2", "y2")]
    assert [t["line"]["dash"] for t in data] == ["solid", "dash", "solid", "dash"]
    assert [t["line"]["color"] for t in data] == list(wl.RUN_COLOURS) * 2
    labels = [f"{a}: {lossviz.LOSSES[n].label}" for a, n in losses]
    assert [t["name"] for t in data] == labels * 2
    assert [t["showlegend"] for t in data] == [True, True, False, False]  # one legend entry per loss
    assert all(t["x"] == data[0]["x"] for t in data)
    assert data[0]["y"] != data[1]["y"]


def test_profile_axis_titles():
    lay = wl.profile_figure([("A", "cross_entropy")], "classification")["layout"]
    assert lay["xaxis2"]["title"]["text"] == "p = probability of the true class"
    assert lay["yaxis"]["title"]["text"] == "loss L"
    assert lay["yaxis2"]["title"]["text"] == "dL/dz at<br>the true logit"  # two lines: it fits a short row
    assert lay["xaxis2"]["range"] == [0.0, 1.0]
    lay = wl.profile_figure([("A", "huber")], "regression")["layout"]
    assert lay["xaxis2"]["title"]["text"] == "residual r = ŷ − y"
    assert lay["yaxis"]["title"]["text"] == "loss L" and lay["yaxis2"]["title"]["text"] == "dL/dŷ"


def test_profile_axes_are_laid_out_as_make_subplots_does():
    ref = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1).layout.to_plotly_json()
    layout = wl.profile_figure([("A", "mse")], "regression")["layout"]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        assert {k: layout[axis][k] for k in ref[axis]} == ref[axis], axis


def test_cross_entropy_gradient_line_is_p_minus_one():
    grad = wl.profile_figure([("A", "cross_entropy")], "classification")["data"][1]
    p = np.array(grad["x"])
    assert p.min() > 0 and p.max() == 1.0
    np.testing.assert_allclose(grad["y"], p - 1, rtol=0, atol=1e-9)


def test_mse_gradient_fades_for_a_confident_mistake():
    data = wl.profile_figure([("A", "cross_entropy"), ("B", "mse")], "classification")["data"]
    mse_grad = data[3]
    assert mse_grad["name"].startswith("B:") and mse_grad["yaxis"] == "y2"
    at = {x: g for x, g in zip(mse_grad["x"], mse_grad["y"])}
    assert abs(at[0.01]) < abs(at[0.5])
    ce = dict(zip(data[2]["x"], data[2]["y"]))
    assert abs(ce[0.01]) > abs(ce[0.5])  # cross-entropy pushes hardest there


def test_profile_gradient_panel_has_a_dotted_zero_line():
    shapes = wl.profile_figure([("A", "mse")], "classification")["layout"]["shapes"]
    zero = [s for s in shapes if s["yref"] == "y2" and s["y0"] == s["y1"] == 0]
    assert len(zero) == 1 and zero[0]["line"]["dash"] == "dot"
    assert (zero[0]["x0"], zero[0]["x1"]) == (0, 1) and zero[0]["xref"] == "paper"


@pytest.mark.parametrize("task", TASKS)
def test_profile_shapes_avoid_the_plotly_js_between_layer_crash(task):
    # plotly.js 4.1 throws (silently, in the page) drawing a layer="between" shape whose
    # reference is an axis domain ("x2 domain"): such a shape and all after it vanish.
    for s in wl.profile_figure([("A", "mse"), ("B", "huber")], task)["layout"]["shapes"]:
        assert not (s.get("layer") == "between" and "domain" in s["xref"] + s["yref"]), s


@pytest.mark.parametrize("delta", [0.37, 1.0, 1.7, 2.0])
def test_regression_residuals_are_wide_enough_for_the_huber_kink(delta):
    fig = wl.profile_figure([("A", "mse"), ("B", "huber")], "regression", delta)
    r = np.array(fig["data"][0]["x"])
    half = max(3.0, 2.5 * delta)
    assert r[0] == -half and r[-1] == half and np.all(np.diff(r) > 0)
    assert delta in r and -delta in r  # the kink is drawn sharp
    assert fig["layout"]["xaxis2"]["range"] == [-half, half]
    marks = [s for s in fig["layout"]["shapes"] if s["xref"] == "x2"]
    assert sorted({s["x0"] for s in marks}) == [-delta, delta]
    assert sorted(a["text"] for a in fig["layout"]["annotations"]) == ["+δ", "−δ"]


def test_profile_marks_delta_only_for_huber_regression():
    assert "annotations" not in wl.profile_figure([("A", "mse")], "regression")["layout"]
    assert "annotations" not in wl.profile_figure([("A", "huber")], "classification")["layout"]


@pytest.mark.parametrize("losses", [[], [("A", "mse")] * 3])
def test_profile_wants_one_or_two_losses(losses):
    with pytest.raises(ValueError, match="one or two"):
        wl.profile_figure(losses, "regression")


def test_profile_refuses_cross_entropy_for_regression():
    with pytest.raises(ValueError, match="not defined for the regression task"):
        wl.profile_figure([("A", "mse"), ("B", "cross_entropy")], "regression")


# --- per-sample norms and flagged points -----------------------------------------------------

def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_grad_norms_cross_entropy_are_softmax_minus_one_hot():
    rng = np.random.default_rng(0)
    out, y = rng.normal(size=(20, 3)) * 3, rng.integers(0, 3, 20)
    want = np.linalg.norm(_softmax(out) - np.eye(3)[y], axis=1)
    np.testing.assert_allclose(wl.per_sample_grad_norms(out, y, "cross_entropy", "classification"),
                               want, rtol=1e-12)


def test_grad_norms_regression_mse_and_huber():
    r = np.array([-5.0, -0.5, 0.0, 0.2, 3.0])
    out, y = (r + 1.0)[:, None], np.ones(5)
    np.testing.assert_allclose(wl.per_sample_grad_norms(out, y, "mse", "regression"), 2 * np.abs(r), rtol=1e-12)
    np.testing.assert_allclose(wl.per_sample_grad_norms(out, y, "huber", "regression", 0.5),
                               np.minimum(np.abs(r), 0.5), rtol=1e-12)


def test_grad_norms_nan_output_gives_nan():
    out = np.array([[0.0, 1.0], [np.nan, 0.0]])
    norms = wl.per_sample_grad_norms(out, np.array([0, 1]), "mse", "classification")
    assert np.isfinite(norms[0]) and np.isnan(norms[1])


def test_flagged_points_classification_are_the_misclassified():
    # The last row's argmax is 0 (NumPy's argmax picks the NaN), its label too: flagged anyway,
    # a NaN output classifies nothing.
    out = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 3.0], [np.nan, 0.0]])
    y = np.array([0, 0, 1, 0])
    assert wl.flagged_points(out, y, "classification").tolist() == [False, True, False, True]


def test_flagged_points_regression_are_the_given_outliers():
    out, y = np.zeros((4, 1)), np.zeros(4)
    mask = np.array([True, False, False, True])
    assert wl.flagged_points(out, y, "regression", mask).tolist() == mask.tolist()
    assert wl.flagged_points(out, y, "regression").tolist() == [False] * 4


@pytest.mark.parametrize("args", [
    (np.zeros((3, 2)), np.zeros(3), "classification", np.zeros(3, bool)),  # mask: regression only
    (np.zeros((3, 1)), np.zeros(3), "regression", np.zeros(2, bool)),
    (np.zeros((3, 1)), np.zeros(3), "regression", np.zeros(3)),  # not bool
    (np.zeros((3, 1)), np.zeros(4), "regression", None),
    (np.zeros((3, 1)), np.zeros(3), "ranking", None),
])
def test_flagged_points_refuses_bad_arguments(args):
    with pytest.raises(ValueError):
        wl.flagged_points(*args)


# --- gradient_histogram_figure ----------------------------------------------------------------

def _runs(a_norms, b_norms, seed=0):
    rng = np.random.default_rng(seed)
    return [dict(label=label, norms=np.asarray(n, float), flagged=rng.random(len(n)) < 0.3,
                 flag_label="misclassified") for label, n in (("A", a_norms), ("B", b_norms))]


def _edges(trace):
    x, w = np.array(trace["x"]), np.array(trace["width"])
    return x - w / 2, x + w / 2


@pytest.mark.parametrize("a, b, log", [
    (np.linspace(0.1, 1.0, 40), np.linspace(0.5, 2.0, 25), False),  # one decade: linear bins
    (10.0 ** np.linspace(-6, 0, 40), np.linspace(0.5, 2.0, 25), True),  # six decades: log bins
])
def test_histogram_bins_are_shared_and_cover_every_norm(a, b, log):
    runs = _runs(a, b)
    fig = wl.gradient_histogram_figure(runs)
    data = fig["data"]
    assert len(data) == 4 and all(t["type"] == "bar" for t in data)
    assert all(t["x"] == data[0]["x"] and t["width"] == data[0]["width"] for t in data)
    lo, hi = _edges(data[0])
    assert 25 <= len(lo) <= 35
    np.testing.assert_allclose(lo[1:], hi[:-1], rtol=1e-9)  # contiguous
    everything = np.concatenate([a, b])
    assert lo[0] <= everything.min() * (1 + 1e-9) and hi[-1] >= everything.max() * (1 - 1e-9)
    widths = hi - lo
    if log:
        assert fig["layout"]["xaxis"]["type"] == "log"
        np.testing.assert_allclose(hi / lo, (hi / lo)[0], rtol=1e-9)  # equal ratios
    else:
        assert fig["layout"]["xaxis"]["type"] == "linear"
        np.testing.assert_allclose(widths, widths[0], rtol=1e-9)


def test_histogram_counts_sum_to_n_and_flagged_counts_to_the_mask():
    runs = _runs(np.abs(np.random.default_rng(1).normal(size=57)), [0.0, 0.0, 1e-9, 0.5, 2.0])
    data = wl.gradient_histogram_figure(runs)["data"]
    for i, run in enumerate(runs):
        everyone, flagged = data[2 * i], data[2 * i + 1]
        assert sum(everyone["y"]) == len(run["norms"])  # zeros and tiny norms counted in bin 1
        assert sum(flagged["y"]) == run["flagged"].sum()
        assert all(f <= e for f, e in zip(flagged["y"], everyone["y"]))
        assert everyone["name"] == f"{run['label']}: all points ({len(run['norms'])})"
        assert flagged["name"] == f"{run['label']}: misclassified ({run['flagged'].sum()})"


def test_histogram_counts_match_numpy_for_the_drawn_bins():
    a = np.array([0.05, 0.1, 0.1, 0.4, 0.9, 1.0])
    data = wl.gradient_histogram_figure([dict(label="A", norms=a, flagged=a > 0.5, flag_label="x")])["data"]
    lo, hi = _edges(data[0])
    assert data[0]["y"] == np.histogram(a, bins=np.append(lo, hi[-1]))[0].tolist()


def test_histogram_styles_a_filled_b_outlined_flagged_stronger():
    data = wl.gradient_histogram_figure(_runs(np.linspace(0.1, 1, 9), np.linspace(0.2, 1, 9)))["data"]
    a_all, a_flag, b_all, b_flag = (t["marker"] for t in data)

    def alpha(colour):
        return float(colour.rsplit(",", 1)[1].rstrip(")"))

    assert 0 < alpha(a_all["color"]) < alpha(a_flag["color"])  # A: filled, flagged stronger
    assert alpha(b_all["color"]) == 0 and b_all["line"]["width"] > 0  # B: outlined
    assert b_flag["pattern"]["shape"] and b_flag["pattern"]["fgcolor"] == wl.RUN_COLOURS[1]
    assert [t["legendgroup"] for t in data] == ["A", "A", "B", "B"]


def test_histogram_axis_titles():
    lay = wl.gradient_histogram_figure(_runs([0.1, 0.2], [0.3]))["layout"]
    assert lay["xaxis"]["title"]["text"] == "per-sample ‖dL/dz‖ at the output"
    assert lay["yaxis"]["title"]["text"] == "points"
    assert lay["barmode"] == "overlay"


@pytest.mark.parametrize("runs, words", [
    ([], "No training points"),
    (_runs([], []), "No training points"),
    (_runs([np.nan, np.inf], [np.nan]), "NaN"),
    (_runs(np.zeros(5), np.zeros(3)), "zero"),
])
def test_histogram_says_why_there_is_nothing_to_draw(runs, words):
    fig = wl.gradient_histogram_figure(runs)
    assert fig["data"] == [] and words in fig["layout"]["annotations"][0]["text"]
    assert fig["layout"]["title"]["text"] == wl.HIST_TITLE


def test_histogram_leaves_out_nan_norms_and_says_so():
    runs = _runs([0.1, np.nan, 0.3, np.inf], [0.2, 0.4])
    runs[0]["flagged"] = np.array([True, True, False, True])
    data = wl.gradient_histogram_figure(runs)["data"]
    assert sum(data[0]["y"]) == 2 and "2 NaN/inf not shown" in data[0]["name"]
    assert sum(data[1]["y"]) == 1 and data[1]["name"] == "A: misclassified (1)"
    assert sum(data[2]["y"]) == 2 and "NaN" not in data[2]["name"]


def test_histogram_one_diverged_run_and_one_value_still_draw():
    runs = _runs([0.7], [np.nan, np.nan])  # one finite norm in all: a bin around it
    data = wl.gradient_histogram_figure(runs)["data"]
    assert sum(data[0]["y"]) == 1 and sum(data[2]["y"]) == 0
    lo, hi = _edges(data[0])
    assert lo[0] < 0.7 < hi[-1]


def test_histogram_refuses_mismatched_shapes_and_three_runs():
    with pytest.raises(ValueError):
        wl.gradient_histogram_figure([dict(label="A", norms=np.ones(3), flagged=np.ones(2, bool))])
    with pytest.raises(ValueError):
        wl.gradient_histogram_figure(_runs([1.0], [1.0]) + _runs([1.0], [1.0])[:1])


# --- every builder: plain, valid, light ---------------------------------------------------------

BUILDERS = {
    "profile_ce_mse": lambda: wl.profile_figure([("A", "cross_entropy"), ("B", "mse")], "classification"),
    "profile_huber_k5": lambda: wl.profile_figure([("A", "huber")], "classification", 0.3, k=5),
    "profile_regression": lambda: wl.profile_figure([("A", "mse"), ("B", "huber")], "regression", 1.5),
    "histogram_linear": lambda: wl.gradient_histogram_figure(_runs(np.linspace(0.1, 1, 30), [0.5, np.nan])),
    "histogram_log": lambda: wl.gradient_histogram_figure(_runs(10.0 ** -np.arange(12), [0.0, 1.0])),
    "histogram_one_run": lambda: wl.gradient_histogram_figure(_runs([0.5, 0.5], [])[:1]),
    "histogram_empty": lambda: wl.gradient_histogram_figure([]),
}
builders = pytest.mark.parametrize("build", list(BUILDERS.values()), ids=list(BUILDERS))


def _leaves(node):
    yield node
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        yield from _leaves(child)


@builders
def test_figure_is_plain_json_data(build):
    fig = build()
    assert type(fig) is dict and set(fig) == {"data", "layout"}
    assert {type(v) for v in _leaves(fig)} <= {dict, list, str, bool, int, float, type(None)}
    json.dumps(fig, allow_nan=False)


@builders
def test_plotly_accepts_the_figure_and_reads_it_unchanged(build):
    fig = build()
    checked = go.Figure(fig).to_plotly_json()
    assert json.loads(json.dumps(checked, cls=plotly.utils.PlotlyJSONEncoder)) == json.loads(json.dumps(fig))


@builders
def test_figure_has_the_shared_look(build):
    layout = build()["layout"]
    assert layout["template"] == figures.LIGHT and layout["uirevision"] == "keep"
    assert layout["font"]["size"] >= 14 and layout["title"]["x"] == 0.02


def test_traces_share_no_lists():
    data = wl.profile_figure([("A", "mse"), ("B", "huber")], "regression")["data"]
    data[0]["x"][0] = 99.0
    assert all(t["x"][0] != 99.0 for t in data[1:])


def test_panel_module_loads_no_dash_or_plotly():
    code = ("import sys, app.views.panels.why_loss; bad = {'dash', 'flask', 'plotly'} & set(sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
