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


def _import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (every relative import, late ones included)."""
    import ast

    names = {f.stem for f in package.glob("*.py")}
    graph = {}
    for f in package.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        graph[f.stem] = deps & names
    return graph


def _cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    found = set()

    def walk(start, node, path):
        for nxt in graph.get(node, ()):
            if nxt == start:
                found.add(tuple(sorted(path)))
            elif nxt not in path:
                walk(start, nxt, path + [nxt])

    for module in graph:
        walk(module, module, [module])
    return found


def test_the_engine_has_no_import_loop():
    """Data sits below config: lossviz.datasets and lossviz.tabular (and the split and generators
    below them) read their ranges from lossviz.ranges and never import lossviz.config, which
    imports them (no late imports)."""
    graph = _import_graph(ROOT / "lossviz")
    assert not _cycles(graph), sorted(_cycles(graph))
    assert "config" not in graph["datasets"] | graph["tabular"] | graph["split"] | graph["generators"]


def test_the_loop_check_sees_a_loop():
    assert _cycles({"config": {"datasets"}, "datasets": {"tabular"}, "tabular": {"config"}}) == {
        ("config", "datasets", "tabular")}


def test_the_engine_never_names_the_app():
    """lossviz.show reaches the app through an entry point, not an import of ``app``."""
    import ast

    for f in (ROOT / "lossviz").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            assert not [n for n in names if n.split(".")[0] == "app"], f"{f.name} imports the app"
