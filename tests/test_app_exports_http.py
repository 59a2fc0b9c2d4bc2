"""Export over HTTP: each download parses and holds the stored run (no training again):
curves CSV rows = recorded steps, the surface CSV's grid, the JSON's keys, the .npz in the
``lossviz export`` format (both runs with ``_b`` keys in compare mode), and an HTML snapshot that
holds the plot data and no outside URL."""
from __future__ import annotations

import base64
import csv
import io
import json
import re

import numpy as np
import pytest

import lossviz
from app.page import callbacks, ids
from app.views.exports import export_grid
from app.page.layout import PLANES_COMPARE, PLANES_SINGLE
from app.page.panels.export_page import DOWNLOADS
from dash_client import SMALL_RUN, Page, app, config_for, follow, page, press, started_run, updates  # noqa: F401


# A page shows one run (A and B in compare mode): a new run replaces, and deletes, the page's
# last one. So each run made here gets a page of its own, and its downloads go through it.
PAGE_OF: dict = {}


def own_page(page):
    """A new page (its own session) of the app that ``page`` is a page of."""
    return Page(page.client)


def download(page, run, kind, grid=11, plane="random"):
    page = PAGE_OF.get((run or {}).get("run_id"), page)
    dep = page.find(ids.DOWNLOAD, "data")
    trigger = json.dumps({"kind": kind, "type": ids.EXPORT}, separators=(",", ":"))
    values = {(json.dumps({"kind": kind, "type": ids.EXPORT}, sort_keys=True, separators=(",", ":")), "n_clicks"): 1,
              (ids.STORE_RUN, "data"): run, (ids.GRID, "value"): grid, (ids.RANGE, "value"): "1.0",
              (ids.DIRECTIONS, "value"): plane, (ids.SURFACE_OF, "value"): "train", (ids.LOG_Z, "value"): []}
    status, data = page.call(dep, values, changed=[f"{trigger}.n_clicks"])
    assert status == 200, status
    return updates(data)


def content(up):
    d = up[ids.DOWNLOAD]["data"]
    raw = base64.b64decode(d["content"]) if d.get("base64") else d["content"].encode()
    return d["filename"], raw


@pytest.fixture(scope="module")
def finished(page):
    page = own_page(page)
    run, cursor, _ = started_run(page, speed="fast")
    PAGE_OF[run["run_id"]] = page
    stream, steps, _ = follow(page, run, cursor)
    assert stream["done"] and "finished" in stream["status"]
    return run, stream


def test_curves_csv_has_one_row_per_recorded_step(page, finished):
    run, _ = finished
    name, raw = content(download(page, run, "curves_csv"))
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert name.endswith(".csv")
    assert [int(r["step"]) for r in rows] == list(range(0, 101))  # 100 epochs, full batch: every step
    assert set(rows[0]) == {"step", "train_loss", "test_loss", "train_accuracy", "test_accuracy"}
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])


def test_surface_csv_is_the_grid(page, finished):
    run, _ = finished
    _, raw = content(download(page, run, "surface_csv", grid=11))
    rows = list(csv.reader(io.StringIO(raw.decode())))
    assert rows[0] == ["alpha", "beta", "loss"] and len(rows) == 1 + 11 * 11
    values = np.array(rows[1:], dtype=float)
    assert values[:, 0].min() == -1.0 and values[:, 1].max() == 1.0 and np.isfinite(values[:, 2]).all()


def test_json_holds_settings_curves_path_and_surface(page, finished):
    run, _ = finished
    doc = json.loads(content(download(page, run, "json"))[1])
    assert set(doc) >= {"runs", "view", "task", "metric", "link_query"}
    (r,) = doc["runs"]
    assert set(r) >= {"settings", "curves", "path", "surface", "final", "status", "step"}
    assert r["settings"]["n_samples"] == 120 and r["status"] == "finished" and r["step"] == 100
    assert len(r["curves"]["step"]) == 101 and len(r["curves"]["train_accuracy"]) == 101
    assert len(r["path"]["alpha"]) == len(r["path"]["beta"]) >= 2
    assert np.array(r["surface"]).shape == (11, 11) == (len(doc["view"]["alphas"]), len(doc["view"]["betas"]))


def test_npz_is_the_export_format_of_the_stored_run(page, finished):
    run, stream = finished
    _, raw = content(download(page, run, "npz"))
    with np.load(io.BytesIO(raw), allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    config = lossviz.RunConfig.from_dict(config_for(page))
    reference = lossviz.export.compute_export(config, grid=11)
    assert set(arrays) == set(reference)
    np.testing.assert_array_equal(arrays["params_final"], reference["params_final"])
    np.testing.assert_allclose(arrays["surface"], reference["surface"], rtol=1e-12)
    assert int(arrays["steps"]) == 100 and str(arrays["status"]) == str(reference["status"])
    assert float(arrays["train_loss"]) == float(reference["train_loss"])
    assert f"{float(arrays['train_loss']):.4g}" in stream["status"]


def test_html_snapshot_holds_the_plots_and_no_outside_url(page, finished):
    run, _ = finished
    name, raw = content(download(page, run, "html"))
    text = raw.decode()
    assert name.endswith(".html") and "Plotly.newPlot" in text and len(text) > 1_000_000  # plotly.js inside
    figs = json.loads(re.search(r'id="lossviz-figures">(.*?)</script>', text, re.S).group(1))
    kinds = [t["type"] for f in figs for t in f["data"]]
    assert {"contour", "surface", "scatter"} <= set(kinds)
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text)  # nothing loaded from elsewhere
    assert not re.search(r"https?://", text)  # no outside address at all


