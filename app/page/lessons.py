"""Lessons as data: ``app/page/lessons.toml`` holds them, this module loads and checks them.

A lesson is a set of run settings (every ``RunConfig`` field it needs; the rest keep their
defaults), optionally compare mode (run B changes one setting), view options, words for the class
(a title, two sentences, one question) and a *claim*: what the lesson tells the class, in a form
the engine can check. Everything is validated once, at load: a bad file is refused with a
ValueError naming the lesson and the key. ``Lesson.check()`` trains the lesson's exact settings
and measures its claim; ``tests/test_lessons.py`` runs it for every lesson in the file.

A claim's kind comes from one registry (``CLAIMS``, built in ``app.page.claims`` and
``app.page.claims_more``): each says in words what it asserts, which parameters it takes, and how
it is measured. Pure Python and NumPy: no dash.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from lossviz import DATASETS, Experiment, RunConfig
from lossviz.checks import short
from lossviz.landscape import GRID_RANGE

from ..runs import caps
from ..views.compute import SURFACES
from .claims import FIRST_CLAIMS, REQUIRED, RUNS, ClaimKind, Evidence, _choice, _number
from .claims_more import MORE_CLAIMS
from .compare import COMPARE_FIELDS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

LESSONS_FILE = Path(__file__).with_name("lessons.toml")
# Every claim kind a lesson may name: the first ones (app.page.claims), then issue 18.5's.
CLAIMS: dict[str, ClaimKind] = {**FIRST_CLAIMS, **MORE_CLAIMS}
ID_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
TEXTS = ("title", "explanation", "question")
KEYS = ("id", *TEXTS, "settings", "compare", "view", "claim")


@dataclass(frozen=True)
class Compare:
    """Compare mode: run B is run A with ``field`` set to ``value`` (typed as RunConfig holds it)."""

    field: str
    value: Any


@dataclass(frozen=True)
class Claim:
    """What a lesson tells the class: a kind from ``CLAIMS`` and its parameters (``run`` included)."""

    kind: str
    params: Mapping[str, Any]

    def text(self) -> str:
        run, kind = self.params["run"].upper(), CLAIMS[self.kind]
        words = kind.words(self.params) if kind.words else {}
        return kind.says.format(RUN=run, OTHER="B" if run == "A" else "A", **self.params, **words)


@dataclass(frozen=True)
class Verdict:
    holds: bool
    claim: str
    evidence: Evidence

    def __str__(self) -> str:
        runs = "; ".join(f"{r.upper()}: {line}" for r, line in zip(RUNS, self.evidence.per_run))
        return f"{'holds' if self.holds else 'does NOT hold'}: {self.claim} ({runs})"


@dataclass(frozen=True)
class Lesson:
    """One lesson, validated. ``settings`` and ``view`` are read-only mappings."""

    id: str
    title: str
    explanation: str
    question: str
    settings: Mapping[str, Any]
    compare: Compare | None
    view: Mapping[str, Any]
    claim: Claim

    def config(self) -> RunConfig:
        """Run A's config: the lesson's settings, RunConfig's defaults for the rest."""
        return RunConfig.from_dict(self.settings)

    def compare_value(self) -> Any:
        """Run B's value of the compared field as RunConfig holds it (a tuple for ``hidden``),
        or None without compare mode."""
        return None if self.compare is None else self.compare.value

    def experiment(self) -> Experiment:
        """Untrained runs: A and B from one start (compare mode), else run A's one Trainer."""
        if self.compare is None:
            return Experiment(self.config())
        return Experiment(self.config(), self.compare.field, self.compare.value)

    def check(self) -> Verdict:
        """Train the lesson's settings and measure its claim (a second or two for small runs)."""
        evidence = CLAIMS[self.claim.kind].measure(self, self.experiment(), self.claim.params)
        return Verdict(evidence.holds_for[RUNS.index(self.claim.params["run"])], self.claim.text(), evidence)


# --- loading ------------------------------------------------------------------------------

