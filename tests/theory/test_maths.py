"""The model's maths against closed forms and brute-force enumeration."""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
import pytest
from scipy.special import expit

from model.theory.alliance import (
    axis_log_prob,
    behaviour_log_likelihood,
    coded_counts_likelihood,
    dyad_states,
    fold_to_types,
    outcome_probs,
    type_probs,
    weakest_link,
)
from model.theory.strategy import strategy_given_external, strategy_marginal
from model.theory.tables import ALLIANCE_TYPES, STRATEGIES
from model.theory.threat import (
    CODE_CUTPOINTS,
    LEVEL_ANCHORS,
    code_log_probs,
    level_probs,
    random_walk,
)
from tests import bruteforce as bf


def _case(k: int, rng: np.random.Generator):
    pairs, dyads = bf.structure(k)
    p_ext = rng.dirichlet(np.ones(3), size=k)
    p_int = {p: rng.dirichlet(np.ones(3)) for p in pairs}
    mapping = rng.dirichlet(np.ones(4), size=(3, 3))
    members = np.array(dyads)
    dyad_pairs = np.array([(pairs.index((i, j)), pairs.index((j, i))) for i, j in dyads])
    p_int_arr = np.stack([p_int[p] for p in pairs])[:, None, :]  # (pair, period=1, level)
    q = strategy_given_external(p_int_arr, mapping)
    return pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q


def test_level_probs_closed_form():
    theta = np.array([-2.5, -1.0, 0.0, 0.7, 3.0])
    s = 3.0
    got = level_probs(theta, s).eval()
    low = expit(s * (LEVEL_ANCHORS[0] - theta))
    le_med = expit(s * (LEVEL_ANCHORS[1] - theta))
    np.testing.assert_allclose(got, np.stack([low, le_med - low, 1 - le_med], axis=-1), atol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0)
    assert got[0].argmax() == 0 and got[2].argmax() == 1 and got[4].argmax() == 2


def test_code_log_probs_closed_form():
    theta, d, delta = (
        np.array([-1.5, 0.2, 2.4]),
        np.array([2.0, 0.5, 1.3]),
        np.array([0.1, -0.3, 0.0]),
    )
    got = np.exp(code_log_probs(theta, d, delta).eval())
    gt = expit(d[:, None] * (theta[:, None] - CODE_CUTPOINTS - delta[:, None]))  # P(code > c)
    want = np.concatenate([1 - gt[:, :1], gt[:, :-1] - gt[:, 1:], gt[:, -1:]], axis=1)
    np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(got.sum(-1), 1.0)


def test_code_scale_matches_level_scale():
    """Code 2 (medium) is most likely exactly where the level is medium, with sharp codes."""
    theta = np.array([-1.5, 0.0, 1.5])
    codes = np.exp(code_log_probs(theta, np.full(3, 8.0), np.zeros(3)).eval()).argmax(-1)
    levels = level_probs(theta, 8.0).eval().argmax(-1)
    np.testing.assert_array_equal(codes, [1, 2, 3])
    np.testing.assert_array_equal(levels, [0, 1, 2])


def test_random_walk_is_cumulative_sum():
    init, drift = np.array([0.5, -1.0]), np.array([0.2, 1.0])
    eps = np.random.default_rng(0).normal(size=(2, 5))
    got = random_walk(init, drift, eps).eval()
    want = np.concatenate(
        [init[:, None], init[:, None] + np.cumsum(drift[:, None] * eps, axis=1)], axis=1
    )
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("k", [2, 3])
def test_axis_probability_equals_enumeration(k):
    rng = np.random.default_rng(k)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(k, rng)
    got = np.exp(axis_log_prob(np.log(p_ext)[:, None, :], q, dyad_pairs, members).eval())[0]
    assert got == pytest.approx(bf.axis_probability(p_ext, p_int, mapping), rel=1e-10)


