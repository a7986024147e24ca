"""How much of the forecast comes from the priors, and from trusting the theory.

Three tools:

* power-scaling sensitivity (Kallioinen et al. 2023, ``arviz_stats.psense``)
  of the quantities analysts read, per prior family and per evidence kind,
  with Pareto-k checks of the importance weights;
* fits under whole alternative prior sets and along a sweep of the Table 2
  concentration, each by Pareto-smoothed importance reweighting of the
  default fit where the weights allow (``k <= 0.7``), else by NUTS
  (:mod:`model.workflows.updates.reuse`);
* PSIS-LOO comparison of Weitsman's mapping with Walt's on the conduct and
  outcome evidence.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import arviz_stats as azs
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from model.evidence.priors import GROUP_FAMILIES, PriorSet, load_priors
from model.inference.config import SamplerConfig
from model.inference.convergence import PARETO_K_MAX
from model.workflows.common.hooks import Hooks
from model.workflows.common.inputs import (
    CaseFiles,
    check_inputs_match,
    check_prior_shapes,
    refusing,
)
from model.workflows.common.run_folder import read_run_posterior
from model.workflows.forecast.inputs import Inputs, load_inputs
from model.workflows.forecast.theories import Stacked, stack

#: Evidence kinds, by the observed variable that carries their likelihood.
EVIDENCE: dict[str, str] = {
    "threat evidence": "threat_evidence",
    "conduct and outcome evidence": "behaviour_evidence",
}
THRESHOLD = 0.05
#: Smallest move of a probability's posterior mean, when a component's power
#: is halved or doubled, that an analyst would act on (absolute scale).
MATERIAL_PROB = 0.02
#: The same for any other quantity, in posterior standard deviations.
MATERIAL_SD = 0.25
#: How many Monte Carlo standard errors a shift must clear to be told from noise.
NOISE_Z = 2.0
#: The flagging rule, as the output states it.
FLAG_RULE = (
    f"flagged = detectable (CJS >= {THRESHOLD} and the mean shift beyond {NOISE_Z:g} "
    f"chain-split MCSEs) and material (posterior mean moves >= {MATERIAL_PROB} "
    "absolute when the component's power is halved or doubled)"
)


def headline_quantities(idata: xr.DataTree) -> xr.Dataset:
    """Return the scalar quantities an analyst reads, at the last period with evidence.

    P(axis); each dyad's probability of its modal type, modal commitment and
    modal cohesion level; each threat series' probability of its modal level.
    The order is the order of the printed tables: the headline first.
    """
    post = idata.posterior
    last = json.loads(idata.attrs["report_periods"])["last_evidence"]
    out = {"P(axis)": post["p_axis"].sel(period=last)}
    types = post["type_prob"].sel(window=last)
    for dyad in types["dyad"].values:
        t = types.sel(dyad=dyad)
        mean = np.asarray(t.mean(("chain", "draw")))
        modal = str(t["alliance_type"].values[int(mean.argmax())])
        out[f"{dyad} {modal}"] = t.sel(alliance_type=modal)
    for outcome in ("commitment", "cohesion"):
        if f"{outcome}_prob" not in post:
            continue
        probs = post[f"{outcome}_prob"].sel(window=last)
        for dyad in probs["dyad"].values:
            o = probs.sel(dyad=dyad)
            modal = str(
                o["outcome_level"].values[int(np.asarray(o.mean(("chain", "draw"))).argmax())]
            )
            out[f"{dyad} {outcome} {modal}"] = o.sel(outcome_level=modal)
    levels = post["p_level"].sel(window=last)
    for s in levels["series"].values:
        lv = levels.sel(series=s)
        modal = str(lv["level"].values[int(np.asarray(lv.mean(("chain", "draw"))).argmax())])
        out[f"P({modal}) {s}"] = lv.sel(level=modal)
    return xr.Dataset(
        {
            k: v.drop_vars([c for c in v.coords if c not in ("chain", "draw")])
            for k, v in out.items()
        }
    )


def _pareto_k(log_density: xr.DataArray) -> float:
    """Worst Pareto k of the power-scaling importance weights (alpha 0.99 and 1.01)."""
    ks = []
    for alpha in (0.99, 1.01):
        _, k = ((alpha - 1.0) * log_density).azstats.psislw(dim=["chain", "draw"])
        ks.append(float(k))
    return max(ks)


def power_scaling(idata: xr.DataTree, model: pm.Model) -> pd.DataFrame:
    """Prior and likelihood power-scaling sensitivity of the headline quantities.

    One row per (quantity, component): each prior family of
    :data:`model.evidence.priors.GROUP_FAMILIES` is power-scaled on its own, and each
    evidence kind's likelihood on its own. ``diagnosis`` follows Kallioinen et
    al.: a prior sensitivity above :data:`THRESHOLD` with a likelihood
    sensitivity above it too is a potential prior-data conflict; without,
    a strong prior / weak likelihood. ``pareto_k`` above
    :data:`PARETO_K_MAX` marks importance weights too unreliable to trust.

    The diagnosis alone flags most cells of this model: a threat level's
    probability pinned near 0 or 1 has a large CJS distance for a move no
    one would notice. ``flagged`` is the stricter rule of :func:`flag`
    (:data:`FLAG_RULE`): the shift must be detectable beyond Monte Carlo
    noise *and* material on the quantity's own scale; ``mean_shift`` (the
    first-order move of the posterior mean when the component's power is
    doubled; negative means it falls), ``shift_mcse`` and ``reason`` say why.
    """
    with model:
        if "log_prior" not in idata.children:
            pm.stats.compute_log_prior(idata, extend_inferencedata=True, progressbar=False)
        if "log_likelihood" not in idata.children:
            pm.stats.compute_log_likelihood(idata, extend_inferencedata=True, progressbar=False)
    dt = xr.DataTree.from_dict(
        {
            "posterior": headline_quantities(idata),
            "log_prior": idata["log_prior"].to_dataset(),
            "log_likelihood": idata["log_likelihood"].to_dataset(),
        }
    )
    prior_vars = list(dt["log_prior"].data_vars)
    lik_vars = [v for v in EVIDENCE.values() if v in dt["log_likelihood"].data_vars]

    def total(group: str, names: list[str]) -> xr.DataArray:
        ds = dt[group].to_dataset()
        return sum(ds[n].sum([d for d in ds[n].dims if d not in ("chain", "draw")]) for n in names)

    rows = []
    banner = logging.getLogger("arviz_stats.psense")
    level = banner.level
    banner.setLevel(logging.ERROR)  # the table carries the diagnosis; no repeated banner
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for family, groups in GROUP_FAMILIES.items():
                names = [
                    v for v in prior_vars if any(v == g or v.startswith(f"{g}_") for g in groups)
                ]
                if not names:
                    continue
                table = azs.psense_summary(dt, prior_var_names=names, likelihood_var_names=lik_vars)
                log_c = total("log_prior", names)
                k = _pareto_k(log_c)
                for q, r in table.iterrows():
                    row = _row(q, f"prior: {family}", r["prior"], r["likelihood"], k)
                    rows.append(_with_flag(row, dt["posterior"][q], log_c))
            for kind, var in EVIDENCE.items():
                if var not in lik_vars:
                    continue
                table = azs.psense_summary(
                    dt, prior_var_names=prior_vars, likelihood_var_names=[var]
                )
                log_c = total("log_likelihood", [var])
                k = _pareto_k(log_c)
                for q, r in table.iterrows():
                    row = _row(q, f"likelihood: {kind}", r["prior"], r["likelihood"], k)
                    rows.append(_with_flag(row, dt["posterior"][q], log_c))
    finally:
        banner.setLevel(level)
    return pd.DataFrame(rows)


def mean_shift(
    quantity: xr.DataArray, log_component: xr.DataArray, *, batches: int = 4
) -> tuple[float, float]:
    """First-order move of a posterior mean when a component's power is doubled, with its MCSE.

    Power-scaling a component by ``alpha`` moves the posterior mean of a
    quantity ``x`` at the rate ``d E[x] / d log(alpha) = Cov(x, log p_c)``
    (``p_c`` the component's density), so doubling (or halving) its power
    moves the mean by about ``ln 2 * Cov``. Unlike the CJS distance this is on
    the quantity's own scale: a probability pinned near 0 or 1 can have a
    large CJS distance and yet not move by anything an analyst would notice.
    The Monte Carlo standard error comes from splitting the draws into chains
    (or, with one chain, ``batches`` contiguous batches), so autocorrelation
    is counted.

    Returns
    -------
    tuple of float
        The shift and its Monte Carlo standard error.
    """
    x = np.asarray(quantity.transpose("chain", "draw"), dtype=float)
    lc = np.asarray(log_component.transpose("chain", "draw"), dtype=float)
    if x.shape[0] < 2:
        n = x.shape[1] // batches * batches
        x, lc = x[:, :n].reshape(batches, -1), lc[:, :n].reshape(batches, -1)

    def cov(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean((a - a.mean()) * (b - b.mean())))

    shift = np.log(2.0) * cov(x.ravel(), lc.ravel())
    parts = np.array([np.log(2.0) * cov(a, b) for a, b in zip(x, lc, strict=True)])
    mcse = float(parts.std(ddof=1) / np.sqrt(len(parts))) if len(parts) > 1 else float("inf")
    return float(shift), mcse


def is_probability(quantity: xr.DataArray) -> bool:
    """Whether a quantity lives in [0, 1] (its materiality is then an absolute change)."""
    values = np.asarray(quantity)
    return bool(np.all((values >= 0.0) & (values <= 1.0)))


def flag(
    sensitivity: float,
    shift: float,
    mcse: float,
    *,
    probability: bool,
    sd: float,
    threshold: float = THRESHOLD,
) -> tuple[bool, str]:
    """Flag a (quantity, component) cell only if its shift is detectable and material.

    *Detectable*: the CJS sensitivity is at least ``threshold`` and the
    first-order mean shift (:func:`mean_shift`) is more than
    :data:`NOISE_Z` Monte Carlo standard errors from zero, so a large CJS
    distance made of noise in a tail does not count. *Material*: halving or
    doubling the component's power moves the posterior mean by at least
    :data:`MATERIAL_PROB` for a probability (absolute) or
    :data:`MATERIAL_SD` posterior standard deviations otherwise. Both are
    needed: a detectable but tiny move changes no decision, and a large
    but undetectable one is Monte Carlo error.

    Returns
    -------
    tuple
        Whether the cell is flagged, and the reason (for a flag) or the
        test it failed.
    """
    scale = f"{abs(shift):.3f}" if probability else f"{abs(shift) / sd:.2f} sd"
    if sensitivity < threshold:
        return False, f"CJS {sensitivity:.3f} < {threshold}"
    if not abs(shift) > NOISE_Z * mcse:
        return False, f"shift {shift:+.3g} within noise (MCSE {mcse:.2g})"
    material = abs(shift) >= (MATERIAL_PROB if probability else MATERIAL_SD * sd)
    if not material:
        return False, f"shift {scale} not material"
    moved = f"{shift:+.3f}" if probability else f"{shift:+.3g} ({scale})"
    return True, f"CJS {sensitivity:.3f}; mean moves {moved} +/- {mcse:.3f}"


def classify(prior: float, likelihood: float, threshold: float = THRESHOLD) -> str:
    """Kallioinen et al.'s diagnosis from a prior and a likelihood sensitivity."""
    if prior >= threshold and likelihood >= threshold:
        return "prior-data conflict"
    if prior >= threshold:
        return "strong prior / weak likelihood"
    return "fine"


def _row(
    quantity: str, component: str, prior: float, likelihood: float, k: float
) -> dict[str, Any]:
    return {
        "quantity": quantity,
        "component": component,
        "sensitivity": float(likelihood if component.startswith("likelihood") else prior),
        "prior_sensitivity": float(prior),
        "likelihood_sensitivity": float(likelihood),
        "diagnosis": classify(prior, likelihood),
        "pareto_k": k,
        "pareto_k_warning": bool(k > PARETO_K_MAX),
    }


def _with_flag(row: dict[str, Any], quantity: Any, log_component: xr.DataArray) -> dict[str, Any]:
    """Add the mean shift, its MCSE, and the flag and its reason (:func:`flag`) to a row."""
    q = quantity if isinstance(quantity, xr.DataArray) else quantity.to_dataarray().squeeze()
    shift, mcse = mean_shift(q, log_component)
    flagged, reason = flag(
        row["sensitivity"],
        shift,
        mcse,
        probability=is_probability(q),
        sd=float(q.std()),
    )
    return {**row, "mean_shift": shift, "shift_mcse": mcse, "flagged": flagged, "reason": reason}


def comparison_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """P(axis) and each dyad's modal type, one row per fit, with the path the fit took."""
    rows = []
    for res in results:
        s = res["summary"]
        row = {
            "prior set": res["label"],
            "fit": res.get("fit", "NUTS"),
            "why": res.get("why", ""),
            "P(axis)": s["p_axis"]["mean"],
            "hdi_low": s["p_axis"]["hdi_low"],
            "hdi_high": s["p_axis"]["hdi_high"],
            "divergences": s["diagnostics"]["divergences"],
        }
        for dyad, info in s["dyads"].items():
            row[dyad] = info["modal_type"]
            row[f"{dyad} P"] = info["type_probs"][info["modal_type"]]
            for t, p in info["type_probs"].items():
                row[f"{dyad}|{t}"] = p
        rows.append(row)
    return pd.DataFrame(rows)


#: The thresholds on P(axis) the verdict checks (an unlikely axis; a likely one).
AXIS_THRESHOLDS: tuple[float, ...] = (0.05, 0.5)


def _side(p: float, threshold: float) -> str:
    return "below" if p < threshold else "above"


def verdict(result: Sensitivity) -> list[str]:
    """Return plain sentences, each with its number, for the analyst to read before the tables.

    Does P(axis) stay on the same side of each threshold of
    :data:`AXIS_THRESHOLDS` under every prior set, every Table 2
    concentration and every power-scaling direction (the base mean plus or
    minus its first-order shift when a component's power is doubled or
    halved)? Which dyad's modal type changes, and under what? Which prior
    family or likelihood moves P(axis) most, and how many cells the flagging
    rule (:data:`FLAG_RULE`) keeps?

    Parameters
    ----------
    result
        What :func:`run_sensitivity` returned.

    Returns
    -------
    list of str
        The sentences, most important first: ``axis sensitivity`` prints them
        above its tables and opens its report with them.
    """
    sets, sweep, psense = result.prior_sets, result.sweep, result.psense
    base = sets.iloc[0]
    p0 = float(base["P(axis)"])
    fits = pd.concat([sets, sweep.assign(**{"prior set": "Table 2 total " + sweep["prior set"]})])
    lines = []
    axis_rows = psense[psense["quantity"] == "P(axis)"]
    shifts = axis_rows["mean_shift"].abs() if "mean_shift" in axis_rows else pd.Series([0.0])
    scaled = (p0 - float(shifts.max()), p0 + float(shifts.max()))
    lo, hi = float(fits["P(axis)"].min()), float(fits["P(axis)"].max())
    for threshold in AXIS_THRESHOLDS:
        side = _side(p0, threshold)
        crossed = fits[fits["P(axis)"].map(lambda p, t=threshold: _side(p, t)) != side]
        scale_ok = all(_side(min(max(p, 0.0), 1.0), threshold) == side for p in scaled)
        if crossed.empty and scale_ok:
            lines.append(
                f"P(axis) stays {side} {threshold:g} under every prior set and concentration "
                f"({lo:.3f} to {hi:.3f}; {base['prior set']} {p0:.3f}) and every power-scaling "
                f"direction ({scaled[0]:.4f} to {scaled[1]:.4f})."
            )
        else:
            who = ", ".join(f"{r['prior set']} {r['P(axis)']:.3f}" for _, r in crossed.iterrows())
            lines.append(
                f"P(axis) ({base['prior set']} {p0:.3f}) crosses {threshold:g} under "
                f"{who or 'power-scaling'} (power-scaled range {scaled[0]:.3f} to {scaled[1]:.3f})."
            )
    dyads = [c for c in sets.columns if "|" not in c and c.count("-") == 1 and " " not in c]
    changed = []
    for dyad in dyads:
        moved = fits[fits[dyad] != base[dyad]]
        for _, r in moved.iterrows():
            changed.append(
                f"{dyad} becomes {r[dyad]} ({r[f'{dyad} P']:.2f}) under {r['prior set']}, "
                f"not {base[dyad]} ({base[f'{dyad} P']:.2f})"
            )
    if changed:
        lines.append("Modal types that change: " + "; ".join(changed) + ".")
    else:
        lines.append(
            "Every dyad keeps its modal type under every prior set and concentration: "
            + ", ".join(f"{d} {base[d]} ({base[f'{d} P']:.2f})" for d in dyads)
            + "."
        )
    if "mean_shift" in axis_rows and len(axis_rows):
        top = axis_rows.loc[axis_rows["mean_shift"].abs().idxmax()]
        moved = f"{top['mean_shift']:+.2g} when its power is doubled, CJS {top['sensitivity']:.3f}"
        if abs(top["mean_shift"]) >= MATERIAL_PROB:
            lines.append(f"{top['component']} moves P(axis) most ({moved}).")
        else:
            lines.append(
                f"No prior family or likelihood moves P(axis) by {MATERIAL_PROB} or more "
                f"(largest: {top['component']}, {moved})."
            )
        flagged = psense[psense["flagged"]]
        if len(flagged):
            counts = flagged["component"].value_counts()
            lines.append(
                f"{len(flagged)} of {len(psense)} (quantity, component) cells are flagged as "
                f"detectable and material; the most by {counts.index[0]} ({counts.iloc[0]}), "
                "then " + ", ".join(f"{c} ({n})" for c, n in counts.iloc[1:].items()) + "."
            )
        else:
            lines.append(f"None of {len(psense)} (quantity, component) cells is flagged.")
    if result.loo is not None and "weight" in result.loo and len(result.loo) > 1:
        w = result.loo["weight"]
        lines.append(
            f"On the conduct and outcome evidence the stacking weight goes mostly to "
            f"{w.idxmax()} ({w.max():.2f})."
        )
    return lines


def sweep_sets(base: PriorSet, totals: list[float]) -> list[tuple[str, PriorSet]]:
    """One prior set per total concentration of the Table 2 mapping."""
    return [(f"{t:g}", base.scaled_concentration("strategy_map", t)) for t in totals]


@dataclass
class Sensitivity:
    """Everything ``axis sensitivity`` computes.

    Attributes
    ----------
    psense
        Power-scaling table (:func:`power_scaling`).
    prior_sets, sweep
        :func:`comparison_table` of the prior-set fits and of the sweep.
    loo
        :func:`~model.workflows.forecast.theories.loo_compare` of Weitsman against the
        rivals, with each theory's stacking weight.
    base
        The default fit (NUTS), with its log prior and likelihood.
    stacked
        The theories stacked (:func:`model.workflows.forecast.theories.stack`): the
        weights and the stacked P(axis).
    """

    psense: pd.DataFrame
    prior_sets: pd.DataFrame
    sweep: pd.DataFrame
    loo: pd.DataFrame
    base: xr.DataTree
    stacked: Stacked


def run_sensitivity(
    inputs: Inputs,
    rival: PriorSet,
    others: list[PriorSet],
    totals: list[float],
    config: SamplerConfig,
    *,
    baseline: PriorSet | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    base: xr.DataTree | None = None,
) -> Sensitivity:
    """Power-scaling, prior sets, the concentration sweep and LOO, reusing the default fit.

    Parameters
    ----------
    inputs
        The case with its default priors (:class:`model.workflows.forecast.inputs.Inputs`).
    rival
        The rival theory's prior set (Walt's, by default), for LOO.
    others
        Further prior sets to compare.
    totals
        Table 2 concentrations to sweep.
    config
        Sampler settings of every NUTS fit.
    baseline
        A third theory to stack with Weitsman's and the rival's (the flat
        ``no_theory`` mapping, by default from the command line).
    progress
        Called with ``(done, total, label)`` after each fit.
    base
        A fit of ``inputs`` already at hand (a forecast of the same evidence
        under the same priors, :func:`model.workflows.forecast.fit.run_forecast`),
        used as the default fit instead of drawing one again. Its draws are
        also the anchor every other prior set is reweighted from, so a fit
        with more draws lets more of them be reweighted. ``None``: the
        default fit is drawn with ``config``.

    Raises
    ------
    ValueError
        If ``base`` was fitted on other evidence or other priors than
        ``inputs`` (its provenance's hashes differ).

    Returns
    -------
    Sensitivity
        The power-scaling table, the prior-set and sweep comparisons, the
        LOO comparison and the default fit; ``axis sensitivity`` writes and
        plots them (:func:`model.outputs.plots.plot_psense`,
        :func:`~model.outputs.plots.plot_prior_sets`,
        :func:`~model.outputs.plots.plot_sweep`).
    """
    from dataclasses import replace as _replace

    from model.generative.build import build_model
    from model.generative.coordinates import PLAIN
    from model.workflows.forecast.summary import summarise
    from model.workflows.updates import reuse

    theories = [rival] + ([baseline] if baseline is not None else [])
    jobs = [(p.name, p) for p in [*theories, *others]] + sweep_sets(inputs.priors, totals)
    total = 1 + len(jobs)
    if base is None:
        base = reuse.fit(inputs, config, None, label=inputs.priors.name)[0].idata
    else:
        check_inputs_match(json.loads(base.attrs.get("provenance", "{}")), inputs)
    anchor = reuse.anchor_of(base, inputs, label=inputs.priors.name)
    if progress:
        progress(1, total, inputs.priors.name)
    results = [{"label": inputs.priors.name, "summary": summarise(base), "fit": "NUTS"}]
    fits: dict[str, xr.DataTree] = {}
    for n, (label, priors) in enumerate(jobs, start=2):
        done, _ = reuse.fit(
            _replace(inputs, priors=priors), config, anchor, label=label, walk=False
        )
        fits[label] = done.idata
        results.append(
            {"label": label, "summary": summarise(done.idata), "fit": done.method, "why": done.why}
        )
        if progress:
            progress(n, total, label)
    n_sets = 1 + len(theories) + len(others)
    plain = build_model(inputs.evidence, inputs.priors, PLAIN)
    psense = power_scaling(base, plain)
    compared = {f"Weitsman ({inputs.priors.name})": (base, plain)}
    for theory, label in zip(theories, ("Walt", "no theory"), strict=False):
        compared[f"{label} ({theory.name})"] = (
            fits[theory.name],
            build_model(inputs.evidence, theory, PLAIN),
        )
    period = json.loads(base.attrs["report_periods"])["last_evidence"]
    stacked = stack(compared, period, seed=config.seed)
    return Sensitivity(
        psense=psense,
        prior_sets=comparison_table(results[:n_sets]),
        sweep=comparison_table(results[n_sets:]),
        loo=stacked.table,
        base=base,
        stacked=stacked,
    )


def sensitivity_case(
    files: CaseFiles,
    rival: Path,
    prior_sets: list[Path],
    totals: list[float],
    config: SamplerConfig,
    *,
    baseline: Path | None = None,
    as_of: date | None = None,
    hooks: Hooks | None = None,
    base_run: Path | None = None,
) -> Sensitivity:
    """Read a case and its prior sets, then :func:`run_sensitivity`: ``axis sensitivity``.

    Parameters
    ----------
    files
        The case, with its baseline prior set.
    rival
        The rival theory's prior set, for LOO and stacking.
    prior_sets
        Further prior set files to compare; those named like the case's, the
        rival's or the baseline's are left out (they are fitted anyway).
    totals
        Table 2 concentrations to sweep, each finite and positive.
    config
        Sampler settings of every NUTS fit.
    baseline
        A third theory stacked with the case's and the rival's (the flat
        ``no_theory`` mapping from the command line).
    as_of
        Fit as of this date (default: the case's rule).
    hooks
        ``progress`` hears ``(fits done, fits in all, label)``, first with
        no label, before the default fit, to learn the total.
    base_run
        A forecast's run folder on the same evidence and priors: its
        posterior is the default fit, which is then not drawn again.

    Raises
    ------
    model.workflows.common.inputs.BadInputError
        If a file cannot be read, a prior set does not fit the case, a total
        is not positive or the run folder is not a fit of this case under
        these priors; nothing has run then.
    """
    with refusing():
        inputs = load_inputs(files.actors, files.observations, files.priors, as_of=as_of)
        rival_set = load_priors(rival)
        base_set = load_priors(baseline) if baseline is not None else None
        for checked in (inputs.priors, rival_set, base_set):
            if checked is not None:
                check_prior_shapes(checked, inputs.actors, inputs.evidence)
        if not all(0 < t < float("inf") for t in totals):
            raise ValueError(f"totals {totals}: every total concentration must be > 0")
        others = [
            p
            for p in (load_priors(path) for path in prior_sets)
            if p.name not in {inputs.priors.name, rival_set.name, getattr(base_set, "name", None)}
        ]
        base = None if base_run is None else read_run_posterior(base_run)[0]
        if base is not None:  # refused here, as bad input, before the progress starts
            check_inputs_match(json.loads(base.attrs["provenance"]), inputs)
    told = (hooks or Hooks()).progress
    if told is not None:
        told(0, 2 + (base_set is not None) + len(others) + len(totals), None)
    return run_sensitivity(
        inputs, rival_set, others, totals, config, baseline=base_set, progress=told, base=base
    )
