"""The page's state as one table: each row is a URL key, the widget it drives, and how its
value reads from and writes to a link (``?dataset=circles&hidden=8,8&lr=0.03``).

The run settings' keys are the RunConfig field names; the view keys are ``grid range plane log_z
display surface_of page``; compare mode is ``compare=FIELD&b=VALUE``. Ranges are not repeated
here: ``from_query`` checks each value with the parser the widget's own callback uses
(``app/page/controls.py``, ``app/page/compare.py``), so a link never fills a box with a value Train would
refuse: a bad value keeps its default, and the message names the key and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode

from lossviz import ACTIVATIONS, DATASETS, LOSSES, OPTIMIZERS, RunConfig, tabular

from ..runs import caps
from . import ids
from .compare import COMPARE_FIELDS, suggestion
from .controls import BY_FIELD, CONTROLS, DEFAULT as CONTROL_DEFAULTS, MAX_HIDDEN_LAYERS, VIEW_DEFAULTS, parse_hidden
from ..views.compute import NORMALIZATIONS, SURFACES
from ..views.compute import PLANES as VIEW_PLANES

MAX_QUERY = 2000
GRID_MIN, GRID_MAX = 11, int(caps.limit("grid"))
PLANES = (*VIEW_PLANES, "compare")
DISPLAYS = ("2d", "3d", "both")
PAGES = ("plots", "why", "curvature", "surfaces")


@dataclass(frozen=True)
class Row:
    key: str  # the URL key
    widget: str  # the component id
    prop: str
    default: Any
    read: Callable[[str], Any]  # URL text -> widget value (ValueError: fall back, naming the key)
    write: Callable[[Any], str] = str  # widget value -> URL text
    allowed: str = ""  # the values it takes, in words (a run setting's: the engine's range)


def _choice(names) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in names:
            raise ValueError(f"choose one of {', '.join(names)}")
        return text
    return read


def _control(c) -> Callable[[str], str]:
    """A text box's URL value, checked by the box's own parser (its words, not its label)."""
    def read(text: str) -> str:
        try:
            c.parse(text, c.label)
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix(f"{c.label}: ")) from None
        return text
    return read


def _span(text: str) -> str:
    try:
        if not 0 < float(text) <= caps.limit("range"):
            raise ValueError
    except ValueError:
        raise ValueError(f"'{text[:40]}' is not a number above 0, up to {caps.limit('range'):g}") from None
    return text


def _int_in(lo: int, hi: int) -> Callable[[str], int]:
    def read(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = None
        if v is None or not lo <= v <= hi:
            raise ValueError(f"'{text[:40]}' is not a whole number between {lo} and {hi}")
        return v
    return read


def _dataset(text: str) -> str:
    """A registry name, or an uploaded table's (``csv:<hash>``; its file is in the run store)."""
    if tabular.is_table_name(text):
        tabular.parse_table_name(text)
        return text
    return _choice(list(DATASETS))(text)


_REGISTRY = {"dataset": DATASETS, "loss": LOSSES, "optimizer": OPTIMIZERS, "activation": ACTIVATIONS}
URL_KEYS = {"n_samples": "samples", "outlier_fraction": "outliers"}  # RunConfig field -> URL key
ROWS: tuple[Row, ...] = tuple(
    Row(URL_KEYS.get(c.field, c.field), c.id, "value", c.default,
        (_dataset if c.field == "dataset" else _choice(list(_REGISTRY[c.field]))) if c.kind == "dropdown"
        else _control(c), str, c.allowed)
    for c in CONTROLS) + (
    Row("grid", ids.GRID, "value", VIEW_DEFAULTS["grid"], _int_in(GRID_MIN, GRID_MAX), str,
        f"between {GRID_MIN} and {GRID_MAX}"),
    Row("range", ids.RANGE, "value", str(VIEW_DEFAULTS["span"]), _span, str,
        f"above 0, up to {caps.limit('range'):g}"),
    Row("plane", ids.DIRECTIONS, "value", "random", _choice(PLANES), str, ", ".join(PLANES)),
    Row("norm", ids.NORMALIZATION, "value", "filter", _choice(list(NORMALIZATIONS)), str, ", ".join(NORMALIZATIONS)),
    Row("log_z", ids.LOG_Z, "value", [], lambda t: ["log"] if t in ("1", "true", "yes") else [],
        lambda v: "1" if v else "0", "0 or 1"),
    Row("display", ids.DISPLAY, "value", "both", _choice(DISPLAYS), str, ", ".join(DISPLAYS)),
    Row("surface_of", ids.SURFACE_OF, "value", "train", _choice(list(SURFACES)), str, ", ".join(SURFACES)),
    Row("page", ids.PAGE_VIEW, "value", "plots", _choice(PAGES), str, ", ".join(PAGES)),
    Row("present", ids.PRESENT, "value", [], lambda t: ["on"] if t in ("1", "true", "yes") else [],
        lambda v: "1" if v else "0", "0 or 1"),
)
BY_KEY = {r.key: r for r in ROWS}
# URL keys that name RunConfig fields by their field name (issue: `samples` is `n_samples`, and
# `noise`, `outliers` follow the controls' field names).
ALIASES = URL_KEYS
SPECIAL = ("hidden", "compare", "b", "lesson")


