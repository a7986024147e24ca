"""The forecast ledger, read back: every published forecast, oldest first (``axis history``).

Kept apart from :mod:`model.workflows.updates.update` so that reading the ledger
imports no sampler: ``axis history`` answers at once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from model.evidence.data import InputError, Problem
from model.evidence.store import Store


def read_ledger(path: Path, *, required: bool = False) -> pd.DataFrame:
    """Return every published forecast of a store, oldest first (an empty frame for a new store).

    With ``required`` (a ledger the analyst named) a file that does not
    exist is an error naming it, not an empty ledger: a typo in a path must
    not read as "nothing published yet".
    """
    if required and not Path(path).is_file():
        raise InputError([Problem(str(path), None, "-", "no such ledger file")])
    return Store(path).ledger()
