"""The pieces behind the commands: input refusal, the stage timer, folders written whole.

Each command hands its work to one workflow (:mod:`tests.cli.test_cli_structure`);
these tests hold the workflows and the outputs they return to, without a
fit: a fit that would run is replaced, or the inputs are refused before it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model.evidence.data import InputError, load_actors
from model.workflows.common.inputs import BadInputError, CaseFiles, refusing
from model.workflows.common.timing import StageTimer
from tests.conftest import ACTORS, DEFAULT_PRIORS, OBSERVATIONS, ROOT
from tests.fakes import fake_posterior, truncate

SHIPPED = CaseFiles(OBSERVATIONS, ACTORS, DEFAULT_PRIORS)


def _listing(root: Path) -> list[str]:
    """Everything under a folder, hidden temporary siblings included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ------------------------------------------------------------ refusing inputs


def test_refusing_keeps_the_message_and_the_cause():
    with pytest.raises(BadInputError, match=r"^no observations$") as err:
        with refusing():
            raise ValueError("no observations")
    assert isinstance(err.value.__cause__, ValueError)


def test_refusing_passes_other_errors_through():
    """Only the errors named are input; a fit's RuntimeError, or a ValueError not named, is not."""
    with pytest.raises(RuntimeError), refusing():
        raise RuntimeError("the sampler failed")
    with pytest.raises(ValueError) as err, refusing(InputError):
        raise ValueError("not an input error")
    assert not isinstance(err.value, BadInputError)


# ------------------------------------------------------------ the stage timer


def test_stage_timer_adds_stages_and_records_them_in_order():
    timer = StageTimer()
    with timer.stage("write"):
        time.sleep(0.01)
    timer.update({"sampling": 2.345, "build": 0.5})
    timer.add("write", 1.0)
    assert timer.stages["write"] >= 1.01 and timer.stages["sampling"] == 2.345
    record = timer.record(("build", "sampling", "write", "report"), total=9.876)
    assert record["total"] == 9.88
    assert list(record["stages"]) == ["build", "sampling", "write"]  # the order asked, no others
    assert record["stages"]["sampling"] == 2.35
    assert timer.total() > 0


def test_a_stage_that_raises_records_nothing():
    timer = StageTimer()
    with pytest.raises(KeyError), timer.stage("inputs"):
        raise KeyError("x")
    assert timer.stages == {}


# ------------------------------------------------------------ forecast


def test_forecast_refuses_bad_input_before_the_fit(tmp_path, monkeypatch):
    import model.workflows.forecast.case as forecast
    from model.inference.config import SamplerConfig

    monkeypatch.setattr(forecast, "run_forecast", lambda *a, **k: pytest.fail("fitted"))
    files = CaseFiles(tmp_path / "missing.csv", ACTORS, DEFAULT_PRIORS)
    timer = StageTimer()
    with pytest.raises(BadInputError, match=r"missing\.csv"):
        forecast.forecast_case(files, SamplerConfig(), timer=timer)
    assert "inputs" not in timer.stages


def test_forecast_does_not_call_a_failed_fit_bad_input(monkeypatch):
    """A ValueError from the fit itself stays a failure (exit 1), not bad input (exit 2)."""
    import model.workflows.forecast.case as forecast
    from model.inference.config import SamplerConfig
    from model.workflows.common.hooks import Hooks

    def fit(inputs, config, **kw):
        raise ValueError("unknown sampler 'x'")

    told = []
    monkeypatch.setattr(forecast, "run_forecast", fit)
    timer = StageTimer()
    with pytest.raises(ValueError, match="unknown sampler") as err:
        forecast.forecast_case(
            SHIPPED,
            SamplerConfig(),
            as_of=pd.Timestamp("2025-09-30").date(),
            timer=timer,
            hooks=Hooks(fitting=lambda inputs, config: told.append(inputs.as_of)),
        )
    assert not isinstance(err.value, BadInputError)
    assert told and "inputs" in timer.stages


# ------------------------------------------------------------ backtest


