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


# The app's packages in layers: each may import those before it, never those after.
APP_LAYERS = ("runs", "views", "page")


def _layers_imported(root: Path, top: str = "app") -> dict[str, set[str]]:
    """File (relative to ``root``) -> the layers of ``top`` it imports, for every module under
    ``root / top / <layer>``: relative imports of any level and absolute ``top.…`` ones, late
    (inside a function) included."""
    import ast

    found = {}
    for layer in APP_LAYERS:
        for f in (root / top / layer).rglob("*.py"):
            parts = list(f.relative_to(root).with_suffix("").parts)
            package = parts[:-1]  # a module's package; an __init__'s own package too
            targets = []
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, ast.Import):
                    targets += [a.name.split(".") for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = package[:len(package) - node.level + 1] if node.level else []
                    module = base + (node.module.split(".") if node.module else [])
                    # "from app import views" / "from .. import views" name the layer itself
                    targets += [module + [a.name] for a in node.names] if module == [top] else [module]
            found[str(f.relative_to(root))] = {t[1] for t in targets if len(t) > 1 and t[0] == top} & set(APP_LAYERS)
    return found


def _upward_imports(root: Path) -> list[str]:
    """'file imports layer' for each import of a later layer (runs → views/page, views → page)."""
    later = {layer: set(APP_LAYERS[i + 1:]) for i, layer in enumerate(APP_LAYERS)}
    return sorted(f"{f} imports app.{layer}" for f, layers in _layers_imported(root).items()
                  for layer in layers & later[Path(f).parts[1]])


def test_the_app_packages_import_only_downwards():
    """runs imports neither views nor page; views never imports page (docs/architecture.md)."""
    assert _layers_imported(ROOT)["app/page/view_callbacks.py"] >= {"runs", "views"}  # the checker reads the app
    assert not _upward_imports(ROOT), _upward_imports(ROOT)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    files = {
        "app/runs/__init__.py": "",
        "app/runs/store.py": "import os\nfrom . import codec\n",
        "app/runs/jobs.py": "def late():\n    from ..views.figures import contour_figure\n",
        "app/runs/sub/deep.py": "from ... import page\n",
        "app/views/__init__.py": "",
        "app/views/figures.py": "from ..runs import store\nfrom app.runs.store import RunStore\n",
        "app/views/drawing.py": "import app.page.ids\n",
        "app/page/layout.py": "from ..views import figures\nfrom app import runs\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _upward_imports(tmp_path) == ["app/runs/jobs.py imports app.views", "app/runs/sub/deep.py imports app.page",
                                         "app/views/drawing.py imports app.page"]
