"""What the command line prints: rich tables and one-line messages, to stdout and stderr.

Every printed view of a result lives here, beside the two consoles, so that
the commands (:mod:`model.cli`) only parse options and hand results over,
and a notebook can print a result the way ``axis`` does. Tables come from
the same result objects the run folders are written from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from model.theory.tables import OUTCOME_LEVELS, OUTSIDE_THEORY, STRATEGIES
from model.workflows.common.hooks import Hooks

if TYPE_CHECKING:  # printing a result needs none of the libraries that made it
    import pandas as pd
    import xarray as xr

    from model.inference.config import SamplerConfig
    from model.workflows.forecast.inputs import Inputs
    from model.workflows.studies.elicit import Elicited
    from model.workflows.studies.sensitivity import Sensitivity
    from model.workflows.updates.backtest import Backtest
    from model.workflows.updates.ingest import CodedFeed, IngestResult
    from model.workflows.updates.record import TrackRecord
    from model.workflows.updates.update import UpdateResult

console = Console()
err_console = Console(stderr=True)


def _pct(x: float) -> str:
    return f"{x:6.1%}"


def _prob(x: float) -> str:
    """Format a probability; tiny ones (a historical P(axis)) in scientific notation."""
    return f"{x:.3f}" if x == 0 or abs(x) >= 0.001 else f"{x:.1e}"


# ------------------------------------------------------------------ progress


def draws_text(draws: int | None) -> str:
    """Say how many draws a fit takes: the count asked for, or to the default precision."""
    return f"{draws} draws" if draws else "draws to a bulk ESS of 1,000"


def say_chunk(drawn: int, ess: float | None) -> None:
    """Report a fit to a precision as it goes: draws per chain, and the ESS reached."""
    reached = "" if ess is None else f", smallest bulk ESS of the reported quantities {ess:,.0f}"
    console.print(f"  {drawn} draws per chain{reached}")


def say_fitting(inputs: Inputs, config: SamplerConfig) -> None:
    """Say what a forecast fits, once its inputs are valid: rows, periods, sampler."""
    ev = inputs.evidence
    console.print(
        f"Fitting {sum(ev.n_rows.values())} observations ({ev.n_rows}) over "
        f"{len(ev.periods)} periods {ev.periods[0]}..{ev.periods[-1]} with {config.sampler}, "
        f"{config.chains} chains x {draws_text(config.draws)}, seed {config.seed}"
    )
    console.print("Sampling (the first run compiles the model; later runs reuse the cache)")


def say_fitting_baseline(inputs: Inputs, config: SamplerConfig) -> None:
    """Say that a scenario's baseline is being fitted (there is no run folder to read)."""
    console.print(f"Fitting the baseline ({config.chains} chains x {draws_text(config.draws)})")


def say_retry(idata: xr.DataTree) -> None:
    """Tell the analyst when a diverging draw was redone with smaller steps."""
    attempts = json.loads(idata.attrs.get("sampling_attempts", "[]"))
    if len(attempts) > 1:
        first, last = attempts[0], attempts[-1]
        console.print(
            f"The first draw had {first['divergences']} divergence(s) at target_accept "
            f"{first['target_accept']}; every chain was drawn again at {last['target_accept']} "
            f"({first['seconds']} s + {last['seconds']} s)."
        )


def say_gate(summary: dict[str, Any]) -> bool:
    """Warn on stderr when a fit failed its convergence gate; return whether it passed."""
    if summary["diagnostics"]["passed"]:
        return True
    err_console.print(
        "[bold red]WARNING: the sampler did not converge by the gate above. "
        "Do not quote these numbers.[/]\n"
        "Re-run with more --tune/--draws or another --seed, "
        "or pass --allow-bad-diagnostics to accept."
    )
    return False


def say_waiting(message: str) -> None:
    """Print a wait for another process (the store's lock) on stderr."""
    err_console.print(escape(message))


@contextmanager
def fit_progress(
    title: str, describe: Callable[[int, int, str], str]
) -> Iterator[Callable[[int, int, str | None], None]]:
    """Show a transient progress bar over several fits; yield the callback that moves it.

    The callback takes ``(done, total, label)``
    (:attr:`model.workflows.common.hooks.Hooks.progress`);
    ``describe`` words the bar's label from them, ``title`` labels it until then. The
    bar appears at the first call, once the inputs are read: input that is
    refused is reported without a bar flashing up and away first.
    """
    from rich.progress import Progress, TaskID

    bar = Progress(console=console, transient=True)
    task: TaskID | None = None

    def advance(done: int, total: int, label: str | None) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(title, total=total)
        named = {} if label is None else {"description": describe(done, total, label)}
        bar.update(task, total=total, completed=done, **named)

    try:
        yield advance
    finally:
        if task is not None:
            bar.stop()


