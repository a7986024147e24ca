"""Stacking rival theories: weights from PSIS-LOO, and the mixture's P(axis)."""

from __future__ import annotations

import numpy as np
import pytest
from arviz_base import from_dict

from model.workflows.forecast.theories import mixture_draws, stack


def test_mixture_takes_draws_in_proportion_to_the_weights():
    draws = {"a": np.zeros((2, 500)), "b": np.ones((4, 250))}
    mixed = mixture_draws(draws, {"a": 0.3, "b": 0.7}, seed=1)
    assert len(mixed) == 1000
    assert mixed.mean() == pytest.approx(0.7)
    np.testing.assert_array_equal(mixed, mixture_draws(draws, {"a": 0.3, "b": 0.7}, seed=1))
    assert mixture_draws(draws, {"a": 1.0, "b": 0.0}, seed=2).max() == 0.0


def _fake_fit(rng, log_lik_mean: float, p_axis: float):
    """A posterior whose pointwise log-likelihood of 12 periods centres on ``log_lik_mean``."""
    ll = log_lik_mean + 0.05 * rng.standard_normal((2, 400, 12))
    axis = np.clip(p_axis + 0.01 * rng.standard_normal((2, 400, 1)), 0, 1)
    idata = from_dict(
        {
            "posterior": {"p_axis": axis},
            "log_likelihood": {"behaviour_evidence": ll},
            "observed_data": {"behaviour_evidence": np.zeros(12)},
        },
        dims={"p_axis": ["period"], "behaviour_evidence": ["behaviour_period"]},
        coords={"period": ["2025Q1"], "behaviour_period": [f"p{i}" for i in range(12)]},
    )
    return idata, None


def test_the_theory_that_predicts_the_evidence_better_gets_the_weight():
    rng = np.random.default_rng(0)
    fits = {
        "good": _fake_fit(rng, -1.0, p_axis=0.02),
        "poor": _fake_fit(rng, -3.0, p_axis=0.40),
    }
    result = stack(fits, "2025Q1", seed=3)
    assert result.weights["good"] > 0.9
    assert sum(result.weights.values()) == pytest.approx(1.0)
    assert result.p_axis["by_theory"]["good"] == pytest.approx(0.02, abs=0.005)
    # the mixture sits at the good theory's answer, pulled slightly toward the poor one's
    assert 0.015 < result.p_axis["mean"] < 0.1
    assert result.p_axis["hdi_low"] <= result.p_axis["mean"] <= result.p_axis["hdi_high"]
