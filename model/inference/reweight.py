"""A forecast update by reweighting the previous draws instead of drawing again.

A few new observations barely move the posterior. The new posterior is the
old one times the ratio of the likelihoods,
``p(theta | y_new) ∝ p(theta | y_old) p(y_new | theta) / p(y_old | theta)``,
so the draws of the last NUTS fit (the *anchor*) weighted by that ratio
estimate it without sampling. This is the approximate update of Bürkner,
Gabry and Vehtari (2020, "Approximate leave-future-out cross-validation for
Bayesian time series models"): the weights' upper tail is Pareto-smoothed
(Vehtari et al. 2024, "Pareto smoothed importance sampling"), and their
fitted shape ``k`` says whether the estimate can be trusted. Above
:data:`PARETO_K_MAX`, or when the weighted draws carry fewer than the gate's
effective draws, the update draws the posterior again with NUTS.

The ratio is exact: it is the ratio of the two models' joint densities at
each of the anchor's draws (priors and likelihood, so a changed prior is
accounted for too), computed from both models by one shared function,
:func:`log_joint`. It needs the same parameters in both models (the same
period grid, series and indicators); a new quarter or a new indicator means
a new parameter space, and NUTS.

Weighted draws are turned back into equally weighted ones by systematic
resampling within each chain (:func:`systematic_resample`), so that every
summary, figure and diagnostic reads them as it reads NUTS draws; repeated
draws lower the bulk ESS the gate checks, as they should. Reweighting always
starts from the anchor, never from an earlier reweighted run, so repeated
updates do not compound the resampling.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from model.inference.convergence import IMPORTANCE_GROUP

#: Name of the run-folder group that keeps a NUTS fit's joint log density at each
#: draw, so that an update reweighting it need not rebuild its model.
ANCHOR_GROUP = "log_joint"


@dataclass(frozen=True)
class Weights:
    """Pareto-smoothed importance weights of the anchor's draws.

    Attributes
    ----------
    weights
        ``(chain, draw)``, summing to one over all draws.
    pareto_k
        Fitted shape of the weights' upper tail.
    ess
        Effective number of draws of the weighted sample, ``1 / sum(w^2)``.
    """

    weights: np.ndarray
    pareto_k: float
    ess: float


def pareto_smoothed_weights(log_ratio: np.ndarray) -> Weights:
    """Normalised, Pareto-smoothed weights from log importance ratios.

    Parameters
    ----------
    log_ratio
        ``(chain, draw)``: log of the new over the old likelihood at each draw.
    """
    from arviz_stats.base import array_stats

    r = np.asarray(log_ratio, dtype=float)
    try:
        # arviz-stats smooths leave-one-out ratios, exp(-log_lik): pass the negative
        log_w, k = array_stats.psislw(-r.ravel(), r_eff=1.0, axis=-1)
    except ValueError:  # the largest ratios are all equal: a flat top, no tail to smooth
        log_w, k = r.ravel(), 0.0
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    return Weights(weights=w.reshape(r.shape), pareto_k=float(k), ess=float(1.0 / np.sum(w**2)))


def systematic_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Equally weighted draws of each chain: indices into that chain's draws.

    Systematic resampling takes draw ``i`` of a chain ``floor(n w_i)`` or
    ``ceil(n w_i)`` times (``w`` normalised within the chain), the least
    variance of the standard schemes, and keeps the draws in their order, so
    repeats sit next to each other and show in the autocorrelation.

    Parameters
    ----------
    weights
        ``(chain, draw)`` non-negative weights.
    rng
        The random generator (one uniform offset per chain).

    Returns
    -------
    ``(chain, draw)`` integer indices along ``draw``.
    """
    w = np.asarray(weights, dtype=float)
    n = w.shape[1]
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    u = (rng.uniform(size=(w.shape[0], 1)) + np.arange(n)) / n
    idx = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cum, u, strict=True)])
    return np.minimum(idx, n - 1)


#: Compiled programs by model and outputs, so reweightings of one model (other counts or
#: prior numbers, ``pm.set_data``) reuse them.
_BATCHED: weakref.WeakKeyDictionary[pm.Model, dict[tuple[bool, bool], Any]] = (
    weakref.WeakKeyDictionary()
)