def test_axis_probability_is_not_the_naive_product():
    """Sharing a state's external level across its dyads matters: independence would be wrong."""
    rng = np.random.default_rng(11)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(3, rng)
    mapping = np.full((3, 3, 4), 0.05 / 3)
    mapping[:2, :, 0] = 0.95  # hedge unless external threat is high
    mapping[2, :, 2] = 0.95  # balance when it is
    mapping[2, :, 0] = 0.05 / 3
    p_ext = np.tile([0.5, 0.0, 0.5], (3, 1))
    q = strategy_given_external(np.stack([p_int[p] for p in pairs])[:, None, :], mapping)
    exact = bf.axis_probability(p_ext, p_int, mapping)
    got = np.exp(axis_log_prob(np.log(p_ext + 1e-300)[:, None, :], q, dyad_pairs, members).eval())[
        0
    ]
    strat = strategy_marginal(p_ext[[i for i, _ in pairs]][:, None, :], q).eval()[:, 0]
    naive = np.prod(strat[:, 2])
    assert got == pytest.approx(exact, rel=1e-9)
    assert exact == pytest.approx(0.5**3 * 0.95**6, rel=1e-2)
    assert naive < exact / 5  # treating dyads as independent badly understates P(axis)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dyad_type_probs_equal_enumeration(seed):
    rng = np.random.default_rng(seed)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(3, rng)
    strat = strategy_marginal(p_ext[[i for i, _ in pairs]][:, None, :], q).eval()
    got = type_probs(strat[dyad_pairs[:, 0]], strat[dyad_pairs[:, 1]]).eval()[:, 0]
    for d, (i, j) in enumerate(dyads):
        joint = bf.dyad_type_joint(p_ext[i], p_ext[j], p_int[(i, j)], p_int[(j, i)], mapping)
        want = np.zeros(len(ALLIANCE_TYPES))
        for x, sx in enumerate(STRATEGIES):
            for y, sy in enumerate(STRATEGIES):
                want[ALLIANCE_TYPES.index("-".join(sorted((sx, sy))))] += joint[x, y]
        np.testing.assert_allclose(got[d], want, atol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0)


def test_outcome_probs_mix_the_table():
    p_type = np.random.default_rng(3).dirichlet(np.ones(10), size=2)
    table = np.random.default_rng(4).dirichlet(np.ones(4), size=10)
    np.testing.assert_allclose(outcome_probs(p_type, table).eval(), p_type @ table)


def test_weakest_link_equals_enumeration():
    """P(min over dyads of cohesion = l), by enumerating levels, strategies and cohesions."""
    from functools import cache
    from itertools import product

    rng = np.random.default_rng(5)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(3, rng)
    table = rng.dirichlet(np.ones(4), size=10)
    got = weakest_link(np.log(p_ext)[:, None, :], q, table, dyad_pairs, members).eval()[0]
    types = bf._type_matrix()

    @cache
    def dyad_dist(a: int, ap: int, b: int, bp: int) -> tuple[float, ...]:
        """A dyad's cohesion level given its four series' levels (the same for every dyad)."""
        dist = np.zeros(4)
        for x, y in product(range(4), repeat=2):
            dist += mapping[a, b, x] * mapping[ap, bp, y] * table[types[x, y]]
        return tuple(dist)

    want = np.zeros(4)
    for ext in product(range(3), repeat=3):
        for ints in product(range(3), repeat=len(pairs)):
            w = np.prod([p_ext[i][a] for i, a in enumerate(ext)])
            w *= np.prod([p_int[p][b] for p, b in zip(pairs, ints, strict=True)])
            # per dyad: distribution of its cohesion level given these levels
            dists = []
            for i, j in dyads:
                pij, pji = pairs.index((i, j)), pairs.index((j, i))
                dists.append(dyad_dist(ext[i], ext[j], ints[pij], ints[pji]))
            for levels in product(range(4), repeat=len(dyads)):
                joint = 1.0
                for d, lv in enumerate(levels):
                    joint *= dists[d][lv]
                want[min(levels)] += w * joint
    np.testing.assert_allclose(got, want, atol=1e-10)


def _behaviour_inputs(k, rng, n_obs=3):
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(k, rng)
    conduct = rng.multinomial(n_obs, np.ones(4) / 4, size=len(pairs))
    outcome = rng.multinomial(2, np.ones(4) / 4, size=(len(dyads), 2))
    tables = rng.dirichlet(np.ones(4), size=(2, 10))
    return pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q, conduct, outcome, tables


def _loglik(case, conduct, outcome, e_c, e_o):
    """The model's behaviour log-likelihood for one period of a random case."""
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = case[:8]
    return behaviour_log_likelihood(
        np.log(p_ext)[:, None, :],
        q,
        conduct[:, None, :],
        outcome[:, None],
        case[10],
        e_c,
        e_o,
        dyad_pairs,
        members,
    ).eval()


