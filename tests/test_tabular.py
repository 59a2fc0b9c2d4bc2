"""Your own data (lossviz.tabular): every accepted and refused table, the split, and the run."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import lossviz
from lossviz import RunConfig, Trainer, dataset_from_table, read_csv
from lossviz.experiment import Experiment
from lossviz.tabular import MAX_BYTES, MAX_ROWS, dataset_from_csv, parse_table_name


def table(n=60, label="text", header="x1,x2,label", seed=0, sep=","):
    """CSV bytes: two features, the label derived from them (text classes, ints or floats)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    rows = [header.replace(",", sep)]
    for a, b in X:
        y = {"text": "red" if a + b > 0 else "blue", "int": str(int(a > 0) + int(b > 0)),
             "float": f"{a - 2 * b:.5f}", "many": str(int(100 * a))}[label]
        rows.append(sep.join([f"{a:.5f}", f"{b:.5f}", y]))
    return ("\n".join(rows) + "\n").encode()


def with_cell(data: bytes, row: int, col: int, value: str) -> bytes:
    """``data`` with the cell at 1-based ``row`` (the header is row 1), 0-based ``col`` replaced."""
    lines = data.decode().split("\n")
    cells = lines[row - 1].split(",")
    cells[col] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines).encode()


# ---------------------------------------------------------------- accepted
def test_text_labels_are_classes_and_it_says_why():
    t = read_csv(table())
    assert t.task == "classification"
    assert t.class_names == ("blue", "red")
    assert t.feature_names == ("x1", "x2") and t.label == "label"
    assert t.X.shape == (60, 2) and t.y.dtype == np.int64 and set(t.y) == {0, 1}
    assert "label column 'label' holds 2 text values → classification" in t.reason
    text = t.describe(0.2)
    for words in ("60 rows", "2 features", "2 classes", "Nothing dropped", "20% of the rows held out"):
        assert words in text, text


def test_few_whole_numbers_are_classes_many_or_fractions_are_a_regression():
    t = read_csv(table(label="int"))
    assert t.task == "classification" and t.class_names == ("0", "1", "2")
    assert "whole numbers" in t.reason
    t = read_csv(table(label="float"))
    assert t.task == "regression" and t.n_classes == 1 and t.y.dtype == np.float64
    assert "fractions → regression" in t.reason
    t = read_csv(table(label="many", n=200))
    assert t.task == "regression" and "different whole numbers (more than 10) → regression" in t.reason


def test_label_by_name_or_index_and_the_name_records_it():
    data = table(label="float", header="x1,x2,y")
    last = read_csv(data)
    first = read_csv(data, label="x1")
    assert first.feature_names == ("x2", "y") and first.label == "x1"
    assert first.task == "regression" and first.label_index == 0
    assert np.array_equal(first.y, last.X[:, 0])
    with pytest.raises(ValueError, match="column 'label', row 2: 'blue' is text"):
        read_csv(table(), label="x1")  # the text column is a feature now
    assert last.name == f"csv:{hashlib.sha256(data).hexdigest()[:16]}"
    assert first.name == last.name + ":0"
    assert read_csv(data, label=0).name == first.name
    assert parse_table_name(first.name) == (last.content_hash, 0)


def test_semicolons_tabs_bom_crlf_quotes_and_blank_lines():
    base = read_csv(table())
    for sep in (";", "\t"):
        assert np.array_equal(read_csv(table(sep=sep)).X, base.X)
    crlf = b"\xef\xbb\xbf" + table().replace(b"\n", b"\r\n").replace(b"x1", b'"x1"')
    t = read_csv(crlf + b"\r\n\r\n")
    assert t.feature_names[0] == "x1" and np.array_equal(t.X, base.X) and t.blank_lines == 2
    assert "2 blank lines skipped" in t.describe()


def european(data: bytes, sep: str = ";") -> bytes:
    """``data`` as a spreadsheet in a decimal-comma language saves it: ``sep`` between cells,
    a comma for the decimal point."""
    return data.replace(b",", sep.encode()).replace(b".", b",")


@pytest.mark.parametrize("sep", [";", "\t"])
@pytest.mark.parametrize("label", ["text", "float"])
def test_decimal_commas_in_semicolon_or_tab_files_are_read(sep, label):
    base = read_csv(table(label=label))
    t = read_csv(european(table(label=label), sep))
    assert t.decimal_comma and not base.decimal_comma
    assert np.array_equal(t.X, base.X) and np.array_equal(t.y, base.y) and t.task == base.task
    assert "Decimal commas read as decimal points" in t.describe()
    assert "Decimal commas" not in base.describe()


