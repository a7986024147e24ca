"""A forecast's inputs as of a date: no later observation reaches the fit."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.conftest import ACTORS, DEFAULT_PRIORS, OBSERVATIONS


@pytest.mark.slow  # a fit of its own, on the evidence known at the end of 2023
def test_as_of_fit_uses_no_later_observation():
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_inputs

    when = date(2023, 12, 31)
    inputs = load_inputs(ACTORS, OBSERVATIONS, DEFAULT_PRIORS, as_of=when)
    idata = run_forecast(inputs, SamplerConfig(draws=20, tune=20, chains=2, seed=3))
    frame = pd.read_csv(OBSERVATIONS, parse_dates=["date"])
    known = frame[frame.date.dt.date <= when]
    observed = idata.observed_data
    assert int(observed["threat_evidence"].sum()) == int((known.kind == "threat").sum())
    assert int(observed["behaviour_evidence"].sum()) == int((known.kind != "threat").sum())
    assert int((frame.kind == "threat").sum()) > int((known.kind == "threat").sum())
    assert inputs.observations["date"].max().date() <= when
    assert inputs.evidence.periods[inputs.evidence.report_index[1]] == "2023Q4"
    assert inputs.evidence.periods[-1] == "2024Q4"
