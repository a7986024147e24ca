"""Prior sensitivity: a toy with a known answer, every prior set, the sweep, LOO, reuse, the
verdict, and a sweep that is not positive refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pymc as pm
import pytest

from model.evidence.priors import load_priors
from model.inference.config import SamplerConfig
from model.workflows.common.inputs import BadInputError
from model.workflows.studies.sensitivity import (
    classify,
    flag,
    is_probability,
    mean_shift,
    run_sensitivity,
)
from tests.conftest import ANSWER, ROOT, TINY
from tests.helpers import SHIPPED, assert_agree, fake_sensitivity

PRIOR_SETS = sorted((ROOT / "priors").glob("*.toml"))


def _toy_fit(prior_mu: float, prior_sd: float, pinned: bool = False):
    """y ~ N(mu, 1), 40 points at mean 3 (conjugate), with its log prior and likelihood.

    ``pinned`` adds a probability pinned near zero beside ``mu``.
    """
    y = np.random.default_rng(0).normal(3.0, 1.0, size=40)
    with pm.Model():
        mu = pm.Normal("mu", prior_mu, prior_sd)
        if pinned:
            pm.Deterministic("p_pinned", pm.math.invlogit(mu - 12.0))
        pm.Normal("y", mu, 1.0, observed=y)
        idata = pm.sample(
            800,
            tune=500,
            chains=2,
            random_seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
        pm.stats.compute_log_prior(idata, extend_inferencedata=True, progressbar=False)
        pm.stats.compute_log_likelihood(idata, extend_inferencedata=True, progressbar=False)
    return y, idata


def _toy_psense(prior_mu: float, prior_sd: float):
    """The conjugate toy: its posterior is known in closed form."""
    import arviz_stats as azs

    y, idata = _toy_fit(prior_mu, prior_sd)
    post_var = 1 / (1 / prior_sd**2 + len(y))
    post_mean = post_var * (prior_mu / prior_sd**2 + y.sum())
    assert float(idata.posterior["mu"].mean()) == pytest.approx(post_mean, abs=0.05)
    row = azs.psense_summary(idata).loc["mu"]
    return classify(row["prior"], row["likelihood"])


def test_conflicting_prior_is_flagged_and_weak_prior_is_not():
    assert _toy_psense(-3.0, 0.3) == "prior-data conflict"
    assert _toy_psense(0.0, 100.0) == "fine"


def _toy_flags(prior_mu: float, prior_sd: float) -> dict[str, tuple[bool, str]]:
    """The conjugate toy with a probability pinned near zero beside ``mu``: each one's flag."""
    import arviz_stats as azs

    y, idata = _toy_fit(prior_mu, prior_sd, pinned=True)
    table = azs.psense_summary(idata)
    out = {}
    for q in ("mu", "p_pinned"):
        x = idata.posterior[q]
        shift, mcse = mean_shift(x, idata["log_prior"]["mu"])
        out[q] = flag(
            table.loc[q, "prior"], shift, mcse, probability=is_probability(x), sd=float(x.std())
        )
        if q == "mu" and prior_sd < 1:
            # conjugate: doubling the prior's precision moves the mean by about
            # ln 2 * (prior precision) * posterior variance * (prior mean - posterior mean)
            post_var = 1 / (1 / prior_sd**2 + len(y))
            mean = float(x.mean())
            expected = np.log(2) * post_var / prior_sd**2 * (prior_mu - mean)
            assert shift == pytest.approx(expected, rel=0.15)
    return out


def test_flag_keeps_a_real_conflict_and_drops_a_pinned_probability():
    """The conflicting prior pulls mu by several posterior sds: flagged. A probability
    pinned near zero has a CJS distance above the threshold too, yet its mean moves
    by ~1e-5: not material, not flagged. Under a vague prior nothing is flagged."""
    conflict = _toy_flags(-3.0, 0.3)
    assert conflict["mu"][0], conflict["mu"][1]
    assert not conflict["p_pinned"][0] and "not material" in conflict["p_pinned"][1]
    vague = _toy_flags(0.0, 100.0)
    assert not vague["mu"][0] and not vague["p_pinned"][0]


@pytest.fixture(scope="module")
def sensitivity(shipped_inputs, full_fit):
    """The whole analysis at small size: every prior set, a two-point sweep, LOO.

    The default fit is the shared full-size one, given as the analysis's base, as an
    analyst who has run the forecast would give it; the other six prior sets are
    reweighted from it where the weights allow, else drawn by NUTS: its tests are slow.
    """
    theories = ("default", "realist", "no_theory")
    others = [load_priors(p) for p in PRIOR_SETS if p.stem not in theories]
    config = SamplerConfig(draws=400, tune=300, seed=5)
    seen: list[tuple[int, int, str]] = []
    result = run_sensitivity(
        shipped_inputs,
        load_priors(ROOT / "priors" / "realist.toml"),
        others,
        [1.0, 1000.0],
        config,
        baseline=load_priors(ROOT / "priors" / "no_theory.toml"),
        progress=lambda d, n, label: seen.append((d, n, label)),
        base=full_fit,
    )
    return result, seen


def test_a_base_fit_of_other_priors_is_refused_before_any_fit(shipped_inputs, tiny_fit):
    """The given default fit must be a fit of the analysed inputs: under the realist
    priors the default set's fit is not, and nothing is drawn before the refusal."""
    realist = replace(shipped_inputs, priors=load_priors(ROOT / "priors" / "realist.toml"))
    seen: list[tuple[int, int, str]] = []
    with pytest.raises(ValueError, match=r"fitted on \(priors: run"):
        run_sensitivity(
            realist,
            shipped_inputs.priors,
            [],
            [1.0],
            SamplerConfig(**TINY),
            progress=lambda d, n, label: seen.append((d, n, label)),
            base=tiny_fit,
        )
    assert seen == []


