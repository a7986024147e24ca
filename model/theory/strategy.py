"""The strategy mapping (Table 2) and exact marginalisation over threat levels.

A state's strategy toward a partner depends on the cell (external level,
internal level) through ``M[a, b, :]``. The external level is one per state,
shared by all its dyads; the internal level is one per directed pair. Every
joint quantity (the likelihood of conduct and outcome evidence, P(axis), the
weakest-link cohesion) therefore has the same shape: a sum over the states'
external levels of a product of per-dyad factors. :func:`sum_over_external`
is that sum, computed once for all of them.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor import TensorLike, TensorVariable

from model.theory.tables import LEVELS

#: Threat levels (low, medium, high).
N_LEVELS = len(LEVELS)


def strategy_given_external(p_internal: TensorLike, mapping: TensorLike) -> TensorVariable:
    """P(strategy = x | external level a) for each directed pair.

    Parameters
    ----------
    p_internal
        ``(pair, period, level)``: P(L_int = b) of the pair's internal series.
    mapping
        ``(ext_level, int_level, strategy)``: Table 2 as probabilities.

    Returns
    -------
    ``(pair, period, ext_level, strategy)``:
    ``q[p, t, a, x] = sum_b P(L_int = b) M[a, b, x]``.
    """
    p_internal = pt.as_tensor_variable(p_internal)
    mapping = pt.as_tensor_variable(mapping)
    return (p_internal[:, :, None, :, None] * mapping[None, None, :, :, :]).sum(axis=3)


def full_table(mapping: np.ndarray | TensorLike, lead: int = 0) -> np.ndarray | TensorVariable:
    """Table 2 with both threat axes, whatever theory wrote it.

    Weitsman's mapping is ``(ext_level, int_level, strategy)``; a theory in
    which only the external threat counts (Walt's balance of threat) writes
    one row per external level, ``(ext_level, strategy)``, and here that row
    is repeated for every internal level. Every user of Table 2 (the graph,
    the simulator, scenarios, predictive checks, recovery) goes through this
    one function, so the two forms cannot drift apart.

    Parameters
    ----------
    mapping
        The table, with ``lead`` leading axes (draws, simulations) before it;
        a NumPy array stays NumPy, anything else becomes a PyTensor tensor.
    lead
        Number of leading axes.

    Returns
    -------
    ``(*lead, ext_level, int_level, strategy)``.
    """
    if isinstance(mapping, np.ndarray):
        if mapping.ndim == lead + 3:
            return mapping
        return np.repeat(np.expand_dims(mapping, lead + 1), N_LEVELS, axis=lead + 1)
    mapping = pt.as_tensor_variable(mapping)
    if mapping.ndim == lead + 3:
        return mapping
    return pt.repeat(pt.expand_dims(mapping, lead + 1), N_LEVELS, axis=lead + 1)


def strategy_marginal(p_external: TensorLike, q: TensorLike) -> TensorVariable:
    """P(strategy) per directed pair: ``sum_a P(L_ext = a) q[..., a, :]``.

    ``p_external`` is ``(pair, period, level)``: the external-level
    probabilities of each pair's acting state.
    """
    p_external = pt.as_tensor_variable(p_external)
    return (p_external[..., :, None] * pt.as_tensor_variable(q)).sum(axis=-2)


def take(x: TensorLike, index: np.ndarray, size: int, axis: int = 0) -> TensorVariable:
    """``x`` indexed by the integer array ``index`` along ``axis`` (of length ``size``).

    Computed as a product with a constant one-hot matrix rather than a gather:
    a gather's gradient is a scatter-add, which XLA runs as a serial loop on
    CPU, while a matrix product's gradient is a matrix product. For finite
    ``x`` the result is exact (each entry is one value times 1 plus zeros);
    do not use it on tensors that may hold infinities.
    """
    one_hot = np.eye(size)[np.asarray(index, dtype=np.int64)]  # (len(index), size)
    out = pt.tensordot(one_hot, pt.as_tensor_variable(x), axes=[[1], [axis]])
    return pt.moveaxis(out, 0, axis) if axis else out


def external_combinations(k: int) -> np.ndarray:
    """Every assignment of the three external levels to ``k`` states: ``(3**k, k)``."""
    return np.array(list(product(range(3), repeat=k)), dtype=np.int64)


def sum_over_external(
    log_p_external: TensorLike, log_dyad_factor: TensorLike, members: np.ndarray
) -> TensorVariable:
    """Log of ``sum_a prod_i P(L_ext_i = a_i) prod_d f_d(a_i, a_j)``, per period.

    Given the external levels, the dyads are conditionally independent, so
    this is exact. It costs ``3**k`` terms per period: 27 for three partners,
    729 for six.

    Parameters
    ----------
    log_p_external
        ``(partner, period, level)`` log probabilities.
    log_dyad_factor
        ``(dyad, period, level_first, level_second)`` log factors, indexed by
        the external levels of the dyad's two members.
    members
        ``(dyad, 2)`` partner indices of each dyad (first, second).

    Returns
    -------
    ``(period,)`` log sums.
    """
    return pt.logsumexp(external_terms(log_p_external, log_dyad_factor, members), axis=-1)


def selection_matrices(members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0/1 matrices from every joint external level to each state's and each dyad's levels.

    Parameters
    ----------
    members
        ``(dyad, 2)`` partner indices of each dyad (first, second).

    Returns
    -------
    pick_ext, pick_dyad
        ``(partner * 3, combination)`` and ``(dyad * 9, combination)``: column
        ``c`` marks the level of each state, and the pair of levels of each
        dyad's members, in the joint assignment ``c`` of
        :func:`external_combinations`. Selection matrices turn gathers into
        matrix products, whose gradients are matrix products too (a gather's
        gradient is a slow scatter).
    """
    members = np.asarray(members, dtype=np.int64)
    k = int(members.max()) + 1  # every partner belongs to at least one dyad
    combos = external_combinations(k)  # (C, k)
    n_dyads = members.shape[0]
    pick_ext = np.zeros((k * 3, len(combos)))
    pick_dyad = np.zeros((n_dyads * 9, len(combos)))
    for c, levels in enumerate(combos):
        pick_ext[np.arange(k) * 3 + levels, c] = 1.0
        pick_dyad[np.arange(n_dyads) * 9 + levels[members[:, 0]] * 3 + levels[members[:, 1]], c] = (
            1.0
        )
    return pick_ext, pick_dyad


def external_terms(
    log_p_external: TensorLike, log_dyad_factor: TensorLike, members: np.ndarray
) -> TensorVariable:
    """``log prod_i P(L_ext_i = a_i) prod_d f_d(a_i, a_j)`` for every joint ``a``: ``(period, C)``.

    The summands of :func:`sum_over_external`; normalised over ``C`` they are
    the posterior of the joint external levels given the evidence in ``f``.
    """
    pick_ext, pick_dyad = selection_matrices(members)
    lpe = pt.as_tensor_variable(log_p_external)
    ldf = pt.as_tensor_variable(log_dyad_factor)
    n_t = lpe.shape[1]
    ext_flat = lpe.dimshuffle(1, 0, 2).reshape((n_t, pick_ext.shape[0]))
    dyad_flat = ldf.dimshuffle(1, 0, 2, 3).reshape((n_t, pick_dyad.shape[0]))
    return pt.dot(ext_flat, pick_ext) + pt.dot(dyad_flat, pick_dyad)  # (T, C)


def dyad_external_posterior(
    log_p_external: TensorLike, log_dyad_factor: TensorLike, members: np.ndarray
) -> TensorVariable:
    """P(a dyad's two external levels | the evidence in the factors): ``(dyad, period, 3, 3)``.

    Every state's external level is shared by all its dyads, so the evidence
    of one dyad moves the levels, and so the states, of the others: this is
    the joint posterior over all states' levels, marginalised onto each dyad.
    """
    _, pick_dyad = selection_matrices(members)
    terms = external_terms(log_p_external, log_dyad_factor, members)
    weights = pt.special.softmax(terms, axis=-1)  # (T, C)
    pick = pick_dyad.T.reshape(pick_dyad.shape[1], pick_dyad.shape[0] // 9, 3, 3)  # (C, D, 3, 3)
    # broadcast and sum rather than tensordot, which reshapes (JAX needs concrete shapes)
    return (weights[:, :, None, None, None] * pick).sum(axis=1).dimshuffle(1, 0, 2, 3)
