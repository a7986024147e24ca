"""The numbers every run reports, from a posterior: one summary, several views.

:func:`summarise` turns a posterior into the JSON-ready dict an analyst
reads; the console table, ``summary.json``, ``summary.csv``
(:func:`summary_rows`), the report and the plots are all views of it.
:func:`summary_dataset` keeps every period of the window instead, as xarray.
"""

from __future__ import annotations

import json
from typing import Any

import arviz as az
import pandas as pd
import xarray as xr

from model.evidence.aggregate import REPORT_PERIODS
from model.inference.convergence import HDI_PROB
from model.theory.tables import OUTSIDE_THEORY

__all__ = [
    "STATISTICS",
    "SUMMARISED",
    "summarise",
    "summary_dataset",
    "summary_frame",
    "summary_rows",
]


#: Posterior quantities :func:`summary_dataset` condenses: the reported ones and the threats.
SUMMARISED: tuple[str, ...] = (
    "p_axis",
    "type_prob",
    "commitment_prob",
    "cohesion_prob",
    "strategy_prob",
    "axis_commitment",
    "axis_cohesion",
    "p_level",
    "theta",
)


#: Names of the statistics along :func:`summary_dataset`'s ``statistic`` dimension.
STATISTICS: tuple[str, ...] = ("mean", "mcse", "hdi_low", "hdi_high")


def _interval(da: xr.DataArray) -> dict[str, float]:
    hdi = az.hdi(da, prob=HDI_PROB)
    return {
        "mean": float(da.mean(("chain", "draw"))),
        "mcse": float(az.mcse(da, method="mean")),
        "hdi_low": float(hdi.sel(ci_bound="lower")),
        "hdi_high": float(hdi.sel(ci_bound="upper")),
    }


def _means(da: xr.DataArray, dim: str) -> dict[str, float]:
    m = da.mean(("chain", "draw"))
    return {str(k): float(m.sel({dim: k})) for k in m[dim].values}


def _mcses(da: xr.DataArray, dim: str) -> dict[str, float]:
    m = az.mcse(da, method="mean")
    return {str(k): float(m.sel({dim: k})) for k in da[dim].values}


def _dyads_at(post: xr.Dataset, period: str) -> dict[str, Any]:
    out = {}
    for d in post["dyad"].values:
        da = post["type_prob"].sel(dyad=d, window=period)
        types = _means(da, "alliance_type")
        out[str(d)] = {
            "type_probs": types,
            "type_mcse": _mcses(da, "alliance_type"),
            "modal_type": max(types, key=types.get),
            "outside_theory": sum(v for k, v in types.items() if k in OUTSIDE_THEORY),
            "commitment": _means(
                post["commitment_prob"].sel(dyad=d, window=period), "outcome_level"
            ),
            "cohesion": _means(post["cohesion_prob"].sel(dyad=d, window=period), "outcome_level"),
        }
        if "smoothed_type_prob" in post:  # runs written before it was reported lack it
            out[str(d)]["smoothed"] = _smoothed_at(post, str(d), period)
    return out


def _smoothed_at(post: xr.Dataset, dyad: str, period: str) -> dict[str, Any]:
    """Return the dyad's state given all the evidence, its period's codes included.

    Beside the implied keys, so a reader compares like with like: in a period
    without conduct or outcome codes the two agree.
    """
    da = post["smoothed_type_prob"].sel(dyad=dyad, period=period)
    types = _means(da, "alliance_type")
    return {
        "type_probs": types,
        "type_mcse": _mcses(da, "alliance_type"),
        "modal_type": max(types, key=types.get),
        "commitment": _means(
            post["smoothed_commitment_prob"].sel(dyad=dyad, period=period), "outcome_level"
        ),
        "cohesion": _means(
            post["smoothed_cohesion_prob"].sel(dyad=dyad, period=period), "outcome_level"
        ),
    }


def summarise(idata: xr.DataTree) -> dict[str, Any]:
    """Return the numbers every run reports, as a JSON-ready dict.

    ``p_axis``, ``dyads`` and ``strategies`` refer to the last period with
    evidence; ``p_axis_now`` and ``p_axis_horizon`` to the current (as-of)
    period and the end of the forecast; ``forecast`` repeats the dyads at
    those two periods.

    Parameters
    ----------
    idata
        A posterior from :func:`run_forecast` (or a run folder's ``posterior.nc``).

    Returns
    -------
    dict
        ``summary.json``'s content: ``case``, ``periods``, ``p_axis``,
        ``p_axis_now``, ``p_axis_horizon`` (each ``mean``, ``mcse``,
        ``hdi_low``, ``hdi_high``, ``period``), ``axis_commitment``,
        ``axis_cohesion``, ``dyads``, ``forecast``, ``strategies``,
        ``threat_levels``, ``diagnostics`` and ``provenance``.
    """
    post = idata.posterior.to_dataset()
    periods = json.loads(idata.attrs["report_periods"])
    p_axis = {
        role: _interval(post["p_axis"].sel(period=periods[role])) | {"period": periods[role]}
        for role in REPORT_PERIODS
    }
    strategies = {
        str(p): _means(
            post["strategy_prob"].sel(pair=p, window=periods["last_evidence"]), "strategy"
        )
        for p in post["pair"].values
    }
    levels = {
        str(s): _means(post["p_level"].sel(series=s, window=periods["last_evidence"]), "level")
        for s in post["series"].values
    }
    return {
        "case": json.loads(idata.attrs["case"]),
        "periods": periods,
        "p_axis": p_axis["last_evidence"],
        "p_axis_now": p_axis["now"],
        "p_axis_horizon": p_axis["horizon"],
        "axis_commitment": _means(
            post["axis_commitment"].sel(window=periods["last_evidence"]), "outcome_level"
        ),
        "axis_cohesion": _means(
            post["axis_cohesion"].sel(window=periods["last_evidence"]), "outcome_level"
        ),
        "dyads": _dyads_at(post, periods["last_evidence"]),
        "forecast": {
            role: {"dyads": _dyads_at(post, periods[role])} for role in ("now", "horizon")
        },
        "strategies": strategies,
        "threat_levels": levels,
        "diagnostics": json.loads(idata.attrs["diagnostics"]),
        "provenance": json.loads(idata.attrs["provenance"]),
    } | ({"stacked": json.loads(idata.attrs["stacked"])} if "stacked" in idata.attrs else {})


