"""The Surfaces view's init → now line in compare mode: run B's own line beside A's."""

import numpy as np

from app.views.panels.surfaces import RUN_B, init_line_figure, init_to_now
from app.runs.run import RunView  # noqa: F401  (the view type init_to_now reads)
from lossviz import RunConfig, Trainer
from lossviz.connectivity import init_to_final


def _line(ts, base):
    return {"ts": ts, "loss": {"train": base, "test": base + 0.1}, "metric": {"train": 1 - base, "test": 0.9 - base}}


def test_one_run_draws_train_and_test():
    ts = np.linspace(0, 1, 5)
    fig = init_line_figure(_line(ts, np.linspace(1, 0.2, 5)), "accuracy")
    assert [t["name"] for t in fig["data"]] == ["train", "test", "train", "test"]


def test_compare_mode_adds_b_train_line_on_both_rows():
    ts = np.linspace(0, 1, 5)
    a, b = _line(ts, np.linspace(1, 0.2, 5)), _line(ts, np.array([1.0, 1.4, 0.9, 0.3, 0.1]))
    fig = init_line_figure(a, "accuracy", b)
    names = [t["name"] for t in fig["data"]]
    assert names == ["A: train", "A: test", "B: train"] * 2
    b_loss = fig["data"][2]
    assert b_loss["yaxis"] == "y" and b_loss["line"]["color"] == RUN_B and b_loss["y"] == b["loss"]["train"].tolist()
    assert [t["showlegend"] for t in fig["data"]] == [True] * 3 + [False] * 3
    lo, hi = fig["layout"]["yaxis"]["range"]  # the loss axis holds both runs' lines over t in [0, 1]
    assert lo <= 0.1 and hi >= 1.4 and hi < 1.6


def test_the_drawn_line_is_the_engines_init_to_final():
    """The view's numbers (float64 surface path) and lossviz.connectivity's line agree at the same t."""
    t = Trainer(RunConfig(dataset="moons", n_samples=100, hidden=(6,), optimizer="adam", lr=0.05, epochs=30))
    t.advance(30)

    class View:  # what init_to_now reads of a RunView
        config, data, net, params, trajectory = t.config, t.data, t.net, t.params, np.array([t.params_init])

    drawn = init_to_now(View)
    ln = init_to_final(t, points=3)
    for want, got in zip((0.0, 0.5, 1.0), ln.losses):
        i = int(np.argmin(np.abs(drawn["ts"] - want)))
        assert abs(drawn["ts"][i] - want) < 1e-12 and abs(drawn["loss"]["train"][i] - got) < 1e-9


def test_flat_lines_before_training_get_an_axis_of_some_height():
    """Before the first step init = now: every point of both lines is one value; a zero-height
    axis would leave plotly nowhere to put its ticks."""
    ts = np.linspace(-0.25, 1.25, 7)
    flat = {"ts": ts, "loss": {"train": np.full(7, 0.7), "test": np.full(7, 0.7)},
            "metric": {"train": np.full(7, 0.5), "test": np.full(7, 0.5)}}
    lo, hi = init_line_figure(flat, "accuracy", flat)["layout"]["yaxis"]["range"]
    assert hi - lo >= 0.05
