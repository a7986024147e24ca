"""Model structure, from a prior-predictive draw, and a small real fit shared across tests."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest

from model.generative.build import build_model
from model.theory.tables import ALLIANCE_TYPES, STRATEGIES
from tests.conftest import TINY

EXPECTED_DIMS = {
    "theta": ("series", "period"),
    "p_level": ("series", "window", "level"),
    "strategy_prob": ("pair", "window", "strategy"),
    "type_prob": ("dyad", "window", "alliance_type"),
    "commitment_prob": ("dyad", "window", "outcome_level"),
    "cohesion_prob": ("dyad", "window", "outcome_level"),
    "p_axis": ("period",),
    "axis_commitment": ("window", "outcome_level"),
    "axis_cohesion": ("window", "outcome_level"),
    "smoothed_type_prob": ("dyad", "period", "alliance_type"),
    "smoothed_commitment_prob": ("dyad", "period", "outcome_level"),
    "smoothed_cohesion_prob": ("dyad", "period", "outcome_level"),
    "strategy_map": ("ext_level", "int_level", "strategy"),
    "commitment": ("alliance_type", "outcome_level"),
    "threat_drift": ("series",),
    "threat_innovation": ("series", "step"),
    "discrimination": ("indicator",),
}


@pytest.fixture(scope="module")
def prior_draw(shipped_inputs):
    model = build_model(shipped_inputs.evidence, shipped_inputs.priors)
    with model:
        names = [v.name for v in model.free_RVs + model.deterministics] + ["threat_evidence"]
        # Python's linker: numba would compile the whole graph (about half a minute) for 20 draws
        fast = {"mode": "FAST_COMPILE"}
        draws = pm.sample_prior_predictive(
            draws=20, random_seed=1, var_names=names, compile_kwargs=fast
        )
        return model, draws


def test_names_dims_and_coords(prior_draw, shipped_inputs):
    model, idata = prior_draw
    prior = idata.prior
    for name, dims in EXPECTED_DIMS.items():
        assert prior[name].dims[2:] == dims, name
    ev = shipped_inputs.evidence
    assert list(prior["series"].values) == [
        "RUS<-USA",
        "CHN<-USA",
        "PRK<-USA",
        "RUS<-CHN",
        "RUS<-PRK",
        "CHN<-RUS",
        "CHN<-PRK",
        "PRK<-RUS",
        "PRK<-CHN",
    ]
    assert list(prior["pair"].values) == [
        "RUS->CHN",
        "RUS->PRK",
        "CHN->RUS",
        "CHN->PRK",
        "PRK->RUS",
        "PRK->CHN",
    ]
    assert list(prior["dyad"].values) == ["CHN-RUS", "PRK-RUS", "CHN-PRK"]
    assert list(prior["alliance_type"].values) == list(ALLIANCE_TYPES)
    assert list(prior["strategy"].values) == list(STRATEGIES)
    assert list(prior["window"].values) == list(ev.periods[ev.report_index[0] :])
    assert list(prior["period"].values) == list(ev.periods)
    assert ev.periods[0] == "2017Q1" and ev.periods[ev.report_index[1]] == "2025Q3"
    assert ev.periods[-1] == "2026Q3"  # four quarters past the as-of quarter
    obs = idata.prior_predictive["threat_evidence"]
    np.testing.assert_array_equal(obs.sum("code").isel(chain=0, draw=0), ev.threat_counts.sum(1))
    assert set(model.observed_RVs) == {model["threat_evidence"], model["behaviour_evidence"]}


def test_prior_probabilities_are_distributions(prior_draw):
    prior = prior_draw[1].prior
    for name, dim in (
        ("type_prob", "alliance_type"),
        ("strategy_prob", "strategy"),
        ("commitment_prob", "outcome_level"),
        ("axis_cohesion", "outcome_level"),
        ("p_level", "level"),
    ):
        np.testing.assert_allclose(prior[name].sum(dim), 1.0, atol=1e-9)
    assert float(prior["p_axis"].min()) >= 0 and float(prior["p_axis"].max()) <= 1


def test_small_fit_converges_and_records_provenance(small_fit):
    dg = json.loads(small_fit.attrs["diagnostics"])
    # a small fit (4 x 300 draws): looser limits; the full-size gate is checked by the reproduction
    assert dg["divergences"] <= 2
    assert dg["r_hat_max"] < 1.05
    assert dg["ess_bulk_min"] > 100
    prov = json.loads(small_fit.attrs["provenance"])
    assert len(prov["data_sha256"]) == 64 and len(prov["priors_sha256"]) == 64
    assert prov["seed"] == 7 and "pymc" in prov["versions"]


def test_small_fit_threat_levels_follow_evidence(small_fit):
    """Posterior threat levels at the last evidence agree with the coded evidence."""
    p = small_fit.posterior["p_level"].isel(window=0).mean(("chain", "draw"))
    assert float(p.sel(series="RUS<-USA", level="high")) > 0.8  # eight codes of 3
    assert float(p.sel(series="PRK<-RUS", level="low")) > 0.8  # nine codes of 0
    assert float(p.sel(series="CHN<-PRK", level="medium")) > 0.6  # mostly 2


def test_forecast_uncertainty_widens(small_fit):
    """The random walk has no evidence past the last quarter: the latent spread grows."""
    theta = small_fit.posterior["theta"]
    roles = json.loads(small_fit.attrs["report_periods"])
    sd_last = theta.sel(period=roles["last_evidence"]).std(("chain", "draw"))
    sd_hor = theta.sel(period=roles["horizon"]).std(("chain", "draw"))
    assert bool((sd_hor > sd_last).all())


def test_reproducible_from_seed(shipped_inputs, tiny_fit):
    """A model built again and sampled with the shared tiny fit's settings draws the same."""
    from model.inference.config import SamplerConfig
    from model.inference.sampling import sample

    model = build_model(shipped_inputs.evidence, shipped_inputs.priors)
    again = sample(model, SamplerConfig(**TINY))
    np.testing.assert_array_equal(
        again.posterior["p_axis"].values, tiny_fit.posterior["p_axis"].values
    )


def test_smoothed_states_agree_with_implied_ones_only_without_codes(prior_draw, shipped_inputs):
    """Prior draws: periods without conduct or outcome codes keep the implied state.

    In periods with codes the state given them differs from what the threats
    imply (in some draw), and every state is a distribution.
    """
    model, idata = prior_draw
    prior = idata.prior
    ev = shipped_inputs.evidence
    coded = set(np.asarray(ev.behaviour_periods).tolist())
    smoothed = prior["smoothed_type_prob"].values  # (chain, draw, dyad, period, type)
    window = prior["type_prob"]["window"].values
    periods = list(prior["period"].values)
    for w, label in enumerate(window):
        t = periods.index(label)
        implied = prior["type_prob"].values[:, :, :, w]
        if t in coded:
            assert not np.allclose(smoothed[:, :, :, t], implied, atol=1e-6)
        else:
            np.testing.assert_allclose(smoothed[:, :, :, t], implied, atol=1e-10)
    assert coded & {periods.index(label) for label in window}, "the window starts with codes"
    np.testing.assert_allclose(smoothed.sum(axis=-1), 1.0, atol=1e-9)
    for name in ("smoothed_commitment_prob", "smoothed_cohesion_prob"):
        np.testing.assert_allclose(prior[name].values.sum(axis=-1), 1.0, atol=1e-9)
