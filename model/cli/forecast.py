"""``axis forecast`` and ``axis report``: fit a case, write its run folder and report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from model.cli.app import (
    DEFAULTS,
    Chains,
    Draws,
    Horizon,
    Sampler,
    Tune,
    app,
    bad_input,
    exit_unless_passed,
    fresh_folder,
    parse_date,
)
from model.cli.paths import case_files, default_files, theory_rivals, timestamped
from model.outputs.console import console_hooks, say_fitting, say_gate
from model.workflows.common.inputs import BadInputError
from model.workflows.common.timing import StageTimer


@app.command()
def forecast(
    data: Annotated[
        Path | None, typer.Option(help="Observations CSV [default: data/observations.csv]")
    ] = None,
    actors: Annotated[
        Path | None, typer.Option(help="Actors TOML [default: data/actors.toml]")
    ] = None,
    priors: Annotated[
        Path | None, typer.Option(help="Prior set TOML [default: priors/default.toml]")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same draws")
    ] = DEFAULTS.seed,
    draws: Draws = DEFAULTS.draws,
    tune: Tune = DEFAULTS.tune,
    chains: Chains = DEFAULTS.chains,
    horizon: Horizon = 4,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Fit as of this date (YYYY-MM-DD) [default: the case's rule: today, "
            "or the newest observation of a historical case]",
        ),
    ] = None,
    sampler: Sampler = DEFAULTS.sampler,
    target_accept: Annotated[float, typer.Option(help="NUTS target acceptance")] = (
        DEFAULTS.target_accept
    ),
    out: Annotated[
        Path | None, typer.Option(help="Run folder to write [default: runs/<time>-seed<seed>]")
    ] = None,
    allow_bad_diagnostics: Annotated[
        bool,
        typer.Option("--allow-bad-diagnostics", help="Exit 0 even if the convergence gate fails"),
    ] = False,
    report: Annotated[
        bool,
        typer.Option(
            "--report/--no-report",
            help="Run the predictive checks and write report.html into the run folder",
        ),
    ] = True,
    case: Annotated[
        str | None,
        typer.Option(help="A named case: 'default' or a folder of data/cases/ (sets the data)"),
    ] = None,
    theory: Annotated[
        str,
        typer.Option(
            help="weitsman: the prior set's mapping alone; stacked: also fit Walt's and a "
            "flat mapping, and stack the three on the conduct and outcome evidence",
        ),
    ] = "weitsman",
) -> None:
    """Fit the model on the evidence and print the alliance forecast."""
    timer = StageTimer()
    with timer.stage("start"):
        from model.inference.config import SamplerConfig
        from model.outputs.forecast_run import write_forecast_run
        from model.workflows.forecast.case import forecast_case

    with bad_input():
        files = case_files(case, data, actors, priors)
        rivals = theory_rivals(theory)
    when = parse_date(as_of)
    out = fresh_folder(out or timestamped(suffix=f"-seed{seed}"), "run folder")
    config = SamplerConfig(
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        sampler=sampler,
        target_accept=target_accept,
    )
    with bad_input(BadInputError):
        result = forecast_case(
            files,
            config,
            as_of=when,
            horizon=horizon,
            timer=timer,
            hooks=console_hooks(fitting=say_fitting),
            rivals=rivals,
        )
    reported = write_forecast_run(result, out, report=report)
    exit_unless_passed(say_gate(result.summary), allow_bad_diagnostics)
    if not reported:
        raise typer.Exit(1)


@app.command("report")
def report_command(
    run: Annotated[Path, typer.Argument(help="Run folder written by `axis forecast`")],
    recheck: Annotated[
        bool,
        typer.Option("--recheck", help="Recompute the predictive checks even if cached"),
    ] = False,
    data: Annotated[
        Path | None, typer.Option(help="Observations the run was fitted on (for the checks)")
    ] = None,
    actors: Annotated[Path | None, typer.Option(help="Actors TOML the run was fitted on")] = None,
    priors: Annotated[Path | None, typer.Option(help="Prior set the run was fitted on")] = None,
) -> None:
    """Write report.html for a run folder: the forecast, diagnostics and predictive checks.

    The predictive checks are cached in the run folder (checks.nc); when
    they are missing, or with --recheck, they are computed from the run's
    posterior and its inputs, which must match the run's data and prior
    hashes.
    """
    from model.outputs.forecast_run import rebuild_report

    with bad_input(BadInputError):
        rebuild_report(run, default_files(data, actors, priors), recheck=recheck)
