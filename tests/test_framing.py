"""Tests for app.views.framing: what a plot frames, and how what lies beyond is drawn and said."""
import math

import numpy as np
import pytest

from app.views import framing


def test_the_loss_ceiling_is_ten_times_the_largest_start():
    assert framing.loss_ceiling([0.5, 2.0]) == pytest.approx(framing.OFF_CHART * 2.0) == 20.0
    assert framing.loss_ceiling([None, 0.7]) == pytest.approx(7.0)
    # No start known, or a start at zero loss: nothing is clipped.
    assert framing.loss_ceiling([]) is None and framing.loss_ceiling([0.0, None, math.nan]) is None


def test_first_finite_skips_missing_points():
    assert framing.first_finite([None, math.nan, 3.0, 4.0]) == 3.0
    assert framing.first_finite([None]) is None


def test_beyond_looks_at_finite_values_only():
    assert framing.beyond([1.0, 50.0], hi=10.0) and not framing.beyond([1.0, None, math.nan, math.inf], hi=10.0)
    assert framing.beyond(np.array([[0.0, -3.0]]), lo=-1.0) and not framing.beyond([0.0], lo=-1.0, hi=1.0)


def test_an_off_chart_note_is_transparent_until_shown_and_named_for_the_page():
    hidden = framing.off_chart_note("offchart yaxis3 max", "↑", "x3", "y3", False)
    shown = framing.off_chart_note("offchart yaxis3 max", "↑", "x3", "y3", True, top=False, side="right")
    assert hidden["opacity"] == 0 and shown["opacity"] == 1  # assets/lossviz.js shows it by name
    assert hidden["xref"] == "x3 domain" and hidden["yref"] == "y3 domain" and hidden["y"] == 1.0
    assert shown["y"] == 0.0 and shown["yanchor"] == "bottom" and shown["xanchor"] == "right"


def test_axis_bounds():
    assert framing.loss_bounds(46.5) == {"clipmin": 1e-300, "clipmax": 46.5}  # > 0: a log axis takes it
    assert framing.metric_bounds("accuracy") == {"clipmin": 0.0, "clipmax": 1.0}
    assert framing.metric_bounds("R²") == {"clipmin": framing.R2_FLOOR, "clipmax": 1.0}


def test_a_data_frame_holds_the_kept_values_with_a_margin():
    lo, hi = framing.data_frame(np.array([0.0, 10.0, 100.0]), keep=np.array([True, True, False]))
    assert lo == pytest.approx(-framing.EDGE_PAD * 10) and hi == pytest.approx(10 + framing.EDGE_PAD * 10)
    assert framing.data_frame(np.array([2.0, 2.0]))[0] < 2.0 < framing.data_frame(np.array([2.0, 2.0]))[1]
    assert framing.data_frame(np.array([math.nan])) == (-1.0, 1.0)


def test_values_beyond_the_frame_are_drawn_at_its_edge_pointing_out():
    drawn, symbols = framing.at_edge(np.array([-50.0, 0.5, 50.0]), (0.0, 1.0))
    assert list(symbols) == ["triangle-down", "circle", "triangle-up"]
    assert 0.0 < drawn[0] < 0.05 and drawn[1] == 0.5 and 0.95 < drawn[2] < 1.0  # inside, at the edges
