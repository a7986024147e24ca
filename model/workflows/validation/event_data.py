"""The model against outside evidence: posterior threat paths next to a GDELT dyad series.

The model is fitted on the hand-coded evidence only. GDELT, which nobody here
coded, then serves as a check: do the latent threat trajectories move with
the daily sum of Goldstein scores between the same two countries?

Two alignments are needed and made explicit here:

* **Sign.** The GDELT series rises when relations improve (cooperative events
  have positive Goldstein scores); threat falls. Every comparison uses the
  *reversed* series, ``-GDELT``, so that agreement shows as a positive
  correlation and as moves of the same sign.
* **Direction.** GDELT pairs are undirected; threat series are directed. A
  pair with the external actor (``USA_PRK``) matches the one series of the
  partner's threat from it (``PRK<-USA``); a pair of partners (``RUS_CHN``)
  matches both directed series (``RUS<-CHN`` and ``CHN<-RUS``), each compared
  on its own.

Every statistic is a small pure function of arrays, tested against numbers
worked by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import series_name
from model.evidence.data import InputError, Problem

#: The years whose change against the previous year is checked.
MOVE_YEARS: tuple[int, ...] = (2022, 2023)


def load_dyad_series(path: str | Path) -> pd.DataFrame:
    """Read the daily GDELT dyad file: a ``date`` column (``YYYYMMDD``) and one column per pair.

    Pair columns are named ``A_B`` with two actor codes. Raises
    :class:`~model.evidence.data.InputError` naming every bad date or value.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as err:
        raise InputError([Problem(path.name, None, "-", f"cannot read: {err}")]) from err
    if "date" not in raw.columns:
        raise InputError([Problem(path.name, 1, "date", "required column missing")])
    pairs = [c for c in raw.columns if c != "date"]
    problems = [
        Problem(path.name, 1, c, "pair columns are named A_B") for c in pairs if c.count("_") != 1
    ]
    dates = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    problems += [
        Problem(path.name, i + 2, "date", f"{raw['date'][i]!r} is not YYYYMMDD")
        for i in np.flatnonzero(dates.isna())
    ]
    values = raw[pairs].apply(pd.to_numeric, errors="coerce")
    for c in pairs:
        problems += [
            Problem(path.name, i + 2, c, f"{raw[c][i]!r} is not a number")
            for i in np.flatnonzero(values[c].isna() & (raw[c] != ""))
        ]
    if problems:
        raise InputError(problems)
    return values.set_index(pd.DatetimeIndex(dates, name="date")).sort_index()


def period_means(daily: pd.DataFrame, freq: str = "Q", min_days: int = 20) -> pd.DataFrame:
    """Mean of the available days per period (``2018Q1``...); periods with fewer days are NaN."""
    grouped = daily.groupby(daily.index.to_period(freq))
    means = grouped.mean().where(grouped.count() >= min_days)
    means.index = means.index.astype(str)
    return means


def matching_series(pair: str, external: str) -> list[str]:
    """Threat series a GDELT pair informs: the partner's threat from the external actor, or both."""
    a, b = pair.split("_")
    if external in (a, b):
        partner = b if a == external else a
        return [series_name(partner, external)]
    return [series_name(a, b), series_name(b, a)]


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation over the positions where both are finite (NaN if fewer than 3)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    dx, dy = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = np.sqrt((dx**2).sum() * (dy**2).sum())
    return float((dx * dy).sum() / den) if den > 0 else float("nan")


def _ranks(v: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank), 1-based."""
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    sorted_v = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation over the positions where both are finite."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    return pearson(_ranks(x[ok]), _ranks(y[ok]))


def year_change(values: pd.Series, year: int) -> float:
    """Mean of ``year``'s periods minus the mean of the previous year's (labels ``YYYY...``)."""
    years = values.index.str[:4].astype(int)
    now, before = values[years == year].mean(), values[years == year - 1].mean()
    return float(now - before)


def theta_by_period(theta: xr.DataArray) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Posterior mean and central 94% interval of ``theta``, as (period x series) frames."""
    stacked = theta.stack(sample=("chain", "draw"))

    def frame(da: xr.DataArray) -> pd.DataFrame:
        return da.transpose("period", "series").to_pandas().rename_axis(None, axis=1)

    return (
        frame(stacked.mean("sample")),
        frame(stacked.quantile(0.03, "sample").drop_vars("quantile")),
        frame(stacked.quantile(0.97, "sample").drop_vars("quantile")),
    )


