"""Fits that differ only in the prior's numbers share one built model and its compiled
sampler, and draw the posterior a model built for their own priors draws."""

from __future__ import annotations

import json
from dataclasses import replace

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
