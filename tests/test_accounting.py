"""The suite's account of its own time (:mod:`tests.accounting`)."""

from __future__ import annotations

from tests import accounting
from tests.accounting import account, install, read


def test_the_account_counts_each_second_once(tmp_path):
    rows = [
        {"kind": "nuts", "seconds": 30.0, "compile": 18.0, "test": "a"},
        {"kind": "program", "seconds": 7.0, "test": "a", "structure": "s"},  # inside the run
        {"kind": "program", "seconds": 2.0, "test": "b", "structure": "s"},  # built again
        {"kind": "nuts", "seconds": 10.0, "compile": 0.0, "test": "b"},
        {"kind": "model build", "seconds": 1.0, "test": "b"},
        {"kind": "reweight program", "seconds": 4.0, "test": "c"},
        {"kind": "wait", "seconds": 5.0, "test": "c"},
    ]
    result = account(rows, {"a": 40.0, "b": 11.0, "c": 9.0, "d": 40.0})
    assert result.test_seconds == 100.0
    assert result.fitting == 50.0
    assert result.compile_seconds == 18.0
    assert result.by_test == {"a": 30.0, "b": 11.0, "c": 9.0}
    text = "\n".join(result.lines())
    assert result.structures == 1
    assert "compile 18 s (of which 2 new programs of 1 structures, 9 s) + drawing 22 s" in text
    assert "everything else: 50 s" in text
    other = text.split("outside fits")[1].splitlines()[1:]  # d did no fitting at all
    assert other[0].split() == ["40.0", "d"] and other[1].split() == ["10.0", "a"]


def test_a_fit_leaves_its_record(tmp_path, shipped_inputs, monkeypatch):
    """The installed wrappers write a row per model build, named by the test that built it."""
    from model.inference import refit

    monkeypatch.setattr(accounting, "FOLDER", accounting.FOLDER)  # the run's, afterwards
    install(tmp_path)
    refit._MODELS.clear()
    refit.model_for(shipped_inputs.evidence, shipped_inputs.priors)
    rows = read(tmp_path)
    assert [r["kind"] for r in rows] == ["model build"]
    assert rows[0]["test"].endswith("test_a_fit_leaves_its_record")
