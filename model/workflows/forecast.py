"""Fitting, diagnostics, the summary every run reports, and the run folder.

One shared function, :func:`summarise`, turns a posterior into the numbers an
analyst reads; the console table, ``summary.json``, ``summary.csv`` and the
plots are all views of it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import REPORT_PERIODS, Evidence, aggregate, coders_of
from model.evidence.data import (
    CODER_COLUMN,
    COLUMNS,
    DEFAULT_CODER,
    Actors,
    atomic_folder,
    default_as_of,
    load_actors,
    read_observations,
)
from model.evidence.priors import PriorSet, load_priors
from model.inference.convergence import ESS_BULK_MIN, RHAT_MAX, dataset_diagnostics
from model.inference.sampling import REPORTED, SAMPLERS, SamplerConfig, sample
from model.theory.tables import OUTSIDE_THEORY
from model.workflows.hooks import Hooks
from model.workflows.inputs import CaseFiles, check_prior_shapes, refusing
from model.workflows.timing import StageTimer

__all__ = [
    "ESS_BULK_MIN",
    "HDI_PROB",
    "REPORTED",
    "RHAT_MAX",
    "SAMPLERS",
    "ForecastResult",
    "Inputs",
    "SamplerConfig",
    "annotate",
    "diagnostics",
    "forecast_case",
    "load_case",
    "load_inputs",
    "prepare_inputs",
    "run_forecast",
    "sample",
    "summarise",
    "write_run",
]

HDI_PROB = 0.94


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


def load_case(files: CaseFiles, *, as_of: date | None = None, horizon: int = 4) -> Inputs:
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


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "pymc",
        "pytensor",
        "arviz",
        "arviz-stats",
        "numpy",
        "numpyro",
        "jax",
        "nutpie",
        "pymc-extras",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def diagnostics(idata: xr.DataTree, *, reweighted: bool = False) -> dict[str, Any]:
    """R-hat, bulk ESS and divergences over the free parameters and reported quantities.

    Besides the gate's worst values, ``per_variable`` keeps each variable's
    worst R-hat and smallest bulk ESS, for the report's diagnostics table.

    With ``reweighted`` (draws resampled from an anchor that passed this gate
    itself) the run is judged by importance sampling's own diagnostics: the
    smoothed weights' Pareto k (at most 0.7) and their effective draws (at
    least the gate's bulk ESS). The anchor's mixing was checked on every
    parameter when it was drawn; the resampled draws repeat anchor draws, so
    their R-hat and bulk ESS measure the resampling's repeats more than the
    estimate's error, and are reported, not judged.
    """
    names = json.loads(idata.attrs.get("free_variables", "[]")) + list(REPORTED)
    post = idata.posterior.to_dataset()
    names = [n for n in names if n in post]
    rhat, ess = dataset_diagnostics(post[names])
    r_max = float(np.nanmax([np.nanmax(rhat[v].values) for v in rhat.data_vars]))
    e_min = float(np.nanmin([np.nanmin(ess[v].values) for v in ess.data_vars]))
    div = int(idata.sample_stats["diverging"].sum())
    worst = max(rhat.data_vars, key=lambda v: float(np.nanmax(rhat[v].values)))
    return {
        "r_hat_max": r_max,
        "ess_bulk_min": e_min,
        "divergences": div,
        "worst_r_hat_variable": worst,
        "per_variable": {
            v: {
                "r_hat_max": float(np.nanmax(rhat[v].values)),
                "ess_bulk_min": float(np.nanmin(ess[v].values)),
            }
            for v in rhat.data_vars
        },
        "passed": _passed(idata, r_max, e_min, div, reweighted),
        "thresholds": {"r_hat_max": RHAT_MAX, "ess_bulk_min": ESS_BULK_MIN, "divergences": 0},
        "judged": "importance weights (Pareto k, effective draws)" if reweighted else "draws",
    }


def _passed(idata: xr.DataTree, r_max: float, e_min: float, div: int, reweighted: bool) -> bool:
    """Apply the gate: to the draws of a NUTS run, to the weights of a reweighted one."""
    if not reweighted:
        return bool(r_max <= RHAT_MAX and e_min >= ESS_BULK_MIN and div == 0)
    from model.inference.reweight import IMPORTANCE_GROUP, PARETO_K_MAX

    weights = idata[IMPORTANCE_GROUP].attrs
    return bool(weights["pareto_k"] <= PARETO_K_MAX and weights["ess"] >= ESS_BULK_MIN)


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


def decimals(mcse: float, most: int = 4) -> int:
    """Decimals of a probability its Monte Carlo error supports.

    The last digit printed is the first one two standard errors can move:
    with an MCSE of 0.0004 a mean prints as 0.006, not 0.00584. At least one
    decimal, at most ``most``.
    """
    if not np.isfinite(mcse) or mcse <= 0:
        return most
    return int(min(most, max(1, -np.floor(np.log10(2 * mcse)))))


def format_probability(mean: float, mcse: float, percent: bool = False) -> str:
    """``mean ± mcse`` with no more digits than the MCSE supports.

    The last digit printed is the first one two standard errors can move
    (:func:`decimals`), so a reader is not shown digits that are noise.

    Parameters
    ----------
    mean
        A posterior mean probability.
    mcse
        Its Monte Carlo standard error.
    percent
        Print as a percentage.

    Returns
    -------
    str
        E.g. ``"0.0059 ± 0.0001"``.
    """
    if percent:
        d = max(decimals(mcse) - 2, 0)
        return f"{100 * mean:.{d}f}% ± {100 * mcse:.{d}f}"
    d = decimals(mcse)
    return f"{mean:.{d}f} ± {mcse:.{d}f}"


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


def summary_frame(summary: dict[str, Any]) -> pd.DataFrame:
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


def annotate(
    idata: xr.DataTree,
    inputs: Inputs,
    config: SamplerConfig,
    *,
    reweighted: dict[str, Any] | None = None,
) -> xr.DataTree:
    """Attach the case, report periods, provenance and diagnostics to a posterior.

    ``reweighted`` records an update that reweighted an earlier fit's draws
    instead of sampling (:mod:`model.inference.reweight`).
    """
    ev = inputs.evidence
    actors = ev.structure.actors
    idata.attrs.update(
        {
            "case": json.dumps({"partners": list(actors.partners), "external": actors.external}),
            "report_periods": json.dumps(
                {r: ev.periods[i] for r, i in zip(REPORT_PERIODS, ev.report_index, strict=True)}
            ),
            "provenance": json.dumps(
                {
                    "data_sha256": inputs.data_sha256,
                    "priors_sha256": inputs.priors.sha256,
                    "priors": inputs.priors.name,
                    "seed": config.seed,
                    "sampler": asdict(config),
                    "reweighted": reweighted,
                    "as_of": inputs.as_of.isoformat(),
                    "rows": ev.n_rows,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": _versions(),
                }
            ),
        }
    )
    idata.attrs["diagnostics"] = json.dumps(diagnostics(idata, reweighted=reweighted is not None))
    return idata


def run_forecast(
    inputs: Inputs,
    config: SamplerConfig,
    *,
    progressbar: bool = False,
    on_chunk: Any = None,
) -> xr.DataTree:
    """Build, sample and annotate: the posterior with its provenance and diagnostics.

    The attribute ``stage_seconds`` records where the time went, by the
    names of :data:`STAGES`.

    Parameters
    ----------
    inputs
        The case and priors (:func:`load_inputs`,
        :func:`model.workflows.analysis.load_case`).
    config
        How to sample: ``SamplerConfig(draws=300)`` for a quick look; the
        default draws until the reported quantities reach a bulk ESS of 1,000.
    progressbar
        Show the sampler's progress bar.
    on_chunk
        Called as ``on_chunk(draws_per_chain, smallest_bulk_ess)`` after
        each chunk of a fit to a precision.

    Returns
    -------
    xarray.DataTree
        The posterior (groups ``posterior``, ``sample_stats``, ...) with the
        attributes every summary and figure reads: ``case``,
        ``report_periods``, ``provenance`` and ``diagnostics`` (whose
        ``passed`` says whether the convergence gate passed; quote nothing
        from a fit that failed it).
    """
    from model.generative.build import build_model

    start = time.perf_counter()
    model = build_model(inputs.evidence, inputs.priors)
    built = time.perf_counter()
    idata = sample(model, config, progressbar=progressbar, on_chunk=on_chunk)
    sampled = time.perf_counter()
    idata.attrs["sampling_attempts"] = idata.posterior.attrs["sampling_attempts"]
    idata.attrs["parametrisation"] = json.dumps(model.parametrisation.describe())
    idata = annotate(idata, inputs, config)
    stages = {
        "build": round(built - start, 2),
        "sampling": round(sampled - built, 2),
        "diagnostics": round(time.perf_counter() - sampled, 2),
    }
    idata.attrs["stage_seconds"] = json.dumps(stages)
    return idata


#: The run folder's record of where ``axis forecast`` spent its time.
TIMINGS_FILE = "timings.json"

#: What each recorded stage of ``axis forecast`` covers, in the order it runs.
STAGES = {
    "start": "import the model's libraries",
    "inputs": "read and aggregate the evidence and priors",
    "build": "build the PyMC model (and choose its coordinates)",
    "sampling": "NUTS: compile or load, warm-up, draws to the precision asked",
    "diagnostics": "convergence gate and provenance",
    "theories": "rival theories fitted and stacked (--theory stacked only)",
    "write": "figures and the run folder",
    "checks": "prior and posterior predictive checks",
    "report": "report.html",
}


def stage_line(stages: dict[str, float], total: float) -> str:
    """One console line: the total, then every stage that took 0.05 s or more."""
    parts = [f"{name} {stages[name]:.1f}" for name in STAGES if stages.get(name, 0.0) >= 0.05]
    return f"{total:.1f} s ({', '.join(parts)})"


#: Draws a run's figures, by file stem (:func:`model.outputs.plots.run_figures`).
Figures = Callable[[xr.DataTree], dict[str, Any]]


def write_run(idata: xr.DataTree, out: Path, figures: dict[str, Any] | None = None) -> Path:
    """Write a run folder atomically: all of it appears, or none of it.

    Contents: ``posterior.nc`` (InferenceData with provenance attributes),
    ``summary.json``, ``summary.csv`` and one PNG per figure. Everything is
    written into a temporary sibling folder that is renamed into place. The
    figures are closed afterwards.

    Parameters
    ----------
    idata
        A posterior from :func:`run_forecast`.
    out
        The run folder; it must not exist yet.
    figures
        Figures by file stem (:func:`model.outputs.plots.run_figures`); none by default.

    Returns
    -------
    Path
        ``out``.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    try:
        with atomic_folder(out, "run folder") as tmp:
            summary = summarise(idata)
            idata.to_netcdf(tmp / "posterior.nc")
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            summary_frame(summary).to_csv(tmp / "summary.csv", index=False)
            for name, fig in (figures or {}).items():
                fig.savefig(tmp / f"{name}.png", dpi=110, bbox_inches="tight")
    finally:  # handed over: closed, or a long session (updates, tests) keeps every one
        for fig in (figures or {}).values():
            plt.close(fig)
    return out


