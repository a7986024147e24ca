"""Named cases: the files of every case, any number of partners, and a historical case's clock."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.evidence.aggregate import Structure, dyad_name, pair_name, series_name
from model.evidence.cases import DEFAULT_CASE, available_cases, reference_keys, resolve_case
from model.evidence.data import InputError, load_actors, read_observations
from tests.conftest import DEFAULT_PRIORS, ROOT

#: The cases shipped under data/cases/, with their number of partners.
CASES = {
    "crink": 4,
    "dual-alliance-1879": 2,
    "northern-triangle-1961": 3,
    "reinsurance-1887": 2,
    "sino-soviet-1950": 2,
    "three-emperors-1873": 3,
    "triple-alliance-1882": 3,
    "triple-entente-1907": 3,
}

#: Tiny but real fits: the assertions below are about posterior means with wide margins.
TINY = {"draws": 150, "tune": 250, "chains": 2, "seed": 11}


def test_every_case_is_listed():
    assert available_cases(ROOT) == [DEFAULT_CASE, *sorted(CASES)]
    shipped = resolve_case(DEFAULT_CASE, ROOT)
    assert shipped.actors == ROOT / "data" / "actors.toml"
    assert shipped.observations == ROOT / "data" / "observations.csv"


@pytest.mark.parametrize("name", ["nope", "../data", ""])
def test_unknown_case_lists_the_available_ones(name):
    with pytest.raises(InputError) as err:
        resolve_case(name, ROOT)
    assert f"available: {', '.join([DEFAULT_CASE, *sorted(CASES)])}" in str(err.value)


def test_cli_unknown_case_exits_2_with_the_list(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["forecast", "--case", "atlantis", "--out", str(out)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "unknown case 'atlantis'" in text and "crink" in text and "three-emperors-1873" in text
    assert not out.exists()


@pytest.mark.parametrize("name", list(CASES))
def test_case_data_valid_covering_and_cited(name):
    """Every threat series, some conduct and outcome evidence, every row dated and cited."""
    case = resolve_case(name, ROOT)
    actors = load_actors(case.actors)
    assert len(actors.partners) == CASES[name]
    frame = read_observations(case.observations, actors)
    s = Structure(actors)
    threat = frame[frame.kind == "threat"]
    seen = {series_name(o, t) for o, t in zip(threat.observer, threat.target, strict=True)}
    assert seen == set(s.series)
    conduct = frame[frame.kind == "conduct"]
    pairs = {pair_name(o, t) for o, t in zip(conduct.observer, conduct.target, strict=True)}
    assert pairs == set(s.pairs)
    outcome = frame[frame.kind == "outcome"]
    assert {dyad_name(o, t) for o, t in zip(outcome.observer, outcome.target, strict=True)} == set(
        s.dyads
    )
    assert frame["note"].str.strip().ne("").all()
    assert 30 <= len(frame) <= 150


@pytest.mark.parametrize("name", list(CASES))
def test_citations_match_the_reference_list_exactly(name):
    """Each citation is the key of a README reference entry; each entry is cited or discussed."""
    case = resolve_case(name, ROOT)
    keys = reference_keys(case.readme)
    frame = pd.read_csv(case.observations, dtype=str, keep_default_na=False)
    assert set(frame.citation) <= keys, sorted(set(frame.citation) - keys)
    body = case.readme.read_text(encoding="utf-8").split("## References")[0]
    for key in keys - set(frame.citation):
        surname, year = key.rsplit(", ", 1)
        assert f"{surname} {year}" in body or f"{surname} ({year})" in body, key


def test_reference_keys_follow_the_codebook():
    readme = ROOT / "data" / "cases" / "crink" / "README.md"
    keys = reference_keys(readme)
    assert {"Cha & Kim, 2024", "Chivvis & Keating, 2024", "Weitsman, 2004"} <= keys
    assert "Radio Free Europe/Radio Liberty, 2021" in keys


def test_historical_case_runs_on_its_own_clock():
    """A closed case is fitted as of its newest observation, on its yearly grid."""
    from model.workflows.forecast.inputs import load_inputs

    case = resolve_case("three-emperors-1873", ROOT)
    inputs = load_inputs(case.actors, case.observations, DEFAULT_PRIORS, horizon=4)
    assert inputs.as_of == date(1878, 7, 13)
    ev = inputs.evidence
    assert ev.periods[0] == "1871" and ev.periods[-1] == "1882"
    assert [ev.periods[i] for i in ev.report_index] == ["1878", "1878", "1882"]


def test_live_case_runs_on_today():
    actors = load_actors(ROOT / "data" / "actors.toml")
    assert actors.as_of == "today"


def test_bad_as_of_rule_is_rejected(tmp_path):
    text = (ROOT / "data" / "actors.toml").read_text(encoding="utf-8")
    bad = tmp_path / "actors.toml"
    bad.write_text(text.replace('frequency = "quarter"', 'frequency = "quarter"\nas_of = "soon"'))
    with pytest.raises(InputError, match=r"periods\.as_of"):
        load_actors(bad)


def _fit(actors_path, data_path, as_of=None):
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_inputs
    from model.workflows.forecast.summary import summarise

    inputs = load_inputs(actors_path, data_path, DEFAULT_PRIORS, as_of=as_of)
    return summarise(run_forecast(inputs, SamplerConfig(**TINY)))


def _check_summary(summary, partners):
    k = len(partners)
    assert len(summary["dyads"]) == k * (k - 1) // 2
    assert len(summary["strategies"]) == k * (k - 1)
    assert len(summary["threat_levels"]) == k * k
    for key in ("p_axis", "p_axis_now", "p_axis_horizon"):
        v = summary[key]
        assert 0.0 <= v["hdi_low"] <= v["mean"] <= v["hdi_high"] <= 1.0
    for info in summary["dyads"].values():
        assert sum(info["type_probs"].values()) == pytest.approx(1.0)
        assert sum(info["cohesion"].values()) == pytest.approx(1.0)
    assert sum(summary["axis_cohesion"].values()) == pytest.approx(1.0)


@pytest.mark.slow  # a fit of the four-partner case
def test_four_partner_fit():
    """CRINK: six dyads, a k-lateral P(axis) in [0, 1], and the axis no stronger than any dyad."""
    case = resolve_case("crink", ROOT)
    summary = _fit(case.actors, case.observations, as_of=date(2025, 9, 30))
    _check_summary(summary, ["RUS", "CHN", "PRK", "IRN"])
    assert set(summary["dyads"]) == {
        "CHN-RUS",
        "PRK-RUS",
        "IRN-RUS",
        "CHN-PRK",
        "CHN-IRN",
        "IRN-PRK",
    }
    # the weakest link: P(axis cohesion high) is at most any dyad's P(cohesion high)
    high = min(info["cohesion"]["high"] for info in summary["dyads"].values())
    assert summary["axis_cohesion"]["high"] <= high + 1e-9
    # the k-lateral axis needs all twelve strategies balancing: rarer than any one dyad's
    bb = min(info["type_probs"]["balancing-balancing"] for info in summary["dyads"].values())
    assert summary["p_axis"]["mean"] < bb


@pytest.mark.slow  # the modal type is a posterior claim: a real fit of its own
def test_two_partner_fit(tmp_path):
    """Russia and North Korea alone: one dyad, and P(axis) is that dyad's balancing-balancing."""
    text = (ROOT / "data" / "actors.toml").read_text(encoding="utf-8")
    actors = tmp_path / "actors.toml"
    actors.write_text(text.replace('["RUS", "CHN", "PRK"]', '["RUS", "PRK"]'), encoding="utf-8")
    frame = pd.read_csv(ROOT / "data" / "observations.csv", dtype=str, keep_default_na=False)
    frame = frame[frame.observer.isin(["RUS", "PRK"]) & frame.target.isin(["RUS", "PRK", "USA"])]
    data = tmp_path / "observations.csv"
    frame.to_csv(data, index=False)
    summary = _fit(actors, data, as_of=date(2025, 9, 30))
    _check_summary(summary, ["RUS", "PRK"])
    assert list(summary["dyads"]) == ["PRK-RUS"]
    # with one dyad, the axis is exactly that dyad being balancing-balancing
    bb = summary["dyads"]["PRK-RUS"]["type_probs"]["balancing-balancing"]
    assert summary["p_axis"]["mean"] == pytest.approx(bb, rel=1e-6)
    assert summary["dyads"]["PRK-RUS"]["modal_type"] == "balancing-balancing"


