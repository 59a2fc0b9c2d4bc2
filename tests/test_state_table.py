"""The one state table: every run setting's range is the engine's (``FIELD_RANGES``), and the
controls, the link keys and the CLI's help all say and enforce that same range."""
from __future__ import annotations

import math

import pytest

from app.page.controls import BY_FIELD, JS_SAFE_INTEGER
from app.page.state import BY_KEY, URL_KEYS
from lossviz import RunConfig
from lossviz.config import FIELD_RANGES
from lossviz.export import build_parser

NUMBER_FIELDS = [f for f, c in BY_FIELD.items() if c.kind == "text"]


@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_controls_take_exactly_the_engines_range(field):
    c, r = BY_FIELD[field], FIELD_RANGES[field]
    hi = min(r.hi, JS_SAFE_INTEGER) if field == "seed" else r.hi
    for inside in (r.lo if not r.lo_open else (1e-9 if not r.whole else r.lo + 1),
                   hi if not r.hi_open else hi - 1e-6):
        value = c.parse(str(inside), c.label)
        RunConfig(**{field: value})  # the engine takes what the control gives
    for outside in ((r.lo if r.lo_open else r.lo - 1), (hi if r.hi_open else hi + (1 if r.whole else hi * 1e-3))):
        with pytest.raises(ValueError, match=c.label):
            c.parse(str(outside), c.label)


@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_link_rows_and_cli_help_say_the_engines_range(field):
    row = BY_KEY[URL_KEYS.get(field, field)]
    text = FIELD_RANGES[field].text()
    if field != "seed":  # the page narrows the seed to what a JSON number carries exactly
        assert row.allowed == text
    flag = {"n_samples": "--samples", "huber_delta": "--huber-delta", "batch_size": "--batch-size"}.get(field, f"--{field}")
    actions = {a.option_strings[0]: a for a in build_parser()._actions if a.option_strings}
    if flag in actions:
        assert text in actions[flag].help


def test_engine_refuses_what_is_outside_its_range():
    for field in ("lr", "momentum", "l2", "huber_delta", "epochs", "n_samples", "noise"):
        r = FIELD_RANGES[field]
        outside = r.hi if r.hi_open else (r.hi + 1 if r.whole else r.hi * 1.01)
        with pytest.raises(ValueError):
            RunConfig(**{field: outside})
        assert math.isfinite(r.lo)
