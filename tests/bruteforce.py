"""Brute-force numpy references: enumerate every joint state, no shortcuts.

These share no code with ``model/``: they exist to check its exact
marginalisations against the definition.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np

STRATS = 4
BAL = 2


def structure(k: int):
    """Pairs (i, j), dyads (i, j) with i < j, in the model's order."""
    pairs = [(i, j) for i in range(k) for j in range(k) if i != j]
    dyads = list(combinations(range(k), 2))
    return pairs, dyads


def axis_probability(p_ext: np.ndarray, p_int: dict, mapping: np.ndarray) -> float:
    """P(all directed strategies are balancing) by enumerating every level of every series.

    ``p_ext[i]``: (3,) external-level probabilities; ``p_int[(i, j)]``: (3,)
    for i's threat from j; ``mapping``: (3, 3, 4).
    """
    k = len(p_ext)
    pairs, _ = structure(k)
    total = 0.0
    for ext in product(range(3), repeat=k):
        for ints in product(range(3), repeat=len(pairs)):
            prob = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
            prob *= np.prod([p_int[p][b] for p, b in zip(pairs, ints, strict=True)])
            # given all levels, strategies are independent draws from mapping cells
            bal = np.prod([mapping[ext[i], b, BAL] for (i, _), b in zip(pairs, ints, strict=True)])
            total += prob * bal
    return total


def dyad_type_joint(p_ext_i, p_ext_j, p_int_ij, p_int_ji, mapping) -> np.ndarray:
    """(4, 4) joint P(strategy_ij = x, strategy_ji = y) by enumerating four series' levels."""
    out = np.zeros((STRATS, STRATS))
    for a, ap, b, bp in product(range(3), repeat=4):
        w = p_ext_i[a] * p_ext_j[ap] * p_int_ij[b] * p_int_ji[bp]
        out += w * np.outer(mapping[a, b], mapping[ap, bp])
    return out


def behaviour_likelihood_k2(p_ext, p_int, mapping, conduct, outcome, tables, e_c, e_o) -> float:
    """Likelihood of conduct and outcome counts for two partners, one period.

    Enumerates both external levels, both internal levels, both strategies
    and the true commitment and cohesion levels.
    """
    ec = (1 - e_c) * np.eye(4) + e_c / 4
    eo = (1 - e_o) * np.eye(4) + e_o / 4
    type_of = _type_matrix()
    total = 0.0
    for a0, a1, b01, b10, x, y, lc, lh in product(
        range(3), range(3), range(3), range(3), range(4), range(4), range(4), range(4)
    ):
        prob = p_ext[0][a0] * p_ext[1][a1] * p_int[(0, 1)][b01] * p_int[(1, 0)][b10]
        prob *= mapping[a0, b01, x] * mapping[a1, b10, y]
        t = type_of[x, y]
        prob *= tables[0][t, lc] * tables[1][t, lh]
        like = np.prod(ec[:, x] ** conduct[0]) * np.prod(ec[:, y] ** conduct[1])
        like *= np.prod(eo[:, lc] ** outcome[0]) * np.prod(eo[:, lh] ** outcome[1])
        total += prob * like
    return total


def _type_matrix() -> np.ndarray:
    names = ["hedging", "tethering", "balancing", "bandwagoning"]
    types = sorted({"-".join(sorted((a, b))) for a in names for b in names})
    return np.array([[types.index("-".join(sorted((a, b)))) for b in names] for a in names])


