"""Chains in worker processes: the same density, the same draws, clear failures."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model.build import build_model
from model.chains import ChainJob, WorkerPool, export_potential, imported_potential
from model.forecast import cache_dir
from model.nuts import _STATS, _initial, sample_numpyro, sampler_coordinates


@pytest.fixture(scope="module")
def shipped(shipped_inputs):
    model = build_model(shipped_inputs.evidence, shipped_inputs.priors)
    coords = sampler_coordinates(model, model.coords["window"][0])

    def potential(z):
        return -coords.logp(*(z[n] for n in coords.names))[0]

    return model, coords, potential


def test_exported_potential_has_the_models_value_and_gradient(shipped):
    model, coords, potential = shipped
    starts = _initial(model, coords, 2, seed=3)
    example = {n: v[0] for n, v in starts.items()}
    loaded = imported_potential(export_potential(potential, coords.names, example), coords.names)
    for chain in range(2):
        z = {n: jnp.asarray(v[chain]) for n, v in starts.items()}
        value, grad = jax.jit(jax.value_and_grad(potential))(z)
        value_x, grad_x = jax.jit(jax.value_and_grad(loaded))(z)
        assert np.isfinite(float(value))
        np.testing.assert_allclose(float(value_x), float(value), rtol=1e-12)
        for n in coords.names:
            assert np.any(np.asarray(grad[n]) != 0), n
            np.testing.assert_allclose(np.asarray(grad_x[n]), np.asarray(grad[n]), rtol=1e-9)


def test_draws_do_not_depend_on_the_number_of_workers(shipped):
    model, _, _ = shipped
    runs = {
        workers: sample_numpyro(
            model,
            draws=20,
            tune=20,
            chains=3,
            seed=11,
            target_accept=0.9,
            anchor=model.coords["window"][0],
            workers=workers,
            cache_dir=str(cache_dir() / "jax"),
        )
        for workers in (0, 2)
    }
    assert runs[0].posterior.attrs["worker_processes"] == 0
    assert runs[2].posterior.attrs["worker_processes"] == 2
    for run in runs.values():  # where the time went, in named stages that are all measured
        stages = json.loads(run.posterior.attrs["stage_seconds"])
        assert set(stages) == {"setup", "nuts", "workers", "collect"}
        assert stages["nuts"] > 0 and stages["setup"] > 0
        assert all(v >= 0 for v in stages.values())
    for name in ("theta", "p_axis", "strategy_map"):
        np.testing.assert_array_equal(
            runs[2].posterior[name].values, runs[0].posterior[name].values, err_msg=name
        )
    # three different chains, not one chain copied
    theta = runs[2].posterior["theta"].values
    assert not np.array_equal(theta[0], theta[1]) and not np.array_equal(theta[1], theta[2])


def test_a_failing_worker_reports_its_error(shipped):
    model, coords, potential = shipped
    starts = _initial(model, coords, 2, seed=4)
    example = {n: v[0] for n, v in starts.items()}
    name = coords.names[0]
    wrong = dict(starts, **{name: np.concatenate([starts[name], starts[name]], axis=-1)})
    job = ChainJob(
        names=coords.names,
        init=wrong,  # a shape the exported program was not built for
        keys=np.asarray(jax.random.split(jax.random.PRNGKey(0), 2)),
        tune=5,
        draws=5,
        target_accept=0.8,
        fields=tuple(_STATS),
        potential=export_potential(potential, coords.names, example),
    )
    with WorkerPool(2) as pool, pytest.raises(RuntimeError, match="sampling worker failed"):
        pool.run(job)
    assert all(p.poll() is not None for p in pool.procs)
