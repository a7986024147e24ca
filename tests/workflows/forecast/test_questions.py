"""A question's probability from a posterior: summed over its values, combined over periods."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import xarray as xr

from model.evidence.questions import Question
from model.theory.tables import STRATEGIES
from model.workflows.forecast.questions import question_probabilities


def _question(**kw) -> Question:
    base = dict(
        id="q",
        text="?",
        kind="strategy",
        subject="PRK->RUS",
        values=("balancing",),
        period="2026Q4",
        by=None,
        opens=date(2026, 10, 1),
        closes=date(2027, 12, 31),
        source="codes",
    )
    return Question(**{**base, **kw})


@pytest.fixture(scope="module")
def fit():
    rng = np.random.default_rng(0)
    window = ["2026Q3", "2026Q4", "2027Q1"]
    strat = rng.dirichlet(np.ones(4), size=(2, 50, 2, 3))  # chain, draw, pair, window, strategy
    axis = rng.uniform(0, 0.2, size=(2, 50, 3))
    post = xr.Dataset(
        {
            "strategy_prob": (("chain", "draw", "pair", "window", "strategy"), strat),
            "p_axis": (("chain", "draw", "period"), axis),
        },
        coords={
            "pair": ["PRK->RUS", "RUS->PRK"],
            "window": window,
            "strategy": list(STRATEGIES),
            "period": window,
        },
    )
    return xr.DataTree.from_dict({"posterior": post}), strat, axis


def test_one_period_adds_the_listed_values(fit):
    idata, strat, _ = fit
    q = _question(values=("balancing", "tethering"))
    got = question_probabilities(idata, [q])["q"]
    want = strat[:, :, 0, 1, [1, 2]].sum(-1).mean()  # PRK->RUS, 2026Q4
    assert got["mean"] == pytest.approx(want)
    assert 0 < got["mcse"] < 0.05 and got["covers"] == "2026Q4"


def test_a_by_question_is_yes_if_any_period_is(fit):
    idata, _, axis = fit
    q = _question(kind="axis", subject="axis", values=("yes",), period=None, by=date(2027, 3, 31))
    got = question_probabilities(idata, [q])["q"]
    want = (1 - (1 - axis[:, :, 1:]).prod(-1)).mean()  # 2026Q4 and 2027Q1, from opening
    assert got["mean"] == pytest.approx(want)
    assert got["covers"] == "any of 2026Q4-2027Q1"


def test_a_period_beyond_the_fit_has_no_probability_and_says_why(fit):
    idata, _, _ = fit
    got = question_probabilities(idata, [_question(period="2027Q4")])["q"]
    assert got["mean"] is None and "outside the fit's window" in got["why"]
