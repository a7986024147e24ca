"""Real fits: the model answers to evidence, and reproduces the paper at full size."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest

from model.inference.config import SamplerConfig
from model.workflows.forecast.fit import run_forecast
from model.workflows.forecast.inputs import load_inputs
from model.workflows.forecast.summary import summarise
from model.workflows.validation.paper import compare_with_paper
from tests.conftest import ACTORS, AS_OF, DEFAULT_PRIORS, OBSERVATIONS, ROOT, SMALL

DYAD_STATES = {"RUS", "PRK"}


def _hostile_dyad_csv(tmp_path):
    """The shipped evidence with the RUS-PRK dyad's own evidence replaced by high mutual threat."""
    frame = pd.read_csv(OBSERVATIONS, dtype=str, keep_default_na=False)
    inside = frame.observer.isin(DYAD_STATES) & frame.target.isin(DYAD_STATES)
    kept = frame[~inside]
    rows = []
    for n, day in enumerate(pd.date_range("2022-03-01", "2025-06-01", freq="QS")):
        for obs, tgt in (("RUS", "PRK"), ("PRK", "RUS")):
            rows.append(
                {
                    "id": f"H{n:02d}{obs}",
                    "date": day.date().isoformat(),
                    "kind": "threat",
                    "observer": obs,
                    "target": tgt,
                    "indicator": "military",
                    "code": "4" if n % 2 else "3",
                    "citation": "Hypothetical, 2025",
                    "note": "test: high mutual internal threat",
                }
            )
    path = tmp_path / "hostile.csv"
    pd.concat([kept, pd.DataFrame(rows)]).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_model_answers_to_evidence(tmp_path, small_fit):
    """With high mutual internal threat coded for RUS-PRK, the dyad stops looking allied."""
    inputs = load_inputs(ACTORS, _hostile_dyad_csv(tmp_path), DEFAULT_PRIORS, as_of=AS_OF)
    hostile = summarise(run_forecast(inputs, SamplerConfig(**SMALL)))["dyads"]["PRK-RUS"]
    base = summarise(small_fit)["dyads"]["PRK-RUS"]
    assert base["modal_type"] == "balancing-balancing"
    assert hostile["modal_type"] != "balancing-balancing"
    assert (
        hostile["type_probs"]["balancing-balancing"]
        < base["type_probs"]["balancing-balancing"] - 0.25
    )
    assert hostile["cohesion"]["high"] < base["cohesion"]["high"]


@pytest.mark.slow
def test_reproduces_the_paper(tmp_path, full_fit):
    """Full-size fit on the shipped data: the paper's answer, and a clean convergence gate."""
    summary = summarise(full_fit)
    assert json.loads(full_fit.attrs["provenance"])["seed"] == 20250630
    coding = tomllib.loads((ROOT / "data" / "paper_coding.toml").read_text(encoding="utf-8"))
    checks = compare_with_paper(summary, coding)
    failed = [c for c in checks if not c.holds]
    assert not failed, failed
    assert summary["diagnostics"]["passed"], summary["diagnostics"]
    (tmp_path / "summary.json").write_text(json.dumps(summary))
