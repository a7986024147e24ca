"""The console: a progress bar that never advanced prints nothing."""

from __future__ import annotations


def test_a_progress_bar_never_advanced_prints_nothing(capsys):
    from model.outputs.console import fit_progress

    with fit_progress("fits", lambda done, total, label: label):
        pass
    assert capsys.readouterr().out == ""
