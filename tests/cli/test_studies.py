"""``axis backtest`` and ``axis sensitivity``: the commands' wiring, with the fits replaced.

Dates, settings and a forecast's fit reach the workflow; progress, the tables and the
output folder come back, once; a folder that exists, or a run of other inputs, is refused
before anything runs.
"""

from __future__ import annotations

import numpy as np

from tests.conftest import ROOT
from tests.helpers import BACKTEST_FILES, fake_backtest, fake_sensitivity, listing


def test_axis_backtest_writes_its_folder_once(tmp_path, monkeypatch):
    """The command's wiring: dates to the workflow, progress, the folder, the tables."""
    from typer.testing import CliRunner

    import model.workflows.updates.backtest
    from model.cli import app

    seen = {}

    def run(actors, frame, priors, config, dates, *, horizon, progress, reuse, questions):
        seen.update(dates=dates, horizon=horizon, reuse=reuse, questions=questions)
        progress(0, dates[0])
        return fake_backtest()

    monkeypatch.setattr(model.workflows.updates.backtest, "run_backtest", run)
    out = tmp_path / "bt"
    args = ["backtest", "--from", "2025-04-01", "--to", "2025-09-30", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--refit-all"])
    assert result.exit_code == 0, result.output
    assert [d.isoformat() for d in seen["dates"]] == ["2025-06-30", "2025-09-30"]
    assert seen["reuse"] is False and seen["horizon"] == 4 and seen["questions"] is None
    assert "Backtest: forecasts at each as-of date" in result.output
    assert f"Written: {out}/backtest.csv" in " ".join(result.output.split())
    assert listing(tmp_path) == ["bt", *(f"bt/{name}" for name in BACKTEST_FILES)]
    seen.clear()
    again = CliRunner().invoke(app, args)  # refused before any fit: the folder is never merged
    assert again.exit_code == 2 and "already exists" in again.output and seen == {}
    past = ["--questions", str(ROOT / "data" / "past_questions.toml"), "--out", str(out) + "q"]
    asked = CliRunner().invoke(app, [*args[:-2], *past])
    assert asked.exit_code == 0, asked.output
    assert len(seen["questions"]) >= 20 and seen["questions"][0].period.startswith("2018")
    bad = CliRunner().invoke(app, [*args[:-2], "--questions", str(tmp_path / "none.toml")])
    assert bad.exit_code == 2 and "no such question file" in bad.output


def test_axis_sensitivity_writes_its_folder(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import model.workflows.studies.sensitivity
    from model.cli import app
    from model.outputs.console import console

    seen = {}

    def run(inputs, rival, others, totals, config, *, baseline, progress, base):
        seen.update(rival=rival.name, others=others, totals=totals, seed=config.seed)
        seen.update(baseline=baseline.name, base=base)
        return fake_sensitivity()

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
        return fake_sensitivity()

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
