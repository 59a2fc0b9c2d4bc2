"""Tests for app.page.controls: the control table, parsing raw widget values, shown rows, loss options."""
from dataclasses import fields

import pytest

from app.page import ids
from app.page.controls import (BY_FIELD, CONTROLS, LAYERS_TOOLTIP, WIDTH_TOOLTIP, loss_options,
                          parse_controls, parse_hidden, visible_fields)
from lossviz import DATASETS, LOSSES, OPTIMIZERS, RunConfig

REGRESSION = {"sine", "outliers", "diabetes"}  # what the issue calls regression data
WIDTHS = ["16", "16", "16", "16"]  # the four width boxes as the page first shows them


def browser_defaults() -> dict:
    """Raw values as the page sends them: text boxes hold strings, dropdowns their values."""
    return {c.field: (str(c.default) if c.kind == "text" else c.default) for c in CONTROLS}


def parse(n_layers=2, widths=WIDTHS, **changes):
    return parse_controls({**browser_defaults(), **changes}, n_layers, widths)


# --- defaults -------------------------------------------------------------------------------

def test_defaults_parse_to_the_engine_default_run():
    cfg = parse()
    expected = RunConfig()
    for f in fields(RunConfig):
        if f.name == "noise":
            continue
        assert getattr(cfg, f.name) == getattr(expected, f.name), f.name
    # The noise box shows a number; RunConfig() leaves noise at the dataset's own default (None).
    # Both must mean the same data.
    assert cfg.noise in (expected.noise, DATASETS[expected.dataset].default_noise)


def test_default_hidden_layers_and_widths():
    assert parse().hidden == (16, 16)
    assert parse(n_layers=0).hidden == ()
    assert parse(n_layers=3, widths=["4", "5", "6", "7"]).hidden == (4, 5, 6)


def test_numbers_are_parsed_with_spaces_and_scientific_notation():
    cfg = parse(lr=" 3e-3 ", n_samples="200", seed=" 7")
    assert (cfg.lr, cfg.n_samples, cfg.seed) == (0.003, 200, 7)
    assert isinstance(cfg.n_samples, int) and isinstance(cfg.seed, int)


# --- bad input: a ValueError naming the control -------------------------------------------

@pytest.mark.parametrize("field, raw", [
    ("n_samples", ""), ("n_samples", "abc"), ("n_samples", None), ("n_samples", "12.5"),
    ("n_samples", "5"), ("noise", "abc"), ("epochs", "0"), ("seed", "-1"), ("l2", "nan"),
    ("momentum", "1.5"), ("batch_size", "x"), ("lr", ""), ("lr", "abc"), ("lr", "0"),
])
def test_bad_box_names_its_label(field, raw):
    label = BY_FIELD[field].label
    with pytest.raises(ValueError) as err:
        parse(**{field: raw})
    assert label.lower() in str(err.value).lower()


@pytest.mark.parametrize("raw", ["0", "abc", "600", "", "2.5", "-3"])
def test_bad_width_names_the_layer(raw):
    with pytest.raises(ValueError, match="Width of layer 2"):
        parse(widths=["16", raw, "16", "16"])


def test_hidden_width_box_is_ignored_when_its_layer_is_off():
    assert parse(n_layers=1, widths=["8", "abc", "0", ""]).hidden == (8,)


def test_learning_rate_above_engine_limit_is_a_plain_message():
    with pytest.raises(ValueError) as err:
        parse(lr="1e9")
    assert "learning rate" in str(err.value).lower()


@pytest.mark.parametrize("dataset", sorted(REGRESSION))
def test_cross_entropy_on_regression_data_is_refused(dataset):
    with pytest.raises(ValueError) as err:
        parse(dataset=dataset, loss="cross_entropy")
    msg = str(err.value).lower()
    assert "cross-entropy" in msg or "cross_entropy" in msg
    assert parse(dataset=dataset, loss="mse").loss == "mse"


def test_unknown_dataset_is_a_value_error():
    with pytest.raises(ValueError):
        parse(dataset="__classification")  # the disabled group header of the dropdown


