"""Past questions: written by a rule blind to the codes, scored by hand, on the right fits."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from model.evidence.data import load_actors
from model.evidence.questions import load_questions, parse_questions
from model.workflows.updates.past_questions import (
    question_baselines,
    question_scores,
    settleable_questions,
)
from tests.conftest import ACTORS, ROOT


@pytest.fixture(scope="module")
def actors():
    return load_actors(ACTORS)


def _rows(*rows):
    frame = pd.DataFrame(rows, columns=["date", "kind", "observer", "target", "indicator", "code"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


def test_questions_depend_on_where_rows_are_not_on_their_codes(actors):
    rows = _rows(
        ("2023-02-01", "conduct", "PRK", "RUS", "conduct", "hedging"),
        ("2023-05-01", "outcome", "CHN", "RUS", "cohesion", "low"),
        ("2023-05-02", "outcome", "CHN", "RUS", "cohesion", "high"),  # a tie: not settled
        ("2023-08-01", "threat", "CHN", "USA", "military", "3"),
    )
    tables = settleable_questions(rows, actors, 2023, 2023)
    assert [t["id"] for t in tables] == ["prk-to-rus-strategy-2023q1"]
    assert tables[0]["opens"] == date(2022, 12, 31) and tables[0]["values"] == ["balancing"]
    flipped = rows.assign(code=["balancing", "low", "high", "3"])
    assert [t["id"] for t in settleable_questions(flipped, actors, 2023, 2023)] == [
        "prk-to-rus-strategy-2023q1"
    ]
    parse_questions(tables, actors)  # a written question is a valid one


def test_the_shipped_past_questions_are_the_rule_applied_to_the_shipped_rows(actors):
    from model.evidence.data import read_observations
    from tests.conftest import OBSERVATIONS

    shipped = load_questions(ROOT / "data" / "past_questions.toml", actors)
    frame = read_observations(OBSERVATIONS, actors)
    again = parse_questions(settleable_questions(frame, actors, 2018, 2025), actors)
    assert shipped == again and len(shipped) >= 20


def test_baselines_of_a_question_are_the_smoothed_shares_of_what_was_known(actors):
    (q,) = parse_questions(
        [
            {
                "id": "q",
                "text": "?",
                "kind": "strategy",
                "subject": "PRK->RUS",
                "values": ["balancing"],
                "period": "2024Q1",
                "opens": date(2023, 12, 31),
                "closes": date(2024, 6, 30),
                "source": "rows",
            }
        ],
        actors,
    )
    known = _rows(
        ("2023-02-01", "conduct", "PRK", "RUS", "conduct", "balancing"),
        ("2023-05-01", "conduct", "PRK", "RUS", "conduct", "balancing"),
        ("2023-05-01", "conduct", "CHN", "RUS", "conduct", "hedging"),
        ("2023-06-01", "outcome", "CHN", "RUS", "cohesion", "high"),
    )
    got = question_baselines(q, known)
    assert got["uniform"] == pytest.approx(1 / 4)
    assert got["climatology"] == pytest.approx((2 + 1) / (3 + 4))  # 2 of 3 conduct rows
    assert got["persistence"] == pytest.approx((2 + 1) / (2 + 4))  # 2 of the pair's 2


def test_question_scores_equal_hand_computation():
    targets = pd.DataFrame(
        {
            "kind": ["strategy", "strategy", "cohesion"],
            "model": [0.8, 0.3, 0.1],
            "uniform": [0.25, 0.25, 0.25],
            "climatology": [0.5, 0.5, 0.2],
            "persistence": [0.6, 0.6, 0.3],
            "answer": ["yes", "no", "no"],
        }
    )
    table = question_scores(targets).set_index("kind")
    model = np.array([0.2**2, 0.3**2, 0.1**2])
    persistence = np.array([0.4**2, 0.6**2, 0.3**2])
    assert table.loc["all", "brier"] == pytest.approx(model.mean())
    assert table.loc["all", "brier_persistence"] == pytest.approx(persistence.mean())
    assert table.loc["all", "skill_persistence"] == pytest.approx(
        1 - model.mean() / persistence.mean()
    )
    diff = persistence - model
    assert table.loc["all", "brier_diff_se_persistence"] == pytest.approx(
        diff.std(ddof=1) / np.sqrt(3)
    )
    assert table.loc["strategy", "log_score"] == pytest.approx((np.log(0.8) + np.log(0.7)) / 2)
    assert table.loc["all", "yes"] == 1


def test_each_question_is_scored_on_the_latest_fit_before_it_opened(actors):
    from model.workflows.updates.backtest import asked_at

    questions = load_questions(ROOT / "data" / "past_questions.toml", actors)
    dates = [date(2019, 12, 31), date(2021, 12, 31), date(2022, 12, 31)]
    asked = asked_at(questions, dates)
    for when, qs in asked.items():
        for q in qs:
            assert when <= q.opens and not any(when < d <= q.opens for d in dates)
            assert pd.Period(q.period, "Q").start_time.date() > when  # asked before its period
    assert all(q.opens < dates[0] for q in questions if not any(q in v for v in asked.values()))
