"""The example notebook runs top to bottom in a fresh kernel, and its own asserts hold."""
import json
import time
from pathlib import Path

import nbclient  # the `test` extra: a missing one fails here, never skips the notebook
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "loss_landscape.ipynb"
TIMEOUT_S = 120  # per cell; the whole notebook takes ~15 s on 2 cores


def _execute(nb, cwd):
    # "python3" is the kernel ipykernel installs in this environment (found without a user-level
    # kernelspec, so it works with a fresh $HOME as in CI).
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    started = time.monotonic()
    _execute(nb, tmp_path_factory.mktemp("notebook"))
    return nb, time.monotonic() - started


def test_the_notebook_runs_without_an_error(executed):
    nb, seconds = executed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    assert seconds < 60, f"the notebook took {seconds:.0f} s"


def test_every_code_cell_ran(executed):
    nb, _ = executed
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_the_figures_and_the_app_are_shown(executed):
    nb, _ = executed
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) >= 6
    kinds = {t["type"] for f in figures for t in f["data"]["application/vnd.plotly.v1+json"]["data"]}
    assert {"contour", "surface", "scatter", "scatter3d"} <= kinds
    frames = [o["data"]["text/html"] for o in outputs if "<iframe" in str(o.get("data", {}).get("text/html", ""))]
    assert len(frames) == 1, "lossviz.show displays the app inline, in an iframe (Dash's jupyter_mode)"
    assert "http://127.0.0.1:" in frames[0]


def test_a_failing_assert_in_the_notebook_fails_the_run(tmp_path):
    # Guards the tests above: a cell that raises does stop the run with an error.
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import lossviz\nassert 1 == 2, 'boom'")])
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="boom"):
        _execute(nb, tmp_path)


def test_the_committed_notebook_has_no_outputs():
    # Outputs would be megabytes of plotly JSON in the repository; the notebook makes its own.
    nb = json.loads(NOTEBOOK.read_text())
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
