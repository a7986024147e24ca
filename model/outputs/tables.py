"""A fit's headline numbers as tables for a notebook: P(axis) and each dyad's types.

Views of :func:`model.workflows.forecast.summary.summarise`, shown with no
more digits than the Monte Carlo error supports (:mod:`model.outputs.format`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import xarray as xr

from model.evidence.aggregate import REPORT_PERIODS
from model.outputs.format import format_probability
from model.workflows.forecast.summary import summarise

__all__ = ["dyad_type_table", "p_axis_table"]


def p_axis_table(fit: xr.DataTree | dict[str, Any]) -> pd.DataFrame:
    """Return P(axis) at the three report periods, with its Monte Carlo error and HDI.

    Parameters
    ----------
    fit
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`, or its summary.

    Returns
    -------
    pandas.DataFrame
        Indexed by role: ``last_evidence`` (the last period with evidence,
        the headline), ``now`` (the as-of period) and ``horizon`` (the end
        of the forecast); columns ``period``, ``mean``, ``mcse``,
        ``hdi_low``, ``hdi_high`` and ``shown``, the mean and MCSE with no
        more digits than the MCSE supports
        (:func:`model.outputs.format.format_probability`).
    """
    summary = fit if isinstance(fit, dict) else summarise(fit)
    keys = {"last_evidence": "p_axis", "now": "p_axis_now", "horizon": "p_axis_horizon"}
    rows = {role: summary[keys[role]] for role in REPORT_PERIODS}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[["period", "mean", "mcse", "hdi_low", "hdi_high"]]
    table["shown"] = [format_probability(r.mean, r.mcse) for r in table.itertuples()]
    table.index.name = "role"
    return table


def dyad_type_table(
    fit: xr.DataTree | dict[str, Any], report: str = "last_evidence"
) -> pd.DataFrame:
    """Return each dyad's alliance-type probabilities at a report period, one row per dyad.

    The paper's answer is the modal type of each dyad (Ma 2025: CHN-RUS
    balancing-hedging, CHN-PRK balancing-tethering, PRK-RUS
    balancing-balancing), so the table ends with it and its probability's
    Monte Carlo error.

    Parameters
    ----------
    fit
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`, or its summary.
    report
        ``last_evidence`` (the paper's period), ``now`` or ``horizon``.

    Returns
    -------
    pandas.DataFrame
        Indexed by dyad (``CHN-PRK``, ...); one column per alliance type
        (posterior mean probability), then ``modal_type`` and ``modal_mcse``.
    """
    summary = fit if isinstance(fit, dict) else summarise(fit)
    if report not in REPORT_PERIODS:
        raise ValueError(f"report must be one of {REPORT_PERIODS}, not {report!r}")
    dyads = summary["dyads"] if report == "last_evidence" else summary["forecast"][report]["dyads"]
    table = pd.DataFrame({d: info["type_probs"] for d, info in dyads.items()}).T
    table["modal_type"] = [info["modal_type"] for info in dyads.values()]
    table["modal_mcse"] = [info["type_mcse"][info["modal_type"]] for info in dyads.values()]
    table.index.name = "dyad"
    return table
