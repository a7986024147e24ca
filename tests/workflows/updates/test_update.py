"""Scripted updates: store, ledger, nothing lost on failure, missing new files named."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.evidence.data import load_actors
from model.evidence.store import Store
from tests.conftest import ACTORS, OBSERVATIONS, ROOT

TINY = ["--draws", "30", "--tune", "30", "--chains", "2", "--allow-bad-diagnostics"]
HEADER = "id,date,kind,observer,target,indicator,code,citation,note\n"


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _state(ledger: Path, runs: Path):
    store = Store(ledger)
    obs = store.observations()
    led = store.ledger()
    return (
        sorted(obs["id"]) if len(obs) else [],
        led.to_dict("records") if len(led) else [],
        sorted(p.name for p in runs.iterdir()) if runs.exists() else [],
    )


def _update(tmp_path: Path, *files: Path, extra: tuple[str, ...] = ()):
    args = [
        "update",
        *map(str, files),
        "--ledger",
        str(tmp_path / "axis.sqlite"),
        "--runs",
        str(tmp_path / "runs"),
        *TINY,
        *extra,
    ]
    return CliRunner().invoke(app, args)


NEW_A = [
    'U001,2025-07-15,threat,CHN,USA,economic,3,"Test source, 2025",new US export controls on China',
    'U002,2025-08-02,conduct,PRK,RUS,conduct,balancing,"Test source, 2025",troops sent to Kursk',
]
NEW_B = ['U003,2025-09-01,outcome,PRK,RUS,cohesion,high,"Test source, 2025",joint exercise']


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Two updates in a fresh store: the baseline plus A, then B."""
    tmp = tmp_path_factory.mktemp("ledger")
    first = _update(tmp, _file(tmp, "a.csv", NEW_A))
    after_first = _state(tmp / "axis.sqlite", tmp / "runs")
    second = _update(tmp, _file(tmp, "b.csv", NEW_B))
    return tmp, first, after_first, second


def test_update_adds_exactly_the_new_rows_and_one_ledger_row(published):
    tmp, first, after_first, second = published
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    seed_ids = set(pd.read_csv(OBSERVATIONS)["id"])
    ids_1, ledger_1, runs_1 = after_first
    assert set(ids_1) == seed_ids | {"U001", "U002"}
    assert len(ledger_1) == 2  # the baseline of the shipped evidence, then the update
    ids_2, ledger_2, runs_2 = _state(tmp / "axis.sqlite", tmp / "runs")
    assert set(ids_2) - set(ids_1) == {"U003"}
    assert len(ledger_2) == 3 and ledger_2[:2] == ledger_1
    assert len(runs_2) == 3 and all((tmp / "runs" / r / "summary.json").exists() for r in runs_2)
    obs = Store(tmp / "axis.sqlite").observations()
    assert set(obs.loc[obs.id == "U003", "source_file"]) == {"b.csv"}
    assert obs.loc[obs.id == "U003", "source_sha256"].str.len().eq(64).all()
    # tiny fits fail the gate, so no update may reweight them: each says so and samples
    for run in (first, second):
        said = " ".join(run.output.split())
        assert "Posterior: NUTS (not reweighted: the anchor did not pass the convergence" in said


def test_printed_diff_matches_the_two_summaries(published):
    import json

    tmp, first, after_first, second = published
    led = Store(tmp / "axis.sqlite").ledger()
    before, after = json.loads(led.iloc[1]["summary"]), json.loads(led.iloc[2]["summary"])
    line = next(x for x in second.output.splitlines() if "P(axis)" in x and "formed" in x)
    cells = [c.strip() for c in line.split("│") if c.strip()]
    assert float(cells[-3]) == pytest.approx(before["p_axis"]["mean"], abs=5e-4)
    assert float(cells[-2]) == pytest.approx(after["p_axis"]["mean"], abs=5e-4)
    assert float(cells[-1]) == pytest.approx(
        after["p_axis"]["mean"] - before["p_axis"]["mean"], abs=1e-3
    )


