"""Predictive checks: replicates follow the model, the statistics are right, the flag can fire."""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy.stats import binom

from model.evidence.aggregate import Evidence
from model.generative.build import build_model
from model.workflows.validation import predictive as checks


@pytest.fixture(scope="module")
def thinned(small_fit):
    return checks.thin_posterior(small_fit.posterior.to_dataset(), 200)


def test_thinning_keeps_chains_and_about_n_draws(small_fit, thinned):
    assert thinned.sizes["chain"] == small_fit.posterior.sizes["chain"]
    assert thinned.sizes["chain"] * thinned.sizes["draw"] == 200
    assert np.unique(thinned["draw"].values).size == thinned.sizes["draw"]


def test_threat_log_likelihood_is_the_models(small_fit, shipped_inputs):
    """Pointwise threat log-likelihood equals PyMC's own, per cell and draw."""
    ev = shipped_inputs.evidence
    few = small_fit.posterior.to_dataset().isel(draw=slice(0, 10))
    mine = checks.threat_cell_log_likelihood(checks.threat_log_probs(few, ev), ev)
    model = build_model(ev, shipped_inputs.priors)
    with model:
        ll = pm.stats.compute_log_likelihood(
            xr.DataTree.from_dict({"posterior": few}),
            var_names=["threat_evidence"],
            progressbar=False,
        )
    theirs = ll.log_likelihood["threat_evidence"]
    if "code" in theirs.dims:
        theirs = theirs.sum("code")
    np.testing.assert_allclose(mine, theirs.transpose("chain", "draw", "threat_cell"), atol=1e-8)


def test_threat_replicates_keep_totals_and_follow_the_code_probabilities(thinned, shipped_inputs):
    ev = shipped_inputs.evidence
    log_p = checks.threat_log_probs(thinned, ev)
    rng = np.random.default_rng(0)
    reps = np.stack([checks.replicate_threat(log_p, ev, rng) for _ in range(20)])
    totals = ev.threat_counts.sum(axis=1)
    assert (reps.sum(axis=-1) == totals).all()
    # mean replicated count per (cell, code) against n * p, averaged over draws
    expected = (totals[:, None] * np.exp(log_p)).mean(axis=(0, 1))
    mean = reps.mean(axis=(0, 1, 2))
    se = reps.reshape(-1, *reps.shape[-2:]).std(axis=0) / np.sqrt(reps[..., 0, 0].size) + 1e-3
    assert (np.abs(mean - expected) < 5 * se).all()


def test_behaviour_replicates_match_the_models_marginals(small_fit, shipped_inputs):
    """At the last period with evidence the model reports strategy and outcome marginals.

    E[codes of c] = n * sum_x P(strategy x) E[c, x] for conduct and
    n * sum_l P(level l) E[c, l] for outcomes, with ``E = (1 - e) I + e / n``; the
    replicates must agree within Monte Carlo error.
    """
    ev = shipped_inputs.evidence
    post = small_fit.posterior.to_dataset()
    assert ev.periods[ev.behaviour_periods[-1]] == post["window"].values[0]
    rng = np.random.default_rng(1)
    reps = [checks.replicate_behaviour(post, ev, rng) for _ in range(4)]
    conduct = np.concatenate([r["conduct"][:, :, :, -1] for r in reps], axis=1)
    outcome = np.concatenate([r["outcome"][:, :, :, -1] for r in reps], axis=1)
    w = post["window"].values[0]

    def error(e, n):
        return (1 - e)[..., None, None] * np.eye(n) + e[..., None, None] / n

    n_c = ev.conduct_counts[:, -1].sum(axis=-1)  # (pair,)
    p_x = post["strategy_prob"].sel(window=w).transpose("chain", "draw", "pair", "strategy")
    e_c = error(post["conduct_error"].values, 4)  # (chain, draw, c, x)
    want_c = n_c[:, None] * np.einsum("abpx,abcx->pc", p_x.values, e_c) / p_x[..., 0, 0].size
    got_c = conduct.reshape(-1, *conduct.shape[2:]).mean(axis=0)
    se_c = conduct.reshape(-1, *conduct.shape[2:]).std(axis=0) / np.sqrt(conduct[..., 0, 0].size)
    assert (np.abs(got_c - want_c) < 5 * se_c + 1e-3).all()

    e_o = error(post["outcome_error"].values, 4)
    for o, name in enumerate(("commitment_prob", "cohesion_prob")):
        n_o = ev.outcome_counts[:, -1, o].sum(axis=-1)  # (dyad,)
        p_l = post[name].sel(window=w).transpose("chain", "draw", "dyad", "outcome_level")
        want = n_o[:, None] * np.einsum("abdl,abcl->dc", p_l.values, e_o) / p_l[..., 0, 0].size
        got = outcome[:, :, :, o].reshape(-1, *outcome.shape[2:3], 4)
        se = got.std(axis=0) / np.sqrt(got.shape[0])
        assert (np.abs(got.mean(axis=0) - want) < 5 * se + 1e-3).all(), name


