"""The one way the project samples: stock NUTS on the model's own graph.

Every fit (forecast, update refits, backtests, sensitivity refits, scenarios,
simulation-based calibration, recovery) goes through :func:`sample`, so the
sampler that calibration checks is the sampler the forecast uses. The model
is whatever :func:`model.generative.build.build_model` built, in the coordinates
:mod:`model.generative.reparam` chose; nothing here knows the model.

Two stock samplers serve:

* ``numpyro`` (the default): numpyro's NUTS through its public ``MCMC`` API on
  PyMC's JAX translation of the model's log density, its chains in parallel
  on JAX's CPU devices. The adapted chains can be continued
  (``post_warmup_state``), so by default a fit draws *to a precision*: it
  continues in chunks until the convergence gate passes and the smallest
  bulk ESS of the reported quantities reaches :data:`ESS_TARGET`, or a cap.
* ``nutpie``: ``pm.sample(nuts_sampler="nutpie")`` on PyMC's JAX backend, a
  fixed number of draws (nutpie's chains cannot be continued once stopped).

A run that diverges is drawn again, all its chains, at a higher acceptance
target; chains are never selected for not diverging.
"""

from __future__ import annotations

import json
import os
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from model.inference.config import SAMPLERS, SamplerConfig
from model.inference.convergence import (
    ESS_BULK_MIN,
    REPORTED,
    RHAT_MAX,
    rank_diagnostics,
    reported_in,
)

#: numpyro's per-draw statistics a run keeps (PyMC renames them as its own).
_FIELDS: tuple[str, ...] = (
    "num_steps",
    "potential_energy",
    "energy",
    "adapt_state.step_size",
    "accept_prob",
    "diverging",
)


#: Progress callback: ``(draws per chain so far, smallest reported bulk ESS)``.
Progress = Callable[[int, float | None], None]


def jax_devices(chains: int = 4) -> str:
    """Ask JAX for a CPU device per chain (before its first use); the chain method it allows.

    JAX fixes its devices when its backend starts, so every entry point of
    the project that runs JAX calls this first.
    """
    import jax

    try:  # at least the default four chains' worth, whatever the first fit asks
        jax.config.update("jax_num_cpu_devices", max(chains, 4))
    except RuntimeError:  # JAX already started with its devices: keep them
        pass
    return "parallel" if jax.local_device_count() >= chains else "sequential"


def cache_dir() -> Path:
    """Where compiled programs are kept between runs (``AXIS_CACHE`` overrides)."""
    return Path(os.environ.get("AXIS_CACHE", Path.home() / ".cache" / "axis-forecast"))


def enable_cache(path: str | None = None) -> None:
    """Keep JAX's compiled programs under ``path`` (default: :func:`cache_dir`).

    A later fit of the same program, in this process or another, then loads
    it instead of compiling it.
    """
    import jax

    path = path or str(cache_dir() / "jax")

    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def gate_and_precision(
    posterior: dict[str, np.ndarray], free: Sequence[str], reported: Sequence[str] = REPORTED
) -> tuple[bool, float]:
    """Judge draws: whether they pass the gate, and the reported quantities' smallest bulk ESS.

    The gate is the forecast's (:mod:`model.inference.convergence`): R-hat at most
    ``RHAT_MAX`` and bulk ESS at least ``ESS_BULK_MIN`` over every free
    variable and reported quantity. ``posterior`` holds ``(chain, draw, ...)``
    draws by name.
    """
    names = [n for n in dict.fromkeys([*free, *reported]) if n in posterior]
    blocks = [posterior[n].reshape(*posterior[n].shape[:2], -1) for n in names]
    r_hat, ess = rank_diagnostics(np.concatenate(blocks, axis=-1))
    is_reported = np.concatenate(
        [np.full(b.shape[-1], n in reported) for n, b in zip(names, blocks, strict=True)]
    )
    passed = bool(np.nanmax(r_hat) <= RHAT_MAX and np.nanmin(ess) >= ESS_BULK_MIN)
    return passed, float(np.nanmin(ess[is_reported])) if is_reported.any() else float("inf")


@dataclass
class _Program:
    """A model's log density and deterministics as JAX functions of its values and data.

    The model's ``pm.Data`` containers are arguments, not constants, so one
    compiled NUTS program serves every data set of the model's structure
    (``pm.set_data``): numpyro's ``MCMC`` with ``jit_model_args`` caches it.
    The log density is PyMC's own (``model.logp()``, the density ``pm.sample``
    uses), handed to numpyro as a ``factor`` on improper flat sites: numpyro's
    documented way to sample a density it did not write.
    """

    names: list[str]
    free: list[str]
    logp: Callable[..., Any]
    data: list[str]
    numpyro_model: Callable[..., None]
    outputs: list[str]
    to_posterior: Callable[..., Any]
    mcmc: dict[tuple[Any, ...], Any]


#: Compiled programs by model, so refits of one model (pm.set_data) reuse them.
_PROGRAMS: weakref.WeakKeyDictionary[pm.Model, _Program] = weakref.WeakKeyDictionary()


