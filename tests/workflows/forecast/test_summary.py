"""The state given the evidence, reported beside the implied one: in the summary, and as the
update diff and the report read it from there."""

from __future__ import annotations

import pytest

from model.workflows.updates.update import diff_summaries


def _summary(p_axis: float, bb_implied: float, bb_state: float | None) -> dict:
    types = {"balancing-balancing": bb_implied, "balancing-hedging": 1 - bb_implied}
    levels = {"none": 0.1, "low": 0.2, "medium": 0.3, "high": 0.4}
    dyad = {"type_probs": types, "commitment": levels, "cohesion": levels}
    if bb_state is not None:
        state = {"balancing-balancing": bb_state, "balancing-hedging": 1 - bb_state}
        dyad["smoothed"] = {"type_probs": state, "commitment": levels, "cohesion": levels}
    return {"p_axis": {"mean": p_axis}, "dyads": {"PRK-RUS": dyad}}


def test_the_update_diff_lists_the_state_given_the_evidence():
    rows = diff_summaries(_summary(0.01, 0.40, 0.50), _summary(0.02, 0.42, 0.90))
    assert rows[0]["quantity"] == "P(axis)"
    # the largest change comes first: the state moved by 0.40, the implied type by 0.02
    top = rows[1]
    assert (top["quantity"], top["category"]) == ("state: type", "balancing-balancing")
    assert top["change"] == pytest.approx(0.40)
    implied = [r for r in rows if r["quantity"] == "type" and r["category"].startswith("bal")]
    assert max(abs(r["change"]) for r in implied) == pytest.approx(0.02)


def test_runs_written_before_the_state_was_reported_diff_as_before():
    rows = diff_summaries(_summary(0.01, 0.40, None), _summary(0.02, 0.42, 0.90))
    assert not [r for r in rows if r["quantity"].startswith("state")]


def test_a_fit_reports_both_and_they_agree_where_no_codes_fell(small_fit):
    """In the forecast periods, which have no conduct or outcome codes, the two agree draw by
    draw; every reported state is a distribution."""
    import json

    import numpy as np

    from model.workflows.forecast.summary import summarise

    summary = summarise(small_fit)
    for info in summary["dyads"].values():
        state = info["smoothed"]
        assert sum(state["type_probs"].values()) == pytest.approx(1.0)
        assert sum(state["cohesion"].values()) == pytest.approx(1.0)
        assert state["modal_type"] in state["type_probs"]
    post = small_fit.posterior
    periods = json.loads(small_fit.attrs["report_periods"])
    horizon = periods["horizon"]
    np.testing.assert_allclose(
        post["smoothed_type_prob"].sel(period=horizon).values,
        post["type_prob"].sel(window=horizon).values,
        atol=1e-9,
    )


def test_the_report_shows_the_state_beside_the_implied_type(small_fit):
    from model.outputs.report import _dyads
    from model.workflows.forecast.summary import summarise

    summary = summarise(small_fit)
    html = _dyads(summary, {"dyad_types": b"", "outcomes": b""})
    assert "<th>implied</th><th>state</th>" in html
    assert "state: cohesion" in html
    older = {**summary, "dyads": {d: {**i} for d, i in summary["dyads"].items()}}
    for info in older["dyads"].values():
        info.pop("smoothed")
    assert "<th>state</th>" not in _dyads(older, {"dyad_types": b"", "outcomes": b""})
