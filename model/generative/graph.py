"""The PyMC graph of the model, in given coordinates.

No file is read, nothing is sampled, nothing global is touched: the same
inputs always build the same graph, which is what makes runs reproducible
and the model testable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc_extras.prior import Prior

from model.evidence.aggregate import Evidence
from model.evidence.priors import PriorSet
from model.generative.coordinates import Parametrisation, WalkMap, walk_map
from model.generative.prior_data import LivePriors, prior_structure
from model.theory.alliance import (
    axis_log_prob,
    behaviour_log_likelihood,
    dyad_states,
    fold_to_types,
    outcome_probs,
    type_probs,
    weakest_link,
)
from model.theory.strategy import full_table, strategy_given_external, strategy_marginal, take
from model.theory.threat import code_log_probs, level_log_probs, random_walk

#: What the graph reads a prior set through: a set itself, or its numbers as the model's data.
Priors = PriorSet | LivePriors


def _threat_random(log_p, n_total, rng=None, size=None):
    """Replicate threat codes with each cell's observed number of codes."""
    p = np.exp(np.asarray(log_p))
    p = p / p.sum(axis=-1, keepdims=True)
    n = np.broadcast_to(np.asarray(n_total)[..., 0], p.shape[:-1])
    return rng.multinomial(n, p, size=None if size is None else tuple(size)[:-1])


def _threat_logp(value, log_p, n_total):
    """Row-level log-likelihood from counts: ``sum_c n_c log p_c`` (no multinomial constant)."""
    return value * log_p


def _dirichlet(priors: Priors, group: str, gamma: bool) -> pt.TensorVariable:
    """Build a Table 2 or Table 3 Dirichlet, as PyMC's simplex or as normalised Gammas.

    Independent ``Gamma(a_i, 1)`` divided by their total have exactly the
    ``Dirichlet(a)`` law; their log values are uncorrelated a priori, which a
    diagonal mass matrix suits, where the simplex coordinates of a row with
    unequal concentrations are not.
    """
    if not gamma:
        return priors[group].create_variable(group)
    table = priors.tables[group]
    dims = tuple(table["dims"])
    a = table["kwargs"]["a"]
    raw = pm.Gamma(f"{group}_gamma", alpha=a, beta=1.0, dims=dims)
    return pm.Deterministic(group, raw / raw.sum(axis=-1, keepdims=True), dims=dims)


def _pooled(priors: Priors, group: str, centred: bool, scope: Scope) -> pt.TensorVariable:
    """Build a pooled prior group, centred if the parametrisation says so.

    A centred group also records the plain model's offsets as a
    deterministic, so that every plain variable is in the posterior and the
    plain model's density can be evaluated at any draw (reweighting does).
    """
    if not centred:
        return scope.prior(priors, group).create_variable(group)
    var = scope.prior(priors, group, centered=True).create_variable(group)
    model = pm.modelcontext(None)
    raw = f"{group}_raw" if f"{group}_raw" in model else group
    mu = (
        model[f"{raw}_mu"]
        if f"{raw}_mu" in model
        else priors.tables[group]["kwargs"].get("mu", 0.0)
    )
    sigma = model[f"{raw}_sigma"]
    dims = model.named_vars_to_dims[model[raw].name]
    pm.Deterministic(f"{raw}_offset", (model[raw] - mu) / sigma, dims=dims)
    return var


