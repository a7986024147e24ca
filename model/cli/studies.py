"""``axis backtest``, ``sensitivity``, ``elicit`` and ``scenario``: studies of the forecast.

How the forecast would have scored (backtest), how much of it the priors
decide (sensitivity), the analyst's own priors (elicit), and what it says if
chosen threats were otherwise (scenarios). Each writes an output folder, all
at once, except ``elicit``, which writes one prior set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from model.cli.app import (
    DEFAULTS,
    ActorsFile,
    Chains,
    Draws,
    PriorsFile,
    Seed,
    Tune,
    app,
    bad_input,
    fresh_folder,
    parse_date,
)
from model.cli.paths import (
    baseline_priors,
    case_files,
    default_files,
    prior_set_files,
    priors_dir,
    rival_priors,
    scenario_files,
    timestamped,
)
from model.cli.prompts import ask_statements
from model.outputs.console import (
    console,
    console_hooks,
    fit_progress,
    print_backtest,
    print_elicited,
    print_scenarios,
    print_sensitivity,
    say_fitting_baseline,
)
from model.workflows.common.inputs import BadInputError


def _totals(sweep: str) -> list[float]:
    """Read ``--sweep``: Table 2 total concentrations, each finite and positive."""
    totals = [float(x) for x in sweep.split(",") if x.strip()]
    if not all(0 < t < float("inf") for t in totals):
        raise ValueError(f"--sweep {sweep!r}: every total concentration must be > 0")
    return totals


def _as_of_fit(done: int, total: int, when: str) -> str:
    """Label the backtest's progress bar: the fit under way and its as-of date."""
    return f"as-of fit {done + 1}/{total}: {when}"


def _fit_done(done: int, total: int, label: str) -> str:
    """Label the sensitivity analysis's progress bar: the fits done and the last one."""
    return f"fit {done}/{total}: {label}"


@app.command()
def backtest(
    start: Annotated[
        str, typer.Option("--from", help="First as-of date (YYYY-MM-DD)")
    ] = "2022-04-01",
    end: Annotated[
        str | None, typer.Option("--to", help="Last as-of date [default: last evidence]")
    ] = None,
    every: Annotated[str, typer.Option(help="quarter | month | year")] = "quarter",
    data: Annotated[Path | None, typer.Option(help="Observations CSV")] = None,
    actors: ActorsFile = None,
    priors: PriorsFile = None,
    seed: Seed = DEFAULTS.seed,
    draws: Draws = DEFAULTS.draws,
    tune: Tune = DEFAULTS.tune,
    chains: Chains = DEFAULTS.chains,
    horizon: Annotated[int, typer.Option(help="Forecast periods after each as-of date")] = 4,
    reuse: Annotated[
        bool,
        typer.Option(
            "--reuse/--refit-all",
            help="Reweight the last NUTS fit where the Pareto-smoothed weights allow "
            "(approximate leave-future-out); --refit-all draws every fit by NUTS",
        ),
    ] = True,
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            help="Past questions to score on the as-of fits, each on the latest fit dated on "
            "or before it opened (e.g. data/past_questions.toml with --every year)",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: runs/backtest-<time>]")
    ] = None,
) -> None:
    """Fit as of each period end in a range and score the forecasts on what came next."""
    from model.inference.config import SamplerConfig
    from model.outputs.folders import write_backtest
    from model.workflows.updates.backtest import backtest_case

    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    out = fresh_folder(out or timestamped("backtest-"))
    config = SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed)
    with bad_input(BadInputError), fit_progress("as-of fits", _as_of_fit) as progress:
        result = backtest_case(
            default_files(data, actors, priors),
            config,
            start=first,
            end=last,
            every=every,
            horizon=horizon,
            reuse=reuse,
            hooks=console_hooks(progress=progress),
            questions=questions,
        )
    write_backtest(result, out)
    print_backtest(result)
    more = ", questions.csv, question_scores.csv" if len(result.questions) else ""
    console.print(f"Written: {out}/backtest.csv, scores.csv, targets.csv, backtest.png{more}")


@app.command()
def sensitivity(
    data: Annotated[Path | None, typer.Option(help="Observations CSV")] = None,
    actors: ActorsFile = None,
    priors: Annotated[Path | None, typer.Option(help="The baseline prior set")] = None,
    rival: Annotated[
        Path | None, typer.Option(help="Rival theory for LOO [default: priors/realist.toml]")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Third theory to stack [default: priors/no_theory.toml]"),
    ] = None,
    prior_sets: Annotated[
        bool, typer.Option("--prior-sets/--no-prior-sets", help="Fit under every priors/*.toml")
    ] = True,
    sweep: Annotated[
        str, typer.Option(help="Table 2 concentrations to sweep, comma-separated ('' to skip)")
    ] = "1,4,20,100,1000",
    draws: Draws = DEFAULTS.draws,
    tune: Tune = DEFAULTS.tune,
    seed: Annotated[int, typer.Option(help="Random seed (every fit uses it)")] = DEFAULTS.seed,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Fit as of this date")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: runs/sensitivity-<time>]")
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Full type and component names (wider than 80 columns)")
    ] = False,
    from_run: Annotated[
        Path | None,
        typer.Option(
            "--from-run", help="A forecast's run folder on this case and priors: its fit is reused"
        ),
    ] = None,
) -> None:
    """Prior sensitivity: power-scaling, prior sets, trust in the theory, LOO against Walt.

    The default fit is drawn by NUTS, or read from a forecast's run folder
    (``--from-run``); every other fit reweights it where the
    Pareto-smoothed importance weights allow (k <= 0.7) and is drawn by NUTS
    otherwise. The tables say which path each fit took. A verdict comes
    first; a (quantity, component) cell is flagged only when its shift is
    detectable beyond Monte Carlo noise and material.
    """
    from model.inference.config import SamplerConfig
    from model.outputs.folders import write_sensitivity
    from model.workflows.studies.sensitivity import sensitivity_case

    when = parse_date(as_of)
    with bad_input():
        totals = _totals(sweep)
    out = fresh_folder(out or timestamped("sensitivity-"))
    with bad_input(BadInputError), fit_progress("fits", _fit_done) as progress:
        result = sensitivity_case(
            default_files(data, actors, priors),
            rival or rival_priors(),
            prior_set_files() if prior_sets else [],
            totals,
            SamplerConfig(draws=draws, tune=tune, seed=seed),
            baseline=baseline or baseline_priors(),
            as_of=when,
            hooks=console_hooks(progress=progress),
            base_run=from_run,
        )
    print_sensitivity(result, wide=wide)
    write_sensitivity(result, out)
    console.print(f"Written: {out}")


