"""The run folder: its file names, how it is written (atomically), checked and read back.

A run folder is what a forecast leaves behind and what later commands read:
``axis report`` rebuilds its report, ``axis scenario --run`` and
``axis sensitivity --from-run`` reuse its posterior, and ``axis update``
reweights the last published one. Everything that names, writes, checks or
reads one is here, so the folder's layout has one home. Every file is
written into a temporary sibling that is renamed into place
(:func:`atomic_folder`, :func:`atomic_file`): a failure or a kill never
leaves a half-written file or folder behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import xarray as xr

from model.evidence.data import Actors, InputError, Problem
from model.workflows.common.inputs import BadInputError, refusing
from model.workflows.forecast.summary import summarise, summary_rows

__all__ = [
    "CHECKS",
    "POSTERIOR",
    "REPORT",
    "SUMMARY",
    "SUMMARY_CSV",
    "TIMINGS",
    "Figures",
    "atomic_file",
    "atomic_folder",
    "check_run_folder",
    "open_run",
    "read_group",
    "read_run_posterior",
    "read_summary",
    "read_tree",
    "write_run",
]

#: The posterior with its provenance (an InferenceData as netCDF).
POSTERIOR = "posterior.nc"
#: :func:`model.workflows.forecast.summary.summarise`, as JSON.
SUMMARY = "summary.json"
#: The summary's long table (:func:`model.workflows.forecast.summary.summary_rows`).
SUMMARY_CSV = "summary.csv"
#: The cached prior and posterior predictive checks.
CHECKS = "checks.nc"
#: The self-contained HTML report.
REPORT = "report.html"
#: Where the command's time went; written last, so its presence says the command finished.
TIMINGS = "timings.json"


@contextmanager
def atomic_folder(out: str | Path, what: str = "output folder") -> Iterator[Path]:
    """Yield a temporary sibling of ``out`` that becomes ``out`` only if the block succeeds.

    Whatever is written inside appears all at once or not at all, so a
    failure or a kill never leaves a half-written run behind.
    """
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{what} {out} exists; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` that replaces ``path`` only if the block succeeds."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_run_folder(run: str | Path, files: Iterable[str] = (SUMMARY, POSTERIOR)) -> None:
    """Raise :class:`InputError` naming each of a run folder's files that is missing or damaged.

    ``axis report``, ``axis scenario --run`` and ``axis update`` (whose
    anchor is the last published run) read a run folder written earlier; a
    file truncated by a full disk or an interrupted copy would otherwise end
    in a netCDF/HDF5 or JSON traceback halfway through the command. Checked
    before anything is written. A netCDF file is opened and its groups read
    (HDF5 notices a truncated file there), not loaded: that is the caller's.
    """
    problems: list[Problem] = []
    for name in files:
        path = Path(run) / name
        if not path.is_file():
            problems.append(Problem(str(path), None, "-", "missing: not a complete run folder"))
            continue
        if name.endswith(".json"):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as err:
                problems.append(Problem(str(path), None, "-", f"damaged: cannot be read ({err})"))
            except json.JSONDecodeError as err:
                problems.append(
                    Problem(str(path), err.lineno, "-", f"damaged: not JSON ({err.msg})")
                )
            continue
        try:  # netCDF4, h5netcdf and xarray raise OSError, ValueError, RuntimeError, ...
            with xr.open_datatree(path) as tree:
                groups = set(tree.children)
        except Exception as err:
            why = getattr(err, "strerror", None) or str(err)  # an OSError's repeats the path
            problems.append(
                Problem(
                    str(path),
                    None,
                    "-",
                    f"damaged: cannot be read as netCDF ({why}); write the run again",
                )
            )
            continue
        if name == POSTERIOR and "posterior" not in groups:
            problems.append(
                Problem(str(path), None, "posterior", "no posterior group: not a run's posterior")
            )
    if problems:
        raise InputError(problems)


def read_run_posterior(run: Path) -> tuple[xr.DataTree, Actors]:
    """Read a run folder's posterior whole, with the case it was fitted on.

    Raises :class:`~model.workflows.common.inputs.BadInputError` if the file is missing,
    damaged or was not written by a forecast (it then has no case record).
    """
    path = Path(run) / POSTERIOR
    if not path.exists():
        raise BadInputError(f"no posterior.nc in run folder {run}")
    with refusing(InputError):
        check_run_folder(run, (POSTERIOR,))
    with xr.open_datatree(path) as tree:  # read whole and closed: no handle outlives it
        idata = tree.load()
    if "case" not in idata.attrs:
        raise BadInputError(
            str(InputError([Problem(str(path), None, "case", "not written by axis")]))
        )
    meta = json.loads(idata.attrs["case"])
    return idata, Actors(tuple(meta["partners"]), meta["external"], start=date(1, 1, 1))


def read_tree(path: str | Path) -> xr.DataTree:
    """Read a netCDF file whole and close it, so no handle outlives the call.

    A handle left open keeps HDF5's view of the file; a later open of the same
    file in the process (a second report, a check of the run folder) then
    fails with an HDF error.
    """
    with xr.open_datatree(path) as tree:
        return tree.load()


def read_summary(run: str | Path) -> dict[str, Any]:
    """Return a run folder's ``summary.json``."""
    return json.loads((Path(run) / SUMMARY).read_text())


def read_group(run_folder: Path, group: str) -> xr.Dataset | None:
    """Read one group of a run folder's ``posterior.nc`` (``None``: absent or unreadable)."""
    try:
        with xr.open_dataset(Path(run_folder) / POSTERIOR, group=group) as ds:
            return ds.load()
    except (OSError, ValueError, KeyError):
        return None


def open_run(folder: Path) -> xr.DataTree | None:
    """Load a run folder's posterior file (``None`` if missing or unreadable)."""
    try:
        with xr.open_datatree(Path(folder) / POSTERIOR) as tree:
            return tree.load()
    except (OSError, ValueError, KeyError):
        return None


#: Draws a run's figures, by file stem (:func:`model.outputs.plots.run_figures`).
Figures = Callable[[xr.DataTree], dict[str, Any]]


def write_run(idata: xr.DataTree, out: Path, figures: dict[str, Any] | None = None) -> Path:
    """Write a run folder atomically: all of it appears, or none of it.

    Contents: ``posterior.nc`` (InferenceData with provenance attributes),
    ``summary.json``, ``summary.csv`` and one PNG per figure. Everything is
    written into a temporary sibling folder that is renamed into place. The
    figures are closed afterwards.

    Parameters
    ----------
    idata
        A posterior from :func:`run_forecast`.
    out
        The run folder; it must not exist yet.
    figures
        Figures by file stem (:func:`model.outputs.plots.run_figures`); none by default.

    Returns
    -------
    Path
        ``out``.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    try:
        with atomic_folder(out, "run folder") as tmp:
            summary = summarise(idata)
            idata.to_netcdf(tmp / POSTERIOR)
            (tmp / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
            summary_rows(summary).to_csv(tmp / SUMMARY_CSV, index=False)
            for name, fig in (figures or {}).items():
                fig.savefig(tmp / f"{name}.png", dpi=110, bbox_inches="tight")
    finally:  # handed over: closed, or a long session (updates, tests) keeps every one
        for fig in (figures or {}).values():
            plt.close(fig)
    return out
