"""The ``axis`` command line: thin wrappers over :mod:`model`.

Exit codes: 0 success; 2 bad input (nothing written); 3 the fit failed its
convergence gate (the run folder is written and flagged; pass
``--allow-bad-diagnostics`` to accept it); 4 another axis process held the
store's lock past ``--lock-timeout`` (nothing written); 1 anything unexpected.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape

from model.evidence.data import InputWarning
from model.inference.config import SamplerConfig
from model.outputs.console import err_console

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

EXIT_BAD_INPUT = 2
EXIT_DIAGNOSTICS = 3
EXIT_STORE_BUSY = 4


#: The sampler settings every command that fits starts from: its options' defaults are these.
DEFAULTS = SamplerConfig()

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


def parse_date(text: str | None, option: str = "--as-of") -> date | None:
    """Read an ISO date option; exit 2 (bad input), naming the option, if it is not one."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(f"[bold red]error:[/] {option} {text!r} is not an ISO date (YYYY-MM-DD)")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def fail_input(err: Exception) -> NoReturn:
    """Print why the input was refused and exit 2: nothing was written."""
    # escaped: a message quotes the analyst's text, and "[/x]" in a cell is not rich markup
    err_console.print(f"[bold red]error:[/] {escape(str(err))}")
    err_console.print("Nothing was written.")
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def bad_input(*errors: type[Exception]) -> Iterator[None]:
    """Exit 2 through :func:`fail_input` on the given errors (default: ``ValueError``).

    ``ValueError`` covers :class:`~model.evidence.data.InputError` and the
    workflows' :class:`~model.workflows.common.inputs.BadInputError`; a workflow raises
    the latter only for inputs refused before anything ran.
    """
    kinds = errors or (ValueError,)
    try:
        yield
    except kinds as err:
        fail_input(err)


def fresh_folder(out: Path, what: str = "output folder") -> Path:
    """Return ``out`` if nothing is there yet; else exit 2 before any work is done.

    Every output folder is written atomically and never over another, so an
    existing one is refused up front rather than after a long fit.
    """
    if out.exists():
        fail_input(FileExistsError(f"{what} {out} already exists"))
    return out


def exit_unless_passed(passed: bool, allow_bad_diagnostics: bool) -> None:
    """Exit 3 when a fit failed its convergence gate, unless the analyst accepts it."""
    if not passed and not allow_bad_diagnostics:
        raise typer.Exit(EXIT_DIAGNOSTICS)


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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was written")
        sys.exit(130)
