"""Figures of a fit. Each takes the posterior and optional axes and returns the figure.

The predictive-check and rank figures are ArviZ plots, which lay out their
own grid: they take the checks tree
(:func:`model.workflows.validation.predictive.run_checks`) or the
posterior and no axes.

Nothing here shows or saves: the caller decides (the run folder saves PNGs,
a notebook shows them).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from model.inference.convergence import HDI_PROB
from model.theory.threat import LEVEL_ANCHORS

if TYPE_CHECKING:
    from arviz_plots import PlotCollection


def _figure(axes: Axes | np.ndarray | None, n: int = 1, **kw) -> tuple[Figure, np.ndarray]:
    if axes is None:
        fig, axes = plt.subplots(n, 1, squeeze=False, **kw)
        return fig, axes.ravel()
    arr = np.atleast_1d(axes).ravel()
    return arr[0].figure, arr


def _period_of(idata: xr.DataTree, role: str) -> str:
    """Period label of a report role (``last_evidence``, ``now``, ``horizon``)."""
    return json.loads(idata.attrs["report_periods"])[role]


def _period_marks(ax: Axes, idata: xr.DataTree, periods: list[str]) -> None:
    roles = json.loads(idata.attrs["report_periods"])
    for role, style in (("last_evidence", ":"), ("now", "--")):
        x = periods.index(roles[role])
        ax.axvline(x, color="0.4", ls=style, lw=1)
        ax.annotate(
            role.replace("_", " "),
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="0.3",
        )


def _ticks(ax: Axes, periods: list[str]) -> None:
    step = max(1, len(periods) // 10)
    ax.set_xticks(
        range(0, len(periods), step), periods[::step], rotation=45, ha="right", fontsize=7
    )


def plot_axis_fan(idata: xr.DataTree, axes: Axes | None = None) -> Figure:
    """P(axis) per period: posterior mean and HDI band, with the evidence and now marks.

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.
    axes
        Axes to draw on (one); ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on; shown in a notebook, saved by the run folder.
    """
    fig, (ax,) = _figure(axes, figsize=(8, 3.2))
    p = idata.posterior["p_axis"]
    periods = [str(x) for x in p["period"].values]
    hdi = az.hdi(p, prob=HDI_PROB)
    x = np.arange(len(periods))
    ax.fill_between(
        x,
        hdi.sel(ci_bound="lower"),
        hdi.sel(ci_bound="upper"),
        alpha=0.3,
        label=f"{HDI_PROB:.0%} HDI",
    )
    ax.plot(x, p.mean(("chain", "draw")), lw=2, label="posterior mean")
    _period_marks(ax, idata, periods)
    _ticks(ax, periods)
    ax.set_ylabel("P(axis)")
    ax.set_title("Probability that every partner balances in every dyad")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_dyad_types(
    idata: xr.DataTree, report: str = "last_evidence", axes: np.ndarray | None = None
) -> Figure:
    """Alliance-type probabilities per dyad, posterior mean with HDI whiskers.

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.
    report
        The report period: ``last_evidence`` (the paper's), ``now`` or ``horizon``.
    axes
        One axes per dyad; ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    post = idata.posterior
    dyads = [str(d) for d in post["dyad"].values]
    fig, axs = _figure(axes, n=len(dyads), figsize=(7, 2.6 * len(dyads)), sharex=True)
    for ax, d in zip(axs, dyads, strict=False):
        da = post["type_prob"].sel(dyad=d, window=_period_of(idata, report))
        mean = da.mean(("chain", "draw")).values
        hdi = az.hdi(da, prob=HDI_PROB)
        types = [str(t) for t in da["alliance_type"].values]
        y = np.arange(len(types))
        err = np.stack(
            [mean - hdi.sel(ci_bound="lower").values, hdi.sel(ci_bound="upper").values - mean]
        )
        ax.barh(y, mean, xerr=np.clip(err, 0, None), color="C0", alpha=0.8, ecolor="0.3")
        ax.set_yticks(y, types, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{d}: alliance type ({report.replace('_', ' ')})", fontsize=10)
    axs[-1].set_xlabel("probability")
    fig.tight_layout()
    return fig


def plot_outcomes(
    idata: xr.DataTree, report: str = "last_evidence", axes: np.ndarray | None = None
) -> Figure:
    """Plot commitment and cohesion per dyad and for the whole axis (weakest link).

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.
    report
        The report period: ``last_evidence``, ``now`` or ``horizon``.
    axes
        Two axes (commitment, cohesion); ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    post = idata.posterior
    fig, axs = _figure(axes, n=2, figsize=(7, 5.5))
    for ax, what in zip(axs, ("commitment", "cohesion"), strict=False):
        units = {
            str(d): post[f"{what}_prob"].sel(dyad=d, window=_period_of(idata, report))
            for d in post["dyad"].values
        }
        units["axis (weakest link)"] = post[f"axis_{what}"].sel(window=_period_of(idata, report))
        levels = [str(v) for v in post["outcome_level"].values]
        width = 0.8 / len(units)
        for i, (name, da) in enumerate(units.items()):
            ax.bar(
                np.arange(len(levels)) + i * width, da.mean(("chain", "draw")), width, label=name
            )
        ax.set_xticks(np.arange(len(levels)) + 0.4 - width / 2, levels)
        ax.set_ylabel("probability")
        ax.set_title(f"{what.capitalize()} ({report.replace('_', ' ')})")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_threats(idata: xr.DataTree, axes: np.ndarray | None = None) -> Figure:
    """Latent threat trajectories per series with HDI bands and the level anchors.

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.
    axes
        One axes per threat series; ``None`` makes a new grid of three columns.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    theta = idata.posterior["theta"]
    series = [str(s) for s in theta["series"].values]
    periods = [str(p) for p in theta["period"].values]
    ncol = 3
    nrow = int(np.ceil(len(series) / ncol))
    if axes is None:
        fig, grid = plt.subplots(
            nrow, ncol, figsize=(11, 2.4 * nrow), sharex=True, sharey=True, squeeze=False
        )
        axs = grid.ravel()
    else:
        fig, axs = _figure(axes)
    x = np.arange(len(periods))
    for ax, s in zip(axs, series, strict=False):
        da = theta.sel(series=s)
        hdi = az.hdi(da, prob=HDI_PROB)
        ax.fill_between(x, hdi.sel(ci_bound="lower"), hdi.sel(ci_bound="upper"), alpha=0.3)
        ax.plot(x, da.mean(("chain", "draw")), lw=1.5)
        for k in LEVEL_ANCHORS:
            ax.axhline(k, color="0.6", lw=0.8, ls=":")
        _period_marks(ax, idata, periods)
        ax.set_title(s, fontsize=9)
        _ticks(ax, periods)
    for ax in axs[len(series) :]:
        ax.set_visible(False)
    fig.suptitle("Latent threat (dotted lines: low|medium and medium|high anchors)", fontsize=10)
    fig.tight_layout()
    return fig


def run_figures(idata: xr.DataTree) -> dict[str, Figure]:
    """Return the standard figures of a run folder, by file stem.

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.

    Returns
    -------
    dict of str to Figure
        ``p_axis``, ``dyad_types``, ``outcomes`` and ``threats``: what
        :func:`model.workflows.common.run_folder.write_run` saves as PNGs.
    """
    return {
        "p_axis": plot_axis_fan(idata),
        "dyad_types": plot_dyad_types(idata),
        "outcomes": plot_outcomes(idata),
        "threats": plot_threats(idata),
    }


def plot_backtest(forecasts: pd.DataFrame, axes: np.ndarray | None = None) -> Figure:
    """P(axis) across as-of dates with its HDI band, and each dyad's type probabilities stacked.

    ``forecasts`` is :attr:`model.workflows.updates.backtest.Backtest.forecasts`.
    """
    dyads = sorted({c.split("|")[0] for c in forecasts.columns if "|" in c})
    fig, axs = _figure(axes, n=1 + len(dyads), figsize=(9, 2.6 * (1 + len(dyads))), sharex=True)
    x = np.arange(len(forecasts))
    ax = axs[0]
    ax.fill_between(
        x,
        forecasts["p_axis_hdi_low"],
        forecasts["p_axis_hdi_high"],
        alpha=0.3,
        label=f"{HDI_PROB:.0%} HDI",
    )
    ax.plot(x, forecasts["p_axis"], marker="o", lw=2, label="posterior mean")
    ax.set_ylabel("P(axis)")
    ax.set_title("Backtest: P(axis) at each as-of date")
    ax.legend(fontsize=8)
    for ax, dyad in zip(axs[1:], dyads, strict=False):
        cols = [c for c in forecasts.columns if c.startswith(f"{dyad}|")]
        ax.stackplot(x, forecasts[cols].to_numpy().T, labels=[c.split("|")[1] for c in cols])
        ax.set_ylim(0, 1)
        ax.set_ylabel("P(type)")
        ax.set_title(f"{dyad}: alliance-type probabilities", fontsize=10)
    axs[-1].set_xticks(x, forecasts["period"], rotation=45, ha="right", fontsize=8)
    if len(dyads):
        axs[1].legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def plot_reliability(
    targets: pd.DataFrame,
    forecasts: tuple[str, ...] = ("probs", "persistence"),
    axes: np.ndarray | None = None,
) -> Figure:
    """Reliability diagrams: forecast probability in bins against how often the event happened.

    Every (target, category) of a backtest is a binary event
    (:func:`model.workflows.updates.backtest.one_vs_rest`). A reliable
    forecast's points lie on the diagonal; the band is where 90% of a
    perfectly reliable forecast's points would fall, given each bin's count
    (binomial). One panel per forecast (the model, ``probs``, and a baseline).
    """
    from scipy.stats import binom

    from model.workflows.updates.backtest import one_vs_rest, reliability_bins

    shown = [f for f in forecasts if f in targets]
    if axes is None:  # side by side
        fig, grid = plt.subplots(1, len(shown), figsize=(4 * len(shown), 4), squeeze=False)
        axs = grid.ravel()
    else:
        fig, axs = _figure(axes)
    for ax, name in zip(axs, shown, strict=False):
        probs, hit = one_vs_rest(targets, name)
        bins = reliability_bins(probs, hit).dropna()
        mid = bins["forecast"].to_numpy()
        n = bins["n"].to_numpy()
        low = binom.ppf(0.05, n, mid) / n
        high = binom.ppf(0.95, n, mid) / n
        ax.fill_between(mid, low, high, alpha=0.25, label="90% if reliable")
        ax.plot([0, 1], [0, 1], color="grey", lw=1)
        ax.plot(mid, bins["observed"], marker="o", label="observed")
        for x, y, k in zip(mid, bins["observed"], n, strict=True):
            ax.annotate(str(k), (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("forecast probability")
        ax.set_ylabel("observed frequency")
        ax.set_title("model" if name == "probs" else name, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_history(ledger: pd.DataFrame, axes: Axes | None = None) -> Figure:
    """P(axis) across published forecasts, with HDI whiskers."""
    fig, (ax,) = _figure(axes, figsize=(8, 3))
    x = np.arange(len(ledger))
    mean = ledger["p_axis_mean"].to_numpy()
    err = np.stack([mean - ledger["p_axis_hdi_low"], ledger["p_axis_hdi_high"] - mean])
    ax.errorbar(x, mean, yerr=np.clip(err, 0, None), marker="o", capsize=3)
    ax.set_xticks(
        x,
        [f"#{i}\n{c[:10]}" for i, c in zip(ledger["id"], ledger["created"], strict=True)],
        fontsize=7,
    )
    ax.set_ylabel("P(axis), last evidence")
    ax.set_title("Published forecasts")
    return fig


def plot_psense(table: pd.DataFrame, axes: Axes | None = None) -> Figure:
    """Power-scaling sensitivity per quantity (rows) and prior family or evidence kind (columns).

    Cells above the 0.05 threshold are flagged with their diagnosis initial:
    C prior-data conflict, S strong prior / weak likelihood.

    Parameters
    ----------
    table
        The power-scaling table, :attr:`model.workflows.studies.sensitivity.Sensitivity.psense`.
    axes
        Axes to draw on (one); ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    wide = table.pivot(index="quantity", columns="component", values="sensitivity")
    diag = table.pivot(index="quantity", columns="component", values="diagnosis")
    order = list(dict.fromkeys(table["quantity"]))
    wide, diag = wide.loc[order], diag.loc[order]
    fig, (ax,) = _figure(axes, figsize=(1.6 * wide.shape[1] + 3, 0.4 * wide.shape[0] + 1.5))
    # values near 0/1 probabilities can be large; cap the colours at 1 so the rest stay readable
    im = ax.imshow(wide.to_numpy(), cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(wide.shape[1]), [c.replace(": ", ":\n") for c in wide.columns], fontsize=7)
    ax.set_yticks(range(wide.shape[0]), wide.index, fontsize=7)
    for i in range(wide.shape[0]):
        for j in range(wide.shape[1]):
            mark = {"prior-data conflict": " C", "strong prior / weak likelihood": " S"}.get(
                diag.iat[i, j], ""
            )
            ax.text(
                j, i, f"{wide.iat[i, j]:.2f}{mark}", ha="center", va="center", fontsize=6, color="w"
            )
    fig.colorbar(im, ax=ax, label="power-scaling sensitivity (CJS)", extend="max")
    ax.set_title("Prior and likelihood sensitivity at the last period with evidence")
    fig.tight_layout()
    return fig


def plot_prior_sets(comparison: pd.DataFrame, axes: Axes | None = None) -> Figure:
    """Forest plot of P(axis) (mean and 94% HDI) under each prior set.

    Parameters
    ----------
    comparison
        :attr:`model.workflows.studies.sensitivity.Sensitivity.prior_sets`.
    axes
        Axes to draw on (one); ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    fig, (ax,) = _figure(axes, figsize=(6, 0.5 * len(comparison) + 1.2))
    y = np.arange(len(comparison))
    mean = comparison["P(axis)"].to_numpy()
    err = np.stack([mean - comparison["hdi_low"], comparison["hdi_high"] - mean])
    ax.errorbar(mean, y, xerr=np.clip(err, 0, None), fmt="o", capsize=3)
    ax.set_yticks(y, comparison["prior set"])
    ax.invert_yaxis()
    ax.set_xlabel("P(axis) at the last period with evidence")
    ax.set_title("P(axis) under each prior set")
    return fig


def plot_sensitivity_page(
    prior_sets: pd.DataFrame, sweep: pd.DataFrame, thresholds: tuple[float, ...] = (0.05, 0.5)
) -> Figure:
    """One page: P(axis) with its HDI under every fit, and each dyad's types per prior set.

    The left panel puts every prior set and every Table 2 concentration on
    one axis, with the thresholds an analyst acts on drawn across, so the
    verdict's first sentence can be checked by eye. The right panels stack
    each dyad's type probabilities per prior set, so a change of modal type
    (and how close the call was) shows as a change of the largest bar.

    Parameters
    ----------
    prior_sets, sweep
        :attr:`model.workflows.studies.sensitivity.Sensitivity.prior_sets` and ``.sweep``.
    thresholds
        P(axis) thresholds to draw.

    Returns
    -------
    Figure
        The figure drawn on (A4-ish landscape).
    """
    fits = pd.concat(
        [prior_sets, sweep.assign(**{"prior set": "Table 2 total " + sweep["prior set"]})],
        ignore_index=True,
    )
    dyads = sorted({c.split("|")[0] for c in prior_sets.columns if "|" in c})
    fig = plt.figure(figsize=(11.7, 8.3), layout="constrained")
    grid = fig.add_gridspec(max(len(dyads), 1), 2, width_ratios=(1, 1.3))
    ax = fig.add_subplot(grid[:, 0])
    y = np.arange(len(fits))
    mean = fits["P(axis)"].to_numpy()
    err = np.clip(np.stack([mean - fits["hdi_low"], fits["hdi_high"] - mean]), 0, None)
    colours = ["C0"] * len(prior_sets) + ["C1"] * len(sweep)
    for i in range(len(fits)):
        ax.errorbar(mean[i], y[i], xerr=err[:, i : i + 1], fmt="o", capsize=3, color=colours[i])
    for t in thresholds:
        ax.axvline(t, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(y, fits["prior set"])
    ax.invert_yaxis()
    ax.set_xlabel(f"P(axis) at the last period with evidence ({HDI_PROB:.0%} HDI)")
    ax.set_title("P(axis): prior sets (blue), Table 2 concentrations (orange)", fontsize=10)
    types = sorted({c.split("|")[1] for c in prior_sets.columns if "|" in c})
    cmap = plt.get_cmap("tab10")
    for row, dyad in enumerate(dyads):
        bx = fig.add_subplot(grid[row, 1])
        left = np.zeros(len(prior_sets))
        for j, t in enumerate(types):
            col = f"{dyad}|{t}"
            if col not in prior_sets:
                continue
            width = prior_sets[col].to_numpy(dtype=float)
            bx.barh(np.arange(len(prior_sets)), width, left=left, color=cmap(j % 10), label=t)
            left += width
        bx.set_yticks(np.arange(len(prior_sets)), prior_sets["prior set"], fontsize=8)
        bx.invert_yaxis()
        bx.set_xlim(0, 1)
        bx.set_title(f"{dyad}: alliance type per prior set", fontsize=9)
        if row == 0:
            handles, labels = bx.get_legend_handles_labels()
    if dyads:
        fig.legend(handles, labels, loc="outside lower right", ncols=4, fontsize=7)
    fig.suptitle("Prior sensitivity of the forecast")
    return fig


def plot_sweep(comparison: pd.DataFrame, axes: np.ndarray | None = None) -> Figure:
    """P(axis) and each dyad's type probabilities against the Table 2 concentration.

    Parameters
    ----------
    comparison
        :attr:`model.workflows.studies.sensitivity.Sensitivity.sweep`.
    axes
        One axes for P(axis) and one per dyad; ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    dyads = sorted({c.split("|")[0] for c in comparison.columns if "|" in c})
    fig, axs = _figure(axes, n=1 + len(dyads), figsize=(7, 2.4 * (1 + len(dyads))), sharex=True)
    x = comparison["prior set"].astype(float).to_numpy()
    axs[0].fill_between(x, comparison["hdi_low"], comparison["hdi_high"], alpha=0.3)
    axs[0].plot(x, comparison["P(axis)"], marker="o")
    axs[0].set_ylabel("P(axis)")
    axs[0].set_xscale("log")
    axs[0].set_title("How much we trust the theory: Table 2 total concentration")
    for ax, dyad in zip(axs[1:], dyads, strict=False):
        cols = [c for c in comparison.columns if c.startswith(f"{dyad}|")]
        top = comparison[cols].max().sort_values(ascending=False).index[:4]
        for c in top:
            ax.plot(x, comparison[c], marker=".", label=c.split("|")[1])
        ax.set_ylabel("P(type)")
        ax.set_title(dyad, fontsize=9)
        ax.legend(fontsize=6)
    axs[-1].set_xlabel("total concentration per Table 2 cell (log scale)")
    fig.tight_layout()
    return fig


def plot_scenarios(frame: pd.DataFrame, period: str, axes: np.ndarray | None = None) -> Figure:
    """What-if scenarios next to the baseline.

    Top: P(axis) per scenario at ``period``, baseline and scenario means with
    their 94% HDIs. Bottom: the change each scenario makes to every dyad's
    type probabilities and P(high) commitment and cohesion at ``period``
    (rows that no scenario moves by 0.01 are left out).

    Parameters
    ----------
    frame
        :func:`model.workflows.studies.scenario.compare`'s table (or
        :func:`model.workflows.studies.scenario.run_scenario`'s).
    period
        The period label shown; a report role is resolved by the caller.
    axes
        Two axes (P(axis), changes); ``None`` makes a new figure.

    Returns
    -------
    Figure
        The figure drawn on.
    """
    at = frame[frame["period"] == period]
    names = list(dict.fromkeys(at["scenario"]))
    if axes is None:
        top = 1.2 + 0.45 * len(names)
        fig, axs = plt.subplots(
            2, 1, figsize=(9, top + 5.5), gridspec_kw={"height_ratios": [top, 5.5]}
        )
    else:
        fig, axs = _figure(axes, n=2)
    ax = axs[0]
    pa = at[at["quantity"] == "p_axis"].set_index("scenario").loc[names]
    y = np.arange(len(names))
    for offset, (mean, lo, hi, label, colour) in enumerate(
        (
            ("baseline", "baseline_hdi_low", "baseline_hdi_high", "baseline", "0.5"),
            ("value", "hdi_low", "hdi_high", "scenario", "C3"),
        )
    ):
        m = pa[mean].to_numpy()
        err = np.clip(np.stack([m - pa[lo], pa[hi] - m]), 0, None)
        ax.errorbar(
            m, y + 0.15 * (offset * 2 - 1), xerr=err, fmt="o", capsize=3, color=colour, label=label
        )
    ax.set_yticks(y, names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlabel(f"P(axis) at {period} ({HDI_PROB:.0%} HDI)")
    ax.set_title("What-if scenarios: P(axis) against the baseline")
    ax.legend(fontsize=8)

    ax = axs[1]
    rest = at[
        (at["quantity"] == "type_prob")
        | (at["quantity"].isin(["commitment", "cohesion"]) & (at["category"] == "high"))
    ]
    label = np.where(
        rest["quantity"] == "type_prob",
        rest["unit"] + ": " + rest["category"],
        rest["unit"] + ": P(high " + rest["quantity"] + ")",
    )
    wide = rest.assign(row=label).pivot_table(
        index="row", columns="scenario", values="change", sort=False
    )[names]
    wide = wide[wide.abs().max(axis=1) >= 0.01]
    if wide.empty:
        ax.text(0.5, 0.5, "no type or outcome probability moves by 0.01", ha="center")
        ax.set_axis_off()
    else:
        lim = float(np.abs(wide.to_numpy()).max())
        im = ax.imshow(wide.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(wide)), wide.index, fontsize=7)
        for i in range(wide.shape[0]):
            for j in range(wide.shape[1]):
                ax.text(j, i, f"{wide.iat[i, j]:+.2f}", ha="center", va="center", fontsize=6)
        fig.colorbar(im, ax=ax, label="change in probability")
        ax.set_title(f"Change against the baseline at {period}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_outside(
    theta_mean: pd.DataFrame,
    theta_low: pd.DataFrame,
    theta_high: pd.DataFrame,
    gdelt: pd.DataFrame,
    table: pd.DataFrame,
    axes: np.ndarray | None = None,
) -> Figure:
    """Posterior threat paths next to the reversed GDELT series, one panel per GDELT pair.

    Left axis: posterior mean theta with its 94% interval for each threat
    series the pair matches (rows of ``table``). Right axis: minus the GDELT
    period mean, so that both rise with conflict. Titles give the Pearson
    correlation of each series with it.
    """
    pairs = list(dict.fromkeys(table["pair"]))
    if axes is None:
        ncol = 3
        nrow = int(np.ceil(len(pairs) / ncol))
        fig, grid = plt.subplots(nrow, ncol, figsize=(12, 3.2 * nrow), squeeze=False)
        axs = grid.ravel()
    else:
        fig, axs = _figure(axes)
    periods = list(gdelt.index)
    x = np.arange(len(periods))
    for ax, pair in zip(axs, pairs, strict=False):
        rows = table[table["pair"] == pair]
        for r, colour in zip(rows.itertuples(), ("C0", "C2"), strict=False):
            s = r.series
            ax.fill_between(
                x,
                theta_low.loc[periods, s],
                theta_high.loc[periods, s],
                color=colour,
                alpha=0.15,
                lw=0,
            )
            ax.plot(x, theta_mean.loc[periods, s], color=colour, lw=1.6, label=f"theta {s}")
        twin = ax.twinx()
        twin.plot(x, -gdelt[pair], color="C3", lw=1.2, ls="--", label=f"-GDELT {pair}")
        twin.tick_params(labelsize=7, colors="C3")
        for year in ("2022Q1", "2023Q1"):
            if year in periods:
                ax.axvline(periods.index(year), color="0.5", lw=0.8, ls=":")
        ax.set_title(
            f"{pair}: " + ", ".join(f"{r.series} r={r.pearson:+.2f}" for r in rows.itertuples()),
            fontsize=8,
        )
        _ticks(ax, periods)
        handles = ax.get_legend_handles_labels()
        extra = twin.get_legend_handles_labels()
        ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=6, loc="upper left")
    for ax in axs[len(pairs) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Posterior threat (left axis, 94% interval) against minus the GDELT dyad series "
        "(right axis, quarterly mean; up = more conflict)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# ------------------------------------------------------------ predictive checks

_CHECK_VARIABLES = {
    "threat": ("threat", "code_count", "series"),
    "conduct": ("behaviour", "conduct_count", "conduct_unit"),
    "outcome": ("behaviour", "outcome_count", "outcome_unit"),
}


def _arviz_figure(pc: PlotCollection, title: str | None = None) -> Figure:
    """Return the matplotlib figure of an ArviZ plot collection, with a title."""
    fig = pc.get_viz("figure")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_predictive_counts(checks: xr.DataTree, kind: str = "threat") -> Figure:
    """Observed code counts per unit against counts replicated from the prior and the posterior.

    One panel per unit (threat series, directed pair, dyad outcome) of
    ArviZ's predictive interval plot: black dots are the observed count of
    each code, grey bars the prior predictive and blue bars the posterior
    predictive 50% and 94% intervals.
    """
    import arviz_plots as azp

    tree, var, unit = _CHECK_VARIABLES[kind]
    dt = checks[tree]
    observed = dt["observed_data"][var]
    units = [str(u) for u in observed[unit].values]
    codes = [str(c) for c in observed[observed.dims[1]].values]
    pc = None
    groups = [g for g in ("prior_predictive", "posterior_predictive") if g in dt]
    for group in groups:
        colour = "0.65" if group == "prior_predictive" else "C0"
        pc = azp.plot_ppc_interval(
            dt,
            var_names=var,
            group=group,
            backend="matplotlib",
            ci_probs=(0.5, HDI_PROB),
            plot_collection=pc,
            cols=[unit],
            col_wrap=3,
            figure_kwargs={"figsize": (11, 1.8 * int(np.ceil(len(units) / 3)) + 0.6)},
            visuals={
                "xlabel": False,
                "ylabel": False,
                "title": False,
                "trunk": {"color": colour},
                "twig": {"color": colour},
                "prediction_markers": {"color": colour},
                "observed_markers": {"color": "black", "zorder": 5},
            },
        )
    fig = _arviz_figure(
        pc,
        f"{kind.capitalize()} codes: observed (black), prior (grey) and posterior (blue) "
        "predictive 50%/94% intervals",
    )
    for ax, name in zip(fig.axes, units, strict=False):
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(len(codes)), codes, fontsize=7)
    fig.tight_layout()
    return fig


def plot_threat_loo_pit(checks: xr.DataTree) -> Figure:
    """LOO-PIT Δ-ECDF of the threat cells' total code score, with its simultaneous envelope."""
    import arviz_plots as azp

    pc = azp.plot_loo_pit(
        checks["threat"],
        var_names="cell_score",
        backend="matplotlib",
        figure_kwargs={"figsize": (7, 3)},
        visuals={"title": False},
    )
    fig = _arviz_figure(pc, "Threat evidence: LOO-PIT of each cell's total code score")
    fig.tight_layout()
    return fig


def plot_rank_diagnostics(
    idata: xr.DataTree, var_names: list[str], coords: dict[str, list] | None = None
) -> Figure:
    """Rank Δ-ECDF per chain for the given posterior variables (flat if the chains agree)."""
    import arviz_plots as azp

    post = idata.posterior
    per_draw = post.sizes["chain"] * post.sizes["draw"]
    panels = (
        sum(
            post[v].sel({k: c for k, c in (coords or {}).items() if k in post[v].dims}).size
            for v in var_names
        )
        // per_draw
    )
    pc = azp.plot_rank(
        idata,
        var_names=var_names,
        coords=coords,
        backend="matplotlib",
        col_wrap=4,
        figure_kwargs={"figsize": (11, 2.1 * int(np.ceil(panels / 4)) + 0.6)},
    )
    fig = _arviz_figure(pc, "Rank plots: fractional rank Δ-ECDF per chain")
    fig.tight_layout()
    return fig


def plot_sbc_ecdf(
    ranks: pd.DataFrame,
    n_ranks: int,
    quantities: list[str],
    axes: np.ndarray | None = None,
    *,
    prob: float = 0.95,
) -> Figure:
    """ECDF-difference plots of SBC ranks with simultaneous bands (Säilynoja et al. 2022).

    Each panel is one quantity: the ECDF of its fractional ranks minus the
    uniform CDF. Under calibration the whole curve stays inside the band with
    probability ``prob``.

    Parameters
    ----------
    ranks
        One row per simulation, one column per quantity (ranks 0..``n_ranks``).
    n_ranks
        ``L``, the number of posterior draws each rank counts over.
    quantities
        Columns to draw, one panel each.
    axes
        Optional axes, one per quantity.
    prob
        Simultaneous coverage of the band.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    n = len(quantities)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    if axes is None:
        fig, grid = plt.subplots(rows, cols, squeeze=False, figsize=(3.2 * cols, 2.4 * rows))
        axes = grid.ravel()
        for ax in axes[n:]:
            ax.set_visible(False)
    fig, axes = _figure(axes)
    rng = np.random.default_rng(0)
    for ax, q in zip(axes, quantities, strict=False):
        r = ranks[q].to_numpy(dtype=float)
        pit = (r + rng.random(r.shape)) / (n_ranks + 1)  # continuous under uniform ranks
        x, ecdf, lower, upper = ecdf_pit(pit, prob, 1000, rng=np.random.default_rng(1))
        ax.fill_between(x, lower - x, upper - x, step="post", color="0.85", lw=0)
        ax.step(x, ecdf - x, where="post", color="C0", lw=1)
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(q, fontsize=7)
        ax.tick_params(labelsize=6)
    fig.supxlabel("fractional rank", fontsize=8)
    fig.supylabel("ECDF - uniform", fontsize=8)
    fig.tight_layout()
    return fig
