"""An analyst's steps that no single workflow function takes, for notebooks and scripts.

Each is a few lines over the workflows the command line uses (loading,
:func:`model.workflows.forecast.summarise`, :mod:`model.workflows.scenario`),
so a notebook and ``axis`` give the same numbers. The package root
(:mod:`model`) exports them with the workflows themselves.
"""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import arviz as az
import pandas as pd
import xarray as xr

from model.evidence.aggregate import REPORT_PERIODS, Structure
from model.evidence.data import Actors, InputWarning, load_actors, read_observations
from model.evidence.priors import PriorSet, check_case_shapes, load_priors
from model.evidence.shipped import DEFAULT_PRIORS, prior_set_path, shipped_case
from model.evidence.store import split_new
from model.workflows import forecast
from model.workflows.forecast import HDI_PROB, Inputs, prepare_inputs, summarise

__all__ = [
    "add_observations",
    "dyad_type_table",
    "load_case",
    "load_prior_set",
    "p_axis_table",
    "run_scenario",
    "summary_dataset",
    "summary_frame",
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
        files elsewhere use :func:`model.workflows.forecast.load_inputs`.
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
        and the hash of the data used; :func:`model.workflows.forecast.run_forecast`
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
    _check_shapes(inputs)
    return inputs


def _check_shapes(inputs: Inputs) -> None:
    """Check the prior set's arrays against the case's series and steps (as the CLI does)."""
    sizes = {
        "series": len(Structure(inputs.actors).series),
        "step": len(inputs.evidence.periods) - 1,
    }
    check_case_shapes(inputs.priors, sizes)


def add_observations(inputs: Inputs, *files: str | Path, as_of: date | None = None) -> Inputs:
    """Add new observation files to a case: the evidence of an update, before its fit.

    Each file is validated by the rules of the shipped data; rows already in
    the case (the same id, or the same evidence) are skipped with a warning,
    as ``axis update`` skips them. Nothing is stored or published: refit the
    result with :func:`model.workflows.forecast.run_forecast` and compare the
    summaries with :func:`model.workflows.update.diff_summaries`. (``axis
    update`` and :func:`model.workflows.update.run_update` also keep the
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
    from model.workflows.update import read_update_files

    known = inputs.observations
    for frame, source in read_update_files([Path(f) for f in files], inputs.actors):
        new, dupes = split_new(known, frame)
        for row, why in dupes:
            warnings.warn(InputWarning(f"{source.file} row {row}: skipped, {why}"), stacklevel=2)
        known = pd.concat([known, new], ignore_index=True)
    ev = inputs.evidence
    horizon = ev.report_index[2] - ev.report_index[1]
    return prepare_inputs(inputs.actors, known, inputs.priors, as_of=as_of, horizon=horizon)


def summary_frame(fit: xr.DataTree | dict[str, Any]) -> pd.DataFrame:
    """Return a fit's summary as one long table, the run folder's ``summary.csv``.

    Parameters
    ----------
    fit
        A posterior from :func:`model.workflows.forecast.run_forecast`, or
        its :func:`model.workflows.forecast.summarise` (which is the costly part).

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
    return forecast.summary_frame(summary)


def summary_dataset(idata: xr.DataTree, hdi_prob: float = HDI_PROB) -> xr.Dataset:
    """Return the posterior's reported quantities condensed, every period, as xarray.

    Where :func:`summary_frame` holds the three report periods, this keeps
    every period of the window, labelled, for plotting or selecting:
    ``ds["p_axis"].sel(statistic="mean")`` is the fan's middle line.

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.run_forecast`.
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


def p_axis_table(fit: xr.DataTree | dict[str, Any]) -> pd.DataFrame:
    """Return P(axis) at the three report periods, with its Monte Carlo error and HDI.

    Parameters
    ----------
    fit
        A posterior from :func:`model.workflows.forecast.run_forecast`, or its summary.

    Returns
    -------
    pandas.DataFrame
        Indexed by role: ``last_evidence`` (the last period with evidence,
        the headline), ``now`` (the as-of period) and ``horizon`` (the end
        of the forecast); columns ``period``, ``mean``, ``mcse``,
        ``hdi_low``, ``hdi_high`` and ``shown``, the mean and MCSE with no
        more digits than the MCSE supports
        (:func:`model.workflows.forecast.format_probability`).
    """
    summary = fit if isinstance(fit, dict) else summarise(fit)
    keys = {"last_evidence": "p_axis", "now": "p_axis_now", "horizon": "p_axis_horizon"}
    rows = {role: summary[keys[role]] for role in REPORT_PERIODS}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[["period", "mean", "mcse", "hdi_low", "hdi_high"]]
    table["shown"] = [forecast.format_probability(r.mean, r.mcse) for r in table.itertuples()]
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
        A posterior from :func:`model.workflows.forecast.run_forecast`, or its summary.
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


def run_scenario(
    idata: xr.DataTree,
    settings: str | list[str] | None = None,
    *,
    file: str | Path | None = None,
    name: str = "scenario",
    start: str = "now",
) -> pd.DataFrame:
    """Fix chosen threats on a fit (what if?) and set the result beside the baseline.

    No refit: the threat levels are fixed on every posterior draw and the
    theory's strategies, alliance types, commitment, cohesion and P(axis)
    follow (:mod:`model.workflows.scenario`, as ``axis scenario --run``).

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.run_forecast`.
    settings
        One setting or a list making one scenario, e.g.
        ``"CHN.external=high"`` or ``["RUS.external=1.5", "PRK<-CHN=low@2026Q1"]``
        (syntax in :mod:`model.workflows.scenario`).
    file
        A scenario file with one ``[scenario.NAME]`` table per scenario
        (:func:`model.evidence.shipped.scenario_path` gives the shipped ones),
        instead of or as well as ``settings``.
    name
        The name of the scenario ``settings`` make.
    start
        The period settings without ``@PERIOD`` start from: ``now``,
        ``last_evidence`` or a period label.

    Returns
    -------
    pandas.DataFrame
        :func:`model.workflows.scenario.compare`'s long table: one row per
        (scenario, period, quantity, unit, category) with the ``baseline``
        and scenario ``value`` (posterior means) and their ``change``; for
        P(axis) also both 94% HDIs and ``p_increase``.

    Raises
    ------
    InputError
        If a setting names an unknown series, level or period.
    """
    from model.evidence.data import InputError
    from model.workflows.scenario import compare, load_scenarios, parse_scenario, posterior_draws

    if settings is None and file is None:
        raise ValueError("give settings or a scenario file")
    meta = json.loads(idata.attrs["case"])
    actors = Actors(tuple(meta["partners"]), meta["external"], start=date(1, 1, 1))
    scenarios = []
    problems = []
    if settings is not None:
        texts = [settings] if isinstance(settings, str) else list(settings)
        try:
            scenarios.append(parse_scenario(name, texts, actors, start=None))
        except InputError as err:
            problems += err.problems
    if file is not None:
        try:
            scenarios += load_scenarios(file, actors)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    return compare(posterior_draws(idata), scenarios, default_start=start)
