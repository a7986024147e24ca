"""Fitting, diagnostics, the summary every run reports, and the run folder.

One shared function, :func:`summarise`, turns a posterior into the numbers an
analyst reads; the console table, ``summary.json``, ``summary.csv`` and the
plots are all views of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from model.convergence import dataset_diagnostics
from model.data import COLUMNS, Actors, atomic_folder, default_as_of, load_actors, read_observations
from model.evidence import REPORT_PERIODS, Evidence, aggregate
from model.nuts import STATE_GROUP, sample_numpyro, splice_chains
from model.priors import PriorSet, load_priors
from model.theory import OUTSIDE_THEORY

#: Gate on convergence: a run that fails any of these is not to be trusted.
RHAT_MAX = 1.01
ESS_BULK_MIN = 400
HDI_PROB = 0.94

SAMPLERS: tuple[str, ...] = ("numpyro", "nutpie", "pymc")

#: Quantities whose convergence the gate checks besides the free parameters.
REPORTED = ("p_axis", "type_prob", "commitment_prob", "cohesion_prob", "strategy_prob")


@dataclass(frozen=True)
class SamplerConfig:
    """How to sample. Defaults are the ones the benchmark chose."""

    draws: int = 1000
    tune: int = 300
    chains: int = 4
    seed: int = 20250630
    sampler: str = "numpyro"
    target_accept: float = 0.95
    #: If a run diverges, it is drawn again once at this acceptance target
    #: (smaller steps): with numpyro only the chains that diverged, otherwise
    #: the whole run; ``None`` never retries.
    retry_target_accept: float | None = 0.99


@dataclass(frozen=True)
class Inputs:
    """Everything a fit reads, validated, with the hashes that identify it."""

    actors: Actors
    observations: pd.DataFrame
    evidence: Evidence
    priors: PriorSet
    data_sha256: str
    as_of: date


def cache_dir() -> Path:
    """Where compiled samplers are cached between runs (``AXIS_CACHE`` overrides)."""
    return Path(os.environ.get("AXIS_CACHE", Path.home() / ".cache" / "axis-forecast"))


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
    Without ``as_of`` the case's rule decides (:func:`model.data.default_as_of`:
    today for a live case, the newest observation for a historical one).
    """
    as_of = as_of or default_as_of(actors, frame)
    known = frame[frame["date"] <= pd.Timestamp(as_of)].reset_index(drop=True)
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
    for c in COLUMNS:
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
    """Read, validate and aggregate a case from files. Raises :class:`model.data.InputError`."""
    actors = load_actors(actors_path)
    frame = read_observations(data_path, actors)
    priors = load_priors(priors_path)
    return prepare_inputs(actors, frame, priors, as_of=as_of, horizon=horizon)


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


def enable_jax_cache() -> None:
    """Keep JAX's compiled programs in :func:`cache_dir`, so a later process loads, not compiles."""
    import jax

    jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def sample(
    model: pm.Model,
    config: SamplerConfig,
    *,
    progressbar: bool = False,
    warm: xr.Dataset | None = None,
    only_chains: list[int] | None = None,
) -> xr.DataTree:
    """Draw the posterior with the chosen sampler, reproducibly from ``config.seed``.

    ``warm`` is a previous run's sampler state (:func:`model.nuts.load_sampler_state`);
    the numpyro sampler starts from it when it fits, the others ignore it.
    ``only_chains`` (numpyro only) draws just those chains of the full run.
    """
    if config.sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {config.sampler!r}; choose one of {SAMPLERS}")
    kwargs: dict[str, Any] = {}
    t0 = time.perf_counter()
    if config.sampler == "numpyro":
        # numpyro's NUTS in coordinates where the posterior is rounder (model.nuts):
        # the random walks anchored at the last period with evidence, and moved at
        # the periods whose evidence pins them
        enable_jax_cache()
        idata = sample_numpyro(
            model,
            draws=config.draws,
            tune=config.tune,
            chains=config.chains,
            seed=config.seed,
            target_accept=config.target_accept,
            anchor=model.coords["window"][0],
            warm=warm,
            cache_dir=str(cache_dir() / "jax"),
            only_chains=only_chains,
        )
    else:
        if config.sampler == "nutpie":
            # nutpie's own adaptation on JAX-compiled gradients: compiles in seconds and
            # shares the persistent JAX cache (its numba backend, PyMC's default, compiles
            # for minutes)
            enable_jax_cache()
            kwargs["compile_kwargs"] = {"mode": "JAX", "gradient_backend": "jax"}
        with model:
            idata = pm.sample(
                draws=config.draws,
                tune=config.tune,
                chains=config.chains,
                random_seed=config.seed,
                target_accept=config.target_accept,
                nuts_sampler=config.sampler,
                progressbar=progressbar,
                compute_convergence_checks=False,
                **kwargs,
            )
    idata.posterior.attrs["sampling_time"] = round(time.perf_counter() - t0, 2)
    idata.attrs["free_variables"] = json.dumps([rv.name for rv in model.free_RVs])
    return idata