def _anchored_walk(
    priors: Priors, knots: tuple[tuple[int, ...], ...], n_periods: int, scope: Scope
) -> pt.TensorVariable:
    """Build the threat paths, moved at their knots (:mod:`~model.generative.reparam`).

    Returns ``theta``.

    The first knot of each series is drawn from the start's Normal prior
    shifted by the walk's steps before it, and each later knot from the one
    before it by the walk's law over the bridge; the steps between two knots
    are a Brownian bridge. The start is then a deterministic, with exactly
    its prior: the same joint law as the plain walk, in rounder coordinates.
    """
    start = priors.tables["threat_init"]["kwargs"]  # a Normal's (reparam.choose checked)
    mu0, sigma0 = start.get("mu", 0.0), start.get("sigma", 1.0)
    drift = scope.prior(priors, "threat_drift").create_variable("threat_drift")
    n_s, n_u = len(knots), n_periods - 1
    walk: WalkMap = walk_map(knots, n_periods)
    drift_s = pt.broadcast_to(drift, (n_s,))
    bridged = any(len(k) > 1 for k in knots)
    if bridged:
        steps = pm.Normal("threat_steps", 0.0, 1.0, shape=(walk.P.shape[1],))
        before = drift_s * pt.dot(walk.G, steps)
    else:  # one knot per series: the free steps are the innovations themselves
        z = scope.prior(priors, "threat_innovation").create_variable("threat_innovation")
        before = drift_s * pt.dot(walk.G, z.reshape((-1,)))  # P is the identity here
    first = pm.Normal("threat_anchor", mu=mu0 + before, sigma=sigma0, dims=scope.dim("series"))
    k = pt.zeros(walk.Q.shape[1])
    k = pt.set_subtensor(k[walk.first], first)
    if bridged:
        idx, prev, length = walk.later.T
        series_of = np.repeat(np.arange(n_s), [len(x) for x in knots])
        jumps = pm.Normal(
            "threat_knot_steps", 0.0, drift_s[series_of[idx]] * np.sqrt(length), shape=len(idx)
        )
        for j in range(len(idx)):  # knots in order: each from the one before it
            k = pt.set_subtensor(k[idx[j]], k[prev[j]] + jumps[j])
        z_flat = pt.dot(walk.P, steps) + pt.dot(walk.Q, k) / pt.repeat(drift_s, n_u)
        z = pm.Deterministic(
            "threat_innovation", z_flat.reshape((n_s, n_u)), dims=scope.dims("series", "step")
        )
    init = pm.Deterministic("threat_init", pt.dot(walk.F, k) - before, dims=scope.dim("series"))
    return random_walk(init, drift, z)


#: The evidence arrays that differ between data sets of one structure.
DATA_FIELDS: tuple[str, ...] = ("threat_counts", "conduct_counts", "outcome_counts")

#: The theory: Table 2, Table 3 and the coders' error rates. A joint fit over
#: several cases shares these and nothing else by default.
THEORY_GROUPS: tuple[str, ...] = (
    "strategy_map",
    "commitment",
    "cohesion",
    "conduct_error",
    "outcome_error",
)

#: Dimensions every case shares: the theory's and the codebook's. The rest
#: (series, periods, pairs, dyads, evidence cells) are a case's own.
SHARED_DIMS: frozenset[str] = frozenset(
    {
        "level",
        "ext_level",
        "int_level",
        "code",
        "indicator",
        "strategy",
        "alliance_type",
        "outcome",
        "outcome_level",
    }
)


@dataclass(frozen=True)
class Scope:
    """Where one case's variables live in a model: its own dimensions, by name.

    A model of one case is unscoped (``case=None``): its names and dimensions
    are the ones every run folder and figure reads. In a joint model each case
    is a named PyMC submodel (its variables are ``<case>::theta``, ...) and its
    own dimensions are ``<case>:series``, ... so that cases of different
    shapes sit side by side; :data:`SHARED_DIMS` keep their names.
    """

    case: str | None = None

    def dim(self, name: str) -> str:
        """Return the model's name of one of the case's dimensions."""
        return name if self.case is None or name in SHARED_DIMS else f"{self.case}:{name}"

    def dims(self, *names: str) -> tuple[str, ...]:
        """Return the model's names of several of the case's dimensions."""
        return tuple(self.dim(n) for n in names)

    def coords(self, coords: Mapping[str, Any]) -> dict[str, Any]:
        """Return the case's coordinates under the model's names."""
        return {self.dim(k): v for k, v in coords.items()}

    def prior(self, priors: Priors, group: str, **changes: Any) -> Prior:
        """Return a group's prior with the case's dimension names (and any ``changes``)."""
        if self.case is None and not changes:
            return priors[group]
        return Prior.from_dict(_renamed({**priors.tables[group], **changes}, self.dim))


def _renamed(table: Any, dim: Callable[[str], str]) -> Any:
    """Rename every ``dims`` entry of a prior table, nested hyperpriors included."""
    if not isinstance(table, Mapping):
        return table
    out = {k: _renamed(v, dim) for k, v in table.items()}
    if "dims" in out and out["dims"] is not None:
        dims = out["dims"]
        out["dims"] = dim(dims) if isinstance(dims, str) else [dim(d) for d in dims]
    return out


