"""Rival theories of alliance choice, compared and stacked on the conduct and outcome evidence.

Weitsman's mapping (Table 2) is one theory of how threats turn into
strategies. Walt's balance of threat (the ``realist`` prior set) is another;
a flat mapping (``no_theory``), in which threats say nothing about what a
state does, is the baseline any theory has to beat. Each is the same model
with another strategy-mapping prior, so they differ only in how well they
predict what the states were seen doing and what their alliances became.

They are compared by PSIS-LOO on that evidence (each unit one period's
conduct and outcome codes, the likelihood's exact joint term) and combined by
stacking (Yao, Vehtari, Simpson and Gelman 2018): the weights that make the
mixture of their predictive distributions predict the left-out periods best.
The stacked P(axis) is that mixture's: draws of each theory's posterior in
proportion to its weight. It answers "what is P(axis) if we are unsure which
theory holds", which no single prior set does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from model.evidence.priors import PriorSet
from model.inference.config import SamplerConfig
from model.inference.convergence import HDI_PROB
from model.workflows.forecast.inputs import Inputs

#: The observed variable the theories are compared on.
EVIDENCE_VARIABLE = "behaviour_evidence"

#: Prior sets of the rival theories shipped with the project, by file stem.
RIVALS: tuple[str, ...] = ("realist", "no_theory")


def loo_compare(fits: Mapping[str, tuple[xr.DataTree, pm.Model | None]]) -> pd.DataFrame:
    """PSIS-LOO comparison of theories on the conduct and outcome evidence, with stacking weights.

    Each observation unit is one period's conduct and outcome evidence (the
    exact joint likelihood of that period). Returns ArviZ's compare table
    (ELPD, differences and their standard errors, and the stacking
    ``weight``), with the worst Pareto k per theory: above 0.7 a theory's
    LOO estimate, and so its weight, is not reliable.
    """
    import arviz as az

    datas = {}
    worst_k = {}
    for name, (idata, model) in fits.items():
        if "log_likelihood" not in idata.children:
            with model:
                pm.stats.compute_log_likelihood(idata, extend_inferencedata=True, progressbar=False)
        datas[name] = idata
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loo = az.loo(idata, var_name=EVIDENCE_VARIABLE, pointwise=True)
        worst_k[name] = float(np.max(loo.pareto_k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare(datas, var_name=EVIDENCE_VARIABLE, method="stacking", round_to="none")
    table["pareto_k_max"] = [worst_k[n] for n in table.index]
    return table


def mixture_draws(
    draws: Mapping[str, np.ndarray], weights: Mapping[str, float], seed: int
) -> np.ndarray:
    """Draws of the weighted mixture: each theory's draws in proportion to its weight.

    The mixture has as many draws as the smallest posterior; each theory
    gives ``round(weight * n)`` of them (largest remainders first, so the
    counts sum to ``n``), chosen without replacement and reproducibly from
    ``seed``.
    """
    flat = {k: np.asarray(v).reshape(-1) for k, v in draws.items()}
    n = min(len(v) for v in flat.values())
    names = list(flat)
    share = np.array([max(float(weights.get(k, 0.0)), 0.0) for k in names])
    share = share / share.sum()
    counts = np.floor(share * n).astype(int)
    for i in np.argsort(-(share * n - counts))[: n - counts.sum()]:
        counts[i] += 1
    rng = np.random.default_rng(seed)
    parts = [rng.choice(flat[k], size=c, replace=False) for k, c in zip(names, counts, strict=True)]
    return np.concatenate(parts)


@dataclass(frozen=True)
class Stacked:
    """Theories compared and stacked.

    Attributes
    ----------
    table
        :func:`loo_compare`'s table, one row per theory, with its ``weight``.
    p_axis
        The stacked P(axis) at the last period with evidence: ``mean``,
        ``hdi_low``, ``hdi_high``, ``period``; and each theory's own mean.
    fits
        Each theory's posterior, by name.
    """

    table: pd.DataFrame
    p_axis: dict[str, Any]
    fits: dict[str, xr.DataTree]

    @property
    def weights(self) -> dict[str, float]:
        """Stacking weight of each theory."""
        return {str(k): float(v) for k, v in self.table["weight"].items()}

    def record(self) -> dict[str, Any]:
        """Return the weights, the stacked P(axis) and each theory's ELPD, JSON-ready."""
        return {
            "p_axis": self.p_axis,
            "weights": self.weights,
            "elpd": {str(k): float(v) for k, v in self.table["elpd"].items()},
            "pareto_k_max": {str(k): float(v) for k, v in self.table["pareto_k_max"].items()},
        }


def stack(
    fits: Mapping[str, tuple[xr.DataTree, pm.Model | None]], period: str, *, seed: int = 0
) -> Stacked:
    """Compare theories by PSIS-LOO and stack their P(axis) at ``period``.

    Parameters
    ----------
    fits
        Each theory's posterior and its model (to compute the pointwise
        log-likelihood where the posterior lacks it), by name.
    period
        The period whose P(axis) is stacked (a label of the ``period`` dim).
    seed
        Seeds the choice of each theory's draws for the mixture.

    Returns
    -------
    Stacked
        The LOO table with each theory's weight, and the stacked P(axis).
    """
    from arviz_stats.base import array_stats

    table = loo_compare(fits)
    draws = {k: v[0].posterior["p_axis"].sel(period=period).values for k, v in fits.items()}
    weights = {str(k): float(w) for k, w in table["weight"].items()}
    mixed = mixture_draws(draws, weights, seed)
    low, high = array_stats.hdi(mixed, HDI_PROB)
    p_axis = {
        "mean": float(mixed.mean()),
        "hdi_low": float(low),
        "hdi_high": float(high),
        "period": period,
        "by_theory": {k: float(np.mean(v)) for k, v in draws.items()},
    }
    return Stacked(table=table, p_axis=p_axis, fits={k: v[0] for k, v in fits.items()})


def fit_theories(
    inputs: Inputs,
    rivals: list[PriorSet],
    config: SamplerConfig,
    *,
    main: xr.DataTree | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Stacked:
    """Fit the case under its own prior set and each rival's, then stack them.

    Every theory is drawn by NUTS: a rival mapping moves every Table 2 cell,
    so importance weights from one theory's draws to another's are
    degenerate (:mod:`model.workflows.updates.reuse` would refuse them anyway).

    Parameters
    ----------
    inputs
        The case with the main theory's prior set (Weitsman's by default).
    rivals
        The rival theories' prior sets (:data:`RIVALS`).
    config
        Sampler settings of every fit.
    main
        The case's fit under its own prior set, if already drawn (a forecast
        with ``--theory stacked``): then only the rivals are fitted.
    progress
        Called with ``(done, total, name)`` after each fit.

    Returns
    -------
    Stacked
        :func:`stack` of the fits at the last period with evidence.
    """
    import json

    from model.generative.build import build_model
    from model.generative.coordinates import PLAIN
    from model.workflows.forecast.fit import run_forecast

    sets = [inputs.priors, *rivals]
    fits: dict[str, tuple[xr.DataTree, pm.Model]] = {}
    for n, priors in enumerate(sets, start=1):
        case = replace(inputs, priors=priors)
        idata = main if (n == 1 and main is not None) else run_forecast(case, config)
        fits[priors.name] = (idata, build_model(case.evidence, priors, PLAIN))
        if progress:
            progress(n, len(sets), priors.name)
    first = next(iter(fits.values()))[0]
    period = json.loads(first.attrs["report_periods"])["last_evidence"]
    return stack(fits, period, seed=config.seed)
