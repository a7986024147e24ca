"""Resolvable questions: what an analyst would bet on, written so two readers settle it alike.

A question file (TOML, one ``[[question]]`` table each) sits beside a case's
data. Each question names one *observable state of the model* (a pair's
strategy, a dyad's alliance type, its commitment or cohesion level, or the
axis), the values that count as "yes", and either one period (``period``)
or a last date (``by``: yes if the state holds in any period from the
question's opening to that date). Its ``source`` says what record settles
it, and ``closes`` when it is settled at the latest.

Only one subject per question: the model's states of two dyads in one
period are not independent given the threats (they share states), so an
"either dyad" question would need a joint the summaries do not carry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from model.evidence.aggregate import dyad_name, pair_name
from model.evidence.data import Actors, InputError, Problem
from model.theory.tables import ALLIANCE_TYPES, OUTCOME_LEVELS, STRATEGIES, type_name

__all__ = [
    "KINDS",
    "Question",
    "answer_from_rows",
    "load_questions",
    "parse_questions",
    "question_file",
]


def question_file(actors_file: str | Path) -> Path:
    """Return where a case keeps its questions: ``questions.toml`` beside its actors file."""
    return Path(actors_file).parent / "questions.toml"


#: What a question may be about: the subject it names and the values it may take.
KINDS: dict[str, str] = {
    "strategy": "a pair's strategy, e.g. subject 'PRK->RUS', values ['balancing']",
    "type": "a dyad's alliance type, e.g. subject 'CHN-RUS', values ['balancing-balancing']",
    "commitment": "a dyad's commitment level, e.g. subject 'CHN-RUS', values ['high']",
    "cohesion": "a dyad's cohesion level, e.g. subject 'CHN-RUS', values ['medium', 'high']",
    "axis": "the axis (every state balancing in every dyad); subject 'axis', values ['yes']",
}

#: Fields every question carries.
REQUIRED: tuple[str, ...] = ("id", "text", "kind", "subject", "values", "opens", "closes", "source")


@dataclass(frozen=True)
class Question:
    """One resolvable question.

    Attributes
    ----------
    id
        Short unique name (letters, digits, ``-`` and ``_``).
    text
        The question as an analyst reads it.
    kind, subject, values
        The state (:data:`KINDS`), whose, and the values that resolve it "yes".
    period
        The one period it asks about (``2026Q4``, ``2027``), or ``None``.
    by
        The last date of a "by" question (yes if any period from ``opens``
        to ``by`` is), or ``None``.
    opens, closes
        When it was asked, and when it is settled at the latest.
    source
        What record settles it.
    """

    id: str
    text: str
    kind: str
    subject: str
    values: tuple[str, ...]
    period: str | None
    by: date | None
    opens: date
    closes: date
    source: str

    def periods(self, freq: str) -> list[str]:
        """Return the periods it asks about, on a case's grid (``freq``: pandas' period code)."""
        if self.period is not None:
            return [str(pd.Period(self.period, freq))]
        assert self.by is not None
        first, last = pd.Period(self.opens, freq), pd.Period(self.by, freq)
        return [str(p) for p in pd.period_range(first, last, freq=freq)]


def _allowed(kind: str) -> tuple[str, ...]:
    if kind == "strategy":
        return STRATEGIES
    if kind == "type":
        return ALLIANCE_TYPES
    if kind in ("commitment", "cohesion"):
        return OUTCOME_LEVELS
    return ("yes",)


def _subjects(kind: str, actors: Actors) -> tuple[str, ...]:
    partners = actors.partners
    if kind == "strategy":
        return tuple(pair_name(a, b) for a in partners for b in partners if a != b)
    if kind == "axis":
        return ("axis",)
    return tuple(dyad_name(a, b) for i, a in enumerate(partners) for b in partners[i + 1 :])


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def parse_questions(
    tables: list[dict[str, Any]], actors: Actors, source: str = "questions"
) -> list[Question]:
    """Validate question tables against a case; every problem is listed, by question and field.

    Raises
    ------
    InputError
        Listing every missing or unknown field, unknown kind, subject or
        value, unreadable date or period, a question with both or neither
        of ``period`` and ``by``, ``closes`` before ``opens``, a repeated id.
    """
    problems: list[Problem] = []
    out: list[Question] = []
    seen: set[str] = set()
    for n, table in enumerate(tables, start=1):
        qid = str(table.get("id", f"#{n}"))
        where = f"{source}, question {qid}"

        def bad(field: str, message: str, where: str = where) -> None:
            problems.append(Problem(where, None, field, message))

        missing = [f for f in REQUIRED if f not in table]
        for f in missing:
            bad(f, "missing")
        unknown = sorted(set(table) - {*REQUIRED, "period", "by"})
        for f in unknown:
            bad(f, f"unknown field; a question has {', '.join(REQUIRED)}, and period or by")
        if qid in seen:
            bad("id", "repeated: every question needs its own id")
        seen.add(qid)
        if "id" in table and not qid.replace("-", "").replace("_", "").isalnum():
            bad("id", "use letters, digits, '-' and '_' only")
        kind = table.get("kind")
        if kind is not None and kind not in KINDS:
            bad("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
            kind = None
        subject = table.get("subject")
        if kind is not None and subject is not None and subject not in _subjects(kind, actors):
            bad("subject", f"{subject!r}: a {kind} question names one of {_subjects(kind, actors)}")
        values = table.get("values")
        if values is not None:
            if isinstance(values, str):
                values = [values]
            if not values:
                bad("values", "name at least one value")
            elif kind is not None:
                for v in values:
                    if v not in _allowed(kind):
                        bad("values", f"{v!r} is not one of {', '.join(_allowed(kind))}")
        opens, closes = _date(table.get("opens")), _date(table.get("closes"))
        for f, d in (("opens", opens), ("closes", closes)):
            if f in table and d is None:
                bad(f, f"{table[f]!r} is not a date (YYYY-MM-DD)")
        if opens and closes and closes < opens:
            bad("closes", f"{closes} is before the question opens ({opens})")
        period, by = table.get("period"), table.get("by")
        if (period is None) == (by is None):
            bad("period", "give exactly one of period (one period) and by (a last date)")
        if period is not None:
            try:
                pd.Period(str(period), actors.pandas_freq)
            except ValueError:
                bad("period", f"{period!r} is not a period (e.g. 2026Q4, 2027)")
        by_date = _date(by) if by is not None else None
        if by is not None and by_date is None:
            bad("by", f"{by!r} is not a date (YYYY-MM-DD)")
        if by_date and opens and by_date < opens:
            bad("by", f"{by_date} is before the question opens ({opens})")
        if any(p.file == where for p in problems):
            continue
        out.append(
            Question(
                id=qid,
                text=str(table["text"]),
                kind=str(kind),
                subject=str(subject),
                values=tuple(values),
                period=None if period is None else str(period),
                by=by_date,
                opens=opens,  # type: ignore[arg-type]
                closes=closes,  # type: ignore[arg-type]
                source=str(table["source"]),
            )
        )
    if problems:
        raise InputError(problems)
    return out


def load_questions(path: str | Path, actors: Actors) -> list[Question]:
    """Read and validate a question file (see :func:`parse_questions`).

    Parameters
    ----------
    path
        The TOML file, one ``[[question]]`` table per question.
    actors
        The case the questions are about (their subjects are its pairs and dyads).

    Returns
    -------
    list of Question
        In the file's order.

    Raises
    ------
    InputError
        A missing or unreadable file, or every problem of every question.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), None, "-", "no such question file")])
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise InputError([Problem(str(path), None, "-", f"not valid TOML: {err}")]) from err
    tables = doc.get("question", [])
    if not isinstance(tables, list):
        raise InputError([Problem(str(path), None, "question", "use [[question]] tables")])
    return parse_questions(tables, actors, source=str(path))


