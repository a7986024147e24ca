"""``axis update``, ``axis ingest`` and ``axis history``: the observation store and the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from model.cli.app import (
    DEFAULTS,
    EXIT_DIAGNOSTICS,
    EXIT_STORE_BUSY,
    ActorsFile,
    AllowBad,
    Chains,
    Draws,
    Horizon,
    LockTimeout,
    PriorsFile,
    Refit,
    RunsDir,
    Sampler,
    Seed,
    SeedData,
    Tune,
    app,
    bad_input,
    fail_input,
    parse_date,
)
from model.cli.paths import (
    cameo_table,
    case_files,
    default_files,
    default_ledger,
    event_mapping,
    runs_dir,
)
from model.evidence.store import LOCK_TIMEOUT, StoreBusyError
from model.outputs.console import (
    console,
    console_hooks,
    err_console,
    print_ingest,
    print_update,
    show_coded,
    show_history,
    show_question_record,
    show_questions,
    show_track_record,
)
from model.workflows.common.inputs import CaseFiles


def _request(
    files: CaseFiles,
    *,
    ledger: Path | None,
    runs: Path | None,
    config: dict[str, Any],
    **settings: Any,
) -> Any:
    """Build an update's request (:class:`~model.workflows.updates.update.UpdateRequest`)."""
    from model.inference.config import SamplerConfig
    from model.workflows.updates.update import UpdateRequest

    return UpdateRequest(
        ledger=ledger or default_ledger(),
        files=files,
        runs_dir=runs or runs_dir(),
        config=SamplerConfig(**config),
        **settings,
    )


@contextmanager
def _publishing() -> Iterator[None]:
    """Map what a publication can refuse to the exit codes: 2 input, 4 store busy, 3 gate.

    Shared by ``update`` and ``ingest``, which take the same path into the
    store and the ledger; in each case nothing was written.
    """
    from model.workflows.updates.update import DiagnosticsFailedError

    try:
        yield
    except (ValueError, FileNotFoundError) as err:  # InputError is a ValueError
        fail_input(err)
    except StoreBusyError as err:
        err_console.print(f"[bold red]error:[/] {escape(str(err))}")
        raise typer.Exit(EXIT_STORE_BUSY) from None
    except DiagnosticsFailedError as err:
        err_console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(EXIT_DIAGNOSTICS) from None


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
    seed: Seed = DEFAULTS.seed,
    draws: Draws = DEFAULTS.draws,
    tune: Tune = DEFAULTS.tune,
    chains: Chains = DEFAULTS.chains,
    horizon: Horizon = 4,
    sampler: Sampler = DEFAULTS.sampler,
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
    from model.outputs.plots import run_figures
    from model.workflows.updates.update import update_store

    with bad_input():
        found = case_files(case, data, actors, priors)
    request = _request(
        found,
        ledger=ledger,
        runs=runs,
        config=dict(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler),
        horizon=horizon,
        as_of=parse_date(as_of),
        allow_bad_diagnostics=allow_bad_diagnostics,
        reweight=not refit,
        lock_timeout=lock_timeout,
    )
    with _publishing():
        result = update_store(request, files, hooks=console_hooks(), figures=run_figures)
    print_update(result)


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
    seed: Seed = DEFAULTS.seed,
    draws: Draws = DEFAULTS.draws,
    tune: Tune = DEFAULTS.tune,
    chains: Chains = DEFAULTS.chains,
    horizon: Horizon = 4,
    sampler: Sampler = DEFAULTS.sampler,
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
    from model.outputs.plots import run_figures
    from model.workflows.updates.ingest import Feed, ingest_update

    request = _request(
        default_files(data, actors, priors),
        ledger=ledger,
        runs=runs,
        config=dict(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler),
        horizon=horizon,
        allow_bad_diagnostics=allow_bad_diagnostics,
        reweight=not refit,
        lock_timeout=lock_timeout,
    )
    with _publishing():
        result = ingest_update(
            Feed(file, fmt, mapping or event_mapping(), cameo or cameo_table()),
            request,
            dry_run=dry_run,
            on_coded=partial(show_coded, write=write),
            hooks=console_hooks(),
            figures=run_figures,
        )
    print_ingest(result, dry_run=dry_run)


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
    scores: Annotated[
        bool,
        typer.Option(
            "--scores",
            help="Also score each published forecast on the rows dated after it, "
            "beside climatology and persistence (the track record)",
        ),
    ] = False,
) -> None:
    """Print the forecast ledger, oldest first, and with --scores its track record.

    The default view fits an 80-column terminal: id, as-of date, P(axis) at
    the last period with evidence and its 94% HDI, P(axis) at the horizon,
    and the start of the data hash. --wide shows the rest. --scores scores
    every publication on the conduct and outcome rows that arrived after it,
    as `axis backtest` scores its as-of fits.
    """
    from model.workflows.updates.record import read_history

    if sum((wide, as_json, as_csv)) > 1:
        fail_input(ValueError("choose one of --wide, --json and --csv"))
    view = "json" if as_json else "csv" if as_csv else "wide" if wide else "table"
    with bad_input():
        found = read_history(ledger or default_ledger(), required=ledger is not None, scores=scores)
    show_history(found.ledger, view, plot)
    if found.record is not None:
        show_track_record(found.record)


QuestionsFile = Annotated[
    Path | None,
    typer.Option(
        "--questions", help="The case's question file [default: questions.toml beside --actors]"
    ),
]


def _questions(questions: Path | None, actors: Path | None) -> list[Any]:
    """Read the case's questions (the file beside the actors file unless named)."""
    from model.evidence.data import load_actors
    from model.evidence.questions import load_questions, question_file

    found = default_files(None, actors, None)
    return load_questions(questions or question_file(found.actors), load_actors(found.actors))


@app.command()
def questions(
    ledger: Annotated[Path | None, typer.Option(help="The ledger SQLite file")] = None,
    questions: QuestionsFile = None,
    actors: ActorsFile = None,
    resolved: Annotated[
        bool,
        typer.Option("--resolved", help="The settled questions' scores and calibration instead"),
    ] = False,
) -> None:
    """List the open questions with the latest published probability, or the record of settled ones.

    Every `axis update` records each open question's probability in the
    ledger; this shows the latest and its change since the publication
    before. --resolved scores each settled question (Brier, log) on the last
    forecast published before its answer, with a calibration table.
    """
    from model.workflows.updates.questions import question_status

    with bad_input():
        status = question_status(
            ledger or default_ledger(), _questions(questions, actors), required=ledger is not None
        )
    if resolved:
        show_question_record(status.record, status.calibration)
    else:
        show_questions(status.open)


@app.command()
def resolve(
    question: Annotated[str, typer.Argument(help="The question's id")],
    answer: Annotated[str, typer.Argument(help="yes or no")],
    when: Annotated[str, typer.Option("--date", help="When the answer was known (YYYY-MM-DD)")],
    citation: Annotated[str, typer.Option(help="The record that settles it")],
    ledger: Annotated[Path | None, typer.Option(help="The ledger SQLite file")] = None,
    questions: QuestionsFile = None,
    actors: ActorsFile = None,
) -> None:
    """Settle a question with its answer, date and citation (once: a settled question stays so).

    Refused, with nothing written, if the question is unknown or already
    settled, the answer is not yes or no, or the date is before it opened.
    """
    from model.workflows.updates.questions import settle_question

    day = parse_date(when, "--date")
    assert day is not None  # a required option
    with bad_input():
        asked = _questions(questions, actors)
        settle_question(ledger or default_ledger(), asked, question, answer, day, citation)
    console.print(f"Settled {question}: {answer} ({day}; {citation}).")
