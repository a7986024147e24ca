"""Fit many data sets of one structure with one model and one compiled sampler.

Two kinds of many: prior sets on one case's evidence (a sensitivity analysis,
rival theories, the Table 2 sweep), which :func:`model_for` serves by keeping
the built model of each (evidence, prior structure) and setting the prior's
numbers into it; and simulated data sets, which :class:`Refitter` serves.

Simulation-based calibration and parameter recovery fit the same model to
hundreds of simulated data sets that differ only in their counts. The model
is built once with its counts in ``pm.Data`` containers
(:func:`model.generative.build.build_model` with ``shared_data=True``); each data set is
set into it and drawn by :func:`model.inference.sampling.sample`, the sampler every
forecast uses, which keeps the compiled program of a model and takes the
counts as its arguments. So calibration checks the forecast's own sampler.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import numpy as np
import pymc as pm

from model.evidence.aggregate import Evidence, same_structure, structure_key
from model.evidence.priors import PriorSet
from model.generative.build import build_model
from model.generative.coordinates import Parametrisation
from model.generative.graph import DATA_FIELDS
from model.generative.prior_data import prior_structure, set_priors
from model.inference.config import SamplerConfig
from model.inference.sampling import sample

#: How many built models a process keeps (each holds its compiled programs): a
#: fit's and the plain model its reweightings read, for two structures.
KEPT_MODELS = 4

_MODELS: OrderedDict[tuple[str, Any], pm.Model] = OrderedDict()


def model_for(
    evidence: Evidence, priors: PriorSet, parametrisation: Parametrisation | None = None
) -> pm.Model:
    """Return the model of ``(evidence, priors)``, built once per structure of both.

    A model already built in this process for evidence of the same structure
    (:func:`model.evidence.aggregate.same_structure`: other counts, such as an
    as-of fit's masked evidence, :func:`model.evidence.aggregate.on_grid`) and
    a prior set of the same structure
    (:func:`model.generative.prior_data.prior_structure`) gets ``evidence``'s
    counts and ``priors``' numbers and is returned, so its compiled programs
    serve this fit too: a sensitivity analysis, a stacked forecast or a
    backtest compiles once per structure, not once per fit. Its coordinates
    are the ones chosen for the first data set; every parametrisation has
    the same posterior. Otherwise the model is built with its counts as data
    (:func:`model.generative.build.build_model`) and kept, the least recently
    used of :data:`KEPT_MODELS` making way.

    Parameters
    ----------
    evidence
        The counts to fit.
    priors
        The prior set.
    parametrisation
        The coordinates (``None``: chosen from the data,
        :data:`model.generative.coordinates.PLAIN`: the model's own).

    Returns
    -------
    pm.Model
        The model, holding ``evidence`` and ``priors``; it is shared, so use
        it before the next call.
    """
    key = (structure_key(evidence), prior_structure(priors), parametrisation)
    model = _MODELS.get(key)
    if model is None:
        model = build_model(evidence, priors, parametrisation, shared_data=True)
        _MODELS[key] = model
        while len(_MODELS) > KEPT_MODELS:
            _MODELS.popitem(last=False)
    else:
        _MODELS.move_to_end(key)
        set_counts(model, evidence)
        set_priors(model, priors)
    return model


def set_counts(model: pm.Model, evidence: Evidence) -> None:
    """Put ``evidence``'s counts into a model built with its counts as data."""
    with model:
        pm.set_data({f: np.asarray(getattr(evidence, f), dtype=float) for f in DATA_FIELDS})


#: Settings of a refit: fixed draws (ranks need a known count) and fewer chains.
REFIT = SamplerConfig(draws=500, tune=500, chains=2)


class Refitter:
    """A model of a fixed evidence structure, built once, fitted to many data sets.

    Parameters
    ----------
    template
        Evidence with the structure every data set will share; it also
        chooses the coordinates (:func:`model.generative.reparam.choose`).
    priors
        The prior set.
    config
        Sampler settings.
    """

    def __init__(self, template: Evidence, priors: PriorSet, config: SamplerConfig | None = None):
        self.template = template
        self.config = config or REFIT
        self.model = build_model(template, priors, shared_data=True)
        self.last_attempts: list[dict[str, Any]] = []

    def set_evidence(self, evidence: Evidence) -> None:
        """Put a data set's counts into the model (same structure as the template)."""
        if not same_structure(self.template, evidence):
            raise ValueError("evidence does not have the template's structure")
        set_counts(self.model, evidence)

    def log_density(self, evidence: Evidence, point: dict[str, np.ndarray]) -> float:
        """Joint log density at a point of the unconstrained (value-variable) space."""
        self.set_evidence(evidence)
        return float(self.model.compile_logp()(point))

    def fit(self, evidence: Evidence, seed: int) -> dict[str, np.ndarray]:
        """Sample the posterior given ``evidence``, reproducibly from ``seed``.

        Returns
        -------
        dict
            Every free variable (constrained) and deterministic, shaped
            ``(chain, draw, ...)``, plus ``diverging (chain, draw)``.
        """
        from dataclasses import replace

        self.set_evidence(evidence)
        # vectorised chains: refits run beside one another (a worker each), a core each
        idata = sample(self.model, replace(self.config, seed=seed, chain_method="vectorized"))
        # how the fit went: a divergent first attempt was redrawn at a higher target
        self.last_attempts = json.loads(idata.posterior.attrs["sampling_attempts"])
        post = idata.posterior.to_dataset()
        out = {n: post[n].values for n in post.data_vars}
        out["diverging"] = idata.sample_stats["diverging"].values
        return out