def behaviour_likelihood_semi(p_ext, p_int, mapping, conduct, outcome, tables, e_c, e_o) -> float:
    """Same for any k: enumerate every series' level; per dyad sum its 16 strategy pairs.

    The coder-error factors of each pair's conduct and each dyad's outcomes
    depend on no level, and a dyad's sum on its own four series' levels
    only: both are computed once, not once per joint state (3**9 of them
    at k = 3), which is the same sum.
    """
    k = len(p_ext)
    pairs, dyads = structure(k)
    ec = (1 - e_c) * np.eye(4) + e_c / 4
    eo = (1 - e_o) * np.eye(4) + e_o / 4
    type_of = _type_matrix()
    pair_idx = {p: n for n, p in enumerate(pairs)}
    # P(conduct of pair p | strategy x), and P(outcomes of dyad d | type t)
    conduct_like = np.array(
        [[np.prod(ec[:, x] ** conduct[p]) for x in range(4)] for p in range(len(pairs))]
    )
    outcome_like = np.array(
        [
            [
                np.prod(
                    [
                        sum(
                            tables[o][t, lv] * np.prod(eo[:, lv] ** outcome[d][o])
                            for lv in range(4)
                        )
                        for o in range(2)
                    ]
                )
                for t in range(len(tables[0]))
            ]
            for d in range(len(dyads))
        ]
    )
    dyad_sums: dict[tuple[int, int, int, int, int], float] = {}

    def dyad_sum(d: int, a: int, ap: int, b: int, bp: int) -> float:
        key = (d, a, ap, b, bp)
        if key not in dyad_sums:
            i, j = dyads[d]
            pij, pji = pair_idx[(i, j)], pair_idx[(j, i)]
            s = 0.0
            for x, y in product(range(4), repeat=2):
                w = mapping[a, b, x] * mapping[ap, bp, y]
                w *= conduct_like[pij, x] * conduct_like[pji, y]
                s += w * outcome_like[d, type_of[x, y]]
            dyad_sums[key] = s
        return dyad_sums[key]

    total = 0.0
    for ext in product(range(3), repeat=k):
        for ints in product(range(3), repeat=len(pairs)):
            prob = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
            prob *= np.prod([p_int[p][b] for p, b in zip(pairs, ints, strict=True)])
            for d, (i, j) in enumerate(dyads):
                pij, pji = pair_idx[(i, j)], pair_idx[(j, i)]
                prob *= dyad_sum(d, ext[i], ext[j], ints[pij], ints[pji])
            total += prob
    return total


# Beyond three partners the full enumeration (3**k external levels times
# 3**(k(k-1)) internal levels) is out of reach: 43 million states at k = 4.
# The references below enumerate every joint external level and, given it,
# every dyad's internal levels and strategies, by the definition; given the
# external levels nothing else is shared between dyads (each directed pair
# has its own internal series), so the product over dyads is exact. They are
# checked against the full enumeration at k = 2 and 3 before use at k = 4.


def axis_probability_by_external(p_ext: np.ndarray, p_int: dict, mapping: np.ndarray) -> float:
    """P(all directed strategies balancing): external levels, then each pair's own level."""
    k = len(p_ext)
    pairs, _ = structure(k)
    total = 0.0
    for ext in product(range(3), repeat=k):
        w = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
        for i, j in pairs:
            w *= sum(p_int[(i, j)][b] * mapping[ext[i], b, BAL] for b in range(3))
        total += w
    return total


def _dyad_strategy_joint(ext, i, j, p_int, mapping) -> np.ndarray:
    """(4, 4) P(strategy_ij, strategy_ji | external levels), summing both internal levels."""
    out = np.zeros((STRATS, STRATS))
    for b, bp in product(range(3), repeat=2):
        out += (
            p_int[(i, j)][b] * p_int[(j, i)][bp] * np.outer(mapping[ext[i], b], mapping[ext[j], bp])
        )
    return out


def weakest_link_by_external(p_ext, p_int, mapping, table) -> np.ndarray:
    """(4,) P(min over dyads of the outcome level = l): external levels, then every dyad level."""
    k = len(p_ext)
    _, dyads = structure(k)
    types = _type_matrix()
    want = np.zeros(4)
    for ext in product(range(3), repeat=k):
        w = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
        dists = []
        for i, j in dyads:
            joint = _dyad_strategy_joint(ext, i, j, p_int, mapping)
            dists.append(
                sum(joint[x, y] * table[types[x, y]] for x, y in product(range(4), repeat=2))
            )
        for levels in product(range(4), repeat=len(dyads)):
            want[min(levels)] += w * np.prod([dists[d][lv] for d, lv in enumerate(levels)])
    return want


