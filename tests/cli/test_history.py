"""`axis history`: a default view that fits 80 columns, --wide for the rest, JSON and CSV."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from model.cli import app
from model.evidence.store import LEDGER_COLUMNS, Store
from tests.conftest import ROOT
from tests.fakes import fake_ledger, fake_summary


def _ledger(tmp_path: Path) -> Path:
    """Three forecasts, one with a tiny P(axis) (scientific notation) and long run paths."""
    path = tmp_path / "store" / "axis.sqlite"
    runs = [
        tmp_path / "runs" / f"20250930-120000-seed2025063{i}-update-with-a-long-name"
        for i in range(3)
    ]
    store = fake_ledger(path, runs[:2])
    from model.evidence.store import Publication

    store.publish([Publication([], fake_summary(7, p=1.234e-5, as_of="1878-07-13"), runs[2])])
    return path


def _history(*args: str, columns: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model.cli", "history", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def test_default_view_fits_80_columns_without_ellipses(tmp_path):
    ledger = _ledger(tmp_path)
    done = _history("--ledger", str(ledger), columns=80)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert "…" not in done.stdout and "..." not in done.stdout
    for i, row in enumerate(Store(ledger).ledger().itertuples(index=False), start=1):
        line = next(x for x in lines if re.match(rf"│\s+{i}\s+│", x))
        assert row.as_of in line and row.data_sha256[:8] in line
    text = done.stdout
    assert "0.420 [0.210, 0.630]" in text and "0.140" in text
    assert "1.2e-05 [6.2e-06, 1.9e-05]" in text  # a historical case's tiny P(axis)


def test_wide_view_has_every_column(tmp_path):
    ledger = _ledger(tmp_path)
    done = _history("--ledger", str(ledger), "--wide", columns=80)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "…" not in text
    led = Store(ledger).ledger()
    for row in led.itertuples(index=False):
        for value in (
            row.created,
            row.data_sha256,
            row.priors_sha256,
            str(row.seed),
            row.run_folder,
        ):
            assert value in text
    assert "numpyro 4x1000" in text and "passed" in text


def test_json_and_csv_are_for_scripts(tmp_path):
    ledger = _ledger(tmp_path)
    as_json = CliRunner().invoke(app, ["history", "--ledger", str(ledger), "--json"])
    assert as_json.exit_code == 0, as_json.output
    records = json.loads(as_json.output)
    assert [r["id"] for r in records] == [1, 2, 3]
    assert records[0]["summary"]["p_axis"]["mean"] == 0.42
    assert records[2]["diagnostics"]["passed"] is True and set(records[0]) == set(LEDGER_COLUMNS)
    as_csv = CliRunner().invoke(app, ["history", "--ledger", str(ledger), "--csv"])
    assert as_csv.exit_code == 0, as_csv.output
    frame = pd.read_csv(StringIO(as_csv.output))
    assert list(frame.columns) == [c for c in LEDGER_COLUMNS if c != "summary"]
    assert frame["p_axis_mean"].tolist() == [0.42, 0.42, 1.234e-5]


def test_a_named_ledger_that_does_not_exist_is_bad_input(tmp_path):
    """A typo in --ledger is named (exit 2), not shown as an empty ledger; nothing is created."""
    ledger = tmp_path / "none.sqlite"
    result = CliRunner().invoke(app, ["history", "--ledger", str(ledger)])
    assert result.exit_code == 2
    assert "none.sqlite" in result.output and "no such ledger file" in result.output
    assert not ledger.exists()


def test_empty_ledger(tmp_path):
    ledger = tmp_path / "empty.sqlite"
    Store(ledger).publish([])  # a store with nothing published yet
    table = CliRunner().invoke(app, ["history", "--ledger", str(ledger)])
    assert table.exit_code == 0 and "The ledger is empty" in table.output
    as_json = CliRunner().invoke(app, ["history", "--ledger", str(ledger), "--json"])
    assert json.loads(as_json.output) == []
    as_csv = CliRunner().invoke(app, ["history", "--ledger", str(ledger), "--csv"])
    assert as_csv.output.strip() == ",".join(c for c in LEDGER_COLUMNS if c != "summary")


def test_one_view_at_a_time(tmp_path):
    result = CliRunner().invoke(
        app, ["history", "--ledger", str(tmp_path / "x"), "--json", "--csv"]
    )
    assert result.exit_code == 2 and "choose one of" in result.output
