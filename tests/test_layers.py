"""The package's layering, read from its imports: lower layers never import higher ones.

Every ``import model...`` and ``from model... import`` in every module counts,
including those inside functions and under ``TYPE_CHECKING``: a lazy import
is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import PACKAGE, modules, project_imports

#: Subpackages from the bottom up; a module may import its own layer and those below.
LAYERS: tuple[str, ...] = (
    "theory",
    "evidence",
    "generative",
    "inference",
    "workflows",
    "outputs",
    "cli",
)


def layer_of(dotted: str) -> str | None:
    """The layer a ``model.<layer>...`` name belongs to (``None`` for the package root)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "model" else None


def test_every_module_sits_in_a_layer():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules outside every layer: {loose}"
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} == set(LAYERS)


def test_layer_of_reads_dotted_names():
    assert layer_of("model.theory.tables") == "theory"
    assert layer_of("model") is None


def test_a_higher_import_is_caught(tmp_path):
    """The check itself can fail: a theory module importing a workflow is seen."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from model.workflows.forecast import summarise\n")
    assert project_imports(bad) == [(2, "model.workflows.forecast")]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_never_import_higher_ones(path):
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:  # the package root (its public API) may import anything
        return
    own = LAYERS.index(rel.parts[0])
    above = [
        f"line {line}: {name}"
        for line, name in project_imports(path)
        if (layer := layer_of(name)) is not None and LAYERS.index(layer) > own
    ]
    assert not above, f"{rel} ({LAYERS[own]}) imports higher layers: {above}"


def test_theory_imports_nothing_else_of_the_project():
    for path in (PACKAGE / "theory").glob("*.py"):
        others = [n for _, n in project_imports(path) if layer_of(n) != "theory"]
        assert not others, f"{path.name} imports {others}"


def test_importing_the_package_has_no_side_effects():
    """Importing every module sets no JAX flags and chooses no matplotlib backend."""
    import subprocess
    import sys

    code = (
        "import importlib, os, pkgutil, matplotlib, model\n"
        "for m in pkgutil.walk_packages(model.__path__, 'model.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "print(os.environ.get('XLA_FLAGS'), matplotlib.rcParams._get_backend_or_none())\n"
    )
    env = {
        k: v for k, v in __import__("os").environ.items() if k not in ("XLA_FLAGS", "MPLBACKEND")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["None", "None"], out.stdout + out.stderr


def module_name(path: Path) -> str:
    """The dotted name of a module file of the package (a package is its ``__init__``)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every module's project imports, function-level ones included, resolved to modules.

    ``from model.a import b`` depends on ``model.a.b`` when that is a module,
    else on ``model.a``.
    """
    paths = {module_name(p): p for p in modules()}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in paths}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in paths:
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    deps.add(sub if sub in paths else node.module)
        graph[name] = deps - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_a_circle_is_caught():
    """The check itself can fail: two modules importing each other (one lazily) are a circle."""
    graph = {
        "model.a": {"model.b"},
        "model.b": {"model.c"},
        "model.c": {"model.a"},
        "model.d": set(),
    }
    assert cycles(graph) == [["model.a", "model.b", "model.c"]]
    assert cycles({"model.a": {"model.b"}, "model.b": set()}) == []


def test_a_lazy_import_counts_as_an_edge(tmp_path):
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    from model.generative.build import build_model\n")
    assert project_imports(lazy) == [(2, "model.generative.build")]


def test_no_module_imports_itself_through_others():
    """No import circle between the package's modules, function-level imports included.

    A circle hidden behind a function-level import still means neither module
    can be understood, tested or moved without the other.
    """
    assert cycles(import_graph()) == []
