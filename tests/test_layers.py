"""The package's layering, read from its imports: lower layers never import higher ones.

Every ``import model...`` and ``from model... import`` in every module counts,
including those inside functions and under ``TYPE_CHECKING``: a lazy import
is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "model"

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


def project_imports(path: Path) -> list[tuple[int, str]]:
    """Every project module a file imports, with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("model.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "model":  # ``from model import x``: x is a subpackage or name
                found += [(node.lineno, f"model.{a.name}") for a in node.names]
            elif node.module.startswith("model."):
                found.append((node.lineno, node.module))
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


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
