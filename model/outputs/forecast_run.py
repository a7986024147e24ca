"""A forecast's run folder, written and shown: posterior, figures, report and timings.

The workflow (:func:`model.workflows.forecast.case.forecast_case`) fits and
summarises; this module writes what it returns, in the order an analyst
waits for it: the run folder (all at once), the console summary, the
predictive checks and the report, and last ``timings.json``, whose presence
says the command finished. ``axis report`` rebuilds the report of a run
folder from what the folder holds (:func:`rebuild_report`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from model.evidence.data import InputError
from model.outputs.console import console, err_console, print_summary, say_retry
from model.outputs.report import horizon_of
from model.workflows.common.inputs import BadInputError, CaseFiles, check_inputs_match, refusing
from model.workflows.common.run_folder import (
    CHECKS,
    POSTERIOR,
    SUMMARY,
    atomic_file,
    check_run_folder,
)
from model.workflows.common.timing import StageTimer


def write_checks_and_report(
    run: Path, inputs: Any | None, idata: Any | None = None
) -> dict[str, float]:
    """Predictive checks (when given the inputs) and the HTML report of a run folder.

    Returns the seconds each took, by stage name (``checks``, ``report``).
    """
    from model.outputs.report import compute_checks, write_report

    took = {}
    if inputs is not None:
        with console.status("predictive checks"):
            _, took["checks"] = compute_checks(run, inputs, idata=idata)
        console.print(f"Predictive checks: {run / CHECKS} ({took['checks']:.1f} s)")
    with console.status("writing the report"):
        path, took["report"] = write_report(run)
    console.print(f"Report: {path} ({took['report']:.1f} s)")
    return took


def record_timings(run: Path, timer: StageTimer) -> None:
    """Print where a forecast's time went and keep it as the run folder's ``timings.json``.

    Written last: a run folder that has it saw its command finish.
    """
    from model.workflows.common.run_folder import TIMINGS
    from model.workflows.common.timing import STAGES, stage_line

    total = timer.total()
    console.print(f"Time: {stage_line(timer.stages, total)}", soft_wrap=True)
    with atomic_file(run / TIMINGS) as tmp:
        tmp.write_text(json.dumps(timer.record(STAGES, total), indent=2) + "\n")


def write_forecast_run(result: Any, out: Path, *, report: bool = True) -> bool:
    """Write and show a forecast (:class:`model.workflows.forecast.case.ForecastResult`).

    The run folder appears whole (:func:`model.workflows.common.run_folder.write_run`),
    then the summary is printed; with ``report`` the predictive checks and
    ``report.html`` follow. A report that fails leaves a complete run folder
    and says how to retry. Returns whether the report, if asked for, was written.
    """
    from model.outputs.plots import run_figures
    from model.workflows.common.run_folder import write_run

    say_retry(result.idata)
    with result.timer.stage("write"):
        write_run(result.idata, out, run_figures(result.idata))
    print_summary(result.summary)
    console.print(f"Run folder: {out}")
    written = True
    if report:
        try:
            result.timer.update(write_checks_and_report(out, result.inputs, result.idata))
        except Exception as err:  # the run folder is complete; only its report is missing
            written = False
            err_console.print(
                f"[bold red]error:[/] the report failed ({type(err).__name__}: {err}). "
                f"The run folder is complete; retry with `axis report {out}`."
            )
    record_timings(out, result.timer)
    return written


def _run_inputs(run: Path, files: CaseFiles, recheck: bool) -> Any | None:
    """Return the inputs a run was fitted on when its checks must be computed (else ``None``).

    Raises :class:`~model.workflows.common.inputs.BadInputError` for a folder that is not
    a complete run, a damaged file, or inputs whose hashes differ from the run's.
    """
    import xarray as xr

    from model.workflows.forecast.inputs import load_inputs

    if not (run / SUMMARY).exists() or not (run / POSTERIOR).exists():
        raise BadInputError(f"{run} is not a run folder (no summary.json/posterior.nc)")
    recompute = recheck or not (run / CHECKS).exists()
    with refusing(InputError):  # a damaged file is named here, not by a netCDF traceback
        check_run_folder(run, (SUMMARY, POSTERIOR, *(() if recompute else (CHECKS,))))
    if not recompute:
        return None
    summary = json.loads((run / SUMMARY).read_text())
    with xr.open_datatree(run / POSTERIOR) as idata:
        horizon = horizon_of(idata)
    with refusing():
        inputs = load_inputs(
            files.actors,
            files.observations,
            files.priors,
            as_of=date.fromisoformat(summary["provenance"]["as_of"]),
            horizon=horizon,
        )
        check_inputs_match(summary["provenance"], inputs)
    return inputs


def rebuild_report(run: Path, files: CaseFiles, *, recheck: bool = False) -> None:
    """Write ``report.html`` for a run folder: ``axis report``.

    The predictive checks are cached in the run folder (``checks.nc``); when
    they are missing, or with ``recheck``, they are computed from the run's
    posterior and ``files``, which must be the run's data and priors (by
    hash). Raises :class:`~model.workflows.common.inputs.BadInputError` before anything
    is written if the folder or the files will not do.
    """
    write_checks_and_report(run, _run_inputs(run, files, recheck))