@pytest.mark.parametrize("n", [4, 5])
def test_coded_counts_likelihood_equals_the_error_matrix_product(n):
    """The closed form is ``prod_c E[c, x]**n_c`` over the error matrix, for every true ``x``."""
    rng = np.random.default_rng(n)
    counts = rng.integers(0, 6, size=(7, 3, n)).astype(float)
    counts[0, 0] = 0.0  # a cell without codes: every category equally likely
    e = 0.13
    log_e = np.log((1 - e) * np.eye(n) + e / n)  # E[c, x]: right with 1 - e, else uniform
    want = counts @ log_e  # (..., x): sum_c n_c log E[c, x]
    relative, log_max = (t.eval() for t in coded_counts_likelihood(counts, e, n))
    np.testing.assert_allclose(np.log(relative) + log_max[..., None], want, rtol=1e-12)
    np.testing.assert_allclose(relative.max(axis=-1), 1.0)


def test_behaviour_likelihood_equals_full_enumeration_k2():
    case = _behaviour_inputs(2, np.random.default_rng(7))
    p_ext, p_int, mapping, conduct, outcome, tables = (case[i] for i in (2, 3, 4, 8, 9, 10))
    got = _loglik(case, conduct, outcome, 0.1, 0.2)[0]
    want = bf.behaviour_likelihood_k2(p_ext, p_int, mapping, conduct, outcome[0], tables, 0.1, 0.2)
    assert got == pytest.approx(np.log(want), rel=1e-10)


def test_behaviour_likelihood_equals_enumeration_k3():
    case = _behaviour_inputs(3, np.random.default_rng(8), n_obs=2)
    p_ext, p_int, mapping, conduct, outcome, tables = (case[i] for i in (2, 3, 4, 8, 9, 10))
    got = _loglik(case, conduct, outcome, 0.15, 0.05)[0]
    want = bf.behaviour_likelihood_semi(p_ext, p_int, mapping, conduct, outcome, tables, 0.15, 0.05)
    assert got == pytest.approx(np.log(want), rel=1e-10)


def test_behaviour_likelihood_without_evidence_is_zero():
    case = _behaviour_inputs(3, np.random.default_rng(9))
    got = _loglik(case, 0 * case[8], 0 * case[9], 0.1, 0.1)
    np.testing.assert_allclose(got, 0.0, atol=1e-12)


def test_behaviour_likelihood_stable_with_many_observations():
    """Hundreds of codes in one period must not underflow to -inf."""
    case = _behaviour_inputs(3, np.random.default_rng(10), n_obs=400)
    got = _loglik(case, case[8], case[9] * 100, 0.1, 0.1)
    assert np.isfinite(got).all() and got[0] < -100


def test_ordered_log_probs_are_finite_far_from_the_cutpoints():
    """Where the naive difference of logistics underflows to log(0), the stable form does not."""
    theta = np.array([-60.0, -8.0, 0.0, 8.0, 60.0])
    got = level_probs(theta, 6.0).eval()
    logs = code_log_probs(theta, np.full(5, 4.0), np.zeros(5)).eval()
    assert np.isfinite(logs).all()
    np.testing.assert_allclose(np.exp(logs).sum(-1), 1.0)
    np.testing.assert_allclose(got.sum(-1), 1.0)
    # the medium level far above the anchors: log P is about -s (theta - 1) - ..., not -inf
    from model.theory.threat import level_log_probs

    lm = level_log_probs(np.array([60.0]), 6.0).eval()[0, 1]
    want = np.log(expit(6 * (1 - 60.0)) * (1 - np.exp(-12.0)))
    assert lm == pytest.approx(want, rel=1e-9)


# Four partners: 6 dyads, 12 directed pairs, 81 joint external levels. The
# references enumerate external levels and then each dyad by the definition
# (tests/bruteforce.py); first they are checked against the full enumeration.


@pytest.mark.parametrize("k", [2, 3])
def test_axis_reference_by_external_equals_full_enumeration(k):
    rng = np.random.default_rng(20 + k)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(k, rng)
    assert bf.axis_probability_by_external(p_ext, p_int, mapping) == pytest.approx(
        bf.axis_probability(p_ext, p_int, mapping), rel=1e-12
    )


def test_behaviour_reference_by_external_equals_full_enumeration_k2():
    case = _behaviour_inputs(2, np.random.default_rng(22), n_obs=2)
    p_ext, p_int, mapping, conduct, outcome, tables = (case[i] for i in (2, 3, 4, 8, 9, 10))
    full = bf.behaviour_likelihood_semi(p_ext, p_int, mapping, conduct, outcome, tables, 0.1, 0.2)
    by_ext = bf.behaviour_likelihood_by_external(
        p_ext, p_int, mapping, conduct, outcome, tables, 0.1, 0.2
    )
    assert by_ext == pytest.approx(full, rel=1e-12)


