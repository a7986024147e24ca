"""The stage timer: stages added and recorded in order; the one-line summary of the timings."""

from __future__ import annotations

import time

import pytest

from model.workflows.common.timing import StageTimer


def test_stage_timer_adds_stages_and_records_them_in_order():
    timer = StageTimer()
    with timer.stage("write"):
        time.sleep(0.01)
    timer.update({"sampling": 2.345, "build": 0.5})
    timer.add("write", 1.0)
    assert timer.stages["write"] >= 1.01 and timer.stages["sampling"] == 2.345
    record = timer.record(("build", "sampling", "write", "report"), total=9.876)
    assert record["total"] == 9.88
    assert list(record["stages"]) == ["build", "sampling", "write"]  # the order asked, no others
    assert record["stages"]["sampling"] == 2.35
    assert timer.total() > 0


def test_a_stage_that_raises_records_nothing():
    timer = StageTimer()
    with pytest.raises(KeyError), timer.stage("inputs"):
        raise KeyError("x")
    assert timer.stages == {}


def test_stage_line_lists_the_stages_in_order_and_skips_the_negligible():
    """The console's summary of timings.json, whose stages the benchmark's table shows."""
    from model.workflows.common.timing import stage_line

    line = stage_line({"report": 2.46, "sampling": 12.31, "inputs": 0.01, "start": 3.0}, 19.2)
    assert line == "19.2 s (start 3.0, sampling 12.3, report 2.5)"