def _backtest():
    from model.workflows.updates.backtest import Backtest

    forecasts = pd.DataFrame(
        {
            "as_of": ["2025-03-31", "2025-06-30"],
            "fit": ["NUTS", "reweighted"],
            "period": ["2025Q1", "2025Q2"],
            "p_axis": [0.2, 0.3],
            "p_axis_hdi_low": [0.1, 0.2],
            "p_axis_hdi_high": [0.3, 0.4],
            "CHN-RUS modal": ["balancing-balancing"] * 2,
            "CHN-RUS P(modal)": [0.6, 0.7],
            "CHN-RUS|balancing-balancing": [0.6, 0.7],
            "CHN-RUS|hedging-hedging": [0.4, 0.3],
        }
    )
    scores = pd.DataFrame(
        {
            "kind": ["all"],
            "n": [3],
            "brier": [0.5],
            "brier_uniform": [0.66],
            "log_score": [-0.9],
            "log_score_uniform": [-1.1],
        }
    )
    return Backtest(forecasts, scores, pd.DataFrame())


def test_backtest_folder_is_written_whole(tmp_path):
    from model.outputs.folders import write_backtest

    out = write_backtest(_backtest(), tmp_path / "bt")
    assert _listing(tmp_path) == ["bt", "bt/backtest.csv", "bt/backtest.png", "bt/scores.csv"]
    assert pd.read_csv(out / "backtest.csv")["fit"].tolist() == ["NUTS", "reweighted"]


def test_a_failed_backtest_folder_leaves_nothing(tmp_path, monkeypatch):
    """The figure fails after both tables were written: neither the folder nor its draft remains."""
    import model.outputs.plots
    from model.outputs.folders import write_backtest

    def broken(forecasts):
        raise RuntimeError("no figure")

    monkeypatch.setattr(model.outputs.plots, "plot_backtest", broken)
    with pytest.raises(RuntimeError, match="no figure"):
        write_backtest(_backtest(), tmp_path / "bt")
    assert _listing(tmp_path) == []


def test_a_backtest_folder_is_never_written_over(tmp_path):
    from model.outputs.folders import write_backtest

    (tmp_path / "bt").mkdir()
    (tmp_path / "bt" / "mine.txt").write_text("kept")
    with pytest.raises(FileExistsError):
        write_backtest(_backtest(), tmp_path / "bt")
    assert _listing(tmp_path) == ["bt", "bt/mine.txt"]


def test_backtest_refuses_a_bad_step_before_any_fit():
    from model.inference.config import SamplerConfig
    from model.workflows.updates.backtest import backtest_case

    start = pd.Timestamp("2024-01-01").date()
    with pytest.raises(BadInputError, match="--every must be one of"):
        backtest_case(SHIPPED, SamplerConfig(), start=start, every="fortnight")


def test_sensitivity_refuses_a_total_that_is_not_positive():
    from model.inference.config import SamplerConfig
    from model.workflows.studies.sensitivity import sensitivity_case

    rival = ROOT / "priors" / "realist.toml"
    with pytest.raises(BadInputError, match="every total concentration must be > 0"):
        sensitivity_case(SHIPPED, rival, [], [1.0, 0.0], SamplerConfig())


# ------------------------------------------------------------ scenarios


def test_scenarios_assemble_from_settings_and_files(tmp_path):
    from model.workflows.studies.scenario import assemble_scenarios

    actors = load_actors(ACTORS)
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario.pressure]\nset = ["RUS.external=high", "CHN.external=high"]\n'
        'from = "horizon"\ndescription = "US pressure"\n',
        encoding="utf-8",
    )
    found = assemble_scenarios(["PRK.external=low"], [path], actors, name="mine", start="now")
    assert [s.name for s in found] == ["mine", "pressure"]
    assert found[0].start == "now" and found[1].start == "horizon"
    assert found[1].label == "RUS<-USA=high; CHN<-USA=high"
    assert assemble_scenarios([], [path], actors)[0].description == "US pressure"


