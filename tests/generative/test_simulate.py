"""The simulator tells the story the likelihood scores, and feeds the real pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.evidence.aggregate import same_structure
from model.evidence.priors import load_priors
from model.generative.simulate import (
    Design,
    PriorSampler,
    code_probs_np,
    level_probs_np,
    replicate_behaviour,
    simulate_behaviour,
    simulate_case,
    template_evidence,
)
from model.theory.alliance import behaviour_log_likelihood
from model.theory.threat import code_log_probs, level_probs
from tests.conftest import DEFAULT_PRIORS

N_SIMS = 40_000


def _fixed_params(priors, n):
    """Externals on the medium|high boundary: strategies of one state's pairs share its level."""
    mean = {
        g: np.asarray(priors.tables[g]["kwargs"]["a"], float)
        for g in ("strategy_map", "commitment", "cohesion")
    }
    mean = {g: a / a.sum(-1, keepdims=True) for g, a in mean.items()}
    theta = np.array([1.0, 1.0, 1.0, -2.0, -2.0, 0.0, 0.0, -2.0, -2.0])[:, None]
    one = {
        "theta": theta,
        "level_sharpness": np.array(4.0),
        "conduct_error": np.array(0.1),
        "outcome_error": np.array(0.15),
        **mean,
    }
    many = {k: np.broadcast_to(v, (n, *np.shape(v))) for k, v in one.items()}
    return one, many


def _likelihood_prob(one, structure, conduct_rows, outcome_rows):
    """exp(log-likelihood) of evidence consisting of exactly the given rows, one period."""
    k = len(structure.actors.partners)
    conduct = np.zeros((len(structure.pairs), 1, 4))
    outcome = np.zeros((len(structure.dyads), 1, 2, 4))
    for pair, code in conduct_rows:
        conduct[pair, 0, code] += 1
    for dyad, o, code in outcome_rows:
        outcome[dyad, 0, o, code] += 1
    p_lev = level_probs_np(one["theta"], one["level_sharpness"])  # (series, 1, level)
    q = (p_lev[structure.pair_internal_series][:, :, None, :, None] * one["strategy_map"]).sum(3)
    ll = behaviour_log_likelihood(
        np.log(p_lev[:k]),
        q,
        conduct,
        outcome,
        np.stack([one["commitment"], one["cohesion"]]),
        one["conduct_error"],
        one["outcome_error"],
        structure.dyad_pairs,
        structure.members,
    ).eval()
    return float(np.exp(ll[0]))


@pytest.fixture(scope="module")
def story():
    priors = load_priors(DEFAULT_PRIORS)
    design = Design(n_periods=2)
    s = design.structure
    one, many = _fixed_params(priors, N_SIMS)
    beh = simulate_behaviour(
        many,
        s,
        np.ones((len(s.pairs), 1), dtype=np.int64),
        np.ones((len(s.dyads), 1, 2), dtype=np.int64),
        np.random.default_rng(11),
    )
    return s, one, beh


def _codes(counts):
    """The single coded category of each simulation's one-row cell."""
    return counts.argmax(-1)


def test_simulator_matches_likelihood_marginals(story):
    """Joint code frequencies equal exp(log-likelihood) of the same rows, not a near miss.

    Three joints are checked: two pairs of one state (they share its external
    level), a pair's conduct with its dyad's commitment, and the cohesion of
    two dyads sharing a state. As a control, the same frequencies must reject
    the (wrong) prediction in which one state's two pairs are independent.
    """
    s, one, beh = story
    conduct = _codes(beh.conduct_counts)[:, :, 0]  # (sim, pair)
    outcome = _codes(beh.outcome_counts)[:, :, 0]  # (sim, dyad, outcome)
    p_rc, p_rp = s.pairs.index("RUS->CHN"), s.pairs.index("RUS->PRK")
    p_cp = s.pairs.index("CHN->PRK")
    d_cp, d_cr = s.dyads.index("CHN-PRK"), s.dyads.index("CHN-RUS")
    joints = {
        "shared external": (
            conduct[:, p_rc],
            conduct[:, p_rp],
            lambda a, b: _likelihood_prob(one, s, [(p_rc, a), (p_rp, b)], []),
        ),
        "conduct and commitment": (
            conduct[:, p_cp],
            outcome[:, d_cp, 0],
            lambda a, b: _likelihood_prob(one, s, [(p_cp, a)], [(d_cp, 0, b)]),
        ),
        "cohesion of two dyads": (
            outcome[:, d_cp, 1],
            outcome[:, d_cr, 1],
            lambda a, b: _likelihood_prob(one, s, [], [(d_cp, 1, a), (d_cr, 1, b)]),
        ),
    }
    for name, (x, y, prob) in joints.items():
        expected = np.array([[prob(a, b) for b in range(4)] for a in range(4)])
        assert expected.sum() == pytest.approx(1.0, abs=1e-9), name
        observed = np.zeros((4, 4))
        np.add.at(observed, (x, y), 1)
        chi2 = stats.chisquare(observed.ravel(), expected.ravel() * N_SIMS)
        assert chi2.pvalue > 1e-3, (name, chi2)
        if name == "shared external":
            independent = np.outer(expected.sum(1), expected.sum(0))
            wrong = stats.chisquare(observed.ravel(), independent.ravel() * N_SIMS)
            assert wrong.pvalue < 1e-6, wrong


