"""The model's commitment against formal treaty obligations (ATOP): a check no coder here wrote.

The Alliance Treaty Obligations and Provisions data code, for each pair of
states and year, what a treaty in force binds them to. Mapped onto the
model's commitment levels by a rule stated before any comparison
(``docs/atop.md``, :func:`model.evidence.atop.commitment_level`), they are
set beside the model's *evidence-conditioned* commitment of every case
dyad-period ATOP covers: the posterior of the dyad's true commitment given
all its evidence (``smoothed_commitment_prob``). ATOP never enters a fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import xarray as xr

from model.evidence.atop import (
    AtopComparison,
    compare_commitment,
    load_atop,
    load_coverage,
    obligations_for,
)
from model.evidence.data import Actors
from model.generative.joint import case_variable
from model.theory.tables import OUTCOME_LEVELS

__all__ = ["AtopCheck", "atop_check", "model_commitment"]

#: The posterior quantity compared: the dyad's commitment given all its evidence.
QUANTITY = "smoothed_commitment_prob"


def model_commitment(fit: xr.DataTree, case: str | None = None) -> pd.DataFrame:
    """Return the posterior mean commitment of every dyad and period of a fit.

    Parameters
    ----------
    fit
        A one-case fit or a joint fit
        (:func:`model.workflows.validation.history.fit_cases`).
    case
        The case to read from a joint fit; ``None`` for a one-case fit.

    Returns
    -------
    pandas.DataFrame
        Columns ``dyad``, ``period``, ``year`` and one probability per
        commitment level, as :func:`model.evidence.atop.compare_commitment`
        reads them.
    """
    name = QUANTITY if case is None else case_variable(case, QUANTITY)
    da = fit.posterior[name].mean(("chain", "draw"))
    dyad_dim, period_dim, level_dim = da.dims
    frame = (
        da.rename({dyad_dim: "dyad", period_dim: "period", level_dim: "outcome_level"})
        .to_dataframe(name="p")
        .reset_index()
        .pivot_table(index=["dyad", "period"], columns="outcome_level", values="p")
        .reset_index()
    )
    frame.columns.name = None
    frame["period"] = frame["period"].astype(str)
    frame["year"] = frame["period"].str[:4].astype(int)
    return frame[["dyad", "period", "year", *OUTCOME_LEVELS]]


@dataclass
class AtopCheck:
    """ATOP against the model, pooled over cases and case by case.

    Attributes
    ----------
    pooled
        Every covered dyad-period of every case.
    by_case
        One comparison per case with any covered dyad-period.
    """

    pooled: AtopComparison
    by_case: dict[str, AtopComparison]

    def table(self) -> pd.DataFrame:
        """One row per case and one pooled: covered dyad-periods, share agreeing, rho."""
        rows = [
            {
                "case": name,
                "covered": c.n_covered,
                "agree": c.share_agreeing,
                "spearman": c.spearman_rho,
            }
            for name, c in {**self.by_case, "all": self.pooled}.items()
        ]
        return pd.DataFrame(rows)


def atop_check(
    fits: Mapping[str, tuple[xr.DataTree, str | None, Actors, str | None]],
) -> AtopCheck:
    """Compare ATOP's mapped obligations with the model's commitment in every case given.

    Parameters
    ----------
    fits
        By case name: the fit holding it, the case's name inside that fit
        (``None`` for a one-case fit), the case's actors, and the last
        period to compare (the case's last period with evidence: after it
        the model's commitment is a forecast, not a reading of the record;
        ``None``: every period of the grid).
    """
    atop, coverage = load_atop(), load_coverage()
    mapped_all, model_all, by_case = [], [], {}
    for name, (fit, inner, actors, through) in fits.items():
        probs = model_commitment(fit, inner)
        if through is not None:
            order = list(dict.fromkeys(probs["period"]))
            probs = probs[probs["period"].isin(order[: order.index(through) + 1])]
        mapped = obligations_for(atop, actors, sorted(set(probs["period"])), coverage)
        if mapped.empty:
            continue
        by_case[name] = compare_commitment(mapped, probs)
        # pooled, a period is the case's: "<case>/<period>" keeps two cases' 1961 apart
        mapped_all.append(mapped.assign(period=name + "/" + mapped["period"].astype(str)))
        model_all.append(probs.assign(period=name + "/" + probs["period"]))
    if not mapped_all:
        raise ValueError("ATOP covers no dyad-period of the cases given")
    pooled = compare_commitment(
        pd.concat(mapped_all, ignore_index=True), pd.concat(model_all, ignore_index=True)
    )
    return AtopCheck(pooled, by_case)