class Theory:
    """The theory's variables, each created once, in the root model, on first use.

    A one-case model asks for them where the graph needs them, so its
    variables are created in the order they always were; a joint model's
    cases then all read the same ones. A group not in ``shared`` is
    created afresh for each case that asks (inside its submodel).
    """

    def __init__(
        self,
        priors: Priors,
        gamma: frozenset[str],
        root: pm.Model,
        shared: Sequence[str] = THEORY_GROUPS,
    ):
        self.priors, self.gamma, self.root, self.shared = priors, gamma, root, tuple(shared)
        self.made: dict[str, pt.TensorVariable] = {}

    def __call__(self, group: str) -> pt.TensorVariable:
        """Return the variable of ``group``, creating it where it belongs."""
        if group not in self.shared:
            return self._make(group)
        if group not in self.made:
            with self.root:
                self.made[group] = self._make(group)
        return self.made[group]

    def _make(self, group: str) -> pt.TensorVariable:
        if group in ("strategy_map", "commitment", "cohesion"):
            return _dirichlet(self.priors, group, group in self.gamma)
        return self.priors[group].create_variable(group)


def model_graph(
    evidence: Evidence,
    priors: PriorSet,
    parametrisation: Parametrisation,
    *,
    shared_data: bool = False,
) -> pm.Model:
    """Build the model's graph in the given coordinates (see :mod:`model.generative.build`).

    Parameters and returns as for :func:`~model.generative.build.build_model`,
    except that the coordinates are given, never chosen here: the rules that
    choose them (:mod:`model.generative.reparam`) build this graph themselves.
    """
    live = LivePriors(priors)
    with pm.Model(coords=evidence.coords) as model:
        theory = Theory(live, parametrisation.gamma, model)
        case_graph(evidence, live, parametrisation, Scope(), theory, shared_data=shared_data)
    model.parametrisation = parametrisation  # read by the run's provenance
    model.prior_structure = prior_structure(priors)  # which prior sets set_priors accepts
    return model


