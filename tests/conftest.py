"""Shared fixtures: the shipped case, and a small number of real fits reused across tests.

Every fit compiles a JAX program, so fits are shared, each once per run, whatever the
number of worker processes:
``tiny_fit`` for what a run records, ``small_fit`` for every test that reads a
posterior, ``full_fit`` (slow) for the paper's answer and every reweighting
anchored on the default fit. A test that needs a fit of its own, beyond these,
is marked ``slow``; ``pytest -m "not slow"`` is the quick loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from model.inference.convergence import ESS_BULK_MIN

if TYPE_CHECKING:
    import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
ACTORS = ROOT / "data" / "actors.toml"
OBSERVATIONS = ROOT / "data" / "observations.csv"
DEFAULT_PRIORS = ROOT / "priors" / "default.toml"

#: A fixed as-of date keeps every test independent of the day it runs.
AS_OF = date(2025, 9, 30)

#: Small but real: enough draws for diagnostics to mean something.
SMALL = {"draws": 300, "tune": 400, "chains": 4, "seed": 7}

#: The precision of a slow test's own fit that reads modal types or compares with Monte
#: Carlo error, not the forecast's: the convergence gate's floor of bulk ESS (400) for
#: every reported quantity puts the standard error of a probability below 0.025, and the
#: comparisons carry their standard errors.
ANSWER_ESS = float(ESS_BULK_MIN)

#: Such a fit's sampler settings: to that precision, in chunks of 750 draws. In the
#: forecast's chunks of 250 these fits needed two or three chunks, and numpyro traces its
#: sampling program again for every chunk it continues (and compiles it for the second);
#: one chunk of 750 draws as many, or a few more, from one program. Chunking does not
#: change the draws: the chains continue where they stopped.
ANSWER = {"ess_target": ANSWER_ESS, "chunk": 750}

#: Structure only: a run of the sampler, not a posterior to read.
TINY = {"draws": 20, "tune": 20, "chains": 2, "seed": 123}


#: The run's folders this process made (and so removes), by environment variable: the
#: compiled-program cache and the shared fits.
_MADE = pytest.StashKey[dict[str, Path]]()

#: Where the run keeps its shared fits, once for all workers (:func:`_once_per_run`).
_FITS = "AXIS_TEST_FITS"


def pytest_configure(config: pytest.Config) -> None:
    """One compiled-program cache and one folder of shared fits for the whole run, and a
    console wide enough for paths.

    A fit to a precision compiles numpyro's sampling program again for every
    chunk it continues (numpyro maps a fresh function over the chains on each
    run); from JAX's persistent cache the third and later chunks load instead,
    and so does every later fit of the same program, in any test worker or any
    ``axis`` subprocess. The cache is the run's own, under the system's temporary
    folder, so no analyst's cache is read or written. The first process to
    configure (the controller of parallel workers, or a plain run) chooses it;
    workers and subprocesses inherit it through the environment. The shared fits'
    folder (:func:`_once_per_run`) is made and inherited the same way, and
    every fit leaves its seconds there for the run's account
    (:mod:`tests.accounting`).

    Error messages name the files they are about; at the default 80 columns Rich
    would break a long temporary path inside its name, and a test that looks for
    the path would fail on where the break fell, not on what was said.
    """
    import tempfile

    made = {}
    for name, prefix in (("AXIS_CACHE", "axis-test-cache-"), (_FITS, "axis-test-fits-")):
        if name not in os.environ:
            made[name] = Path(tempfile.mkdtemp(prefix=prefix))
            os.environ[name] = str(made[name])
    config.stash[_MADE] = made
    os.environ["COLUMNS"] = "200"
    from tests.accounting import Plugin

    config.pluginmanager.register(Plugin(Path(os.environ[_FITS])), "fit-accounting")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's compiled-program cache and shared fits, if this process made them."""
    import shutil

    for name, folder in config.stash.get(_MADE, {}).items():
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(name, None)


def _once_per_run(name: str, make: Callable[[], xr.DataTree]) -> xr.DataTree:
    """A shared fit, drawn once per run by whichever worker asks first; the others read it.

    With the suite split over worker processes, a session fixture would otherwise
    be fitted once per worker. The first worker to ask holds a file lock while it
    fits and writes the fit; every worker, the first included, then reads the same
    file, so every test sees the same draws, as in a run in one process.
    """
    import xarray as xr
    from filelock import FileLock

    from tests.accounting import record

    folder = Path(os.environ[_FITS])
    path = folder / f"{name}.nc"
    asked, drawn = time.perf_counter(), path.exists()
    with FileLock(folder / f"{name}.lock"):
        if path.exists():
            if not drawn:  # another worker drew it while this one stood idle
                record("wait", time.perf_counter() - asked)
        else:
            partial = folder / f"{name}.partial.nc"
            make().to_netcdf(partial)
            partial.replace(path)  # a fit that failed half-written is never read
    with xr.open_datatree(path) as tree:
        return tree.load()


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
    from model.workflows.forecast.inputs import load_inputs

    return load_inputs(ACTORS, OBSERVATIONS, DEFAULT_PRIORS, as_of=AS_OF)


@pytest.fixture(scope="session")
def small_fit(shipped_inputs):
    """One small real fit on the shipped data, shared by every test that reads a posterior."""
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast

    return _once_per_run("small", lambda: run_forecast(shipped_inputs, SamplerConfig(**SMALL)))


@pytest.fixture(scope="session")
def tiny_fit(shipped_inputs):
    """One tiny run of the forecast's sampler, shared by the tests of what a run records."""
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast

    return _once_per_run("tiny", lambda: run_forecast(shipped_inputs, SamplerConfig(**TINY)))


@pytest.fixture(scope="session")
def full_fit(shipped_inputs):
    """The full-size fit (4 x 1,000 draws, the default seed), shared by the paper's
    reproduction and the reweighted updates. A fit to the default precision stops at about
    half as many draws, which leaves too few effective draws after reweighting: an update
    from it samples again, correctly, but the reweighting tests need an anchor that can
    carry them."""
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast

    return _once_per_run("full", lambda: run_forecast(shipped_inputs, SamplerConfig(draws=1000)))