@app.command()
def elicit(
    statements: Annotated[
        Path | None,
        typer.Argument(help="Statements TOML (trust, statements, name) [default: ask]"),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Prior set name [default: the file's name or stem]")
    ] = None,
    base: Annotated[
        Path | None, typer.Option(help="Prior set to start from [default: priors/default.toml]")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Folder to write into [default: priors/]")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing prior set")] = False,
) -> None:
    """Turn plain beliefs about Tables 2 and 3 into a prior set (Dirichlets fitted by preliz).

    Each statement bounds one share of a row ("external high, internal low:
    balancing between 60% and 90%, most likely 75%"); its Beta marginal is
    fitted by maximum entropy with 90% of its mass in the interval. How sure
    you are of Weitsman's tables (a little / fairly / very) sets the
    concentration of the rows you say nothing about. Without a file, asks.
    """
    from model.workflows.studies.elicit import elicit_priors

    source = statements if statements is not None else ask_statements(name)
    with bad_input():
        result = elicit_priors(
            source,
            base or default_files().priors,
            out_dir or priors_dir(),
            name=name,
            overwrite=force,
        )
    print_elicited(result)


@app.command()
def scenario(
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="SERIES=VALUE[@PERIOD], repeatable: CHN.external=high, CHN<-PRK.internal=low, "
            "RUS.external=1.5 (a latent score)",
        ),
    ] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            help="Scenario TOML ([scenario.NAME] tables); repeatable "
            "[default without --set: scenarios/<case>.toml]",
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Name of the --set scenario")] = "what-if",
    start: Annotated[
        str,
        typer.Option(
            "--from",
            help="Period the settings start (label or last_evidence | now | horizon)",
        ),
    ] = "now",
    at: Annotated[str, typer.Option(help="Period the table reports (label or role)")] = "now",
    run: Annotated[
        Path | None,
        typer.Option(help="A forecast run folder whose posterior.nc to use [default: fit now]"),
    ] = None,
    case: Annotated[
        str | None, typer.Option(help="Named case to fit when no --run is given")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Observations CSV (when fitting)")] = None,
    actors: Annotated[Path | None, typer.Option(help="Actors TOML (when fitting)")] = None,
    priors: Annotated[Path | None, typer.Option(help="Prior set TOML (when fitting)")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Fit as of this date (when fitting)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (when fitting)")] = DEFAULTS.seed,
    draws: Draws = DEFAULTS.draws,
    tune: Annotated[
        int, typer.Option(help="Tuning steps per chain (when fitting)")
    ] = DEFAULTS.tune,
    chains: Annotated[int, typer.Option(help="Chains (when fitting)")] = DEFAULTS.chains,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: runs/scenario-<time>]")
    ] = None,
) -> None:
    """Fix chosen threats on a fitted model (what if?) and compare with the baseline.

    Each setting fixes a threat series at a level (low, medium, high) or a
    latent score from a period on; strategies, dyad types, commitment,
    cohesion and P(axis) are recomputed draw by draw from the posterior and
    set next to the baseline. Without --run the model is fitted first with
    the forecast defaults (or the sampler options given here).
    """
    from model.inference.config import SamplerConfig
    from model.outputs.folders import write_scenarios
    from model.workflows.studies.scenario import ScenarioRequest, run_scenarios

    with bad_input():
        files = file or ([] if settings else scenario_files(case))
    out = fresh_folder(out or timestamped("scenario-"))
    with bad_input():
        fitted = None if run else case_files(case, data, actors, priors)
    request = ScenarioRequest(
        settings=tuple(settings or ()),
        files=tuple(files),
        name=name,
        start=start,
        at=at,
        run=run,
        case=fitted,
        as_of=None if run else parse_date(as_of),
        config=SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed),
    )
    with bad_input(BadInputError):
        result = run_scenarios(request, hooks=console_hooks(fitting=say_fitting_baseline))
    print_scenarios(result.headline, result.period)
    write_scenarios(result, out)
    console.print(f"Written: {out}/scenarios.csv, scenarios.json, scenarios.png")