def diagnostics(idata: xr.DataTree) -> dict[str, Any]:
    """R-hat, bulk ESS and divergences over the free parameters and reported quantities.

    Besides the gate's worst values, ``per_variable`` keeps each variable's
    worst R-hat and smallest bulk ESS, for the report's diagnostics table.
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
        "passed": bool(r_max <= RHAT_MAX and e_min >= ESS_BULK_MIN and div == 0),
        "thresholds": {"r_hat_max": RHAT_MAX, "ess_bulk_min": ESS_BULK_MIN, "divergences": 0},
    }


def _interval(da: xr.DataArray) -> dict[str, float]:
    hdi = az.hdi(da, prob=HDI_PROB)
    return {
        "mean": float(da.mean(("chain", "draw"))),
        "hdi_low": float(hdi.sel(ci_bound="lower")),
        "hdi_high": float(hdi.sel(ci_bound="upper")),
    }


def _means(da: xr.DataArray, dim: str) -> dict[str, float]:
    m = da.mean(("chain", "draw"))
    return {str(k): float(m.sel({dim: k})) for k in m[dim].values}


def _dyads_at(post: xr.Dataset, period: str) -> dict[str, Any]:
    out = {}
    for d in post["dyad"].values:
        types = _means(post["type_prob"].sel(dyad=d, window=period), "alliance_type")
        out[str(d)] = {
            "type_probs": types,
            "modal_type": max(types, key=types.get),
            "outside_theory": sum(v for k, v in types.items() if k in OUTSIDE_THEORY),
            "commitment": _means(
                post["commitment_prob"].sel(dyad=d, window=period), "outcome_level"
            ),
            "cohesion": _means(post["cohesion_prob"].sel(dyad=d, window=period), "outcome_level"),
        }
    return out


def summarise(idata: xr.DataTree) -> dict[str, Any]:
    """Return the numbers every run reports, as a JSON-ready dict.

    ``p_axis``, ``dyads`` and ``strategies`` refer to the last period with
    evidence; ``p_axis_now`` and ``p_axis_horizon`` to the current (as-of)
    period and the end of the forecast; ``forecast`` repeats the dyads at
    those two periods.
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
    }


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
            for q, key in (
                ("type_prob", "type_probs"),
                ("commitment", "commitment"),
                ("cohesion", "cohesion"),
            ):
                for cat, val in info[key].items():
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
    warm_source: str | None = None,
    reweighted: dict[str, Any] | None = None,
) -> xr.DataTree:
    """Attach the case, report periods, provenance and diagnostics to a posterior.

    ``warm_source`` names the run a warm-started fit started from;
    ``reweighted`` records an update that reweighted an earlier fit's draws
    instead of sampling (:mod:`model.reweight`).
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
                    "warm_start": warm_source,
                    "reweighted": reweighted,
                    "as_of": inputs.as_of.isoformat(),
                    "rows": ev.n_rows,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": _versions(),
                }
            ),
        }
    )
    idata.attrs["diagnostics"] = json.dumps(diagnostics(idata))
    return idata


def run_forecast(
    inputs: Inputs,
    config: SamplerConfig,
    *,
    progressbar: bool = False,
    warm: xr.Dataset | None = None,
) -> xr.DataTree:
    """Build, sample and annotate: the posterior with its provenance and diagnostics.

    The attribute ``stage_seconds`` records where the time went, by the
    names of :data:`STAGES`.
    """
    from model.build import build_model

    start = time.perf_counter()
    model = build_model(inputs.evidence, inputs.priors)
    built = time.perf_counter()
    idata = sample(model, config, progressbar=progressbar, warm=warm)
    stages = {"build": round(built - start, 2), **sampling_stages(idata)}
    attempts = [_attempt(idata, config.target_accept)]
    retry = config.retry_target_accept
    if attempts[0]["divergences"] and retry is not None and retry > config.target_accept:
        # a divergence means a region the step size could not follow: the standard
        # remedy is smaller steps, so draw once more (same seed) before the gate judges.
        # numpyro's chains are independent: only the chains that diverged are redrawn,
        # each from its own key, starting where it ended, with the adapted mass matrix
        # (only the step size is re-tuned, for the new target)
        again = replace(config, target_accept=retry)
        if config.sampler == "numpyro":
            diverged = np.flatnonzero(idata.sample_stats["diverging"].sum("draw").values)
            chains = [int(c) for c in diverged]
            adapted = idata[STATE_GROUP].to_dataset()
            fresh = sample(model, again, warm=adapted, only_chains=chains)
            idata = splice_chains(idata, fresh, chains)
            attempts.append({**_attempt(fresh, retry), "chains": chains})
        else:
            idata = sample(model, again, progressbar=progressbar, warm=warm)
            attempts.append(_attempt(idata, retry))
        attempts[-1]["divergences_after"] = int(idata.sample_stats["diverging"].sum())
        stages["redraw"] = attempts[-1]["seconds"]
    idata.attrs["sampling_attempts"] = json.dumps(attempts)
    warmed = warm is not None and idata.posterior.attrs.get("warm_start")
    judged = time.perf_counter()
    idata = annotate(
        idata, inputs, config, warm_source=warm.attrs.get("source") if warmed else None
    )
    stages["diagnostics"] = round(time.perf_counter() - judged, 2)
    idata.attrs["stage_seconds"] = json.dumps(stages)
    return idata


def sampling_stages(idata: xr.DataTree) -> dict[str, float]:
    """Return a sampling run's stages in seconds: numpyro's own split, else one stage.

    numpyro runs record setup, NUTS, hand-over and collection
    (:func:`model.nuts.stage_seconds`); the other samplers are one stage,
    ``sampling``.
    """
    post = idata.posterior.attrs
    if "stage_seconds" in post:
        return json.loads(post["stage_seconds"])
    return {"sampling": float(post["sampling_time"])}


#: The run folder's record of where ``axis forecast`` spent its time.
TIMINGS_FILE = "timings.json"

#: What each recorded stage of ``axis forecast`` covers, in the order it runs.
STAGES = {
    "start": "import the model's libraries",
    "inputs": "read and aggregate the evidence and priors",
    "build": "build the PyMC model",
    "setup": "sampler coordinates, starting points, exported density",
    "sampling": "sampling (samplers other than numpyro)",
    "nuts": "NUTS in the slowest worker (program load or compile, warm-up, draws)",
    "workers": "worker start-up not hidden by the setup; transfer of draws",
    "collect": "deterministics of every draw",
    "redraw": "redraw of diverging chains",
    "diagnostics": "convergence gate and provenance",
    "write": "figures and the run folder",
    "checks": "prior and posterior predictive checks",
    "report": "report.html",
}


def stage_line(stages: dict[str, float], total: float) -> str:
    """One console line: the total, then every stage that took 0.05 s or more."""
    parts = [f"{name} {stages[name]:.1f}" for name in STAGES if stages.get(name, 0.0) >= 0.05]
    return f"{total:.1f} s ({', '.join(parts)})"


def _attempt(idata: xr.DataTree, target_accept: float) -> dict[str, Any]:
    """One sampling attempt, for the record: its acceptance target, divergences and time."""
    return {
        "target_accept": target_accept,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "seconds": idata.posterior.attrs.get("sampling_time"),
    }


def write_run(idata: xr.DataTree, out: Path, figures: dict[str, Any] | None = None) -> Path:
    """Write a run folder atomically: all of it appears, or none of it.

    Contents: ``posterior.nc`` (InferenceData with provenance attributes),
    ``summary.json``, ``summary.csv`` and one PNG per figure. Everything is
    written into a temporary sibling folder that is renamed into place. The
    figures are closed afterwards.
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
