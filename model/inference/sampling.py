"""The one way the project samples: stock NUTS on the model's own graph.

Every fit (forecast, update refits, backtests, sensitivity refits, scenarios,
simulation-based calibration, recovery) goes through :func:`sample`, so the
sampler that calibration checks is the sampler the forecast uses. The model
is whatever :func:`model.generative.build.build_model` built, in the coordinates
:mod:`model.generative.reparam` chose; nothing here knows the model.

Two stock samplers serve:

* ``numpyro`` (the default): numpyro's stock NUTS kernel (its functional
  ``hmc`` interface) on PyMC's JAX translation of the model's log density,
  its chains in parallel under one ``jax.pmap`` over JAX's CPU devices. The
  model's ``pm.Data`` (the evidence counts and, where the model holds them
  so, the prior's numbers) are an *argument* of the compiled program, so
  every refit of a model after ``pm.set_data`` runs the program compiled
  for its first fit, and JAX's persistent cache serves a new process. The
  adapted chains are continued block by block with that same program, so by
  default a fit draws *to a precision*: it continues in chunks until the
  convergence gate passes and the smallest bulk ESS of the reported
  quantities reaches :data:`ESS_TARGET`, or a cap.
* ``nutpie``: ``pm.sample(nuts_sampler="nutpie")`` on PyMC's JAX backend, a
  fixed number of draws (nutpie's chains cannot be continued once stopped).

A run that diverges is drawn again, all its chains, at a higher acceptance
target; chains are never selected for not diverging.
"""

from __future__ import annotations

import json
import math
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