def _batched(
    model: pm.Model, *, density: bool, deterministics: bool
) -> tuple[list[str], list[str], Callable[..., Any]]:
    """One JAX program, vectorised over ``(chain, draw)``, of constrained draws.

    Returns the free variables it takes (in order), the deterministics it
    gives after the density (if asked), and a function of the draws that
    passes the model's current ``pm.Data`` values as arguments: they are not
    constants of the program, so the program of a model is compiled once and
    serves every data set later set into it.
    """
    kept = _BATCHED.setdefault(model, {})
    if (density, deterministics) not in kept:
        kept[density, deterministics] = _compile_batched(
            model, density=density, deterministics=deterministics
        )
    names, det_names, data, fn = kept[density, deterministics]

    def call(*draws: Any) -> Any:
        return fn(*draws, *(np.asarray(d.get_value()) for d in data))

    return names, det_names, call


def _compile_batched(
    model: pm.Model, *, density: bool, deterministics: bool
) -> tuple[list[str], list[str], list[Any], Callable[..., Any]]:
    """Trace :func:`_batched`'s program: the draws vary by chain and draw, the data do not."""
    import jax
    from pymc.model.transform.conditioning import remove_value_transforms
    from pymc.sampling.jax import get_jaxified_graph
    from pytensor.graph.replace import graph_replace

    from model.inference.sampling import jax_devices

    jax_devices()  # before JAX starts, so a later fit in this process runs chains in parallel

    plain = remove_value_transforms(model)  # value variables are the constrained values
    names = [rv.name for rv in plain.free_RVs]
    det_names = [d.name for d in plain.deterministics] if deterministics else []
    dets = plain.replace_rvs_by_values(plain.deterministics) if deterministics else []
    outputs = [plain.logp()] if density else []
    data = list(plain.data_vars)
    symbols = {d: pt.tensor(name=d.name, dtype=d.dtype, shape=d.get_value().shape) for d in data}
    graph = graph_replace([*outputs, *dets], symbols, strict=False) if data else [*outputs, *dets]
    fn = get_jaxified_graph(inputs=[*plain.value_vars, *symbols.values()], outputs=graph)
    n = len(names)

    def per_draw(*args: Any) -> Any:
        return jax.vmap(jax.vmap(lambda *v: fn(*v, *args[n:])))(*args[:n])

    # the transformed copy's containers are the model's own: read the model's at each call
    originals = [model[d.name] for d in data]
    return names, det_names, originals, jax.jit(per_draw)


