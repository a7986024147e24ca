"""The forecaster's naive baselines: what a forecast must beat to mean something.

Uniform, climatology (how often each code has been seen) and persistence
(what this pair or dyad has been doing), all from the rows known at the
forecast's date. The backtest (:mod:`model.workflows.updates.backtest`), the
live track record (:mod:`model.workflows.updates.record`) and the past
questions (:mod:`model.workflows.updates.past_questions`) score against the
same ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.theory.tables import OUTCOME_LEVELS, STRATEGIES

#: Pseudo-count per category of the baselines' frequencies (Laplace's rule of succession):
#: a category never seen yet keeps a probability above zero, so its log score is finite.
SMOOTHING = 1.0

#: The forecaster's naive baselines, beside the model, in the order tables show them.
BASELINES: tuple[str, ...] = ("uniform", "climatology", "persistence")


def _frequencies(codes: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    """Laplace-smoothed frequencies of ``codes`` over ``categories``."""
    counts = codes.value_counts().reindex(list(categories), fill_value=0).to_numpy(float)
    return (counts + SMOOTHING) / (counts.sum() + SMOOTHING * len(categories))


def baselines(known: pd.DataFrame, kind: str, indicator: str, unit: str) -> dict[str, np.ndarray]:
    """Uniform, climatology and persistence forecasts of one target, from what was known.

    * climatology: the frequency of each code among every known row of the
      same kind (conduct) or indicator (commitment, cohesion);
    * persistence: the same over the target's own pair (conduct, directed)
      or dyad (outcome); where it has no row yet, climatology.

    Both are Laplace-smoothed (:data:`SMOOTHING`). ``known`` holds only rows
    dated on or before the as-of date, so no baseline sees the future.
    """
    categories = STRATEGIES if kind == "conduct" else OUTCOME_LEVELS
    same = known[known["kind"] == kind]
    if kind == "conduct":
        own = same[(same["observer"] + "->" + same["target"]) == unit]
    else:
        same = same[same["indicator"] == indicator]
        first = same["observer"].where(same["observer"] < same["target"], same["target"])
        second = same["target"].where(same["observer"] < same["target"], same["observer"])
        own = same[(first + "-" + second) == unit]
    climatology = _frequencies(same["code"], categories)
    return {
        "uniform": np.full(len(categories), 1.0 / len(categories)),
        "climatology": climatology,
        "persistence": _frequencies(own["code"], categories) if len(own) else climatology,
    }


def versus(
    name: str, model_brier: np.ndarray, base_brier: np.ndarray, base_log: np.ndarray
) -> dict[str, float]:
    """Give the score-table columns of one baseline against the model, target by target.

    ``brier_<name>`` and ``log_score_<name>`` (means), the skill
    ``1 - brier / brier_<name>``, and the paired mean Brier difference with
    its standard error (sd of the differences over sqrt(n); ``nan`` for one
    target).
    """
    diff = base_brier - model_brier
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    return {
        f"brier_{name}": float(base_brier.mean()),
        f"log_score_{name}": float(base_log.mean()),
        f"skill_{name}": float(1 - model_brier.mean() / base_brier.mean()),
        f"brier_diff_{name}": float(diff.mean()),
        f"brier_diff_se_{name}": se,
    }