def console_hooks(**overrides: Any) -> Hooks:
    """Return hooks that print: the sampler's chunks, spinners and waits for the store's lock."""
    defaults: dict[str, Any] = {
        "on_chunk": say_chunk,
        "progressbar": console.is_terminal,
        "busy": console.status,
        "waiting": say_waiting,
    }
    return Hooks(**(defaults | overrides))


# ------------------------------------------------------------------ forecast


def print_summary(summary: dict[str, Any]) -> None:
    """Render the summary of a run as console tables."""
    per = summary["periods"]
    head = Table(
        title="P(anti-{} axis): every partner balances in every dyad".format(
            summary["case"]["external"]
        )
    )
    from model.outputs.format import decimals, format_probability

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
        # implied: what the threats imply through Table 2; state: given all the evidence,
        # the period's own conduct and outcome codes included
        state = info.get("smoothed")
        t = Table(title=f"{d} at {per['last_evidence']}: alliance type", show_lines=False)
        t.add_column("type")
        t.add_column("implied ± MCSE", justify="right")
        if state:
            t.add_column("state", justify="right")
        ranked = sorted(info["type_probs"].items(), key=lambda kv: -kv[1])
        mcse = info.get("type_mcse", {})
        for name, p in ranked[:4]:
            flag = "  (outside the theory)" if name in OUTSIDE_THEORY else ""
            row = [name + flag, format_probability(p, mcse.get(name, float("nan")), True)]
            t.add_row(*row, *([_pct(state["type_probs"][name])] if state else []))
        rest = [n for n, _ in ranked[4:]]
        others = [_pct(sum(state["type_probs"][n] for n in rest))] if state else []
        t.add_row("[dim]other six[/]", _pct(sum(p for _, p in ranked[4:])), *others)
        o = Table(title=f"{d}: commitment / cohesion")
        o.add_column("level")
        o.add_column("commitment", justify="right")
        o.add_column("cohesion", justify="right")
        if state:
            o.add_column("state com.", justify="right")
            o.add_column("state coh.", justify="right")
        for lev in OUTCOME_LEVELS:
            extra = [_pct(state["commitment"][lev]), _pct(state["cohesion"][lev])] if state else []
            o.add_row(lev, _pct(info["commitment"][lev]), _pct(info["cohesion"][lev]), *extra)
        console.print(t, o)
    if any("smoothed" in info for info in summary["dyads"].values()):
        console.print(
            "implied: what the threats imply through the theory's tables; state: the dyad "
            "given all the evidence, its period's conduct and outcome codes included"
        )

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
    if "stacked" in summary:
        print_stacked_record(summary["stacked"])


def print_stacked_record(record: dict[str, Any]) -> None:
    """Say what P(axis) is with the theories stacked, beside each theory's own."""
    p = record["p_axis"]
    own = ", ".join(f"{k} {v:.3f}" for k, v in p["by_theory"].items())
    weights = ", ".join(f"{k} {w:.2f}" for k, w in record["weights"].items())
    console.print(
        f"Stacked P(axis) at {p['period']}: {p['mean']:.3f} "
        f"[{p['hdi_low']:.3f}, {p['hdi_high']:.3f}] (94% HDI). Stacking weights on the "
        f"conduct and outcome evidence: {weights}. Each theory alone: {own}."
    )
    shaky = [k for k, v in record.get("pareto_k_max", {}).items() if v > 0.7]
    if shaky:
        console.print(
            f"[yellow]warning:[/] PSIS-LOO is unreliable for {', '.join(shaky)} (a period's "
            "Pareto k > 0.7: it carries much of the evidence); read the weights as indicative"
        )


# ------------------------------------------------------------------ update, ingest


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


def print_update(result: UpdateResult) -> None:
    """Report an update (:class:`~model.workflows.updates.update.UpdateResult`): skips, ledger."""
    from model.workflows.updates.update import diff_summaries

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
    line = (result.summary or {}).get("record", {})
    if line.get("n"):
        console.print(
            f"Track record of the {line['publications']} earlier publication(s) on the "
            f"{line['n']} rows dated after them: Brier {line['brier']:.3f} against persistence "
            f"{line['brier_persistence']:.3f} (skill {line['skill_persistence']:+.2f}); "
            "axis history --scores shows it in full",
            soft_wrap=True,
        )


