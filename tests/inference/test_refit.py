"""Fits that differ only in the prior's numbers share one built model and its compiled
sampler, and draw the posterior a model built for their own priors draws."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from model.inference import refit
from model.inference.config import SamplerConfig
from model.workflows.forecast.fit import run_forecast
from model.workflows.forecast.inputs import load_prior_set
from model.workflows.forecast.summary import summarise
from tests.conftest import SMALL, TINY
from tests.helpers import assert_agree


def test_a_model_is_kept_per_prior_structure(shipped_inputs):
    refit._MODELS.clear()
    default = refit.model_for(shipped_inputs.evidence, shipped_inputs.priors)
    flat = refit.model_for(shipped_inputs.evidence, load_prior_set("no_theory"))
    assert flat is default  # same structure: the numbers are set, nothing is built
    assert default["strategy_map__a"].get_value().std() == pytest.approx(0.0)  # flat's rows
    walt = refit.model_for(shipped_inputs.evidence, load_prior_set("realist"))
    assert walt is not default
    back = refit.model_for(shipped_inputs.evidence, shipped_inputs.priors)
    assert back is default and back["strategy_map__a"].get_value().std() > 1.0


def test_a_refit_compiles_nothing(shipped_inputs):
    refit._MODELS.clear()
    config = SamplerConfig(**TINY)
    first = run_forecast(shipped_inputs, config)
    again = run_forecast(replace(shipped_inputs, priors=load_prior_set("weak_theory")), config)
    assert json.loads(first.attrs["stage_seconds"])["compile"] > 0
    assert json.loads(again.attrs["stage_seconds"])["compile"] == 0
    provenance = json.loads(again.attrs["provenance"])
    assert provenance["priors_sha256"] == load_prior_set("weak_theory").sha256


@pytest.mark.slow
def test_a_refit_under_other_priors_draws_a_fresh_builds_posterior(shipped_inputs):
    refit._MODELS.clear()
    config = SamplerConfig(**SMALL)
    flat = replace(shipped_inputs, priors=load_prior_set("no_theory"))
    run_forecast(shipped_inputs, config)  # builds and compiles the default's structure
    moved = run_forecast(flat, config)  # the flat mapping's numbers in that model
    assert json.loads(moved.attrs["stage_seconds"])["compile"] == 0
    refit._MODELS.clear()
    fresh = run_forecast(flat, config)  # built for the flat mapping, in its own coordinates
    assert json.loads(fresh.attrs["stage_seconds"])["compile"] > 0
    assert moved.attrs["diagnostics"] and fresh.attrs["diagnostics"]
    assert_agree(summarise(moved), summarise(fresh))


def _as_of_on_the_last_grid(shipped_inputs):
    """The shipped case as of 2024Q4 and as of 2025Q3, both on the 2025Q3 fit's grid."""
    from model.workflows.updates.backtest import one_grid

    frame = shipped_inputs.observations
    grid = one_grid(
        shipped_inputs.actors,
        frame,
        shipped_inputs.priors,
        [date(2024, 12, 31), date(2025, 9, 30)],
        horizon=4,
    )
    return grid.as_of(date(2024, 12, 31)), grid.as_of(date(2025, 9, 30))


def test_as_of_fits_on_one_grid_share_one_model_and_program(shipped_inputs):
    """A backtest's earlier as-of fit sets its counts into the later fit's model: no compile,
    and the window (from the first fit's last evidence) is the grid's, not the later fit's."""
    refit._MODELS.clear()
    early, late = _as_of_on_the_last_grid(shipped_inputs)
    config = SamplerConfig(**TINY)
    first = run_forecast(late, config)
    model = refit.model_for(late.evidence, late.priors)
    again = run_forecast(early, config)
    assert refit.model_for(early.evidence, early.priors) is model
    assert model["conduct_counts"].get_value().sum() == early.evidence.conduct_counts.sum()
    assert json.loads(first.attrs["stage_seconds"])["compile"] > 0
    assert json.loads(again.attrs["stage_seconds"])["compile"] == 0
    assert json.loads(again.attrs["provenance"])["data_sha256"] == early.data_sha256
    assert json.loads(again.attrs["report_periods"])["now"] == "2024Q4"
    window = [str(p) for p in first.posterior["window"].values]
    assert window[0] == early.evidence.periods[early.evidence.report_index[0]]


@pytest.mark.slow
def test_a_masked_as_of_fit_draws_the_truncated_evidence_posterior(shipped_inputs):
    """The as-of fit on the last grid (later evidence masked) equals a fit of its evidence alone."""
    from model.workflows.forecast.inputs import prepare_inputs

    refit._MODELS.clear()
    config = SamplerConfig(**SMALL)
    early, late = _as_of_on_the_last_grid(shipped_inputs)
    run_forecast(late, config)  # the grid's model is built and compiled for the later fit
    masked = run_forecast(early, config)
    assert json.loads(masked.attrs["stage_seconds"])["compile"] == 0
    refit._MODELS.clear()
    alone = prepare_inputs(
        shipped_inputs.actors,
        shipped_inputs.observations,
        shipped_inputs.priors,
        as_of=date(2024, 12, 31),
        horizon=4,
    )
    truncated = run_forecast(alone, config)
    assert_agree(summarise(masked), summarise(truncated))
