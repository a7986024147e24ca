"""A forecast's run folder: its timings recorded in the stage order, and said on the console."""

from __future__ import annotations

import json

from model.workflows.common.timing import StageTimer


def test_timings_are_recorded_in_the_stage_order(tmp_path, capsys):
    from model.outputs.forecast_run import record_timings
    from model.workflows.common.run_folder import TIMINGS
    from model.workflows.common.timing import STAGES

    timer = StageTimer()
    timer.update({"report": 1.0, "sampling": 3.0, "start": 0.5})
    record_timings(tmp_path, timer)
    written = json.loads((tmp_path / TIMINGS).read_text())
    assert list(written["stages"]) == [s for s in STAGES if s in written["stages"]]
    assert written["total"] >= 0 and "Time:" in capsys.readouterr().out
