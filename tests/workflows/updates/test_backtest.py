"""Backtests: as-of dates, scoring by hand, a bad step refused, and the as-of fits
(one grid, reweighted where the new evidence allows, agreeing with NUTS refits)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from model.workflows.common.inputs import BadInputError
from model.workflows.updates.backtest import as_of_dates, score, score_table
from tests.conftest import ACTORS, ANSWER, DEFAULT_PRIORS, OBSERVATIONS
from tests.helpers import SHIPPED, assert_agree


def test_backtest_refuses_a_bad_step_before_any_fit():
    from model.inference.config import SamplerConfig
    from model.workflows.updates.backtest import backtest_case

    start = pd.Timestamp("2024-01-01").date()
    with pytest.raises(BadInputError, match="--every must be one of"):
        backtest_case(SHIPPED, SamplerConfig(), start=start, every="fortnight")


def test_backtest_scoring_equals_hand_computation():
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]])
    observed = np.array([0, 3, 1])
    # Brier: (0.09+0.01+0.01+0.01)=0.12; (0.0625*3+0.5625)=0.75; (0.01+0.64+0.09+0.16)=0.90
    got = score(probs, observed)
    assert got["brier"] == pytest.approx((0.12 + 0.75 + 0.90) / 3)
    assert got["log"] == pytest.approx((np.log(0.7) + np.log(0.25) + np.log(0.2)) / 3)
    targets = pd.DataFrame(
        {"kind": ["conduct", "outcome", "outcome"], "probs": list(probs), "observed": observed}
    )
    table = score_table(targets).set_index("kind")
    assert table.loc["conduct", "brier"] == pytest.approx(0.12)
    assert table.loc["outcome", "brier_uniform"] == pytest.approx(0.75)
    assert table.loc["all", "n"] == 3


def _known():
    """Rows known at an as-of date: four conduct codes of two pairs, three outcome codes."""
    return pd.DataFrame(
        {
            "kind": ["conduct"] * 4 + ["outcome"] * 3 + ["threat"],
            "observer": ["A", "A", "A", "B", "A", "B", "A", "A"],
            "target": ["B", "B", "B", "A", "B", "A", "B", "X"],
            "indicator": ["diplomatic"] * 4 + ["commitment", "commitment", "cohesion", "military"],
            "code": ["balancing", "balancing", "hedging", "tethering", "high", "low", "low", "3"],
        }
    )


def test_baselines_are_smoothed_frequencies_of_what_was_known():
    from model.workflows.updates.baselines import baselines

    b = baselines(_known(), "conduct", "diplomatic", "A->B")
    np.testing.assert_allclose(b["uniform"], 0.25)
    # climatology over all four conduct codes: hedging 1, tethering 1, balancing 2 (+1 each)
    np.testing.assert_allclose(b["climatology"], np.array([2, 2, 3, 1]) / 8)
    # persistence over A->B's own three codes: hedging 1, balancing 2 (+1 each)
    np.testing.assert_allclose(b["persistence"], np.array([2, 1, 3, 1]) / 7)
    # a dyad's commitment rows are its own whichever way round they were coded
    c = baselines(_known(), "outcome", "commitment", "A-B")
    np.testing.assert_allclose(c["persistence"], np.array([1, 2, 1, 2]) / 6)
    np.testing.assert_allclose(c["climatology"], c["persistence"])
    # a pair with no conduct code yet falls back on climatology
    d = baselines(_known(), "conduct", "diplomatic", "B->C")
    np.testing.assert_allclose(d["persistence"], d["climatology"])


def test_skill_and_its_paired_error_by_hand():
    from model.workflows.updates.backtest import verdict

    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])
    clim = np.full((3, 4), 0.25)
    observed = np.array([0, 1, 3])
    targets = pd.DataFrame(
        {
            "kind": ["conduct"] * 3,
            "probs": list(probs),
            "observed": observed,
            "uniform": list(clim),
            "climatology": list(clim),
            "persistence": list(probs),
        }
    )
    row = score_table(targets).set_index("kind").loc["conduct"]
    model = np.array([0.12, 0.12, 0.50])  # per-target Brier scores
    base = np.full(3, 0.75)
    assert row["brier"] == pytest.approx(model.mean())
    assert row["skill_climatology"] == pytest.approx(1 - model.mean() / 0.75)
    assert row["brier_diff_climatology"] == pytest.approx((base - model).mean())
    assert row["brier_diff_se_climatology"] == pytest.approx(
        (base - model).std(ddof=1) / np.sqrt(3)
    )
    assert row["skill_persistence"] == pytest.approx(0.0)
    lines = verdict(score_table(targets))
    assert "beats climatology" in lines[0] and "within noise" not in lines[0].split(";")[1]
    assert "persistence (skill +0.00" in lines[0] and "within noise" in lines[0].split(";")[2]


def test_scores_survive_as_of_dates_without_targets():
    """An as-of fit with nothing to score adds an empty frame; the concatenation is objects."""
    probs = np.full((2, 4), 0.25)
    some = pd.DataFrame({"kind": ["conduct"] * 2, "probs": list(probs), "observed": [0, 3]})
    empty = pd.DataFrame(columns=["kind", "probs", "observed"])
    joined = pd.concat([empty, some], ignore_index=True)
    assert joined["observed"].dtype == object
    assert score_table(joined).set_index("kind").loc["all", "brier"] == pytest.approx(0.75)


def test_as_of_dates_are_period_ends():
    assert as_of_dates(date(2022, 4, 1), date(2022, 12, 1)) == [
        date(2022, 6, 30),
        date(2022, 9, 30),
        date(2022, 12, 31),
    ]


@pytest.mark.slow
def test_leave_future_out_reweighting_agrees_with_nuts_refits():
    """Approximate leave-future-out, as the backtest runs it: a NUTS fit as of 2024Q3,
    reweighted to the two next quarters (6 and 12 new rows), agrees with NUTS refits of
    those quarters within Monte Carlo error (all on the grid of the last as-of date).
    A quarter with much new evidence (2025Q2 adds 44 rows: k 0.89) is refitted instead."""
    from model.evidence.data import load_actors, read_observations
    from model.evidence.priors import load_priors
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import prepare_inputs
    from model.workflows.forecast.summary import summarise
    from model.workflows.updates import reuse

    actors = load_actors(ACTORS)
    frame = read_observations(OBSERVATIONS, actors)
    priors = load_priors(DEFAULT_PRIORS)
    config = SamplerConfig(draws=1000, seed=17)  # an anchor with draws to spare for weights
    refit = SamplerConfig(seed=17, **ANSWER)  # the comparison carries its error
    dates = [date(2024, 9, 30), date(2024, 12, 31), date(2025, 3, 31)]
    grids = [
        prepare_inputs(actors, frame, priors, as_of=d, horizon=4 + 2 - n)
        for n, d in enumerate(dates)
    ]
    assert len({tuple(g.evidence.periods) for g in grids}) == 1  # one grid for all
    first, anchor = reuse.fit(grids[0], config, None, label="2024Q3")
    for inputs in grids[1:]:
        tried = reuse.try_reweight(anchor, inputs, config)
        assert tried.method == "reweighted", tried.why
        assert_agree(summarise(tried.idata), summarise(run_forecast(inputs, refit)))


@pytest.mark.slow  # two fits of its own, one per as-of date
def test_backtest_fits_share_one_grid_and_record_their_path():
    """Every as-of fit runs on the last date's grid, and says whether it was reweighted."""
    from model.evidence.data import load_actors, read_observations
    from model.evidence.priors import load_priors
    from model.inference.config import SamplerConfig
    from model.workflows.updates.backtest import run_backtest

    actors = load_actors(ACTORS)
    frame = read_observations(OBSERVATIONS, actors)
    tiny = SamplerConfig(draws=40, tune=40, chains=2, seed=3)
    result = run_backtest(
        actors, frame, load_priors(DEFAULT_PRIORS), tiny, [date(2025, 3, 31), date(2025, 6, 30)]
    )
    rows = result.forecasts
    assert list(rows["as_of"]) == ["2025-03-31", "2025-06-30"]
    assert rows["fit"].iloc[0] == "NUTS" and rows["why"].iloc[0] == "no anchor"
    assert set(rows["fit"]) <= {"NUTS", "reweighted"}
    assert rows["period"].tolist() == ["2025Q1", "2025Q2"]
    # the scored observations of each fit lie within its own horizon
    targets = result.targets
    for when, group in targets.groupby("as_of"):
        last = pd.Period(date.fromisoformat(when), "Q") + 4
        assert all(pd.Period(p, "Q") <= last for p in group["period"])


