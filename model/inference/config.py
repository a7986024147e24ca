"""How to sample, as plain data: the settings every fit and every command's options share.

Kept apart from :mod:`model.inference.sampling` so that reading the defaults
(the command line builds its options from them) imports no sampler.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ESS_TARGET", "SAMPLERS", "SamplerConfig"]


#: Samplers :func:`sample` drives.
SAMPLERS: tuple[str, ...] = ("numpyro", "nutpie")


#: Default precision: the smallest bulk ESS of any reported quantity a fit reaches.
ESS_TARGET = 1000


@dataclass(frozen=True)
class SamplerConfig:
    """How to sample.

    Attributes
    ----------
    draws
        Draws per chain; ``None`` draws to a precision: chunks of ``chunk``
        draws until the gate passes and the smallest bulk ESS of the reported
        quantities reaches ``ess_target``, at most ``max_draws`` per chain.
    tune
        Warm-up iterations per chain.
    chains
        Independent chains (run in parallel).
    seed
        Seeds everything: starting points, NUTS, and so the whole run.
    sampler
        One of :data:`SAMPLERS`.
    target_accept
        NUTS's acceptance target.
    retry_target_accept
        A run that diverges is drawn again, all chains, at this target
        (smaller steps); ``None`` never retries.
    ess_target, chunk, max_draws
        The precision rule (``draws=None`` only).
    chain_method
        ``"parallel"`` (one JAX device per chain, under ``jax.pmap``) or
        ``"vectorized"`` (the chains batched on one device, ``jax.vmap``);
        ``None``: parallel where the devices allow. Both take the data as an
        argument of the compiled program.
    """

    draws: int | None = None
    tune: int = 300
    chains: int = 4
    seed: int = 20250630
    sampler: str = "numpyro"
    target_accept: float = 0.95
    retry_target_accept: float | None = 0.99
    ess_target: float = ESS_TARGET
    chunk: int = 250
    max_draws: int = 4000
    chain_method: str | None = None
