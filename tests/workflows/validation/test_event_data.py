"""The comparison with outside evidence: statistics against hand-worked numbers, sign alignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model.evidence.data import InputError
from model.workflows.validation.event_data import (
    compare,
    first_evidence,
    load_dyad_series,
    matching_series,
    pearson,
    period_means,
    spearman,
    year_change_draws,
)
from tests.conftest import ROOT

GDELT = ROOT / "data" / "event-data" / "gdelt_dyad_daily_2018-2024.csv"


def test_pearson_and_spearman_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([2.0, 1.0, 4.0, 3.0])
    # deviations (-1.5,-0.5,0.5,1.5) . (-0.5,-1.5,1.5,0.5) = 0.75+0.75+0.75+0.75 = 3; norms 5, 5
    assert pearson(x, y) == pytest.approx(0.6)
    assert spearman(x, y) == pytest.approx(0.6)  # already ranks
    # monotone but not linear: Spearman 1, Pearson below 1
    z = np.exp(np.arange(6.0))
    assert spearman(np.arange(6.0), z) == pytest.approx(1.0)
    assert pearson(np.arange(6.0), z) < 0.95
    # ties share the mean rank: ranks of (1,1,2) are (1.5,1.5,3)
    assert spearman(np.array([1.0, 1.0, 2.0]), np.array([1.5, 1.5, 3.0])) == pytest.approx(1.0)
    # missing values are dropped pairwise; fewer than three pairs give NaN
    assert pearson(np.array([1.0, np.nan, 3.0, 5.0]), np.array([1.0, 9.0, 3.0, 5.0])) == 1.0
    assert np.isnan(pearson(np.array([1.0, 2.0]), np.array([2.0, 1.0])))


def test_matching_series_aligns_direction():
    assert matching_series("USA_PRK", "USA") == ["PRK<-USA"]
    assert matching_series("RUS_USA", "USA") == ["RUS<-USA"]
    assert matching_series("RUS_CHN", "USA") == ["RUS<-CHN", "CHN<-RUS"]


def test_year_change_draws_by_hand():
    periods = ["2021Q1", "2021Q2", "2022Q1", "2022Q2", "2023Q1"]
    draws = np.array([[0.0, 2.0, 4.0, 6.0, 1.0], [1.0, 1.0, 0.0, 0.0, 3.0]])
    np.testing.assert_allclose(year_change_draws(draws, periods, 2022), [4.0, -1.0])
    np.testing.assert_allclose(year_change_draws(draws, periods, 2023), [-4.0, 3.0])


def test_shipped_gdelt_series_holds_its_documented_checks():
    daily = load_dyad_series(GDELT)
    assert len(daily) == 2149 and list(daily.columns) == [
        "RUS_CHN",
        "CHN_PRK",
        "RUS_PRK",
        "USA_PRK",
        "USA_CHN",
        "USA_RUS",
    ]
    top = daily["RUS_PRK"].nlargest(2).index.strftime("%Y-%m-%d")
    assert set(top) == {"2019-04-25", "2023-09-13"}  # the two Putin-Kim summits
    yearly = daily.groupby(daily.index.year).mean()
    assert yearly.loc[2021, "USA_RUS"] > 0 > yearly.loc[2022, "USA_RUS"]
    q = period_means(daily)
    assert q.index[0] == "2018Q1" and q.index[-1] == "2024Q1"
    assert q.loc["2018Q2", "USA_PRK"] == q["USA_PRK"].max()  # the Singapore summit
    manual = daily.loc["2022-04-01":"2022-06-30", "USA_RUS"].mean()
    assert q.loc["2022Q2", "USA_RUS"] == pytest.approx(manual)


def test_bad_gdelt_rows_are_named(tmp_path):
    bad = tmp_path / "dyads.csv"
    bad.write_text("date,USA_RUS\n20220101,1.5\n2022-01-02,2\n20220103,lots\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_dyad_series(bad)
    text = str(err.value)
    assert "dyads.csv, row 3, field 'date'" in text and "dyads.csv, row 4, field 'USA_RUS'" in text


def _theta(values: dict[str, np.ndarray], periods: list[str], noise: float = 0.0) -> xr.DataArray:
    rng = np.random.default_rng(0)
    series = list(values)
    base = np.stack([values[s] for s in series])  # (series, period)
    draws = base[None, None] + noise * rng.standard_normal((2, 50, *base.shape))
    return xr.DataArray(
        draws,
        dims=("chain", "draw", "series", "period"),
        coords={"series": series, "period": periods},
    )


def test_compare_reverses_gdelt_so_that_agreement_is_positive():
    periods = [f"{y}Q{q}" for y in (2021, 2022, 2023) for q in (1, 2, 3, 4)]
    conflict = np.array([0, 0, 1, 0, 2, 3, 3, 2, 1, 1, 0, 0], dtype=float)
    # GDELT rises with cooperation: a perfect outside signal is minus the threat, rescaled
    gdelt = pd.DataFrame({"USA_RUS": 100 - 40 * conflict}, index=periods)
    theta = _theta({"RUS<-USA": conflict, "PRK<-USA": -conflict}, periods, noise=0.05)
    table = compare(theta, gdelt, "USA", {"RUS<-USA": "2022Q1"}).set_index("series")
    row = table.loc["RUS<-USA"]
    assert row.pearson == pytest.approx(1.0, abs=0.01) and row.spearman > 0.95
    assert row.quarters == 12 and row.quarters_evidence == 8
    # 2022: threat up 2.5 - 0.25 = 2.25, GDELT down; 2023: threat down
    assert (
        row.theta_change_2022 == pytest.approx(2.25, abs=0.05) and row.minus_gdelt_change_2022 > 0
    )
    assert row.agree_2022 and row.agree_2023 and row.p_same_sign_2022 == 1.0
    assert "PRK<-USA" not in table.index  # USA_RUS informs only Russia's threat from the US
    flipped = compare(
        theta.sel(series=["PRK<-USA"]), gdelt.rename(columns={"USA_RUS": "USA_PRK"}), "USA"
    )
    assert flipped.pearson.iloc[0] == pytest.approx(-1.0, abs=0.01)
    assert not flipped.agree_2022.iloc[0] and flipped.p_same_sign_2022.iloc[0] == 0.0


def test_first_evidence_of_the_shipped_data(shipped_inputs):
    start = first_evidence(shipped_inputs.observations)
    assert start["PRK<-USA"] == "2018Q1" and start["RUS<-USA"] == "2022Q1"


def test_plot_outside_returns_a_figure():
    from matplotlib.figure import Figure

    from model.outputs.plots import plot_outside

    periods = ["2021Q1", "2021Q2", "2022Q1", "2022Q2", "2023Q1"]
    theta = _theta({"RUS<-USA": np.arange(5.0)}, periods, noise=0.1)
    gdelt = pd.DataFrame({"USA_RUS": -np.arange(5.0)}, index=periods)
    table = compare(theta, gdelt, "USA")
    mean = pd.DataFrame({"RUS<-USA": np.arange(5.0)}, index=periods)
    fig = plot_outside(mean, mean - 1, mean + 1, gdelt, table)
    assert isinstance(fig, Figure) and "r=+1.00" in fig.axes[0].get_title()
