"""Agreement between coders: Krippendorff's alpha per kind, on the events both coded.

Two coders who read the same sources should give the same events the same
codes. Where they do not, the measurement model's coder effects
(:mod:`model.generative.build`) absorb the difference; this module says how
large it was, in the reliability statistic content analysts report
(Krippendorff 2004), with the scale each kind has: threat codes (0-4) and
outcome levels are ordinal, strategies nominal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.evidence.data import CODER_COLUMN
from model.theory.tables import OUTCOME_LEVELS, STRATEGIES

#: What makes two rows the same event: the codebook dates an event by its own day.
EVENT_KEY: tuple[str, ...] = ("kind", "observer", "target", "indicator", "date")

#: Each kind's scale of measurement, and its codes in order.
SCALES: dict[str, tuple[str, tuple[str, ...]]] = {
    "threat": ("ordinal", ("0", "1", "2", "3", "4")),
    "conduct": ("nominal", STRATEGIES),
    "outcome": ("ordinal", OUTCOME_LEVELS),
}


def reliability_matrix(frame: pd.DataFrame, coders: tuple[str, str], kind: str) -> np.ndarray:
    """``(coder, event)`` codes as numbers, for the events of ``kind`` both coders coded.

    An event one coder coded more than once counts with that coder's first
    code (in file order), so each coder gives each event one value.
    """
    return _events(frame, coders, kind).dropna().to_numpy(dtype=float).T


def _events(frame: pd.DataFrame, coders: tuple[str, str], kind: str) -> pd.DataFrame:
    """One row per event of ``kind`` either coder coded, one column of codes per coder."""
    _, codes = SCALES[kind]
    rows = frame[(frame["kind"] == kind) & frame[CODER_COLUMN].isin(coders)].copy()
    rows["value"] = pd.Categorical(rows["code"], categories=list(codes)).codes
    rows["day"] = pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-%d")
    key = [k if k != "date" else "day" for k in EVENT_KEY]
    first = rows.drop_duplicates([*key, CODER_COLUMN]).set_index([*key, CODER_COLUMN])["value"]
    return first.unstack(CODER_COLUMN).reindex(columns=list(coders))


def coder_agreement(frame: pd.DataFrame, coders: tuple[str, str]) -> pd.DataFrame:
    """Krippendorff's alpha per kind between two coders, on the events both coded.

    Parameters
    ----------
    frame
        Validated observations (:func:`model.evidence.data.read_observations`)
        holding both coders' rows, told apart by the ``coder`` column.
    coders
        The two coders' names.

    Returns
    -------
    pandas.DataFrame
        One row per kind: ``kind``, ``scale``, ``events`` (coded by both),
        ``only_first`` and ``only_second`` (events one coder coded and the
        other did not: agreement says nothing about them), ``agree`` (share
        with the same code) and ``alpha`` (NaN where fewer than two events,
        or a single code, leave nothing to compare).
    """
    import krippendorff

    out = []
    for kind, (scale, _) in SCALES.items():
        events = _events(frame, coders, kind)
        data = events.dropna().to_numpy(dtype=float).T
        n = data.shape[1]
        alpha = float("nan")
        if n >= 2 and len(np.unique(data)) > 1:
            alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement=scale))
        agree = float((data[0] == data[1]).mean()) if n else float("nan")
        alone = events.notna()
        out.append(
            {
                "kind": kind,
                "scale": scale,
                "events": n,
                "only_first": int((alone[coders[0]] & ~alone[coders[1]]).sum()),
                "only_second": int((alone[coders[1]] & ~alone[coders[0]]).sum()),
                "agree": agree,
                "alpha": alpha,
            }
        )
    return pd.DataFrame(out)