def test_ledger_is_append_only(published):
    tmp = published[0]
    con = sqlite3.connect(tmp / "axis.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE ledger SET p_axis_mean = 0.9")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM observations")
    con.close()


def test_duplicates_are_rejected_and_nothing_new_publishes_nothing(published, tmp_path):
    tmp = published[0]
    state = _state(tmp / "axis.sqlite", tmp / "runs")
    same_id = 'U001,2025-09-09,threat,RUS,USA,statement,3,"Other, 2025",different content same id'
    same_content = (
        'U999,2025-09-01,outcome,PRK,RUS,cohesion,high,"Test source, 2025",same evidence new id'
    )
    result = _update(tmp, _file(tmp_path, "dup.csv", [same_id, same_content]))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "row 2: id U001 is already in the store" in text
    assert "row 3: same evidence as a stored row" in text
    assert "Nothing new" in text
    assert _state(tmp / "axis.sqlite", tmp / "runs") == state


def test_bad_row_changes_nothing_and_is_named(published, tmp_path):
    tmp = published[0]
    state = _state(tmp / "axis.sqlite", tmp / "runs")
    bad = _file(
        tmp_path,
        "bad.csv",
        [
            NEW_A[0].replace("U001", "U100"),
            'U101,2025-08-01,threat,CHN,USA,economic,9,"X, 2025",bad code',
        ],
    )
    result = _update(tmp, bad)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "bad.csv, row 3, field 'code'" in text
    assert _state(tmp / "axis.sqlite", tmp / "runs") == state


@pytest.mark.slow  # a refit in a process of its own, killed, then an update that fits
def test_kill_9_mid_update_loses_nothing(published, tmp_path):
    tmp = published[0]
    ledger, runs = tmp / "axis.sqlite", tmp / "runs"
    state = _state(ledger, runs)
    new = _file(
        tmp_path, "c.csv", ['U200,2025-09-10,threat,RUS,USA,military,4,"Test source, 2025",k']
    )
    cmd = [
        sys.executable,
        "-m",
        "model.cli",
        "update",
        str(new),
        "--ledger",
        str(ledger),
        "--runs",
        str(runs),
        *TINY,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"},
    )
    time.sleep(6.0)  # inside the refit: validation is done, nothing is committed yet
    assert proc.poll() is None, "the update finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ids, led, folders = _state(ledger, runs)
    assert (ids, led) == state[:2]
    assert set(state[2]) <= set(folders)  # earlier run folders untouched
    for name in state[2]:
        assert (runs / name / "summary.json").exists()
    again = _update(tmp, new)
    assert again.exit_code == 0, again.output
    ids2, led2, _ = _state(ledger, runs)
    assert set(ids2) - set(ids) == {"U200"} and len(led2) == len(led) + 1


def test_new_files_that_are_missing_are_all_named(tmp_path):
    from model.workflows.updates.update import read_new_files

    with pytest.raises(FileNotFoundError, match=r"no such file: .*a\.csv, .*b\.csv"):
        read_new_files([tmp_path / "a.csv", tmp_path / "b.csv"], load_actors(ACTORS))


def test_every_publication_records_each_questions_probability(published):
    from model.evidence.questions import load_questions

    tmp = published[0]
    asked = load_questions(ROOT / "data" / "questions.toml", load_actors(ACTORS))
    led = Store(tmp / "axis.sqlite").ledger()
    for summary in led["summary"].map(json.loads):
        got = summary["questions"]
        assert set(got) == {q.id for q in asked}
        for info in got.values():
            assert 0.0 <= info["mean"] <= 1.0 and info["mcse"] >= 0.0, info
    listed = CliRunner().invoke(app, ["questions", "--ledger", str(tmp / "axis.sqlite")])
    assert listed.exit_code == 0, listed.output
    last = json.loads(led["summary"].iloc[-1])["questions"]["axis-2027q4"]
    before = json.loads(led["summary"].iloc[-2])["questions"]["axis-2027q4"]
    row = next(line for line in listed.output.splitlines() if "axis-2027q4 " in line)
    assert f"{last['mean']:.3f}" in row and f"{last['mean'] - before['mean']:+.3f}" in row


