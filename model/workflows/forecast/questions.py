"""A fit's probability of each resolvable question (:mod:`model.evidence.questions`).

Given the threats, the model's states in different periods are independent
(each period's threat levels, strategies and type are drawn afresh given
the latent scores), so for a question that is "yes" if its state holds in
any of several periods, each posterior draw gives
``1 - prod_t (1 - p_t)``; the probability is the mean over draws, with its
Monte Carlo standard error. Within one period, the values a question lists
are exclusive states of one subject, so their probabilities add.
"""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.questions import Question

__all__ = ["question_draws", "question_probabilities"]

#: The posterior variable and its subject and value dimensions, by question kind.
_SOURCES: dict[str, tuple[str, str | None, str | None]] = {
    "strategy": ("strategy_prob", "pair", "strategy"),
    "type": ("type_prob", "dyad", "alliance_type"),
    "commitment": ("commitment_prob", "dyad", "outcome_level"),
    "cohesion": ("cohesion_prob", "dyad", "outcome_level"),
    "axis": ("p_axis", None, None),
}


def _freq(labels: Any) -> str:
    """Return the pandas frequency of a fit's period labels (``2026Q4``: quarterly)."""
    return pd.Period(str(np.asarray(labels)[0])).freqstr


def question_draws(post: xr.Dataset, question: Question) -> tuple[xr.DataArray | None, str]:
    """Per-draw probability that ``question`` resolves yes, and a note on what it covers.

    Returns ``(None, why)`` when the fit does not reach the question's
    periods (they lie before the forecast window or after its horizon).
    """
    name, subject_dim, value_dim = _SOURCES[question.kind]
    da = post[name]
    time_dim = "window" if "window" in da.dims else "period"
    labels = [str(x) for x in da[time_dim].values]
    wanted = question.periods(_freq(labels))
    have = [p for p in wanted if p in labels]
    if not have:
        return (
            None,
            f"{wanted[0]}-{wanted[-1]} is outside the fit's window ({labels[0]}-{labels[-1]})",
        )
    if subject_dim is not None:
        da = da.sel({subject_dim: question.subject})
    if value_dim is not None:
        da = da.sel({value_dim: list(question.values)}).sum(value_dim)
    da = da.assign_coords({time_dim: labels}).sel({time_dim: have}).clip(0.0, 1.0)
    p = 1.0 - (1.0 - da).prod(time_dim)
    note = have[0] if len(have) == 1 else f"any of {have[0]}-{have[-1]}"
    if len(have) < len(wanted):
        note += f" (the fit reaches {len(have)} of its {len(wanted)} periods)"
    return p, note


def question_probabilities(
    idata: xr.DataTree, questions: list[Question]
) -> dict[str, dict[str, Any]]:
    """Give each question's probability under a fit.

    Parameters
    ----------
    idata
        A forecast's posterior (:func:`model.workflows.forecast.fit.run_forecast`).
    questions
        The case's questions (:func:`model.evidence.questions.load_questions`).

    Returns
    -------
    dict
        By question id: ``mean`` and ``mcse`` with ``covers`` (the periods
        it covers), or ``mean`` ``None`` with ``why`` when the fit's window
        does not reach the question's periods.
    """
    post = idata.posterior.to_dataset()
    out: dict[str, dict[str, Any]] = {}
    for q in questions:
        draws, note = question_draws(post, q)
        if draws is None:
            out[q.id] = {"mean": None, "mcse": None, "why": note}
            continue
        out[q.id] = {
            "mean": float(draws.mean()),
            "mcse": float(az.mcse(draws, method="mean")),
            "covers": note,
        }
    return out