def _program(model: pm.Model) -> _Program:
    """Return the model's :class:`_Program`, built once per model."""
    if model in _PROGRAMS:
        return _PROGRAMS[model]
    import jax

    # JAX keeps every program it compiled, each holding about a thousand of the
    # memory maps of its CPU compiler, until its caches are cleared; a process
    # that fits a few dozen models (a long backtest, the test suite) would run
    # out of maps ("Failed to materialize symbols"). A new model gets programs
    # of its own anyway, so clearing here costs only the rare recompile of a
    # model fitted earlier and fitted again.
    jax.clear_caches()
    import numpyro
    import numpyro.distributions as dist
    import pytensor.tensor as pt
    from pymc.sampling.jax import get_jaxified_graph
    from pymc.util import get_default_varnames
    from pytensor.graph.replace import graph_replace

    data = [v for v in model.data_vars]
    symbols = {d: pt.tensor(name=d.name, dtype=d.dtype, shape=d.get_value().shape) for d in data}
    logp = graph_replace(model.logp(), symbols, strict=False) if data else model.logp()
    values = model.value_vars
    logp_fn = get_jaxified_graph(inputs=[*values, *symbols.values()], outputs=[logp])
    point = model.initial_point()
    names = [v.name for v in values]
    shapes = [tuple(np.shape(point[n])) for n in names]

    def numpyro_model(*data_values: Any) -> None:
        z = [
            numpyro.sample(n, dist.ImproperUniform(dist.constraints.real, (), event_shape=shape))
            for n, shape in zip(names, shapes, strict=True)
        ]
        numpyro.factor("log_density", logp_fn(*z, *data_values)[0])

    outputs = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    # deterministics may read the data too (a dyad's state given its period's codes)
    post = graph_replace(outputs, symbols, strict=False) if data else outputs
    post_fn = get_jaxified_graph(inputs=[*values, *symbols.values()], outputs=post)
    n_values = len(values)

    def per_draw(*args: Any) -> Any:  # draws vary by chain and draw; the data do not
        return jax.vmap(jax.vmap(lambda *v: post_fn(*v, *args[n_values:])))(*args[:n_values])

    program = _Program(
        names=names,
        free=[rv.name for rv in model.free_RVs],
        logp=jax.jit(lambda *args: logp_fn(*args)[0]),
        data=[d.name for d in data],
        numpyro_model=numpyro_model,
        outputs=[v.name for v in outputs],
        to_posterior=jax.jit(per_draw),
        mcmc={},
    )
    _PROGRAMS[model] = program
    return program


def _numpyro(
    model: pm.Model,
    config: SamplerConfig,
    *,
    target_accept: float,
    progressbar: bool,
    on_chunk: Progress | None,
) -> xr.DataTree:
    """Run numpyro's NUTS via its public ``MCMC`` API, in chunks to the precision asked."""
    import jax
    from numpyro.infer import MCMC, NUTS
    from pymc.sampling.jax import _get_batched_jittered_initial_points, _numpyro_stats_to_dict

    method = config.chain_method or jax_devices(config.chains)
    program = _program(model)
    data = tuple(np.asarray(model[d].get_value()) for d in program.data)
    init = _get_batched_jittered_initial_points(
        model=model,
        chains=config.chains,
        initvals=None,
        random_seed=config.seed,
        logp_fn=lambda values: program.logp(*values, *data),  # only its finiteness is read
    )
    init = dict(zip(program.names, init, strict=True))  # one array per variable
    fixed = config.draws is not None
    chunk = config.draws if fixed else config.chunk
    key = (config.chains, config.tune, chunk, target_accept, method, progressbar)
    if key not in program.mcmc:
        program.mcmc[key] = MCMC(
            NUTS(program.numpyro_model, target_accept_prob=target_accept),
            num_warmup=config.tune,
            num_samples=chunk,
            num_chains=config.chains,
            chain_method=method,
            progress_bar=progressbar,
            jit_model_args=True,
        )
    mcmc = program.mcmc[key]
    mcmc.post_warmup_state = None  # a kept MCMC object starts with a warm-up again
    parts: list[dict[str, np.ndarray]] = []
    stats: list[dict[str, np.ndarray]] = []
    while True:
        if not parts:  # warm-up and the first chunk: one compiled program
            mcmc.run(jax.random.PRNGKey(config.seed), *data, init_params=init, extra_fields=_FIELDS)
        else:  # the adapted chains, continued where they stopped
            mcmc.post_warmup_state = mcmc.last_state
            mcmc.run(mcmc.post_warmup_state.rng_key, *data, extra_fields=_FIELDS)
        raw = mcmc.get_samples(group_by_chain=True)
        values = program.to_posterior(*(raw[n] for n in program.names), *data)
        parts.append({n: np.asarray(x) for n, x in zip(program.outputs, values, strict=True)})
        stats.append({k: np.asarray(v) for k, v in _numpyro_stats_to_dict(mcmc).items()})
        drawn = chunk * len(parts)
        if fixed:
            break
        reported = reported_in(list(parts[0]))
        judged = [*program.free, *reported]
        joined = {n: np.concatenate([p[n] for p in parts], axis=1) for n in judged if n in parts[0]}
        passed, ess = gate_and_precision(joined, program.free, reported)
        diverged = any(s["diverging"].any() for s in stats)
        if on_chunk is not None:
            on_chunk(drawn, ess)
        if (passed and ess >= config.ess_target) or diverged or drawn + chunk > config.max_draws:
            break
    posterior = {n: np.concatenate([p[n] for p in parts], axis=1) for n in parts[0]}
    sample_stats = {n: np.concatenate([s[n] for s in stats], axis=1) for n in stats[0]}
    return to_datatree(model, posterior, sample_stats, tune=config.tune)


