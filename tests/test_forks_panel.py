"""app.views.panels.forks: the fork steps, the work cap, and the figure's numbers (the engine's own)."""

import numpy as np

from app.views.panels import forks
from lossviz import RunConfig
from lossviz.connectivity import fork_barriers

SMALL = RunConfig(dataset="moons", n_samples=120, hidden=(8,), activation="relu", optimizer="sgd", lr=0.3,
                  batch_size=16, epochs=6)


def test_fork_steps_span_the_first_half():
    assert forks.fork_steps(600) == [0, 100, 200, 300]
    assert forks.fork_steps(2) == [0, 1]  # distinct, whole


def test_work_cap_names_the_numbers():
    assert forks.too_costly(100, 100, 100, 10) == ""
    why = forks.too_costly(10**6, 10**4, 10**4, 0)
    assert "copies" in why and "fewer" in why


def test_figure_draws_the_measured_lines_and_barriers():
    result = forks.measure(SMALL, 36)
    engine = fork_barriers(SMALL, forks.fork_steps(36), points=forks.FORK_POINTS)
    fig = forks.barrier_figure(result)
    lines, barrier = fig["data"][:-1], fig["data"][-1]
    assert [t["name"] for t in lines] == [f"forked at step {k}" for k in result["ks"]]
    for t, e in zip(lines, engine):
        np.testing.assert_allclose(t["y"], e.line.losses)
        assert t["x"] == e.line.ts.tolist() and t["xaxis"] == "x"
    assert barrier["x"] == result["ks"] and barrier["xaxis"] == "x2"
    np.testing.assert_allclose(barrier["y"], [e.line.barrier for e in engine])
    lay = fig["layout"]
    assert lay["xaxis2"]["title"]["text"] == "fork step k" and lay["yaxis2"]["title"]["text"] == "barrier"
    assert lay["xaxis"]["domain"][1] < lay["xaxis2"]["domain"][0]  # side by side, not overlapping


def test_no_result_is_a_message():
    fig = forks.barrier_figure(None)
    assert not fig["data"] and "Fork and measure" in fig["layout"]["annotations"][0]["text"]


def test_the_fork_barrier_lesson_says_where_the_forks_are():
    from app.page import lessons as lz
    assert "under the Surfaces view" in lz.lesson_by_id(lz.load_lessons(), "fork-barrier").explanation