def case_graph(
    evidence: Evidence,
    priors: Priors,
    param: Parametrisation,
    scope: Scope,
    theory: Theory,
    *,
    shared_data: bool = False,
) -> None:
    """Add one case to the model in context: its threats, evidence and reported quantities.

    The theory's variables come from ``theory``; everything else is the
    case's own, named under ``scope``.
    """
    s = evidence.structure
    rep = np.arange(evidence.first_window, len(evidence.periods))  # last evidence onward
    n_partners = len(s.actors.partners)
    if shared_data:
        counts = {f: pm.Data(f, np.asarray(getattr(evidence, f), float)) for f in DATA_FIELDS}
        evidence = replace(evidence, **counts)
    if param.anchored:
        path = _anchored_walk(priors, param.knots, len(evidence.periods), scope)
    else:
        init = scope.prior(priors, "threat_init").create_variable("threat_init")
        drift = scope.prior(priors, "threat_drift").create_variable("threat_drift")
        innovation = scope.prior(priors, "threat_innovation").create_variable("threat_innovation")
        path = random_walk(init, drift, innovation)
    theta = pm.Deterministic("theta", path, dims=scope.dims("series", "period"))

    # threat evidence: ordered logistic on theta, per indicator
    discrimination = _pooled(priors, "discrimination", "discrimination" in param.centred, scope)
    shift = _pooled(priors, "threshold_shift", "threshold_shift" in param.centred, scope)
    cells = evidence.threat_cells
    if len(cells):
        ind = cells[:, 2]
        n_t = len(evidence.periods)
        theta_cells = take(
            theta.reshape((-1,)), cells[:, 0] * n_t + cells[:, 1], len(s.series) * n_t
        )
        disc_cells, shift_cells = discrimination[ind], shift[ind]
        if len(evidence.coders) > 1:  # each coder's own thresholds and discrimination
            who = evidence.cell_coders()
            coder_shift = scope.prior(priors, "coder_shift").create_variable("coder_shift")
            coder_disc = scope.prior(priors, "coder_discrimination").create_variable(
                "coder_discrimination"
            )
            disc_cells = disc_cells * pt.exp(coder_disc[who])
            shift_cells = shift_cells + coder_shift[who]
        log_p = code_log_probs(theta_cells, disc_cells, shift_cells)
        n_total = evidence.threat_counts.sum(axis=1, keepdims=True)
        pm.CustomDist(
            "threat_evidence",
            log_p,
            n_total,
            logp=_threat_logp,
            random=_threat_random,
            observed=evidence.threat_counts,
            dims=scope.dims("threat_cell", "code"),
        )

    # latent ordinal levels, marginalised
    sharpness = scope.prior(priors, "level_sharpness").create_variable("level_sharpness")
    log_p_lev = level_log_probs(theta, sharpness)  # (series, period, level)
    p_lev = pt.exp(log_p_lev)
    p_ext = p_lev[:n_partners]  # external series come first, in partner order
    log_p_ext = log_p_lev[:n_partners]

    # Table 2 and the per-pair strategy distributions
    mapping = full_table(theory("strategy_map"))
    q = strategy_given_external(p_lev[s.pair_internal_series], mapping)
    strat = strategy_marginal(p_ext[s.pair_actor], q)  # (pair, period, strategy)

    # Table 3
    commitment = theory("commitment")
    cohesion = theory("cohesion")

    # conduct and outcome evidence, jointly and exactly
    b = evidence.behaviour_periods
    conduct_error = theory("conduct_error")
    outcome_error = theory("outcome_error")
    # what the theory implies from the threats, every period
    implied = type_probs(strat[s.dyad_pairs[:, 0]], strat[s.dyad_pairs[:, 1]])
    state_type = implied  # (dyad, period, type); the state given the evidence, below
    state_outcome = [outcome_probs(implied, table) for table in (commitment, cohesion)]
    if len(b):
        # the likelihood needs the levels and strategies in these periods only
        log_p_b = level_log_probs(take(theta, b, len(evidence.periods), axis=1), sharpness)
        q_b = strategy_given_external(
            take(pt.exp(log_p_b), s.pair_internal_series, len(s.series)), mapping
        )
        behaviour = (
            log_p_b[:n_partners],
            q_b,
            evidence.conduct_counts,
            evidence.outcome_counts,
            pt.stack([commitment, cohesion]),
            conduct_error,
            outcome_error,
            s.dyad_pairs,
            s.members,
        )
        ll = behaviour_log_likelihood(*behaviour)
        # in periods with conduct or outcome codes, the state given them too
        pair_b, outcome_b = dyad_states(*behaviour)
        state_type = pt.set_subtensor(state_type[:, b], fold_to_types(pair_b))
        state_outcome = [
            pt.set_subtensor(state_outcome[o][:, b], outcome_b[:, :, o]) for o in (0, 1)
        ]
        totals = evidence.conduct_counts.sum(axis=(0, 2)) + evidence.outcome_counts.sum(
            axis=(0, 2, 3)
        )
        pm.CustomDist(
            "behaviour_evidence",
            ll,
            logp=lambda value, ll: ll,
            observed=totals,
            dims=scope.dim("behaviour_period"),
        )

    # reported quantities
    pm.Deterministic("p_level", p_lev[:, rep], dims=scope.dims("series", "window", "level"))
    strat_rep = strat[:, rep]
    pm.Deterministic("strategy_prob", strat_rep, dims=scope.dims("pair", "window", "strategy"))
    p_type = type_probs(strat_rep[s.dyad_pairs[:, 0]], strat_rep[s.dyad_pairs[:, 1]])
    pm.Deterministic("type_prob", p_type, dims=scope.dims("dyad", "window", "alliance_type"))
    pm.Deterministic(
        "commitment_prob",
        outcome_probs(p_type, commitment),
        dims=scope.dims("dyad", "window", "outcome_level"),
    )
    pm.Deterministic(
        "cohesion_prob",
        outcome_probs(p_type, cohesion),
        dims=scope.dims("dyad", "window", "outcome_level"),
    )
    pm.Deterministic(
        "p_axis",
        pt.exp(axis_log_prob(log_p_ext, q, s.dyad_pairs, s.members)),
        dims=scope.dim("period"),
    )
    # each dyad's state given all the evidence, its period's conduct and outcomes too
    pm.Deterministic(
        "smoothed_type_prob", state_type, dims=scope.dims("dyad", "period", "alliance_type")
    )
    outcome_dims = scope.dims("dyad", "period", "outcome_level")
    for name, probs in zip(("commitment", "cohesion"), state_outcome, strict=True):
        pm.Deterministic(f"smoothed_{name}_prob", probs, dims=outcome_dims)
    for name, table in (("axis_commitment", commitment), ("axis_cohesion", cohesion)):
        pm.Deterministic(
            name,
            weakest_link(log_p_ext[:, rep], q[:, rep], table, s.dyad_pairs, s.members),
            dims=scope.dims("window", "outcome_level"),
        )
