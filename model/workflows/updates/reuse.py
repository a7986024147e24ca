"""Fits by reweighting an earlier fit's draws where the importance weights allow it.

Workflows that fit one case many times under small changes (other priors,
another as-of date, a few new rows) need not draw each posterior afresh.
The posterior under the change is the anchor's posterior times the ratio of
the two joint densities, so the anchor's draws, Pareto-smoothed and
resampled (:mod:`model.inference.reweight`), estimate it. Where the smoothed weights'
shape ``k`` exceeds :data:`model.inference.convergence.PARETO_K_MAX`, or they carry too
few effective draws, or the change alters the parameter space, the fit is
drawn by NUTS (:func:`model.workflows.forecast.fit.run_forecast`) and becomes the next
anchor. This is the approximate leave-future-out scheme of Bürkner, Gabry
and Vehtari (2020), used here also for prior sensitivity.

Densities are the *plain* model's (:data:`model.generative.coordinates.PLAIN`), evaluated
at the plain variables every posterior holds whatever coordinates NUTS
moved in, so an anchor and a fit in other coordinates still compare the
same parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from model.generative.coordinates import PLAIN
from model.inference.config import SamplerConfig
from model.inference.convergence import ESS_BULK_MIN, PARETO_K_MAX
from model.inference.refit import model_for
from model.inference.reweight import anchor_record, differs, importance_weights, reweight
from model.workflows.forecast.fit import annotate, run_forecast
from model.workflows.forecast.inputs import Inputs


@dataclass(frozen=True)
class Anchor:
    """A NUTS fit others are reweighted from.

    Attributes
    ----------
    idata
        The fit.
    log_joint
        ``(chain, draw)``: its plain model's joint log density at its draws.
    label
        What it is, for the record (a run folder or a fit's name).
    """

    idata: xr.DataTree
    log_joint: np.ndarray
    label: str


@dataclass(frozen=True)
class Fit:
    """One fit of a workflow and the path it took.

    Attributes
    ----------
    idata
        The posterior, annotated (provenance and diagnostics).
    method
        ``"reweighted"`` or ``"NUTS"``.
    why
        For NUTS after a try at reweighting, why the weights were not used;
        for a reweighted fit, its Pareto k and effective draws.
    pareto_k
        Shape of the smoothed weights (``nan``: not tried).
    """

    idata: xr.DataTree
    method: str
    why: str
    pareto_k: float = float("nan")


def anchor_of(idata: xr.DataTree, inputs: Inputs, label: str) -> Anchor:
    """Make a NUTS fit an anchor: its plain model's joint density at each draw."""
    model = model_for(inputs.evidence, inputs.priors, PLAIN)
    record = anchor_record(model, idata)
    return Anchor(idata=idata, log_joint=record["log_joint"].values, label=label)


def try_reweight(
    anchor: Anchor, inputs: Inputs, config: SamplerConfig, model: pm.Model | None = None
) -> Fit:
    """Reweight ``anchor`` to the posterior of ``inputs``; ``method`` is ``""`` if not sound.

    ``model`` is the plain model of ``inputs``, if the caller has built it; by
    default the process's model of their structure
    (:func:`model.inference.refit.model_for`), so reweightings to data sets of
    one structure (a backtest's as-of fits) compile their densities once.
    """
    model = model_for(inputs.evidence, inputs.priors, PLAIN) if model is None else model
    why = differs(model, anchor.idata.posterior.to_dataset())
    if why is not None:
        return Fit(anchor.idata, "", why)
    # the weights first (the density alone compiles quickly); the deterministics only if they hold
    w = importance_weights(anchor.idata, anchor.log_joint, model)
    if w.pareto_k > PARETO_K_MAX:
        return Fit(anchor.idata, "", f"Pareto k {w.pareto_k:.2f} > {PARETO_K_MAX}", w.pareto_k)
    if w.ess < ESS_BULK_MIN:
        return Fit(anchor.idata, "", f"{w.ess:.0f} effective draws < {ESS_BULK_MIN}", w.pareto_k)
    done = reweight(
        anchor.idata,
        anchor.log_joint,
        model,
        seed=config.seed,
        anchor_folder=anchor.label,
        weights=w,
    )
    idata = done.idata
    idata.attrs["free_variables"] = json.dumps([rv.name for rv in model.free_RVs])
    how = {"anchor": anchor.label, "pareto_k": round(w.pareto_k, 4), "ess": round(w.ess)}
    idata = annotate(idata, inputs, config, reweighted=how)
    if not json.loads(idata.attrs["diagnostics"])["passed"]:
        return Fit(anchor.idata, "", "the reweighted draws fail the convergence gate", w.pareto_k)
    return Fit(
        idata, "reweighted", f"Pareto k {w.pareto_k:.2f}, {w.ess:,.0f} effective draws", w.pareto_k
    )


def fit(
    inputs: Inputs,
    config: SamplerConfig,
    anchor: Anchor | None = None,
    *,
    label: str = "",
    walk: bool = True,
) -> tuple[Fit, Anchor]:
    """Fit ``inputs`` by reweighting ``anchor`` where sound, else by NUTS.

    Returns the fit and the anchor for the next one: the same anchor after a
    reweighting; after a refit, the new NUTS fit if ``walk`` (a backtest walks
    forward from fit to fit), else still ``anchor`` (a sensitivity analysis
    measures every prior set from the one default fit, so a refit's own
    density need not be computed).
    """
    why = "no anchor"
    if anchor is not None:
        tried = try_reweight(anchor, inputs, config)
        if tried.method:
            return tried, anchor
        why = tried.why
    idata = run_forecast(inputs, config)
    if anchor is not None and not walk:
        return Fit(idata, "NUTS", why), anchor
    return Fit(idata, "NUTS", why), anchor_of(idata, inputs, label)