def behaviour_likelihood_by_external(p_ext, p_int, mapping, conduct, outcome, tables, e_c, e_o):
    """Likelihood of one period's conduct and outcome counts, any k, by the definition.

    Given the external levels, each dyad's term sums its two internal levels,
    its 16 strategy pairs and each outcome's true level.
    """
    k = len(p_ext)
    pairs, dyads = structure(k)
    ec = (1 - e_c) * np.eye(4) + e_c / 4
    eo = (1 - e_o) * np.eye(4) + e_o / 4
    type_of = _type_matrix()
    pair_idx = {p: n for n, p in enumerate(pairs)}
    total = 0.0
    for ext in product(range(3), repeat=k):
        prob = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
        for d, (i, j) in enumerate(dyads):
            pij, pji = pair_idx[(i, j)], pair_idx[(j, i)]
            joint = _dyad_strategy_joint(ext, i, j, p_int, mapping)
            s = 0.0
            for x, y in product(range(4), repeat=2):
                w = joint[x, y]
                w *= np.prod(ec[:, x] ** conduct[pij]) * np.prod(ec[:, y] ** conduct[pji])
                for o in range(2):
                    w *= sum(
                        tables[o][type_of[x, y], lv] * np.prod(eo[:, lv] ** outcome[d][o])
                        for lv in range(4)
                    )
                s += w
            prob *= s
        total += prob
    return total


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ordinal_probs(eta: float, cuts: np.ndarray) -> np.ndarray:
    """Category probabilities of an ordered logistic: ``P(Y > c) = logistic(eta - cut_c)``."""
    above = np.concatenate([[1.0], _logistic(eta - cuts), [0.0]])
    return above[:-1] - above[1:]


def row_log_likelihood(rows, names: dict, values: dict, k: int) -> float:
    """Log-likelihood of observation rows, one row at a time, from the design's definition.

    No counts: every threat row adds ``log P(code | theta)`` of its own
    series, period and indicator; in every period with conduct or outcome
    rows, the joint over external levels, strategies and true outcome
    levels multiplies in each row's coder-error probability separately.

    Parameters
    ----------
    rows
        Iterable of dicts with ``kind, series, pair, dyad, period, indicator, code``
        (indices into ``names``; ``code`` an integer index).
    names
        ``series``, ``pairs`` (as ``(i, j)`` partner indices, model order) and
        ``dyads`` (``(i, j)``, model order), ``n_levels``.
    values
        ``theta (series, period)``, ``discrimination``, ``threshold_shift``
        (per indicator), ``level_sharpness``, ``strategy_map (3, 3, 4)``,
        ``commitment``, ``cohesion`` (``(10, 4)``), ``conduct_error``, ``outcome_error``.
    k
        Number of partner states; external series are the first ``k``.
    """
    code_cuts = np.array([-3.0, -1.0, 1.0, 3.0])
    level_cuts = np.array([-1.0, 1.0])
    theta = values["theta"]
    s = values["level_sharpness"]
    total = 0.0
    behaviour: dict[int, list] = {}
    for r in rows:
        if r["kind"] == "threat":
            d = values["discrimination"][r["indicator"]]
            delta = values["threshold_shift"][r["indicator"]]
            eta = d * (theta[r["series"], r["period"]] - delta)
            total += np.log(_ordinal_probs(eta, d * code_cuts)[r["code"]])
        else:
            behaviour.setdefault(r["period"], []).append(r)
    pairs, dyads = names["pairs"], names["dyads"]
    ec = (1 - values["conduct_error"]) * np.eye(4) + values["conduct_error"] / 4
    eo = (1 - values["outcome_error"]) * np.eye(4) + values["outcome_error"] / 4
    tables = (values["commitment"], values["cohesion"])
    type_of = _type_matrix()
    mapping = values["strategy_map"]
    for t, obs in behaviour.items():
        level = np.array(
            [_ordinal_probs(s * theta[n, t], s * level_cuts) for n in range(len(theta))]
        )
        # q[p, a, x] = sum_b P(internal level b) M[a, b, x]; series order: externals, then pairs
        q = np.einsum("pb,abx->pax", level[k : k + len(pairs)], mapping)
        like = 0.0
        for ext in product(range(3), repeat=k):
            w = np.prod([level[i][a] for i, a in enumerate(ext)])
            for i, j in dyads:
                pij, pji = pairs.index((i, j)), pairs.index((j, i))
                dyad = dyads.index((i, j))
                acc = 0.0
                for x, y in product(range(4), repeat=2):
                    term = q[pij, ext[i], x] * q[pji, ext[j], y]
                    for r in obs:
                        if r["kind"] == "conduct" and r["pair"] == pij:
                            term *= ec[r["code"], x]
                        elif r["kind"] == "conduct" and r["pair"] == pji:
                            term *= ec[r["code"], y]
                    for o in range(2):
                        mix = 0.0
                        for lv in range(4):
                            e = tables[o][type_of[x, y], lv]
                            for r in obs:
                                if (
                                    r["kind"] == "outcome"
                                    and r["dyad"] == dyad
                                    and r["indicator"] == o
                                ):
                                    e *= eo[r["code"], lv]
                            mix += e
                        term *= mix
                    acc += term
                w *= acc
            like += w
        total += np.log(like)
    return float(total)


