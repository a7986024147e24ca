"""Prior sensitivity: a toy with a known answer, every prior set, the sweep, LOO, the runner."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from model.priors import load_priors
from model.sensitivity import FitTask, classify, comparison_table, fit_summary, loo_compare
from tests.conftest import ACTORS, AS_OF, OBSERVATIONS, ROOT

PRIOR_SETS = sorted((ROOT / "priors").glob("*.toml"))


def _toy_psense(prior_mu: float, prior_sd: float):
    """y ~ N(mu, 1), 40 points at mean 3: the conjugate posterior is known in closed form."""
    import arviz_stats as azs

    y = np.random.default_rng(0).normal(3.0, 1.0, size=40)
    with pm.Model():
        mu = pm.Normal("mu", prior_mu, prior_sd)
        pm.Normal("y", mu, 1.0, observed=y)
        idata = pm.sample(
            800,
            tune=500,
            chains=2,
            random_seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
        pm.compute_log_prior(idata, extend_inferencedata=True, progressbar=False)
        pm.compute_log_likelihood(idata, extend_inferencedata=True, progressbar=False)
    post_var = 1 / (1 / prior_sd**2 + len(y))
    post_mean = post_var * (prior_mu / prior_sd**2 + y.sum())
    assert float(idata.posterior["mu"].mean()) == pytest.approx(post_mean, abs=0.05)
    row = azs.psense_summary(idata).loc["mu"]
    return classify(row["prior"], row["likelihood"])


def test_conflicting_prior_is_flagged_and_weak_prior_is_not():
    assert _toy_psense(-3.0, 0.3) == "prior-data conflict"
    assert _toy_psense(0.0, 100.0) == "fine"


@pytest.fixture(scope="module")
def prior_set_fits():
    common = dict(actors=ACTORS, data=OBSERVATIONS, draws=150, tune=250, seed=5, as_of=AS_OF)
    return {
        p.stem: fit_summary(
            FitTask(label=p.stem, priors=load_priors(p), **common),
            keep=p.stem in ("default", "realist"),
        )
        for p in PRIOR_SETS
    }


def test_every_prior_set_fits(prior_set_fits):
    assert {"default", "weak_theory", "realist", "fast_drift"} <= set(prior_set_fits)
    table = comparison_table(list(prior_set_fits.values()))
    assert len(table) == len(PRIOR_SETS)
    assert table["P(axis)"].between(0, 1).all()
    for dyad in ("CHN-RUS", "CHN-PRK", "PRK-RUS"):
        assert table[dyad].notna().all()


def test_realist_mapping_ignores_internal_threat(prior_set_fits):
    m = prior_set_fits["realist"]["idata"].posterior["strategy_map"]
    assert m.dims[2:] == ("ext_level", "strategy")


def test_loo_compares_the_two_theories(prior_set_fits):
    fits = {
        "Weitsman": (prior_set_fits["default"]["idata"], None),
        "Walt": (prior_set_fits["realist"]["idata"], None),
    }
    table = loo_compare(fits)
    assert set(table.index) == {"Weitsman", "Walt"}
    assert {"elpd", "elpd_diff", "dse", "pareto_k_max"} <= set(table.columns)
    assert np.isfinite(table["elpd"]).all() and table["elpd_diff"].max() == 0.0


def test_sweep_moves_p_axis_the_way_the_evidence_points():
    """Near-flat Table 2: the mapping is learned from conduct, where China hedges and
    tethers, never balances; so P(axis) falls below its value under a near-deterministic
    theory, which keeps a 13% chance of balancing in China's cells."""
    base = load_priors(ROOT / "priors" / "default.toml")
    common = dict(actors=ACTORS, data=OBSERVATIONS, draws=300, tune=300, seed=11, as_of=AS_OF)
    flat = fit_summary(
        FitTask(label="1", priors=base.scaled_concentration("strategy_map", 1.0), **common)
    )
    sharp = fit_summary(
        FitTask(label="1000", priors=base.scaled_concentration("strategy_map", 1000.0), **common)
    )
    p_flat, p_sharp = flat["summary"]["p_axis"]["mean"], sharp["summary"]["p_axis"]["mean"]
    assert p_flat < p_sharp
    # and the learned mapping puts less mass on balancing in China's hedging cells
    sharp_bal = sharp["summary"]["strategies"]["CHN->RUS"]["balancing"]
    flat_bal = flat["summary"]["strategies"]["CHN->RUS"]["balancing"]
    assert flat_bal < sharp_bal


def _square(x: int) -> int:
    return x * x


def test_dask_runner_keeps_task_order():
    from model.runner import run_tasks

    assert run_tasks(_square, [(3,), (1,), (2,)], workers=2) == [9, 1, 4]
