"""The PyMC model: a pure function from (evidence, priors) to ``pm.Model``.

No file is read, nothing is sampled, nothing global is touched: the same
inputs always build the same graph, which is what makes runs reproducible
and the model testable.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from model.alliance import (
    axis_log_prob,
    behaviour_log_likelihood,
    outcome_probs,
    type_probs,
    weakest_link,
)
from model.evidence import Evidence
from model.priors import PriorSet
from model.strategy import strategy_given_external, strategy_marginal, take
from model.threat import code_log_probs, level_log_probs, random_walk


def _threat_random(log_p, n_total, rng=None, size=None):
    """Replicate threat codes with each cell's observed number of codes."""
    p = np.exp(np.asarray(log_p))
    p = p / p.sum(axis=-1, keepdims=True)
    n = np.broadcast_to(np.asarray(n_total)[..., 0], p.shape[:-1])
    return rng.multinomial(n, p, size=None if size is None else tuple(size)[:-1])


def _threat_logp(value, log_p, n_total):
    """Row-level log-likelihood from counts: ``sum_c n_c log p_c`` (no multinomial constant)."""
    return value * log_p


def build_model(evidence: Evidence, priors: PriorSet) -> pm.Model:
    """Build the dangerous-alliances model.

    Parameters
    ----------
    evidence
        Aggregated counts on the period grid (:func:`model.evidence.aggregate`).
    priors
        A validated prior set (:func:`model.priors.load_priors`).

    Returns
    -------
    pm.Model
        Free variables: the random-walk threats, the measurement model and
        the Table 2 / Table 3 Dirichlets. Named deterministics hold every
        reported quantity: ``theta``, ``p_level``, ``strategy_prob``,
        ``type_prob``, ``commitment_prob``, ``cohesion_prob``, ``p_axis``,
        ``axis_commitment``, ``axis_cohesion``.
    """
    s = evidence.structure
    rep = np.arange(evidence.report_index[0], len(evidence.periods))  # last evidence onward
    n_partners = len(s.actors.partners)
    with pm.Model(coords=evidence.coords) as model:
        init = priors["threat_init"].create_variable("threat_init")
        drift = priors["threat_drift"].create_variable("threat_drift")
        innovation = priors["threat_innovation"].create_variable("threat_innovation")
        theta = pm.Deterministic(
            "theta", random_walk(init, drift, innovation), dims=("series", "period")
        )

        # threat evidence: ordered logistic on theta, per indicator
        discrimination = priors["discrimination"].create_variable("discrimination")
        shift = priors["threshold_shift"].create_variable("threshold_shift")
        cells = evidence.threat_cells
        if len(cells):
            ind = cells[:, 2]
            n_t = len(evidence.periods)
            theta_cells = take(
                theta.reshape((-1,)), cells[:, 0] * n_t + cells[:, 1], len(s.series) * n_t
            )
            log_p = code_log_probs(theta_cells, discrimination[ind], shift[ind])
            n_total = evidence.threat_counts.sum(axis=1, keepdims=True)
            pm.CustomDist(
                "threat_evidence",
                log_p,
                n_total,
                logp=_threat_logp,
                random=_threat_random,
                observed=evidence.threat_counts,
                dims=("threat_cell", "code"),
            )

        # latent ordinal levels, marginalised
        sharpness = priors["level_sharpness"].create_variable("level_sharpness")
        log_p_lev = level_log_probs(theta, sharpness)  # (series, period, level)
        p_lev = pt.exp(log_p_lev)
        p_ext = p_lev[:n_partners]  # external series come first, in partner order
        log_p_ext = log_p_lev[:n_partners]

        # Table 2 and the per-pair strategy distributions
        mapping = priors["strategy_map"].create_variable("strategy_map")
        if mapping.ndim == 2:  # external threat only: one row for every internal level
            mapping = pt.repeat(mapping[:, None, :], 3, axis=1)
        q = strategy_given_external(p_lev[s.pair_internal_series], mapping)
        strat = strategy_marginal(p_ext[s.pair_actor], q)  # (pair, period, strategy)

        # Table 3
        commitment = priors["commitment"].create_variable("commitment")
        cohesion = priors["cohesion"].create_variable("cohesion")

        # conduct and outcome evidence, jointly and exactly
        b = evidence.behaviour_periods
        conduct_error = priors["conduct_error"].create_variable("conduct_error")
        outcome_error = priors["outcome_error"].create_variable("outcome_error")
        if len(b):
            # the likelihood needs the levels and strategies in these periods only
            log_p_b = level_log_probs(take(theta, b, len(evidence.periods), axis=1), sharpness)
            q_b = strategy_given_external(
                take(pt.exp(log_p_b), s.pair_internal_series, len(s.series)), mapping
            )
            ll = behaviour_log_likelihood(
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
            totals = evidence.conduct_counts.sum(axis=(0, 2)) + evidence.outcome_counts.sum(
                axis=(0, 2, 3)
            )
            pm.CustomDist(
                "behaviour_evidence",
                ll,
                logp=lambda value, ll: ll,
                observed=totals,
                dims="behaviour_period",
            )

        # reported quantities
        pm.Deterministic("p_level", p_lev[:, rep], dims=("series", "window", "level"))
        strat_rep = strat[:, rep]
        pm.Deterministic("strategy_prob", strat_rep, dims=("pair", "window", "strategy"))
        p_type = type_probs(strat_rep[s.dyad_pairs[:, 0]], strat_rep[s.dyad_pairs[:, 1]])
        pm.Deterministic("type_prob", p_type, dims=("dyad", "window", "alliance_type"))
        pm.Deterministic(
            "commitment_prob",
            outcome_probs(p_type, commitment),
            dims=("dyad", "window", "outcome_level"),
        )
        pm.Deterministic(
            "cohesion_prob",
            outcome_probs(p_type, cohesion),
            dims=("dyad", "window", "outcome_level"),
        )
        pm.Deterministic(
            "p_axis", pt.exp(axis_log_prob(log_p_ext, q, s.dyad_pairs, s.members)), dims="period"
        )
        for name, table in (("axis_commitment", commitment), ("axis_cohesion", cohesion)):
            pm.Deterministic(
                name,
                weakest_link(log_p_ext[:, rep], q[:, rep], table, s.dyad_pairs, s.members),
                dims=("window", "outcome_level"),
            )
    return model