def to_query(values: dict[str, Any], hidden: list[str], compare: dict | None) -> str:
    """The link's query for the widget values ({key: value}), the hidden widths and compare mode."""
    pairs = [(k, BY_KEY[k].write(v)) for k, v in values.items() if k in BY_KEY and v is not None]
    pairs.insert(4, ("hidden", ",".join(str(w) for w in hidden)))
    if compare:
        value = compare["value"]
        pairs += [("compare", compare["vary"]),
                  ("b", ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))]
    return "?" + urlencode(pairs, safe=",")


def from_query(search: Any) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """Widget values a link sets ({(id, prop): value}) and a message per key it could not use."""
    if not isinstance(search, str) or len(search) > MAX_QUERY:
        return {}, (["the link is too long: the page kept its defaults"] if isinstance(search, str) else [])
    raw = {ALIASES.get(k, k): v[-1] for k, v in parse_qs(search.lstrip("?"), keep_blank_values=True).items()}
    out: dict[tuple[str, str], Any] = {}
    problems = []
    for key, text in raw.items():
        if key in BY_KEY:
            try:
                out[(BY_KEY[key].widget, BY_KEY[key].prop)] = BY_KEY[key].read(text)
            except ValueError as exc:
                problems.append(f"'{key}': {exc}; kept its default {BY_KEY[key].write(BY_KEY[key].default)}")
        elif key not in SPECIAL:
            problems.append(f"'{key}' is not a setting; ignored")
    if "hidden" in raw:
        widths = [w.strip() for w in raw["hidden"].split(",") if w.strip()]
        try:
            if len(widths) > MAX_HIDDEN_LAYERS or not all(w.isdigit() for w in widths):
                raise ValueError(f"up to {MAX_HIDDEN_LAYERS} whole numbers like 16,16")
            parse_hidden(len(widths), widths)  # each width in its range
            out[(ids.LAYERS, "value")] = len(widths)
            out[("widths", "value")] = widths + ["16"] * (MAX_HIDDEN_LAYERS - len(widths))
        except ValueError as exc:
            default = ",".join(map(str, CONTROL_DEFAULTS.hidden))
            problems.append(f"'hidden': {exc}; kept its default {default}")
    if "compare" in raw:
        field = raw["compare"]
        if field not in COMPARE_FIELDS:
            problems.append(f"'compare': choose one of {', '.join(COMPARE_FIELDS)}; compare mode stays off")
        else:
            out[(ids.COMPARE, "value")] = ["on"]
            out[(ids.COMPARE_FIELD, "value")] = field
            out[(ids.COMPARE_CHOICE if COMPARE_FIELDS[field].options else ids.COMPARE_VALUE, "value")] = \
                _compare_value(field, raw, problems)
    elif "b" in raw:
        problems.append("'b' is run B's value in compare mode, which needs 'compare'; ignored")
    return out, problems


def _compare_value(field: str, raw: dict[str, str], problems: list[str]) -> str:
    """Run B's value (``b``) in a link, checked as compare mode's own box or dropdown checks it;
    when it is missing or bad, the value compare mode suggests for run A's setting in the link."""
    f, text = COMPARE_FIELDS[field], raw.get("b")
    names = [o["value"] for o in f.options]
    if text is not None:
        try:
            if f.options and text not in names:
                raise ValueError(f"choose one of {', '.join(names)}")
            if f.parse is not None:
                f.parse(text)
            return text
        except ValueError as exc:
            problems.append(f"'b': {exc}; run B gets the suggested value")
    choice, suggested = suggestion(field, _run_a(field, raw))
    return choice if f.options else suggested


def _run_a(field: str, raw: dict[str, str]) -> RunConfig:
    """Defaults, with run A's value of ``field`` as the link gives it (when the link's is good)."""
    try:
        if field == "hidden":
            widths = [w.strip() for w in raw["hidden"].split(",") if w.strip()]
            value = parse_hidden(len(widths), widths)
        elif BY_FIELD[field].kind == "text":
            value = BY_FIELD[field].parse(raw[URL_KEYS.get(field, field)], "")
        else:
            value = raw[field]
        return RunConfig(**{field: value})
    except (KeyError, ValueError):
        return RunConfig()
