"""Tests for app.views.drawing_compare's figure choices: colour ranges, the frame's notes, the line from
A to B (or why there is none), both fitted lines in one data plot, the words under the plots."""
import numpy as np
import pytest

import lossviz
from app.views.drawing_compare import colour_range, contour_of, data_figures, line_figure, plane_note
from app.views.framing import OFF_CHART
from app.runs.run import RunView, advance_run, state_of
from app.views.compute import data_view
from lossviz import RunConfig

NAMES = ["A (0.1)", "B (0.26)"]


def _view(z_a, z_b, starts, same_loss=True, kind="compare", exits=(None, None), z_label="loss"):
    g = np.linspace(-1, 1, z_a.shape[0])
    return dict(kind=kind, alphas=g, betas=g, axes=[(g, g), (g, g)], z=[z_a, z_b], starts=list(starts),
                same_loss=same_loss, exits=list(exits), paths=[np.zeros((3, 2)), np.array([[0, 0], [0.5, 0.5],
                                                                                         [9.0, 9.0]])],
                metric=[np.zeros_like(z_a)] * 2, metric_label="R²", z_label=z_label, explained=np.full(2, np.nan))


def test_one_loss_shares_a_colour_range_stopped_at_ten_times_the_start():
    z = np.linspace(0.5, 1e6, 16).reshape(4, 4)
    view = _view(np.full((4, 4), 3.0), z, starts=[2.0, 2.0])
    assert colour_range(view, 0) == colour_range(view, 1) == ((0.5, OFF_CHART * 2.0), True)
    calm = _view(np.full((4, 4), 3.0), np.full((4, 4), 5.0), starts=[2.0, 2.0])
    assert colour_range(calm, 1) == ((3.0, 5.0), False)


def test_two_losses_keep_their_own_colour_scales_capped_each_at_its_own_start():
    view = _view(np.full((4, 4), 3.0), np.linspace(0, 100, 16).reshape(4, 4), starts=[2.0, 0.5], same_loss=False)
    assert colour_range(view, 0) == (None, False)  # Plotly's own range: nothing clipped
    assert colour_range(view, 1) == ((0.0, 5.0), True)


def test_an_r2_surface_is_floored_at_minus_one():
    view = _view(np.array([[-1e6, 0.5], [0.2, 0.9]]), np.full((2, 2), 0.5), starts=[None, None], z_label="R²")
    assert colour_range(view, 0) == ((-1.0, 0.9), False)


def test_the_run_leaving_the_frame_is_named_in_its_own_contour_and_under_the_plots():
    view = _view(np.full((4, 4), 3.0), np.full((4, 4), 3.0), starts=[2.0, 2.0], exits=(None, 2))
    a, b = contour_of(view, 0, NAMES, False), contour_of(view, 1, NAMES, False)
    assert not a["layout"].get("annotations")
    (note,) = b["layout"]["annotations"]
    assert note["text"].startswith("B leaves the frame") and f"{OFF_CHART:g}× start" in note["text"]
    words = plane_note(view, NAMES)
    assert "B (0.26) leaves the frame" in words and "clipped" in words


def test_two_shapes_share_a_colour_scale_and_say_there_is_no_line():
    view = _view(np.full((4, 4), 1.0), np.linspace(0, 250, 16).reshape(4, 4), starts=[0.7, 0.7], kind="own")
    fig = contour_of(view, 1, ["A (64)", "B (9, 9, 9, 9)"], False)
    assert "its own random plane" in fig["layout"]["title"]["text"]
    assert fig["data"][0]["zmax"] == pytest.approx(7.0)  # not 250: the basin keeps its colours
    assert "no straight line from A to B" in plane_note(view, ["A (64)", "B (9, 9, 9, 9)"])


def _pair(vary, value, config, steps=30):
    exp = lossviz.Experiment(config, vary, value, trajectory_bytes=2 ** 20)
    states = [state_of(t) for t in exp.runs]
    with np.errstate(all="ignore"):
        for s in states:
            advance_run(s, steps)
    return [RunView.of_state(s) for s in states]


def test_no_line_between_two_network_shapes_and_the_figure_says_why():
    runs = _pair("hidden", (4, 4), RunConfig(dataset="moons", n_samples=100, hidden=(8,), epochs=10), steps=3)
    fig = line_figure(runs, ["A (8)", "B (4, 4)"], "r")
    assert not fig["data"] and fig["layout"]["uirevision"] == "r"
    text = fig["layout"]["annotations"][0]["text"]
    assert "No straight line from A to B" in text and "8 and 4·4" in text


def test_the_line_between_two_losses_gives_each_its_own_axis_and_the_page_says_why():
    runs = _pair("loss", "mse", RunConfig(dataset="moons", n_samples=100, hidden=(8,), epochs=10), steps=5)
    fig = line_figure(runs, ["A (Cross-entropy)", "B (Mean squared error)"], "r")
    assert {t["yaxis"] for t in fig["data"]} == {"y", "y2", "y3"}
    assert fig["layout"]["yaxis"]["autorangeoptions"]["clipmax"] > 0
    words = plane_note(dict(kind="compare", exits=[None, None]), ["A (Cross-entropy)", "B (Mean squared error)"],
                       runs)
    assert "different units" in words and "accuracy, their shared measure" in words
    same = _pair("lr", 0.2, RunConfig(dataset="moons", n_samples=100, hidden=(8,), epochs=10), steps=2)
    assert "different units" not in plane_note(dict(kind="compare", exits=[None, None]), NAMES, same)


def test_both_fitted_lines_are_drawn_in_each_data_plot():
    runs = _pair("loss", "huber", RunConfig(dataset="outliers", n_samples=100, hidden=(), loss="mse", lr=0.1,
                                            epochs=30))
    views = [data_view(r) for r in runs]
    figs = data_figures(views, ["A (Mean squared error)", "B (Huber)"])
    for i, fig in enumerate(figs):
        lines = [t for t in fig["data"] if t["mode"] == "lines"]
        assert [t["name"] for t in lines] == [f"{'AB'[i]}'s line", f"{'BA'[i]}'s line"]
        assert lines[0]["y"] == views[i]["y_line"].tolist() and lines[1]["y"] == views[1 - i]["y_line"].tolist()
        # a title too long for compare mode's narrow plots breaks after its colon
        assert fig["layout"]["title"]["text"] == ["A (Mean squared error):<br>its predictions",
                                                  "B (Huber): its predictions"][i]
        assert any(t["name"] == "outliers" for t in fig["data"])
    # Classification has regions, not lines: each plot is its own run's alone.
    moons = _pair("loss", "mse", RunConfig(dataset="moons", n_samples=100, hidden=(8,), epochs=10), steps=2)
    figs = data_figures([data_view(r) for r in moons], NAMES)
    assert all(t["mode"] == "markers" for f in figs for t in f["data"][1:])


def test_loss_names_tell_two_losses_apart_by_their_parameters_too():
    from app.views.drawing_compare import loss_names

    assert loss_names([{"loss": "cross_entropy"}, {"loss": "mse"}]) == ["cross-entropy", "MSE"]
    assert loss_names([{"loss": "huber", "huber_delta": 1.0}] * 2) == ["Huber", "Huber"]  # one loss
    assert loss_names([{"loss": "huber", "huber_delta": 1.0}, {"loss": "huber", "huber_delta": 0.1}]) == \
        ["Huber δ=1", "Huber δ=0.1"]
    assert loss_names([{"loss": "cross_entropy", "label_smoothing": 0.0},
                       {"loss": "cross_entropy", "label_smoothing": 0.1}]) == ["cross-entropy ε=0", "cross-entropy ε=0.1"]