def print_coded(frame: pd.DataFrame) -> None:
    """Render a feed's coded observations: one row per series and period."""
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


def show_coded(coded: CodedFeed, write: Path | None = None) -> None:
    """Say what a feed's events became, show the rows, and write them to ``write`` if given.

    ``coded`` is a :class:`model.workflows.updates.ingest.CodedFeed`; the CSV has the
    observation file's columns, so it can be read back as one.
    """
    from model.evidence.data import COLUMNS

    report, name = coded.report, coded.feed.path.name
    console.print(
        f"{name}: {report.events} events; {report.outside_case} outside the case, "
        f"{report.before_start} before its first period, {report.duplicate_ids} repeated "
        f"ids, {report.one_a_day} repeats of the same day, actors and CAMEO code; "
        f"{report.mapped} events coded into {report.observations} observation(s) "
        f"({report.too_few} series-period(s) below {coded.min_events} events)"
    )
    print_coded(coded.frame)
    if write is not None:
        out = coded.frame[list(COLUMNS)].copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        out.to_csv(write, index=False)
        console.print(f"Coded observations written to {write}")


def print_ingest(result: IngestResult, *, dry_run: bool = False) -> None:
    """Report an ingest (:class:`~model.workflows.updates.ingest.IngestResult`), after its rows."""
    if result.update is not None:
        print_update(result.update)
    elif not dry_run:
        console.print("Nothing to add: no series and period has enough events.")


# ------------------------------------------------------------------ history


def history_table(led: pd.DataFrame, wide: bool) -> Table:
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


def _print_table(table: Table, wide: bool) -> None:
    """Print a table; a wide one as wide as its cells need (a folded hash cannot be copied)."""
    out = console
    if wide:
        from rich.measure import Measurement

        need = Measurement.get(console, console.options.update(width=100_000), table)
        out = Console(width=max(console.width, need.maximum))
    out.print(table)


def show_history(led: pd.DataFrame, view: str = "table", plot: Path | None = None) -> None:
    """Print the ledger as a table (``table``, ``wide``) or for scripts (``json``, ``csv``).

    With ``plot``, also draw P(axis) across the forecasts into that PNG
    (not for an empty ledger); its path goes to stderr when stdout is for
    a script.
    """
    import typer

    from model.evidence.store import LEDGER_JSON

    if view == "json":
        records = led.to_dict("records")
        for r in records:
            r.update({k: json.loads(r[k]) for k in LEDGER_JSON})
        typer.echo(json.dumps(records, indent=2))
    elif view == "csv":
        typer.echo(led.drop(columns="summary").to_csv(index=False), nl=False)
    elif led.empty:
        console.print("The ledger is empty: run `axis update FILE` to publish a forecast.")
        return
    else:
        _print_table(history_table(led, view == "wide"), view == "wide")
    if plot and not led.empty:
        from model.outputs.plots import plot_history

        plot_history(led).savefig(plot, dpi=110, bbox_inches="tight")
        (err_console if view in ("json", "csv") else console).print(f"Plot: {plot}")


def show_questions(table: pd.DataFrame) -> None:
    """Print the open questions with the latest published probability and its change."""
    import pandas as pd

    if table.empty:
        console.print("No open questions: every question of the case is settled.")
        return
    out = Table(title="Open questions (latest published probability)")
    out.add_column("id", no_wrap=True)
    for name in ("P(yes)", "±MCSE", "change", "closes"):
        out.add_column(name, justify="right", no_wrap=True)
    whys = set()
    for r in table.itertuples():
        if r.p is None or pd.isna(r.p):
            cells = ["-", "", ""]
            whys.add(r.why)
        else:
            change = "" if r.change is None or pd.isna(r.change) else f"{r.change:+.3f}"
            cells = [f"{r.p:.3f}", f"{r.mcse:.3f}", change]
        out.add_row(r.id, *cells, r.closes)
    console.print(out)
    for why in sorted(w for w in whys if w):
        console.print(f"[dim]-: {why}[/]")
    for r in table.itertuples():
        console.print(f"[bold]{r.id}[/]: {r.text}")