def test_numpy_measurement_matches_model():
    theta = np.linspace(-4, 4, 9)
    d, delta = np.full(9, 1.7), np.full(9, 0.3)
    np.testing.assert_allclose(
        code_probs_np(theta, d, delta), np.exp(code_log_probs(theta, d, delta).eval()), atol=1e-12
    )
    np.testing.assert_allclose(
        level_probs_np(theta, 3.5), level_probs(theta, 3.5).eval(), atol=1e-12
    )


@pytest.fixture(scope="module")
def prior_draws():
    from model.generative.build import build_model

    design = Design(n_periods=3, threat_rows=3, conduct_rows=2, outcome_rows=1)
    template = template_evidence(design)
    sampler = PriorSampler(build_model(template, load_priors(DEFAULT_PRIORS)))
    return design, template, sampler


def test_simulated_case_goes_through_the_pipeline(prior_draws):
    design, template, sampler = prior_draws
    truth = sampler(3)
    assert sampler(3)["theta"] == pytest.approx(truth["theta"])  # reproducible from the seed
    sim = simulate_case(design, truth, np.random.default_rng(0))
    ev = sim.evidence
    assert same_structure(template, ev)
    n_series, n_pairs, n_dyads = 9, 6, 3
    assert ev.n_rows == {
        "threat": 3 * n_series * 3,
        "conduct": 2 * n_pairs * 3,
        "outcome": 2 * n_dyads * 3,
    }
    np.testing.assert_array_equal(ev.conduct_counts, sim.behaviour.conduct_counts)
    np.testing.assert_array_equal(ev.outcome_counts, sim.behaviour.outcome_counts)
    assert ev.threat_counts.sum() == sim.threat_counts.sum()


def test_replicate_behaviour_keeps_rows_per_cell(prior_draws):
    import xarray as xr

    design, template, sampler = prior_draws
    sim = simulate_case(design, sampler(5), np.random.default_rng(1))
    draws = [sampler(100 + i) for i in range(6)]
    post = xr.Dataset(
        {
            k: (
                ("chain", "draw", *[f"{k}_{i}" for i in range(np.ndim(draws[0][k]))]),
                np.stack([d[k] for d in draws]).reshape((2, 3, *np.shape(draws[0][k]))),
            )
            for k in draws[0]
        }
    )
    rep = replicate_behaviour(xr.DataTree.from_dict({"posterior": post}), sim.evidence, seed=0)
    assert rep["conduct_counts"].shape == (2, 3, 6, 3, 4)
    np.testing.assert_array_equal(
        rep["conduct_counts"].sum("strategy").values,
        np.broadcast_to(sim.evidence.conduct_counts.sum(-1), (2, 3, 6, 3)),
    )
    np.testing.assert_array_equal(
        rep["outcome_counts"].sum("outcome_level").values,
        np.broadcast_to(sim.evidence.outcome_counts.sum(-1), (2, 3, 3, 3, 2)),
    )


def test_sparse_design_has_evidence_once_every_n_periods():
    """``every=4``: one reading a year, always including the as-of period."""
    from model.generative.simulate import Design, row_layout, template_evidence

    design = Design(n_periods=8, every=4, threat_rows=1, conduct_rows=1, outcome_rows=1)
    threat, conduct, outcome = row_layout(design)
    assert design.observed().tolist() == [False, False, False, True] * 2
    assert (threat.sum(axis=(0, 2)) > 0).tolist() == design.observed().tolist()
    assert conduct[:, ~design.observed()].sum() == 0 and outcome[:, ~design.observed()].sum() == 0
    ev = template_evidence(design)
    assert ev.behaviour_periods.tolist() == [3, 7] and ev.report_index[0] == 7


@pytest.mark.parametrize(
    ("theta", "d", "delta"), [(0.0, 2.0, 0.0), (0.9, 4.0, 0.3), (-2.5, 1.0, -0.2)]
)
def test_code_information_is_the_fisher_information(theta, d, delta):
    """``sum_c p_c'**2 / p_c`` equals the variance of the score, by central differences.

    The same for the information about ``log d``.
    """
    from model.generative.simulate import code_information

    h = 1e-6
    p = code_probs_np(theta, d, delta)
    score = np.log(code_probs_np(theta + h, d, delta)) - np.log(code_probs_np(theta - h, d, delta))
    score = score / (2 * h)
    np.testing.assert_allclose(code_information(theta, d, delta), (p * score**2).sum(), rtol=1e-6)
    # about log d: the score of log d, by central differences in log d
    up = np.log(code_probs_np(theta, d * np.exp(h), delta))
    score = (up - np.log(code_probs_np(theta, d * np.exp(-h), delta))) / (2 * h)
    np.testing.assert_allclose(
        code_information(theta, d, delta, "log_discrimination"), (p * score**2).sum(), rtol=1e-6
    )