def _modal(codes: pd.Series) -> str | None:
    """Return the one most frequent code, or ``None`` (no code, or a tie)."""
    counts = codes.value_counts()
    if counts.empty or (len(counts) > 1 and counts.iloc[0] == counts.iloc[1]):
        return None
    return str(counts.index[0])


def _state(question: Question, rows: pd.DataFrame, actors: Actors) -> str | None:
    """Return the coded state of the subject among one period's rows (``None``: unsettled)."""
    conduct = rows[rows["kind"] == "conduct"]
    pairs = conduct["observer"] + "->" + conduct["target"]
    if question.kind == "strategy":
        return _modal(conduct["code"][pairs == question.subject])
    if question.kind in ("commitment", "cohesion"):
        out = rows[(rows["kind"] == "outcome") & (rows["indicator"] == question.kind)]
        dyads = [dyad_name(a, b) for a, b in zip(out["observer"], out["target"], strict=True)]
        return _modal(out["code"][[d == question.subject for d in dyads]])
    if question.kind == "type":
        a, b = question.subject.split("-")
        one = _modal(conduct["code"][pairs == pair_name(a, b)])
        two = _modal(conduct["code"][pairs == pair_name(b, a)])
        return None if one is None or two is None else type_name(one, two)
    states = [_modal(conduct["code"][pairs == p]) for p in _subjects("strategy", actors)]
    if any(s is not None and s != "balancing" for s in states):
        return "no"
    return None if None in states else "yes"


def answer_from_rows(question: Question, rows: pd.DataFrame, actors: Actors) -> str | None:
    """Settle a question from coded rows, by the rule the question files state.

    A period's state of the subject is the modal code of its rows there (a
    tie, or no row, settles nothing for that period); a type is the pair of
    its two pairs' states; the axis holds when all six pairs are coded
    balancing, and fails as soon as one pair is coded otherwise. A
    one-period question is "yes" when that state is one of its values; a
    "by" question is "yes" when any of its periods is, "no" when every one
    is settled and none is.

    Parameters
    ----------
    question
        The question.
    rows
        Coded observations (:func:`model.evidence.data.read_observations`).
    actors
        The case (its period frequency and pairs).

    Returns
    -------
    str or None
        ``"yes"``, ``"no"``, or ``None`` when the rows do not settle it.
    """
    freq = actors.pandas_freq
    period = rows["date"].dt.to_period(freq).astype(str)
    states = [_state(question, rows[period == p], actors) for p in question.periods(freq)]
    if any(s is not None and s in question.values for s in states):
        return "yes"
    return "no" if states and None not in states else None