def year_change_draws(draws: np.ndarray, periods: list[str], year: int) -> np.ndarray:
    """Per draw, the mean over ``year``'s periods minus the previous year's (last axis: period)."""
    years = np.array([int(p[:4]) for p in periods])
    now, before = years == year, years == year - 1
    return draws[..., now].mean(axis=-1) - draws[..., before].mean(axis=-1)


def first_evidence(observations: pd.DataFrame, freq: str = "Q") -> dict[str, str]:
    """Period of each threat series' first hand-coded observation."""
    threat = observations[observations["kind"] == "threat"]
    names = threat["observer"] + "<-" + threat["target"]
    periods = threat["date"].dt.to_period(freq)
    return {s: str(periods[names == s].min()) for s in sorted(set(names))}


def compare(
    theta: xr.DataArray,
    gdelt: pd.DataFrame,
    external: str,
    evidence_start: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per (GDELT pair, matching threat series): correlations and the 2022/2023 moves.

    Parameters
    ----------
    theta
        Posterior draws of theta, dims ``(chain, draw, series, period)``,
        periods labelled like ``2022Q1``.
    gdelt
        GDELT period means, (period x pair), as :func:`period_means` returns.
    external
        The external actor's code (decides which series a pair matches).
    evidence_start
        Per series, the first period with hand-coded threat evidence; if
        given, correlations are also computed from that period on (before
        it the posterior is the prior's random walk, not evidence).

    Returns
    -------
    pandas.DataFrame
        ``pair, series, quarters, pearson, spearman`` (posterior mean theta
        against the reversed GDELT series, over the quarters both cover),
        ``quarters_evidence, pearson_evidence, spearman_evidence`` (the same
        from the series' first evidence on) and, per year Y of
        :data:`MOVE_YEARS`: ``minus_gdelt_change_Y`` (change of the reversed series'
        yearly mean, in its standard deviations), ``theta_change_Y``
        (posterior mean change of theta's yearly mean), ``p_same_sign_Y``
        (posterior probability that theta moved the way GDELT did) and
        ``agree_Y`` (the posterior mean change has the GDELT change's sign).
    """
    theta_mean = theta_by_period(theta)[0]
    rows = []
    for pair in gdelt.columns:
        proxy = -gdelt[pair].dropna()  # reversed: up = more conflict, like threat
        for s in matching_series(pair, external):
            if s not in theta_mean.columns:
                continue
            common = proxy.index.intersection(theta_mean.index)
            th, px = theta_mean.loc[common, s], proxy.loc[common]
            row = {
                "pair": pair,
                "series": s,
                "quarters": len(common),
                "pearson": pearson(th.to_numpy(), px.to_numpy()),
                "spearman": spearman(th.to_numpy(), px.to_numpy()),
            }
            start = (evidence_start or {}).get(s)
            late = common[common >= start] if start else common[:0]
            row["quarters_evidence"] = len(late)
            row["pearson_evidence"] = pearson(th[late].to_numpy(), px[late].to_numpy())
            row["spearman_evidence"] = spearman(th[late].to_numpy(), px[late].to_numpy())
            draws = theta.sel(series=s, period=list(common)).transpose(..., "period").to_numpy()
            sd = float(px.std())
            for year in MOVE_YEARS:
                dg = year_change(px, year) / sd
                dt = year_change_draws(draws, list(common), year)
                row[f"minus_gdelt_change_{year}"] = dg
                row[f"theta_change_{year}"] = float(dt.mean())
                row[f"p_same_sign_{year}"] = float((np.sign(dt) == np.sign(dg)).mean())
                row[f"agree_{year}"] = bool(np.sign(dt.mean()) == np.sign(dg))
            rows.append(row)
    return pd.DataFrame(rows)


def compare_run(
    idata: xr.DataTree, gdelt_daily: pd.DataFrame, observations: pd.DataFrame, external: str
) -> tuple[pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """Compare a fit with the GDELT dyad series; the one entry point of the comparison script.

    Returns the comparison table (:func:`compare`), theta's (mean, low,
    high) frames on the GDELT quarters, and the GDELT quarterly means.
    """
    gdelt = period_means(gdelt_daily)
    theta = idata.posterior["theta"]
    frames = theta_by_period(theta)
    table = compare(theta, gdelt, external, first_evidence(observations))
    return table, tuple(f.loc[gdelt.index] for f in frames), gdelt
