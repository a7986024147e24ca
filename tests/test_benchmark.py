"""The benchmark script's pure helpers: flags, schedule, medians, ratios, tables. No fits."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "benchmark_script", ROOT / "scripts" / "benchmark.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()


def test_every_job_has_a_default_repeat_count_and_targets_name_known_ratios():
    assert set(bench.DEFAULT_REPEATS) == set(bench.JOBS)
    assert [t.key for t in bench.TARGETS] == list(bench.ratios({}))
    assert all(t.op in (">=", "<=") for t in bench.TARGETS)


def test_schedule_interleaves_rounds_and_stops_each_job_at_its_repeats():
    runs = bench.schedule({"baseline": 2, "forecast": 3, "sbc": 1})
    assert runs == [
        ("baseline", 0),
        ("forecast", 0),
        ("sbc", 0),
        ("baseline", 1),
        ("forecast", 1),
        ("forecast", 2),
    ]
    assert bench.schedule({}) == []


TYPER_HELP = """
 Usage: axis sensitivity [OPTIONS]
│ --prior-sets    --no-prior-sets    <bool>  Refit under every priors/*.toml   │
│ --draws                            <int>   Posterior draws per chain, per    │
│ --as-of                            <str>   Fit as of this date               │
"""


def test_supported_flags_keeps_named_groups_and_reports_the_rest():
    assert {"--prior-sets", "--no-prior-sets", "--draws", "--as-of"} <= bench.named_options(
        TYPER_HELP
    )
    groups = [("--draws", "50"), ("--tune", "50"), ("--no-prior-sets",), ("--as-of", "2025-09-30")]
    kept, dropped = bench.supported_flags(groups, TYPER_HELP)
    assert kept == ["--draws", "50", "--no-prior-sets", "--as-of", "2025-09-30"]
    assert dropped == ["--tune"]
    # an option is matched whole: --draws does not stand in for --draws-max, nor the reverse
    assert bench.supported_flags([("--draws-max", "1")], TYPER_HELP) == ([], ["--draws-max"])


def test_last_json_takes_the_last_object_line():
    out = 'compiling...\n{"a": 1}\nnoise\n{"b": 2}\n'
    assert bench.last_json(out) == {"b": 2}
    with pytest.raises(ValueError):
        bench.last_json("no json here\n")


def _child(code=0, stdout="", wall=12.0, started=100.0):
    return bench.Child(wall=wall, peak_mb=1.0, code=code, stdout=stdout, stderr="", started=started)


def test_sbc_counts_a_calibration_failure_as_a_run_but_not_a_crash():
    done = "20 simulations (20 new) in 95 s; L = 99; fit 3.1 s median per simulation\n"
    assert bench.sbc_finished(_child(0, done))
    assert bench.sbc_finished(_child(1, done))  # a quantity failed SBC: the time still counts
    assert not bench.sbc_finished(_child(1, "Traceback (most recent call last):\n"))
    assert bench.read_sbc(Path("."), _child(1, done)) == {"sims": 20, "calibrated": False}


def test_baseline_wall_ends_when_pm_sample_returned():
    res = {"sampled_at": 140.5, "ess": 1500.0, "divergences": 0}
    read = bench.read_baseline(Path("."), _child(stdout=json.dumps(res), wall=45.0, started=100.0))
    assert read["wall"] == pytest.approx(40.5)  # not the 45 s the child took with its ESS
    assert read["process_s"] == 45.0 and read["ess"] == 1500.0


def test_read_forecast_adds_the_time_no_stage_covers(tmp_path):
    (tmp_path / "summary.json").write_text(
        json.dumps({"diagnostics": {"ess_bulk_min": 1234.5, "r_hat_max": 1.004, "divergences": 0}})
    )
    stages = {"start": 1.5, "sampling": 8.0, "report": 2.0}
    (tmp_path / "timings.json").write_text(json.dumps({"total": 11.5, "stages": stages}))
    read = bench.read_forecast(tmp_path, _child(wall=13.0))
    assert read["ess"] == 1234.5 and read["divergences"] == 0
    assert list(read["stages"]) == ["start", "sampling", "report", "other"]
    assert read["stages"]["other"] == pytest.approx(1.5)


def test_summarise_runs_takes_medians_and_the_largest_peak():
    runs = [
        {"wall": 10.04, "peak_mb": 900.0, "ess": 1200.0, "stages": {"a": 1.0, "b": 6.0}},
        {"wall": 12.0, "peak_mb": 1100.0, "ess": 1000.0, "stages": {"a": 3.0, "b": 8.0, "c": 3.0}},
        {"wall": 11.0, "peak_mb": 1000.0, "ess": 1100.0, "stages": {"a": 2.0, "b": 7.0}},
    ]
    s = bench.summarise_runs(runs)
    assert s["runs"] == 3 and s["wall"] == 11.0
    assert (s["wall_min"], s["wall_max"]) == (10.0, 12.0)  # recorded to 0.1 s
    assert s["peak_mb"] == 1100.0 and s["ess"] == 1100.0
    assert s["ess_per_s"] == pytest.approx(100.0)
    assert s["stages"] == {"a": 2.0, "b": 7.0, "c": 0.0}  # a run without a stage spent 0 s
    sbc = bench.summarise_runs([{"wall": 40.0, "peak_mb": 1.0, "sims": 20}])
    assert sbc["wall_per_sim"] == 2.0 and "ess" not in sbc
    assert bench.summarise_runs([]) == {"runs": 0}


def test_rounded_records_seconds_to_a_tenth_and_leaves_diagnostics_alone():
    run = {"wall": 12.345, "peak_mb": 999.96, "r_hat_max": 1.0042, "stages": {"a": 0.04}}
    assert bench.rounded(run) == {
        "wall": 12.3,
        "peak_mb": 1000.0,
        "r_hat_max": 1.0042,
        "stages": {"a": 0.0},
    }


SUMMARY = {
    "baseline": {"wall": 50.0, "ess": 1500.0, "ess_per_s": 30.0, "sample_s": 44.0},
    "forecast": {"wall": 10.0, "stages": {"sampling": 8.0}},
    "forecast1000": {"wall": 12.0, "ess": 2400.0, "ess_per_s": 200.0},
    "cold": {"wall": 30.0},
    "refit": {"wall": 9.0, "stages": {"compile": 0.0, "sampling": 8.5}},
    "stacked": {"wall": 19.0},
    "sensitivity": {"wall": 55.0},
    "backtest": {"wall": 30.0},
    "sbc": {"wall": 80.0, "sims": 20, "wall_per_sim": 4.0},
}


def test_ratios_are_the_targets_same_run_quotients():
    r = bench.ratios(SUMMARY)
    assert r["ess_per_s"] == pytest.approx(200.0 / 30.0)
    assert r["forecast_vs_baseline"] == pytest.approx(0.2)
    assert r["forecast_vs_sampling"] == pytest.approx(1.25)
    assert r["refit_vs_cold"] == pytest.approx(0.3)
    assert r["refit_compile"] == 0.0  # a stage that took no time is measured, not missing
    assert r["stacked"] == pytest.approx(1.9)
    assert r["sensitivity"] == pytest.approx(5.5)
    assert r["backtest"] == pytest.approx(3.0)
    assert r["sbc_per_sim"] == pytest.approx(0.4)


def test_a_ratio_whose_job_did_not_run_is_missing_not_zero():
    r = bench.ratios({k: v for k, v in SUMMARY.items() if k != "baseline"})
    assert r["ess_per_s"] is None and r["forecast_vs_baseline"] is None
    assert r["backtest"] == pytest.approx(3.0)
    assert all(v is None for v in bench.ratios({}).values())


def test_targets_are_judged_at_their_bounds_and_never_in_quick_mode():
    rows = {r["key"]: r for r in bench.target_rows(SUMMARY, quick=False)}
    assert rows["ess_per_s"]["met"] == "yes" and rows["ess_per_s"]["value"] == 6.67
    assert rows["forecast_vs_baseline"]["met"] == "yes"
    assert rows["backtest"]["met"] == "yes" and rows["backtest"]["target"] == "<= 3"  # at it
    assert rows["sbc_per_sim"]["met"] == "yes"
    assert rows["sensitivity"]["met"] == "no" and rows["sensitivity"]["target"] == "<= 5"
    missing = bench.target_rows({"forecast": SUMMARY["forecast"]}, quick=False)
    assert {r["key"]: r["met"] for r in missing}["backtest"] == "-"
    assert {r["met"] for r in bench.target_rows(SUMMARY, quick=True)} == {"-"}


def test_tables_are_plain_text_within_100_columns():
    jobs = bench.make_jobs(bench.JOBS, quick=False, sims=20, help_of=lambda name: TYPER_HELP)
    summary = {n: {**s, "runs": 3, "wall_min": 1.0, "wall_max": 99.0, "peak_mb": 1234.5}
               for n, s in SUMMARY.items()}  # fmt: skip
    summary["forecast"]["stages"] = {"start": 1.3, "sampling": 8.0, "report": 2.5, "other": 1.0}
    summary["forecast1000"]["stages"] = {"start": 1.3, "sampling": 9.0, "other": 1.0}
    results = {n: {"runs": [], "summary": s} for n, s in summary.items()}
    text, rows = bench.report({n: j[1] for n, j in jobs.items()}, results, quick=False)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.splitlines()[-1] == "8 of 9 targets met"
    assert "pm.sample() took 44.0 s of its 50.0 s" in text
    assert [r["met"] for r in rows].count("no") == 1
    stage_lines = bench.stage_table(summary).splitlines()
    assert stage_lines[0].split() == ["stage", "forecast", "forecast1000"]
    assert stage_lines[2].split() == ["start", "1.3", "1.3"]
    assert stage_lines[-2].split() == ["other", "1.0", "1.0"]
    assert stage_lines[-1].split() == ["wall", "10.0", "12.0"]
    assert any(line.split()[:1] == ["report"] and line.split()[2] == "-" for line in stage_lines)


def test_the_command_line_refuses_what_it_cannot_run():
    args = bench.parse_args([])
    assert args.only == list(bench.JOBS) and args.repeats is None and args.sims == 20
    assert bench.parse_args(["--only", "forecast", "sbc", "--repeats", "2"]).only == [
        "forecast",
        "sbc",
    ]
    for bad in (["--repeats", "0"], ["--sims", "1"], ["--only", "nuts"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_render_aligns_columns_and_shows_missing_values_as_dashes():
    table = bench.render(["name", "s"], [["a", "1.50"], ["long name", None]], [False, True])
    assert table.splitlines() == [
        "name          s",
        "---------  ----",
        "a          1.50",
        "long name     -",
    ]


def test_jobs_time_the_commands_a_user_runs():
    jobs = bench.make_jobs(bench.JOBS, quick=False, sims=20, help_of=lambda name: "")
    out = Path("/tmp/out")
    forecast = jobs["forecast"][1].argv(out)
    assert "--draws" not in forecast and "--no-report" not in forecast
    assert "forecast" in forecast and "--allow-bad-diagnostics" in forecast
    f1000 = jobs["forecast1000"][1].argv(out)
    assert f1000[f1000.index("--draws") + 1] == "1000"
    backtest = jobs["backtest"][1].argv(out)
    for flag, value in (("--from", "2022-04-01"), ("--to", "2025-06-30"), ("--every", "quarter")):
        assert backtest[backtest.index(flag) + 1] == value
    warm, timed = jobs["sbc"]
    assert warm.argv(out)[warm.argv(out).index("--sims") + 1] == str(bench.WARM_SIMS)
    assert timed.argv(out)[timed.argv(out).index("--sims") + 1] == "20"
    assert "--child-baseline" in jobs["baseline"][1].argv(out)
    # quick mode shrinks every fit, and drops a flag the command's help does not name
    quick = bench.make_jobs(("sensitivity",), quick=True, sims=2, help_of=lambda n: TYPER_HELP)
    sens = quick["sensitivity"][1]
    assert "--draws" in sens.argv(out) and "--tune" not in sens.argv(out)
    assert any(note.startswith("--tune") for note in sens.notes)
