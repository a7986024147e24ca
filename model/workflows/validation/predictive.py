"""Prior and posterior predictive checks: does evidence the model replicates look like ours.

Codes are replicated from draws of the prior and of a thinned subset of the
posterior (:data:`CHECK_DRAWS`), with the same number of codes in every cell
as was observed, and compared with the observed codes unit by unit: a threat
series, a directed pair's conduct, a dyad's commitment or cohesion.

Threat evidence is replicated exactly as the model generates it: per cell, a
multinomial over the five codes with the cell's observed total and the
ordered-logistic code probabilities of the draw (the model's own ``random``).
Conduct and outcome evidence enter the model through one joint likelihood
with no random generator, so their replicator is a separate function
(:func:`replicate_behaviour`, the generative story whose likelihood
:func:`model.theory.alliance.behaviour_log_likelihood` sums). Replicators are held
in :data:`REPLICATORS`; another simulator plugs in with
:func:`register_replicator`.

A unit is flagged as fitting poorly when any of these is below
:data:`P_FLAG` (0.05):

* ``mean code``: the two-sided posterior predictive p-value of the unit's
  mean code (ordinal kinds: threat codes, outcome levels): the model puts
  the unit's typical code in the wrong place;
* ``code mix``: the posterior predictive p-value of the Pearson discrepancy
  ``sum_c (O_c - E_c)^2 / E_c`` between the unit's code counts and their
  expectation: the spread over codes is wrong even if the mean is right;
* ``LOO-PIT`` (threat series): the binomial tail probability of the number
  of the series' cells whose LOO-PIT falls outside the central 94%: more
  surprising cells than chance gives.

Posterior predictive p-values use the data twice and are conservative for a
flexible model (they pile up near 1); LOO-PIT leaves each cell out and is the
sharper check.

LOO-PIT for threat evidence. A cell holds counts of ordinal codes, not a
continuous value, so the PIT is taken of one scalar per cell, the cell's
total code score ``S = sum_c c n_c`` (the mean code times the cell's fixed
number of codes), under the leave-one-cell-out predictive distribution
(PSIS weights from the cell's log-likelihood). Ties of this discrete score
are broken uniformly at random (the randomised PIT), which is uniform under
a calibrated model. Cells with Pareto k above the sample-size threshold have
an unreliable LOO estimate; they are counted in the table, not used to flag.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr

from model.evidence.aggregate import Evidence
from model.generative.graph import _threat_logp, _threat_random
from model.inference.convergence import HDI_PROB
from model.theory.strategy import full_table
from model.theory.tables import OUTCOME_LEVELS, OUTCOMES, STRATEGIES, THREAT_CODES
from model.workflows.common.run_folder import atomic_file

#: Draws of the posterior (and of the prior) the checks replicate from.
CHECK_DRAWS = 200

#: Units with a predictive p-value below this are flagged.
P_FLAG = 0.05

#: Central interval of replicated statistics shown in tables and plots.
INTERVAL_PROB = HDI_PROB

#: A replicator: (draws with ``chain``/``draw`` dims, evidence, generator) ->
#: replicated count arrays by name (``conduct``, ``outcome``), each shaped like
#: the evidence's array with leading ``(chain, draw)``.
Replicator = Callable[[xr.Dataset, Evidence, np.random.Generator], dict[str, np.ndarray]]

#: Replicators of evidence kinds whose likelihood has no random generator.
REPLICATORS: dict[str, Replicator] = {}

#: Variables a replicator may read from a draw set (besides the threat ones).
DRAW_VARIABLES: tuple[str, ...] = (
    "theta",
    "discrimination",
    "threshold_shift",
    "level_sharpness",
    "strategy_map",
    "commitment",
    "cohesion",
    "conduct_error",
    "outcome_error",
)

SAMPLE_DIMS = ("chain", "draw")


def register_replicator(name: str) -> Callable[[Replicator], Replicator]:
    """Register a behaviour replicator under ``name`` (decorator).

    A replicator returns ``{"conduct": (chain, draw, pair, behaviour_period,
    strategy), "outcome": (chain, draw, dyad, behaviour_period, outcome,
    outcome_level)}`` counts with the evidence's totals per cell, as
    :attr:`model.evidence.aggregate.Evidence.conduct_counts` and ``outcome_counts``.
    """

    def add(fn: Replicator) -> Replicator:
        REPLICATORS[name] = fn
        return fn

    return add


# --------------------------------------------------------------------- draws


def thin_posterior(posterior: xr.Dataset, n: int = CHECK_DRAWS) -> xr.Dataset:
    """Evenly spaced draws of every chain, about ``n`` in total, chains kept."""
    per_chain = max(1, int(np.ceil(n / posterior.sizes["chain"])))
    step = max(1, posterior.sizes["draw"] // per_chain)
    return posterior.isel(draw=slice(None, None, step)).isel(draw=slice(per_chain))


def prior_draws(model: pm.Model, n: int = CHECK_DRAWS, seed: int = 0) -> xr.Dataset:
    """Draw the variables of :data:`DRAW_VARIABLES` from the prior, as a one-chain Dataset.

    Compiled in pytensor's fast-compile mode: for a few hundred draws that is
    an order of magnitude quicker than optimising the graph first.
    """
    names = [v for v in DRAW_VARIABLES if v in model.named_vars]
    values = pm.draw([model[v] for v in names], draws=n, random_seed=seed, mode="FAST_COMPILE")
    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    out = xr.Dataset()
    for name, value in zip(names, values, strict=True):
        dims = model.named_vars_to_dims.get(name, ())
        if len(dims) != value.ndim - 1:
            dims = tuple(f"{name}_dim_{i}" for i in range(value.ndim - 1))
        da = xr.DataArray(
            value[None],
            dims=(*SAMPLE_DIMS, *dims),
            coords={d: coords[d] for d in dims if d in coords},
        )
        out[name] = da
    return out.assign_coords(chain=[0], draw=np.arange(n))


# ------------------------------------------------------------ threat evidence


@functools.cache
def _code_log_probs_fn() -> Callable[..., np.ndarray]:
    import pytensor
    import pytensor.tensor as pt

    from model.theory.threat import code_log_probs

    theta, disc, shift = pt.tensor3("theta"), pt.tensor3("disc"), pt.tensor3("shift")
    return pytensor.function(
        [theta, disc, shift], code_log_probs(theta, disc, shift), mode="FAST_COMPILE"
    )


def threat_log_probs(draws: xr.Dataset, evidence: Evidence) -> np.ndarray:
    """Log code probabilities per threat cell: ``(chain, draw, threat_cell, code)``.

    The same function (:func:`model.theory.threat.code_log_probs`) the model uses,
    evaluated on each draw's latent threat, discrimination and shift.
    """
    cells = evidence.threat_cells
    theta = draws["theta"].transpose(*SAMPLE_DIMS, "series", "period").values
    disc = draws["discrimination"].transpose(*SAMPLE_DIMS, ...).values[..., cells[:, 2]]
    shift = draws["threshold_shift"].transpose(*SAMPLE_DIMS, ...).values[..., cells[:, 2]]
    if "coder_shift" in draws:  # several coders: each cell's coder moves its thresholds
        who = evidence.cell_coders()
        disc = (
            disc
            * np.exp(draws["coder_discrimination"].transpose(*SAMPLE_DIMS, ...).values)[..., who]
        )
        shift = shift + draws["coder_shift"].transpose(*SAMPLE_DIMS, ...).values[..., who]
    return _code_log_probs_fn()(theta[..., cells[:, 0], cells[:, 1]], disc, shift)


def replicate_threat(log_p: np.ndarray, evidence: Evidence, rng: np.random.Generator) -> np.ndarray:
    """Replicated threat code counts, each cell with its observed number of codes."""
    totals = evidence.threat_counts.sum(axis=1, keepdims=True)
    return _threat_random(log_p, totals, rng=rng).astype(np.int64)


def threat_cell_log_likelihood(log_p: np.ndarray, evidence: Evidence) -> np.ndarray:
    """Pointwise log-likelihood per threat cell, ``(chain, draw, threat_cell)``.

    The model's own term (:func:`model.generative.graph._threat_logp`, without the
    multinomial coefficient, which is constant per cell and so leaves PSIS
    weights unchanged), summed over codes.
    """
    totals = evidence.threat_counts.sum(axis=1, keepdims=True)
    return _threat_logp(evidence.threat_counts, log_p, totals).sum(axis=-1)


def _by_series(counts: np.ndarray, evidence: Evidence) -> np.ndarray:
    """Sum per-cell arrays ``(..., cell, code)`` into ``(..., series, code)``."""
    onehot = np.zeros((len(evidence.structure.series), len(evidence.threat_cells)))
    onehot[evidence.threat_cells[:, 0], np.arange(len(evidence.threat_cells))] = 1.0
    return np.einsum("sc,...ck->...sk", onehot, counts)


def cell_score(counts: np.ndarray) -> np.ndarray:
    """Total code score of a threat cell: ``sum_c c n_c`` (mean code times its count)."""
    return counts @ np.arange(counts.shape[-1])


# ----------------------------------------------------------------- statistics


def _sample(values: np.ndarray, dims: tuple[str, ...], coords: dict) -> xr.DataArray:
    return xr.DataArray(values, dims=(*SAMPLE_DIMS, *dims), coords=coords)


def predictive_p_values(
    observed: np.ndarray, replicated: np.ndarray, expected: np.ndarray, ordinal: bool
) -> dict[str, np.ndarray]:
    """Posterior predictive p-values and intervals per unit.

    Parameters
    ----------
    observed
        ``(unit, category)`` observed counts.
    replicated
        ``(sample, unit, category)`` replicated counts.
    expected
        ``(sample, unit, category)`` expected counts under each draw.
    ordinal
        Whether categories are ordered (then the mean category is tested too).

    Returns
    -------
    dict
        ``p_mix`` (Pearson discrepancy, one-sided: replicated at least as
        discrepant as observed), and for ordinal categories ``mean``,
        ``mean_low``, ``mean_high`` (central :data:`INTERVAL_PROB` interval of
        the replicated mean) and ``p_mean`` (two-sided tail probability).
        Units with no observations get NaN.
    """
    n = observed.sum(axis=-1)
    e = np.maximum(expected, 1e-12)
    d_obs = ((observed - e) ** 2 / e).sum(axis=-1)
    d_rep = ((replicated - e) ** 2 / e).sum(axis=-1)
    out = {"n": n, "p_mix": np.where(n > 0, (d_rep >= d_obs).mean(axis=0), np.nan)}
    if ordinal:
        k = np.arange(observed.shape[-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            m_obs = observed @ k / n
            m_rep = replicated @ k / n
        tail = (1 - INTERVAL_PROB) / 2
        upper = (m_rep >= m_obs - 1e-9).mean(axis=0)
        lower = (m_rep <= m_obs + 1e-9).mean(axis=0)
        out |= {
            "mean": m_obs,
            "mean_low": np.quantile(m_rep, tail, axis=0),
            "mean_high": np.quantile(m_rep, 1 - tail, axis=0),
            "p_mean": np.where(n > 0, np.minimum(1.0, 2 * np.minimum(upper, lower)), np.nan),
        }
    return out


def _fit_rows(kind: str, units: list[str], stats: dict[str, np.ndarray]) -> xr.Dataset:
    """One row per unit: statistics, the flag and its reasons."""
    n_units = len(units)
    nan = np.full(n_units, np.nan)
    p_mean = stats.get("p_mean", nan)
    p_mix = stats["p_mix"]
    reasons = []
    for i in range(n_units):
        why = []
        if p_mean[i] < P_FLAG:
            why.append("mean code")
        if p_mix[i] < P_FLAG:
            why.append("code mix")
        reasons.append(", ".join(why))
    return xr.Dataset(
        {
            "kind": ("unit", np.array([kind] * n_units, dtype=object)),
            "n": ("unit", stats["n"].astype(np.int64)),
            "mean": ("unit", stats.get("mean", nan)),
            "mean_low": ("unit", stats.get("mean_low", nan)),
            "mean_high": ("unit", stats.get("mean_high", nan)),
            "p_mean": ("unit", p_mean),
            "p_mix": ("unit", p_mix),
            "flagged": ("unit", np.array([bool(r) for r in reasons])),
            "reason": ("unit", np.array(reasons, dtype=object)),
        },
        coords={"unit": units},
    )


# ------------------------------------------------------------------ the checks


def threat_checks(
    posterior: xr.Dataset,
    prior: xr.Dataset | None,
    evidence: Evidence,
    rng: np.random.Generator,
) -> tuple[xr.DataTree, xr.Dataset]:
    """Predictive checks of threat evidence: an ArviZ-shaped tree and one fit row per series.

    The tree has ``observed_data``, ``posterior_predictive`` and (with a
    prior) ``prior_predictive`` groups holding ``code_count`` per (series,
    code) and ``cell_score`` per threat cell, a ``log_likelihood`` group with
    ``cell_score`` (the cell's log-likelihood), the thinned ``posterior``
    (for the relative efficiency of PSIS) and a ``loo`` group with each
    cell's LOO-PIT and Pareto k.
    """
    from arviz_stats import loo_pit

    series = list(evidence.structure.series)
    cell_names = evidence.coords["threat_cell"]
    c_series = {"series": series, "code": list(THREAT_CODES)}
    c_cells = {"threat_cell": cell_names}
    observed = evidence.threat_counts

    def predictive(draws: xr.Dataset) -> tuple[xr.Dataset, np.ndarray, np.ndarray]:
        log_p = threat_log_probs(draws, evidence)
        rep = replicate_threat(log_p, evidence, rng)
        sc = SAMPLE_DIMS
        coords = {d: draws[d].values for d in sc}
        ds = xr.Dataset(
            {
                "code_count": _sample(
                    _by_series(rep, evidence), ("series", "code"), coords
                ).assign_coords(c_series),
                "cell_score": _sample(cell_score(rep), ("threat_cell",), coords).assign_coords(
                    c_cells
                ),
            }
        )
        return ds, log_p, rep

    post_pred, log_p, rep = predictive(posterior)
    totals = observed.sum(axis=1, keepdims=True)
    expected = _by_series(totals * np.exp(log_p), evidence)
    obs_series = _by_series(observed, evidence)
    flat = (-1, len(series), len(THREAT_CODES))
    stats = predictive_p_values(
        obs_series,
        _by_series(rep, evidence).reshape(flat),
        expected.reshape(flat),
        ordinal=True,
    )
    groups = {
        "posterior": posterior[["theta"]],
        "observed_data": xr.Dataset(
            {
                "code_count": xr.DataArray(obs_series, dims=("series", "code"), coords=c_series),
                "cell_score": xr.DataArray(
                    cell_score(observed).astype(float), dims=("threat_cell",), coords=c_cells
                ),
            }
        ),
        "posterior_predictive": post_pred,
        "log_likelihood": xr.Dataset(
            {
                "cell_score": _sample(
                    threat_cell_log_likelihood(log_p, evidence),
                    ("threat_cell",),
                    {d: posterior[d].values for d in SAMPLE_DIMS},
                ).assign_coords(c_cells)
            }
        ),
    }
    if prior is not None:
        groups["prior_predictive"] = predictive(prior)[0]
    tree = xr.DataTree.from_dict(groups)

    ll = tree["log_likelihood"]["cell_score"]
    n_samples = ll.sizes["chain"] * ll.sizes["draw"]
    # thinned draws are close to independent: relative efficiency 1
    log_w, k = (-ll).azstats.psislw(r_eff=1.0, dim=list(SAMPLE_DIMS))
    pit = loo_pit(
        tree,
        var_names="cell_score",
        log_weights=xr.Dataset({"cell_score": log_w}),
        pareto_k=xr.Dataset({"cell_score": k}),
        random_state=int(rng.integers(2**31)),
    )["cell_score"]
    good_k = min(1 - 1 / np.log10(n_samples), 0.7)
    tree["loo"] = xr.DataTree(xr.Dataset({"pit": pit, "pareto_k": k}, attrs={"good_k": good_k}))

    rows = _fit_rows("threat", series, stats)
    of_cell = evidence.threat_cells[:, 0]
    tail = (1 - INTERVAL_PROB) / 2
    extreme = (pit.values < tail) | (pit.values > 1 - tail)
    n_cells = np.bincount(of_cell, minlength=len(series))
    n_extreme = np.bincount(of_cell, weights=extreme, minlength=len(series)).astype(np.int64)
    rows["cells"] = ("unit", n_cells)
    rows["pit_extreme"] = ("unit", n_extreme)
    rows["p_pit"] = ("unit", pit_excess_p_value(n_extreme, n_cells, 1 - INTERVAL_PROB))
    rows["high_k"] = (
        "unit",
        np.bincount(of_cell, weights=k.values > good_k, minlength=len(series)).astype(np.int64),
    )
    for i in np.flatnonzero(rows["p_pit"].values < P_FLAG):
        reason = str(rows["reason"].values[i])
        rows["reason"].values[i] = ", ".join(r for r in (reason, "LOO-PIT") if r)
        rows["flagged"].values[i] = True
    return tree, rows


def pit_excess_p_value(n_extreme: np.ndarray, n_cells: np.ndarray, rate: float) -> np.ndarray:
    """P(at least ``n_extreme`` of ``n_cells`` uniform PITs fall in tails of total mass ``rate``).

    Under a calibrated model each cell's LOO-PIT is uniform, so the number
    outside the central interval is binomial; a small tail probability means
    more surprising cells than chance gives.
    """
    from scipy.stats import binom

    return np.where(n_extreme > 0, binom.sf(n_extreme - 1, n_cells, rate), 1.0)


# -------------------------------------------------------- conduct and outcome


@functools.cache
def _latent_fn(structure_key: tuple[int, ...]) -> Callable[..., list[np.ndarray]]:
    """Compile ``(theta, sharpness, strategy_map)`` -> ``(p_level, q)`` batched over draws.

    The model's own functions (:func:`model.theory.threat.level_probs`,
    :func:`model.theory.strategy.strategy_given_external`) on one draw, vectorised
    over a leading sample axis.
    """
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    from model.theory.strategy import strategy_given_external
    from model.theory.threat import level_probs

    internal = np.asarray(structure_key, dtype=np.int64)
    theta, sharp, mapping = pt.matrix("theta"), pt.scalar("sharpness"), pt.tensor3("mapping")
    p_lev = level_probs(theta, sharp)
    q = strategy_given_external(p_lev[internal], mapping)
    batched = (pt.tensor3("theta_b"), pt.vector("sharpness_b"), pt.tensor4("mapping_b"))
    outs = vectorize_graph([p_lev, q], dict(zip((theta, sharp, mapping), batched, strict=True)))
    return pytensor.function(list(batched), outs, mode="FAST_COMPILE")


def _categorical(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of probabilities on the last axis."""
    u = rng.random(p.shape[:-1])[..., None]
    return np.minimum((np.cumsum(p, axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)


def _coded(counts: np.ndarray, true: np.ndarray, error: np.ndarray, rng) -> np.ndarray:
    """Replicate codes of true categories: right with ``1 - e``, else uniform.

    ``counts`` (units) observed totals, ``true`` (sample, units) true
    categories, ``error`` (sample,) rates; returns (sample, units, category).
    """
    n_cat = counts.shape[-1]
    e = error.reshape(-1, *([1] * (true.ndim - 1)), 1)
    p = (1.0 - e) * np.eye(n_cat)[true] + e / n_cat
    return rng.multinomial(counts.sum(axis=-1), p)


@register_replicator("behaviour")
def replicate_behaviour(
    draws: xr.Dataset, evidence: Evidence, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Replicate conduct and outcome codes from the model's generative story.

    Per draw and behaviour period: each partner's external level from its
    level probabilities; each directed pair's strategy from Table 2 given
    that level (its internal level summed out, as in the likelihood); each
    dyad's type from its two strategies; each dyad's true commitment and
    cohesion from Table 3 given the type; then every coded observation of
    the period (same totals as observed) a noisy reading of the truth with
    the draw's coder error rates. This is the process whose likelihood
    :func:`model.theory.alliance.behaviour_log_likelihood` sums exactly.
    """
    from model.theory.tables import type_index_matrix

    s = evidence.structure
    b = evidence.behaviour_periods
    n_chain, n_draw = draws.sizes["chain"], draws.sizes["draw"]
    n = n_chain * n_draw

    def flat(name: str, *dims: str) -> np.ndarray:
        da = draws[name].transpose(*SAMPLE_DIMS, *dims) if dims else draws[name]
        return da.values.reshape(n, *da.shape[2:])

    theta = flat("theta", "series", "period")[:, :, b]
    mapping = flat("strategy_map")
    mapping = full_table(mapping, lead=1)
    p_lev, q = _latent_fn(tuple(s.pair_internal_series))(theta, flat("level_sharpness"), mapping)
    n_partners = len(s.actors.partners)
    ext = _categorical(p_lev[:, :n_partners], rng)  # (n, partner, period)
    q_act = np.take_along_axis(q, ext[:, s.pair_actor][:, :, :, None, None], axis=3)[
        :, :, :, 0
    ]  # (n, pair, period, strategy)
    strategy = _categorical(q_act, rng)  # (n, pair, period)
    conduct = _coded(evidence.conduct_counts, strategy, flat("conduct_error"), rng)

    types = type_index_matrix()[strategy[:, s.dyad_pairs[:, 0]], strategy[:, s.dyad_pairs[:, 1]]]
    tables = np.stack([flat("commitment"), flat("cohesion")], axis=1)  # (n, outcome, type, lvl)
    idx = np.arange(n)[:, None, None, None]
    by_type = tables[idx, np.arange(2)[None, None, None, :], types[..., None]]
    truth = _categorical(by_type, rng)  # (n, dyad, period, outcome)
    outcome = _coded(evidence.outcome_counts, truth, flat("outcome_error"), rng)
    shape = (n_chain, n_draw)
    return {
        "conduct": conduct.reshape(*shape, *conduct.shape[1:]),
        "outcome": outcome.reshape(*shape, *outcome.shape[1:]),
    }


def behaviour_checks(
    replicator: Replicator,
    posterior: xr.Dataset,
    prior: xr.Dataset | None,
    evidence: Evidence,
    rng: np.random.Generator,
) -> tuple[xr.DataTree, xr.Dataset]:
    """Predictive checks of conduct (per directed pair) and outcome (per dyad and outcome) codes.

    Codes are summed over behaviour periods per unit. Strategies are nominal,
    so conduct units get the code-mix test only; outcome levels are ordinal
    and get both. The expectation in the Pearson discrepancy is the mean
    replicated count (the replicator returns counts, not probabilities),
    which makes it a fixed test statistic of the data.
    """
    s = evidence.structure
    units = {
        "conduct": list(s.pairs),
        "outcome": [f"{d} {o}" for d in s.dyads for o in OUTCOMES],
    }
    cats = {"conduct": list(STRATEGIES), "outcome": list(OUTCOME_LEVELS)}
    observed = {
        "conduct": evidence.conduct_counts.sum(axis=1),
        "outcome": evidence.outcome_counts.sum(axis=1).reshape(-1, len(OUTCOME_LEVELS)),
    }

    def per_unit(rep: dict[str, np.ndarray], kind: str) -> np.ndarray:
        x = rep[kind].sum(axis=3)  # over behaviour periods
        return x.reshape(*x.shape[:2], len(units[kind]), len(cats[kind]))

    rep_post = replicator(posterior, evidence, rng)
    rep_prior = replicator(prior, evidence, rng) if prior is not None else None
    groups: dict[str, xr.Dataset] = {}
    rows = []
    for kind in ("conduct", "outcome"):
        dims = (f"{kind}_unit", f"{kind}_code")
        coords = {dims[0]: units[kind], dims[1]: cats[kind]}
        name = f"{kind}_count"
        obs = observed[kind].astype(float)
        groups.setdefault("observed_data", xr.Dataset())[name] = xr.DataArray(
            obs, dims=dims, coords=coords
        )
        rep = per_unit(rep_post, kind)
        groups.setdefault("posterior_predictive", xr.Dataset())[name] = _sample(
            rep, dims, {d: posterior[d].values for d in SAMPLE_DIMS}
        ).assign_coords(coords)
        if rep_prior is not None:
            groups.setdefault("prior_predictive", xr.Dataset())[name] = _sample(
                per_unit(rep_prior, kind), dims, {d: prior[d].values for d in SAMPLE_DIMS}
            ).assign_coords(coords)
        flat = rep.reshape(-1, *rep.shape[2:]).astype(float)
        expected = np.broadcast_to(flat.mean(axis=0), flat.shape)
        stats = predictive_p_values(obs, flat, expected, ordinal=kind == "outcome")
        rows.append(_fit_rows(kind, units[kind], stats))
    return xr.DataTree.from_dict(groups), xr.concat(rows, dim="unit")


def run_checks(
    idata: xr.DataTree,
    evidence: Evidence,
    model: pm.Model,
    *,
    n_draws: int = CHECK_DRAWS,
    seed: int = 0,
    prior: bool = True,
) -> xr.DataTree:
    """Every predictive check of a fit, as one tree for ``checks.nc``.

    Groups: ``threat`` (see :func:`threat_checks`), one group per registered
    replicator (see :func:`behaviour_checks`), ``fit`` (one row per unit,
    with the flag and its reasons) and ``evidence`` (observed code counts per
    unit, for the report). Reproducible from ``seed``.
    """
    rng = np.random.default_rng(seed)
    posterior = thin_posterior(idata.posterior.to_dataset(), n_draws)
    priors = prior_draws(model, n_draws, seed=int(rng.integers(2**31))) if prior else None
    tree, rows = threat_checks(posterior, priors, evidence, rng)
    out = {"threat": tree}
    fit_rows = [rows]
    for name, replicator in REPLICATORS.items():
        if len(evidence.behaviour_periods):
            out[name], rows = behaviour_checks(replicator, posterior, priors, evidence, rng)
            fit_rows.append(rows)
    fit = xr.concat(fit_rows, dim="unit", data_vars="all", coords="minimal", join="outer")
    result = xr.DataTree(
        dataset=xr.Dataset(
            attrs={
                "draws": int(posterior.sizes["chain"] * posterior.sizes["draw"]),
                "seed": seed,
                "p_flag": P_FLAG,
                "interval_prob": INTERVAL_PROB,
            }
        )
    )
    for name, sub in out.items():
        result[name] = sub
    result["fit"] = xr.DataTree(fit)
    result["evidence"] = xr.DataTree(observed_counts(evidence))
    return result


def observed_counts(evidence: Evidence) -> xr.Dataset:
    """Observed code counts per threat series, directed pair and dyad (summed over periods)."""
    s = evidence.structure
    return xr.Dataset(
        {
            "threat_count": (("series", "code"), _by_series(evidence.threat_counts, evidence)),
            "conduct_count": (("pair", "strategy"), evidence.conduct_counts.sum(axis=1)),
            "outcome_count": (
                ("dyad", "outcome", "outcome_level"),
                evidence.outcome_counts.sum(axis=1),
            ),
        },
        coords={
            "series": list(s.series),
            "code": list(THREAT_CODES),
            "pair": list(s.pairs),
            "strategy": list(STRATEGIES),
            "dyad": list(s.dyads),
            "outcome": list(OUTCOMES),
            "outcome_level": list(OUTCOME_LEVELS),
        },
    )


def fit_table(checks: xr.DataTree):
    """Return the per-unit fit rows of a checks tree as a DataFrame (one row per unit)."""
    frame = checks["fit"].to_dataset().to_dataframe().reset_index()
    frame["flagged"] = frame["flagged"].astype(bool)
    return frame


def write_checks(checks: xr.DataTree, path: Path) -> Path:
    """Write a checks tree atomically (a temporary sibling renamed into place)."""
    path = Path(path)
    with atomic_file(path) as tmp:
        checks.to_netcdf(tmp)
    return path