def load_lessons(path: str | Path | None = None) -> list[Lesson]:
    """Every lesson of a TOML file (default: ``app/page/lessons.toml``), in file order.

    ValueError, naming the file, the lesson and the key, for anything the app could not show:
    unknown keys or settings, values RunConfig or the caps refuse, a compare field compare mode
    does not offer, missing text, duplicate ids, an unknown claim kind or parameter.
    """
    path = LESSONS_FILE if path is None else Path(path)
    try:
        stat = path.stat()
    except OSError:
        stat = None  # open() below says what is wrong
    # Read once per version of the file: every page open and lesson switch asks for the lessons
    # (under a class's load, parsing and checking them took ~6% of the server's CPU).
    return list(_parsed(path, stat and (stat.st_mtime_ns, stat.st_size)))


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, version: tuple[int, int] | None) -> tuple[Lesson, ...]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return tuple(_lessons(data))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def lesson_by_id(lessons: list[Lesson], lesson_id: str) -> Lesson:
    """The lesson called ``lesson_id`` (ValueError listing the ids there are)."""
    for lesson in lessons:
        if lesson.id == lesson_id:
            return lesson
    raise ValueError(f"no lesson {short(lesson_id)}; choose one of: {', '.join(l.id for l in lessons)}")


def _lessons(data: dict) -> list[Lesson]:
    extra = sorted(set(data) - {"lesson"})
    if extra or not isinstance(data.get("lesson"), list) or not data["lesson"]:
        raise ValueError(f"expected [[lesson]] tables only{', not ' + ', '.join(extra) if extra else ''}")
    lessons: list[Lesson] = []
    for number, entry in enumerate(data["lesson"], 1):
        lesson = _lesson(entry, number)
        if any(l.id == lesson.id for l in lessons):
            raise ValueError(f"lesson {lesson.id!r}: id: used by two lessons (ids must be unique)")
        lessons.append(lesson)
    return lessons


def _lesson(entry: dict, number: int) -> Lesson:
    name = entry.get("id") if isinstance(entry.get("id"), str) and entry["id"].strip() else f"#{number}"

    def bad(key: str, problem: str) -> ValueError:
        return ValueError(f"lesson {name!r}: {key}: {problem}")

    for key in entry:
        if key not in KEYS:
            raise bad(key, f"unknown key; a lesson has: {', '.join(KEYS)}")
    for key in ("id", *TEXTS):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise bad(key, "missing (a lesson needs some text here)")
    if not ID_PATTERN.fullmatch(entry["id"]):
        raise bad("id", "must be kebab-case: lower-case letters and digits joined by '-'")
    config = _config(entry.get("settings"), bad)
    compare = _compare(entry.get("compare"), config, bad)
    view = _view(entry.get("view", {}), compare, bad)
    claim = _claim(entry.get("claim"), config, compare, bad)
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in entry["settings"].items()}
    return Lesson(entry["id"], *(" ".join(entry[k].split()) for k in TEXTS), MappingProxyType(settings),
                  compare, MappingProxyType(view), claim)


def _config(settings: Any, bad: Callable[[str, str], ValueError]) -> RunConfig:
    if not isinstance(settings, dict):
        raise bad("settings", 'missing: a table of RunConfig fields, e.g. settings = { dataset = "moons" }')
    known = [f.name for f in fields(RunConfig)]
    for key in settings:
        if key not in known:
            raise bad(f"settings.{key}", f"unknown setting; known: {', '.join(known)}")
    try:
        config = RunConfig(**settings)
    except ValueError as exc:
        raise bad(_culprit(settings), str(exc)) from None
    try:
        caps.check_config(config)
    except ValueError as exc:
        raise bad("settings", str(exc)) from None
    return config


def _valid(settings: dict) -> bool:
    try:
        RunConfig(**settings)
        return True
    except ValueError:
        return False


def _culprit(settings: dict) -> str:
    """The settings key a refusal is about: one refused alone, or one whose removal mends the rest."""
    for key, value in settings.items():
        if not _valid({**({"loss": "mse"} if key == "dataset" else {}), key: value}):
            return f"settings.{key}"
    for key in reversed(list(settings)):
        if _valid({k: v for k, v in settings.items() if k != key}):
            return f"settings.{key}"
    return "settings"


