"""The live track record: published forecasts scored by hand on the rows dated after them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from model.workflows.updates.record import record_line, track_record

UNIFORM = [0.25] * 4


def _publication(ledger_id: int, as_of: str, conduct: list[float]) -> dict:
    """A ledger row whose forecast record has one pair and one dyad, in 2025Q3 only."""
    record = {
        "freq": "Q",
        "as_of": as_of,
        "model": {
            "2025Q3": {
                "conduct": {"RUS->CHN": conduct},
                "commitment": {"CHN-RUS": [0.1, 0.2, 0.3, 0.4]},
                "cohesion": {"CHN-RUS": UNIFORM},
            }
        },
        "baselines": {
            "conduct": {
                "RUS->CHN": {
                    "uniform": UNIFORM,
                    "climatology": [0.4, 0.2, 0.2, 0.2],
                    "persistence": [0.1, 0.1, 0.7, 0.1],
                }
            },
            "commitment": {
                "CHN-RUS": {
                    "uniform": UNIFORM,
                    "climatology": UNIFORM,
                    "persistence": [0.1, 0.5, 0.2, 0.2],
                }
            },
            "cohesion": {
                "CHN-RUS": {"uniform": UNIFORM, "climatology": UNIFORM, "persistence": UNIFORM}
            },
        },
    }
    return {"id": ledger_id, "summary": json.dumps({"forecasts": record})}


def _rows(*rows: tuple[str, str, str, str, str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["id", "date", "kind", "observer", "target", "indicator", "code"]
    )
    return frame.assign(date=pd.to_datetime(frame["date"]))


def test_each_publication_is_scored_by_hand_on_the_rows_after_it_only():
    from model.theory.tables import OUTCOME_LEVELS, STRATEGIES

    ledger = pd.DataFrame(
        [
            _publication(1, "2025-06-30", [0.7, 0.1, 0.1, 0.1]),
            _publication(2, "2025-09-30", UNIFORM),  # nothing dated after it in 2025Q3
            {"id": 3, "summary": json.dumps({})},  # published before forecasts were kept
        ]
    )
    rows = _rows(
        ("a", "2025-08-01", "conduct", "RUS", "CHN", "conduct", STRATEGIES[0]),
        ("b", "2025-09-01", "outcome", "CHN", "RUS", "commitment", OUTCOME_LEVELS[3]),
        ("c", "2025-08-01", "threat", "CHN", "USA", "military", "3"),  # threats are not targets
        ("d", "2025-05-01", "conduct", "RUS", "CHN", "conduct", STRATEGIES[1]),  # before it
        ("e", "2026-02-01", "conduct", "RUS", "CHN", "conduct", STRATEGIES[1]),  # past horizon
    )
    record = track_record(ledger, rows)
    assert record.unscored == [2, 3]
    assert list(record.targets["id"]) == ["a", "b"]
    conduct = 0.3**2 + 3 * 0.1**2  # (0.7-1)^2 + three 0.1^2
    commitment = 0.1**2 + 0.2**2 + 0.3**2 + 0.6**2
    (one,) = record.by_publication.to_dict("records")
    assert one["ledger_id"] == 1 and one["n"] == 2
    assert one["brier"] == pytest.approx((conduct + commitment) / 2)
    persistence = (0.9**2 + 0.1**2 * 2 + 0.7**2) + (0.1**2 + 0.5**2 + 0.2**2 + 0.8**2)
    assert one["brier_persistence"] == pytest.approx(persistence / 2)
    pooled = record.pooled.set_index("kind")
    assert pooled.loc["conduct", "brier"] == pytest.approx(conduct)
    assert pooled.loc["all", "skill_persistence"] == pytest.approx(
        1 - (conduct + commitment) / persistence
    )
    line = record_line(record)
    assert line["publications"] == 1 and line["n"] == 2
    assert line["brier"] == pytest.approx((conduct + commitment) / 2, abs=1e-4)


def test_nothing_to_score_is_an_empty_record_not_an_error():
    ledger = pd.DataFrame([_publication(1, "2025-06-30", UNIFORM)])
    record = track_record(ledger, _rows())
    assert record.targets.empty and record.unscored == [1]
    assert record_line(record) == {"publications": 0, "n": 0}


def test_a_publication_keeps_its_forecast_and_the_baselines_it_knew(small_fit, shipped_inputs):
    """The forecast record of a real fit: every later period, each pair and dyad, rows summing
    to one, and persistence read from the pair's own rows known at the as-of date."""
    from model.workflows.updates.baselines import baselines
    from model.workflows.updates.record import forecast_record

    known = shipped_inputs.observations
    record = forecast_record(small_fit, known, "Q")
    roles = json.loads(small_fit.attrs["report_periods"])
    periods = list(record["model"])
    assert periods[0] == roles["now"] and periods[-1] == roles["horizon"]
    for period in record["model"].values():
        assert len(period["conduct"]) == 6 and len(period["commitment"]) == 3
        for probs in [*period["conduct"].values(), *period["cohesion"].values()]:
            assert sum(probs) == pytest.approx(1.0, abs=1e-5)
    own = baselines(known, "conduct", "conduct", "PRK->RUS")["persistence"]
    assert np.allclose(record["baselines"]["conduct"]["PRK->RUS"]["persistence"], own, atol=1e-6)
    json.dumps(record)  # the ledger keeps it as JSON