def log_joint(
    model: pm.Model, *, deterministics: bool = True
) -> Callable[[Mapping[str, np.ndarray]], tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Compile the model's joint log density (and deterministics) as functions of constrained draws.

    Returns a function of ``{free variable: (chain, draw, ...)}`` (the
    constrained values a posterior group holds) that gives the joint log
    density of the parameters and the evidence per draw, ``(chain, draw)``
    (in the constrained space: no Jacobian, which would cancel in a ratio
    anyway), and, with ``deterministics``, every deterministic,
    ``(chain, draw, ...)``: all a posterior group holds besides the free
    variables. One JAX program, vectorised over draws.
    """
    names, det_names, batched = _batched(model, density=True, deterministics=deterministics)

    def evaluate(draws: Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        out = batched(*(np.asarray(draws[n], dtype="float64") for n in names))
        return np.asarray(out[0]), {
            n: np.asarray(v) for n, v in zip(det_names, out[1:], strict=True)
        }

    return evaluate


def deterministics_at(model: pm.Model, draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every deterministic of ``model`` at constrained ``draws``, ``(chain, draw, ...)``.

    The second half of a reweighting, compiled only once the weights are known
    to be usable: the deterministics (the alliance tables over every dyad and
    period) cost more to compile than the density.
    """
    names, det_names, batched = _batched(model, density=False, deterministics=True)
    out = batched(*(np.asarray(draws[n], dtype="float64") for n in names))
    return {n: np.asarray(v) for n, v in zip(det_names, out, strict=True)}


def importance_weights(
    anchor: xr.DataTree, anchor_log_joint: np.ndarray, model: pm.Model
) -> Weights:
    """Compute the smoothed weights that take the anchor's draws to ``model``'s posterior.

    Only the density is compiled, so a change whose weights fail
    (:data:`PARETO_K_MAX`, too few effective draws) costs little before NUTS.
    """
    post = anchor.posterior.to_dataset()
    draws = {rv.name: post[rv.name].values for rv in model.free_RVs}
    new_log_joint, _ = log_joint(model, deterministics=False)(draws)
    return pareto_smoothed_weights(new_log_joint - anchor_log_joint)


def anchor_record(model: pm.Model, idata: xr.DataTree) -> xr.Dataset:
    """Compute the fit's :func:`log_joint` at each of its draws, for a later reweighting.

    Computed when the fit is made, from the model it was drawn from, it
    spares the first update after it a second model build and compilation.
    """
    post = idata.posterior
    values, _ = log_joint(model, deterministics=False)(
        {rv.name: post[rv.name].values for rv in model.free_RVs}
    )
    return xr.Dataset({"log_joint": (("chain", "draw"), values)})


def differs(
    model: pm.Model, posterior: xr.Dataset, variables: Sequence[pt.TensorVariable] | None = None
) -> str | None:
    """Say why ``posterior``'s draws of ``variables`` differ in meaning in ``model`` (``None``: no).

    Each variable (by default every free variable) must be in the posterior
    with the model's dims and coordinate labels: then a draw is the same
    parameter in both models.
    """
    dims = model.named_vars_to_dims
    for var in model.free_RVs if variables is None else variables:
        name = var.name
        if name not in posterior:
            return f"the previous fit has no {name}"
        have = posterior[name]
        want = dims.get(name, ())
        if tuple(have.dims[2:]) != tuple(want):
            return f"{name} has other dimensions"
        for d in want:
            if [str(c) for c in have[d].values] != [str(c) for c in model.coords[d]]:
                return f"the {d} coordinates changed"
    return None


@dataclass(frozen=True)
class Reweighted:
    """A reweighted posterior and what the reweighting measured.

    Attributes
    ----------
    idata
        The resampled run: posterior (free variables and the new model's
        deterministics), the anchor's sampler statistics of the kept draws,
        and the :data:`IMPORTANCE_GROUP` record.
    weights
        The smoothed weights of the anchor's draws.
    """

    idata: xr.DataTree
    weights: Weights


def reweight(
    anchor: xr.DataTree,
    anchor_log_joint: np.ndarray,
    model: pm.Model,
    *,
    seed: int,
    anchor_folder: str,
    weights: Weights | None = None,
) -> Reweighted:
    """Reweight the anchor's draws to ``model``'s posterior and resample them.

    Parameters
    ----------
    anchor
        The anchor run (a NUTS fit): its posterior holds every free variable.
    anchor_log_joint
        ``(chain, draw)``: the anchor model's :func:`log_joint` at its draws.
    model
        The model of the new evidence; :func:`differs` must find no difference.
    seed
        Seeds the resampling, so that a seed gives the same draws.
    anchor_folder
        Recorded with the weights, so that a later update finds the anchor.
    weights
        The anchor's :func:`importance_weights` for ``model``, if the caller
        has computed them (to judge them before paying for the rest).
    """
    from model.inference.sampling import to_datatree

    post = anchor.posterior.to_dataset()
    draws = {rv.name: post[rv.name].values for rv in model.free_RVs}
    # every deterministic is evaluated in the new model: some read the evidence itself
    # (a dyad's state given its period's codes), not only the parameters
    if weights is None:
        new_log_joint, dets = log_joint(model)(draws)
        w = pareto_smoothed_weights(new_log_joint - anchor_log_joint)
    else:
        w, dets = weights, deterministics_at(model, draws)
    idx = systematic_resample(w.weights, np.random.default_rng(seed))

    def kept(x: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, idx.reshape(idx.shape + (1,) * (x.ndim - 2)), axis=1)

    stats = anchor.sample_stats.to_dataset()
    idata = to_datatree(
        model,
        {n: kept(v) for n, v in (draws | dets).items()},
        {n: kept(stats[n].values) for n in stats.data_vars},
        tune=int(post.attrs.get("tuning_steps", 0)),
    )
    # the anchor's sampler settings, not its sampling time: nothing was sampled here
    idata.posterior.attrs.update(
        {k: v for k, v in post.attrs.items() if k not in ("sampling_time", "created_at")}
        | {"reweighted_from": anchor_folder}
    )
    idata[IMPORTANCE_GROUP] = xr.Dataset(
        {
            "anchor_log_joint": (("chain", "draw"), np.asarray(anchor_log_joint)),
            "weight": (("chain", "draw"), w.weights),
            "draw_index": (("chain", "draw"), idx),
        },
        attrs={"anchor": anchor_folder, "pareto_k": w.pareto_k, "ess": w.ess, "seed": seed},
    )
    return Reweighted(idata=idata, weights=w)
