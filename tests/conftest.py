"""Shared fixtures: the shipped case, and a small number of real fits reused across tests.

Every fit compiles a JAX program, so fits are shared, each once per session:
``tiny_fit`` for what a run records, ``small_fit`` for every test that reads a
posterior, ``full_fit`` (slow) for the paper's answer and every reweighting
anchored on the default fit. A test that needs a fit of its own, beyond these,
is marked ``slow``; ``pytest -m "not slow"`` is the quick loop.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACTORS = ROOT / "data" / "actors.toml"
OBSERVATIONS = ROOT / "data" / "observations.csv"
DEFAULT_PRIORS = ROOT / "priors" / "default.toml"

#: A fixed as-of date keeps every test independent of the day it runs.
AS_OF = date(2025, 9, 30)

#: Small but real: enough draws for diagnostics to mean something.
SMALL = {"draws": 300, "tune": 400, "chains": 4, "seed": 7}

#: Structure only: a run of the sampler, not a posterior to read.
TINY = {"draws": 20, "tune": 20, "chains": 2, "seed": 123}


@pytest.fixture(scope="session", autouse=True)
def _no_persistent_compile_cache_in_this_process():
    """Keep this process's hundreds of compiled programs out of JAX's persistent cache.

    The cache serves an analyst's next ``axis`` run; inside one long test
    process it pays nothing back, and writing every program of a full run to it
    has aborted the process in JAX's cache writer late in the suite. The
    commands the tests start as subprocesses still use it.
    """
    import model.inference.sampling as sampling

    keep = sampling.enable_cache
    sampling.enable_cache = lambda path=None: None
    yield
    sampling.enable_cache = keep


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    A full run compiles hundreds of XLA programs in one process; kept, they
    exhaust the CPU compiler's symbol space late in the suite ("Failed to
    materialize symbols"). The session's shared fits keep their draws, and a
    later module that samples again compiles what it needs.
    """
    yield
    import sys

    if "jax" in sys.modules:
        import jax

        jax.clear_caches()


@pytest.fixture(scope="session")
def shipped_inputs():
    from model.workflows.forecast import load_inputs

    return load_inputs(ACTORS, OBSERVATIONS, DEFAULT_PRIORS, as_of=AS_OF)


@pytest.fixture(scope="session")
def small_fit(shipped_inputs):
    """One small real fit on the shipped data, shared by every test that reads a posterior."""
    from model.workflows.forecast import SamplerConfig, run_forecast

    return run_forecast(shipped_inputs, SamplerConfig(**SMALL))


@pytest.fixture(scope="session")
def tiny_fit(shipped_inputs):
    """One tiny run of the forecast's sampler, shared by the tests of what a run records."""
    from model.workflows.forecast import SamplerConfig, run_forecast

    return run_forecast(shipped_inputs, SamplerConfig(**TINY))


@pytest.fixture(scope="session")
def full_fit(shipped_inputs):
    """The full-size fit (4 x 1,000 draws, the default seed), shared by the paper's
    reproduction and the reweighted updates. A fit to the default precision stops at about
    half as many draws, which leaves too few effective draws after reweighting: an update
    from it samples again, correctly, but the reweighting tests need an anchor that can
    carry them."""
    from model.workflows.forecast import SamplerConfig, run_forecast

    return run_forecast(shipped_inputs, SamplerConfig(draws=1000))
