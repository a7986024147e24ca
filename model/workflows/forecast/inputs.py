"""A case's inputs: read, validated, filtered to an as-of date and aggregated.

Every fit starts from an :class:`Inputs`: the case, its observations, the
aggregated evidence, the prior set and the hash of the rows used. A case is
named (a shipped case, :func:`load_case`), given by its files
(:func:`load_case_files`, :func:`load_inputs`) or built from frames already
in memory (:func:`prepare_inputs`); an update adds rows to it
(:func:`add_observations`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from model.evidence.aggregate import Evidence, aggregate, coders_of
from model.evidence.data import (
    CODER_COLUMN,
    COLUMNS,
    DEFAULT_CODER,
    Actors,
    InputWarning,
    default_as_of,
    load_actors,
    read_observations,
)
from model.evidence.priors import PriorSet, load_priors
from model.evidence.shipped import DEFAULT_PRIORS, prior_set_path, shipped_case
from model.evidence.store import read_observation_files, split_new
from model.workflows.common.inputs import CaseFiles, check_prior_shapes

__all__ = [
    "Inputs",
    "add_observations",
    "frame_sha256",
    "load_case",
    "load_case_files",
    "load_inputs",
    "load_prior_set",
    "prepare_inputs",
]


@dataclass(frozen=True)
class Inputs:
    """Everything a fit reads, validated, with the hashes that identify it."""

    actors: Actors
    observations: pd.DataFrame
    evidence: Evidence
    priors: PriorSet
    data_sha256: str
    as_of: date


def prepare_inputs(
    actors: Actors,
    frame: pd.DataFrame,
    priors: PriorSet,
    *,
    as_of: date | None = None,
    horizon: int = 4,
) -> Inputs:
    """Filter validated observations to ``as_of`` and aggregate them.

    Observations dated after ``as_of`` are left out, so an as-of fit sees
    only what was known then; the data hash covers exactly the rows used.
    Without ``as_of`` the case's rule decides (:func:`model.evidence.data.default_as_of`:
    today for a live case, the newest observation for a historical one).

    Parameters
    ----------
    actors
        The case (:func:`model.evidence.data.load_actors`).
    frame
        Validated observations (:func:`model.evidence.data.read_observations`).
    priors
        The prior set (:func:`model.evidence.priors.load_priors`).
    as_of
        The as-of date; ``None``: the case's rule.
    horizon
        Periods forecast after the as-of period.

    Returns
    -------
    Inputs
        What :func:`run_forecast` fits.
    """
    as_of = as_of or default_as_of(actors, frame)
    known = frame[frame["date"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    known[CODER_COLUMN] = coders_of(known)  # stored rows (and older files) have no coder
    evidence = aggregate(known, actors, as_of, horizon)
    return Inputs(
        actors=actors,
        observations=known,
        evidence=evidence,
        priors=priors,
        data_sha256=frame_sha256(actors, known),
        as_of=as_of,
    )


def frame_sha256(actors: Actors, frame: pd.DataFrame) -> str:
    """Hash the case and the observations used (sorted by id), independent of file layout.

    Column by column, so that a million rows hash in about a second.
    """
    ordered = frame.sort_values("id", kind="stable")
    digest = hashlib.sha256(json.dumps(asdict(actors), sort_keys=True, default=str).encode())
    several = CODER_COLUMN in ordered and (ordered[CODER_COLUMN] != DEFAULT_CODER).any()
    for c in (*COLUMNS, CODER_COLUMN) if several else COLUMNS:  # one coder: hashes as before
        col = ordered[c].to_numpy()
        if c == "date":
            col = col.astype("datetime64[D]").astype(str)
        digest.update(json.dumps([c, col.tolist()], default=str).encode())
    return digest.hexdigest()


def load_inputs(
    actors_path: str | Path,
    data_path: str | Path,
    priors_path: str | Path,
    *,
    as_of: date | None = None,
    horizon: int = 4,
) -> Inputs:
    """Read, validate and aggregate a case from files.

    Parameters
    ----------
    actors_path
        The case's actors TOML (partners, external actor, periods).
    data_path
        Its observations CSV (format in ``data/codebook.md``).
    priors_path
        A prior set TOML.
    as_of
        Fit with only the evidence dated up to this day; ``None``: the case's rule.
    horizon
        Periods forecast after the as-of period.

    Returns
    -------
    Inputs
        What :func:`run_forecast` fits.

    Raises
    ------
    model.evidence.data.InputError
        Listing every problem, by file, row and field.
    """
    actors = load_actors(actors_path)
    frame = read_observations(data_path, actors)
    priors = load_priors(priors_path)
    return prepare_inputs(actors, frame, priors, as_of=as_of, horizon=horizon)


def load_case_files(files: CaseFiles, *, as_of: date | None = None, horizon: int = 4) -> Inputs:
    """Read a case's files and check that the prior set fits the case.

    :func:`load_inputs`, then the prior arrays' shapes against the case's
    series and steps: a prior set written for another case is refused
    here, naming its file and field, before a fit could fail on it.
    Raises :class:`model.evidence.data.InputError` or ``ValueError``.
    """
    inputs = load_inputs(
        files.actors, files.observations, files.priors, as_of=as_of, horizon=horizon
    )
    check_prior_shapes(inputs.priors, inputs.actors, inputs.evidence)
    return inputs


def _is_path(text: str | Path) -> bool:
    """Tell a file or folder an analyst names from a shipped name (plain, no separator)."""
    return isinstance(text, Path) or "/" in text or "\\" in text or text.endswith(".toml")


def load_prior_set(priors: str | Path = DEFAULT_PRIORS) -> PriorSet:
    """Read and validate a prior set, shipped (by name) or from a file.

    Parameters
    ----------
    priors
        A shipped set's name (``"default"``, ``"realist"``, ...;
        :func:`model.evidence.shipped.prior_set_names`) or the path of a TOML
        file in the same format.

    Returns
    -------
    PriorSet
        The validated prior set.

    Raises
    ------
    InputError
        If the name is unknown or the file is not a valid prior set; the
        message names the file and field, as on the command line.
    """
    return load_priors(priors if _is_path(priors) else prior_set_path(str(priors)))


def load_case(
    case: str | Path = "default",
    *,
    priors: str | Path | PriorSet = DEFAULT_PRIORS,
    as_of: date | None = None,
    horizon: int = 4,
) -> Inputs:
    """Read, validate and aggregate a case with a prior set: everything a fit needs.

    The same checks as ``axis forecast --case``: every bad row, unknown
    actor or prior key is reported at once, and the prior set's arrays must
    fit the case's threat series and periods.

    Parameters
    ----------
    case
        A shipped case's name (``"default"``: Russia, China and North Korea
        against the United States; or a folder of ``data/cases/``, see
        :func:`model.evidence.shipped.case_names`), or the path of a folder
        of one's own holding ``actors.toml`` and ``observations.csv``. For
        files elsewhere use :func:`model.workflows.forecast.inputs.load_inputs`.
    priors
        A shipped prior set's name, a prior file, or a loaded :class:`PriorSet`.
    as_of
        Fit with only the evidence dated up to this day; the forecast
        horizon counts from it. ``None``: the case's rule (today for a live
        case, the newest observation for a historical one).
    horizon
        Periods forecast after ``as_of``.

    Returns
    -------
    Inputs
        The case, its observations, the aggregated evidence, the prior set
        and the hash of the data used; :func:`model.workflows.forecast.fit.run_forecast`
        fits it.

    Raises
    ------
    InputError
        On any invalid input; the message names file, row and field.
    """
    if _is_path(case):
        folder = Path(case)
        actors_path, data_path = folder / "actors.toml", folder / "observations.csv"
    else:
        found = shipped_case(str(case))
        actors_path, data_path = found.actors, found.observations
    prior_set = priors if isinstance(priors, PriorSet) else load_prior_set(priors)
    actors = load_actors(actors_path)
    frame = read_observations(data_path, actors)
    inputs = prepare_inputs(actors, frame, prior_set, as_of=as_of, horizon=horizon)
    check_prior_shapes(inputs.priors, inputs.actors, inputs.evidence)
    return inputs


def add_observations(inputs: Inputs, *files: str | Path, as_of: date | None = None) -> Inputs:
    """Add new observation files to a case: the evidence of an update, before its fit.

    Each file is validated by the rules of the shipped data; rows already in
    the case (the same id, or the same evidence) are skipped with a warning,
    as ``axis update`` skips them. Nothing is stored or published: refit the
    result with :func:`model.workflows.forecast.fit.run_forecast` and compare the
    summaries with :func:`model.workflows.updates.update.diff_summaries`. (``axis
    update`` and :func:`model.workflows.updates.update.run_update` also keep the
    observations and the forecast in a store's ledger.)

    Parameters
    ----------
    inputs
        The case as fitted so far (:func:`load_case`).
    *files
        Observation CSV files in the shipped format (``data/codebook.md``).
    as_of
        The new as-of date. ``None`` keeps the case's rule, so that new
        rows dated after the old as-of date (today, when it was loaded) are
        not silently left out.

    Returns
    -------
    Inputs
        The case with the new rows, re-aggregated, with the same prior set
        and horizon.

    Raises
    ------
    InputError
        If any row of any file is bad; every problem is listed and nothing is added.
    """
    known = inputs.observations
    for frame, source in read_observation_files([Path(f) for f in files], inputs.actors):
        new, dupes = split_new(known, frame)
        for row, why in dupes:
            warnings.warn(InputWarning(f"{source.file} row {row}: skipped, {why}"), stacklevel=2)
        known = pd.concat([known, new], ignore_index=True)
    ev = inputs.evidence
    horizon = ev.report_index[2] - ev.report_index[1]
    return prepare_inputs(inputs.actors, known, inputs.priors, as_of=as_of, horizon=horizon)