def test_compare_npz_has_both_runs(page):
    status, data = page.call(page.find(ids.STORE_RUN, "data"),
                             {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_COMPARE, "data"):
                              {"vary": "loss", "value": "mse"}, (ids.TRAIN, "n_clicks"): 1, (ids.SPEED, "value"): "fast"},
                             changed=[f"{ids.TRAIN}.n_clicks"])
    up = updates(data)
    run, cursor = up[ids.STORE_RUN]["data"], up[ids.STORE_CURSOR]["data"]
    follow(page, run, cursor)
    _, raw = content(download(page, run, "npz", plane="compare"))
    with np.load(io.BytesIO(raw), allow_pickle=False) as f:
        assert {"params_final", "params_final_b", "surface_b", "compare"} <= set(f.files)
        assert str(f["loss"]) == "cross_entropy" and str(f["loss_b"]) == "mse"
        np.testing.assert_array_equal(f["params_init"], f["params_init_b"])
    rows = list(csv.DictReader(io.StringIO(content(download(page, run, "curves_csv"))[1].decode())))
    assert len(rows) == 101 and "train_loss_b" in rows[0] and rows[-1]["train_loss_b"] != rows[-1]["train_loss"]


def test_export_before_any_run_says_so(page):
    up = download(page, None, "json")
    assert "Train" in up[ids.EXPORT_NOTE]["children"]


def test_export_grid_gets_coarser_for_big_work():
    assert export_grid((2, 16, 16, 2), 400, 51) == 51
    assert 11 <= export_grid((2, 512, 512, 512, 2), 16000, 101) < 51


# --- every export in every mode and plane -----------------------------------------------------

SINGLE_PLANES = [o["value"] for o in PLANES_SINGLE]
COMPARE_PLANES = [o["value"] for o in PLANES_COMPARE]
COMPARISONS = {"loss": {"vary": "loss", "value": "mse"},  # one shape of network: one shared plane
               "hidden": {"vary": "hidden", "value": [8]}}  # two shapes: each run over its own plane


def compare_run(page, compare):
    page = own_page(page)
    status, data = page.call(page.find(ids.STORE_RUN, "data"),
                             {(ids.STORE_CONFIG, "data"): config_for(page), (ids.STORE_COMPARE, "data"): compare,
                              (ids.TRAIN, "n_clicks"): 1, (ids.SPEED, "value"): "fast"},
                             changed=[f"{ids.TRAIN}.n_clicks"])
    assert status == 200, status
    up = updates(data)
    run = up[ids.STORE_RUN]["data"]
    PAGE_OF[run["run_id"]] = page
    stream, _, _ = follow(page, run, up[ids.STORE_CURSOR]["data"])
    assert stream["done"], stream["status"]
    return run


@pytest.fixture(scope="module")
def compared(page):
    return {name: compare_run(page, c) for name, c in COMPARISONS.items()}


def check_export(page, run, kind, plane, n_runs, own=False):
    """Download ``kind`` for this plane and check it parses and holds every run shown."""
    up = download(page, run, kind, grid=11, plane=plane)
    assert ids.DOWNLOAD in up, up.get(ids.EXPORT_NOTE)  # not "Something went wrong (…)"
    name, raw = content(up)
    assert name == DOWNLOADS[kind][1]
    if kind == "curves_csv":
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
        assert len(rows) == 101 and ("train_loss_b" in rows[0]) == (n_runs == 2)
    elif kind == "surface_csv":
        return check_surface_csv(raw.decode(), n_runs)
    elif kind == "json":
        doc = json.loads(raw)
        assert len(doc["runs"]) == n_runs
        for r in doc["runs"]:
            z = np.array(r["surface"], dtype=float)
            assert z.shape == (len(r["surface_axes"]["alpha"]), len(r["surface_axes"]["beta"]))
            assert np.isfinite(z).all()
        return doc
    elif kind == "npz":
        with np.load(io.BytesIO(raw), allow_pickle=False) as f:
            assert {"params_final", "surface"} <= set(f.files)
            assert ("params_final_b" in f.files) == (n_runs == 2)
            assert np.isfinite(f["surface"]).all()
            if n_runs == 1:  # the plane it holds, said: PCA as the page's, any other plane random
                assert str(f["directions"]) == ("pca" if plane == "pca" else "filter")
            else:  # one plane for both, or (two shapes of network) each run's own
                assert {"d1_b", "layer_sizes_b"} <= set(f.files) if own else "d1_b" not in f.files
                assert np.isfinite(f["surface_b"]).all()
    elif kind == "html":
        text = raw.decode()
        figs = json.loads(re.search(r'id="lossviz-figures">(.*?)</script>', text, re.S).group(1))
        contours = [f for f in figs if any(t["type"] == "contour" for t in f["data"])]
        assert len(contours) == n_runs


