"""Folders written whole: a backtest's or scenarios' folder appears complete or not at all,
and is never written over.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers import BACKTEST_FILES, fake_backtest, listing


def test_backtest_folder_is_written_whole(tmp_path):
    from model.outputs.folders import write_backtest

    out = write_backtest(fake_backtest(), tmp_path / "bt")
    assert listing(tmp_path) == ["bt", *(f"bt/{name}" for name in BACKTEST_FILES)]
    assert pd.read_csv(out / "backtest.csv")["fit"].tolist() == ["NUTS", "reweighted"]


def test_a_failed_backtest_folder_leaves_nothing(tmp_path, monkeypatch):
    """The figure fails after both tables were written: neither the folder nor its draft remains."""
    import model.outputs.plots
    from model.outputs.folders import write_backtest

    def broken(forecasts):
        raise RuntimeError("no figure")

    monkeypatch.setattr(model.outputs.plots, "plot_backtest", broken)
    with pytest.raises(RuntimeError, match="no figure"):
        write_backtest(fake_backtest(), tmp_path / "bt")
    assert listing(tmp_path) == []


def test_a_backtest_folder_is_never_written_over(tmp_path):
    from model.outputs.folders import write_backtest

    (tmp_path / "bt").mkdir()
    (tmp_path / "bt" / "mine.txt").write_text("kept")
    with pytest.raises(FileExistsError):
        write_backtest(fake_backtest(), tmp_path / "bt")
    assert listing(tmp_path) == ["bt", "bt/mine.txt"]


def test_a_failed_scenario_folder_leaves_nothing(tmp_path, monkeypatch):
    import model.outputs.plots
    from model.outputs.folders import write_scenarios
    from model.workflows.studies.scenario import ScenarioResult

    def broken(frame, period):
        raise RuntimeError("no figure")

    monkeypatch.setattr(model.outputs.plots, "plot_scenarios", broken)
    frame = pd.DataFrame({"scenario": ["a"], "value": [0.5]})
    result = ScenarioResult(frame, frame, "2025Q3", [], {"run": None})
    with pytest.raises(RuntimeError, match="no figure"):
        write_scenarios(result, tmp_path / "sc")
    assert listing(tmp_path) == []
