"""The files a command reads, and the one way a workflow refuses them.

A command's inputs are refused before anything runs or is written: the
command line then prints the reason and exits 2 (bad input). Workflows
raise :class:`BadInputError` for exactly those failures, so that an error raised
later, inside a fit, is not mistaken for bad input and stays a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CaseFiles:
    """The three files a fit reads: observations, the case's actors and a prior set."""

    observations: Path
    actors: Path
    priors: Path


class BadInputError(ValueError):
    """The inputs were refused before anything ran; nothing was written.

    Carries the message of the error it replaces, unchanged, so that the
    analyst reads the same text whichever layer noticed the problem.
    """


@contextmanager
def refusing(*errors: type[Exception]) -> Iterator[None]:
    """Re-raise the given errors (default: ``ValueError``, so InputError too) as BadInputError.

    Wrap only the reading and checking of inputs: an error from a fit is
    not the analyst's input and must not be reported as such.
    """
    kinds = errors or (ValueError,)
    try:
        yield
    except BadInputError:
        raise
    except kinds as err:
        raise BadInputError(str(err)) from err


def check_prior_shapes(priors: Any, actors: Any, evidence: Any | None = None) -> None:
    """Check a prior set's arrays against the case's series (and steps, once known).

    Done before any fit so that a prior set written for another case is
    named with its file and field, not found by PyMC as a shape error.
    Raises :class:`~model.evidence.data.InputError` naming the prior file and field.
    """
    from model.evidence.aggregate import Structure
    from model.evidence.priors import check_case_shapes

    sizes = {"series": len(Structure(actors).series)}
    if evidence is not None:
        sizes["step"] = len(evidence.periods) - 1
    check_case_shapes(priors, sizes)


def check_inputs_match(provenance: dict[str, Any], inputs: Any) -> None:
    """Raise ValueError unless ``inputs`` are the data and priors a run was fitted on.

    ``provenance`` is the run's record (a summary's ``provenance``, or the
    JSON of a posterior's ``provenance`` attribute); the hashes decide, so a
    run is never checked, reported or reused against evidence it did not see.
    """
    wrong = [
        f"{what}: run {str(want)[:12]}, given {have[:12]}"
        for what, want, have in (
            ("data", provenance.get("data_sha256"), inputs.data_sha256),
            ("priors", provenance.get("priors_sha256"), inputs.priors.sha256),
        )
        if want != have
    ]
    if wrong:
        raise ValueError(
            "the inputs differ from the ones this run was fitted on ("
            + "; ".join(wrong)
            + "): pass the run's --data, --actors and --priors"
        )
