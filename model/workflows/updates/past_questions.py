"""Past questions: the model's record on questions measured now, not waited for.

A question about a past period that the coded evidence settles
(:func:`model.evidence.questions.answer_from_rows`) is scored as if it had
been asked on its ``opens`` date: the backtest's as-of fit of that date
gives the model's probability (:func:`model.workflows.forecast.questions.question_probabilities`),
and the rows known then give the forecaster's baselines of the same event
(:func:`question_baselines`). Brier and log scores of the model and each
baseline, with the skill and the paired standard error of the difference,
read as the backtest's (:func:`model.workflows.updates.backtest.score_table`).

:func:`settleable_questions` writes the shipped file of past questions by a
rule fixed before any answer is seen: every subject and period the evidence
settles, each asking for the value of its kind in :data:`ASKED`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from model.evidence.aggregate import dyad_name, pair_name
from model.evidence.data import Actors
from model.evidence.questions import Question, answer_from_rows, parse_questions
from model.theory.tables import OUTCOME_LEVELS, STRATEGIES
from model.workflows.updates.baselines import BASELINES, SMOOTHING, versus

#: What each past question asks, by kind: the state an analyst of an anti-US axis
#: watches (a pair balancing, a dyad's high commitment or cohesion). Fixed by kind,
#: not by period, so that no question is chosen by its answer.
ASKED: dict[str, tuple[str, ...]] = {
    "strategy": ("balancing",),
    "commitment": ("high",),
    "cohesion": ("high",),
}


def _unit_rows(known: pd.DataFrame, question: Question) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the known rows of the question's kind, and those of its own subject."""
    if question.kind == "strategy":
        same = known[known["kind"] == "conduct"]
        unit = same["observer"] + "->" + same["target"]
    else:
        same = known[(known["kind"] == "outcome") & (known["indicator"] == question.kind)]
        unit = pd.Series(
            [dyad_name(a, b) for a, b in zip(same["observer"], same["target"], strict=True)],
            index=same.index,
            dtype=object,
        )
    return same, same[unit == question.subject]


def question_baselines(question: Question, known: pd.DataFrame) -> dict[str, float]:
    """Give the forecaster's baselines of a one-period question, from the rows known then.

    The probability of a "yes" value as the backtest's baselines give it
    (Laplace-smoothed frequencies, :data:`model.workflows.updates.baselines.SMOOTHING`):
    uniform over the kind's codes; climatology, the frequency of the asked
    values among all known rows of the kind; persistence, among the
    subject's own rows (climatology where it has none).

    Raises
    ------
    ValueError
        For kinds other than a strategy, commitment or cohesion question.
    """
    if question.kind not in ASKED:
        raise ValueError(f"past questions are about {', '.join(ASKED)}, not {question.kind}")
    categories = STRATEGIES if question.kind == "strategy" else OUTCOME_LEVELS
    same, own = _unit_rows(known, question)

    def share(codes: pd.Series) -> float:
        hits = codes.isin(question.values).sum()
        return float(
            (hits + SMOOTHING * len(question.values)) / (len(codes) + SMOOTHING * len(categories))
        )

    climatology = share(same["code"])
    return {
        "uniform": len(question.values) / len(categories),
        "climatology": climatology,
        "persistence": share(own["code"]) if len(own) else climatology,
    }


