"""The sampler's coordinates carry exactly the model's posterior.

The check is a change-of-variables identity, computed independently of how
:mod:`model.nuts` builds its density. Each Dirichlet row is sampled as ``K``
log-Gammas ``u``: the row's shares are ``softmax(u)`` and the extra
coordinate is the log total ``R = logsumexp(u)``, which the sampler gives the
density of ``log Gamma(sum(alpha), 1)``, independent of everything else. So
``G(c) = (F(c), R(c))``, with ``F`` the map to the model's value variables,
is a bijection, and the sampler's density must be the model's density at
``F(c)``, times the density of ``R(c)``, times ``|det dG(c)|`` (by JAX
autodiff). Integrating ``R`` out leaves the model's posterior exactly.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model.build import build_model
from model.nuts import sampler_coordinates

#: Pooled members pinned by hand in the "centred" variant: some of each vector.
PINNED = {
    "threshold_shift": np.array([1, 0, 1, 0, 0, 0], bool),
    "discrimination_raw": np.array([0, 1, 0, 0, 1, 1], bool),
}


@pytest.fixture(scope="module", params=["anchored", "bridged", "centred"])
def shipped(request, shipped_inputs):
    """The shipped model in the sampler's coordinates: anchored only, with bridges, or centred.

    The shipped evidence pins no period strongly enough for a knot, so the
    bridged variant names knots by hand: adjacent ones (a bridge of one step),
    distant ones, and knots before and after the anchor. Nor does it pin a
    pooled member, so the centred variant names some members of each pooled
    vector as pinned, which centres both vectors.
    """
    model = build_model(shipped_inputs.evidence, shipped_inputs.priors)
    anchor = model.coords["window"][0]
    knots = None
    if request.param == "bridged":
        ref = list(model.coords["period"]).index(anchor)
        knots = [sorted({2 + s, 10, 11, ref, ref + 3}) for s in range(len(model.coords["series"]))]
    centre = PINNED if request.param == "centred" else None
    return model, sampler_coordinates(model, anchor, knots, centre)


def test_coordinates_anchor_the_walks_and_centre_what_is_pinned(shipped):
    model, coords = shipped
    assert coords.anchored
    assert "threat_init" not in coords.names and "threat_innovation" not in coords.names
    if "threat_level" in coords.names:  # bridged: the shifts' mean carries the knots
        assert {"threat_knots_relative", "threshold_shift_contrast"} <= set(coords.names)
        assert coords.centred == ("threshold_shift",)  # all of it, whatever its evidence
    else:
        assert "threat_knots" in coords.names
    if "discrimination_raw_centred" in coords.names:  # one pinned member centres the vector
        assert "threshold_shift_offset" not in coords.names
        assert set(coords.centred) == {"discrimination_raw", "threshold_shift"}
    elif "threat_level" not in coords.names:  # no member is pinned: the model's own offsets
        assert coords.centred == ()
        assert {"threshold_shift_offset", "discrimination_raw_offset"} <= set(coords.names)
    assert set(coords.gamma) == {"strategy_map", "commitment", "cohesion"}


def test_pooled_members_are_centred_where_the_evidence_outweighs_the_prior(shipped_inputs):
    """None with the shipped evidence; every indicator with codes at 100 times its codes.

    The most informed shipped member carries about three times its pooling
    prior's precision, below the bar of four; a hundred times the codes puts
    every indicator with evidence above it, and the one without stays offset.
    """
    from dataclasses import replace

    from model.nuts import CENTRE_INFORMATION, centred_members

    ev = shipped_inputs.evidence
    assert CENTRE_INFORMATION == 4.0
    model = build_model(ev, shipped_inputs.priors)
    got = centred_members(model)
    assert set(got) == {"threshold_shift", "discrimination_raw"}
    assert not any(m.any() for m in got.values())
    coded = np.zeros(len(model.coords["indicator"]), bool)
    coded[[int(i) for _, _, i in ev.threat_cells]] = True
    assert 0 < coded.sum() < len(coded)
    heavy = build_model(replace(ev, threat_counts=ev.threat_counts * 100), shipped_inputs.priors)
    for mask in centred_members(heavy).values():
        np.testing.assert_array_equal(mask, coded)


def test_round_trip_to_model_values(shipped):
    model, coords = shipped
    rng = np.random.default_rng(0)
    point = model.initial_point()
    values = [point[v.name] + rng.normal(size=np.shape(point[v.name])) for v in model.value_vars]
    back = coords.to_values(*coords.from_values(*map(jnp.asarray, values)))
    for v, a, b in zip(model.value_vars, values, back, strict=True):
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-9, atol=1e-9, err_msg=v.name)


@pytest.mark.parametrize("seed", [1, 2])
def test_sampler_density_is_the_model_density_after_change_of_variables(shipped, seed):
    from pymc.sampling.jax import get_jaxified_graph
    from scipy.special import gammaln

    model, coords = shipped
    model_logp = get_jaxified_graph(inputs=model.value_vars, outputs=[model.logp()])
    rng = np.random.default_rng(seed)
    point = model.initial_point()
    start = list(
        coords.from_values(
            *(
                jnp.asarray(point[v.name] + 0.5 * rng.normal(size=np.shape(point[v.name])))
                for v in model.value_vars
            )
        )
    )
    gamma = [coords.names.index(f"{n}_log_gamma") for n in coords.gamma]
    for i in gamma:  # move the Gamma totals off the point the inverse map picks
        start[i] = start[i] + rng.normal(size=start[i].shape[:-1])[..., None]
    shapes = [np.shape(x) for x in start]
    sizes = [int(np.prod(s)) for s in shapes]

    def unflatten(flat):
        parts = jnp.split(flat, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, shapes, strict=True)]

    def totals(c):
        return [jax.scipy.special.logsumexp(c[i], axis=-1) for i in gamma]

    def forward(flat):
        """G: sampler coordinates -> (model's value variables, Gamma log totals), flattened."""
        c = unflatten(flat)
        return jnp.concatenate([jnp.ravel(v) for v in [*coords.to_values(*c), *totals(c)]])

    flat = jnp.concatenate([jnp.ravel(x) for x in start])
    jac = jax.jacfwd(forward)(flat)
    assert jac.shape[0] == jac.shape[1]  # a bijection between spaces of one dimension
    _, log_det = jnp.linalg.slogdet(jac)
    assert abs(float(log_det)) > 1e-3  # the centring's Jacobian is not trivial
    c = unflatten(flat)
    total_logp = 0.0
    for name, r in zip(coords.gamma, totals(c), strict=True):
        a = np.asarray(model[name].owner.inputs[-1].eval()).sum(axis=-1)
        r = np.asarray(r)
        total_logp += float(np.sum(a * r - np.exp(r) - gammaln(a)))
    expected = model_logp(*coords.to_values(*c))[0] + total_logp + log_det
    got = coords.logp(*c)[0]
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-10, atol=1e-8)


