"""One fit: build the model from the inputs, sample it, and record what produced the draws.

:func:`run_forecast` is where sampling happens for every analysis: it builds
the model (:func:`model.generative.build.build_model`), samples it on the
stock samplers (:func:`model.inference.sampling.sample`) and attaches the
provenance (data and prior hashes, seed, sampler settings, package
versions) and the convergence gate's verdict
(:func:`model.inference.convergence.diagnostics`).
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import xarray as xr

from model.evidence.aggregate import REPORT_PERIODS
from model.inference.config import SamplerConfig
from model.inference.convergence import diagnostics
from model.inference.refit import model_for
from model.inference.sampling import sample
from model.workflows.forecast.inputs import Inputs

__all__ = ["annotate", "run_forecast", "versions"]


def versions() -> dict[str, str]:
    """Return the versions of Python and of the packages behind a fit, for its provenance."""
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
                    "versions": versions(),
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
        :func:`model.workflows.forecast.inputs.load_case`).
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
    start = time.perf_counter()
    model = model_for(inputs.evidence, inputs.priors)
    built = time.perf_counter()
    idata = sample(model, config, progressbar=progressbar, on_chunk=on_chunk)
    sampled = time.perf_counter()
    attempts = json.loads(idata.posterior.attrs["sampling_attempts"])
    compiled = sum(a.get("compile_seconds", 0.0) for a in attempts)
    idata.attrs["sampling_attempts"] = idata.posterior.attrs["sampling_attempts"]
    idata.attrs["parametrisation"] = json.dumps(model.parametrisation.describe())
    idata = annotate(idata, inputs, config)
    stages = {
        "build": round(built - start, 2),
        "compile": round(compiled, 2),
        "sampling": round(sampled - built - compiled, 2),
        "diagnostics": round(time.perf_counter() - sampled, 2),
    }
    idata.attrs["stage_seconds"] = json.dumps(stages)
    return idata