#: Transitions per call of a fit's compiled block program at most. The block's length is a
#: constant of the program, so it is one length for every usual warm-up and chunk (it
#: divides 1,000 tuning steps, chunks of 250 and 750 and fixed draws of 300 to 1,000): fits
#: of one model that draw different numbers then share one program, in this process and,
#: through JAX's persistent cache, in the next. The blocks do not change the draws (the
#: chains continue where a block stopped).
BLOCK = 50

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
    return "parallel" if jax.local_device_count() >= chains else "vectorized"


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
    (``pm.set_data``): other counts, other masks, other prior numbers. The log
    density is PyMC's own (``model.logp()``, the density ``pm.sample`` uses),
    handed to numpyro's stock NUTS kernel as its potential.
    """

    names: list[str]
    free: list[str]
    logp: Callable[..., Any]
    data: list[str]
    outputs: list[str]
    to_posterior: Callable[..., Any]
    initial_point: Callable[[int], dict[str, np.ndarray]]
    chains: dict[tuple[Any, ...], _Chains]


@dataclass
class _Chains:
    """Compiled NUTS over a run's chains: a start and a fixed block of transitions.

    One block program serves warm-up and draws alike (numpyro's kernel counts
    its own steps and adapts while it is warming up), so a fit to a precision
    continues its chains without compiling anything new. The chains run under
    one ``jax.pmap`` (a device per chain) or ``jax.vmap``; the data are an
    argument of both programs, never a constant of them.
    """

    start: Callable[..., Any]
    advance: Callable[..., Any]
    block: int
    compiled: bool = False

    def compile(self, keys: Any, init: Any, data: tuple[Any, ...]) -> None:
        """Trace and compile both programs ahead of the first draw (the run's compile stage)."""
        import jax

        state = jax.eval_shape(self.start, keys, init, data)
        self.start = self.start.lower(keys, init, data).compile()
        self.advance = self.advance.lower(state, data).compile()
        self.compiled = True


def _fields(state: Any) -> dict[str, Any]:
    """Read the per-draw statistics a run keeps, under PyMC's names."""
    return {
        "n_steps": state.num_steps,
        "lp": state.potential_energy,
        "energy": state.energy,
        "step_size": state.adapt_state.step_size,
        "acceptance_rate": state.accept_prob,
        "diverging": state.diverging,
    }


def _compile_chains(
    program: _Program, *, tune: int, block: int, target_accept: float, parallel: bool
) -> _Chains:
    """Build the start and block programs of numpyro's NUTS kernel on ``program``'s density."""
    import jax
    from numpyro.infer.hmc import hmc

    names = program.names

    def potential(*data: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda z: -program.logp(*(z[n] for n in names), *data)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential, algo="NUTS")

    def start(key: Any, z: dict[str, Any], data: tuple[Any, ...]) -> Any:
        return init_kernel(
            z,
            num_warmup=tune,
            step_size=1.0,
            adapt_step_size=True,
            adapt_mass_matrix=True,
            dense_mass=False,
            target_accept_prob=target_accept,
            max_tree_depth=10,
            find_heuristic_step_size=False,
            regularize_mass_matrix=True,
            model_args=data,
            rng_key=key,
        )

    def advance(state: Any, data: tuple[Any, ...]) -> Any:
        def step(s: Any, _: Any) -> Any:
            s = sample_kernel(s, model_args=data)
            return s, (s.z, _fields(s))

        return jax.lax.scan(step, state, None, length=block)

    if parallel:
        return _Chains(
            jax.pmap(start, in_axes=(0, 0, None)), jax.pmap(advance, in_axes=(0, None)), block
        )
    return _Chains(
        jax.jit(jax.vmap(start, in_axes=(0, 0, None))),
        jax.jit(jax.vmap(advance, in_axes=(0, None))),
        block,
    )


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
    import pytensor.tensor as pt
    from pymc.initial_point import make_initial_point_fn
    from pymc.sampling.jax import get_jaxified_graph
    from pymc.util import get_default_varnames
    from pytensor.graph.replace import graph_replace

    data = list(model.data_vars)
    symbols = {d: pt.tensor(name=d.name, dtype=d.dtype, shape=d.get_value().shape) for d in data}
    logp = graph_replace(model.logp(), symbols, strict=False) if data else model.logp()
    values = model.value_vars
    logp_fn = get_jaxified_graph(inputs=[*values, *symbols.values()], outputs=[logp])
    outputs = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    # deterministics may read the data too (a dyad's state given its period's codes)
    post = graph_replace(outputs, symbols, strict=False) if data else outputs
    post_fn = get_jaxified_graph(inputs=[*values, *symbols.values()], outputs=post)
    n_values = len(values)

    def per_draw(*args: Any) -> Any:  # draws vary by chain and draw; the data do not
        return jax.vmap(jax.vmap(lambda *v: post_fn(*v, *args[n_values:])))(*args[:n_values])

    program = _Program(
        names=[v.name for v in values],
        free=[rv.name for rv in model.free_RVs],
        logp=jax.jit(lambda *args: logp_fn(*args)[0]),
        data=[d.name for d in data],
        outputs=[v.name for v in outputs],
        to_posterior=jax.jit(per_draw),
        # PyMC's jittered starting point (as its own samplers draw it), compiled once
        initial_point=make_initial_point_fn(
            model=model, jitter_rvs=set(model.free_RVs), return_transformed=True
        ),
        chains={},
    )
    _PROGRAMS[model] = program
    return program


def _starts(program: _Program, chains: int, seed: int, data: tuple[Any, ...]) -> dict[str, Any]:
    """Jittered starting points, one per chain, each redrawn until its density is finite."""
    from pymc.util import _get_seeds_per_chain

    rng = np.random.default_rng(seed)
    points = []
    for chain_seed in _get_seeds_per_chain(seed, chains):
        for _ in range(10):
            point = program.initial_point(int(chain_seed))
            if np.isfinite(program.logp(*(point[n] for n in program.names), *data)):
                break
            chain_seed = rng.integers(2**30)
        else:
            raise RuntimeError(
                "no finite starting point in 10 jittered tries; the model's density is "
                "-inf or NaN where PyMC starts it"
            )
        points.append(point)
    return {n: np.stack([p[n] for p in points]) for n in program.names}


def _numpyro(
    model: pm.Model,
    config: SamplerConfig,
    *,
    target_accept: float,
    progressbar: bool,
    on_chunk: Progress | None,
) -> xr.DataTree:
    """Run numpyro's stock NUTS kernel over parallel chains, in blocks, to the precision asked.

    The warm-up and every chunk of draws are whole blocks of one compiled
    program (:class:`_Chains`); the model's data are its argument, so a refit
    after ``pm.set_data`` (other evidence, other prior numbers) compiles
    nothing.
    """
    import jax

    method = config.chain_method or jax_devices(config.chains)
    parallel = method == "parallel" and jax.local_device_count() >= config.chains
    t0 = time.perf_counter()
    program = _program(model)
    compile_seconds = time.perf_counter() - t0
    data = tuple(np.asarray(model[d].get_value()) for d in program.data)
    fixed = config.draws is not None
    chunk = config.draws if fixed else config.chunk
    block = math.gcd(config.tune, chunk, BLOCK)
    key = (config.chains, config.tune, block, target_accept, parallel)
    if key not in program.chains:
        program.chains[key] = _compile_chains(
            program, tune=config.tune, block=block, target_accept=target_accept, parallel=parallel
        )
    run = program.chains[key]
    init = _starts(program, config.chains, config.seed, data)
    keys = jax.random.split(jax.random.PRNGKey(config.seed), config.chains)
    if not run.compiled:
        t0 = time.perf_counter()
        run.compile(keys, init, data)
        compile_seconds += time.perf_counter() - t0
    bar = _progress(progressbar, config.tune + chunk)
    state = run.start(keys, init, data)
    for _ in range(config.tune // block):  # warm-up: the kernel adapts, the draws are dropped
        state, _ = run.advance(state, data)
        bar(block)
    parts: list[dict[str, np.ndarray]] = []
    stats: list[dict[str, np.ndarray]] = []
    while True:
        blocks = []
        for _ in range(chunk // block):
            state, out = run.advance(state, data)
            blocks.append(jax.device_get(out))
            bar(block)
        z = {n: np.concatenate([b[0][n] for b in blocks], axis=1) for n in program.names}
        values = program.to_posterior(*(z[n] for n in program.names), *data)
        parts.append({n: np.asarray(x) for n, x in zip(program.outputs, values, strict=True)})
        step_stats = {f: np.concatenate([b[1][f] for b in blocks], axis=1) for f in blocks[0][1]}
        step_stats["tree_depth"] = np.log2(step_stats["n_steps"]).astype(int) + 1
        stats.append(step_stats)
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
        bar = _progress(progressbar, chunk)
    posterior = {n: np.concatenate([p[n] for p in parts], axis=1) for n in parts[0]}
    sample_stats = {n: np.concatenate([s[n] for s in stats], axis=1) for n in stats[0]}
    idata = to_datatree(model, posterior, sample_stats, tune=config.tune)
    idata.posterior.attrs["compile_time"] = round(compile_seconds, 2)
    return idata


def _progress(show: bool, total: int) -> Callable[[int], None]:
    """Return a progress bar over a run's transitions (chains move in step), or nothing."""
    if not show:
        return lambda n: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="step", leave=False)

    def update(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return update


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
                "compile_seconds": idata.posterior.attrs.get("compile_time", 0.0),
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