def test_parse_hidden_accepts_fewer_boxes_than_layers_without_crashing():
    # A layer count larger than the boxes present gives only the boxes present (never IndexError).
    assert parse_hidden(2, ["3"]) == (3,)


# --- which rows show -------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", list(DATASETS))
def test_outlier_row_only_for_the_outliers_dataset(dataset):
    shown = visible_fields(dataset, "mse", "adam")
    assert ("outlier_fraction" in shown) == (dataset == "outliers")


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_noise_row_only_where_noise_applies(dataset):
    assert ("noise" in visible_fields(dataset, "mse", "adam")) == DATASETS[dataset].uses_noise
    if dataset in ("iris", "digits", "breast_cancer", "diabetes"):  # real data: no noise knob
        assert "noise" not in visible_fields(dataset, "mse", "adam")


@pytest.mark.parametrize("loss", list(LOSSES))
def test_huber_delta_row_only_for_huber(loss):
    assert ("huber_delta" in visible_fields("moons", loss, "adam")) == (loss == "huber")


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_momentum_row_only_for_momentum_optimizers(optimizer):
    shown = visible_fields("moons", "mse", optimizer)
    assert ("momentum" in shown) == (optimizer in ("momentum", "nesterov"))


def test_always_shown_rows():
    always = {"dataset", "n_samples", "activation", "loss", "optimizer", "lr", "batch_size",
              "epochs", "l2", "l1", "seed"}
    for dataset in DATASETS:
        assert always <= visible_fields(dataset, "huber", "sgd")
    assert always <= visible_fields("nonsense", "nonsense", "nonsense")


# --- loss options ---------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", list(DATASETS))
def test_cross_entropy_greyed_out_on_regression_only(dataset):
    opts = {o["value"]: o for o in loss_options(dataset)}
    assert set(opts) == set(LOSSES)
    regression = dataset in REGRESSION
    assert DATASETS[dataset].task == ("regression" if regression else "classification")
    assert bool(opts["cross_entropy"].get("disabled")) == regression
    if regression:
        assert opts["cross_entropy"]["label"] != LOSSES["cross_entropy"].label  # says why
    for name in ("mse", "huber"):
        assert not opts[name].get("disabled")


# --- the table ------------------------------------------------------------------------------

def test_every_control_has_a_tooltip_and_a_real_field():
    names = {f.name for f in fields(RunConfig)}
    for c in CONTROLS:
        assert c.tooltip.strip(), c.field
        assert c.label.strip(), c.field
        assert c.field in names, c.field
    assert LAYERS_TOOLTIP.strip() and WIDTH_TOOLTIP.strip()


def test_controls_are_unique_and_ids_follow_house_style():
    assert len({c.field for c in CONTROLS}) == len(CONTROLS)
    assert len({c.id for c in CONTROLS}) == len(CONTROLS)
    id_values = {v for k, v in vars(ids).items() if k.isupper()}
    for c in CONTROLS:
        assert c.id in id_values
        assert c.id.split("-")[0] in ("dropdown", "input", "slider", "radio", "checklist")


def test_every_user_settable_run_field_has_a_control():
    # test_fraction is fixed by the app; hidden comes from the layer/width widgets.
    names = {f.name for f in fields(RunConfig)} - {"hidden", "test_fraction"}
    assert names == set(BY_FIELD)


def test_dropdown_defaults_are_among_their_options():
    for c in CONTROLS:
        if c.kind == "dropdown":
            values = [o["value"] for o in c.options if not o.get("disabled")]
            assert c.default in values, c.field


def test_dataset_dropdown_lists_every_dataset_grouped_by_task():
    opts = BY_FIELD["dataset"].options
    values = [o["value"] for o in opts if not o.get("disabled")]
    assert sorted(values) == sorted(DATASETS)
    headers = [i for i, o in enumerate(opts) if o.get("disabled")]
    assert len(headers) == 2
    after_second = [o["value"] for o in opts[headers[1] + 1:]]
    assert set(after_second) == REGRESSION
