"""The forecast ledger, read back: every published forecast, oldest first (``axis history``).

Kept apart from :mod:`model.workflows.updates.update` so that reading the ledger
imports no sampler: ``axis history`` answers at once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from model.evidence.store import Store


def read_ledger(path: Path) -> pd.DataFrame:
    """Return every published forecast of a store, oldest first (an empty frame for a new store)."""
    return Store(path).ledger()
