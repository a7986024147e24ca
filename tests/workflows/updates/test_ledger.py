"""Reading the ledger: a new store's is empty."""

from __future__ import annotations


def test_reading_the_ledger_of_a_new_store_finds_nothing(tmp_path):
    from model.workflows.updates.ledger import read_ledger

    assert read_ledger(tmp_path / "axis.sqlite").empty
