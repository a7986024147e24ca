"""Alliance outcomes: dyad types (Table 3), commitment, cohesion, P(axis).

All functions take the per-pair quantities of :mod:`model.theory.strategy` and are
exact: where two dyads share a state, they share its external level, and
:func:`~model.theory.strategy.sum_over_external` sums over it.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor import TensorLike, TensorVariable

from model.theory.strategy import dyad_external_posterior, sum_over_external, take
from model.theory.tables import ALLIANCE_TYPES, STRATEGIES, type_index_matrix

BALANCING: int = STRATEGIES.index("balancing")


def _pair_to_type() -> np.ndarray:
    """One-hot ``(strategy * strategy, type)`` matrix that folds ordered pairs into types."""
    idx = type_index_matrix().ravel()
    out = np.zeros((idx.size, len(ALLIANCE_TYPES)))
    out[np.arange(idx.size), idx] = 1.0
    return out


def type_probs(strategy_first: TensorLike, strategy_second: TensorLike) -> TensorVariable:
    """P(alliance type) of dyads from the two members' strategy probabilities.

    The two directed strategies of a dyad are independent given the latent
    scores (they share no threat series), so the joint is the outer product,
    folded into the ten unordered types.

    Parameters
    ----------
    strategy_first, strategy_second
        ``(..., strategy)`` for each member's strategy toward the other.

    Returns
    -------
    ``(..., alliance_type)``.
    """
    a = pt.as_tensor_variable(strategy_first)
    b = pt.as_tensor_variable(strategy_second)
    return fold_to_types(a[..., :, None] * b[..., None, :])


def fold_to_types(pair_prob: TensorLike) -> TensorVariable:
    """Fold ``(..., strategy_first, strategy_second)`` probabilities into the ten types."""
    p = pt.as_tensor_variable(pair_prob)
    n = len(STRATEGIES)
    fold = _pair_to_type().reshape(n, n, len(ALLIANCE_TYPES))
    # broadcast and sum, not a reshape or tensordot (which reshapes): JAX needs concrete
    # shapes, and after vectorising over draws these may be symbolic
    return (p[..., :, :, None] * fold).sum(axis=(-3, -2))


def outcome_probs(p_type: TensorLike, table: TensorLike) -> TensorVariable:
    """P(commitment or cohesion level) = ``sum_type P(type) table[type, level]``."""
    return pt.dot(pt.as_tensor_variable(p_type), pt.as_tensor_variable(table))


def dyad_factor(q_first: TensorLike, q_second: TensorLike, weight: TensorLike) -> TensorVariable:
    """``f[..., a, a'] = sum_xy q1[..., a, x] q2[..., a', y] w[..., x, y]``.

    The per-dyad factor of :func:`~model.theory.strategy.sum_over_external`: the
    chance of the dyad's event given its members' external levels ``a, a'``,
    where ``w[x, y]`` is the event's chance given the two strategies.
    """
    q1 = pt.as_tensor_variable(q_first)
    q2 = pt.as_tensor_variable(q_second)
    w = pt.as_tensor_variable(weight)  # (..., x, y), or one (x, y) for all
    # two broadcast-and-sum contractions (y, then x): a quarter of the products of
    # one sum over all 144 (a, a', x, y), and unlike XLA's CPU batched dot of
    # many 3x4 matrices, each is one fused loop
    inner = (w[..., None, :, :] * q2[..., :, None, :]).sum(axis=-1)  # (..., a', x)
    return (q1[..., :, None, :] * inner[..., None, :, :]).sum(axis=-1)


def axis_log_prob(
    log_p_external: TensorLike, q: TensorLike, dyad_pairs: np.ndarray, members: np.ndarray
) -> TensorVariable:
    """Log P(every directed strategy among the partners is balancing), per period.

    ``P(axis) = prod_i sum_a P(L_ext_i = a) prod_{j != i} q_ij[a, balancing]``,
    computed as a sum over joint external levels with per-dyad factors
    ``q_ij[a, bal] * q_ji[a', bal]``.

    Parameters
    ----------
    log_p_external
        ``(partner, period, level)``.
    q
        ``(pair, period, ext_level, strategy)`` from
        :func:`~model.theory.strategy.strategy_given_external`.
    dyad_pairs
        ``(dyad, 2)``: the pair indices (first->second, second->first).
    members
        ``(dyad, 2)``: the partner indices (first, second).
    """
    q = pt.as_tensor_variable(q)
    bal = pt.log(q[..., BALANCING])  # (pair, period, ext_level)
    factor = bal[dyad_pairs[:, 0]][..., :, None] + bal[dyad_pairs[:, 1]][..., None, :]
    return sum_over_external(log_p_external, factor, members)


def weakest_link(
    log_p_external: TensorLike,
    q: TensorLike,
    table: TensorLike,
    dyad_pairs: np.ndarray,
    members: np.ndarray,
) -> TensorVariable:
    """Distribution of the k-lateral level: the minimum over dyads.

    A multilateral alliance is held back by its weakest dyad. With each
    dyad's level drawn from ``table[type]``, ``P(min >= l)`` is a sum over
    external levels of per-dyad factors ``P(level_d >= l)``.

    Returns
    -------
    ``(period, outcome_level)`` probabilities of the minimum.
    """
    q = pt.as_tensor_variable(q)
    table = pt.as_tensor_variable(table)
    types = type_index_matrix()
    q1, q2 = q[dyad_pairs[:, 0]], q[dyad_pairs[:, 1]]
    at_least = [pt.ones_like(log_p_external[0, :, 0])]
    n_levels = 4
    for level in range(1, n_levels):
        survive = table[:, level:].sum(axis=-1)[types]  # (strategy, strategy)
        factor = pt.log(dyad_factor(q1, q2, survive))
        at_least.append(pt.exp(sum_over_external(log_p_external, factor, members)))
    at_least.append(pt.zeros_like(at_least[0]))
    tail = pt.stack(at_least, axis=-1)  # (period, n_levels + 1)
    return tail[:, :-1] - tail[:, 1:]


def coded_counts_likelihood(
    counts: TensorLike, error: TensorLike, n: int
) -> tuple[TensorVariable, TensorVariable]:
    """``prod_obs E[c, x]`` for every true category ``x``, scaled by its largest ``x``.

    ``E[c, x] = P(coded c | true x)``: a coder is right with ``1 - e`` and
    otherwise picks one of the ``n`` categories at random, so a code is right
    with ``1 - e + e/n`` and any given wrong code has ``e/n``. For ``N`` codes of
    which ``n_x`` read ``x`` the log product is ``N log(e/n) + n_x k``, with
    ``k = log((1 - e + e/n) / (e/n))``: a closed form, no matrix product.
    Scaling by the largest ``x`` keeps it finite when ``k`` is large.

    Parameters
    ----------
    counts
        ``(..., code)`` counts.
    error
        Coder error rate, a scalar.
    n
        Number of categories.

    Returns
    -------
    relative, log_max
        ``exp(k (n_x - max_x n_x))``, with the counts' shape, and the log of the
        largest product, ``N log(e/n) + k max_x n_x``, without the last axis.
    """
    counts = pt.as_tensor_variable(counts)  # constants, or shared data (model.inference.refit)
    e = pt.as_tensor_variable(error)
    log_wrong = pt.log(e / n)
    k = pt.log1p(-e * (n - 1) / n) - log_wrong
    top = counts.max(axis=-1)
    relative = pt.exp(k * (counts - top[..., None]))
    return relative, counts.sum(axis=-1) * log_wrong + top * k


def behaviour_log_likelihood(
    log_p_external: TensorLike,
    q: TensorLike,
    conduct_counts: TensorLike,
    outcome_counts: TensorLike,
    tables: TensorLike,
    conduct_error: TensorLike,
    outcome_error: TensorLike,
    dyad_pairs: np.ndarray,
    members: np.ndarray,
) -> TensorVariable:
    """Exact log-likelihood of conduct and outcome evidence, per period.

    Per period each directed pair has one latent strategy and each dyad one
    latent commitment and one latent cohesion level; every coded observation
    is a noisy reading of them. Conditional on the external levels the
    dyads are independent, so the joint sums exactly over external levels
    (:func:`~model.theory.strategy.sum_over_external`), over each dyad's strategy
    pair, and over each outcome's true level. The evidence enters only as
    counts, so the cost does not grow with the number of rows.

    Parameters
    ----------
    log_p_external
        ``(partner, period, level)``.
    q
        ``(pair, period, ext_level, strategy)``.
    conduct_counts
        ``(pair, period, strategy)``: coded strategies per pair and period.
    outcome_counts
        ``(dyad, period, outcome, outcome_level)``: coded commitment and
        cohesion levels.
    tables
        ``(outcome, alliance_type, outcome_level)``: Table 3 as probabilities.
    conduct_error, outcome_error
        Coder error rates.
    dyad_pairs
        ``(dyad, 2)``: pair indices first->second, second->first.
    members
        ``(dyad, 2)``: partner indices of each dyad.

    Returns
    -------
    ``(period,)`` log-likelihoods.
    """
    errors = (conduct_error, outcome_error)
    terms = _behaviour_terms(q, conduct_counts, outcome_counts, tables, *errors)
    q_first, q_second, weight, offset = _dyad_terms(terms, dyad_pairs)
    factor = pt.log(dyad_factor(q_first, q_second, weight))
    return sum_over_external(log_p_external, factor, members) + offset


def _behaviour_terms(
    q: TensorLike,
    conduct_counts: TensorLike,
    outcome_counts: TensorLike,
    tables: TensorLike,
    conduct_error: TensorLike,
    outcome_error: TensorLike,
) -> dict[str, TensorVariable]:
    """Return the per-pair and per-dyad pieces the behaviour likelihood multiplies, scaled.

    ``q_tilde[p, t, a, x]``: P(strategy x | external a) times the conduct
    codes' likelihood of x; ``by_type[d, t, o, type]``: the outcome codes'
    likelihood given the type, summed over the true level; ``joint[d, t, o,
    type, l]``: its summands. Every factor is divided by its largest value
    (``offset`` and ``type_max`` keep the logs), so nothing underflows.
    """
    n_strat, n_out = len(STRATEGIES), 4
    # conduct: prod_obs P(obs | strategy x) relative to its largest x (closed form)
    c_rel, c_offset = coded_counts_likelihood(conduct_counts, conduct_error, n_strat)
    q_tilde = pt.as_tensor_variable(q) * c_rel[:, :, None, :]
    # outcome: per indicator, sum over the true level l of table[type, l] prod_obs E[c, l]
    obs_lik, o_offset = coded_counts_likelihood(outcome_counts, outcome_error, n_out)
    tables = pt.as_tensor_variable(tables)
    joint = obs_lik[:, :, :, None, :] * tables[None, None]  # (D, T, o, type, l)
    by_type = joint.sum(axis=-1)
    log_type = pt.log(by_type).sum(axis=2)  # (D, T, type)
    return {
        "q_tilde": q_tilde,
        "joint": joint,
        "by_type": by_type,
        "log_type": log_type,
        "offset": c_offset.sum(axis=0) + o_offset.sum(axis=(0, 2)),
    }


def _dyad_terms(
    terms: dict[str, TensorVariable], dyad_pairs: np.ndarray
) -> tuple[TensorVariable, TensorVariable, TensorVariable, TensorVariable]:
    """Each dyad's two members' ``q_tilde`` and its outcome weight on strategy pairs."""
    n_strat = len(STRATEGIES)
    log_type = terms["log_type"]
    type_max = log_type.max(axis=-1)
    spread = _pair_to_type().T  # (type, x*y): types back onto strategy pairs
    weight = pt.dot(pt.exp(log_type - type_max[..., None]), spread)
    weight = weight.reshape((*weight.shape[:-1], n_strat, n_strat), ndim=weight.ndim + 1)
    n_pairs = int(dyad_pairs.max()) + 1
    q_first = take(terms["q_tilde"], dyad_pairs[:, 0], n_pairs)
    q_second = take(terms["q_tilde"], dyad_pairs[:, 1], n_pairs)
    return q_first, q_second, weight, terms["offset"] + type_max.sum(axis=0)


def dyad_states(
    log_p_external: TensorLike,
    q: TensorLike,
    conduct_counts: TensorLike,
    outcome_counts: TensorLike,
    tables: TensorLike,
    conduct_error: TensorLike,
    outcome_error: TensorLike,
    dyad_pairs: np.ndarray,
    members: np.ndarray,
) -> tuple[TensorVariable, TensorVariable]:
    """Each dyad's state given all the evidence of its period: Bayes' rule on the likelihood.

    :func:`behaviour_log_likelihood` sums over every state's external level,
    every dyad's strategy pair and every true outcome level. Normalising its
    summands gives their posterior given the period's conduct and outcome
    codes (and the draw's threats and tables): first over the joint external
    levels, then, given a dyad's two levels, over its strategy pairs, then,
    given the type, over the true commitment and cohesion levels. In a period
    without codes this is the theory-implied distribution
    (:func:`type_probs`, :func:`outcome_probs`).

    Parameters
    ----------
    log_p_external, q, conduct_counts, outcome_counts, tables, conduct_error, outcome_error, \
dyad_pairs, members
        As for :func:`behaviour_log_likelihood`.

    Returns
    -------
    pair_prob
        ``(dyad, period, strategy_first, strategy_second)``: P(the two
        members' strategies toward each other | evidence).
    outcome_prob
        ``(dyad, period, outcome, outcome_level)``: P(the true commitment
        (``outcome`` 0) and cohesion (1) level | evidence).
    """
    errors = (conduct_error, outcome_error)
    terms = _behaviour_terms(q, conduct_counts, outcome_counts, tables, *errors)
    # no reshape and no tensordot (which reshapes) below: these states are deterministics,
    # evaluated by JAX over draws, where a reshape to a shape PyTensor could not fold
    # into constants does not trace; and they need no gradient, so gathers are fine
    log_type = terms["log_type"]
    relative = pt.exp(log_type - log_type.max(axis=-1, keepdims=True))  # (D, T, type)
    spread = _pair_to_type().T.reshape(len(ALLIANCE_TYPES), len(STRATEGIES), len(STRATEGIES))
    weight = (relative[:, :, :, None, None] * spread).sum(axis=2)  # (D, T, x, y)
    q_tilde = terms["q_tilde"]
    q_first, q_second = q_tilde[dyad_pairs[:, 0]], q_tilde[dyad_pairs[:, 1]]
    # given the dyad's external levels (a, a'): g[a, a', x, y] and its total f[a, a']
    g = q_first[:, :, :, None, :, None] * q_second[:, :, None, :, None, :]
    g = g * weight[:, :, None, None, :, :]
    f = g.sum(axis=(-2, -1))
    external = dyad_external_posterior(log_p_external, pt.log(f), members)  # (D, T, a, a')
    pair_prob = (external[..., None, None] * g / f[..., None, None]).sum(axis=(2, 3))
    p_type = fold_to_types(pair_prob)  # (D, T, type)
    # given the type, the true level l has weight table[type, l] times its codes' likelihood
    level_given_type = terms["joint"] / terms["by_type"][..., None]  # (D, T, o, type, l)
    outcome_prob = (p_type[:, :, None, :, None] * level_given_type).sum(axis=3)
    return pair_prob, outcome_prob