def test_warm_start_resumes_the_adapted_sampler_and_agrees(small_fit, shipped_inputs, tmp_path):
    """A refit from a saved run keeps its mass matrix, re-tunes briefly, and agrees with it."""
    import arviz as az

    from model.forecast import SamplerConfig, run_forecast, write_run
    from model.nuts import STATE_GROUP, WARM_TUNE, load_sampler_state
    from tests.conftest import SMALL

    folder = write_run(small_fit, tmp_path / "previous")
    warm = load_sampler_state(folder)
    assert warm is not None and warm.attrs["source"] == str(folder)
    assert warm["inverse_mass"].shape[0] == SMALL["chains"]
    refit = run_forecast(shipped_inputs, SamplerConfig(**{**SMALL, "seed": 8}), warm=warm)
    assert refit.posterior.attrs["warm_start"] == 1
    assert refit.posterior.attrs["tuning_steps"] == WARM_TUNE
    assert json.loads(refit.attrs["provenance"])["warm_start"] == str(folder)
    assert STATE_GROUP in refit.children
    diag = json.loads(refit.attrs["diagnostics"])
    cold = json.loads(small_fit.attrs["diagnostics"])
    # as efficient as the fully adapted run it resumes (these are small runs: 4 x 300 draws)
    assert diag["divergences"] == 0 and diag["r_hat_max"] < 1.05
    assert diag["ess_bulk_min"] >= 0.5 * cold["ess_bulk_min"], (diag, cold["ess_bulk_min"])
    # the same posterior: P(axis) at the last evidence period within 4 combined MCSEs
    last = json.loads(small_fit.attrs["report_periods"])["last_evidence"]
    a, b = (f.posterior["p_axis"].sel(period=last) for f in (small_fit, refit))
    se = np.hypot(float(az.mcse(a)), float(az.mcse(b)))
    assert abs(float(a.mean()) - float(b.mean())) < 4 * se


def test_a_state_of_another_structure_is_ignored(small_fit, shipped_inputs):
    from model.forecast import SamplerConfig, run_forecast
    from model.nuts import STATE_GROUP

    state = small_fit[STATE_GROUP].to_dataset()
    state.attrs["names"] = "something,else"
    fit = run_forecast(
        shipped_inputs, SamplerConfig(draws=20, tune=20, chains=2, seed=1), warm=state
    )
    assert fit.posterior.attrs["warm_start"] == 0
    assert json.loads(fit.attrs["provenance"])["warm_start"] is None