def test_behaviour_reference_by_external_equals_model_k3():
    """At k = 3 the model equals the full enumeration (above), so this ties the reference to it."""
    case = _behaviour_inputs(3, np.random.default_rng(8), n_obs=2)
    p_ext, p_int, mapping, conduct, outcome, tables = (case[i] for i in (2, 3, 4, 8, 9, 10))
    got = _loglik(case, conduct, outcome, 0.15, 0.05)[0]
    want = bf.behaviour_likelihood_by_external(
        p_ext, p_int, mapping, conduct, outcome, tables, 0.15, 0.05
    )
    assert got == pytest.approx(np.log(want), rel=1e-10)


def test_weakest_link_reference_equals_model_k3():
    """The k-general weakest-link reference agrees with the model where the full one does."""
    rng = np.random.default_rng(5)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(3, rng)
    table = rng.dirichlet(np.ones(4), size=10)
    got = weakest_link(np.log(p_ext)[:, None, :], q, table, dyad_pairs, members).eval()[0]
    np.testing.assert_allclose(
        got, bf.weakest_link_by_external(p_ext, p_int, mapping, table), atol=1e-12
    )


def test_axis_probability_k4():
    rng = np.random.default_rng(40)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(4, rng)
    assert len(dyads) == 6 and len(pairs) == 12
    got = np.exp(axis_log_prob(np.log(p_ext)[:, None, :], q, dyad_pairs, members).eval())[0]
    assert got == pytest.approx(bf.axis_probability_by_external(p_ext, p_int, mapping), rel=1e-10)


def test_axis_probability_k4_shares_external_levels():
    """At k = 4 the exact P(axis) is far above the product of per-pair balancing chances."""
    rng = np.random.default_rng(41)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(4, rng)
    mapping = np.full((3, 3, 4), 0.05 / 3)
    mapping[:2, :, 0] = 0.95  # hedge unless the external threat is high
    mapping[2, :, 2] = 0.95  # balance when it is
    mapping[2, :, 0] = 0.05 / 3
    p_ext = np.tile([0.5, 0.0, 0.5], (4, 1))
    q = strategy_given_external(np.stack([p_int[p] for p in pairs])[:, None, :], mapping)
    got = np.exp(axis_log_prob(np.log(p_ext + 1e-300)[:, None, :], q, dyad_pairs, members).eval())
    strat = strategy_marginal(p_ext[[i for i, _ in pairs]][:, None, :], q).eval()[:, 0]
    assert got[0] == pytest.approx(0.5**4 * 0.95**12, rel=1e-2)
    assert np.prod(strat[:, 2]) < got[0] / 50


def test_dyad_type_probs_equal_enumeration_k4():
    rng = np.random.default_rng(42)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(4, rng)
    strat = strategy_marginal(p_ext[[i for i, _ in pairs]][:, None, :], q).eval()
    got = type_probs(strat[dyad_pairs[:, 0]], strat[dyad_pairs[:, 1]]).eval()[:, 0]
    assert got.shape == (6, len(ALLIANCE_TYPES))
    for d, (i, j) in enumerate(dyads):
        joint = bf.dyad_type_joint(p_ext[i], p_ext[j], p_int[(i, j)], p_int[(j, i)], mapping)
        want = np.zeros(len(ALLIANCE_TYPES))
        for x, sx in enumerate(STRATEGIES):
            for y, sy in enumerate(STRATEGIES):
                want[ALLIANCE_TYPES.index("-".join(sorted((sx, sy))))] += joint[x, y]
        np.testing.assert_allclose(got[d], want, atol=1e-12)


def test_weakest_link_equals_enumeration_k4():
    rng = np.random.default_rng(43)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = _case(4, rng)
    table = rng.dirichlet(np.ones(4), size=10)
    got = weakest_link(np.log(p_ext)[:, None, :], q, table, dyad_pairs, members).eval()[0]
    want = bf.weakest_link_by_external(p_ext, p_int, mapping, table)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got.sum() == pytest.approx(1.0)


def test_behaviour_likelihood_equals_enumeration_k4():
    case = _behaviour_inputs(4, np.random.default_rng(44), n_obs=2)
    p_ext, p_int, mapping, conduct, outcome, tables = (case[i] for i in (2, 3, 4, 8, 9, 10))
    got = _loglik(case, conduct, outcome, 0.12, 0.08)[0]
    want = bf.behaviour_likelihood_by_external(
        p_ext, p_int, mapping, conduct, outcome, tables, 0.12, 0.08
    )
    assert got == pytest.approx(np.log(want), rel=1e-10)


