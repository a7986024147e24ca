"""The one sampling function: stock NUTS, draws to a precision, data as arguments; and every
sampler the CLI offers runs on the shipped model (tiny draws: structure, not quality)."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest

from model.inference.config import SAMPLERS, SamplerConfig
from model.inference.sampling import gate_and_precision, sample
from model.workflows.forecast.fit import run_forecast
from tests.conftest import TINY
from tests.helpers import assert_agree


def _toy(y: np.ndarray) -> pm.Model:
    """A normal mean with a known scale, and a reported probability of it."""
    with pm.Model() as model:
        data = pm.Data("y", y)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("obs", mu, 1.0, observed=data)
        pm.Deterministic("p_axis", pm.math.sigmoid(mu))
    return model


@pytest.fixture(scope="module")
def toy():
    return _toy(np.random.default_rng(0).normal(2.0, 1.0, size=50))


def test_draws_to_precision_stop_at_the_target(toy):
    config = SamplerConfig(tune=200, chains=2, chunk=100, ess_target=300, seed=1)
    seen: list[tuple[int, float]] = []
    idata = sample(toy, config, on_chunk=lambda d, e: seen.append((d, e)))
    draws = idata.posterior.sizes["draw"]
    assert draws % 100 == 0 and draws <= config.max_draws
    assert seen[-1][0] == draws and seen[-1][1] >= 300
    post = {n: idata.posterior[n].values for n in ("mu", "p_axis")}
    passed, ess = gate_and_precision(post, ["mu"], ["p_axis"])
    assert passed and ess == pytest.approx(seen[-1][1])


def test_a_precision_out_of_reach_stops_at_the_cap(toy):
    config = SamplerConfig(tune=100, chains=2, chunk=100, ess_target=1e9, max_draws=300, seed=2)
    idata = sample(toy, config)
    assert idata.posterior.sizes["draw"] == 300


def test_the_posterior_is_right_and_reproducible(toy):
    """Conjugate check: mean and sd match the closed form; the seed fixes every draw."""
    y = toy["y"].get_value()
    precision = 1 / 10.0**2 + len(y)
    config = SamplerConfig(draws=400, tune=200, chains=2, seed=3)
    a = sample(toy, config)
    mu = a.posterior["mu"].values
    assert mu.mean() == pytest.approx(y.sum() / precision, abs=0.05)
    assert mu.std() == pytest.approx(precision**-0.5, rel=0.15)
    b = sample(toy, config)
    np.testing.assert_array_equal(mu, b.posterior["mu"].values)
    attempts = json.loads(a.posterior.attrs["sampling_attempts"])
    assert attempts[0]["divergences"] == 0 and len(attempts) == 1
    assert set(a.sample_stats.data_vars) >= {"diverging", "n_steps", "step_size", "lp"}


def test_other_draw_counts_share_the_program_and_keep_the_draws():
    """Fits of one model with other draws or chunks, same warm-up, run one compiled block
    program; how a run is cut into blocks never changes its draws."""
    from model.inference.sampling import _PROGRAMS

    model = _toy(np.random.default_rng(5).normal(size=30))
    fixed = sample(model, SamplerConfig(draws=300, tune=200, chains=2, seed=6))
    chunked = sample(
        model, SamplerConfig(tune=200, chains=2, chunk=150, ess_target=1, max_draws=300, seed=6)
    )
    assert len(_PROGRAMS[model].chains) == 1  # one program, of 50-transition blocks
    assert next(iter(_PROGRAMS[model].chains.values())).block == 50
    n = chunked.posterior.sizes["draw"]  # one chunk of 150 draws, or two
    np.testing.assert_array_equal(
        fixed.posterior["mu"].values[:, :n], chunked.posterior["mu"].values
    )


def test_new_data_reuse_the_model(toy):
    """After pm.set_data the same model's sampler fits the new data."""
    model = _toy(np.zeros(50))
    config = SamplerConfig(draws=200, tune=200, chains=2, seed=4)
    before = float(sample(model, config).posterior["mu"].mean())
    with model:
        pm.set_data({"y": np.full(50, 5.0)})
    after = float(sample(model, config).posterior["mu"].mean())
    assert abs(before) < 0.5 and after == pytest.approx(5.0 * 50 / (50 + 0.01), abs=0.5)


def test_unknown_sampler_is_refused(toy):
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(toy, SamplerConfig(draws=10, tune=10, sampler="emcee"))


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


def test_unknown_sampler_is_refused_by_the_forecast(shipped_inputs):
    with pytest.raises(ValueError, match="unknown sampler"):
        run_forecast(shipped_inputs, SamplerConfig(draws=5, tune=5, chains=1, sampler="emcee"))


@pytest.mark.slow
def test_numpyro_and_nutpie_agree(shipped_inputs, full_fit):
    """The two stock samplers, through the one sampling function, give one posterior:
    P(axis) and every dyad's type probabilities within Monte Carlo error.

    numpyro's fit is the shared full-size one (4 x 1,000 draws); nutpie draws as many (at
    4 x 500 its draws miss the convergence gate's ESS floor)."""
    from model.workflows.forecast.summary import summarise

    assert json.loads(full_fit.attrs["provenance"])["sampler"]["sampler"] == "numpyro"
    nutpie = run_forecast(shipped_inputs, SamplerConfig(draws=1000, sampler="nutpie", seed=9))
    fits = {"numpyro": summarise(full_fit), "nutpie": summarise(nutpie)}
    assert set(fits) == set(SAMPLERS)
    assert all(f["diagnostics"]["passed"] for f in fits.values())
    assert_agree(fits["numpyro"], fits["nutpie"])
