"""Every sampler the CLI offers runs on the shipped model (tiny draws: structure, not quality)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.inference.config import SAMPLERS, SamplerConfig
from model.workflows.forecast.fit import run_forecast
from tests.conftest import TINY


def _marked(sampler: str):
    """nutpie compiles through PyMC's JAX backend, a second compiler: its run is slow."""
    return pytest.param(sampler, marks=pytest.mark.slow) if sampler == "nutpie" else sampler


@pytest.mark.parametrize("sampler", [_marked(s) for s in SAMPLERS])
def test_sampler_option_runs(sampler, shipped_inputs, request):
    """numpyro, the default, is the shared tiny fit; every other sampler runs as tiny."""
    config = SamplerConfig(**TINY, sampler=sampler)
    if sampler == SamplerConfig().sampler:
        idata = request.getfixturevalue("tiny_fit")
    else:
        idata = run_forecast(shipped_inputs, config)
    p_axis = np.asarray(idata.posterior["p_axis"])
    assert p_axis.shape[:2] == (config.chains, config.draws)
    assert np.isfinite(p_axis).all() and (p_axis >= 0).all() and (p_axis <= 1).all()
    assert "diverging" in idata.sample_stats
    assert json.loads(idata.attrs["provenance"])["sampler"]["sampler"] == sampler


def test_unknown_sampler_is_refused(shipped_inputs):
    with pytest.raises(ValueError, match="unknown sampler"):
        run_forecast(shipped_inputs, SamplerConfig(draws=5, tune=5, chains=1, sampler="emcee"))


@pytest.mark.slow
def test_numpyro_and_nutpie_agree(shipped_inputs, full_fit):
    """The two stock samplers, through the one sampling function, give one posterior:
    P(axis) and every dyad's type probabilities within Monte Carlo error.

    numpyro's fit is the shared full-size one (4 x 1,000 draws); nutpie draws as many (at
    4 x 500 its draws miss the convergence gate's ESS floor)."""
    from model.workflows.forecast.summary import summarise
    from tests.workflows.test_sensitivity import _assert_agree

    assert json.loads(full_fit.attrs["provenance"])["sampler"]["sampler"] == "numpyro"
    nutpie = run_forecast(shipped_inputs, SamplerConfig(draws=1000, sampler="nutpie", seed=9))
    fits = {"numpyro": summarise(full_fit), "nutpie": summarise(nutpie)}
    assert set(fits) == set(SAMPLERS)
    assert all(f["diagnostics"]["passed"] for f in fits.values())
    _assert_agree(fits["numpyro"], fits["nutpie"])
