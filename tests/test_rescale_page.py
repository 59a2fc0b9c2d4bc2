"""The Curvature view's "sharpness is not invariant" row: its words from a rescaling's numbers."""

import numpy as np

from app.page import ids
from app.page.panels import curvature_page, rescale_page
from lossviz import Network
from lossviz.rescale import Rescaled, rescaled_sharpness


def _ids(component):
    found = {getattr(component, "id", None)}
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        if hasattr(child, "to_plotly_json"):
            found |= _ids(child)
    return found


def test_the_curvature_view_has_the_button_factor_and_result():
    assert {ids.RESCALE_BUTTON, ids.RESCALE_FACTOR, ids.RESCALE_RESULT} <= _ids(curvature_page.layout())


def test_summary_of_a_relu_rescaling_says_same_loss_other_sharpness():
    rng = np.random.default_rng(0)
    net = Network((2, 8, 2), "relu")
    params, X, y = net.init_params(rng), rng.standard_normal((30, 2)), rng.integers(0, 2, 30)
    r = rescaled_sharpness(params, X, y, layer_sizes=net.layer_sizes, activation="relu", loss="cross_entropy", a=10)
    rows, text = rescale_page.summary(r, "relu")
    assert rows[0][1] == rows[0][2]  # the loss, to the digits shown
    assert rows[1][0].startswith("λmax") and rows[1][1] != rows[1][2]
    assert f"{r.sharpness_after / r.sharpness_before:.3g}x" in text and "same function" in text


def test_summary_of_a_tanh_rescaling_says_the_function_changed():
    r = Rescaled(2.0, 0, 0.5, 0.6, 1.0, 1.5, 0.2, homogeneous=False)
    _, text = rescale_page.summary(r, "tanh")
    assert "not positively homogeneous" in text and "0.2" in text
