"""NUTS chains in worker processes, one per core.

Why processes: XLA's CPU runtime runs several chains in one process (one
virtual device each) below the speed of separate processes. Measured on the
shipped model on 2 cores, 200 NUTS iterations per chain: four chains in one
process on four virtual devices ran 8,500-10,500 leapfrog steps a second in
all; two single-threaded processes, one chain each, ran 10,800-11,200 (about
180 us a step each, the same as one process alone). So the chains are split
into one contiguous group per core, and each group runs sequentially in a
worker process.

The workers need no PyMC: the parent exports the sampler's log density once
(:mod:`jax.export`, with its gradient), and a worker imports only JAX and
numpyro, deserialises it and runs numpyro's NUTS. Workers are started
before the parent builds the sampler's coordinates, so their imports overlap
that work.

A chain's draws depend only on its key, its start and the compiled program,
not on which worker ran it, so a seed gives the same draws on any number of
cores.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

#: Environment of a worker: XLA on one thread and one device.
WORKER_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false --xla_force_host_platform_device_count=1"


@dataclass(frozen=True)
class ChainJob:
    """Everything a group of chains needs, picklable for a worker.

    Attributes
    ----------
    names
        Coordinate names: the potential's positional inputs, in order.
    init
        Starting positions, ``(chains, ...)`` per name.
    keys
        Raw PRNG keys, ``(chains, 2)`` (``jax.random.PRNGKey`` data).
    tune, draws
        Warm-up and kept iterations per chain.
    target_accept
        NUTS's target acceptance probability.
    fields
        numpyro extra fields to collect per draw.
    step_size
        Initial step size (``None``: numpyro's heuristic).
    inverse_mass
        Diagonal inverse mass matrix to start from, flattened in sorted-name
        order (numpyro's order for a dict); ``None`` adapts from the identity.
    adapt_mass
        Whether warm-up adapts the mass matrix.
    potential
        Serialised :class:`jax.export.Exported` potential (negative log
        density) of one chain's coordinates (:func:`export_potential`).
    cache_dir
        JAX's persistent compilation cache folder (``None``: no cache).
    """

    names: tuple[str, ...]
    init: dict[str, np.ndarray]
    keys: np.ndarray
    tune: int
    draws: int
    target_accept: float
    fields: tuple[str, ...]
    step_size: float | None = None
    inverse_mass: np.ndarray | None = None
    adapt_mass: bool = True
    potential: bytes = b""
    cache_dir: str | None = None

    @property
    def chains(self) -> int:
        """Number of chains in the job."""
        return int(self.keys.shape[0])

    def part(self, chains: Sequence[int]) -> ChainJob:
        """Restrict the job to ``chains``."""
        idx = np.asarray(chains)
        return replace(self, init={n: v[idx] for n, v in self.init.items()}, keys=self.keys[idx])


@dataclass
class ChainResult:
    """Draws, per-draw statistics and the adapted sampler of a group of chains.

    Every array has a leading chain axis.
    """

    samples: dict[str, np.ndarray]
    fields: dict[str, np.ndarray]
    last: dict[str, np.ndarray]
    step_size: np.ndarray
    inverse_mass: np.ndarray
    seconds: np.ndarray

    @staticmethod
    def concat(parts: Sequence[ChainResult]) -> ChainResult:
        """Join groups of chains, in order."""

        def cat(get: Callable[[ChainResult], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
            return {k: np.concatenate([get(p)[k] for p in parts]) for k in get(parts[0])}

        return ChainResult(
            samples=cat(lambda p: p.samples),
            fields=cat(lambda p: p.fields),
            last=cat(lambda p: p.last),
            step_size=np.concatenate([p.step_size for p in parts]),
            inverse_mass=np.concatenate([p.inverse_mass for p in parts]),
            seconds=np.concatenate([p.seconds for p in parts]),
        )


def run_chains(potential: Callable[[dict[str, Any]], Any], job: ChainJob) -> ChainResult:
    """Run the job's chains one after another with numpyro's NUTS.

    The compiled program is shared by the chains, so only the first pays for
    compilation (or a persistent-cache lookup). Each chain's ``seconds`` is
    the wall time of the whole group, compilation included: what a worker
    spent in NUTS.
    """
    import jax
    from numpyro.infer import MCMC, NUTS

    start = time.perf_counter()
    if job.cache_dir:
        jax.config.update("jax_compilation_cache_dir", job.cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    kernel: dict[str, Any] = {"adapt_mass_matrix": job.adapt_mass}
    if job.step_size is not None:
        kernel["step_size"] = job.step_size
    if job.inverse_mass is not None:
        kernel["inverse_mass_matrix"] = np.asarray(job.inverse_mass)
    n = job.chains
    mcmc = MCMC(
        NUTS(potential_fn=potential, target_accept_prob=job.target_accept, **kernel),
        num_warmup=job.tune,
        num_samples=job.draws,
        num_chains=n,
        chain_method="sequential",  # one compiled program, run once per chain
        progress_bar=False,
    )
    keys = jax.numpy.asarray(job.keys)
    mcmc.run(
        keys if n > 1 else keys[0],
        init_params=job.init if n > 1 else {k: v[0] for k, v in job.init.items()},
        extra_fields=job.fields,
    )
    last = mcmc.last_state
    inverse_mass = last.adapt_state.inverse_mass_matrix
    if isinstance(inverse_mass, dict):  # one block: every coordinate, diagonal
        (inverse_mass,) = inverse_mass.values()

    def chained(x: Any) -> np.ndarray:  # numpyro drops the chain axis of a single chain
        return np.asarray(x) if n > 1 else np.asarray(x)[None]

    return ChainResult(
        samples={k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()},
        fields={k: np.asarray(v) for k, v in mcmc.get_extra_fields(group_by_chain=True).items()},
        last={k: chained(v) for k, v in last.z.items()},
        step_size=chained(last.adapt_state.step_size).reshape(n),
        inverse_mass=chained(inverse_mass).reshape(n, -1),
        seconds=np.full(n, time.perf_counter() - start),
    )


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class WorkerPool:
    """Worker processes for a group of chains each; start early, then :meth:`run`.

    Use as a context manager: workers still alive on exit (an error in the
    parent) are killed.
    """

    def __init__(self, workers: int) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        if workers < 2:
            return
        env = dict(os.environ, XLA_FLAGS=WORKER_XLA_FLAGS)
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        for _ in range(workers):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "model.chains"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                )
            )

    @property
    def size(self) -> int:
        """Number of worker processes (0: chains run in this process)."""
        return len(self.procs)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill any worker still running."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def run(self, job: ChainJob) -> ChainResult:
        """Run the job: split over the workers, or in this process without any.

        Both ways run the job's exported program (:func:`export_potential`),
        so a seed gives the same draws whatever the number of workers.
        """
        if not job.potential:
            raise ValueError("the job carries no exported potential (see export_potential)")
        if not self.procs:  # the same exported program, so the same draws as in workers
            return run_chains(imported_potential(job.potential, job.names), job)
        groups = [g for g in np.array_split(np.arange(job.chains), self.size) if len(g)]
        for proc, group in zip(self.procs, groups, strict=False):
            assert proc.stdin is not None
            proc.stdin.write(pickle.dumps(job.part(group.tolist())))
            proc.stdin.close()
            proc.stdin = None  # sent; ``communicate`` below only reads
        for proc in self.procs[len(groups) :]:  # more workers than chains: nothing to do
            proc.kill()
        parts = []
        for proc in self.procs[: len(groups)]:
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                tail = stderr.decode(errors="replace").strip().splitlines()[-15:]
                raise RuntimeError(
                    f"a sampling worker failed (exit {proc.returncode}):\n" + "\n".join(tail)
                )
            parts.append(pickle.loads(stdout))
        return ChainResult.concat(parts)


def export_potential(
    potential: Callable[[dict[str, Any]], Any],
    names: tuple[str, ...],
    example: dict[str, np.ndarray],
) -> bytes:
    """Serialise the potential's value and gradient, one function, for a worker.

    Exporting the value and gradient together (rather than the potential with
    its VJP) keeps one call per leapfrog step: an exported VJP would run the
    forward pass a second time.
    """
    import jax

    def value_and_grad(*c: Any) -> Any:
        return jax.value_and_grad(
            lambda *x: potential(dict(zip(names, x, strict=True))), argnums=tuple(range(len(c)))
        )(*c)

    specs = [
        jax.ShapeDtypeStruct(np.shape(example[n]), np.asarray(example[n]).dtype) for n in names
    ]
    return bytes(jax.export.export(jax.jit(value_and_grad))(*specs).serialize())


def imported_potential(blob: bytes, names: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """Load the potential of :func:`export_potential`, differentiable by its exported gradient."""
    import jax

    exported = jax.export.deserialize(bytearray(blob))

    @jax.custom_vjp
    def flat(*c: Any) -> Any:
        return exported.call(*c)[0]

    def forward(*c: Any) -> Any:
        value, grad = exported.call(*c)
        return value, grad

    def backward(grad: Any, cotangent: Any) -> Any:
        return tuple(cotangent * g for g in grad)

    flat.defvjp(forward, backward)

    def potential(z: dict[str, Any]) -> Any:
        return flat(*(z[n] for n in names))

    return potential


def worker_main() -> None:
    """Run a worker: read a pickled :class:`ChainJob` on stdin, write a :class:`ChainResult`."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but the result on the pipe
    import jax

    jax.config.update("jax_enable_x64", True)  # the model is float64, as PyMC compiles it
    import numpyro  # noqa: F401  (imported while the parent still builds the model)

    job: ChainJob = pickle.load(sys.stdin.buffer)
    pickle.dump(run_chains(imported_potential(job.potential, job.names), job), out)
    out.flush()


if __name__ == "__main__":
    # through the package, so that pickled classes name ``model.chains``, not ``__main__``
    from model.chains import worker_main as main

    main()