def test_scenario_problems_of_settings_and_files_are_listed_at_once(tmp_path):
    from model.workflows.studies.scenario import assemble_scenarios

    path = tmp_path / "s.toml"
    path.write_text('[scenario.a]\nset = ["CHN.external=loud"]\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        assemble_scenarios(["GBR.external=high"], [path], load_actors(ACTORS))
    assert len(err.value.problems) == 2
    assert "GBR" in str(err.value) and "loud" in str(err.value)


def test_a_run_posterior_is_read_with_its_case(tmp_path):
    from model.workflows.common.run_folder import read_run_posterior

    fake_posterior(tmp_path / "run" / "posterior.nc")
    idata, actors = read_run_posterior(tmp_path / "run")
    assert actors.partners == ("CHN", "RUS") and actors.external == "USA"
    assert "posterior" in idata.children


def test_a_run_posterior_that_will_not_do_is_refused(tmp_path):
    from model.workflows.common.run_folder import read_run_posterior

    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"no posterior\.nc in run folder"):
        read_run_posterior(tmp_path / "empty")
    truncate(fake_posterior(tmp_path / "damaged" / "posterior.nc"))
    with pytest.raises(BadInputError, match="damaged"):
        read_run_posterior(tmp_path / "damaged")
    other = tmp_path / "other" / "posterior.nc"
    other.parent.mkdir()
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("draw", [1.0, 2.0])})})
    tree.to_netcdf(other)
    with pytest.raises(BadInputError, match="not written by axis"):
        read_run_posterior(tmp_path / "other")


def test_a_failed_scenario_folder_leaves_nothing(tmp_path, monkeypatch):
    import model.outputs.plots
    from model.outputs.folders import write_scenarios
    from model.workflows.studies.scenario import ScenarioResult

    def broken(frame, period):
        raise RuntimeError("no figure")

    monkeypatch.setattr(model.outputs.plots, "plot_scenarios", broken)
    frame = pd.DataFrame({"scenario": ["a"], "value": [0.5]})
    result = ScenarioResult(frame, frame, "2025Q3", [], {"run": None})
    with pytest.raises(RuntimeError, match="no figure"):
        write_scenarios(result, tmp_path / "sc")
    assert _listing(tmp_path) == []


# ------------------------------------------------------------ store and feeds


def test_new_files_that_are_missing_are_all_named(tmp_path):
    from model.workflows.updates.update import read_new_files

    with pytest.raises(FileNotFoundError, match=r"no such file: .*a\.csv, .*b\.csv"):
        read_new_files([tmp_path / "a.csv", tmp_path / "b.csv"], load_actors(ACTORS))


def test_a_dry_run_ingest_codes_the_feed_and_touches_no_store(tmp_path):
    from model.inference.config import SamplerConfig
    from model.workflows.updates.ingest import Feed, ingest_update
    from model.workflows.updates.update import UpdateRequest

    events = ROOT / "data" / "event-data"
    feed = Feed(
        events / "icews_sample_2018-06-02_03.csv",
        "icews",
        ROOT / "data" / "event_mapping.toml",
        events / "cameo_goldstein.csv",
    )
    request = UpdateRequest(tmp_path / "axis.sqlite", SHIPPED, tmp_path / "runs", SamplerConfig())
    seen = []
    result = ingest_update(feed, request, dry_run=True, on_coded=seen.append)
    assert result.update is None and seen == [result.coded]
    assert len(result.coded.frame) == result.coded.report.observations > 0
    assert result.coded.batch()[1].file == feed.path.name
    assert _listing(tmp_path) == []


def test_reading_the_ledger_of_a_new_store_finds_nothing(tmp_path):
    from model.workflows.updates.ledger import read_ledger

    assert read_ledger(tmp_path / "axis.sqlite").empty


# ------------------------------------------------------------ default paths


def test_default_paths_are_the_shipped_case():
    from model.cli.paths import case_files, default_files, project_root

    assert project_root() == ROOT
    assert default_files() == SHIPPED
    crink = case_files("crink")
    assert crink.observations == ROOT / "data" / "cases" / "crink" / "observations.csv"
    assert crink.priors == DEFAULT_PRIORS


def test_default_paths_refuse_what_they_cannot_resolve():
    from model.cli.paths import case_files, scenario_files

    with pytest.raises(InputError, match="atlantis"):
        case_files("atlantis")
    with pytest.raises(ValueError, match="drop --data/--actors"):
        case_files("crink", data=OBSERVATIONS)
    with pytest.raises(ValueError, match="give --set or --file"):
        scenario_files("atlantis")


# ------------------------------------------------------------ console


def test_a_progress_bar_never_advanced_prints_nothing(capsys):
    from model.outputs.console import fit_progress

    with fit_progress("fits", lambda done, total, label: label):
        pass
    assert capsys.readouterr().out == ""


