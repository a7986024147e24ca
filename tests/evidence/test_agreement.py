"""Inter-coder agreement: Krippendorff's alpha on the events both coders coded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.evidence.agreement import coder_agreement, reliability_matrix
from model.evidence.data import load_actors, read_observations
from tests.conftest import ACTORS, OBSERVATIONS


@pytest.fixture(scope="module")
def shipped():
    return read_observations(OBSERVATIONS, load_actors(ACTORS))


def _second(frame: pd.DataFrame, change: float, seed: int = 0) -> pd.DataFrame:
    """A second coder's copy of every row, with a share of threat codes moved by one."""
    rng = np.random.default_rng(seed)
    copy = frame.assign(coder="second", id="S" + frame["id"])
    threat = copy.index[copy["kind"] == "threat"]
    moved = rng.choice(threat, size=int(change * len(threat)), replace=False)
    codes = copy.loc[moved, "code"].astype(int)
    copy.loc[moved, "code"] = np.where(codes < 4, codes + 1, codes - 1).astype(str)
    return pd.concat([frame, copy], ignore_index=True)


def test_identical_codings_agree_perfectly(shipped):
    table = coder_agreement(_second(shipped, 0.0), ("main", "second")).set_index("kind")
    assert table.loc["threat", "events"] > 20
    assert table.loc["threat", "alpha"] == pytest.approx(1.0)
    assert (table["agree"] == 1.0).all()


def test_disagreement_lowers_alpha_by_how_much_it_moves(shipped):
    small = coder_agreement(_second(shipped, 0.1), ("main", "second")).set_index("kind")
    large = coder_agreement(_second(shipped, 0.6), ("main", "second")).set_index("kind")
    assert 1.0 > small.loc["threat", "alpha"] > large.loc["threat", "alpha"]
    assert small.loc["conduct", "alpha"] == pytest.approx(1.0)  # conduct codes untouched


def test_only_events_both_coded_count(shipped):
    both = _second(shipped, 0.0)
    dropped = both[~((both["coder"] == "second") & (both["kind"] == "threat"))].iloc[:-5]
    data = reliability_matrix(dropped, ("main", "second"), "threat")
    assert data.shape == (2, 0)
    full = reliability_matrix(both, ("main", "second"), "threat")
    assert (
        full.shape[0] == 2
        and full.shape[1]
        == (shipped["kind"] == "threat").sum()
        - (
            shipped[shipped["kind"] == "threat"].duplicated(
                ["observer", "target", "indicator", "date"]
            )
        ).sum()
    )
