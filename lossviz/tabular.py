"""Your own data: a CSV file read into arrays, its task detected and said in words.

``read_csv(bytes)`` parses a table (a header row naming the columns, then one row per sample;
the label is the last column unless named) and refuses anything it cannot learn from with a
message naming the row or column. ``dataset_from_table`` splits and standardizes it into the
same :class:`~lossviz.split.Dataset` the registry's sets are. A table is known by a hash of
its bytes: ``RunConfig(dataset="csv:<hash>")`` names it, and the data itself comes with the
call (``Trainer(config, data=...)``), since no registry holds it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .split import TEST_FRACTION_RANGE, Dataset, build_dataset, check_int, check_number, split_rows

MAX_BYTES = 5 * 2 ** 20
MAX_ROWS = 20_000
MIN_ROWS = 20
MAX_FEATURES = 100
MAX_CLASSES = 20
FEW_VALUES = 10  # whole-number labels with at most this many distinct values are classes
HASH_CHARS = 16
PREFIX = "csv:"
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
_NAME = re.compile(r"csv:([0-9a-f]{%d})(?::([0-9]{1,3}))?" % HASH_CHARS)
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")  # 0,844  -1,5e-3


@dataclass(frozen=True, eq=False)
class TableData:
    """A parsed table: features ``X`` (n, d) float64, labels ``y`` (n,) — int64 class indices
    into ``class_names`` for classification, float64 for regression — and what was found."""

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: tuple[str, ...]
    label: str
    label_index: int  # the label's column in the file (0-based)
    n_columns: int
    class_names: tuple[str, ...]  # () for regression
    reason: str  # why this task, in words
    content_hash: str  # sha256 of the file's bytes, first HASH_CHARS hex digits
    blank_lines: int = 0
    decimal_comma: bool = False  # numbers written 0,844 (read as 0.844)

    @property
    def name(self) -> str:
        """The dataset name a RunConfig uses: ``csv:<hash>``, ``csv:<hash>:<k>`` when the label
        is column ``k`` rather than the last (the same file with another label is other data)."""
        tail = "" if self.label_index == self.n_columns - 1 else f":{self.label_index}"
        return f"{PREFIX}{self.content_hash}{tail}"

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (1 for regression, as in a Dataset)."""
        return len(self.class_names) if self.task == "classification" else 1

    def describe(self, test_fraction: float | None = None) -> str:
        """What was read and what will be done with it, in one or two sentences."""
        feats = ", ".join(self.feature_names[:4]) + (", …" if self.n_features > 4 else "")
        text = (f"{self.n_rows:,} rows, {self.n_features} feature{'s' * (self.n_features != 1)} ({feats}); "
                f"{self.reason}")
        if self.task == "classification":
            counts = np.bincount(self.y, minlength=self.n_classes)
            shown = ", ".join(f"{n} {c}" for c, n in list(zip(self.class_names, counts))[:6])
            text += f" ({self.n_classes} classes: {shown}{', …' if self.n_classes > 6 else ''})"
        text += ". Decimal commas read as decimal points" if self.decimal_comma else ""
        text += ". Nothing dropped"
        text += f" ({self.blank_lines} blank line{'s' * (self.blank_lines != 1)} skipped)." if self.blank_lines else "."
        target = " and the target" if self.task == "regression" else ""
        split = f"{test_fraction:.0%} of the rows held out for testing" if test_fraction is not None \
            else "a share of the rows held out for testing"
        strat = ", class shares kept" if self.task == "classification" else ""
        return text + f" Features{target} standardized with the training rows' mean and std; {split}{strat}."


# ---------------------------------------------------------------- names
def is_table_name(name: object) -> bool:
    """True for a dataset name of the uploaded-table form (``csv:...``), well formed or not."""
    return isinstance(name, str) and name.startswith(PREFIX)


def parse_table_name(name: str) -> tuple[str, int | None]:
    """``(content hash, label column or None for the last)`` of ``csv:<hash>[:<k>]``."""
    m = _NAME.fullmatch(name) if isinstance(name, str) else None
    if m is None:
        raise ValueError(f"dataset {name!r} is not an uploaded table's name: expected 'csv:' and "
                         f"{HASH_CHARS} hex digits (the file's sha256), optionally ':<label column>'")
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def content_hash(data: bytes) -> str:
    """The first HASH_CHARS hex digits of the sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()[:HASH_CHARS]


# ---------------------------------------------------------------- reading
def _text_of(data: object) -> str:
    """The file's bytes as text; ValueError for too big, empty, binary or non-UTF-8 files."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise ValueError(f"the file is {len(data) / 2 ** 20:.1f} MB: at most {MAX_BYTES // 2 ** 20} MB")
    if not data.strip():
        raise ValueError("the file is empty")
    nul = data.find(b"\x00")
    if nul >= 0:
        row = data[:nul].count(b"\n") + 1
        raise ValueError(f"this is not a text file (a zero byte in row {row}): save the table as CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n") + 1
        raise ValueError(f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} in row {row}): "
                         "save it as CSV UTF-8") from None