def test_brier_decomposition_adds_up_for_forecasts_constant_within_bins():
    """With one forecast value per bin, Brier = reliability - resolution + uncertainty exactly."""
    from model.workflows.updates.backtest import brier_decomposition

    probs = np.array([[0.05, 0.05, 0.85, 0.05]] * 6 + [[0.25, 0.25, 0.25, 0.25]] * 4)
    observed = np.array([2, 2, 2, 2, 2, 0, 1, 3, 2, 2])
    targets = pd.DataFrame({"kind": ["conduct"] * 10, "probs": list(probs), "observed": observed})
    d = brier_decomposition(targets)
    assert d["brier_binary"] == pytest.approx(d["reliability"] - d["resolution"] + d["uncertainty"])
    assert d["uncertainty"] == pytest.approx(0.25 * 0.75)  # one hit in four events
    # the 0.85 bin: 6 forecasts, 5 hits
    assert d["reliability"] > 0


def test_scores_by_lead_count_periods_after_the_as_of_period():
    from model.workflows.updates.backtest import lead_table

    probs = np.full((3, 4), 0.25)
    targets = pd.DataFrame(
        {
            "as_of": ["2025-03-31", "2025-03-31", "2025-06-30"],
            "kind": ["conduct"] * 3,
            "period": ["2025Q2", "2025Q3", "2025Q3"],
            "probs": list(probs),
            "observed": [0, 1, 2],
        }
    )
    table = lead_table(targets, "Q").set_index("lead")
    assert table.loc[1, "n"] == 2 and table.loc[2, "n"] == 1


def test_reliability_diagram_draws_model_and_persistence(tmp_path):
    from model.outputs.plots import plot_reliability
    from tests.helpers import fake_backtest

    fig = plot_reliability(fake_backtest().targets)
    assert [ax.get_title() for ax in fig.axes] == ["model", "persistence"]
    fig.savefig(tmp_path / "r.png")
