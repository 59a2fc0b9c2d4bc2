"""lossviz.load, app.plotting and lossviz.show: what a notebook uses."""
import json
import pickle
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

import lossviz
from lossviz.export import main as export_main
from app.plotting import plot_curves, plot_surface
from conftest import PLOTS_DRAWN_JS

ROOT = Path(__file__).resolve().parents[1]
FLAGS = "--dataset moons --samples 200 --hidden 8,8 --optimizer sgd --lr 0.5 --epochs 40 --grid 15"


def _export(path: Path, *extra: str) -> Path:
    assert export_main([*FLAGS.split(), *extra, "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return _export(tmp_path_factory.mktemp("npz") / "one.npz")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    return _export(tmp_path_factory.mktemp("npz") / "two.npz", "--compare", "loss=mse")


# --- load ------------------------------------------------------------------------------------

def test_load_round_trips_a_single_export(single):
    run = lossviz.load(single)
    with np.load(single, allow_pickle=False) as raw:
        assert sorted(run.arrays) == sorted(raw.files)
        for key in raw.files:
            np.testing.assert_array_equal(run.arrays[key], raw[key])
        np.testing.assert_array_equal(run.surface, raw["surface"])
        np.testing.assert_array_equal(run.trajectory, raw["trajectory"])
        np.testing.assert_array_equal(run.alphas, raw["alphas"])
        assert run.final["train_loss"] == raw["train_loss"].item()
    assert run.settings == {"dataset": "moons", "epochs": 40, "seed": lossviz.RunConfig().seed, "hidden": (8, 8),
                            "activation": "tanh", "loss": "cross_entropy", "huber_delta": 1.0,
                            "label_smoothing": 0.0, "optimizer": "sgd", "lr": 0.5, "momentum": 0.9, "l2": 0.0,
                            "l1": 0.0, "batch_size": 0}
    assert run.layer_sizes == (2, 8, 8, 2) and run.task == "classification"
    assert run.b is None and run.compare is None and run.directions == "filter"


def test_loaded_curves_and_path_agree_with_the_final_state(single):
    run = lossviz.load(single)
    T = len(run.trajectory)
    assert all(v.shape == (T,) for v in run.curves.values())
    assert run.curves["step"][0] == 0 and run.curves["step"][-1] == run.final["steps"] == 40
    assert np.all(np.diff(run.curves["step"]) > 0)
    for key in ("train_loss", "test_loss", "train_metric", "test_metric"):
        assert run.curves[key][-1] == pytest.approx(run.final[key], rel=1e-9)
    assert run.curves["train_loss"][0] > run.curves["train_loss"][-1]
    # The plane is centred on the final weights: the path ends at (0, 0) at the final loss.
    assert run.path.shape == (T, 2) and np.allclose(run.path[-1], 0, atol=1e-9)
    assert run.path_loss[-1] == pytest.approx(run.final["train_loss"], rel=1e-9)


def test_a_loaded_run_is_read_only(single):
    run = lossviz.load(single)
    with pytest.raises(ValueError):
        run.surface[0, 0] = 1.0
    with pytest.raises(ValueError):
        run.curves["train_loss"][0] = 1.0
    with pytest.raises(AttributeError):
        run.surface = None


def test_load_gives_run_b_of_a_comparison(compared):
    run = lossviz.load(compared)
    raw = dict(np.load(compared, allow_pickle=False))
    assert run.compare == ("loss", "mse")
    b = run.b
    assert b is not None and b.b is None
    assert b.settings["loss"] == "mse" and run.settings["loss"] == "cross_entropy"
    np.testing.assert_array_equal(b.surface, raw["surface_b"])
    np.testing.assert_array_equal(b.trajectory, raw["trajectory_b"])
    np.testing.assert_array_equal(b.params_final, raw["params_final_b"])
    np.testing.assert_array_equal(b.params_init, run.params_init)  # one start
    assert b.final["train_loss"] == raw["train_loss_b"].item()
    assert b.curves["train_loss"][-1] == pytest.approx(raw["train_loss_b"].item(), rel=1e-9)
    for shared in ("alphas", "betas", "d1", "d2", "center"):
        np.testing.assert_array_equal(getattr(b, shared), getattr(run, shared))
    # The compare plane goes through the common start (0, 0); A's path ends on the alpha axis.
    assert np.allclose(run.path[0], 0, atol=1e-9) and np.allclose(b.path[0], 0, atol=1e-9)
    assert run.path[-1][0] == pytest.approx(np.linalg.norm(run.params_final - run.params_init), rel=1e-6)
    assert "b: loss = mse" in repr(run)


class _Trap:
    """Unpickling this writes a file: a load that unpickles would leave it behind."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "unpickled"))


@pytest.mark.parametrize("kind", ["pickle", "object_npz"])
def test_load_never_unpickles(tmp_path, kind):
    marker, path = tmp_path / "unpickled.txt", tmp_path / "run.npz"
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"surface": _Trap(marker)}))
    else:
        np.savez(path, surface=np.array([_Trap(marker)], dtype=object))
    with pytest.raises(ValueError, match="is not a lossviz export"):
        lossviz.load(path)
    assert not marker.exists()


def test_load_refuses_what_is_not_an_export(tmp_path, single):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an archive at all")
    with pytest.raises(ValueError, match="not a zip archive"):
        lossviz.load(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, surface=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="no layer_sizes.*trajectory"):
        lossviz.load(other)
    partial = tmp_path / "partial.npz"
    arrays = dict(np.load(single, allow_pickle=False))
    del arrays["d2"]
    np.savez(partial, **arrays)
    with pytest.raises(ValueError, match=r"export: no d2$"):
        lossviz.load(partial)
    with pytest.raises(FileNotFoundError, match="no file"):
        lossviz.load(tmp_path / "missing.npz")


# --- plotting --------------------------------------------------------------------------------

def _traces(fig, kind):
    return [t for t in fig.data if t.type == kind]


def test_plot_surface_of_a_loaded_run_holds_its_surface_and_path(compared):
    run = lossviz.load(compared)
    fig = plot_surface(run)
    (contour,) = _traces(fig, "contour")
    np.testing.assert_array_equal(np.asarray(contour.z), run.surface.T)  # plotly: z[row = beta][col = alpha]
    np.testing.assert_array_equal(np.asarray(contour.x), run.alphas)
    np.testing.assert_array_equal(np.asarray(contour.y), run.betas)
    lines = {t.name: t for t in _traces(fig, "scatter") if t.mode == "lines"}
    np.testing.assert_array_equal(np.asarray(lines["path A"].x), run.path[:, 0])
    np.testing.assert_array_equal(np.asarray(lines["path A"].y), run.path[:, 1])
    np.testing.assert_array_equal(np.asarray(lines["path B"].x), run.b.path[:, 0])
    np.testing.assert_array_equal(np.asarray(plot_surface(run.b).data[0].z), run.b.surface.T)


def test_plot_surface_of_engine_arrays_in_3d():
    trainer = lossviz.Trainer(lossviz.RunConfig(n_samples=100, hidden=(4,), epochs=30))
    trainer.advance(30)
    d1, d2 = lossviz.random_directions(trainer.params, trainer.net, seed=0)
    alphas, betas = np.linspace(-1, 1, 11), np.linspace(-0.5, 0.5, 7)
    on = dict(layer_sizes=trainer.net.layer_sizes, activation="tanh", loss="cross_entropy")
    X, y = trainer.data.X_train, trainer.data.y_train
    z = lossviz.surface(trainer.params, d1, d2, alphas, betas, X, y, **on)
    coords, losses = lossviz.trajectory_on_plane(trainer.trajectory, trainer.params, d1, d2, X, y, **on)
    fig = plot_surface(z, alphas, betas, path=(coords, losses), kind="3d")
    (surf,) = _traces(fig, "surface")
    assert np.asarray(surf.z).shape == (7, 11)
    np.testing.assert_array_equal(np.asarray(surf.z), z.T)
    path = next(t for t in _traces(fig, "scatter3d") if t.mode == "lines")
    np.testing.assert_array_equal(np.asarray(path.z), losses)
    np.testing.assert_array_equal(np.asarray(path.x), coords[:, 0])
    logged = plot_surface(z, alphas, betas, path=coords, path_loss=losses, kind="3d", log_z=True)
    np.testing.assert_allclose(np.asarray(logged.data[0].z), np.log10(z.T))


def test_plot_surface_reads_a_path_without_losses_off_the_surface():
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-2, 2, 9)
    z = alphas[:, None] ** 2 + 3 * betas[None, :]  # bilinear reading is exact on a grid node
    coords = np.array([[-1.0, -2.0], [0.5, 0.5], [1.0, 2.0]])
    fig = plot_surface(z, alphas, betas, path=coords, kind="3d")
    path = next(t for t in _traces(fig, "scatter3d") if t.mode == "lines")
    np.testing.assert_allclose(np.asarray(path.z), [1 - 6, 0.25 + 1.5, 1 + 6])


def test_plot_surface_refuses_what_it_cannot_draw():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="kind"):
        plot_surface(z, np.arange(3), np.arange(4), kind="heatmap")
    with pytest.raises(ValueError, match=r"shape \(len\(alphas\), len\(betas\)\)"):
        plot_surface(z, np.arange(4), np.arange(3))
    with pytest.raises(ValueError, match="alphas and betas"):
        plot_surface(z)
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plot_surface(z, np.arange(3), np.arange(4), path=np.zeros(5))


def test_plot_curves_of_a_comparison_and_of_snapshots(compared):
    run = lossviz.load(compared)
    fig = plot_curves(run)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {f"{r} {s} {w}" for r in "AB" for s in ("train", "test") for w in ("loss", "accuracy")}
    np.testing.assert_array_equal(np.asarray(by_name["A train loss"].y), run.curves["train_loss"])
    np.testing.assert_array_equal(np.asarray(by_name["B test accuracy"].y), run.b.curves["test_metric"])
    np.testing.assert_array_equal(np.asarray(by_name["B train loss"].x), run.b.curves["step"])
    snaps = list(lossviz.train(lossviz.RunConfig(dataset="sine", loss="mse", n_samples=100, epochs=15)))
    fig = plot_curves(snaps)
    by_name = {t.name: t for t in fig.data}
    assert list(np.asarray(by_name["train loss"].y)) == [s.train_loss for s in snaps]
    assert list(np.asarray(by_name["test R²"].x)) == [s.step for s in snaps]
    with pytest.raises(ValueError, match="plot_curves"):
        plot_curves([1, 2, 3])


# --- show ------------------------------------------------------------------------------------

def _modules_after(code: str) -> tuple[str, set]:
    done = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}\n"
                           "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *said, modules = done.stdout.strip().splitlines()
    return "\n".join(said), set(json.loads(modules))


def test_show_refuses_an_unknown_setting_before_anything_starts():
    said, loaded = _modules_after(
        "import lossviz\ntry:\n    lossviz.show(learning_rate=0.5)\nexcept ValueError as e:\n    print(e)")
    assert "'learning_rate' is not a setting" in said and "lr" in said
    assert not loaded & {"dash", "flask", "plotly"}, "nothing was started, not even imported"


def test_load_and_the_notebook_modules_import_no_web_framework(single):
    _, loaded = _modules_after(f"import lossviz.notebook, app.plotting\nlossviz.load({str(single)!r})")
    assert "lossviz" in loaded and not loaded & {"dash", "flask", "plotly"}


@pytest.mark.parametrize("settings, words", [
    ({"lr": 1000}, "'lr': must be above 0, up to 100, got '1000'"),
    ({"lr": "fast"}, "'fast' is not a number"),
    ({"dataset": "nope"}, "'dataset': choose one of moons"),
    ({"grid": 5}, "'grid': '5' is not a whole number between 11 and 101"),
    ({"range": 0}, "'range': '0' is not a number above 0"),
    ({"hidden": "a,b"}, "'hidden'"),
    ({"dataset": "sine", "loss": "cross_entropy"}, "Cross-entropy needs classes"),
    ({"compare": "colour"}, "'compare': choose one of loss"),
    ({"compare": "loss", "b": "hinge"}, "'b': choose one of mse"),
    ({"compare": "lr", "b": "-1"}, "Run B's learning rate"),
    ({"b": "mse"}, "'b' is run B's value in compare mode, which needs 'compare'"),
    ({"plane": "compare"}, "needs compare=FIELD"),
    ({"log_z": 1}, "'log_z' takes True or False"),
    ({"lesson": "no-such-lesson"}, "no lesson 'no-such-lesson'"),
    ({"lesson": "cross-entropy-vs-mse", "lr": 0.1}, "drop lr"),
    ({"test_fraction": 0.3}, "'test_fraction' is not a setting"),
    ({"mode": "jupyterlab"}, "mode must be one of inline, external, tab"),
    ({"height": 10}, "height"),
    ({"port": 0}, "port"),
])
def test_show_refuses_a_bad_setting_naming_it(settings, words):
    with pytest.raises(ValueError, match="^lossviz.show: ") as err:
        lossviz.show(**settings)
    assert words in str(err.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NON_DEFAULT = dict(dataset="circles", loss="huber", huber_delta=0.1, hidden=(8, 8), activation="relu",
                   optimizer="momentum", lr=0.03, epochs=60, seed=3, grid=31, log_z=True)


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    port = _free_port()
    s = lossviz.show(mode="external", port=port, **NON_DEFAULT)
    yield s
    s.stop()


def test_show_serves_the_app_on_the_settings_link(shown):
    from app.page.state import from_query

    url = urlparse(shown.url)
    assert url.hostname == "127.0.0.1" and url.path == "/"
    with urllib.request.urlopen(f"http://127.0.0.1:{url.port}/", timeout=30) as page:  # what the iframe opens
        assert page.status == 200 and page.url == shown.url  # redirected to the settings' link
        assert "lossviz" in page.read().decode()
    values, problems = from_query(url.query)
    assert not problems
    assert {w: v for (w, _), v in values.items() if w in ("dropdown-dataset", "input-lr", "input-seed")} == {
        "dropdown-dataset": "circles", "input-lr": "0.03", "input-seed": "3"}
    assert "hidden=8,8" in url.query and "log_z=1" in url.query


def test_the_served_page_restores_the_settings(shown):
    """The page's own restore callback, over HTTP, sets every control the settings name."""
    from app import dash_protocol
    from app.page import ids

    base = shown.url.split("?")[0].rstrip("/")

    class Http:
        def get_json(self, path):
            with urllib.request.urlopen(base + path, timeout=30) as r:
                return json.loads(r.read())

        def post_json(self, path, body):
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())

    page = dash_protocol.Page(Http())
    dep = page.find(ids.STORE_RESTORED, "data")
    status, data = page.call(dep, {(ids.URL, "search"): "?" + urlparse(shown.url).query})
    assert status == 200
    got = dash_protocol.updates(data)
    assert got[ids.DATASET]["value"] == "circles" and got[ids.LOSS]["value"] == "huber"
    assert got[ids.HUBER_DELTA]["value"] == "0.1" and got[ids.LR]["value"] == "0.03"
    assert got[ids.EPOCHS]["value"] == "60" and got[ids.SEED]["value"] == "3"
    assert got[ids.LAYERS]["value"] == 2 and got[ids.GRID]["value"] == 31
    assert got[ids.LOG_Z]["value"] == ["log"]
    assert got[ids.LINK_NOTE]["children"] == ""  # nothing fell back


def test_stop_ends_the_server():
    s = lossviz.show(mode="external", port=_free_port(), lesson="cross-entropy-vs-mse")
    assert "lesson=cross-entropy-vs-mse" in s.url
    with urllib.request.urlopen(s.url, timeout=30) as page:
        assert page.status == 200
    s.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(s.url, timeout=5)


@pytest.mark.browser
def test_the_app_in_an_iframe_opens_with_the_settings(chromium, shown):
    """As in a notebook cell: an iframe on "/" shows the app with every control as asked."""
    base = shown.url.split("?")[0]
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    errors = []
    try:
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.set_content(f'<iframe src="{base}" width="1300" height="850"></iframe>')
        deadline = time.monotonic() + 30
        while not (frame := next((f for f in page.frames if "?" in f.url), None)):
            assert time.monotonic() < deadline, [f.url for f in page.frames]
            time.sleep(0.1)
        frame.wait_for_function(PLOTS_DRAWN_JS, timeout=30_000)
        for field, want in (("input-lr", "0.03"), ("input-epochs", "60"), ("input-seed", "3"),
                            ("input-huber-delta", "0.1")):
            frame.wait_for_function(f"document.getElementById('{field}').value === '{want}'", timeout=15_000)
        assert "Circles" in frame.inner_text("body")
        assert not errors, errors
    finally:
        context.close()
