"""Questions over time: the open ones with their latest probability, settling, and the record.

Every publication in the ledger (``axis update``) records each open
question's probability (:func:`model.workflows.forecast.questions.question_probabilities`).
An analyst settles a question with its answer, date and citation
(:func:`settle`); a settled question is scored on the last forecast
published *before* its answer was known (the publication's as-of date
earlier than the answer's date), with the Brier and log scores.

Reading the ledger imports no sampler, so ``axis questions`` answers at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.evidence.data import InputError, Problem
from model.evidence.questions import Question
from model.evidence.store import Store

__all__ = [
    "QuestionStatus",
    "calibration_table",
    "open_questions",
    "question_record",
    "question_status",
    "settle",
    "settle_question",
]

#: Probability bins of the calibration table.
BINS: tuple[float, ...] = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)

#: Floor of a probability in the log score, so a forecast of 0 that came true scores finitely.
LOG_FLOOR = 1e-4


def _published(ledger: pd.DataFrame) -> list[tuple[int, str, dict[str, Any]]]:
    """``(ledger id, as-of date, question probabilities)`` of each publication, oldest first."""
    out = []
    for row in ledger.itertuples():
        summary = json.loads(row.summary) if isinstance(row.summary, str) else {}
        out.append((int(row.id), str(row.as_of), summary.get("questions", {})))
    return out


def open_questions(
    questions: list[Question], ledger: pd.DataFrame, settled: pd.DataFrame
) -> pd.DataFrame:
    """List the questions not yet settled, with the latest published probability and its change.

    Parameters
    ----------
    questions
        The case's questions.
    ledger
        The published forecasts (:meth:`model.evidence.store.Store.ledger`).
    settled
        The settled questions (:meth:`model.evidence.store.Store.resolutions`).

    Returns
    -------
    pandas.DataFrame
        ``id``, ``text``, ``closes``, ``p`` and ``mcse`` (the latest
        publication that gave the question a probability), ``change`` (since
        the publication before it that did), ``published`` (its ledger id)
        and ``why`` (when no publication could give one).
    """
    done = set(settled["id"]) if len(settled) else set()
    pubs = _published(ledger)
    rows = []
    for q in questions:
        if q.id in done:
            continue
        seen = [(i, qs[q.id]) for i, _, qs in pubs if qs.get(q.id, {}).get("mean") is not None]
        why = next((qs[q.id].get("why") for _, _, qs in reversed(pubs) if q.id in qs), None)
        row: dict[str, Any] = {"id": q.id, "text": q.text, "closes": q.closes.isoformat()}
        if seen:
            row |= {"p": seen[-1][1]["mean"], "mcse": seen[-1][1]["mcse"], "published": seen[-1][0]}
            row["change"] = seen[-1][1]["mean"] - seen[-2][1]["mean"] if len(seen) > 1 else None
        else:
            row |= {"p": None, "mcse": None, "published": None, "change": None}
            row["why"] = why or "no publication has given it a probability yet"
        rows.append(row)
    columns = ["id", "text", "closes", "p", "mcse", "change", "published", "why"]
    return pd.DataFrame(rows, columns=columns)


def settle(
    store: Store,
    questions: list[Question],
    question: str,
    answer: str,
    when: date,
    citation: str,
) -> None:
    """Record a question's answer in the store, refusing what cannot be an answer.

    Parameters
    ----------
    store
        The store whose ``resolutions`` table keeps the answers.
    questions
        The case's questions.
    question
        The id of the question settled.
    answer
        ``yes`` or ``no``.
    when
        When the answer was known.
    citation
        The record that settles it.

    Returns
    -------
    None
        The answer is in the store.

    Raises
    ------
    InputError
        If the question is unknown, already settled, the answer is not
        ``yes`` or ``no``, the date is before the question opened, or the
        citation is empty. Nothing is written then.
    """
    known = {q.id: q for q in questions}
    problems = []
    if question not in known:
        problems.append(Problem("question", None, "id", f"unknown question {question!r}"))
    elif question in set(store.resolutions()["id"]):
        problems.append(Problem("question", None, "id", f"{question!r} is already settled"))
    elif when < known[question].opens:
        opened = known[question].opens
        problems.append(Problem("question", None, "date", f"{when} is before it opened ({opened})"))
    if answer not in ("yes", "no"):
        problems.append(Problem("question", None, "answer", f"{answer!r}: answer yes or no"))
    if not citation.strip():
        problems.append(Problem("question", None, "citation", "cite what settles it"))
    if problems:
        raise InputError(problems)
    store.resolve(question, answer, when.isoformat(), citation)


def question_record(
    questions: list[Question], ledger: pd.DataFrame, settled: pd.DataFrame
) -> pd.DataFrame:
    """Score each settled question on the last forecast published before its answer's date.

    Parameters
    ----------
    questions
        The case's questions.
    ledger
        The published forecasts.
    settled
        The settled questions.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``text``, ``answer``, ``date``, ``p`` (the forecast),
        ``published`` (its ledger id and as-of date), ``brier`` and ``log``
        (``None`` where no publication before the answer gave a probability).
    """
    texts = {q.id: q.text for q in questions}
    pubs = _published(ledger)
    rows = []
    for r in settled.itertuples():
        before = [
            (i, as_of, qs[r.id]["mean"])
            for i, as_of, qs in pubs
            if as_of < r.date and qs.get(r.id, {}).get("mean") is not None
        ]
        row: dict[str, Any] = {
            "id": r.id,
            "text": texts.get(r.id, ""),
            "answer": r.answer,
            "date": r.date,
        }
        if before:
            i, as_of, p = before[-1]
            y = 1.0 if r.answer == "yes" else 0.0
            q = min(max(p if y else 1.0 - p, LOG_FLOOR), 1.0)
            row |= {"p": p, "published": f"{i} (as of {as_of})", "brier": (p - y) ** 2}
            row["log"] = float(np.log(q))
        else:
            row |= {"p": None, "published": None, "brier": None, "log": None}
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["id", "text", "answer", "date", "p", "published", "brier", "log"]
    )


def calibration_table(record: pd.DataFrame) -> pd.DataFrame:
    """Bin the forecast probabilities and set each bin against how often the answer was yes."""
    scored = record.dropna(subset=["p"])
    if scored.empty:
        return pd.DataFrame(columns=["bin", "n", "mean_p", "observed"])
    y = (scored["answer"] == "yes").astype(float)
    cut = pd.cut(scored["p"].astype(float), BINS, include_lowest=True)
    table = pd.DataFrame({"bin": cut, "p": scored["p"].astype(float), "y": y})
    out = table.groupby("bin", observed=True).agg(
        n=("y", "size"), mean_p=("p", "mean"), observed=("y", "mean")
    )
    return out.reset_index().assign(bin=lambda d: d["bin"].astype(str))


@dataclass
class QuestionStatus:
    """Where a case's questions stand: the open ones, and the record of the settled ones."""

    open: pd.DataFrame
    record: pd.DataFrame
    calibration: pd.DataFrame


def question_status(
    ledger: Path, questions: list[Question], *, required: bool = False
) -> QuestionStatus:
    """Read the ledger and the settled questions: what ``axis questions`` shows.

    ``required``: the ledger file was named, so a missing one is an error.
    """
    from model.workflows.updates.ledger import read_ledger

    led = read_ledger(ledger, required=required)
    settled = Store(ledger).resolutions()
    record = question_record(questions, led, settled)
    return QuestionStatus(
        open_questions(questions, led, settled), record, calibration_table(record)
    )


def settle_question(
    ledger: Path, questions: list[Question], question: str, answer: str, when: date, citation: str
) -> None:
    """Settle a question in the store of the ledger file ``ledger`` (:func:`settle`)."""
    settle(Store(ledger), questions, question, answer, when, citation)
