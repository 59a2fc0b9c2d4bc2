"""Your own data over HTTP: the upload callback (big body allowed for it alone), the label choice,
a run trained and drawn on the table, a link to a table the store no longer has."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from app.runs import caps
from app.page import ids
from app.runs.run import TABLE_GONE
from app.runs.store import RunStore
from dash_client import app, config_for, draw, follow, page, press, updates  # noqa: F401
from lossviz import tabular


def iris_like(n=90, seed=0, extra_cols=0) -> bytes:
    rng = np.random.default_rng(seed)
    names = ["setosa", "versicolor", "virginica"]
    head = ",".join(["sepal", "petal"] + [f"e{i}" for i in range(extra_cols)] + ["species"])
    rows = [head]
    for i in range(n):
        k = i % 3
        vals = [2 * k + rng.normal(), k + rng.normal()] + list(rng.normal(size=extra_cols))
        rows.append(",".join(f"{v:.6f}" for v in vals) + f",{names[k]}")
    return ("\n".join(rows) + "\n").encode()


def blank(data: bytes, row: int, col: int) -> bytes:
    """``data`` with the cell at 1-based ``row`` (header: row 1), 0-based ``col`` emptied."""
    lines = data.split(b"\n")
    cells = lines[row - 1].split(b",")
    cells[col] = b""
    lines[row - 1] = b",".join(cells)
    return b"\n".join(lines)


def as_upload(data: bytes, filename="iris.csv") -> dict:
    return {"contents": "data:text/csv;base64," + base64.b64encode(data).decode(), "filename": filename}


def by_input(page, component):
    hits = [d for d in page.server_callbacks() if any(i["id"] == component for i in d["inputs"])]
    assert len(hits) == 1, hits
    return hits[0]


def upload(page, data: bytes, filename="iris.csv"):
    status, body = page.call(page.find(ids.STORE_UPLOAD, "data"), {(ids.STORE_UPLOAD_FILE, "data"):
                                                                    as_upload(data, filename)})
    assert status == 200, status
    return updates(body)


def test_good_upload_selects_the_table_and_says_what_it_did(page):
    data = iris_like()
    up = upload(page, data)
    name = f"csv:{tabular.content_hash(data)}"
    assert up[ids.DATASET]["value"] == name
    assert {"label": "iris.csv", "value": name} in [{k: o[k] for k in ("label", "value")}
                                                   for o in up[ids.DATASET]["options"]]
    note = up[ids.UPLOAD_NOTE]["children"]
    for words in ("iris.csv", "90 rows", "2 features", "'species' holds 3 text values → classification",
                  "Nothing dropped", "standardized"):
        assert words in note, note
    assert up[ids.SAMPLES]["value"] == "90"
    assert [o["label"] for o in up[ids.UPLOAD_LABEL]["options"]] == ["sepal", "petal", "species"]
    assert up[ids.UPLOAD_LABEL]["value"] == 2
    assert up[ids.STORE_UPLOAD]["data"]["hash"] == tabular.content_hash(data)


def test_a_run_on_the_table_trains_and_draws(page):
    data = iris_like(seed=1)
    name = upload(page, data)[ids.DATASET]["value"]
    config = config_for(page, {(ids.DATASET, "value"): name, (ids.SAMPLES, "value"): "90",
                               (ids.EPOCHS, "value"): "15"})
    assert config["dataset"] == name
    status, body = press(page, ids.TRAIN, config)
    assert status == 200
    up = updates(body)
    run = up[ids.STORE_RUN]["data"]
    stream, steps, _ = follow(page, run, up[ids.STORE_CURSOR]["data"])
    assert stream["done"] and steps[-1] == 15, stream["status"]
    assert "accuracy" in stream["status"] and "finished" in stream["status"]
    status, body = draw(page, run)
    assert status == 200
    assert updates(body)[ids.GRAPH_CONTOUR]["figure"]["data"][0]["type"] == "contour"


@pytest.mark.parametrize("data, words", [
    (blank(iris_like(), 4, 0), "Could not use bad.csv: missing value in column 'sepal', row 4"),
    (iris_like().replace(b"virginica", b"", 1), "missing label in row 4 (column 'species')"),
    (b"", "Could not use bad.csv: the file is empty"),
    (b"\x00\x01\x02", "not a text file"),
    ("a,b\n1,caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 in row 2)"),
    (b"only\n1\n2\n", "single column ('only')"),
])
def test_bad_upload_names_the_problem_and_changes_nothing_else(page, data, words):
    up = upload(page, data, "bad.csv")
    assert words in up[ids.UPLOAD_NOTE]["children"], up
    assert set(up) == {ids.UPLOAD_NOTE}


def test_garbled_upload_is_a_message(page):
    status, body = page.call(page.find(ids.STORE_UPLOAD, "data"),
                             {(ids.STORE_UPLOAD_FILE, "data"): {"contents": "data:text/csv;base64,@@@", "filename": "x"}})
    assert status == 200 and "garbled" in updates(body)[ids.UPLOAD_NOTE]["children"]
    status, body = page.call(page.find(ids.STORE_UPLOAD, "data"), {(ids.STORE_UPLOAD_FILE, "data"): "nonsense"})
    assert status == 204 or (status == 200 and not updates(body))


def test_big_body_is_allowed_for_the_upload_alone(page):
    data = iris_like(n=3000, extra_cols=10)  # ~400 KB of CSV, over the 256 KiB request cap
    assert len(data) * 4 / 3 > caps.limit("request_bytes")
    up = upload(page, data, "wide.csv")
    assert "3,000 rows, 12 features" in up[ids.UPLOAD_NOTE]["children"]
    # the same size to any other callback is refused
    dep = page.find(ids.STORE_CONFIG, "data")
    status, _ = page.call(dep, {(ids.SEED, "value"): "1" * 400_000}, changed=[f"{ids.SEED}.value"])
    assert status == 413
    over = b"a,y\n" + b"1,2\n" * (caps.limit("upload_bytes") // 4)
    status, _ = page.call(page.find(ids.STORE_UPLOAD, "data"), {(ids.STORE_UPLOAD_FILE, "data"): as_upload(over)})
    assert status == 413


def test_other_label_column_is_other_data(page):
    data = iris_like(seed=2).replace(b"setosa", b"0").replace(b"versicolor", b"1").replace(b"virginica", b"2")
    upload(page, data)
    loaded = {"hash": tabular.content_hash(data), "filename": "iris.csv", "name": "x", "label": 2}
    status, body = page.call(by_input(page, ids.UPLOAD_LABEL), {(ids.UPLOAD_LABEL, "value"): 0,
                                                               (ids.STORE_UPLOAD, "data"): loaded,
                                                               (ids.LOSS, "value"): "cross_entropy"})
    assert status == 200
    up = updates(body)
    assert up[ids.DATASET]["value"] == f"csv:{tabular.content_hash(data)}:0"
    assert "'sepal' holds numbers with fractions → regression" in up[ids.UPLOAD_NOTE]["children"]
    assert up[ids.LOSS]["value"] == "mse"  # cross-entropy is not for regression
    status, body = page.call(by_input(page, ids.UPLOAD_LABEL), {(ids.UPLOAD_LABEL, "value"): 2,
                                                               (ids.STORE_UPLOAD, "data"): loaded})
    assert status == 204 or not updates(body)  # the label it has: nothing to do


def test_link_to_a_table_the_store_lost_says_to_upload_it_again(page):
    missing = "csv:" + "0" * 16
    status, body = page.call(_link_dep(page),
                             {(ids.DATASET, "value"): missing}, changed=[f"{ids.DATASET}.value"])
    assert status == 200
    up = updates(body)
    assert up[ids.UPLOAD_NOTE]["children"] == TABLE_GONE
    assert missing in [o["value"] for o in up[ids.DATASET]["options"]]
    data = iris_like(seed=3)
    upload(page, data)  # now the store has it: a link shows its file and columns
    status, body = page.call(_link_dep(page), {(ids.DATASET, "value"): f"csv:{tabular.content_hash(data)}"},
                             changed=[f"{ids.DATASET}.value"])
    up = updates(body)
    assert "iris.csv: 90 rows" in up[ids.UPLOAD_NOTE]["children"]
    assert len(up[ids.UPLOAD_LABEL]["options"]) == 3


def _link_dep(page):
    return next(d for d in page.server_callbacks()
                if [i["id"] for i in d["inputs"]] == [ids.DATASET] and "upload" in d["output"])


def test_a_link_keeps_a_table_dataset():
    from app.page.state import from_query

    values, problems = from_query("?dataset=csv:" + "a" * 16 + ":2")
    assert values[(ids.DATASET, "value")] == "csv:" + "a" * 16 + ":2" and not problems
    values, problems = from_query("?dataset=csv:zz")
    assert (ids.DATASET, "value") not in values and "'dataset'" in problems[0]


def test_store_keeps_tables_by_hash_within_the_cap(tmp_path):
    store = RunStore.open(str(tmp_path))
    data = iris_like()
    digest = tabular.content_hash(data)
    store.put_table(digest, data, "iris.csv", "o" * 32)
    assert store.table(digest) == data and store.table_filename(digest) == "iris.csv"
    assert store.table("0" * 16) is None and store.table("../etc") is None and store.table(None) is None
    with pytest.raises(ValueError, match="hash"):
        store.put_table("0" * 16, data, "x.csv", "o" * 32)
    big = b"x" * (int(caps.limit("table_bytes")) + 1)
    with pytest.raises(caps.CapExceeded, match="table_bytes"):
        store.put_table(tabular.content_hash(big), big, "big.csv", "o" * 32)
    store.close()


def test_a_tables_real_size_is_capped_when_the_run_is_made(tmp_path):
    from app.runs.run import create_experiment
    from lossviz import RunConfig

    rng = np.random.default_rng(0)
    head = ",".join(f"f{i}" for i in range(100)) + ",y"
    data = (head + "\n" + "\n".join(",".join(f"{v:.2f}" for v in rng.normal(size=100)) + f",{i % 2}"
                                     for i in range(5000)) + "\n").encode()
    store = RunStore.open(str(tmp_path))
    digest = tabular.content_hash(data)
    config = RunConfig(dataset=f"csv:{digest}", hidden=(512,), n_samples=5000)
    caps.check_config(config)  # from the settings alone: a lower bound passes
    with pytest.raises(LookupError, match="upload the same file"):
        create_experiment(store, config, "owner")
    store.put_table(digest, data, "wide.csv", "o" * 32)
    with pytest.raises(caps.CapExceeded, match="work_per_step"):
        create_experiment(store, config, "owner")  # 100 inputs × 512 × 5,000 rows: over the cap
    hot = create_experiment(store, config.replace(hidden=(8,)), "owner")[0]
    assert hot["n_rows"] == 5000 and hot["n_params"] == 101 * 8 + 9 * 2
    store.close()


def test_why_the_loss_matters_reads_a_tables_task_and_classes(page):
    data = iris_like(seed=4)
    name = upload(page, data)[ids.DATASET]["value"]
    config = config_for(page, {(ids.DATASET, "value"): name, (ids.SAMPLES, "value"): "90"})
    dep = page.find(ids.WHY_FORMULA_A, "children")
    status, body = page.call(dep, {(ids.PAGE_VIEW, "value"): "why", (ids.STORE_CONFIG, "data"): config},
                             changed=[f"{ids.PAGE_VIEW}.value"])
    assert status == 200
    up = updates(body)
    assert "Cross" in up[ids.WHY_TITLE_A]["children"] and up[ids.WHY_FORMULA_A]["children"]
    profile = up[ids.GRAPH_PROFILE]["figure"]
    assert profile["data"] and "went wrong" not in str(up.get(ids.VIEW_ERROR, ""))


def test_the_data_plot_names_a_tables_classes_and_columns(page):
    import lossviz
    from app.views.drawing import data_figure
    from app.runs.run import RunView
    from app.views.compute import data_view

    table = tabular.read_csv(iris_like(seed=5))
    data = tabular.dataset_from_table(table)
    config = lossviz.RunConfig(dataset=f"csv:{table.content_hash}", n_samples=90, epochs=2)
    trainer = lossviz.Trainer(config, data=data)
    run = RunView("r", 0, config, data, trainer.net, trainer.params, trainer.trajectory)
    fig = data_figure(data_view(run))
    names = {t["name"] for t in fig["data"][1:]}
    assert {"setosa (train)", "virginica (test)"} <= names
    assert fig["layout"]["xaxis"]["title"]["text"] == "sepal" and fig["layout"]["yaxis"]["title"]["text"] == "petal"