def test_timings_are_recorded_in_the_stage_order(tmp_path, capsys):
    from model.outputs.forecast_run import record_timings
    from model.workflows.common.run_folder import TIMINGS
    from model.workflows.common.timing import STAGES

    timer = StageTimer()
    timer.update({"report": 1.0, "sampling": 3.0, "start": 0.5})
    record_timings(tmp_path, timer)
    written = json.loads((tmp_path / TIMINGS).read_text())
    assert list(written["stages"]) == [s for s in STAGES if s in written["stages"]]
    assert written["total"] >= 0 and "Time:" in capsys.readouterr().out


# ------------------------------------------------------------ commands, the fits replaced


def test_axis_backtest_writes_its_folder_once(tmp_path, monkeypatch):
    """The command's wiring: dates to the workflow, progress, the folder, the tables."""
    from typer.testing import CliRunner

    import model.workflows.updates.backtest
    from model.cli import app

    seen = {}

    def run(actors, frame, priors, config, dates, *, horizon, progress, reuse):
        seen.update(dates=dates, horizon=horizon, reuse=reuse)
        progress(0, dates[0])
        return _backtest()

    monkeypatch.setattr(model.workflows.updates.backtest, "run_backtest", run)
    out = tmp_path / "bt"
    args = ["backtest", "--from", "2025-04-01", "--to", "2025-09-30", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--refit-all"])
    assert result.exit_code == 0, result.output
    assert [d.isoformat() for d in seen["dates"]] == ["2025-06-30", "2025-09-30"]
    assert seen["reuse"] is False and seen["horizon"] == 4
    assert "Backtest: forecasts at each as-of date" in result.output
    assert f"Written: {out}/backtest.csv" in " ".join(result.output.split())
    assert _listing(tmp_path) == ["bt", "bt/backtest.csv", "bt/backtest.png", "bt/scores.csv"]
    seen.clear()
    again = CliRunner().invoke(app, args)  # refused before any fit: the folder is never merged
    assert again.exit_code == 2 and "already exists" in again.output and seen == {}


def _sensitivity():
    from model.workflows.studies.sensitivity import Sensitivity

    psense = pd.DataFrame(
        {
            "quantity": ["P(axis)", "P(axis)"],
            "component": ["prior: threat", "likelihood: threat evidence"],
            "sensitivity": [0.01, 0.2],
            "diagnosis": ["fine", "fine"],
            "pareto_k": [0.1, 0.2],
            "pareto_k_warning": [False, False],
            "mean_shift": [0.001, 0.03],
            "shift_mcse": [0.002, 0.005],
            "flagged": [False, True],
            "reason": ["CJS 0.010 < 0.05", "CJS 0.200; mean moves +0.030"],
        }
    )
    fits = pd.DataFrame(
        {
            "prior set": ["default", "realist"],
            "fit": ["NUTS", "reweighted"],
            "P(axis)": [0.3, 0.1],
            "hdi_low": [0.2, 0.05],
            "hdi_high": [0.4, 0.2],
            "CHN-RUS": ["balancing-balancing", "hedging-hedging"],
            "CHN-RUS P": [0.6, 0.5],
        }
    )
    loo = pd.DataFrame(
        {"elpd": [-10.0], "elpd_diff": [0.0], "dse": [0.0], "weight": [1.0], "pareto_k_max": [0.3]},
        index=["Weitsman (default)"],
    )
    from model.workflows.forecast.theories import Stacked

    p_axis = {
        "mean": 0.3,
        "hdi_low": 0.2,
        "hdi_high": 0.4,
        "period": "2025Q3",
        "by_theory": {"Weitsman (default)": 0.3},
    }
    return Sensitivity(psense, fits, fits.iloc[:0], loo, None, Stacked(loo, p_axis, {}))


def test_axis_sensitivity_writes_its_folder(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import model.workflows.studies.sensitivity
    from model.cli import app
    from model.outputs.console import console

    seen = {}

    def run(inputs, rival, others, totals, config, *, baseline, progress, base):
        seen.update(rival=rival.name, others=others, totals=totals, seed=config.seed)
        seen.update(baseline=baseline.name, base=base)
        return _sensitivity()

    monkeypatch.setattr(model.workflows.studies.sensitivity, "run_sensitivity", run)
    out = tmp_path / "sens"
    args = ["sensitivity", "--no-prior-sets", "--sweep", "1,4", "--seed", "3", "--out", str(out)]
    monkeypatch.setattr(console, "width", 80)  # a plain terminal, whatever the tests' own
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen == {
        "rival": "realist",
        "baseline": "no_theory",
        "others": [],
        "totals": [1.0, 4.0],
        "seed": 3,
        "base": None,
    }
    assert "PSIS-LOO" in result.output and "1 of 2 (quantity, component)" in result.output
    assert result.output.lstrip().startswith("Verdict") and "stays below 0.5" in result.output
    assert "CHN-RUS becomes hedging-hedging (0.50) under realist" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "Stacked P(axis)" in result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "psense.csv",
        "psense.png",
        "prior_sets.csv",
        "prior_sets.png",
        "sensitivity.png",
        "loo.csv",
        "stacked.json",
        "report.html",
    }
    page = (out / "report.html").read_text()
    # the report opens with the verdict, then the one-page figure, then the tables
    assert page.index('id="verdict"') < page.index("data:image/png;base64") < page.index("<table")
    assert "hedging-hedging (0.50) under realist" in page


def test_verdict_says_when_p_axis_crosses_a_threshold_and_under_what():
    from dataclasses import replace

    from model.workflows.studies.sensitivity import verdict

    result = _sensitivity()
    sweep = result.prior_sets.assign(**{"prior set": ["1", "1000"], "P(axis)": [0.02, 0.6]})
    lines = verdict(replace(result, sweep=sweep))
    assert "crosses 0.05 under Table 2 total 1 0.020" in lines[0]
    assert "crosses 0.5 under Table 2 total 1000 0.600" in lines[1]
    assert "likelihood: threat evidence moves P(axis) most (+0.03" in lines[3]
    assert "1 of 2 (quantity, component) cells are flagged" in lines[4]


def test_axis_sensitivity_reuses_a_forecasts_fit_of_the_same_case_only(
    tmp_path, monkeypatch, tiny_fit
):
    """``--from-run``: a forecast's posterior is the default fit, not drawn again; a run of
    the case under other priors is refused, naming what differs, before anything runs."""
    from typer.testing import CliRunner

    import model.workflows.studies.sensitivity
    from model.cli import app
    from model.workflows.common.run_folder import write_run

    run_folder = write_run(tiny_fit, tmp_path / "forecast")
    seen = {}

    def run(inputs, rival, others, totals, config, *, baseline, progress, base):
        seen["base"] = base
        return _sensitivity()

    monkeypatch.setattr(model.workflows.studies.sensitivity, "run_sensitivity", run)
    args = ["sensitivity", "--no-prior-sets", "--sweep", "4", "--as-of", "2025-09-30"]
    args += ["--from-run", str(run_folder)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "same")])
    assert result.exit_code == 0, result.output
    drawn = tiny_fit.posterior["p_axis"].values
    assert np.array_equal(seen["base"].posterior["p_axis"].values, drawn)

    seen.clear()
    other = [*args, "--priors", str(ROOT / "priors" / "weak_theory.toml")]
    result = CliRunner().invoke(app, [*other, "--out", str(tmp_path / "other")])
    assert result.exit_code != 0
    said = " ".join(result.output.split())
    assert "differ from the ones this run was fitted on (priors: run" in said
    assert seen == {} and not (tmp_path / "other").exists()


def test_the_sensitivity_page_draws_every_fit_and_every_dyad():
    from model.outputs.plots import plot_sensitivity_page

    fits = _sensitivity().prior_sets.assign(
        **{"CHN-RUS|balancing-balancing": [0.6, 0.2], "CHN-RUS|hedging-hedging": [0.4, 0.8]}
    )
    fig = plot_sensitivity_page(fits, fits.assign(**{"prior set": ["1", "20"]}))
    left, bars = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()][-1] == "Table 2 total 20"
    # one stacked bar per prior set per type, each row summing to one
    assert len(bars.patches) == 4
    widths = np.array([p.get_width() for p in bars.patches]).reshape(2, 2)
    assert widths.sum(axis=0) == pytest.approx([1.0, 1.0])
