"""The engine stands alone: importing lossviz loads no web or plotting framework."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("dash", "plotly", "flask")


def _modules_loaded_by(statement):
    code = (f"import sys, json\n{statement}\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("statement", [
    "import lossviz",
    "import lossviz.training, lossviz.landscape, lossviz.paths, lossviz.directions",
])
def test_engine_import_loads_no_web_framework(statement):
    loaded = _modules_loaded_by(statement)
    assert "lossviz" in loaded
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def test_the_check_can_see_a_forbidden_import():
    # Guards the test above: the same probe does notice a module when it is loaded.
    assert "json" in _modules_loaded_by("import json")