@pytest.mark.slow
def test_every_prior_set_fits_and_says_how(sensitivity):
    result, seen = sensitivity
    table = result.prior_sets
    assert set(table["prior set"]) == {p.stem for p in PRIOR_SETS}
    assert table["P(axis)"].between(0, 1).all()
    for dyad in ("CHN-RUS", "CHN-PRK", "PRK-RUS"):
        assert table[dyad].notna().all()
    assert set(table["fit"]) <= {"NUTS", "reweighted"}
    # Walt's mapping has another shape: it cannot be reweighted from Weitsman's
    realist = table.set_index("prior set").loc["realist"]
    assert realist["fit"] == "NUTS" and "dimensions" in realist["why"]
    assert [d for d, _, _ in seen] == list(range(1, len(seen) + 1)) and seen[-1][0] == seen[-1][1]


@pytest.mark.slow
def test_loo_compares_and_stacks_the_three_theories(sensitivity):
    result = sensitivity[0]
    table = result.loo
    assert len(table) == 3
    assert {"elpd", "elpd_diff", "dse", "pareto_k_max", "weight"} <= set(table.columns)
    assert np.isfinite(table["elpd"]).all() and table["elpd_diff"].max() == 0.0
    assert sum(result.stacked.weights.values()) == pytest.approx(1.0)
    p = result.stacked.p_axis
    by = p["by_theory"].values()
    # the stacked P(axis) is a mixture: between the theories' own answers
    assert min(by) - 1e-9 <= p["mean"] <= max(by) + 1e-9
    assert p["hdi_low"] <= p["mean"] <= p["hdi_high"]


@pytest.mark.slow
def test_sweep_moves_p_axis_the_way_the_evidence_points(sensitivity):
    """Near-flat Table 2: the mapping is learned from conduct, where China hedges and
    tethers, never balances; so P(axis) falls below its value under a near-deterministic
    theory, which keeps a 13% chance of balancing in China's cells."""
    sweep = sensitivity[0].sweep.set_index("prior set")
    assert sweep.loc["1", "P(axis)"] < sweep.loc["1000", "P(axis)"]


@pytest.mark.slow
def test_power_scaling_covers_every_family(sensitivity):
    psense = sensitivity[0].psense
    components = set(psense["component"])
    assert {
        "prior: strategy mapping (Table 2)",
        "prior: threat dynamics",
        "likelihood: threat evidence",
    } <= components
    assert psense["sensitivity"].ge(0).all()
    # of the priors' cells the stricter rule flags a subset of those the diagnosis names (a
    # likelihood's cell may be flagged where the diagnosis, about the priors, is "fine": the
    # evidence moving a quantity is no prior problem), each with its reason
    prior_rows = psense["component"].str.startswith("prior")
    assert not (prior_rows & psense["flagged"] & psense["diagnosis"].eq("fine")).any()
    assert psense["flagged"].sum() < (psense["diagnosis"] != "fine").sum()
    assert psense["reason"].str.len().gt(0).all()


@pytest.mark.slow
def test_reweighted_prior_sets_agree_with_nuts_refits(shipped_inputs, full_fit):
    """Two alternative prior sets, reweighted from the default fit and refitted by NUTS:
    P(axis) and every dyad's type probabilities agree within Monte Carlo error.

    The anchor is the shared full-size fit (4 x 1,000 draws, to spare for the weights); the
    refits draw to a bulk ESS of 400, and the comparison's standard errors carry it."""
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.summary import summarise
    from model.workflows.updates import reuse

    anchor = reuse.anchor_of(full_fit, shipped_inputs, label="default")
    config = SamplerConfig(seed=21, **ANSWER)
    default = load_priors(ROOT / "priors" / "default.toml")
    # trust in Table 2 a little lower and a little higher (the default total is 20); larger
    # changes move the prior of all 36 cells and leave too few effective draws: NUTS then
    alternatives = [
        default.scaled_concentration("strategy_map", 17.0),
        default.scaled_concentration("strategy_map", 24.0),
    ]
    for priors in alternatives:
        inputs = replace(shipped_inputs, priors=priors)
        tried = reuse.try_reweight(anchor, inputs, config)
        assert tried.method == "reweighted", tried.why
        assert_agree(summarise(tried.idata), summarise(run_forecast(inputs, config)))


def test_sensitivity_refuses_a_total_that_is_not_positive():
    from model.inference.config import SamplerConfig
    from model.workflows.studies.sensitivity import sensitivity_case

    rival = ROOT / "priors" / "realist.toml"
    with pytest.raises(BadInputError, match="every total concentration must be > 0"):
        sensitivity_case(SHIPPED, rival, [], [1.0, 0.0], SamplerConfig())


def test_verdict_says_when_p_axis_crosses_a_threshold_and_under_what():
    from dataclasses import replace

    from model.workflows.studies.sensitivity import verdict

    result = fake_sensitivity()
    sweep = result.prior_sets.assign(**{"prior set": ["1", "1000"], "P(axis)": [0.02, 0.6]})
    lines = verdict(replace(result, sweep=sweep))
    assert "crosses 0.05 under Table 2 total 1 0.020" in lines[0]
    assert "crosses 0.5 under Table 2 total 1000 0.600" in lines[1]
    assert "likelihood: threat evidence moves P(axis) most (+0.03" in lines[3]
    assert "1 of 2 (quantity, component) cells are flagged" in lines[4]