def test_decimal_commas_mixed_with_points_text_and_exponents():
    rows = ["a;b;c;label"] + [f"{i},5;{i}.25;-{i},5e-3;{'yes' if i % 2 else 'no'}" for i in range(30)]
    t = read_csv(("\n".join(rows) + "\n").encode())
    assert t.X[3].tolist() == [3.5, 3.25, -3.5e-3] and t.class_names == ("no", "yes")


def test_a_decimal_comma_in_a_comma_separated_file_says_what_to_do():
    data = with_cell(table(), 4, 0, '"0,844"')  # quoted: one cell, but "1,234" could be a thousand here
    with pytest.raises(ValueError) as exc:
        read_csv(data)
    text = str(exc.value)
    assert "column 'x1', row 4: '0,844' is text" in text and "semicolon" in text and "decimal points" in text


def test_same_bytes_same_hash_other_bytes_other_hash():
    a, b = read_csv(table()), read_csv(bytes(bytearray(table())))
    assert a.content_hash == b.content_hash and a.name == b.name
    assert read_csv(table(seed=1)).content_hash != a.content_hash


# ---------------------------------------------------------------- refused, naming where
REFUSED = {
    "empty": (b"", "the file is empty"),
    "only blank lines": (b"\n \n\t\n", "the file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file (a zero byte in row 3)"),
    "latin-1": ("a,b\n1,2\n3,caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 in row 3)"),
    "single column": (b"x\n1\n2\n", "single column ('x')"),
    "too many columns": ((",".join(f"c{i}" for i in range(102)) + "\n").encode(), "102 columns: at most 101"),
    "numbers for a header": (b"1,2,3\n4,5,6\n", "row 1 should name the columns"),
    "duplicate names": (b"a,b,a\n1,2,3\n", "columns 1 and 3 are both named 'a'"),
    "unnamed column": (b"a,,y\n1,2,3\n", "column 2 has no name"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_files(case):
    data, words = REFUSED[case]
    with pytest.raises(ValueError) as exc:
        read_csv(data)
    assert words in str(exc.value)


@pytest.mark.parametrize("row, col, value, words", [
    (5, 1, "", "missing value in column 'x2', row 5"),
    (9, 0, "NA", "missing value in column 'x1', row 9"),
    (7, 0, "abc", "column 'x1', row 7: 'abc' is text"),
    (4, 1, "inf", "column 'x2', row 4: 'inf' is not a finite number"),
    (11, 2, "", "missing label in row 11 (column 'label')"),
    (6, 2, "3", "label column 'label' mixes numbers and text ('blue' in row 2)"),
])
def test_refused_cells_name_row_and_column(row, col, value, words):
    data = with_cell(table(), row, col, value)
    with pytest.raises(ValueError) as exc:
        read_csv(data)
    assert words in str(exc.value)


def test_refused_tables_name_what_is_wrong():
    one_class = b"a,b,y\n" + b"".join(f"{i},{i * 2},same\n".encode() for i in range(30))
    many = b"a,y\n" + b"".join(f"{i},name{i}\n".encode() for i in range(30))
    ragged = with_cell(table(), 6, 2, "red,extra")
    constant = b"a,y\n" + b"".join(f"{i},1.5\n".encode() for i in range(30))
    cases = [(one_class, "holds one value only ('same' in every row)"),
             (constant, "holds one value only"),
             (many, "holds 30 different text values: at most 20 classes"),
             (ragged, "row 6 has 4 values but the header names 3 columns"),
             (table(n=12), "the table has 12 data rows: at least 20"),
             (b"x" * (MAX_BYTES + 1), "at most 5 MB"),
             (b"a,y\n" + b"1,2\n" * (MAX_ROWS + 1), "more than 20,000 rows (row 20,002")]
    for data, words in cases:
        with pytest.raises(ValueError) as exc:
            read_csv(data)
        assert words in str(exc.value), (words, str(exc.value))
    with pytest.raises(ValueError, match="no column named 'nope'; the columns are: x1, x2, label"):
        read_csv(table(), label="nope")
    with pytest.raises(TypeError):
        read_csv("a,b\n1,2")


def test_largest_allowed_table_is_read():
    data = b"a,b,y\n" + b"".join(f"{i % 97},{i % 13},{i % 3}\n".encode() for i in range(MAX_ROWS))
    t = read_csv(data)
    assert t.n_rows == MAX_ROWS and t.task == "classification"


# ---------------------------------------------------------------- the split
def test_split_is_standardized_stratified_and_seeded():
    t = read_csv(table(n=200))
    d = dataset_from_table(t, test_fraction=0.25, seed=3)
    assert d.name == t.name and d.task == "classification" and d.n_classes == 2
    assert len(d.y_test) == 50 and len(d.y_train) == 150
    assert np.allclose(d.X_train.mean(0), 0, atol=1e-12) and np.allclose(d.X_train.std(0), 1)
    share = np.bincount(t.y) / len(t.y)
    assert np.allclose(np.bincount(d.y_test) / 50, share, atol=0.02)
    again = dataset_from_table(read_csv(table(n=200)), test_fraction=0.25, seed=3)
    assert np.array_equal(again.X_train, d.X_train) and np.array_equal(again.y_test, d.y_test)
    other = dataset_from_table(t, test_fraction=0.25, seed=4)
    assert not np.array_equal(other.y_test, d.y_test)


def test_regression_target_is_standardized():
    d = dataset_from_table(read_csv(table(label="float", n=100)), seed=0)
    assert d.task == "regression" and abs(d.y_train.mean()) < 1e-12 and abs(d.y_train.std() - 1) < 1e-12
    assert d.target_std > 1


# ---------------------------------------------------------------- runs on a table
def _trained(data: bytes, steps=30):
    t = read_csv(data)
    config = RunConfig(dataset=t.name, hidden=(8,), epochs=steps, seed=5)
    trainer = Trainer(config, data=dataset_from_csv(data, t.name, test_fraction=config.test_fraction,
                                                     seed=config.seed))
    trainer.advance(steps)
    return trainer


def test_same_file_gives_the_same_run_bit_for_bit():
    a = _trained(table(n=80))
    dataset_from_csv.cache_clear()
    b = _trained(bytes(bytearray(table(n=80))))
    assert a.config == b.config
    assert a.step_count == b.step_count == 30
    assert np.array_equal(a.params, b.params)
    c = _trained(table(n=80, seed=1))
    assert c.config != a.config


def test_config_names_a_table_and_the_engine_needs_its_data():
    t = read_csv(table())
    config = RunConfig(dataset=t.name)
    assert RunConfig.from_dict(config.to_dict()) == config
    for bad in ("csv:", "csv:xyz", "csv:" + "0" * 15, "csv:" + "g" * 16, t.name + ":x"):
        with pytest.raises(ValueError, match="not an uploaded table's name"):
            RunConfig(dataset=bad)
    with pytest.raises(ValueError, match="pass its data"):
        Trainer(config)
    with pytest.raises(ValueError, match="but the settings name"):
        Trainer(config, data=dataset_from_table(read_csv(table(seed=2))))
    with pytest.raises(ValueError, match="only|uploaded table"):
        Trainer(RunConfig(), data=dataset_from_table(t))
    with pytest.raises(ValueError, match="not the table"):
        dataset_from_csv(table(seed=2), t.name)


def test_loss_is_checked_against_the_tables_task():
    data = table(label="float")
    t = read_csv(data)
    config = RunConfig(dataset=t.name, loss="cross_entropy")  # the task is not known yet
    with pytest.raises(ValueError, match="regression"):
        Trainer(config, data=dataset_from_table(t))
    Trainer(config.replace(loss="huber"), data=dataset_from_table(t)).advance(3)


def test_restored_trainer_and_compare_mode_take_the_data():
    t = read_csv(table())
    d = dataset_from_table(t)
    config = RunConfig(dataset=t.name, hidden=(4,), epochs=20)
    a = Trainer(config, data=d)
    a.advance(7)
    b = Trainer.from_state_dict(config, a.state_dict(), data=d)
    a.advance(5), b.advance(5)
    assert np.array_equal(a.params, b.params)
    exp = Experiment(config, "lr", 0.1, data=d)
    assert exp.b.data is d and exp.same_start
    assert next(lossviz.train(config, data=d)).step == 0