def test_a_settled_question_is_scored_once_and_refusals_write_nothing(published):
    tmp = published[0]
    ledger = ["--ledger", str(tmp / "axis.sqlite")]
    cite = ["--citation", "KCNA, 2027-01-05"]

    def resolve(*args: str):
        return CliRunner().invoke(app, ["resolve", *args, *ledger])

    assert resolve("no-such-question", "yes", "--date", "2027-01-10", *cite).exit_code == 2
    early = resolve("prk-rus-balancing-2026q4", "yes", "--date", "2025-01-01", *cite)
    assert early.exit_code == 2 and "before it opened" in early.output
    assert (
        resolve("prk-rus-balancing-2026q4", "maybe", "--date", "2027-01-10", *cite).exit_code == 2
    )
    assert Store(tmp / "axis.sqlite").resolutions().empty
    done = resolve("prk-rus-balancing-2026q4", "yes", "--date", "2027-01-10", *cite)
    assert done.exit_code == 0, done.output
    again = resolve("prk-rus-balancing-2026q4", "no", "--date", "2027-01-11", *cite)
    assert again.exit_code == 2 and "already settled" in again.output
    record = CliRunner().invoke(app, ["questions", "--resolved", *ledger])
    assert record.exit_code == 0, record.output
    led = Store(tmp / "axis.sqlite").ledger()
    p = json.loads(led["summary"].iloc[-1])["questions"]["prk-rus-balancing-2026q4"]["mean"]
    row = next(line for line in record.output.splitlines() if "prk-rus-balancing" in line)
    assert f"{p:.3f}" in row and f"{(p - 1.0) ** 2:.3f}" in row  # Brier of a yes


def test_every_publication_keeps_its_forecast_and_history_scores_them(published):
    """The ledger keeps each publication's forecast of later periods; rows dated after it
    score it (here two rows after the last as-of date), and `axis history --scores` prints
    the record, or says nothing can be scored yet."""
    from model.workflows.updates.record import track_record

    tmp = published[0]
    led = Store(tmp / "axis.sqlite").ledger()
    summaries = led["summary"].map(json.loads)
    assert all(s["forecasts"]["model"] and s["forecasts"]["baselines"] for s in summaries)
    assert summaries.iloc[-1]["record"]["publications"] >= 0
    last = summaries.iloc[-1]["forecasts"]
    after = pd.Period(last["as_of"], "Q") + 1
    later = pd.DataFrame(
        [
            ("L1", after.start_time + pd.Timedelta(days=3), "conduct", "PRK", "RUS", "conduct"),
            ("L2", after.start_time + pd.Timedelta(days=9), "outcome", "RUS", "PRK", "cohesion"),
        ],
        columns=["id", "date", "kind", "observer", "target", "indicator"],
    ).assign(code=["balancing", "high"])
    record = track_record(led, later)
    assert len(record.targets) >= 2 and int(led["id"].iloc[-1]) in set(record.targets["ledger_id"])
    got = record.targets[record.targets["ledger_id"] == int(led["id"].iloc[-1])]
    conduct = got[got["kind"] == "conduct"].iloc[0]
    assert np.allclose(conduct["probs"], last["model"][str(after)]["conduct"]["PRK->RUS"])
    shown = CliRunner().invoke(app, ["history", "--scores", "--ledger", str(tmp / "axis.sqlite")])
    assert shown.exit_code == 0, shown.output
    assert "Track record" in shown.output or "can be scored yet" in shown.output
