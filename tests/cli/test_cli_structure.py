"""The command line stays thin: small files, and commands that hand their work to a workflow.

Read from the source, as :mod:`tests.test_layers` reads the imports: a
command is a function decorated with ``@app.command(...)``. Each must call
exactly one workflow function (a lower-case name imported from
:mod:`model.workflows`: the request and config classes it may build do not
count), call nothing of the layers below the workflows directly (the plain
sampler settings of :data:`SETTINGS` aside), and stay
within :data:`MAX_STATEMENTS` statements. Imports are not counted: the
commands import lazily so that ``axis --help`` starts fast.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "model" / "cli"

#: Longest file of the command line, in lines.
MAX_LINES = 400

#: Most statements a command's body may hold (docstring and imports aside).
MAX_STATEMENTS = 15

#: Layers a command must reach only through a workflow.
LOWER = ("model.theory", "model.evidence", "model.generative", "model.inference")

#: Plain settings a command may build from its options (a class of data, no work).
SETTINGS = ("model.inference.config",)

#: Commands whose work is the outputs layer's alone, and why.
RENDERS_ONLY = {
    "report_command": "rebuilds a run folder's report from the folder (model.outputs.forecast_run)",
}


def cli_files() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def is_command(fn: ast.AST) -> bool:
    """Whether a function is decorated with ``@app.command`` (with or without arguments)."""
    if not isinstance(fn, ast.FunctionDef):
        return False
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Attribute) and target.attr == "command":
            return True
    return False


def imported_names(tree: ast.AST) -> dict[str, str]:
    """Every name a module binds by an import anywhere, with the module it comes from.

    ``from X import name`` binds ``name`` to ``X``; ``import X.Y as Z`` binds
    ``Z`` to ``X.Y`` (and ``import X.Y`` binds ``X``), so that ``Z.f()`` is
    traced to ``X.Y`` too.
    """
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                names[bound] = alias.name if alias.asname else bound
    return names


def statements(fn: ast.FunctionDef) -> int:
    """Statements in a function's body, nested ones included; docstring and imports aside."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return sum(
        1
        for stmt in body
        for node in ast.walk(stmt)
        if isinstance(node, ast.stmt) and not isinstance(node, ast.Import | ast.ImportFrom)
    )


def called(fn: ast.FunctionDef, names: dict[str, str]) -> dict[str, str]:
    """What a function calls, as ``{called name: module it comes from}``.

    ``f(...)`` is ``f``; ``m.f(...)`` is ``m.f``, from the module ``m`` is
    bound to (``from model.workflows import update; update.f()`` comes from
    ``model.workflows``). Calls on local values (``timer.stage()``) have no
    module and are left out.
    """
    found = {}
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in names:
            found[node.func.id] = names[node.func.id]
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            base = node.func.value.id
            if base in names:
                found[f"{base}.{node.func.attr}"] = names[base]
    return found


def problems(fn: ast.FunctionDef, names: dict[str, str]) -> list[str]:
    """What makes a command fat: too long, no single workflow call, or lower layers reached."""
    found = []
    n = statements(fn)
    if n > MAX_STATEMENTS:
        found.append(f"{n} statements (at most {MAX_STATEMENTS})")
    calls = called(fn, names)
    work = sorted(
        c
        for c, module in calls.items()
        if module.startswith("model.workflows") and c.rsplit(".", 1)[-1][0].islower()
    )
    if fn.name in RENDERS_ONLY:
        if work or not any(m.startswith("model.outputs") for m in calls.values()):
            found.append("must call the outputs layer and no workflow")
    elif len(work) != 1:
        found.append(f"calls {len(work)} workflow functions {work} (exactly one)")
    direct = sorted(
        c for c, module in calls.items() if module.startswith(LOWER) and module not in SETTINGS
    )
    if direct:
        found.append(f"calls the layers below the workflows directly: {direct}")
    return found


def commands() -> list[tuple[Path, ast.FunctionDef, dict[str, str]]]:
    found = []
    for path in cli_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        names = imported_names(tree)
        found += [(path, fn, names) for fn in tree.body if is_command(fn)]
    return found


@pytest.mark.parametrize("path", cli_files(), ids=lambda p: p.name)
def test_no_cli_file_exceeds_the_limit(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.name}: {lines} lines (at most {MAX_LINES})"


def test_every_command_is_found():
    """The decorator is read right: every registered command is one of the functions checked."""
    from model.cli import app

    registered = {c.callback.__name__ for c in app.registered_commands}
    assert registered == {fn.name for _, fn, _ in commands()}
    assert len(registered) == 11


@pytest.mark.parametrize("command", commands(), ids=lambda c: c[1].name)
def test_every_command_hands_its_work_to_one_workflow(command):
    path, fn, names = command
    assert not problems(fn, names), f"{path.name}:{fn.lineno} {fn.name}: {problems(fn, names)}"


FAT = '''
import model.workflows.forecast.fit as fc
from model.evidence.data import load_actors
from model.inference.config import SamplerConfig
from model.workflows.forecast.inputs import load_inputs

@app.command()
def forecast(data):
    """Fit, all in the command."""
    actors = load_actors(data)
    inputs = load_inputs(actors, data)
    config = SamplerConfig()
    idata = fc.run_forecast(inputs, config)
    for name in idata:
        if name:
            print(name)
            print(name)
            print(name)
            print(name)
            print(name)
            print(name)
            print(name)
            print(name)
            print(name)
            print(name)
'''

THIN = '''
from model.outputs.console import print_summary
from model.inference.config import SamplerConfig
from model.workflows.forecast.case import forecast_case

@app.command("forecast")
def forecast(data):
    """Parse, hand over, show."""
    result = forecast_case(data, SamplerConfig())
    print_summary(result.summary)
'''


def test_the_check_catches_a_fat_command():
    """The check itself can fail: a command that does the work of the layers below is named."""
    tree = ast.parse(textwrap.dedent(FAT))
    (fn,) = [f for f in tree.body if is_command(f)]
    found = problems(fn, imported_names(tree))
    assert found[0].startswith("16 statements")
    assert "calls 2 workflow functions ['fc.run_forecast', 'load_inputs']" in found[1]
    assert found[2].endswith("['load_actors']")

    thin = ast.parse(textwrap.dedent(THIN))
    (fn,) = [f for f in thin.body if is_command(f)]
    assert problems(fn, imported_names(thin)) == []