def show_question_record(record: pd.DataFrame, calibration: pd.DataFrame) -> None:
    """Print the settled questions' scores, their means, and the calibration table."""
    import pandas as pd

    if record.empty:
        console.print("No question is settled yet: `axis resolve ID yes|no ...` settles one.")
        return
    out = Table(title="Settled questions, scored on the last forecast before the answer")
    for name in ("id", "answer", "date", "P(yes)", "Brier", "log", "forecast (ledger id)"):
        out.add_column(name)
    for r in record.itertuples():
        scored = r.p is not None and not pd.isna(r.p)
        cells = [f"{r.p:.3f}", f"{r.brier:.3f}", f"{r.log:.2f}"] if scored else ["-", "-", "-"]
        out.add_row(r.id, r.answer, r.date, *cells, str(r.published or "none before it"))
    console.print(out)
    scored = record.dropna(subset=["p"])
    if len(scored):
        console.print(
            f"{len(scored)} scored: mean Brier {scored['brier'].mean():.3f}, "
            f"mean log score {scored['log'].mean():.2f}"
        )
    if len(calibration):
        cal = Table(title="Calibration: forecast probability against the answers")
        for name in ("bin", "questions", "mean P(yes)", "answered yes"):
            cal.add_column(name)
        for r in calibration.itertuples():
            cal.add_row(r.bin, str(r.n), f"{r.mean_p:.2f}", f"{r.observed:.2f}")
        console.print(cal)


# ------------------------------------------------------------------ analyses


def _skill(row: dict[str, Any], baseline: str) -> str:
    """Format a Brier skill score with its error (the paired difference's, over the baseline)."""
    se = row[f"brier_diff_se_{baseline}"] / row[f"brier_{baseline}"]
    return f"{row[f'skill_{baseline}']:+.2f} ± {se:.2f}"


def _print_scores(scores: pd.DataFrame) -> None:
    """Print a score table's Brier and log scores with the skill against each baseline."""
    from model.workflows.updates.baselines import BASELINES

    shown = [b for b in BASELINES if f"brier_{b}" in scores]
    s = Table(
        title="Brier scores on later conduct and outcome evidence (lower is better); "
        "skill = 1 - model / baseline"
    )
    for col in ("kind", "n", "model", *shown, *(f"skill vs {b}" for b in shown)):
        s.add_column(col)
    for r in scores.to_dict("records"):
        s.add_row(
            r["kind"],
            str(r["n"]),
            f"{r['brier']:.3f}",
            *(f"{r[f'brier_{b}']:.3f}" for b in shown),
            *(
                f"{r[f'skill_{b}']:+.2f} ± {r[f'brier_diff_se_{b}'] / r[f'brier_{b}']:.2f}"
                for b in shown
            ),
        )
    console.print(s)
    g = Table(title="Log scores (higher is better)")
    for col in ("kind", "model", *shown):
        g.add_column(col)
    for r in scores.to_dict("records"):
        g.add_row(
            r["kind"], f"{r['log_score']:.3f}", *(f"{r[f'log_score_{b}']:.3f}" for b in shown)
        )
    console.print(g)


def show_track_record(record: TrackRecord) -> None:
    """Print the published forecasts' record (:class:`~model.workflows.updates.record.TrackRecord`).

    Per publication, then pooled with the verdict against the baselines, as
    a backtest is printed; says so when nothing can be scored yet.
    """
    from model.workflows.updates.backtest import verdict
    from model.workflows.updates.baselines import BASELINES

    if record.targets.empty:
        console.print(
            f"no published forecast can be scored yet: none of the {len(record.unscored)} "
            "publications has a conduct or outcome row dated after it in its horizon"
        )
        return
    t = Table(title="Track record: each published forecast on the rows dated after it (Brier)")
    for col in ("ledger id", "as of", "n", "model", *BASELINES):
        t.add_column(col)
    for r in record.by_publication.to_dict("records"):
        t.add_row(
            str(r["ledger_id"]),
            r["as_of"],
            str(r["n"]),
            f"{r['brier']:.3f}",
            *(f"{r[f'brier_{b}']:.3f}" for b in BASELINES),
        )
    console.print(t)
    if record.unscored:
        console.print(f"not scored yet (nothing dated after them): {record.unscored}")
    for line in verdict(record.pooled):
        console.print(line, soft_wrap=True)
    _print_scores(record.pooled)