def _compare(raw: Any, config: RunConfig, bad: Callable[[str, str], ValueError]) -> Compare | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad("compare", 'must be a table, e.g. compare = { field = "loss", value = "mse" }')
    for key in (*raw, "field", "value"):
        if key not in ("field", "value") or key not in raw:
            raise bad(f"compare.{key}", "missing" if key in ("field", "value") else "unknown key; compare "
                      "has a field and a value")
    field = raw["field"]
    if field not in COMPARE_FIELDS:
        raise bad("compare.field", f"compare mode cannot vary {short(field)}; choose one of: "
                  f"{', '.join(COMPARE_FIELDS)}")
    try:
        config_b = config.replace(**{field: raw["value"]})
        caps.check_config(config_b)
    except ValueError as exc:
        raise bad("compare.value", f"run B: {exc}") from None
    value = getattr(config_b, field)
    if value == getattr(config, field):
        raise bad("compare.value", f"run B's {field} is run A's ({short(value)}): pick another")
    return Compare(field, value)


VIEW = {  # the view options a lesson may set (names as in the page's links)
    "plane": _choice("compare", "random", "pca"),
    "surface_of": _choice(*SURFACES),
    "page": _choice("plots", "why", "curvature", "surfaces"),  # "why": "Why the loss matters"; "curvature": the Hessian
    "display": _choice("2d", "3d", "both"),
    "log_z": _choice(True, False),
    "grid": _number(GRID_RANGE[0], caps.limit("grid"), integral=True),
    "range": _number(0, caps.limit("range"), low_open=True),
}


def _view(raw: Any, compare: Compare | None, bad: Callable[[str, str], ValueError]) -> dict:
    if not isinstance(raw, dict):
        raise bad("view", f"must be a table, e.g. view = {{ page = \"why\" }}; keys: {', '.join(VIEW)}")
    view = {}
    for key, value in raw.items():
        if key not in VIEW:
            raise bad(f"view.{key}", f"unknown view option; known: {', '.join(VIEW)}")
        try:
            view[key] = VIEW[key](value)
        except ValueError as exc:
            raise bad(f"view.{key}", str(exc)) from None
    if view.get("plane") == "compare" and compare is None:
        raise bad("view.plane", "the A–B plane needs compare mode")
    if "plane" in view and compare is not None and compare.field == "hidden":
        raise bad("view.plane", "two network shapes share no plane: each run is drawn on its own")
    return view


def _claim(raw: Any, config: RunConfig, compare: Compare | None,
           bad: Callable[[str, str], ValueError]) -> Claim:
    if not isinstance(raw, dict) or "kind" not in raw:
        raise bad("claim", f"missing: a table such as claim = {{ kind = \"...\", run = \"b\" }}; "
                  f"kinds: {', '.join(CLAIMS)}")
    kind = CLAIMS.get(raw["kind"]) if isinstance(raw["kind"], str) else None
    if kind is None:
        raise bad("claim.kind", f"unknown kind {short(raw['kind'])}; choose one of: {', '.join(CLAIMS)}")
    task = DATASETS[config.dataset].task
    if kind.two_runs and compare is None:
        raise bad("claim.kind", f"{kind.name} compares runs A and B: the lesson needs a compare table")
    if kind.task not in (None, task):
        raise bad("claim.kind", f"{kind.name} needs {kind.task} data; dataset {config.dataset!r} is {task}")
    if kind.same_loss and compare is not None and compare.field in ("loss", "huber_delta"):
        raise bad("claim.kind", f"{kind.name} compares two landscapes of one loss; compare {compare.field} "
                  "draws two losses")
    params = {}
    for key in raw:
        if key != "kind" and key not in kind.params:
            raise bad(f"claim.{key}", f"{kind.name} takes: {', '.join(kind.params)}")
    for key, (parse, default) in kind.params.items():
        if key not in raw and default is REQUIRED:
            raise bad(f"claim.{key}", f"missing (a {kind.name} claim takes: {', '.join(kind.params)})")
        try:
            params[key] = parse(raw[key]) if key in raw else default
        except ValueError as exc:
            raise bad(f"claim.{key}", str(exc)) from None
    if params["run"] == "b" and compare is None:
        raise bad("claim.run", "there is no run B without a compare table")
    claimed = config if params["run"] == "a" else config.replace(**{compare.field: compare.value})
    problem = kind.fits(claimed) if kind.fits else ""
    if problem:
        raise bad("claim.kind", f"{kind.name} {problem}")
    key, problem = kind.fits_params(config, compare, params) if kind.fits_params else ("", "")
    if problem:
        raise bad(f"claim.{key}", f"{kind.name} {problem}")
    return Claim(kind.name, MappingProxyType(params))
