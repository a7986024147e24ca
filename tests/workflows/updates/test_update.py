"""Scripted updates: store, ledger, nothing lost on failure, as-of fits, backtest scoring."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.evidence.store import Store
from model.workflows.updates.backtest import as_of_dates, score, score_table
from tests.conftest import ACTORS, ANSWER, DEFAULT_PRIORS, OBSERVATIONS, ROOT

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


@pytest.mark.slow  # a fit of its own, on the evidence known at the end of 2023
def test_as_of_fit_uses_no_later_observation():
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_inputs

    when = date(2023, 12, 31)
    inputs = load_inputs(ACTORS, OBSERVATIONS, DEFAULT_PRIORS, as_of=when)
    idata = run_forecast(inputs, SamplerConfig(draws=20, tune=20, chains=2, seed=3))
    frame = pd.read_csv(OBSERVATIONS, parse_dates=["date"])
    known = frame[frame.date.dt.date <= when]
    observed = idata.observed_data
    assert int(observed["threat_evidence"].sum()) == int((known.kind == "threat").sum())
    assert int(observed["behaviour_evidence"].sum()) == int((known.kind != "threat").sum())
    assert int((frame.kind == "threat").sum()) > int((known.kind == "threat").sum())
    assert inputs.observations["date"].max().date() <= when
    assert inputs.evidence.periods[inputs.evidence.report_index[1]] == "2023Q4"
    assert inputs.evidence.periods[-1] == "2024Q4"


def test_backtest_scoring_equals_hand_computation():
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]])
    observed = np.array([0, 3, 1])
    # Brier: (0.09+0.01+0.01+0.01)=0.12; (0.0625*3+0.5625)=0.75; (0.01+0.64+0.09+0.16)=0.90
    got = score(probs, observed)
    assert got["brier"] == pytest.approx((0.12 + 0.75 + 0.90) / 3)
    assert got["log"] == pytest.approx((np.log(0.7) + np.log(0.25) + np.log(0.2)) / 3)
    targets = pd.DataFrame(
        {"kind": ["conduct", "outcome", "outcome"], "probs": list(probs), "observed": observed}
    )
    table = score_table(targets).set_index("kind")
    assert table.loc["conduct", "brier"] == pytest.approx(0.12)
    assert table.loc["outcome", "brier_uniform"] == pytest.approx(0.75)
    assert table.loc["all", "n"] == 3


def test_as_of_dates_are_period_ends():
    assert as_of_dates(date(2022, 4, 1), date(2022, 12, 1)) == [
        date(2022, 6, 30),
        date(2022, 9, 30),
        date(2022, 12, 31),
    ]


@pytest.mark.slow
def test_leave_future_out_reweighting_agrees_with_nuts_refits():
    """Approximate leave-future-out, as the backtest runs it: a NUTS fit as of 2024Q3,
    reweighted to the two next quarters (6 and 12 new rows), agrees with NUTS refits of
    those quarters within Monte Carlo error (all on the grid of the last as-of date).
    A quarter with much new evidence (2025Q2 adds 44 rows: k 0.89) is refitted instead."""
    from model.evidence.data import load_actors, read_observations
    from model.evidence.priors import load_priors
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import prepare_inputs
    from model.workflows.forecast.summary import summarise
    from model.workflows.updates import reuse
    from tests.workflows.test_sensitivity import _assert_agree

    actors = load_actors(ACTORS)
    frame = read_observations(OBSERVATIONS, actors)
    priors = load_priors(DEFAULT_PRIORS)
    config = SamplerConfig(draws=1000, seed=17)  # an anchor with draws to spare for weights
    refit = SamplerConfig(seed=17, **ANSWER)  # the comparison carries its error
    dates = [date(2024, 9, 30), date(2024, 12, 31), date(2025, 3, 31)]
    grids = [
        prepare_inputs(actors, frame, priors, as_of=d, horizon=4 + 2 - n)
        for n, d in enumerate(dates)
    ]
    assert len({tuple(g.evidence.periods) for g in grids}) == 1  # one grid for all
    first, anchor = reuse.fit(grids[0], config, None, label="2024Q3")
    for inputs in grids[1:]:
        tried = reuse.try_reweight(anchor, inputs, config)
        assert tried.method == "reweighted", tried.why
        _assert_agree(summarise(tried.idata), summarise(run_forecast(inputs, refit)))


@pytest.mark.slow  # two fits of its own, one per as-of date
def test_backtest_fits_share_one_grid_and_record_their_path():
    """Every as-of fit runs on the last date's grid, and says whether it was reweighted."""
    from model.evidence.data import load_actors, read_observations
    from model.evidence.priors import load_priors
    from model.inference.config import SamplerConfig
    from model.workflows.updates.backtest import run_backtest

    actors = load_actors(ACTORS)
    frame = read_observations(OBSERVATIONS, actors)
    tiny = SamplerConfig(draws=40, tune=40, chains=2, seed=3)
    result = run_backtest(
        actors, frame, load_priors(DEFAULT_PRIORS), tiny, [date(2025, 3, 31), date(2025, 6, 30)]
    )
    rows = result.forecasts
    assert list(rows["as_of"]) == ["2025-03-31", "2025-06-30"]
    assert rows["fit"].iloc[0] == "NUTS" and rows["why"].iloc[0] == "no anchor"
    assert set(rows["fit"]) <= {"NUTS", "reweighted"}
    assert rows["period"].tolist() == ["2025Q1", "2025Q2"]
    # the scored observations of each fit lie within its own horizon
    targets = result.targets
    for when, group in targets.groupby("as_of"):
        last = pd.Period(date.fromisoformat(when), "Q") + 4
        assert all(pd.Period(p, "Q") <= last for p in group["period"])