def _states(case, conduct, outcome, e_c, e_o):
    """The model's evidence-conditioned dyad states for one period of a random case."""
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = case[:8]
    pair_prob, outcome_prob = dyad_states(
        np.log(p_ext)[:, None, :],
        q,
        conduct[:, None, :],
        outcome[:, None],
        case[10],
        e_c,
        e_o,
        dyad_pairs,
        members,
    )
    return pair_prob.eval()[:, 0], outcome_prob.eval()[:, 0]


@pytest.mark.parametrize(("k", "seed"), [(2, 21), (2, 22), (3, 23), (3, 24)])
def test_dyad_states_equal_enumeration(k, seed):
    """Bayes' rule on the likelihood's summands equals the posterior by enumeration."""
    case = _behaviour_inputs(k, np.random.default_rng(seed), n_obs=2)
    p_ext, p_int, mapping, conduct, outcome, tables = (case[i] for i in (2, 3, 4, 8, 9, 10))
    got_pair, got_outcome = _states(case, conduct, outcome, 0.15, 0.1)
    want_pair, want_outcome = bf.dyad_states_semi(
        p_ext, p_int, mapping, conduct, outcome, tables, 0.15, 0.1
    )
    np.testing.assert_allclose(got_pair, want_pair, atol=1e-10)
    np.testing.assert_allclose(got_outcome, want_outcome, atol=1e-10)


def test_dyad_states_without_evidence_are_the_implied_ones():
    """With no codes in the period the state is what the theory implies from the threats."""
    case = _behaviour_inputs(3, np.random.default_rng(25))
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = case[:8]
    tables = case[10]
    pair_prob, outcome_prob = _states(case, 0 * case[8], 0 * case[9], 0.1, 0.1)
    strat = strategy_marginal(p_ext[[i for i, _ in pairs]][:, None, :], q).eval()
    implied = type_probs(strat[dyad_pairs[:, 0]], strat[dyad_pairs[:, 1]]).eval()[:, 0]
    folded = fold_to_types(pair_prob).eval()
    np.testing.assert_allclose(folded, implied, atol=1e-12)
    for o in range(2):
        want = outcome_probs(implied, tables[o]).eval()
        np.testing.assert_allclose(outcome_prob[:, o], want, atol=1e-12)


def test_balancing_codes_pull_the_state_to_balancing_balancing():
    """Many balancing codes on both sides move the state there; the implied type stays put."""
    rng = np.random.default_rng(26)
    case = _behaviour_inputs(3, rng)
    pairs, dyads, p_ext, p_int, mapping, members, dyad_pairs, q = case[:8]
    conduct = np.zeros_like(case[8])
    bal = STRATEGIES.index("balancing")
    conduct[list(dyad_pairs[0]), bal] = 6  # the first dyad's two pairs, both ways
    pair_prob, _ = _states(case, conduct, 0 * case[9], 0.1, 0.1)
    strat = strategy_marginal(p_ext[[i for i, _ in pairs]][:, None, :], q).eval()
    implied = type_probs(strat[dyad_pairs[:, 0]], strat[dyad_pairs[:, 1]]).eval()[:, 0]
    bb = ALLIANCE_TYPES.index("balancing-balancing")
    smoothed = fold_to_types(pair_prob).eval()
    assert smoothed[0, bb] > 0.9 > implied[0, bb]


def test_full_table_repeats_an_external_only_row_for_every_internal_level():
    """Walt's table (one row per external level) and Weitsman's reach every user in one form."""
    from model.theory.strategy import full_table

    rng = np.random.default_rng(0)
    walt = rng.dirichlet(np.ones(4), size=3)  # (ext, strategy)
    full = full_table(walt)
    assert full.shape == (3, 3, 4)
    for b in range(3):
        np.testing.assert_array_equal(full[:, b], walt)
    weitsman = rng.dirichlet(np.ones(4), size=(3, 3))
    assert full_table(weitsman) is weitsman
    draws = rng.dirichlet(np.ones(4), size=(5, 3))  # a leading draw axis
    np.testing.assert_array_equal(full_table(draws, lead=1)[:, :, 2], draws)
    np.testing.assert_allclose(full_table(pt.as_tensor(walt)).eval(), full)