def print_backtest(result: Backtest) -> None:
    """Render a backtest (:class:`~model.workflows.updates.backtest.Backtest`)."""
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
    from model.workflows.updates.backtest import verdict

    for line in verdict(result.scores):
        console.print(line, soft_wrap=True)
    _print_scores(result.scores)
    if len(result.targets):
        d = Table(title="Brier decomposition, one-vs-rest events (all codes)")
        for col in (
            "forecast",
            "reliability (0 best)",
            "resolution (higher better)",
            "uncertainty",
        ):
            d.add_column(col)
        for r in result.decomposition.to_dict("records"):
            if r["kind"] == "all":
                d.add_row(
                    r["forecast"],
                    f"{r['reliability']:.4f}",
                    f"{r['resolution']:.4f}",
                    f"{r['uncertainty']:.4f}",
                )
        console.print(d)
    if len(result.questions):
        print_past_questions(result.questions, result.question_scores)


def print_past_questions(questions: pd.DataFrame, scores: pd.DataFrame) -> None:
    """Print past questions scored on as-of fits: each one, then the scores and verdict."""
    from model.workflows.updates.backtest import verdict
    from model.workflows.updates.baselines import BASELINES

    t = Table(title="Past questions: P(yes) when asked, and what the evidence settled")
    for col in ("question", "asked", "model", *BASELINES, "answer"):
        t.add_column(col)
    for r in questions.to_dict("records"):
        t.add_row(
            r["id"],
            r["opens"],
            f"{r['model']:.2f}",
            *(f"{r[b]:.2f}" for b in BASELINES),
            r["answer"],
        )
    console.print(t)
    for line in verdict(scores):
        console.print(line.replace(" codes)", " questions)"), soft_wrap=True)
    _print_scores(scores)


#: Short strategy labels, so that a dyad type fits a narrow column (``bal-hed``).
SHORT_STRATEGY: dict[str, str] = {
    "hedging": "hed",
    "tethering": "tet",
    "balancing": "bal",
    "bandwagoning": "bnd",
}
_SHORT_COMPONENT: dict[str, str] = {
    "prior: strategy mapping (Table 2)": "Table 2",
    "prior: commitment/cohesion (Table 3)": "Table 3",
    "prior: threat dynamics": "threat dynamics",
    "prior: measurement": "measurement",
    "likelihood: threat evidence": "lik: threat",
    "likelihood: conduct and outcome evidence": "lik: conduct",
}
_LEGEND = (
    "Types: "
    + ", ".join(f"{v} {k}" for k, v in SHORT_STRATEGY.items())
    + "; lik: likelihood. --wide prints full names."
)


def short_label(text: str, wide: bool = False) -> str:
    """Shorten strategy names and component names so a table fits 80 columns."""
    if wide:
        return text
    text = _SHORT_COMPONENT.get(text, text)
    for name, short in SHORT_STRATEGY.items():
        text = text.replace(name, short)
    return text.replace("commitment", "commit.").replace("cohesion", "cohes.")


def _narrow_table(title: str, wide: bool) -> Table:
    """Return a table without outer padding or vertical rules, so that it fits 80 columns."""
    from rich import box

    if wide:
        return Table(title=title)
    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))


def print_comparison(title: str, frame: pd.DataFrame, wide: bool = False) -> None:
    """Render P(axis) and each dyad's modal type per fit (prior sets, or the sweep).

    Unless ``wide``, a reweighted fit is marked ``*`` after its name (NUTS
    otherwise) and a modal type's probability is printed without its zero,
    so that three dyads fit 80 columns.
    """
    dyads = [
        c for c in frame.columns if "|" not in c and c.count("-") == 1 and not c.endswith(" P")
    ]
    t = _narrow_table(title, wide)
    for col in ("prior set", *(["fit"] if wide else []), "P(axis)", "94% HDI", *dyads):
        t.add_column(col, no_wrap=True)
    for r in frame.to_dict("records"):
        fit = str(r.get("fit", "NUTS"))
        name = str(r["prior set"])
        if not wide:
            name += "*" if fit == "reweighted" else ""
        cells = [
            f"{short_label(str(r[d]), wide)} "
            + (f"{r[f'{d} P']:.2f}" if wide else f"{r[f'{d} P']:.2f}".lstrip("0"))
            for d in dyads
        ]
        t.add_row(
            name,
            *([fit] if wide else []),
            f"{r['P(axis)']:.3f}",
            f"{r['hdi_low']:.3f}-{r['hdi_high']:.3f}",
            *cells,
        )
    _print_table(t, wide)


def _headline_first(psense: pd.DataFrame) -> pd.DataFrame:
    """Order power-scaling rows: P(axis), dyad types, commitment, cohesion, then the rest."""

    def rank(q: str) -> int:
        if q == "P(axis)":
            return 0
        if q.startswith("P("):
            return 4
        if " commitment " in q:
            return 2
        if " cohesion " in q:
            return 3
        return 1

    return psense.assign(_rank=psense["quantity"].map(rank)).sort_values(
        ["_rank", "quantity"], kind="stable"
    )


