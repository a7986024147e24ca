"""The ``axis`` command line: thin wrappers over :mod:`model`.

Exit codes: 0 success; 2 bad input (nothing written); 3 the fit failed its
convergence gate (the run folder is written and flagged; pass
``--allow-bad-diagnostics`` to accept it); 1 anything unexpected.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from model.data import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2
EXIT_DIAGNOSTICS = 3


def project_root() -> Path:
    """The folder holding ``data/`` and ``priors/``: the working directory if it has them."""
    cwd = Path.cwd()
    if (cwd / "data" / "actors.toml").exists():
        return cwd
    return Path(__file__).resolve().parent.parent


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(f"[bold red]error:[/] --as-of {text!r} is not an ISO date (YYYY-MM-DD)")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _fail_input(err: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {err}")
    err_console.print("Nothing was written.")
    raise typer.Exit(EXIT_BAD_INPUT)


def _pct(x: float) -> str:
    return f"{x:6.1%}"


def print_summary(summary: dict[str, Any]) -> None:
    """Render the summary of a run as console tables."""
    per = summary["periods"]
    head = Table(title="P(anti-{} axis): every partner balances in every dyad".format(summary["case"]["external"]))
    for col in ("when", "period", "mean", "94% HDI"):
        head.add_column(col)
    for key, role in (("p_axis", "last evidence"), ("p_axis_now", "now"), ("p_axis_horizon", "horizon")):
        v = summary[key]
        head.add_row(role, v["period"], f"{v['mean']:.3f}", f"[{v['hdi_low']:.3f}, {v['hdi_high']:.3f}]")
    console.print(head)

    for d, info in summary["dyads"].items():
        t = Table(title=f"{d} at {per['last_evidence']}: alliance type", show_lines=False)
        t.add_column("type")
        t.add_column("P", justify="right")
        ranked = sorted(info["type_probs"].items(), key=lambda kv: -kv[1])
        for name, p in ranked[:4]:
            flag = "  (outside the theory)" if name in ("bandwagoning-tethering", "bandwagoning-bandwagoning") else ""
            t.add_row(name + flag, _pct(p))
        t.add_row("[dim]other six[/]", _pct(sum(p for _, p in ranked[4:])))
        o = Table(title=f"{d}: commitment / cohesion")
        o.add_column("level")
        o.add_column("commitment", justify="right")
        o.add_column("cohesion", justify="right")
        for lev in ("none", "low", "medium", "high"):
            o.add_row(lev, _pct(info["commitment"][lev]), _pct(info["cohesion"][lev]))
        console.print(t, o)

    s = Table(title="Strategies at last evidence")
    s.add_column("pair")
    for name in ("hedging", "tethering", "balancing", "bandwagoning"):
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


@app.command()
def forecast(
    data: Annotated[Path | None, typer.Option(help="Observations CSV [default: data/observations.csv]")] = None,
    actors: Annotated[Path | None, typer.Option(help="Actors TOML [default: data/actors.toml]")] = None,
    priors: Annotated[Path | None, typer.Option(help="Prior set TOML [default: priors/default.toml]")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same draws")] = 20250630,
    draws: Annotated[int, typer.Option(help="Posterior draws per chain")] = 1000,
    tune: Annotated[int, typer.Option(help="Tuning steps per chain")] = 1000,
    chains: Annotated[int, typer.Option(help="Chains")] = 4,
    horizon: Annotated[int, typer.Option(help="Forecast periods after the as-of period")] = 4,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Fit as of this date (YYYY-MM-DD) [default: today]")] = None,
    sampler: Annotated[str, typer.Option(help="numpyro | nutpie | pymc")] = "numpyro",
    target_accept: Annotated[float, typer.Option(help="NUTS target acceptance")] = 0.95,
    out: Annotated[Path | None, typer.Option(help="Run folder to write [default: runs/<time>-seed<seed>]")] = None,
    allow_bad_diagnostics: Annotated[
        bool, typer.Option("--allow-bad-diagnostics", help="Exit 0 even if the convergence gate fails")
    ] = False,
) -> None:
    """Fit the model on the evidence and print the alliance forecast."""
    from model.forecast import SamplerConfig, load_inputs, run_forecast, summarise, write_run

    root = project_root()
    data = data or root / "data" / "observations.csv"
    actors = actors or root / "data" / "actors.toml"
    priors = priors or root / "priors" / "default.toml"
    when = _parse_date(as_of)
    if out is None:
        out = root / "runs" / f"{datetime.now():%Y%m%d-%H%M%S}-seed{seed}"
    if out.exists():
        _fail_input(FileExistsError(f"run folder {out} already exists"))
    try:
        inputs = load_inputs(actors, data, priors, as_of=when, horizon=horizon)
    except (InputError, ValueError) as err:
        _fail_input(err)
    config = SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler, target_accept=target_accept)
    ev = inputs.evidence
    console.print(
        f"Fitting {sum(ev.n_rows.values())} observations ({ev.n_rows}) over {len(ev.periods)} periods "
        f"{ev.periods[0]}..{ev.periods[-1]} with {sampler}, {chains} chains x {draws} draws, seed {seed}"
    )
    with console.status("sampling (the first run compiles the model; later runs reuse the cache)"):
        idata = run_forecast(inputs, config)
    from model.plots import run_figures

    write_run(idata, out, run_figures(idata))
    summary = summarise(idata)
    print_summary(summary)
    console.print(f"Run folder: {out}")
    if not summary["diagnostics"]["passed"]:
        err_console.print(
            "[bold red]WARNING: the sampler did not converge by the gate above. Do not quote these numbers.[/]\n"
            "Re-run with more --tune/--draws or another --seed, or pass --allow-bad-diagnostics to accept."
        )
        if not allow_bad_diagnostics:
            raise typer.Exit(EXIT_DIAGNOSTICS)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was written")
        sys.exit(130)