def check_surface_csv(text, n_runs):
    rows = list(csv.reader(io.StringIO(text)))
    header, values = rows[0], np.array([[float(c) if c else np.nan for c in r] for r in rows[1:]])
    assert header[:3] == ["alpha", "beta", "loss"]
    assert header[3:] in ([], ["loss_b"], ["alpha_b", "beta_b", "loss_b"]) and (len(header) > 3) == (n_runs == 2)
    assert len(values) == 11 * 11 and np.isfinite(values).all()
    assert len({tuple(r[:2]) for r in values}) == 11 * 11  # every grid point once
    return header, values


@pytest.mark.parametrize("kind", list(DOWNLOADS))
@pytest.mark.parametrize("plane", SINGLE_PLANES)
def test_every_export_of_a_single_run_on_every_plane(page, finished, kind, plane):
    check_export(page, finished[0], kind, plane, 1)


@pytest.mark.parametrize("kind", list(DOWNLOADS))
@pytest.mark.parametrize("plane", COMPARE_PLANES)
@pytest.mark.parametrize("comparison", list(COMPARISONS))
def test_every_export_of_a_comparison_on_every_plane(page, compared, comparison, kind, plane):
    check_export(page, compared[comparison], kind, plane, 2, own=comparison == "hidden")


@pytest.mark.parametrize("comparison", list(COMPARISONS))
def test_compare_surface_csv_holds_each_runs_own_surface(page, compared, comparison):
    """B's column is B's surface (the JSON's), not A's again, nor a row of the stacked pair."""
    run = compared[comparison]
    header, values = check_surface_csv(content(download(page, run, "surface_csv"))[1].decode(), 2)
    doc = json.loads(content(download(page, run, "json"))[1])
    a, b = (np.array(r["surface"], dtype=float).ravel() for r in doc["runs"])
    np.testing.assert_allclose(values[:, 2], a)
    np.testing.assert_allclose(values[:, -1], b)
    assert not np.allclose(a, b)
    assert (header[3:5] == ["alpha_b", "beta_b"]) == (comparison == "hidden")


def test_compare_npz_of_two_network_shapes_loads_with_each_runs_plane(page, compared, tmp_path):
    """Hidden widths 16,16 vs 8: no plane holds both, so each run keeps its own, and
    ``lossviz.load`` reads B with its own shape and plane."""
    path = tmp_path / "own.npz"
    path.write_bytes(content(download(page, compared["hidden"], "npz"))[1])
    loaded = lossviz.load(path)
    assert loaded.b is not None and loaded.compare == ("hidden", "(8,)")
    assert loaded.layer_sizes == (2, 16, 16, 2) and loaded.b.layer_sizes == (2, 8, 2)
    assert loaded.b.params_final.shape == loaded.b.d1.shape != loaded.d1.shape
    assert loaded.b.surface.shape == (11, 11) and np.isfinite(loaded.b.path_loss).all()
    np.testing.assert_allclose(loaded.b.path_loss[-1], loaded.b.final["train_loss"], rtol=1e-6)


# --- the plots offered are those on the page ------------------------------------------------

BOXES = {ids.BOX_CONTOUR: ids.GRAPH_CONTOUR, ids.BOX_SURFACE: ids.GRAPH_SURFACE,
         ids.BOX_CONTOUR_B: ids.GRAPH_CONTOUR_B, ids.BOX_DATA_B: ids.GRAPH_DATA_B, ids.BOX_LINE: ids.GRAPH_LINE}


@pytest.mark.parametrize("compare", [[], ["on"]])
@pytest.mark.parametrize("display", ["2d", "3d", "both"])
def test_export_offers_the_plots_on_the_page_and_only_those(page, display, compare):
    """The plot boxes the page shows (its own display callback says which) are the plots offered
    (compare mode showed "Landscape 3-D", then said it was not on the page)."""
    values = {(ids.DISPLAY, "value"): display, (ids.COMPARE, "value"): compare}
    # The page's boxes come from callbacks.box_styles (the browser runs it as a client-side table).
    styles = dict(zip(callbacks.PLOT_BOXES, callbacks.box_styles(display, bool(compare))))
    shown = {graph for box, graph in BOXES.items() if styles[box].get("display") != "none"}
    shown |= {ids.GRAPH_CURVES, ids.GRAPH_DATA}  # always on the page
    status, data = page.call(page.find(ids.EXPORT_PLOT, "options"),
                             {**values, (ids.EXPORT_PLOT, "value"): ids.GRAPH_SURFACE}, changed=[f"{ids.DISPLAY}.value"])
    assert status == 200
    up = updates(data)[ids.EXPORT_PLOT]
    offered = [o["value"] for o in up["options"]]
    assert set(offered) == shown and len(offered) == len(shown)
    if ids.GRAPH_SURFACE in shown:
        assert "value" not in up  # the plot picked stays picked
    else:
        assert up["value"] == offered[0]