@dataclass
class ForecastResult:
    """A forecast, ready to be shown and written (:mod:`model.outputs.run_folder`).

    Attributes
    ----------
    inputs
        What was fitted; the predictive checks need it again.
    idata
        The annotated posterior (:func:`run_forecast`).
    summary
        :func:`summarise` of the posterior.
    timer
        The command's stages so far; writing the run folder adds its own.
    """

    inputs: Inputs
    idata: xr.DataTree
    summary: dict[str, Any]
    timer: StageTimer

    @property
    def stage_seconds(self) -> dict[str, float]:
        """Seconds per stage recorded so far, by the names of :data:`STAGES`."""
        return dict(self.timer.stages)


def forecast_case(
    files: CaseFiles,
    config: SamplerConfig,
    *,
    as_of: date | None = None,
    horizon: int = 4,
    timer: StageTimer | None = None,
    hooks: Hooks | None = None,
    rivals: Sequence[Path] = (),
) -> ForecastResult:
    """Load a case, fit it and summarise the posterior: ``axis forecast`` without its output.

    Parameters
    ----------
    files
        The observations, actors and prior set to fit.
    config
        Sampler settings.
    as_of, horizon
        As in :func:`prepare_inputs`.
    timer
        The command's timer, begun before the libraries were imported;
        ``inputs`` and the fit's own stages are added to it.
    hooks
        ``fitting`` hears of the fit once its inputs are valid; ``on_chunk``
        and ``progressbar`` go to the sampler.
    rivals
        Prior sets of rival theories (``axis forecast --theory stacked``):
        each is fitted too, and the theories are stacked on the conduct and
        outcome evidence (:mod:`model.workflows.theories`); the weights and
        the stacked P(axis) go into the posterior's attributes and so into
        the summary's ``stacked``.

    Raises
    ------
    BadInputError
        If the files cannot be read or the prior set does not fit the case;
        nothing has run then. Errors of the fit itself are not wrapped.
    """
    timer = timer or StageTimer()
    hooks = hooks or Hooks()
    with refusing(), timer.stage("inputs"):
        inputs = load_case(files, as_of=as_of, horizon=horizon)
    if hooks.fitting is not None:
        hooks.fitting(inputs, config)
    idata = run_forecast(inputs, config, progressbar=hooks.progressbar, on_chunk=hooks.on_chunk)
    timer.update(json.loads(idata.attrs["stage_seconds"]))
    if rivals:
        from model.workflows.theories import fit_theories

        with refusing():
            sets = [load_priors(p) for p in rivals]
            for priors in sets:
                check_prior_shapes(priors, inputs.actors, inputs.evidence)
        with timer.stage("theories"):
            stacked = fit_theories(inputs, sets, config, main=idata)
        idata.attrs["stacked"] = json.dumps(stacked.record())
    return ForecastResult(inputs, idata, summarise(idata), timer)
