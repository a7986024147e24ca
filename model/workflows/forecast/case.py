"""``axis forecast`` without its output: load a case, fit it, stack rival theories, summarise.

The command-level function :func:`forecast_case` returns a
:class:`ForecastResult`; :mod:`model.outputs.forecast_run` writes and shows it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import xarray as xr

from model.evidence.priors import load_priors
from model.inference.config import SamplerConfig
from model.workflows.common.hooks import Hooks
from model.workflows.common.inputs import CaseFiles, check_prior_shapes, refusing
from model.workflows.common.timing import StageTimer
from model.workflows.forecast.fit import run_forecast
from model.workflows.forecast.inputs import Inputs, load_case_files
from model.workflows.forecast.summary import summarise
from model.workflows.forecast.theories import fit_theories

__all__ = ["ForecastResult", "forecast_case"]


@dataclass
class ForecastResult:
    """A forecast, ready to be shown and written (:mod:`model.outputs.forecast_run`).

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
        outcome evidence (:mod:`model.workflows.forecast.theories`); the weights and
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
        inputs = load_case_files(files, as_of=as_of, horizon=horizon)
    if hooks.fitting is not None:
        hooks.fitting(inputs, config)
    idata = run_forecast(inputs, config, progressbar=hooks.progressbar, on_chunk=hooks.on_chunk)
    timer.update(json.loads(idata.attrs["stage_seconds"]))
    if rivals:
        with refusing():
            sets = [load_priors(p) for p in rivals]
            for priors in sets:
                check_prior_shapes(priors, inputs.actors, inputs.evidence)
        with timer.stage("theories"):
            stacked = fit_theories(inputs, sets, config, main=idata)
        idata.attrs["stacked"] = json.dumps(stacked.record())
    return ForecastResult(inputs, idata, summarise(idata), timer)