def test_p_values_on_a_hand_example():
    observed = np.array([[0, 0, 4]])
    replicated = np.array([[[4, 0, 0]], [[0, 0, 4]], [[2, 2, 0]], [[0, 4, 0]]])
    expected = np.full((4, 1, 3), 4 / 3)
    out = checks.predictive_p_values(observed, replicated, expected, ordinal=True)
    # mean codes: observed 2; replicated 0, 2, 0.5, 1 -> P(>=2) = 1/4, P(<=2) = 1
    assert out["mean"][0] == 2.0
    assert out["p_mean"][0] == pytest.approx(0.5)
    # Pearson discrepancy: observed 8; replicated 8, 8, 2, 8 -> 3/4 at least as large
    assert out["p_mix"][0] == pytest.approx(0.75)


def test_pit_excess_is_a_binomial_tail():
    p = checks.pit_excess_p_value(np.array([0, 2, 3]), np.array([8, 8, 8]), 0.06)
    assert p[0] == 1.0
    assert p[1] == pytest.approx(1 - 0.94**8 - 8 * 0.06 * 0.94**7)
    assert p[2] == pytest.approx(binom.sf(2, 8, 0.06))


def _shifted(ev: Evidence, series: int) -> Evidence:
    """The evidence with every code of one series moved to the opposite end of the scale."""
    counts = ev.threat_counts.copy()
    rows = ev.threat_cells[:, 0] == series
    counts[rows] = counts[rows][:, ::-1]
    return dataclasses.replace(ev, threat_counts=counts)


def test_a_misfitting_series_is_flagged_and_the_shipped_fit_is_not(thinned, shipped_inputs):
    """Codes the posterior cannot have produced are flagged; the evidence it was fitted to is not.

    RUS<-USA is coded 'high' throughout; reversed, its codes read 'low',
    which the posterior (fitted to 'high') does not replicate.
    """
    ev = shipped_inputs.evidence
    _, rows = checks.threat_checks(thinned, None, ev, np.random.default_rng(2))
    assert not rows["flagged"].sel(unit="RUS<-USA")
    bad = _shifted(ev, ev.structure.series.index("RUS<-USA"))
    _, rows = checks.threat_checks(thinned, None, bad, np.random.default_rng(2))
    flagged = rows.sel(unit="RUS<-USA")
    assert bool(flagged["flagged"]), rows.to_dataframe()
    assert "mean code" in str(flagged["reason"].values)
    assert float(flagged["p_mean"]) < checks.P_FLAG


def test_run_checks_round_trip(tmp_path, small_fit, shipped_inputs):
    ev = shipped_inputs.evidence
    model = build_model(ev, shipped_inputs.priors)
    tree = checks.run_checks(small_fit, ev, model, n_draws=40, seed=3)
    path = checks.write_checks(tree, tmp_path / "checks.nc")
    back = xr.open_datatree(path)
    fit = checks.fit_table(back)
    assert list(fit["kind"].unique()) == ["threat", "conduct", "outcome"]
    assert len(fit) == len(ev.structure.series) + len(ev.structure.pairs) + 2 * len(
        ev.structure.dyads
    )
    assert set(back["threat"].children) >= {
        "observed_data",
        "posterior_predictive",
        "prior_predictive",
        "log_likelihood",
        "loo",
    }
    pit = back["threat"]["loo"]["pit"].values
    assert ((pit >= 0) & (pit <= 1)).all()
    obs = back["evidence"]["threat_count"].values
    assert obs.sum() == ev.threat_counts.sum()
    # same seed, same checks
    again = checks.run_checks(small_fit, ev, model, n_draws=40, seed=3)
    np.testing.assert_array_equal(
        again["threat"]["posterior_predictive"]["code_count"].values,
        back["threat"]["posterior_predictive"]["code_count"].values,
    )