@pytest.mark.slow  # the reading of 1873 is a posterior claim: a real fit of its own
def test_three_emperors_league_reads_as_tethering():
    """Weitsman's reading of 1873, from dated events: tethering types, no anti-French axis.

    The prior alone gives a dyad about 0.14 for tethering-tethering; the
    evidence must lift the Austro-Russian core above 0.35, make tethering
    (with any partner strategy) the likelier reading of every dyad, and
    leave P(axis) negligible. Austria-Hungary and Russia see France as a low
    threat, which is why the theory expects them to tether rather than balance.
    """
    case = resolve_case("three-emperors-1873", ROOT)
    summary = _fit(case.actors, case.observations)
    assert summary["periods"]["last_evidence"] == "1878"
    core = summary["dyads"]["AUH-RUS"]
    assert core["modal_type"] == "tethering-tethering"
    assert core["type_probs"]["tethering-tethering"] > 0.35
    for dyad, info in summary["dyads"].items():
        tether = sum(p for t, p in info["type_probs"].items() if "tethering" in t)
        assert tether > 0.4, dyad
        assert info["type_probs"]["balancing-balancing"] < 0.1, dyad
    assert "tethering" in summary["dyads"]["GER-RUS"]["modal_type"]
    assert summary["p_axis"]["mean"] < 0.01
    for series in ("AUH<-FRA", "RUS<-FRA"):
        assert summary["threat_levels"][series]["low"] > 0.7


def test_reference_keys_start_at_the_heading_line_not_a_mention_of_it(tmp_path):
    """Prose that names the heading (`## References`) does not start the list early."""
    readme = tmp_path / "README.md"
    readme.write_text(
        "# A case\n\n"
        "Every citation is a key of the list under `## References` below.\n"
        "Weitsman (2004) is discussed here: Wrong, A. (1999). Not an entry.\n\n"
        "## References\n\n"
        "- Weitsman, P. A. (2004). Dangerous Alliances. Stanford University Press.\n"
        "- Cha, V., & Kim, E. (2024b). A paper. A journal.\n\n"
        "## Notes\n\n"
        "Later, L. (2020). After the list: not an entry.\n",
        encoding="utf-8-sig",
    )
    assert reference_keys(readme) == {"Weitsman, 2004", "Cha & Kim, 2024b"}
    readme.write_text("No list here, though `## References` is mentioned.\n", encoding="utf-8")
    assert reference_keys(readme) == set()