def settleable_questions(
    frame: pd.DataFrame, actors: Actors, first: int, last: int
) -> list[dict[str, Any]]:
    """Question tables for every subject and period from year ``first`` to ``last`` the rows settle.

    One question per (pair or dyad, kind of :data:`ASKED`, period) with a
    row there whose codes settle it (no tie), asked on the last day of the
    year before its period: a forecaster at each new year asking about each
    quarter of it. Which questions exist depends on where rows are, never on
    what they say.
    """
    freq = actors.pandas_freq
    rows = frame[(frame["kind"] != "threat")]
    rows = rows[rows["date"].dt.year.between(first, last)]
    units = set()
    for r in rows.itertuples(index=False):
        period = str(pd.Period(r.date, freq))
        if r.kind == "conduct":
            units.add(("strategy", pair_name(r.observer, r.target), period))
        elif r.indicator in ASKED:
            units.add((r.indicator, dyad_name(r.observer, r.target), period))
    tables = []
    for kind, subject, period in sorted(units, key=lambda u: (u[2], u[0], u[1])):
        p = pd.Period(period, freq)
        opens = date(p.start_time.year - 1, 12, 31)
        values = ASKED[kind]
        what = "strategy toward" if kind == "strategy" else f"{kind} with"
        a, b = subject.split("->") if kind == "strategy" else subject.split("-")
        table = {
            "id": f"{subject.replace('->', '-to-').lower()}-{kind}-{period.lower()}",
            "text": f"Will {a}'s {what} {b} be coded {' or '.join(values)} in {period}?",
            "kind": kind,
            "subject": subject,
            "values": list(values),
            "period": period,
            "opens": opens,
            "closes": (p + 1).end_time.date(),
            "source": f"the {kind if kind != 'strategy' else 'conduct'} rows of {subject} "
            f"dated {p.start_time.date()} to {p.end_time.date()}",
        }
        (question,) = parse_questions([table], actors, source="past questions")
        if answer_from_rows(question, frame, actors) is not None:
            tables.append(table)
    return tables


def question_targets(
    idata: Any, questions: list[Question], known: pd.DataFrame, frame: pd.DataFrame, actors: Actors
) -> pd.DataFrame:
    """Score rows of the questions asked at one as-of fit: probability, baselines, answer.

    ``known`` holds the rows dated on or before the as-of date (the
    baselines'), ``frame`` every row (the answers'). Questions the rows do
    not settle, or whose periods the fit does not reach, are left out.
    """
    from model.workflows.forecast.questions import question_probabilities

    probs = question_probabilities(idata, questions)
    rows = []
    for q in questions:
        answer = answer_from_rows(q, frame, actors)
        if answer is None or probs[q.id]["mean"] is None:
            continue
        rows.append(
            {
                "id": q.id,
                "kind": q.kind,
                "subject": q.subject,
                "period": q.period,
                "opens": q.opens.isoformat(),
                "model": probs[q.id]["mean"],
                "mcse": probs[q.id]["mcse"],
                **question_baselines(q, known),
                "answer": answer,
            }
        )
    columns = ["id", "kind", "subject", "period", "opens", "model", "mcse", *BASELINES, "answer"]
    return pd.DataFrame(rows, columns=columns)


def question_scores(targets: pd.DataFrame) -> pd.DataFrame:
    """Brier and log scores of the model and each baseline on past questions, per kind and overall.

    The same columns as :func:`model.workflows.updates.backtest.score_table`
    (``brier``, ``log_score``, ``brier_<baseline>``, ``skill_<baseline>``,
    ``brier_diff_se_<baseline>``), for yes/no events: Brier ``(p - y)^2``
    (0 best, 1 worst), log score ``log p`` of what happened.
    """
    out = []
    groups = [(k, g) for k, g in targets.groupby("kind")] if len(targets) else []
    if len(targets):
        groups.append(("all", targets))
    for kind, g in groups:
        y = (g["answer"] == "yes").to_numpy(float)

        def scores(p: np.ndarray, y: np.ndarray = y) -> tuple[np.ndarray, np.ndarray]:
            p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
            return (p - y) ** 2, np.log(np.where(y == 1, p, 1 - p))

        brier, log = scores(g["model"].to_numpy())
        row: dict[str, Any] = {
            "kind": kind,
            "n": len(g),
            "yes": int(y.sum()),
            "brier": float(brier.mean()),
            "log_score": float(log.mean()),
        }
        for b in BASELINES:
            row |= versus(b, brier, *scores(g[b].to_numpy()))
        out.append(row)
    return pd.DataFrame(out)
