"""Parameter recovery with plentiful evidence: the truth is found."""

from __future__ import annotations

import numpy as np
import pytest

from model.evidence.priors import load_priors
from model.generative.simulate import Design, simulate_case, template_evidence
from model.inference.config import SamplerConfig
from model.inference.refit import Refitter
from model.workflows.validation.recovery import (
    CONFIGURATIONS,
    check_recovery,
    true_parameters,
)
from tests.conftest import DEFAULT_PRIORS


@pytest.mark.slow  # a real fit (2 x 300 draws) of a simulated case
def test_paper_configuration_is_recovered_with_plentiful_evidence():
    priors = load_priors(DEFAULT_PRIORS)
    design = Design(n_periods=8, threat_rows=4, conduct_rows=4, outcome_rows=4)
    truth = true_parameters(CONFIGURATIONS["paper"], design, priors)
    sim = simulate_case(design, truth, np.random.default_rng(2025))
    refitter = Refitter(
        template_evidence(design), priors, SamplerConfig(draws=300, tune=300, chains=2)
    )
    post = refitter.fit(sim.evidence, seed=3)
    res = check_recovery(truth, post, design, sim.evidence.report_index[0])
    series, dyads, axis = res["series"], res["dyads"], res["axis"].iloc[0]
    # 94% intervals: missing 3 or more of 9 has probability ~1.4% when calibrated
    assert series["in_hdi"].sum() >= 7, series
    assert series["level_correct"].all(), series
    assert dyads["type_correct"].all(), dyads
    assert set(dyads["true_type"]) == {
        "balancing-balancing",
        "balancing-hedging",
        "balancing-tethering",
    }
    assert axis["hdi_low"] <= axis["true_p_axis"] <= axis["hdi_high"]
    assert post["diverging"].sum() <= 3