def _rows(text: str) -> tuple[list[tuple[int, list[str]]], int, str]:
    """``[(row number, cells)]`` of the non-blank rows, header first, how many blank lines, and
    the delimiter (the one of ``,;<tab>`` the header holds most of)."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, blank = [], 0
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                blank += 1
                continue
            rows.append((reader.line_num, [c.strip() for c in cells]))
            if len(rows) > MAX_ROWS + 1:
                raise ValueError(f"more than {MAX_ROWS:,} rows (row {reader.line_num:,} is one too many)")
    except csv.Error as exc:
        raise ValueError(f"row {reader.line_num}: {exc}") from None
    return rows, blank, delimiter


def _decimal_commas(body: list[tuple[int, list[str]]], delimiter: str) -> tuple[list[tuple[int, list[str]]], bool]:
    """The rows with numbers written ``0,844`` read as ``0.844``, and whether any was.

    A spreadsheet set to a language with decimal commas saves "CSV" separated by semicolons (or
    tabs), its numbers with commas. Only in such files, and only cells that are such a number:
    in a comma-separated file "1,234" may be a thousand and more (it stays text, and the message
    about it says why).
    """
    if delimiter == ",":
        return body, False
    found = False
    out = []
    for row, cells in body:
        fixed = [c.replace(",", ".") if "," in c and _DECIMAL_COMMA.fullmatch(c) else c for c in cells]
        found = found or fixed != cells
        out.append((row, fixed))
    return out, found


def _header(rows: list[tuple[int, list[str]]]) -> list[str]:
    names = rows[0][1]
    if len(names) < 2:
        raise ValueError(f"the file has a single column ({names[0]!r}): it needs at least one feature "
                         "column and a label column, separated by commas")
    if len(names) - 1 > MAX_FEATURES:
        raise ValueError(f"the file has {len(names)} columns: at most {MAX_FEATURES + 1} "
                         f"({MAX_FEATURES} features and a label)")
    for i, n in enumerate(names):
        if not n:
            raise ValueError(f"column {i + 1} has no name in the header (row {rows[0][0]})")
        if n in names[:i]:
            raise ValueError(f"columns {names.index(n) + 1} and {i + 1} are both named {n!r}")
    if all(_number(n) is not None for n in names):
        raise ValueError(f"row {rows[0][0]} should name the columns but holds only numbers: add a header row")
    return names


def _number(cell: str) -> float | None:
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _label_index(names: list[str], label: str | int | None) -> int:
    if label is None:
        return len(names) - 1
    if isinstance(label, int) and not isinstance(label, bool):
        if not 0 <= label < len(names):
            raise ValueError(f"label column {label} does not exist: the file has {len(names)} columns")
        return label
    if label not in names:
        raise ValueError(f"no column named {label!r}; the columns are: {', '.join(names)}")
    return names.index(label)


def _column(rows: list[tuple[int, list[str]]], j: int) -> list[str]:
    return [cells[j] for _, cells in rows]


def _feature(rows: list[tuple[int, list[str]]], j: int, name: str) -> np.ndarray:
    """Column ``j`` as float64 (n,); ValueError naming the first missing or text cell."""
    cells = _column(rows, j)
    try:
        col = np.fromiter(map(float, cells), np.float64, len(cells))
        if np.isfinite(col).all():
            return col
    except ValueError:
        pass
    for (row, _), cell in zip(rows, cells):
        if cell.lower() in MISSING:
            raise ValueError(f"missing value in column {name!r}, row {row}: fill it in or remove the row")
        if _number(cell) is None:
            what = "is not a finite number" if _is_float(cell) else "is text"
            hint = ("; decimal commas are read in files separated by semicolons or tabs (a spreadsheet's "
                    "'CSV (semicolon separated)'): save it so, or with decimal points"
                    if _DECIMAL_COMMA.fullmatch(cell) else "; feature columns must hold numbers")
            raise ValueError(f"column {name!r}, row {row}: {cell[:30]!r} {what}{hint}")
    raise AssertionError("unreachable: a bad cell was not found")


def _is_float(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _labels(rows: list[tuple[int, list[str]]], j: int, name: str) -> tuple[np.ndarray, str, tuple[str, ...], str]:
    """``(y, task, class names, reason)`` for label column ``j``."""
    cells = _column(rows, j)
    for (row, _), cell in zip(rows, cells):
        if cell.lower() in MISSING:
            raise ValueError(f"missing label in row {row} (column {name!r}): fill it in or remove the row")
    numbers = [_number(c) for c in cells]
    text_rows = [(row, c) for (row, _), c, v in zip(rows, cells, numbers) if v is None]
    distinct = sorted(set(cells)) if text_rows else sorted(set(numbers))
    if len(distinct) < 2:
        raise ValueError(f"label column {name!r} holds one value only ({distinct[0]!r} in every row): "
                         "there is nothing to learn")
    if text_rows and len(text_rows) < len(cells):
        row, cell = text_rows[0]
        raise ValueError(f"label column {name!r} mixes numbers and text ({cell[:30]!r} in row {row}): "
                         "use either class names or numbers")
    if not text_rows and not all(v == round(v) for v in distinct):
        return np.array(numbers), "regression", (), \
            f"label column {name!r} holds numbers with fractions → regression"
    if not text_rows and len(distinct) > FEW_VALUES:
        return np.array(numbers), "regression", (), (f"label column {name!r} holds {len(distinct)} different "
                                                     f"whole numbers (more than {FEW_VALUES}) → regression")
    if len(distinct) > MAX_CLASSES:
        raise ValueError(f"label column {name!r} holds {len(distinct)} different text values: at most "
                         f"{MAX_CLASSES} classes (is it a name or id column? pick another label)")
    names = tuple(distinct) if text_rows else tuple(f"{v:g}" for v in distinct)
    index = {v: i for i, v in enumerate(distinct)}
    y = np.array([index[c] for c in (cells if text_rows else numbers)], dtype=np.int64)
    kind = "text values" if text_rows else f"whole numbers (at most {FEW_VALUES} distinct)"
    return y, "classification", names, f"label column {name!r} holds {len(distinct)} {kind} → classification"


def read_csv(data: bytes, *, label: str | int | None = None) -> TableData:
    """Read a CSV table (header row first) into features and labels, detecting the task.

    Parameters
    ----------
    data : bytes
        The file, at most ``MAX_BYTES`` (5 MB) of UTF-8 text; comma, semicolon or tab separated.
        In a semicolon- or tab-separated file, numbers with a decimal comma (``0,844``) are read.
    label : str, int or None
        The label column, by name or 0-based index; None: the last column.

    Returns
    -------
    TableData
        ``X`` (n, d) float64 and ``y`` (n,). Text labels, and whole-number labels with at most
        ``FEW_VALUES`` distinct values, make a classification (classes sorted); other numbers a
        regression. ``reason`` says which and why; ``describe()`` says what was done.

    Raises
    ------
    ValueError
        Naming the row or column: too big, empty, binary or non-UTF-8 file; a single column; more
        than ``MAX_FEATURES`` features; a missing value; text in a feature column; one class only;
        fewer than ``MIN_ROWS`` or more than ``MAX_ROWS`` rows; rows of the wrong length.
    """
    rows, blank, delimiter = _rows(_text_of(data))
    names = _header(rows)
    j = _label_index(names, label)
    body = rows[1:]
    for row, cells in body:
        if len(cells) != len(names):
            raise ValueError(f"row {row} has {len(cells)} values but the header names {len(names)} columns")
    if len(body) < MIN_ROWS:
        raise ValueError(f"the table has {len(body)} data rows: at least {MIN_ROWS} are needed")
    body, decimal_comma = _decimal_commas(body, delimiter)
    features = [k for k in range(len(names)) if k != j]
    X = np.column_stack([_feature(body, k, names[k]) for k in features])
    y, task, classes, reason = _labels(body, j, names[j])
    return TableData(X, y, task, tuple(names[k] for k in features), names[j], j, len(names), classes, reason,
                     content_hash(bytes(data)), blank, decimal_comma)


# ---------------------------------------------------------------- to a Dataset
def dataset_from_table(table: TableData, *, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Split ``table`` (stratified by class where possible) and standardize it by the training rows.

    Returns
    -------
    Dataset
        Named ``table.name``; regression targets standardized too (``target_mean``/``target_std``),
        so a loss starts near 1 whatever the units. The same table, fraction and seed give
        identical arrays.
    """
    if not isinstance(table, TableData):
        raise TypeError(f"table must be a lossviz TableData (from read_csv), got {type(table).__name__}")
    frac = check_number("test_fraction", test_fraction, *TEST_FRACTION_RANGE)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    classify = table.task == "classification"
    parts = split_rows(table.X, table.y, frac, classify, rng)
    data = build_dataset(table.name, table.task, table.n_classes, parts, True, not classify)
    return replace(data, feature_names=tuple(table.feature_names), class_names=tuple(table.class_names))


@lru_cache(maxsize=8)
def dataset_from_csv(data: bytes, name: str, *, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The Dataset a config naming ``name`` (``csv:<hash>[:<k>]``) trains on, from the file's bytes.

    Memoized (a pure function of its arguments; datasets are read-only), so views that rebuild
    the data on every request parse the file once. ValueError when the bytes are another file.
    """
    digest, label = parse_table_name(name)
    if content_hash(data) != digest:
        raise ValueError(f"these bytes are not the table {name!r} (their hash is {content_hash(data)})")
    return dataset_from_table(read_csv(data, label=label), test_fraction=test_fraction, seed=seed)


def supplied(name: str, data: Dataset | None) -> Dataset:
    """Check ``data`` is the Dataset a config naming the table ``name`` needs."""
    parse_table_name(name)
    if data is None:
        raise ValueError(f"dataset {name!r} is an uploaded table, in no registry: pass its data "
                         "(lossviz.dataset_from_table(lossviz.read_csv(file_bytes), ...)) as data=")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a lossviz Dataset, got {type(data).__name__}")
    if data.name != name:
        raise ValueError(f"data is the dataset {data.name!r}, but the settings name {name!r}")
    return data
