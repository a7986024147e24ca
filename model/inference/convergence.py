"""Rank-normalised split R-hat and bulk ESS of many quantities at once.

The convergence gate checks every free parameter and every reported
quantity: about a thousand scalars of 4,000 draws each. ArviZ computes the
rank normalisation one scalar at a time, a noticeable share of a forecast.
Here it is done for all quantities in one vectorised pass; ArviZ's own
estimators then run on the normalised draws (its ``"identity"`` ESS, and its
R-hat formula vectorised over quantities), so the numbers are ArviZ's
``rhat(method="rank")`` and ``ess(method="bulk")`` exactly
(``tests/inference/test_convergence.py``), several times faster
(``docs/performance.md``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import arviz as az
import numpy as np
import xarray as xr
from scipy.special import ndtri

#: Gate on convergence: a run that fails any of these is not to be trusted.
RHAT_MAX = 1.01
ESS_BULK_MIN = 400

#: Mass of every highest-density interval the project reports.
HDI_PROB = 0.94

#: Quantities whose convergence and precision are checked besides the free parameters.
REPORTED: tuple[str, ...] = (
    "p_axis",
    "type_prob",
    "commitment_prob",
    "cohesion_prob",
    "strategy_prob",
)


def reported_in(names: Sequence[str]) -> list[str]:
    """Pick the reported quantities from a model's variable names, in :data:`REPORTED`'s order.

    A joint model names a case's quantities ``<case>::p_axis`` and so on
    (:mod:`model.generative.joint`); each is judged like a one-case model's.
    """
    return [n for r in REPORTED for n in names if n.rsplit("::", 1)[-1] == r]


#: Largest Pareto shape of smoothed importance weights that is trusted
#: (Vehtari et al. 2024: ``min(1 - 1/log10(S), 0.7)``, 0.7 for 4,000 draws).
PARETO_K_MAX = 0.7

#: Name of the run-folder group that records how a reweighted run was made.
IMPORTANCE_GROUP = "importance"


def split_chains(draws: np.ndarray) -> np.ndarray:
    """``(chain, draw, ...)`` to ``(2 chain, draw // 2, ...)``: each chain's halves.

    With an odd number of draws the middle one is left out, as ArviZ does.
    """
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half :]], axis=0)


def average_ranks(flat: np.ndarray) -> np.ndarray:
    """Ranks (from 1) of each column's values, ties given their average rank.

    What ``scipy.stats.rankdata(flat, method="average", axis=0)`` returns
    (a column holding a NaN is all NaN), in about a third of its time on a
    thousand columns of 4,000 draws: one sort of contiguous rows, and each
    tie run's first and last position by running maxima. Ties are common in
    resampled draws (:mod:`model.inference.reweight`).

    Parameters
    ----------
    flat
        ``(n, q)`` values.
    """
    x = np.ascontiguousarray(np.asarray(flat, dtype=float).T)  # (q, n): sort along rows
    n = x.shape[1]
    order = np.argsort(x, axis=1)
    s = np.take_along_axis(x, order, axis=1)
    pos = np.broadcast_to(np.arange(n), x.shape)
    starts = np.ones(x.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones(x.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    last = n - 1 - np.maximum.accumulate(np.where(ends, n - 1 - pos, 0)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, axis=1)
    ranks[np.isnan(x).any(axis=1)] = np.nan
    return ranks.T


def z_scale(draws: np.ndarray) -> np.ndarray:
    """Replace each quantity's draws by the normal scores of their pooled ranks.

    Ranks over all chains and draws (ties averaged), Blom's offset 3/8, probit:
    the rank normalisation of Vehtari et al. (2021). ``draws`` is ``(chain, draw, q)``.
    """
    flat = draws.reshape(-1, draws.shape[-1])
    ranks = average_ranks(flat)
    n = flat.shape[0]
    return ndtri((ranks - 3 / 8) / (n - 2 * 3 / 8 + 1)).reshape(draws.shape)


def rank_diagnostics(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalised split R-hat and bulk ESS of each quantity.

    Parameters
    ----------
    draws
        ``(chain, draw, quantity)``.

    Returns
    -------
    r_hat, ess_bulk
        ``(quantity,)`` each; ``nan`` where ArviZ gives ``nan`` (non-finite
        draws; R-hat of a single chain).
    """
    draws = np.asarray(draws, dtype=float)
    split = split_chains(draws)
    median = np.median(split.reshape(-1, split.shape[-1]), axis=0)
    # the two rank normalisations are independent and NumPy's sorts release the GIL
    with ThreadPoolExecutor(2) as pool:
        bulk_job = pool.submit(z_scale, split)
        tail = z_scale(np.abs(split - median))
        bulk = bulk_job.result()

    if draws.shape[0] < 2:  # split halves of one chain are not chains: no R-hat
        r_hat = np.full(draws.shape[-1], np.nan)
    else:
        r_hat = np.maximum(potential_scale_reduction(bulk), potential_scale_reduction(tail))
    per_quantity = xr.DataArray(np.moveaxis(bulk, -1, 0), dims=("quantity", "chain", "draw"))
    ess = az.ess(per_quantity, method="identity").values
    return r_hat, ess


def potential_scale_reduction(z: np.ndarray) -> np.ndarray:
    """R-hat of every quantity at once, ArviZ's formula (``rhat(method="identity")``).

    ``sqrt((B / W + n - 1) / n)`` with ``B`` ``n`` times the variance of the
    chain means and ``W`` the mean within-chain variance (Gelman et al. 2013);
    ``nan`` where every draw is the same. ``z`` is ``(chain, draw, q)``.
    """
    n = z.shape[1]
    between = n * z.mean(axis=1).var(axis=0, ddof=1)
    within = z.var(axis=1, ddof=1).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def dataset_diagnostics(ds: xr.Dataset) -> tuple[xr.Dataset, xr.Dataset]:
    """:func:`rank_diagnostics` of every variable of a posterior dataset.

    Returns R-hat and bulk ESS datasets shaped like ``ds`` without its
    ``chain`` and ``draw`` dims, as ``az.rhat(ds)`` and ``az.ess(ds)`` are.
    """
    names = list(ds.data_vars)
    blocks = [ds[n].transpose("chain", "draw", ...) for n in names]
    stacked = np.concatenate(
        [b.values.reshape(b.shape[0], b.shape[1], -1) for b in blocks], axis=-1
    )
    r_hat, ess = rank_diagnostics(stacked)
    out_r, out_e = {}, {}
    start = 0
    for name, block in zip(names, blocks, strict=True):
        dims, shape = block.dims[2:], block.shape[2:]
        size = int(np.prod(shape, dtype=int))
        coords = {d: block.coords[d] for d in dims if d in block.coords}
        out_r[name] = xr.DataArray(
            r_hat[start : start + size].reshape(shape), dims=dims, coords=coords
        )
        out_e[name] = xr.DataArray(
            ess[start : start + size].reshape(shape), dims=dims, coords=coords
        )
        start += size
    return xr.Dataset(out_r), xr.Dataset(out_e)


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
    post = idata.posterior.to_dataset()
    names = json.loads(idata.attrs.get("free_variables", "[]")) + reported_in(list(post))
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
    weights = idata[IMPORTANCE_GROUP].attrs
    return bool(weights["pareto_k"] <= PARETO_K_MAX and weights["ess"] >= ESS_BULK_MIN)