def to_datatree(
    model: pm.Model, posterior: dict[str, np.ndarray], stats: dict[str, np.ndarray], tune: int
) -> xr.DataTree:
    """Assemble what ``pm.sample`` returns from ``(chain, draw, ...)`` draws of ``model``.

    PyMC's coords, dims, observed and constant data, as its own JAX samplers
    assemble them; a reweighted update (:mod:`model.inference.reweight`) writes its
    resampled draws through it too, so both give the same groups.
    """
    import numpyro
    from arviz_base import from_dict, make_attrs
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    coords, dims = coords_and_dims_for_inferencedata(model)
    groups: dict[str, Any] = {"posterior": posterior, "sample_stats": stats}
    for name, found in (("observed_data", find_observations), ("constant_data", find_constants)):
        data = found(model)
        if data is not None:
            groups[name] = data
    attrs = make_attrs({"tuning_steps": tune}, inference_library=numpyro)
    return from_dict(
        data=groups,
        coords=coords,
        dims=dims,
        sample_dims=["chain", "draw"],
        attrs={"posterior": attrs},
    )


def _nutpie(
    model: pm.Model, config: SamplerConfig, *, target_accept: float, progressbar: bool
) -> xr.DataTree:
    """Nutpie through ``pm.sample``, on PyMC's JAX backend (its numba one compiles for minutes)."""
    with model:
        return pm.sample(
            draws=config.draws or 1000,
            tune=config.tune,
            chains=config.chains,
            random_seed=config.seed,
            target_accept=target_accept,
            nuts_sampler="nutpie",
            progressbar=progressbar,
            compute_convergence_checks=False,
            compile_kwargs={"mode": "JAX", "gradient_backend": "jax"},
        )


def sample(
    model: pm.Model,
    config: SamplerConfig | None = None,
    *,
    progressbar: bool = False,
    on_chunk: Progress | None = None,
    cache_dir: str | None = None,
) -> xr.DataTree:
    """Draw the posterior of ``model``, reproducibly from ``config.seed``.

    Parameters
    ----------
    model
        Any ``pm.Model`` (in this project, :func:`model.generative.build.build_model`'s).
    config
        Sampler settings (defaults: numpyro, to a precision).
    progressbar
        Show the sampler's own progress per chain.
    on_chunk
        Called after every chunk of a fit to a precision.
    cache_dir
        JAX's persistent compilation cache (default: :func:`cache_dir`), so
        a later fit loads the compiled sampler instead of compiling it.

    Returns
    -------
    xarray.DataTree
        ``posterior`` (every free variable, constrained, and deterministic,
        with the model's dims), ``sample_stats`` (PyMC's names),
        ``observed_data`` and ``constant_data``. The posterior's attributes
        record the sampler, its settings, each attempt and the seconds taken.
    """
    config = config or SamplerConfig()
    if config.sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {config.sampler!r}; choose one of {SAMPLERS}")
    enable_cache(cache_dir)
    attempts: list[dict[str, Any]] = []
    target = config.target_accept
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        if config.sampler == "numpyro":
            idata = _numpyro(
                model, config, target_accept=target, progressbar=progressbar, on_chunk=on_chunk
            )
        else:
            idata = _nutpie(model, config, target_accept=target, progressbar=progressbar)
        divergences = int(idata.sample_stats["diverging"].sum())
        attempts.append(
            {
                "target_accept": target,
                "draws": int(idata.posterior.sizes["draw"]),
                "divergences": divergences,
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        retry = config.retry_target_accept
        # a divergence marks a region the step size could not follow: the standard remedy
        # is smaller steps, so every chain is drawn again once (same seed) before the gate
        if not divergences or retry is None or target >= retry:
            break
        target = retry
    idata.posterior.attrs.update(
        {
            "sampler": config.sampler,
            "sampler_config": json.dumps(asdict(replace(config, target_accept=target))),
            "sampling_attempts": json.dumps(attempts),
            "sampling_time": round(time.perf_counter() - start, 2),
        }
    )
    idata.attrs["free_variables"] = json.dumps([rv.name for rv in model.free_RVs])
    return idata