def test_a_diverging_chain_is_redrawn_with_smaller_steps(shipped_inputs, monkeypatch):
    """The retry logic: only the chain with a divergence is redone, at the retry target."""
    import model.forecast as forecast

    real, calls = forecast.sample, []

    def first_diverges(model, config, **kwargs):
        idata = real(model, config, **kwargs)
        calls.append((config.target_accept, kwargs.get("only_chains"), idata))
        if len(calls) == 1:
            diverging = np.zeros_like(idata.sample_stats["diverging"].values)
            diverging[1, 0] = True  # chain 1 alone diverged
            stats = idata.sample_stats.to_dataset()
            idata["sample_stats"] = stats.assign(diverging=stats["diverging"].copy(data=diverging))
        return idata

    monkeypatch.setattr(forecast, "sample", first_diverges)
    config = forecast.SamplerConfig(draws=20, tune=20, chains=3, seed=1, retry_target_accept=0.99)
    fit = forecast.run_forecast(shipped_inputs, config)
    attempts = json.loads(fit.attrs["sampling_attempts"])
    assert [(t, c) for t, c, _ in calls] == [(0.95, None), (0.99, [1])]
    assert [a["target_accept"] for a in attempts] == [0.95, 0.99]
    assert attempts[0]["divergences"] >= 1 and attempts[1]["chains"] == [1]
    assert attempts[1]["divergences_after"] == int(fit.sample_stats["diverging"].sum())
    first, fresh = calls[0][2], calls[1][2]
    theta = fit.posterior["theta"].values
    # chains 0 and 2 kept from the first draw; chain 1 is the redraw's only chain
    np.testing.assert_array_equal(theta[[0, 2]], first.posterior["theta"].values[[0, 2]])
    np.testing.assert_array_equal(theta[1], fresh.posterior["theta"].values[0])
    assert not np.array_equal(theta[1], first.posterior["theta"].values[1])
    np.testing.assert_array_equal(
        fit.sample_stats["step_size"].values[1], fresh.sample_stats["step_size"].values[0]
    )
    assert fit.sampler_state["z_threat_knots"].shape[0] == 3


def test_knots_where_the_evidence_outweighs_the_walk(shipped_inputs):
    """Only the anchor with the shipped evidence; every period with evidence at 100 times its codes.

    At the prior's centre a code carries about 0.74 units of information on
    the latent score and the walk about 2 / 0.2**2 = 50, so the shipped cells
    (at most three codes) make no knot and a hundred times each makes one.
    """
    from dataclasses import replace

    from model.nuts import threat_knots

    ev = shipped_inputs.evidence
    anchor = ev.periods[ev.report_index[0]]
    ref = ev.report_index[0]
    with_evidence = [
        {int(t) for s2, t, _ in ev.threat_cells if s2 == s} for s in range(len(ev.structure.series))
    ]
    model = build_model(ev, shipped_inputs.priors)
    assert threat_knots(model, anchor) == [[ref]] * len(with_evidence)
    heavy = build_model(replace(ev, threat_counts=ev.threat_counts * 100), shipped_inputs.priors)
    assert threat_knots(heavy, anchor) == [sorted(p | {ref}) for p in with_evidence]


def test_walk_map_round_trip_and_bridge_sums():
    """Values -> (knots, rest) -> values is the identity; a bridge moves no knot."""
    from model.nuts import bridge_basis, walk_map

    rng = np.random.default_rng(3)
    n_t, knots = 12, [[0, 5], [3], [2, 3, 9, 11]]
    walk = walk_map(knots, n_t)
    n_s = len(knots)
    init, z, drift = rng.normal(size=n_s), rng.normal(size=(n_s, n_t - 1)), rng.gamma(2, 0.1, n_s)
    theta = np.concatenate([init[:, None], init[:, None] + np.cumsum(drift[:, None] * z, 1)], 1)
    k = theta[walk.knots[:, 0], walk.knots[:, 1]]
    r = walk.P.T @ z.ravel()
    assert len(k) + len(r) == n_s * n_t  # a bijection between spaces of one dimension
    back = walk.P @ r + walk.Q @ k / np.repeat(drift, n_t - 1)
    np.testing.assert_allclose(back, z.ravel(), atol=1e-12)
    np.testing.assert_allclose(walk.F @ k - drift * (walk.G @ r), init, atol=1e-12)
    np.testing.assert_array_equal(walk.intervals, [1, 0, 3])
    basis = bridge_basis(4)
    np.testing.assert_allclose(basis.T @ basis, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(basis.sum(axis=0), 0.0, atol=1e-12)
