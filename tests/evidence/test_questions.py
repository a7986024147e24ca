"""Question files: the shipped one loads; a bad one is refused with every offending field named."""

from __future__ import annotations

from datetime import date

import pytest

from model.evidence.data import InputError, load_actors
from model.evidence.questions import load_questions, parse_questions
from tests.conftest import ACTORS, ROOT


@pytest.fixture(scope="module")
def actors():
    return load_actors(ACTORS)


def _q(**changes):
    base = {
        "id": "q1",
        "text": "Will North Korea balance with Russia in 2026Q4?",
        "kind": "strategy",
        "subject": "PRK->RUS",
        "values": ["balancing"],
        "period": "2026Q4",
        "opens": date(2026, 12, 7),
        "closes": date(2027, 3, 31),
        "source": "conduct codes",
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def test_the_shipped_questions_load_and_run_to_2027q4(actors):
    questions = load_questions(ROOT / "data" / "questions.toml", actors)
    assert len(questions) >= 12 and len({q.id for q in questions}) == len(questions)
    last = max(p for q in questions for p in q.periods(actors.pandas_freq))
    assert last == "2027Q4"
    by = next(q for q in questions if q.by is not None)
    assert by.periods(actors.pandas_freq)[0] == "2026Q4"


def test_every_problem_is_named_by_question_and_field(actors):
    tables = [
        _q(kind="alliance"),  # unknown kind
        _q(id="q2", subject="RUS->USA"),  # not a pair of partners
        _q(id="q3", values=["allying"]),  # not a strategy
        _q(id="q4", period=None),  # neither period nor by
        _q(id="q5", closes=date(2026, 1, 1)),  # closes before it opens
        _q(id="q6", source=None, colour="red"),  # missing and unknown fields
        _q(id="q6"),  # repeated id
    ]
    with pytest.raises(InputError) as err:
        parse_questions(tables, actors, source="qs.toml")
    text = str(err.value)
    for where, field in [
        ("q1", "kind"),
        ("q2", "subject"),
        ("q3", "values"),
        ("q4", "period"),
        ("q5", "closes"),
        ("q6", "source"),
        ("q6", "colour"),
        ("q6", "id"),
    ]:
        assert f"question {where}, field '{field}'" in text, (where, field)


def test_a_missing_question_file_is_named(actors, tmp_path):
    with pytest.raises(InputError, match="no such question file"):
        load_questions(tmp_path / "nope.toml", actors)


def _rows(*rows):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["date", "kind", "observer", "target", "indicator", "code"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


def test_the_coded_rows_settle_a_question_by_the_stated_rule(actors):
    """A period's state is its rows' modal code; a tie or no row settles nothing."""
    from model.evidence.questions import answer_from_rows

    (q,) = parse_questions([_q(period="2024Q2")], actors)
    one = ("2024-05-01", "conduct", "PRK", "RUS", "conduct")
    assert (
        answer_from_rows(
            q, _rows((*one, "balancing"), (*one, "balancing"), (*one, "hedging")), actors
        )
        == "yes"
    )
    assert answer_from_rows(q, _rows((*one, "hedging")), actors) == "no"
    assert answer_from_rows(q, _rows((*one, "hedging"), (*one, "balancing")), actors) is None
    other = ("2024-08-01", "conduct", "PRK", "RUS", "conduct", "balancing")  # another quarter
    assert answer_from_rows(q, _rows(other), actors) is None
    (by,) = parse_questions([_q(period=None, by=date(2024, 9, 30), opens=date(2024, 1, 1))], actors)
    assert answer_from_rows(by, _rows(other), actors) == "yes"  # any quarter up to its date
    assert answer_from_rows(by, _rows((*one, "hedging")), actors) is None  # two quarters unseen
    (commit,) = parse_questions(
        [_q(kind="commitment", subject="PRK-RUS", values=["high"], period="2024Q2")], actors
    )
    high = ("2024-06-01", "outcome", "RUS", "PRK", "commitment", "high")
    assert answer_from_rows(commit, _rows(high), actors) == "yes"
    (axis,) = parse_questions(
        [_q(kind="axis", subject="axis", values=["yes"], period="2024Q2")], actors
    )
    assert answer_from_rows(axis, _rows((*one, "hedging")), actors) == "no"  # one pair is enough
    assert answer_from_rows(axis, _rows((*one, "balancing")), actors) is None  # five pairs unseen
