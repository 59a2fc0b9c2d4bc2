"""Label smoothing in the app: its control (shown for cross-entropy only), its link key, compare
mode, and the "why the loss matters" panel whose push vanishes at p = 1 − ε + ε/K."""

import numpy as np
import pytest

import lossviz
from app.page import ids, state
from app.page.compare import COMPARE_FIELDS
from app.page.controls import BY_FIELD, parse_controls, visible_fields
from app.views.panels import why_loss as wl
from lossviz import RunConfig


def _grad_row(fig):
    """(x, y) of the first loss's gradient line (row 2)."""
    line = next(t for t in fig["data"] if t["yaxis"] == "y2")
    return np.array(line["x"]), np.array(line["y"])


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("eps", [0.1, 0.4])
def test_profile_push_crosses_zero_at_the_smoothed_target_not_at_one(k, eps):
    fig = wl.profile_figure([("", "cross_entropy")], "classification", k=k, label_smoothing=eps)
    x, g = _grad_row(fig)
    target = 1 - eps + eps / k
    assert target in x  # the crossing is a point of the line, not between two
    assert g[x == target][0] == pytest.approx(0.0, abs=1e-11)
    assert (g[x < target] < 0).all() and (g[x > target] > 0).all()
    np.testing.assert_allclose(g, x - target, atol=1e-11)
    # the figure names the crossing where it is: a dotted line and a label at x = target
    assert any(s.get("x0") == target and s.get("xref") == "x2" for s in fig["layout"]["shapes"])
    note = next(a for a in fig["layout"]["annotations"] if a["x"] == target)
    assert f"{target:.3g}" in note["text"] and "push 0" in note["text"]
    assert f"ε = {eps:g}" in fig["data"][0]["name"]


def test_plain_cross_entropy_pushes_until_p_is_one():
    fig = wl.profile_figure([("", "cross_entropy")], "classification", k=3)
    x, g = _grad_row(fig)
    assert (g < 0).all() or g[x == 1.0][0] == pytest.approx(0, abs=1e-11)
    assert not fig["layout"].get("annotations")
    assert len(fig["layout"]["shapes"]) == 1  # the zero line only


def test_two_runs_each_with_its_own_eps():
    fig = wl.profile_figure([("A", "cross_entropy"), ("B", "cross_entropy")], "classification", k=2,
                            label_smoothing=[0.0, 0.2])
    a_grad, b_grad = [t for t in fig["data"] if t["yaxis"] == "y2"]
    x = np.array(a_grad["x"])
    np.testing.assert_allclose(a_grad["y"], lossviz.loss_profile("cross_entropy", "classification", x, k=2)[1])
    np.testing.assert_allclose(b_grad["y"], x - 0.9, atol=1e-11)
    assert [a["x"] for a in fig["layout"]["annotations"]] == [0.9]


def test_eps_is_ignored_by_losses_without_it_but_still_checked():
    fig = wl.profile_figure([("", "mse")], "classification", k=2, label_smoothing=0.3)
    assert not fig["layout"].get("annotations")
    with pytest.raises(ValueError, match="label_smoothing"):
        wl.profile_figure([("", "mse")], "classification", k=2, label_smoothing=1.5)


def test_formula_names_the_smoothed_target():
    text = wl.formula_markdown("cross_entropy", "classification", label_smoothing=0.1, k=3)
    assert r"\varepsilon = 0.1" in text and "0.9333" in text and "(K = 3)" in text
    plain = wl.formula_markdown("cross_entropy", "classification", label_smoothing=0.0, k=3)
    assert r"\varepsilon" not in plain and "p_y - 1" in plain


def test_per_sample_norms_use_eps():
    out = np.array([[3.0, 0.0], [0.0, 2.0]])
    y = np.array([0, 1])
    plain = wl.per_sample_grad_norms(out, y, "cross_entropy", "classification")
    smooth = wl.per_sample_grad_norms(out, y, "cross_entropy", "classification", label_smoothing=0.2)
    g = lossviz.loss_grad_per_sample("cross_entropy", out, y, "classification", label_smoothing=0.2)
    np.testing.assert_allclose(smooth, np.linalg.norm(g, axis=1))
    assert not np.allclose(plain, smooth)


def test_control_shown_for_cross_entropy_only_and_parsed():
    assert "label_smoothing" in visible_fields("moons", "cross_entropy", "adam")
    assert "label_smoothing" not in visible_fields("moons", "mse", "adam")
    assert "label_smoothing" not in visible_fields("moons", "huber", "adam")
    assert "huber_delta" in visible_fields("moons", "huber", "adam")
    c = BY_FIELD["label_smoothing"]
    assert c.id == ids.LABEL_SMOOTHING and c.parse("0.1", c.label) == 0.1
    with pytest.raises(ValueError, match="from 0 to below 1"):
        c.parse("1", c.label)
    values = {f.field: f.default if f.kind == "dropdown" else str(f.default) for f in BY_FIELD.values()}
    values["label_smoothing"] = "0.05"
    assert parse_controls(values, 2, ["16", "16"]).label_smoothing == 0.05


def test_link_key_round_trips_and_refuses_bad_values():
    out, problems = state.from_query("?label_smoothing=0.1")
    assert out[(ids.LABEL_SMOOTHING, "value")] == "0.1" and not problems
    out, problems = state.from_query("?label_smoothing=1.2")
    assert (ids.LABEL_SMOOTHING, "value") not in out
    assert any("'label_smoothing'" in p for p in problems)
    assert "label_smoothing=0.1" in state.to_query({"label_smoothing": "0.1"}, ["16"], None)


def test_compare_mode_can_vary_eps():
    f = COMPARE_FIELDS["label_smoothing"]
    assert f.suggest(RunConfig()) == 0.1 and f.suggest(RunConfig(label_smoothing=0.1)) == 0.0
    assert lossviz.experiment.setting_label("label_smoothing", 0.1) == "0.1"
