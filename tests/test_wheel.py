"""The wheel: a non-editable install carries the code and the shipped files, and finds them.

The shipped case, the other cases, the prior sets and the scenarios stay at
the repository's top level and are installed as ``model/_shipped``
(``pyproject.toml``). This builds the wheel from the project's files (those
git tracks or would track), checks what it holds, installs it into a
folder of its own and reads every case and prior set from there, run from
an empty working directory so nothing can come from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("data", "priors", "scenarios")


def project_files() -> list[str]:
    """The files a fresh clone would have: tracked, or new and not ignored."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell the project's files from build output")
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [f for f in out.stdout.split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the project (the build writes build/ into its source)."""
    src = tmp_path_factory.mktemp("src")
    for name in project_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    try:  # the venv's own setuptools: no download, and quicker
        version("setuptools")
        isolation = ["--no-build-isolation"]
    except PackageNotFoundError:
        isolation = []
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation, "-w", out, src],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("axis_forecast-*.whl")
    return built


def test_the_wheel_holds_the_code_and_every_shipped_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    files = project_files()
    code = {f for f in files if f.startswith("model/") and f.endswith(".py")}
    assert code <= names, sorted(code - names)
    shipped = {f"model/_shipped/{f}" for f in files if f.split("/")[0] in SHIPPED}
    assert shipped <= names, sorted(shipped - names)
    assert "model/_shipped/data/cases/crink/README.md" in names
    assert "model/_shipped/priors/default.toml" in names
    outside = {n for n in names if not n.startswith(("model/", "axis_forecast-"))}
    assert not outside, f"files outside the package: {sorted(outside)}"
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    info = next(n for n in names if n.endswith("entry_points.txt"))
    assert "axis = model.cli:main" in zipfile.ZipFile(wheel).read(info).decode()


def test_an_installed_wheel_reads_the_shipped_files_from_anywhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, wheel],
        check=True,
        capture_output=True,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    code = (
        "import json, model\n"
        "from model import case_names, load_case, load_prior_set, prior_set_names\n"
        "from model.evidence.shipped import is_installed, shipped_root\n"
        "rows = {c: len(load_case(c).observations) for c in case_names()}\n"
        "sets = [load_prior_set(p).name for p in prior_set_names()]\n"
        "print(json.dumps({'module': model.__file__, 'root': str(shipped_root()),\n"
        "    'installed': is_installed(),\n"
        "    'rows': rows, 'sets': sets,\n"
        "    'scenarios': model.scenario_path('crink').is_file(),\n"
        "    'cameo': model.shipped_path('event-data', 'cameo_goldstein.csv').is_file()}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["module"] == str(target / "model" / "__init__.py")
    assert got["root"] == str(target / "model" / "_shipped") and got["installed"]
    assert {"default", "crink", "three-emperors-1873", "triple-entente-1907"} <= set(got["rows"])
    assert all(n > 0 for n in got["rows"].values())
    assert got["sets"] == [
        "default",
        "fast_drift",
        "learned",
        "no_theory",
        "realist",
        "weak_theory",
    ]
    assert got["scenarios"] and got["cameo"]
    assert list(empty.iterdir()) == []  # reading the shipped files writes nothing
