"""Weitsman's readings as data, and the scoring of the model against them (no fits)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import xarray as xr

from model.evidence.cases import available_cases, reference_keys, resolve_case
from model.evidence.data import InputError, default_as_of, load_actors, read_observations
from model.theory.tables import ALLIANCE_TYPES, OUTCOME_LEVELS
from model.workflows.validation.cases import (
    KeyDate,
    brier,
    compare,
    has_reading,
    load_reading,
    modal,
    parse_reading,
    period_label,
    posterior_means,
    reading_path,
    scores,
    uniform_brier,
)
from tests.conftest import ANSWER, ROOT

THREE = resolve_case("three-emperors-1873", ROOT)

GOOD = """
source = "Weitsman, 2004"

[[reading]]
dyad = "AUH-RUS"
date = 1873-10-22
label = "League complete"
type = "tethering-tethering"
cohesion = ["none", "low"]
citation = "Weitsman, 2004: 27"
basis = "paraphrase"
confidence = "high"
says = "a pure tethering alliance"

[[reading]]
dyad = "GER-RUS"
date = "1875-05-10"
label = "war in sight"
cohesion = ["low"]
citation = "Weitsman, 2004"
basis = "inferred"
confidence = "low"
says = "no type named"
"""


@pytest.fixture(scope="module")
def actors():
    return load_actors(THREE.actors)


def test_a_reading_parses_with_dates_types_and_levels(actors):
    first, second = parse_reading(GOOD, "r.toml", actors)
    assert first.date == date(1873, 10, 22) and first.type == "tethering-tethering"
    assert first.cohesion == ("none", "low") and first.commitment == ()
    assert second.type is None and second.date == date(1875, 5, 10)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('dyad = "AUH-RUS"', 'dyad = "RUS-AUH"', "dyad"),
        ('type = "tethering-tethering"', 'type = "tethering-hedging"', "type"),
        ("date = 1873-10-22", "date = 1869-01-01", "date"),
        ('cohesion = ["none", "low"]', 'cohesion = ["weak"]', "cohesion"),
        ('basis = "paraphrase"', 'basis = "hearsay"', "basis"),
        ('confidence = "high"', 'confidence = "certain"', "confidence"),
        ('label = "League complete"', 'lable = "League complete"', "lable"),
    ],
)
def test_a_bad_entry_names_its_field(actors, old, new, field):
    """Unsorted dyads, unknown types, dates before the case and typos are refused."""
    with pytest.raises(InputError) as err:
        parse_reading(GOOD.replace(old, new, 1), "r.toml", actors)
    assert f"field '{field}'" in str(err.value)


def test_every_problem_is_reported_at_once_and_key_dates_end_at_the_evidence(actors):
    text = GOOD.replace('dyad = "AUH-RUS"', 'dyad = "XXX"').replace('"1875-05-10"', '"1879-01-01"')
    with pytest.raises(InputError) as err:
        parse_reading(text, "r.toml", actors, as_of=date(1878, 7, 13))
    assert "field 'dyad'" in str(err.value) and "field 'date'" in str(err.value)


def test_a_key_date_given_twice_is_refused(actors):
    twice = GOOD.replace('dyad = "GER-RUS"', 'dyad = "AUH-RUS"').replace(
        '"1875-05-10"', "1873-10-22"
    )
    with pytest.raises(InputError, match="given twice"):
        parse_reading(twice, "r.toml", actors)


def test_no_entries_is_an_error(actors):
    with pytest.raises(InputError, match="no"):
        parse_reading('source = "x"\n', "r.toml", actors)


#: Cases that carry a reading: at least the Three Emperors and four more.
WITH_READING = [n for n in available_cases(ROOT) if has_reading(resolve_case(n, ROOT))]


def test_at_least_five_historical_cases_carry_a_reading():
    assert "three-emperors-1873" in WITH_READING
    assert len(WITH_READING) >= 5


@pytest.mark.parametrize("name", WITH_READING)
def test_shipped_readings_load_inside_their_grid_and_cite_the_case_references(name):
    """Every key date lies between the case's start and its newest evidence; every
    dyad has two to four key dates; every citation's work is on the README's list."""
    case = resolve_case(name, ROOT)
    actors = load_actors(case.actors)
    frame = read_observations(case.observations, actors)
    readings = load_reading(reading_path(case), actors, as_of=default_as_of(actors, frame))
    per_dyad: dict[str, int] = {}
    for r in readings:
        per_dyad[r.dyad] = per_dyad.get(r.dyad, 0) + 1
    assert all(1 <= n <= 4 for n in per_dyad.values()), per_dyad
    assert sum(r.type is not None for r in readings) >= 2
    keys = reference_keys(case.readme)
    for r in readings:
        assert r.citation.split(":")[0] in keys, r.citation


def test_period_labels_follow_the_case_grid(actors):
    assert period_label(date(1873, 10, 22), actors) == "1873"
    quarterly = load_actors(ROOT / "data" / "actors.toml")
    assert period_label(date(2024, 8, 1), quarterly) == "2024Q3"


def test_brier_runs_from_zero_to_two_and_uniform_is_the_no_skill_line():
    assert brier({"a": 1.0, "b": 0.0}, "a") == 0.0
    assert brier({"a": 1.0, "b": 0.0}, "b") == 2.0
    uniform = {t: 1 / len(ALLIANCE_TYPES) for t in ALLIANCE_TYPES}
    assert brier(uniform, ALLIANCE_TYPES[3]) == pytest.approx(uniform_brier())
    assert uniform_brier() == pytest.approx(0.9)
    with pytest.raises(ValueError):
        brier({"a": 1.0}, "z")


def _posterior(periods: list[str], window: list[str], hot: dict[tuple[str, str], str]):
    """A two-draw posterior with one-hot smoothed and implied types per (dyad, period)."""
    dyads = ["AUH-GER", "AUH-RUS", "GER-RUS"]
    t = np.full((1, 2, len(dyads), len(periods), len(ALLIANCE_TYPES)), 0.0)
    t[..., ALLIANCE_TYPES.index("hedging-hedging")] = 1.0
    for (d, p), kind in hot.items():
        t[0, :, dyads.index(d), periods.index(p), :] = 0.0
        t[0, :, dyads.index(d), periods.index(p), ALLIANCE_TYPES.index(kind)] = 1.0
    lv = np.zeros((1, 2, len(dyads), len(periods), len(OUTCOME_LEVELS)))
    lv[..., OUTCOME_LEVELS.index("low")] = 0.7
    lv[..., OUTCOME_LEVELS.index("medium")] = 0.3
    w = [periods.index(p) for p in window]
    coords = {
        "dyad": dyads,
        "period": periods,
        "window": window,
        "alliance_type": list(ALLIANCE_TYPES),
        "outcome_level": list(OUTCOME_LEVELS),
    }
    return xr.Dataset(
        {
            "smoothed_type_prob": (("chain", "draw", "dyad", "period", "alliance_type"), t),
            "type_prob": (("chain", "draw", "dyad", "window", "alliance_type"), t[:, :, :, w]),
            "smoothed_cohesion_prob": (("chain", "draw", "dyad", "period", "outcome_level"), lv),
            "smoothed_commitment_prob": (
                ("chain", "draw", "dyad", "period", "outcome_level"),
                lv,
            ),
        },
        coords=coords,
    )


def test_compare_takes_the_key_dates_period_and_leaves_out_implied_before_the_window(actors):
    periods = [str(y) for y in range(1871, 1883)]
    post = _posterior(periods, periods[7:], {("AUH-RUS", "1873"): "tethering-tethering"})
    first, second = parse_reading(GOOD, "r.toml", actors)
    row = compare("three", first, post, actors)
    assert row.period == "1873" and row.smoothed_type == "tethering-tethering"
    assert row.type_match and row.brier == pytest.approx(0.0)
    assert row.implied_type is None and row.implied_match is None  # 1873 is before the window
    assert row.smoothed_cohesion == "low" and row.cohesion_match
    # an as-of fit whose window starts at the key date supplies the implied type
    early = _posterior(periods[:3], periods[2:3], {("AUH-RUS", "1873"): "balancing-tethering"})
    row = compare("three", first, post, actors, implied_posterior=early)
    assert row.implied_type == "balancing-tethering" and row.implied_match is False
    # no type named: shown, not scored
    other = compare("three", second, post, actors)
    assert other.type_match is None and other.brier is None
    assert other.as_dict()["date"] == "1875-05-10"


def test_posterior_means_is_none_off_the_grid():
    post = _posterior(["1871", "1872"], ["1872"], {})
    assert posterior_means(post, "type_prob", "AUH-RUS", "window", "1871") is None
    means = posterior_means(post, "smoothed_type_prob", "AUH-RUS", "period", "1871")
    assert modal(means) == "hedging-hedging" and sum(means.values()) == pytest.approx(1.0)


def _row(match: bool, confidence: str, brier_score: float | None) -> KeyDate:
    return KeyDate(
        case="c",
        dyad="A-B",
        date=date(1900, 1, 1),
        period="1900",
        label="x",
        confidence=confidence,
        basis="paraphrase",
        citation="W, 2004",
        weitsman_type=None if brier_score is None else "hedging-hedging",
        weitsman_cohesion=("low",),
        weitsman_commitment=(),
        smoothed_type="hedging-hedging" if match else "balancing-balancing",
        smoothed_type_p=0.5,
        smoothed_p_weitsman=None,
        smoothed_cohesion="low",
        smoothed_commitment="low",
        implied_type=None,
        implied_period=None,
        implied_p_weitsman=None,
        brier=brier_score,
    )


def test_scores_count_only_judged_key_dates_and_filter_by_confidence():
    rows = [_row(True, "high", 0.2), _row(False, "low", 1.0), _row(True, "medium", None)]
    s = scores(rows)
    assert s["smoothed_type"] == {"matched": 1, "judged": 2, "share": 0.5}
    assert s["implied_type"]["judged"] == 0 and s["implied_type"]["share"] is None
    assert s["cohesion"]["matched"] == 3 and s["commitment"]["judged"] == 0
    assert s["brier"] == pytest.approx(0.6) and s["brier_n"] == 2
    sure = scores(rows, min_confidence="medium")
    assert sure["key_dates"] == 2 and sure["smoothed_type"]["share"] == 1.0


#: The floor on the share of Weitsman's key dates whose smoothed modal type is hers. The
#: first full run matched 9 of 16 (56%); the floor sits below it by one key date's worth
#: and a little Monte Carlo slack, so that a change that loses the historical cases fails.
SMOOTHED_TYPE_FLOOR = 0.5


@pytest.mark.slow
def test_the_smoothed_types_meet_weitsmans_readings_at_the_stated_floor():
    """Every case with a reading, fitted on all its evidence: the smoothed modal type is
    Weitsman's at no fewer key dates than the floor, and the Brier score beats the uniform."""
    from model.evidence.cases import available_cases, resolve_case
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_inputs
    from model.workflows.validation.cases import (
        compare,
        has_reading,
        load_reading,
        reading_path,
        scores,
        uniform_brier,
    )

    rows = []
    for name in available_cases(ROOT):
        case = resolve_case(name, ROOT)
        if not has_reading(case):
            continue
        inputs = load_inputs(case.actors, case.observations, ROOT / "priors" / "default.toml")
        idata = run_forecast(inputs, SamplerConfig(seed=20040101, **ANSWER))
        actors = inputs.evidence.structure.actors
        post = idata.posterior.to_dataset()
        readings = load_reading(reading_path(case), actors, as_of=inputs.as_of)
        rows += [compare(name, r, post, actors) for r in readings]
    result = scores(rows)
    assert result["smoothed_type"]["judged"] >= 16
    assert result["smoothed_type"]["share"] >= SMOOTHED_TYPE_FLOOR, result
    assert result["brier"] < uniform_brier()