def dyad_states_semi(p_ext, p_int, mapping, conduct, outcome, tables, e_c, e_o):
    """Each dyad's posterior strategy pair and true outcome levels, by enumeration.

    Enumerates every series' level; given them, each dyad's strategy pair and
    its two true outcome levels, in full. Returns ``(dyad, 4, 4)`` pair
    probabilities and ``(dyad, 2, 4)`` outcome-level probabilities given all
    the period's codes.
    """
    k = len(p_ext)
    pairs, dyads = structure(k)
    ec = (1 - e_c) * np.eye(4) + e_c / 4
    eo = (1 - e_o) * np.eye(4) + e_o / 4
    type_of = _type_matrix()
    pair_idx = {p: n for n, p in enumerate(pairs)}
    conduct_lik = np.array([np.prod(ec ** c[:, None], axis=0) for c in conduct])  # (pair, x)
    # outcome_lik[d, o, l] = prod_obs E[obs, l]
    outcome_lik = np.array([[np.prod(eo ** o[:, None], axis=0) for o in od] for od in outcome])
    pair_post = np.zeros((len(dyads), 4, 4))
    out_post = np.zeros((len(dyads), 2, 4))
    for ext in product(range(3), repeat=k):
        for ints in product(range(3), repeat=len(pairs)):
            base = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
            base *= np.prod([p_int[p][b] for p, b in zip(pairs, ints, strict=True)])
            # full[d][x, y, lc, lh]: joint of this dyad's strategies and true levels with its codes
            full = []
            for d, (i, j) in enumerate(dyads):
                pij, pji = pair_idx[(i, j)], pair_idx[(j, i)]
                w = np.outer(
                    mapping[ext[i], ints[pij]] * conduct_lik[pij],
                    mapping[ext[j], ints[pji]] * conduct_lik[pji],
                )
                lc = tables[0][type_of] * outcome_lik[d, 0]  # (x, y, lc)
                lh = tables[1][type_of] * outcome_lik[d, 1]  # (x, y, lh)
                full.append(w[:, :, None, None] * lc[:, :, :, None] * lh[:, :, None, :])
            totals = [f.sum() for f in full]
            for d, f in enumerate(full):
                rest = base * np.prod([t for e, t in enumerate(totals) if e != d])
                pair_post[d] += rest * f.sum(axis=(2, 3))
                out_post[d, 0] += rest * f.sum(axis=(0, 1, 3))
                out_post[d, 1] += rest * f.sum(axis=(0, 1, 2))
    pair_post /= pair_post.sum(axis=(1, 2), keepdims=True)
    out_post /= out_post.sum(axis=-1, keepdims=True)
    return pair_post, out_post
