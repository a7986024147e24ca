"""Simulation-based calibration: the machinery runs, resumes, and its tests can fail."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from model.evidence.priors import load_priors
from model.generative.simulate import Design, PriorSampler, simulate_case, template_evidence
from model.inference.config import SamplerConfig
from model.inference.refit import Refitter
from model.inference.runner import run_tasks
from model.outputs.calibration import write_outputs
from model.workflows.validation.sbc import (
    SBCSpec,
    holm,
    rank_of,
    run_sbc,
    sim_path,
    uniformity_table,
)
from tests.conftest import DEFAULT_PRIORS


def test_uniformity_test_passes_uniform_and_fails_skewed_ranks():
    rng = np.random.default_rng(0)
    n_ranks = 99
    ranks = pd.DataFrame(
        {
            "uniform": rng.integers(0, n_ranks + 1, 400),
            "overconfident": (rng.beta(0.5, 0.5, 400) * (n_ranks + 1)).astype(int),
            "biased": rng.integers(0, 60, 400),
        }
    )
    table = uniformity_table(ranks, n_ranks).set_index("quantity")
    assert table.loc["uniform", "passes"]
    assert not table.loc["overconfident", "passes"]
    assert not table.loc["biased", "passes"]
    assert (table["p_holm"] >= table["p_value"]).all()


def test_holm_matches_hand_computation():
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])


def test_rank_counts_draws_below_and_breaks_ties():
    rng = np.random.default_rng(1)
    assert rank_of(0.5, np.array([0.1, 0.2, 0.9]), rng) == 2
    tied = {rank_of(1.0, np.array([0.0, 1.0, 1.0, 2.0]), rng) for _ in range(200)}
    assert tied == {1, 2, 3}


def test_refitter_density_is_the_built_model_density():
    """The one-compile density equals a freshly built model's, and moves with the data."""
    from model.generative.build import build_model

    priors = load_priors(DEFAULT_PRIORS)
    design = Design(n_periods=3)
    refitter = Refitter(template_evidence(design), priors)
    prior = PriorSampler(refitter.model)
    sims = [simulate_case(design, prior(s), np.random.default_rng(s)) for s in (1, 2)]
    point = {k: v + 0.1 for k, v in refitter.model.initial_point().items()}
    fresh = build_model(sims[0].evidence, priors)
    expected = float(fresh.compile_logp(mode="FAST_COMPILE")(point))
    assert refitter.log_density(sims[0].evidence, point) == pytest.approx(expected, rel=1e-10)
    assert refitter.log_density(sims[1].evidence, point) != pytest.approx(expected, rel=1e-6)


@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster of one thread in this process, reached by its address.

    ``run_sbc`` sends its simulations to a scheduler the same way whatever
    runs it; in this process the refitter is built and compiled once for every
    run of the test, where each run's own worker process would import, build
    and compile it again (about a minute). Worker processes are checked below.
    """
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_tasks_run_in_worker_processes_and_come_back_in_order():
    """The default local cluster: one process per worker, results in the order of the tasks."""
    results = run_tasks(divmod, [(7, 2), (9, 4), (1, 1)], workers=1)
    assert results == [(3, 1), (2, 1), (1, 0)]
    assert run_tasks(os.getpid, [()], workers=1) != [os.getpid()]


@pytest.mark.slow  # three fits of simulated cases
def test_short_sbc_runs_end_to_end_and_resumes(tmp_path, scheduler):
    spec = SBCSpec(
        design=Design(n_periods=3, threat_rows=1),
        priors=str(DEFAULT_PRIORS),
        refit=SamplerConfig(draws=19, tune=40),
        thin=1,
    )
    first = run_sbc(spec, 2, tmp_path, seed=10, scheduler=scheduler)
    assert first.new == 2 and len(first.ranks) == 2
    assert first.ranks.to_numpy().min() >= 0 and first.ranks.to_numpy().max() <= spec.n_ranks
    groups = set(first.table["group"])
    assert {"threat_innovation", "strategy_map", "commitment", "p_axis@last"} <= groups
    assert {"type_prob@last", "theta@last", "level_sharpness"} <= groups
    done = {s: sim_path(tmp_path, s).stat().st_mtime_ns for s in (10, 11)}

    second = run_sbc(
        spec, 3, tmp_path, seed=10, scheduler=scheduler
    )  # resumes: only seed 12 is new
    assert second.new == 1 and list(second.ranks.index) == [10, 11, 12]
    assert {s: sim_path(tmp_path, s).stat().st_mtime_ns for s in (10, 11)} == done
    pd.testing.assert_frame_equal(second.ranks.loc[[10, 11]], first.ranks)

    third = run_sbc(spec, 3, tmp_path, seed=10, scheduler=scheduler)
    assert third.new == 0
    written = write_outputs(third, spec, tmp_path)
    assert {p.name for p in written} >= {"ranks.csv", "uniformity.csv", "ecdf_difference.png"}
    assert (tmp_path / "uniformity.csv").stat().st_size > 0

    other = SBCSpec(design=Design(n_periods=4), priors=str(DEFAULT_PRIORS), thin=1)
    with pytest.raises(ValueError, match="other settings"):
        run_sbc(other, 1, tmp_path, scheduler=scheduler)
