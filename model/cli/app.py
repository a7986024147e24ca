"""The ``axis`` command line: thin wrappers over :mod:`model`.

Exit codes: 0 success; 2 bad input (nothing written); 3 the fit failed its
convergence gate (the run folder is written and flagged; pass
``--allow-bad-diagnostics`` to accept it); 4 another axis process held the
store's lock past ``--lock-timeout`` (nothing written); 1 anything unexpected.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from model.evidence.data import InputError, InputWarning
from model.evidence.store import LOCK_TIMEOUT
from model.theory.tables import OUTCOME_LEVELS, OUTSIDE_THEORY, STRATEGIES

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2
EXIT_DIAGNOSTICS = 3
EXIT_STORE_BUSY = 4


# Options shared by the commands that fit (forecast, update, ingest, backtest, ...).
Seed = Annotated[int, typer.Option(help="Random seed; the same seed gives the same draws")]
Draws = Annotated[
    int | None,
    typer.Option(
        help="Posterior draws per chain [default: draw until the gate passes and the "
        "smallest bulk ESS of the reported quantities reaches 1,000]"
    ),
]
Tune = Annotated[int, typer.Option(help="Tuning steps per chain")]
Chains = Annotated[int, typer.Option(help="Chains")]
Horizon = Annotated[int, typer.Option(help="Forecast periods after the as-of period")]
Sampler = Annotated[str, typer.Option(help="numpyro | nutpie (nutpie needs --draws)")]
SeedData = Annotated[Path | None, typer.Option(help="Seed evidence for a new store")]
ActorsFile = Annotated[Path | None, typer.Option(help="Actors TOML")]
PriorsFile = Annotated[Path | None, typer.Option(help="Prior set TOML")]
RunsDir = Annotated[Path | None, typer.Option(help="Folder for run folders [default: runs/]")]
AllowBad = Annotated[
    bool,
    typer.Option("--allow-bad-diagnostics", help="Exit 0 even if the convergence gate fails"),
]
LockTimeout = Annotated[
    float,
    typer.Option(
        help="Seconds to wait for another axis process that is updating the same store",
    ),
]
Refit = Annotated[
    bool,
    typer.Option(
        "--refit",
        help="Draw the posterior again with NUTS even when reweighting the last fit's "
        "draws would do",
    ),
]


def project_root() -> Path:
    """Return the folder holding ``data/`` and ``priors/``: the working directory if it has them."""
    cwd = Path.cwd()
    if (cwd / "data" / "actors.toml").exists():
        return cwd
    return Path(__file__).resolve().parents[2]


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(f"[bold red]error:[/] --as-of {text!r} is not an ISO date (YYYY-MM-DD)")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _fail_input(err: Exception) -> None:
    # escaped: a message quotes the analyst's text, and "[/x]" in a cell is not rich markup
    err_console.print(f"[bold red]error:[/] {escape(str(err))}")
    err_console.print("Nothing was written.")
    raise typer.Exit(EXIT_BAD_INPUT)


def _check_prior_shapes(priors: Any, actors: Any, evidence: Any | None = None) -> None:
    """Check the prior set's arrays against the case's series (and steps, once known).

    Raises :class:`~model.evidence.data.InputError` naming the prior file and field.
    """
    from model.evidence.aggregate import Structure
    from model.evidence.priors import check_case_shapes

    sizes = {"series": len(Structure(actors).series)}
    if evidence is not None:
        sizes["step"] = len(evidence.periods) - 1
    check_case_shapes(priors, sizes)


def _pct(x: float) -> str:
    return f"{x:6.1%}"


def print_summary(summary: dict[str, Any]) -> None:
    """Render the summary of a run as console tables."""
    per = summary["periods"]
    head = Table(
        title="P(anti-{} axis): every partner balances in every dyad".format(
            summary["case"]["external"]
        )
    )
    from model.workflows.forecast import decimals, format_probability

    for col in ("when", "period", "mean ± MCSE", "94% HDI"):
        head.add_column(col)
    for key, role in (
        ("p_axis", "last evidence"),
        ("p_axis_now", "now"),
        ("p_axis_horizon", "horizon"),
    ):
        v = summary[key]
        mcse = v.get("mcse", float("nan"))
        d = decimals(mcse)
        head.add_row(
            role,
            v["period"],
            format_probability(v["mean"], mcse),
            f"[{v['hdi_low']:.{d}f}, {v['hdi_high']:.{d}f}]",
        )
    console.print(head)

    for d, info in summary["dyads"].items():
        t = Table(title=f"{d} at {per['last_evidence']}: alliance type", show_lines=False)
        t.add_column("type")
        t.add_column("P ± MCSE", justify="right")
        ranked = sorted(info["type_probs"].items(), key=lambda kv: -kv[1])
        mcse = info.get("type_mcse", {})
        for name, p in ranked[:4]:
            flag = "  (outside the theory)" if name in OUTSIDE_THEORY else ""
            t.add_row(name + flag, format_probability(p, mcse.get(name, float("nan")), True))
        t.add_row("[dim]other six[/]", _pct(sum(p for _, p in ranked[4:])))
        o = Table(title=f"{d}: commitment / cohesion")
        o.add_column("level")
        o.add_column("commitment", justify="right")
        o.add_column("cohesion", justify="right")
        for lev in OUTCOME_LEVELS:
            o.add_row(lev, _pct(info["commitment"][lev]), _pct(info["cohesion"][lev]))
        console.print(t, o)

    s = Table(title="Strategies at last evidence")
    s.add_column("pair")
    for name in STRATEGIES:
        s.add_column(name, justify="right")
    for pair, probs in summary["strategies"].items():
        s.add_row(pair, *(_pct(v) for v in probs.values()))
    console.print(s)

    dg = summary["diagnostics"]
    ok = "[green]passed[/]" if dg["passed"] else "[bold red]FAILED[/]"
    console.print(
        f"Diagnostics {ok}: max R-hat {dg['r_hat_max']:.4f} (<= {dg['thresholds']['r_hat_max']}), "
        f"min bulk ESS {dg['ess_bulk_min']:.0f} (>= {dg['thresholds']['ess_bulk_min']}), "
        f"divergences {dg['divergences']}"
    )


@app.callback()
def _group() -> None:
    """Bayesian forecasts of alliance formation under the dangerous-alliances theory."""
    _show_input_warnings()


def _show_input_warnings() -> None:
    """Print each :class:`~model.evidence.data.InputWarning` once, as a ``warning:`` line on stderr.

    The readers warn rather than print (they are a library too); the command
    line makes the warning as visible as an error, without the Python
    warning's file and line number, which would point into this package.
    """
    shown = warnings.showwarning
    if getattr(shown, "axis_input", False):
        return
    seen: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if not issubclass(category, InputWarning):
            shown(message, category, *args, **kwargs)
        elif str(message) not in seen:
            seen.add(str(message))
            err_console.print(f"[yellow]warning:[/] {escape(str(message))}")

    show.axis_input = True  # type: ignore[attr-defined]
    warnings.showwarning = show
    warnings.simplefilter("default", InputWarning)


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
    ] = 20250630,
    draws: Draws = None,
    tune: Tune = 300,
    chains: Chains = 4,
    horizon: Horizon = 4,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Fit as of this date (YYYY-MM-DD) [default: the case's rule: today, "
            "or the newest observation of a historical case]",
        ),
    ] = None,
    sampler: Sampler = "numpyro",
    target_accept: Annotated[float, typer.Option(help="NUTS target acceptance")] = 0.95,
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
) -> None:
    """Fit the model on the evidence and print the alliance forecast."""
    began = time.perf_counter()
    from model.workflows.forecast import (
        SamplerConfig,
        load_inputs,
        run_forecast,
        summarise,
        write_run,
    )

    imported = time.perf_counter()

    data, actors = _case_paths(case, data, actors)
    data, actors, priors = _default_paths(data, actors, priors)
    when = _parse_date(as_of)
    if out is None:
        out = project_root() / "runs" / f"{datetime.now():%Y%m%d-%H%M%S}-seed{seed}"
    if out.exists():
        _fail_input(FileExistsError(f"run folder {out} already exists"))
    try:
        inputs = load_inputs(actors, data, priors, as_of=when, horizon=horizon)
        _check_prior_shapes(inputs.priors, inputs.actors, inputs.evidence)
    except (InputError, ValueError) as err:
        _fail_input(err)
    stages = {"start": imported - began, "inputs": time.perf_counter() - imported}
    config = SamplerConfig(
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        sampler=sampler,
        target_accept=target_accept,
    )
    ev = inputs.evidence
    how_many = _draws_text(draws)
    console.print(
        f"Fitting {sum(ev.n_rows.values())} observations ({ev.n_rows}) over "
        f"{len(ev.periods)} periods {ev.periods[0]}..{ev.periods[-1]} with {sampler}, "
        f"{chains} chains x {how_many}, seed {seed}"
    )
    console.print("Sampling (the first run compiles the model; later runs reuse the cache)")
    idata = run_forecast(inputs, config, progressbar=console.is_terminal, on_chunk=_say_chunk)
    _say_retry(idata)
    stages.update(json.loads(idata.attrs["stage_seconds"]))
    writing = time.perf_counter()
    from model.outputs.plots import run_figures

    write_run(idata, out, run_figures(idata))
    stages["write"] = time.perf_counter() - writing
    summary = summarise(idata)
    print_summary(summary)
    console.print(f"Run folder: {out}")
    report_failed = False
    if report:
        try:
            stages.update(_write_report(out, inputs, idata))
        except Exception as err:  # the run folder is complete; only its report is missing
            report_failed = True
            err_console.print(
                f"[bold red]error:[/] the report failed ({type(err).__name__}: {err}). "
                f"The run folder is complete; retry with `axis report {out}`."
            )
    _record_time(out, stages, time.perf_counter() - began)
    if not summary["diagnostics"]["passed"]:
        err_console.print(
            "[bold red]WARNING: the sampler did not converge by the gate above. "
            "Do not quote these numbers.[/]\n"
            "Re-run with more --tune/--draws or another --seed, "
            "or pass --allow-bad-diagnostics to accept."
        )
        if not allow_bad_diagnostics:
            raise typer.Exit(EXIT_DIAGNOSTICS)
    if report_failed:
        raise typer.Exit(1)


def _draws_text(draws: int | None) -> str:
    """Say how many draws a fit takes: the count asked for, or to the default precision."""
    return f"{draws} draws" if draws else "draws to a bulk ESS of 1,000"


def _say_chunk(drawn: int, ess: float | None) -> None:
    """Report a fit to a precision as it goes: draws per chain, and the ESS reached."""
    reached = "" if ess is None else f", smallest bulk ESS of the reported quantities {ess:,.0f}"
    console.print(f"  {drawn} draws per chain{reached}")


def _say_retry(idata: Any) -> None:
    """Tell the analyst when a diverging draw was redone with smaller steps."""
    attempts = json.loads(idata.attrs.get("sampling_attempts", "[]"))
    if len(attempts) > 1:
        first, last = attempts[0], attempts[-1]
        console.print(
            f"The first draw had {first['divergences']} divergence(s) at target_accept "
            f"{first['target_accept']}; every chain was drawn again at {last['target_accept']} "
            f"({first['seconds']} s + {last['seconds']} s)."
        )


def _write_report(run: Path, inputs: Any | None, idata: Any | None = None) -> dict[str, float]:
    """Predictive checks (when given the inputs) and the HTML report of a run folder.

    Returns the seconds each took, by stage name (``checks``, ``report``).
    """
    from model.outputs.report import CHECKS_FILE, compute_checks, write_report

    took = {}
    if inputs is not None:
        with console.status("predictive checks"):
            _, took["checks"] = compute_checks(run, inputs, idata=idata)
        console.print(f"Predictive checks: {run / CHECKS_FILE} ({took['checks']:.1f} s)")
    with console.status("writing the report"):
        path, took["report"] = write_report(run)
    console.print(f"Report: {path} ({took['report']:.1f} s)")
    return took


def _record_time(run: Path, stages: dict[str, float], total: float) -> None:
    """Print where a forecast's time went and keep it as the run folder's ``timings.json``.

    Written last: a run folder that has it saw its command finish.
    """
    from model.evidence.data import atomic_file
    from model.workflows.forecast import STAGES, TIMINGS_FILE, stage_line

    console.print(f"Time: {stage_line(stages, total)}", soft_wrap=True)
    record = {
        "total": round(total, 2),
        "stages": {k: round(stages[k], 2) for k in STAGES if k in stages},
    }
    with atomic_file(run / TIMINGS_FILE) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")


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
    import json

    from model.evidence.data import RUN_POSTERIOR, RUN_SUMMARY, check_run_folder
    from model.outputs.report import CHECKS_FILE, check_inputs_match, horizon_of
    from model.workflows.forecast import load_inputs

    if not (run / "summary.json").exists() or not (run / "posterior.nc").exists():
        _fail_input(FileNotFoundError(f"{run} is not a run folder (no summary.json/posterior.nc)"))
    recompute = recheck or not (run / CHECKS_FILE).exists()
    try:  # a damaged file is named here, not by a netCDF traceback halfway through
        check_run_folder(run, (RUN_SUMMARY, RUN_POSTERIOR, *(() if recompute else (CHECKS_FILE,))))
    except InputError as err:
        _fail_input(err)
    inputs = None
    if recompute:
        import xarray as xr

        summary = json.loads((run / "summary.json").read_text())
        with xr.open_datatree(run / "posterior.nc") as idata:
            horizon = horizon_of(idata)
        data, actors, priors = _default_paths(data, actors, priors)
        try:
            inputs = load_inputs(
                actors,
                data,
                priors,
                as_of=date.fromisoformat(summary["provenance"]["as_of"]),
                horizon=horizon,
            )
            check_inputs_match(summary, inputs)
        except (InputError, ValueError) as err:
            _fail_input(err)
    _write_report(run, inputs)


def _default_paths(
    data: Path | None, actors: Path | None, priors: Path | None
) -> tuple[Path, Path, Path]:
    root = project_root()
    return (
        data or root / "data" / "observations.csv",
        actors or root / "data" / "actors.toml",
        priors or root / "priors" / "default.toml",
    )


def _case_paths(
    case: str | None, data: Path | None, actors: Path | None
) -> tuple[Path | None, Path | None]:
    """Return the data and actors files of a named case; exit 2 listing the cases if unknown."""
    if case is None:
        return data, actors
    from model.evidence.cases import resolve_case

    if data is not None or actors is not None:
        _fail_input(ValueError("--case names the data and actors files; drop --data/--actors"))
    try:
        found = resolve_case(case, project_root())
    except InputError as err:
        _fail_input(err)
    return found.observations, found.actors


def _default_ledger() -> Path:
    return project_root() / "store" / "axis.sqlite"


def print_diff(rows: list[dict[str, Any]], limit: int = 15) -> None:
    """Render the change between two forecasts, largest first."""
    t = Table(title="What changed since the previous forecast (posterior means)")
    for col in ("unit", "quantity", "category", "before", "after", "change"):
        t.add_column(col, justify="right" if col in ("before", "after", "change") else "left")
    for r in rows[:limit]:
        t.add_row(
            r["unit"],
            r["quantity"],
            r["category"],
            f"{r['before']:.3f}",
            f"{r['after']:.3f}",
            f"{r['change']:+.3f}",
        )
    console.print(t)


@app.command()
def update(
    files: Annotated[list[Path], typer.Argument(help="New observation CSV files")],
    ledger: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file holding the observation store and the ledger "
            "[default: store/axis.sqlite]"
        ),
    ] = None,
    data: SeedData = None,
    actors: ActorsFile = None,
    priors: PriorsFile = None,
    seed: Seed = 20250630,
    draws: Draws = None,
    tune: Tune = 300,
    chains: Chains = 4,
    horizon: Horizon = 4,
    sampler: Sampler = "numpyro",
    runs: RunsDir = None,
    allow_bad_diagnostics: AllowBad = False,
    refit: Refit = False,
    lock_timeout: LockTimeout = LOCK_TIMEOUT,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Fit as of this date (YYYY-MM-DD); later rows are stored but not fitted "
            "[default: the case's rule]",
        ),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option(
            help="A named case: 'default' or a folder of data/cases/ (sets --data and --actors)"
        ),
    ] = None,
) -> None:
    """Add new observations, refit, publish the forecast in the ledger, and show what changed.

    Nothing is added if any row of any file is bad; rows already in the store
    (same id or same evidence) are skipped and listed. An update that fails
    changes neither the store nor the ledger. A few new rows are taken in by
    reweighting the last NUTS fit's draws when the Pareto-smoothed weights
    and the convergence gate allow it; otherwise, or with --refit, NUTS
    draws the posterior again.
    """
    from model.workflows.update import read_update_files

    def incoming(case_actors: Any) -> list[Any]:
        missing = [f for f in files if not f.exists()]
        if missing:
            raise FileNotFoundError(f"no such file: {', '.join(map(str, missing))}")
        return read_update_files(files, case_actors)

    data, actors = _case_paths(case, data, actors)
    _publish(
        incoming,
        ledger=ledger,
        data=data,
        actors=actors,
        priors=priors,
        config=dict(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler),
        horizon=horizon,
        runs=runs,
        allow_bad_diagnostics=allow_bad_diagnostics,
        reweight=not refit,
        as_of=_parse_date(as_of),
        lock_timeout=lock_timeout,
    )


def _publish(
    incoming: Any,
    *,
    ledger: Path | None,
    data: Path | None,
    actors: Path | None,
    priors: Path | None,
    config: dict[str, Any],
    horizon: int,
    runs: Path | None,
    allow_bad_diagnostics: bool,
    reweight: bool = True,
    as_of: date | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> None:
    """Validate (``incoming(case)`` returns the batches), refit, publish and report.

    Shared by ``update`` and ``ingest`` so that both take the same path into
    the store and the ledger. The store's lock is held from the read of the
    store (and of the last run, the anchor) to the commit: a second process
    waits, so two updates at once neither lose rows nor publish one forecast
    twice.
    """
    from model.evidence.data import load_actors
    from model.evidence.priors import load_priors
    from model.evidence.store import Store, StoreBusyError
    from model.outputs.plots import run_figures
    from model.workflows.forecast import SamplerConfig
    from model.workflows.update import DiagnosticsFailedError, diff_summaries, publish_update

    data, actors, priors = _default_paths(data, actors, priors)
    ledger = ledger or _default_ledger()
    runs = runs or project_root() / "runs"
    store = Store(ledger)
    try:
        case = load_actors(actors)
        prior_set = load_priors(priors)
        _check_prior_shapes(prior_set, case)
        batches = incoming(case)
        with store.locked(timeout=lock_timeout, waiting=lambda m: err_console.print(escape(m))):
            _check_anchor(store)
            with console.status("validating, refitting and publishing"):
                result = publish_update(
                    batches,
                    store=store,
                    actors=case,
                    priors=prior_set,
                    seed_data=data,
                    config=SamplerConfig(**config),
                    runs_dir=runs,
                    as_of=as_of,
                    horizon=horizon,
                    allow_bad_diagnostics=allow_bad_diagnostics,
                    reweight=reweight,
                    figures=run_figures,
                )
    except (InputError, ValueError, FileNotFoundError) as err:
        _fail_input(err)
    except StoreBusyError as err:
        err_console.print(f"[bold red]error:[/] {escape(str(err))}")
        raise typer.Exit(EXIT_STORE_BUSY) from None
    except DiagnosticsFailedError as err:
        err_console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    for file, row, why in result.duplicates:
        console.print(f"skipped {file}, row {row}: {why}")
    if not result.added:
        console.print("Nothing new: every row is already in the store. No forecast was published.")
        return
    console.print(
        f"Added {result.added} observation(s); published ledger row(s) {result.ledger_ids}; "
        f"run folder {result.run_folder}"
    )
    console.print(f"Posterior: {result.method}")
    print_summary(result.summary)
    print_diff(diff_summaries(result.previous, result.summary))


def _check_anchor(store: Any) -> None:
    """Raise :class:`~model.evidence.data.InputError` if the last run's posterior is damaged.

    An update reweights, or warm-starts from, the last published run; a
    damaged ``posterior.nc`` there would be passed over in silence (a cold
    refit) or end in a traceback. A run folder that is gone is not an error:
    the update then draws the posterior afresh, as it always has.
    """
    from model.evidence.data import RUN_POSTERIOR, check_run_folder

    led = store.ledger()
    if not led.empty and Path(led["run_folder"].iloc[-1]).is_dir():
        check_run_folder(led["run_folder"].iloc[-1], (RUN_POSTERIOR,))


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="An ICEWS or GDELT 2.0 event file")],
    fmt: Annotated[str, typer.Option("--format", help="Feed layout: icews | gdelt")] = "icews",
    mapping: Annotated[
        Path | None,
        typer.Option(help="Event-data mapping TOML [default: data/event_mapping.toml]"),
    ] = None,
    cameo: Annotated[
        Path | None,
        typer.Option(help="CAMEO code table [default: data/event-data/cameo_goldstein.csv]"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the coded observations; change nothing")
    ] = False,
    write: Annotated[
        Path | None, typer.Option(help="Also write the coded observations to this CSV")
    ] = None,
    ledger: Annotated[
        Path | None, typer.Option(help="SQLite store and ledger [default: store/axis.sqlite]")
    ] = None,
    data: SeedData = None,
    actors: ActorsFile = None,
    priors: PriorsFile = None,
    seed: Seed = 20250630,
    draws: Draws = None,
    tune: Tune = 300,
    chains: Chains = 4,
    horizon: Horizon = 4,
    sampler: Sampler = "numpyro",
    runs: RunsDir = None,
    allow_bad_diagnostics: AllowBad = False,
    refit: Refit = False,
    lock_timeout: LockTimeout = LOCK_TIMEOUT,
) -> None:
    """Code an event-data file (ICEWS, GDELT 2.0) as threat observations and publish them.

    CAMEO events between the case's actors become one `event-data` threat
    observation per series and period (data/event_mapping.toml says how),
    then take the path of `axis update`: duplicates skipped, refit, ledger.
    A bad row anywhere in the file rejects it, naming the row; nothing is added.
    """
    from model.evidence.ingest import ingest_feed, load_cameo, load_mapping
    from model.evidence.store import Source

    root = project_root()
    mapping = mapping or root / "data" / "event_mapping.toml"
    cameo = cameo or root / "data" / "event-data" / "cameo_goldstein.csv"

    def incoming(case: Any) -> list[Any]:
        from model.evidence.data import COLUMNS, file_sha256

        if not file.exists():
            raise FileNotFoundError(f"no such file: {file}")
        rules = load_mapping(mapping, case)
        frame, report = ingest_feed(file, fmt, mapping=rules, cameo=load_cameo(cameo), actors=case)
        console.print(
            f"{file.name}: {report.events} events; {report.outside_case} outside the case, "
            f"{report.before_start} before its first period, {report.duplicate_ids} repeated "
            f"ids, {report.one_a_day} repeats of the same day, actors and CAMEO code; "
            f"{report.mapped} events coded into {report.observations} observation(s) "
            f"({report.too_few} series-period(s) below {rules.min_events} events)"
        )
        _print_coded(frame)
        if write is not None:
            out = frame[list(COLUMNS)].copy()
            out["date"] = out["date"].dt.strftime("%Y-%m-%d")
            out.to_csv(write, index=False)
            console.print(f"Coded observations written to {write}")
        if dry_run:
            raise typer.Exit(0)
        if frame.empty:
            console.print("Nothing to add: no series and period has enough events.")
            raise typer.Exit(0)
        return [(frame, Source(file.name, file_sha256(file)))]

    _publish(
        incoming,
        ledger=ledger,
        data=data,
        actors=actors,
        priors=priors,
        config=dict(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler),
        horizon=horizon,
        runs=runs,
        allow_bad_diagnostics=allow_bad_diagnostics,
        reweight=not refit,
        lock_timeout=lock_timeout,
    )


def _print_coded(frame: Any) -> None:
    t = Table(title="Coded event-data observations")
    for col in ("id", "date", "series", "code", "events"):
        t.add_column(col)
    for r in frame.itertuples(index=False):
        t.add_row(
            r.id,
            f"{r.date:%Y-%m-%d}",
            f"{r.observer}<-{r.target}",
            r.code,
            r.citation.rsplit(", ", 1)[-1],
        )
    console.print(t)


@app.command()
def history(
    ledger: Annotated[Path | None, typer.Option(help="The ledger SQLite file")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of P(axis) across forecasts")
    ] = None,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="Every column: created, the horizon's HDI, full hashes, seed, sampler, "
            "diagnostics, run folder",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every ledger column as JSON, for scripts")
    ] = False,
    as_csv: Annotated[
        bool,
        typer.Option("--csv", help="Print the ledger as CSV, for scripts (no summary column)"),
    ] = False,
) -> None:
    """Print the forecast ledger, oldest first.

    The default view fits an 80-column terminal: id, as-of date, P(axis) at
    the last period with evidence and its 94% HDI, P(axis) at the horizon,
    and the start of the data hash. --wide shows the rest.
    """
    from model.evidence.store import LEDGER_JSON, Store

    if sum((wide, as_json, as_csv)) > 1:
        _fail_input(ValueError("choose one of --wide, --json and --csv"))
    led = Store(ledger or _default_ledger()).ledger()
    if as_json:
        records = led.to_dict("records")
        for r in records:
            r.update({k: json.loads(r[k]) for k in LEDGER_JSON})
        typer.echo(json.dumps(records, indent=2))
    elif as_csv:
        typer.echo(led.drop(columns="summary").to_csv(index=False), nl=False)
    elif led.empty:
        console.print("The ledger is empty: run `axis update FILE` to publish a forecast.")
        return
    else:
        table = _history_table(led, wide)
        out = console
        if wide:  # as wide as the cells need: a folded hash or path cannot be copied
            from rich.measure import Measurement

            need = Measurement.get(console, console.options.update(width=100_000), table)
            out = Console(width=max(console.width, need.maximum))
        out.print(table)
    if plot and not led.empty:
        from model.outputs.plots import plot_history

        plot_history(led).savefig(plot, dpi=110, bbox_inches="tight")
        (err_console if as_json or as_csv else console).print(f"Plot: {plot}")


def _history_table(led: Any, wide: bool) -> Table:
    """Lay the ledger out as a table: five columns that fit 80 characters, or every column."""
    if not wide:
        t = Table(
            title="Published forecasts",
            caption="P(axis) at the last period with evidence [94% HDI]; at the horizon; "
            "data: the data hash's start. --wide for the rest.",
        )
        for col in ("id", "as of", "P(axis) [94% HDI]", "horizon", "data"):
            t.add_column(col, no_wrap=True, justify="right" if col == "id" else "left")
        for r in led.itertuples(index=False):
            t.add_row(
                str(r.id),
                r.as_of,
                f"{_prob(r.p_axis_mean)} [{_prob(r.p_axis_hdi_low)}, {_prob(r.p_axis_hdi_high)}]",
                _prob(r.p_axis_horizon_mean),
                r.data_sha256[:8],
            )
        return t
    t = Table(title="Published forecasts")
    columns = (
        "id",
        "created",
        "as of",
        "P(axis)",
        "94% HDI",
        "P(axis) horizon",
        "horizon 94% HDI",
        "data",
        "priors",
        "seed",
        "sampler",
        "diagnostics",
        "run",
    )
    for col in columns:
        t.add_column(col, overflow="fold")
    for r in led.itertuples(index=False):
        sampler = json.loads(r.sampler)
        diagnostics = json.loads(r.diagnostics)
        t.add_row(
            str(r.id),
            r.created,
            r.as_of,
            _prob(r.p_axis_mean),
            f"[{_prob(r.p_axis_hdi_low)}, {_prob(r.p_axis_hdi_high)}]",
            _prob(r.p_axis_horizon_mean),
            f"[{_prob(r.p_axis_horizon_hdi_low)}, {_prob(r.p_axis_horizon_hdi_high)}]",
            r.data_sha256,
            r.priors_sha256,
            str(r.seed),
            f"{sampler.get('sampler', '?')} {sampler.get('chains', '?')}x"
            f"{sampler.get('draws', '?')}",
            "passed" if diagnostics.get("passed") else "FAILED",
            r.run_folder,
        )
    return t


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
    seed: Seed = 20250630,
    draws: Draws = None,
    tune: Tune = 300,
    chains: Chains = 4,
    horizon: Annotated[int, typer.Option(help="Forecast periods after each as-of date")] = 4,
    reuse: Annotated[
        bool,
        typer.Option(
            "--reuse/--refit-all",
            help="Reweight the last NUTS fit where the Pareto-smoothed weights allow "
            "(approximate leave-future-out); --refit-all draws every fit by NUTS",
        ),
    ] = True,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: runs/backtest-<time>]")
    ] = None,
) -> None:
    """Fit as of each period end in a range and score the forecasts on what came next."""
    from model.evidence.data import load_actors, read_observations
    from model.evidence.priors import load_priors
    from model.outputs.plots import plot_backtest
    from model.workflows.backtest import as_of_dates, run_backtest
    from model.workflows.forecast import SamplerConfig

    data, actors, priors = _default_paths(data, actors, priors)
    try:
        case = load_actors(actors)
        frame = read_observations(data, case)
        prior_set = load_priors(priors)
        _check_prior_shapes(prior_set, case)
        first = _parse_date(start)
        last = _parse_date(end) if end else frame["date"].max().date()
        dates = as_of_dates(first, last, every)
    except (InputError, ValueError) as err:
        _fail_input(err)
    out = out or project_root() / "runs" / f"backtest-{datetime.now():%Y%m%d-%H%M%S}"
    config = SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed)
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("as-of fits", total=len(dates))
        result = run_backtest(
            case,
            frame,
            prior_set,
            config,
            dates,
            horizon=horizon,
            progress=lambda n, d: bar.update(
                task, completed=n, description=f"as-of fit {n + 1}/{len(dates)}: {d}"
            ),
            reuse=reuse,
        )
    out.mkdir(parents=True, exist_ok=True)
    result.forecasts.to_csv(out / "backtest.csv", index=False)
    result.scores.to_csv(out / "scores.csv", index=False)
    plot_backtest(result.forecasts).savefig(out / "backtest.png", dpi=110, bbox_inches="tight")
    t = Table(title="Backtest: forecasts at each as-of date")
    dyads = [c[: -len(" modal")] for c in result.forecasts.columns if c.endswith(" modal")]
    for col in ("as of", "fit", "P(axis)", "94% HDI", *dyads):
        t.add_column(col)
    for r in result.forecasts.to_dict("records"):
        t.add_row(
            r["as_of"],
            "reweighted" if r["fit"] == "reweighted" else "NUTS",
            f"{r['p_axis']:.3f}",
            f"[{r['p_axis_hdi_low']:.3f}, {r['p_axis_hdi_high']:.3f}]",
            *(f"{r[f'{d} modal']} ({r[f'{d} P(modal)']:.2f})" for d in dyads),
        )
    console.print(t)
    s = Table(
        title="Scores on later conduct and outcome evidence (Brier: lower is better; "
        "log score: higher is better)"
    )
    for col in ("kind", "n", "Brier", "Brier uniform", "log score", "log score uniform"):
        s.add_column(col)
    for r in result.scores.to_dict("records"):
        s.add_row(
            r["kind"],
            str(r["n"]),
            f"{r['brier']:.3f}",
            f"{r['brier_uniform']:.3f}",
            f"{r['log_score']:.3f}",
            f"{r['log_score_uniform']:.3f}",
        )
    console.print(s)
    console.print(f"Written: {out}/backtest.csv, scores.csv, backtest.png")


@app.command()
def sensitivity(
    data: Annotated[Path | None, typer.Option(help="Observations CSV")] = None,
    actors: ActorsFile = None,
    priors: Annotated[Path | None, typer.Option(help="The baseline prior set")] = None,
    rival: Annotated[
        Path | None, typer.Option(help="Rival theory for LOO [default: priors/realist.toml]")
    ] = None,
    prior_sets: Annotated[
        bool, typer.Option("--prior-sets/--no-prior-sets", help="Fit under every priors/*.toml")
    ] = True,
    sweep: Annotated[
        str, typer.Option(help="Table 2 concentrations to sweep, comma-separated ('' to skip)")
    ] = "1,4,20,100,1000",
    draws: Draws = None,
    tune: Tune = 300,
    seed: Annotated[int, typer.Option(help="Random seed (every fit uses it)")] = 20250630,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Fit as of this date")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: runs/sensitivity-<time>]")
    ] = None,
) -> None:
    """Prior sensitivity: power-scaling, prior sets, trust in the theory, LOO against Walt.

    The default fit is drawn by NUTS; every other fit reweights it where the
    Pareto-smoothed importance weights allow (k <= 0.7) and is drawn by NUTS
    otherwise. The tables say which path each fit took.
    """
    from rich.progress import Progress

    from model.evidence.data import atomic_folder
    from model.evidence.priors import load_priors
    from model.outputs.plots import plot_prior_sets, plot_psense, plot_sweep
    from model.workflows.forecast import SamplerConfig, load_inputs
    from model.workflows.sensitivity import run_sensitivity

    data, actors, priors = _default_paths(data, actors, priors)
    rival = rival or project_root() / "priors" / "realist.toml"
    when = _parse_date(as_of)
    try:
        inputs = load_inputs(actors, data, priors, as_of=when)
        rival_set = load_priors(rival)
        for checked in (inputs.priors, rival_set):
            _check_prior_shapes(checked, inputs.actors, inputs.evidence)
        totals = [float(x) for x in sweep.split(",") if x.strip()]
        if not all(0 < t < float("inf") for t in totals):
            raise ValueError(f"--sweep {sweep!r}: every total concentration must be > 0")
        paths = sorted((project_root() / "priors").glob("*.toml")) if prior_sets else []
        others = [
            p
            for p in (load_priors(path) for path in paths)
            if p.name not in {inputs.priors.name, rival_set.name}
        ]
    except (InputError, ValueError) as err:
        _fail_input(err)
    out = out or project_root() / "runs" / f"sensitivity-{datetime.now():%Y%m%d-%H%M%S}"
    if out.exists():
        _fail_input(FileExistsError(f"output folder {out} already exists"))
    config = SamplerConfig(draws=draws, tune=tune, seed=seed)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("fits", total=2 + len(others) + len(totals))
        result = run_sensitivity(
            inputs,
            rival_set,
            others,
            totals,
            config,
            progress=lambda done, total, label: bar.update(
                task, completed=done, description=f"fit {done}/{total}: {label}"
            ),
        )
    psense = result.psense
    headline = psense[psense["quantity"] == "P(axis)"]
    t = Table(title="Power-scaling sensitivity of P(axis) (threshold 0.05)")
    for col in ("component", "sensitivity", "diagnosis", "Pareto k"):
        t.add_column(col)
    for r in headline.itertuples(index=False):
        warn = " [red](unreliable)[/]" if r.pareto_k_warning else ""
        t.add_row(r.component, f"{r.sensitivity:.3f}", r.diagnosis, f"{r.pareto_k:.2f}{warn}")
    console.print(t)
    flagged = psense[psense["diagnosis"] != "fine"]
    console.print(
        f"{len(flagged)} of {len(psense)} (quantity, component) cells flagged; all in psense.csv"
    )
    _print_comparison("P(axis) and modal dyad types per prior set", result.prior_sets)
    if len(result.sweep):
        _print_comparison("Trust in the theory: Table 2 total concentration", result.sweep)
    loo = result.loo
    lt = Table(title="PSIS-LOO on conduct and outcome evidence (one unit per period)")
    for col in ("theory", "elpd_loo", "elpd_diff", "dse", "weight", "Pareto k max"):
        lt.add_column(col)
    for name, r in loo.iterrows():
        lt.add_row(
            str(name),
            f"{r['elpd']:.2f}",
            f"{r['elpd_diff']:.2f}",
            f"{r['dse']:.2f}",
            f"{r['weight']:.2f}",
            f"{r['pareto_k_max']:.2f}",
        )
    console.print(lt)
    with atomic_folder(out, "sensitivity folder") as tmp:
        psense.to_csv(tmp / "psense.csv", index=False)
        plot_psense(psense).savefig(tmp / "psense.png", dpi=110, bbox_inches="tight")
        result.prior_sets.to_csv(tmp / "prior_sets.csv", index=False)
        plot_prior_sets(result.prior_sets).savefig(
            tmp / "prior_sets.png", dpi=110, bbox_inches="tight"
        )
        if len(result.sweep):
            result.sweep.to_csv(tmp / "sweep.csv", index=False)
            plot_sweep(result.sweep).savefig(tmp / "sweep.png", dpi=110, bbox_inches="tight")
        loo.to_csv(tmp / "loo.csv")
    console.print(f"Written: {out}")


def _print_comparison(title: str, frame: Any) -> None:
    dyads = [
        c for c in frame.columns if "|" not in c and c.count("-") == 1 and not c.endswith(" P")
    ]
    t = Table(title=title)
    for col in ("prior set", "fit", "P(axis)", "94% HDI", *dyads):
        t.add_column(col, overflow="fold")
    for r in frame.to_dict("records"):
        t.add_row(
            str(r["prior set"]),
            str(r.get("fit", "NUTS")),
            f"{r['P(axis)']:.3f}",
            f"[{r['hdi_low']:.3f}, {r['hdi_high']:.3f}]",
            *(f"{r[d]} ({r[f'{d} P']:.2f})" for d in dyads),
        )
    console.print(t)


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
    seed: Annotated[int, typer.Option(help="Random seed (when fitting)")] = 20250630,
    draws: Draws = None,
    tune: Annotated[int, typer.Option(help="Tuning steps per chain (when fitting)")] = 1000,
    chains: Annotated[int, typer.Option(help="Chains (when fitting)")] = 4,
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
    import xarray as xr

    from model.evidence.data import Actors, load_actors
    from model.outputs.plots import plot_scenarios
    from model.workflows.scenario import (
        compare,
        headline,
        load_scenarios,
        parse_scenario,
        posterior_draws,
        write_scenarios,
    )

    if not settings and not file:
        from model.evidence.cases import DEFAULT_CASE

        default = project_root() / "scenarios" / f"{case or DEFAULT_CASE}.toml"
        if not default.exists():
            _fail_input(ValueError(f"give --set or --file (no {default} to use by default)"))
        file = [default]
    out = out or project_root() / "runs" / f"scenario-{datetime.now():%Y%m%d-%H%M%S}"
    if out.exists():
        _fail_input(FileExistsError(f"output folder {out} already exists"))
    if run is not None:
        from model.evidence.data import RUN_POSTERIOR, Problem, check_run_folder

        path = run / RUN_POSTERIOR
        if not path.exists():
            _fail_input(FileNotFoundError(f"no posterior.nc in run folder {run}"))
        try:
            check_run_folder(run, (RUN_POSTERIOR,))
        except InputError as err:
            _fail_input(err)
        with xr.open_datatree(path) as tree:  # read whole and closed: no handle outlives it
            idata = tree.load()
        if "case" not in idata.attrs:
            _fail_input(InputError([Problem(str(path), None, "case", "not written by axis")]))
        meta = json.loads(idata.attrs["case"])
        case_actors = Actors(tuple(meta["partners"]), meta["external"], start=date(1, 1, 1))
    else:
        data, actors = _case_paths(case, data, actors)
        data, actors, priors = _default_paths(data, actors, priors)
        try:
            case_actors = load_actors(actors)
        except InputError as err:
            _fail_input(err)
    problems = []
    scenarios = []
    try:
        if settings:
            scenarios.append(parse_scenario(name, settings, case_actors, start=start))
    except InputError as err:
        problems += err.problems
    for f in file or []:
        try:
            scenarios += load_scenarios(f, case_actors)
        except InputError as err:
            problems += err.problems
    if problems:
        _fail_input(InputError(problems))
    if run is None:
        from model.workflows.forecast import SamplerConfig, load_inputs, run_forecast

        try:
            inputs = load_inputs(actors, data, priors, as_of=_parse_date(as_of))
            _check_prior_shapes(inputs.priors, inputs.actors, inputs.evidence)
        except (InputError, ValueError) as err:
            _fail_input(err)
        config = SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed)
        console.print(f"Fitting the baseline ({chains} chains x {_draws_text(draws)})")
        idata = run_forecast(inputs, config, progressbar=console.is_terminal, on_chunk=_say_chunk)
    draws_ = posterior_draws(idata)
    try:
        with console.status(f"recomputing {len(scenarios)} scenario(s) over every draw"):
            frame = compare(draws_, scenarios, default_start=start)
    except InputError as err:
        _fail_input(err)
    period = draws_.roles.get(at, at)
    if period not in draws_.window:
        _fail_input(ValueError(f"--at {at!r} is not in the window {', '.join(draws_.window)}"))
    _print_scenarios(headline(frame, period), period)
    meta = {
        "run": str(run) if run else None,
        "report_period": period,
        "periods": draws_.roles,
        "scenarios": [
            {
                "name": s.name,
                "settings": s.label,
                "from": s.start or start,
                "description": s.description,
            }
            for s in scenarios
        ],
        "provenance": draws_.meta["provenance"],
    }
    write_scenarios(frame, out, meta, {"scenarios": plot_scenarios(frame, period)})
    console.print(f"Written: {out}/scenarios.csv, scenarios.json, scenarios.png")


def _prob(x: float) -> str:
    """Format a probability; tiny ones (a historical P(axis)) in scientific notation."""
    return f"{x:.3f}" if x == 0 or abs(x) >= 0.001 else f"{x:.1e}"


def _print_scenarios(rows: Any, period: str) -> None:
    """Render :func:`model.workflows.scenario.headline` rows: baseline, scenario and change."""
    for sc, g in rows.groupby("scenario", sort=False):
        t = Table(title=f"Scenario {sc!r} at {period}: {g['settings'].iloc[0]}")
        t.add_column("quantity", overflow="fold")
        for col in ("baseline", "scenario", "change"):
            t.add_column(col, justify="right")
        for r in g.itertuples(index=False):
            if r.quantity == "p_axis":
                what = "P(axis)"
                console.print(
                    f"{sc}: P(axis) at {period} {_prob(r.baseline)} "
                    f"[{_prob(r.baseline_hdi_low)}, {_prob(r.baseline_hdi_high)}] -> "
                    f"{_prob(r.value)} [{_prob(r.hdi_low)}, {_prob(r.hdi_high)}] (94% HDIs); "
                    f"P(scenario > baseline) = {r.p_increase:.2f}"
                )
            elif r.quantity == "type_prob":
                what = f"{r.unit}: {r.category}"
            else:
                what = f"{r.unit}: P({r.category} {r.quantity})"
            colour = "green" if r.change > 0 else "red" if r.change < 0 else "dim"
            change = (
                f"{r.change:+.3f}"
                if r.change == 0 or abs(r.change) >= 0.001
                else f"{r.change:+.1e}"
            )
            t.add_row(what, _prob(r.baseline), _prob(r.value), f"[{colour}]{change}[/]")
        console.print(t)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was written")
        sys.exit(130)


if __name__ == "__main__":
    main()