def summary_rows(summary: dict[str, Any]) -> pd.DataFrame:
    """Long table of the summary: one row per (quantity, period, unit, category)."""
    rows: list[dict[str, Any]] = []
    per = summary["periods"]
    for key, role in (
        ("p_axis", "last_evidence"),
        ("p_axis_now", "now"),
        ("p_axis_horizon", "horizon"),
    ):
        v = summary[key]
        rows.append(
            {
                "quantity": "p_axis",
                "role": role,
                "period": per[role],
                "unit": "axis",
                "category": "formed",
                "mean": v["mean"],
                "hdi_low": v["hdi_low"],
                "hdi_high": v["hdi_high"],
            }
        )
    dyads_by_role = {
        "last_evidence": summary["dyads"],
        **{r: summary["forecast"][r]["dyads"] for r in ("now", "horizon")},
    }
    for role, dyads in dyads_by_role.items():
        for d, info in dyads.items():
            for q, key, source in (
                ("type_prob", "type_probs", info),
                ("commitment", "commitment", info),
                ("cohesion", "cohesion", info),
                ("smoothed_type_prob", "type_probs", info.get("smoothed", {})),
                ("smoothed_commitment", "commitment", info.get("smoothed", {})),
                ("smoothed_cohesion", "cohesion", info.get("smoothed", {})),
            ):
                for cat, val in source.get(key, {}).items():
                    rows.append(
                        {
                            "quantity": q,
                            "role": role,
                            "period": per[role],
                            "unit": d,
                            "category": cat,
                            "mean": val,
                        }
                    )
    last = per["last_evidence"]
    for quantity, table in (
        ("strategy", summary["strategies"]),
        ("threat_level", summary["threat_levels"]),
    ):
        for unit, probs in table.items():
            for cat, val in probs.items():
                rows.append(
                    {
                        "quantity": quantity,
                        "role": "last_evidence",
                        "period": last,
                        "unit": unit,
                        "category": cat,
                        "mean": val,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=["quantity", "role", "period", "unit", "category", "mean", "hdi_low", "hdi_high"],
    )


def summary_frame(fit: xr.DataTree | dict[str, Any]) -> pd.DataFrame:
    """Return a fit's summary as one long table, the run folder's ``summary.csv``.

    Parameters
    ----------
    fit
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`, or
        its :func:`model.workflows.forecast.summary.summarise` (which is the costly part).

    Returns
    -------
    pandas.DataFrame
        One row per (quantity, role, unit, category): ``quantity`` is
        ``p_axis``, ``type_prob``, ``commitment``, ``cohesion``, ``strategy``
        or ``threat_level``; ``role`` the report period (``last_evidence``,
        ``now``, ``horizon``) and ``period`` its label; ``mean`` the
        posterior mean; ``hdi_low`` and ``hdi_high`` the 94% HDI of P(axis).
    """
    summary = fit if isinstance(fit, dict) else summarise(fit)
    return summary_rows(summary)


def summary_dataset(idata: xr.DataTree, hdi_prob: float = HDI_PROB) -> xr.Dataset:
    """Return the posterior's reported quantities condensed, every period, as xarray.

    Where :func:`summary_frame` holds the three report periods, this keeps
    every period of the window, labelled, for plotting or selecting:
    ``ds["p_axis"].sel(statistic="mean")`` is the fan's middle line.

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.
    hdi_prob
        Mass of the highest-density interval.

    Returns
    -------
    xarray.Dataset
        P(axis), the dyads' alliance-type, commitment and cohesion
        probabilities, the strategies, the axis's weakest-link outcomes, the
        threat-level probabilities and the latent threats, each with its
        own dimensions and a ``statistic`` dimension: ``mean``, ``mcse``
        (Monte Carlo standard error of the mean), ``hdi_low``, ``hdi_high``.
        The attributes carry the report periods and ``hdi_prob``.
    """
    post = idata.posterior.to_dataset()
    post = post[[v for v in SUMMARISED if v in post]]
    hdi = az.hdi(post, prob=hdi_prob)
    parts = [
        post.mean(("chain", "draw")),
        az.mcse(post, method="mean"),
        hdi.sel(ci_bound="lower", drop=True),
        hdi.sel(ci_bound="upper", drop=True),
    ]
    out = xr.concat(parts, dim=pd.Index(list(STATISTICS), name="statistic"), coords="minimal")
    out.attrs = {"report_periods": idata.attrs["report_periods"], "hdi_prob": hdi_prob}
    return out