def print_sensitivity(result: Sensitivity, wide: bool = False) -> None:
    """Render a sensitivity analysis (:class:`model.workflows.studies.sensitivity.Sensitivity`).

    The verdict first (:func:`model.workflows.studies.sensitivity.verdict`), then
    the flagged cells with the reason each stands, then the headline
    quantities' power-scaling table, the prior-set and sweep comparisons
    and LOO. Every table fits 80 columns unless ``wide``.
    """
    from model.workflows.studies.sensitivity import FLAG_RULE, THRESHOLD, verdict

    console.print("[bold]Verdict[/]")
    for line in verdict(result):
        console.print(f"- {line}")
    psense = _headline_first(result.psense)
    flags = psense["flagged"] if "flagged" in psense else psense["diagnosis"] != "fine"
    console.print(
        f"{int(flags.sum())} of {len(psense)} (quantity, component) cells flagged; "
        f"all in psense.csv. Rule: {FLAG_RULE}."
    )
    if flags.any() and "reason" in psense:
        ft = _narrow_table("Flagged cells and why", wide)
        for col in ("quantity", "component", "reason"):
            ft.add_column(col)
        for r in psense[flags].itertuples(index=False):
            ft.add_row(short_label(r.quantity, wide), short_label(r.component, wide), r.reason)
        _print_table(ft, wide)
    headline = psense[~psense["quantity"].str.startswith("P(") | (psense["quantity"] == "P(axis)")]
    t = _narrow_table(f"Power-scaling of the headline quantities (CJS threshold {THRESHOLD})", wide)
    for col in ("quantity", "component", "CJS", "shift", "k", "flag"):
        t.add_column(col, no_wrap=col not in ("quantity", "component"))
    for r in headline.itertuples(index=False):
        warn = "[red]![/]" if r.pareto_k_warning else ""
        shift = getattr(r, "mean_shift", float("nan"))
        flagged = getattr(r, "flagged", r.diagnosis != "fine")
        t.add_row(
            short_label(r.quantity, wide),
            short_label(r.component, wide),
            f"{r.sensitivity:.3f}",
            f"{shift:+.3f}",
            f"{r.pareto_k:.2f}{warn}",
            "[red]yes[/]" if flagged else "",
        )
    _print_table(t, wide)
    console.print(
        "shift: move of the posterior mean when the component's power is doubled; "
        "k: Pareto k (! above 0.7: unreliable)."
    )
    print_comparison("P(axis) and modal dyad types per prior set", result.prior_sets, wide)
    if len(result.sweep):
        print_comparison("Trust in the theory: Table 2 total concentration", result.sweep, wide)
    if not wide:
        console.print(f"* reweighted from the default fit (else NUTS). {_LEGEND}")
    lt = _narrow_table("PSIS-LOO on conduct and outcome evidence (a unit per period)", wide)
    for col in ("theory", "elpd_loo", "elpd_diff", "dse", "weight", "k max"):
        lt.add_column(col, no_wrap=col != "theory")
    for name, r in result.loo.iterrows():
        lt.add_row(
            str(name),
            f"{r['elpd']:.2f}",
            f"{r['elpd_diff']:.2f}",
            f"{r['dse']:.2f}",
            f"{r['weight']:.2f}",
            f"{r['pareto_k_max']:.2f}",
        )
    _print_table(lt, wide)
    stacked = getattr(result, "stacked", None)
    if stacked is not None:
        print_stacked_record(stacked.record())


def print_elicited(result: Elicited) -> None:
    """Say what each statement became (:class:`model.workflows.studies.elicit.Elicited`)."""
    t = _narrow_table(f"Prior set {result.priors.name}: each statement's Beta marginal", False)
    for col in ("cell", "share", "Beta", "mass"):
        t.add_column(col, no_wrap=col != "cell")
    for r in result.fitted:
        t.add_row(
            r["cell"],
            r["share"],
            f"({r['beta_alpha']:.1f}, {r['beta_beta']:.1f})",
            f"{r['mass']:.2f}",
        )
    console.print(t)
    console.print(f"Written: {result.path} (`axis sensitivity` now fits it)")


def print_scenarios(rows: pd.DataFrame, period: str) -> None:
    """Render :func:`~model.workflows.studies.scenario.headline` rows beside the baseline."""
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
