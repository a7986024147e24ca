"""Forecasting a case: bad input refused before the fit, a failed fit not called bad input.

The fit is replaced: these tests hold the workflow's handling of its inputs and errors.
"""

from __future__ import annotations

import pandas as pd
import pytest

from model.workflows.common.inputs import BadInputError, CaseFiles
from model.workflows.common.timing import StageTimer
from tests.conftest import ACTORS, DEFAULT_PRIORS
from tests.helpers import SHIPPED


def test_forecast_refuses_bad_input_before_the_fit(tmp_path, monkeypatch):
    import model.workflows.forecast.case as forecast
    from model.inference.config import SamplerConfig

    monkeypatch.setattr(forecast, "run_forecast", lambda *a, **k: pytest.fail("fitted"))
    files = CaseFiles(tmp_path / "missing.csv", ACTORS, DEFAULT_PRIORS)
    timer = StageTimer()
    with pytest.raises(BadInputError, match=r"missing\.csv"):
        forecast.forecast_case(files, SamplerConfig(), timer=timer)
    assert "inputs" not in timer.stages


def test_forecast_does_not_call_a_failed_fit_bad_input(monkeypatch):
    """A ValueError from the fit itself stays a failure (exit 1), not bad input (exit 2)."""
    import model.workflows.forecast.case as forecast
    from model.inference.config import SamplerConfig
    from model.workflows.common.hooks import Hooks

    def fit(inputs, config, **kw):
        raise ValueError("unknown sampler 'x'")

    told = []
    monkeypatch.setattr(forecast, "run_forecast", fit)
    timer = StageTimer()
    with pytest.raises(ValueError, match="unknown sampler") as err:
        forecast.forecast_case(
            SHIPPED,
            SamplerConfig(),
            as_of=pd.Timestamp("2025-09-30").date(),
            timer=timer,
            hooks=Hooks(fitting=lambda inputs, config: told.append(inputs.as_of)),
        )
    assert not isinstance(err.value, BadInputError)
    assert told and "inputs" in timer.stages
