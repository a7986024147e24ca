"""ATOP treaty obligations: the shipped extract, the mapping rule, a case's dyad-periods, the check.

ATOP checks the model's commitment and never enters a fit; the last test
holds that no layer a fit is built from imports it.
"""

from __future__ import annotations

import math
import tomllib
from itertools import combinations, product
from pathlib import Path

import pandas as pd
import pytest

from model.evidence.aggregate import dyad_name
from model.evidence.atop import (
    ATOP_COLUMNS,
    OBLIGATIONS,
    AtopCoverage,
    commitment_level,
    compare_commitment,
    load_atop,
    load_coverage,
    obligations_for,
)
from model.evidence.cases import available_cases, resolve_case
from model.evidence.data import InputError, load_actors
from model.evidence.shipped import shipped_path
from model.theory.tables import OUTCOME_LEVELS
from tests.conftest import ROOT
from tests.helpers import PACKAGE, modules, project_imports

HEADER = ",".join(ATOP_COLUMNS)

#: The level each obligation alone reaches, from docs/atop.md's table.
ALONE = {
    "atop_defense": "high",
    "atop_offense": "high",
    "atop_neutral": "medium",
    "atop_nonagg": "low",
    "atop_consul": "low",
}


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def actors_file(tmp_path: Path, partners: list[str], start: str, frequency: str) -> Path:
    listed = ", ".join(f'"{p}"' for p in partners)
    text = f'partners = [{listed}]\nexternal = "USA"\n\n[periods]\n'
    text += f'start = "{start}"\nfrequency = "{frequency}"\n'
    return write(tmp_path / "actors.toml", text)


# --- the shipped extract ----------------------------------------------------------------------


def test_the_shipped_file_loads_and_validates():
    atop = load_atop()
    assert list(atop.columns) == [*ATOP_COLUMNS, "dyad", "source_row"]
    assert len(atop) == 867
    for column in ("ccode1", "ccode2", "year", *OBLIGATIONS):
        assert atop[column].dtype == "int64", column
    assert atop[list(OBLIGATIONS)].isin([0, 1]).all().all()
    assert (atop[list(OBLIGATIONS)].sum(axis=1) >= 1).all()  # a row is an alliance in force
    assert not atop.duplicated(["dyad", "year"]).any()
    assert (atop["ccode1"] < atop["ccode2"]).all()  # COW's order, as the source has it
    pairs = zip(atop.state1, atop.state2, strict=True)
    assert atop["dyad"].tolist() == [dyad_name(a, b) for a, b in pairs]
    assert atop.equals(load_atop(shipped_path("atop", "atop_dyad_years.csv")))


def test_the_shipped_coverage_describes_the_shipped_file():
    """Every row is a kept pair in ATOP's span while both states existed, with their COW codes."""
    atop, coverage = load_atop(), load_coverage()
    assert (coverage.first_year, coverage.last_year) == (1815, 2018)
    assert set(atop["dyad"]) == coverage.pairs
    assert all(coverage.covers(d, y) for d, y in zip(atop["dyad"], atop["year"], strict=True))
    raw = tomllib.loads(shipped_path("atop", "coverage.toml").read_text(encoding="utf-8"))
    for side in ("1", "2"):
        for state, ccode in zip(atop[f"state{side}"], atop[f"ccode{side}"], strict=True):
            assert raw["states"][state]["ccode"] == ccode
    assert not coverage.covers("AUH-ITA", 1919)  # Austria-Hungary ends in 1918
    assert not coverage.covers("GER-RUS", 1950) and coverage.covers("GER-RUS", 1990)
    assert not coverage.covers("CHN-PRK", 1947) and not coverage.covers("CHN-RUS", 2019)


def test_the_kept_pairs_are_every_case_partner_pair_the_extract_includes():
    """Only Iran, which the extract lacks, leaves a partner pair of a shipped case unchecked."""
    coverage = load_coverage()
    case_pairs = set()
    for name in available_cases(ROOT):
        partners = load_actors(resolve_case(name, ROOT).actors).partners
        case_pairs |= {dyad_name(a, b) for a, b in combinations(partners, 2)}
    assert coverage.pairs <= case_pairs
    assert all("IRN" in pair.split("-") for pair in case_pairs - coverage.pairs)
    wanted = {"CHN-PRK", "CHN-RUS", "PRK-RUS", "AUH-GER", "GER-ITA", "AUH-ITA", "GER-RUS"}
    wanted |= {"AUH-RUS", "FRA-RUS", "FRA-GBR", "GBR-RUS"}
    assert coverage.pairs == wanted


def test_an_installed_package_ships_the_extract():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "atop/*" in pyproject["tool"]["setuptools"]["package-data"]["model._shipped.data"]
    assert {p.name for p in (ROOT / "data" / "atop").iterdir()} == {
        "README.md",
        "atop_dyad_years.csv",
        "coverage.toml",
    }


# --- malformed files --------------------------------------------------------------------------


def test_a_malformed_file_is_refused_with_every_problem_named(tmp_path):
    path = write(
        tmp_path / "atop.csv",
        f"""
{HEADER}
GER,AUH,255,300,1879,1,0,1,0,0
GER,AUH,255,300,1880,2,0,1,0,0
GER,AUH,255,300,18x1,1,0,1,0,0
,AUH,255,300,1882,1,0,1,0,0
AUH,GER,300,255,1879,1,0,0,0,0
GER,RUS,256,365,1881,0,0,1,0,1
GER,RUS,255,365,1882,0,0,0,0,0
GER,RUS,255,365,1883,0,0,1,0
RUS,RUS,365,365,1884,0,0,1,0,1
""",
    )
    with pytest.raises(InputError) as err:
        load_atop(path)
    problems = err.value.problems
    assert all(p.file == str(path) and p.message for p in problems)
    assert {(p.row, p.field) for p in problems} == {
        (3, "atop_defense"),  # 2 is not 0 or 1
        (4, "year"),  # not an integer
        (5, "state1"),  # empty
        (6, "year"),  # AUH-GER 1879 again, in the other order
        (7, "ccode1"),  # GER has another COW code at row 2
        (8, "-"),  # no obligation: not an alliance
        (9, "-"),  # nine fields
        (10, "state2"),  # a state paired with itself
    }
    text = str(err.value)
    assert "first at row 2" in text and "GER has COW code 256 here but 255 at row 2" in text


def test_missing_columns_are_named_on_the_header_row(tmp_path):
    header = ",".join(c for c in ATOP_COLUMNS if c not in ("year", "atop_consul"))
    path = write(tmp_path / "atop.csv", f"{header}\nGER,AUH,255,300,1,0,1,0\n")
    with pytest.raises(InputError) as err:
        load_atop(path)
    assert {(p.row, p.field) for p in err.value.problems} == {(1, "year"), (1, "atop_consul")}


def test_an_unreadable_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_atop(tmp_path / "absent.csv")
    (tmp_path / "latin.csv").write_bytes(
        f"{HEADER}\nGER,\xd6ST,255,300,1879,1,0,0,0,0\n".encode("latin-1")
    )
    with pytest.raises(InputError, match="not UTF-8"):
        load_atop(tmp_path / "latin.csv")


def test_a_malformed_coverage_is_refused_with_every_problem_named(tmp_path):
    path = write(
        tmp_path / "coverage.toml",
        """
first_year = 1815
last_year = "2018"
pairs = ["GER-AUH", "AUH-RUS"]
colour = "blue"

[states.AUH]
ccode = 300
member = [[1815, 1918]]

[states.GER]
ccode = "255"
member = [[1815, 1945], [1990, 1980]]
""",
    )
    with pytest.raises(InputError) as err:
        load_coverage(path)
    assert {p.field for p in err.value.problems} == {
        "colour",  # unknown key
        "last_year",  # not an integer
        "pairs",  # GER-AUH is not sorted; RUS has no table
        "states.GER.ccode",
        "states.GER.member",  # a spell that ends before it starts
    }
    assert sum(p.field == "pairs" for p in err.value.problems) == 2
    assert all(p.file == str(path) for p in err.value.problems)


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obligations", "level"),
    [
        ({"atop_defense"}, "high"),
        ({"atop_offense"}, "high"),
        ({"atop_defense", "atop_consul"}, "high"),
        ({"atop_offense", "atop_neutral", "atop_nonagg"}, "high"),
        ({"atop_neutral"}, "medium"),
        ({"atop_neutral", "atop_consul"}, "medium"),
        ({"atop_neutral", "atop_nonagg", "atop_consul"}, "medium"),
        ({"atop_nonagg"}, "low"),
        ({"atop_consul"}, "low"),
        ({"atop_nonagg", "atop_consul"}, "low"),
        (set(), "none"),
    ],
)
def test_each_obligation_pattern_maps_to_its_level(obligations, level):
    row = {c: int(c in obligations) for c in OBLIGATIONS}
    assert commitment_level(row) == level
    assert commitment_level(pd.Series(row)) == level


def test_every_pattern_takes_the_level_of_its_strongest_obligation():
    for bits in product((0, 1), repeat=len(OBLIGATIONS)):
        row = dict(zip(OBLIGATIONS, bits, strict=True))
        reached = [OUTCOME_LEVELS.index(ALONE[c]) for c in OBLIGATIONS if row[c]]
        assert commitment_level(row) == OUTCOME_LEVELS[max(reached, default=0)], row


#: A hand-made table: one pattern per year for AUH-GER, PRK in the system from 1990 only.
HAND = f"""
{HEADER}
GER,AUH,255,300,2000,1,0,0,0,0
GER,AUH,255,300,2001,0,1,0,0,1
GER,AUH,255,300,2002,0,0,1,0,1
GER,AUH,255,300,2003,0,0,0,1,0
GER,AUH,255,300,2004,0,0,0,0,1
GER,PRK,255,731,1980,1,0,0,0,0
"""

HAND_COVERAGE = AtopCoverage(
    first_year=1815,
    last_year=2006,
    pairs=frozenset({"AUH-GER", "GER-PRK"}),
    membership={"AUH": ((1815, 2018),), "GER": ((1815, 2018),), "PRK": ((1990, 2018),)},
)


def test_the_mapping_on_a_hand_made_table_with_an_absent_pair_year(tmp_path):
    atop = load_atop(write(tmp_path / "atop.csv", HAND))
    actors = load_actors(actors_file(tmp_path, ["GER", "AUH", "PRK"], "1999-01-01", "year"))
    got = obligations_for(atop, actors, [str(y) for y in range(1999, 2009)], HAND_COVERAGE)
    auh_ger = got[got["dyad"] == "AUH-GER"]
    assert auh_ger["year"].tolist() == list(range(1999, 2007))  # ATOP's span ends in 2006 here
    assert auh_ger["level"].tolist() == [
        "none",  # 1999: absent, covered
        "high",  # defence
        "high",  # offence and consultation
        "medium",  # neutrality and consultation
        "low",  # non-aggression
        "low",  # consultation
        "none",  # 2005: absent
        "none",  # 2006
    ]
    assert auh_ger.loc[auh_ger["year"] == 1999, list(OBLIGATIONS)].eq(0).all().all()
    # GER-PRK: covered, no treaty in force, so none every year; AUH-PRK is no kept pair.
    assert set(got.loc[got["dyad"] == "GER-PRK", "level"]) == {"none"}
    assert set(got["dyad"]) == {"AUH-GER", "GER-PRK"}
    assert list(got["dyad"].drop_duplicates()) == ["AUH-GER", "GER-PRK"]  # the model's order


def test_a_state_outside_the_system_leaves_its_pair_years_uncovered(tmp_path):
    """PRK enters in 1990 (here): its 1980 row and earlier absent years are not compared."""
    atop = load_atop(write(tmp_path / "atop.csv", HAND))
    actors = load_actors(actors_file(tmp_path, ["GER", "PRK"], "1985-01-01", "year"))
    got = obligations_for(atop, actors, [str(y) for y in range(1985, 1995)], HAND_COVERAGE)
    assert got["year"].tolist() == list(range(1990, 1995))
    assert set(got["level"]) == {"none"}


def test_a_quarterly_case_gives_each_quarter_its_year(tmp_path):
    atop = load_atop(write(tmp_path / "atop.csv", HAND))
    actors = load_actors(actors_file(tmp_path, ["AUH", "GER"], "2004-07-01", "quarter"))
    got = obligations_for(atop, actors, None, HAND_COVERAGE)  # to the span's end, 2006
    assert (
        got["period"].tolist() == [f"{y}Q{q}" for y in (2004, 2005, 2006) for q in (1, 2, 3, 4)][2:]
    )
    assert got["level"].tolist() == ["low"] * 2 + ["none"] * 8


def test_the_dual_alliance_case_on_the_shipped_extract():
    """The League's consultation in 1878, then the Dual Alliance's defence to the grid's end."""
    actors = load_actors(ROOT / "data" / "cases" / "dual-alliance-1879" / "actors.toml")
    got = obligations_for(load_atop(), actors, [str(y) for y in range(1878, 1895)])
    assert got["dyad"].unique().tolist() == ["AUH-GER"]
    assert got["year"].tolist() == list(range(1878, 1895))
    assert got["level"].tolist() == ["low"] + ["high"] * 16


def test_the_triple_alliance_grid_past_austria_hungary():
    actors = load_actors(ROOT / "data" / "cases" / "triple-alliance-1882" / "actors.toml")
    got = obligations_for(load_atop(), actors, [str(y) for y in range(1881, 1920)])
    years = got.groupby("dyad")["year"].agg(["min", "max"])
    assert years.loc["AUH-GER"].tolist() == [1881, 1918]  # AUH ends in 1918
    assert years.loc["GER-ITA"].tolist() == [1881, 1919]
    level = got.set_index(["dyad", "year"])["level"]
    assert level[("GER-ITA", 1881)] == "none" and level[("GER-ITA", 1882)] == "high"
    assert level[("GER-ITA", 1915)] == "high" and level[("GER-ITA", 1916)] == "none"


def test_the_default_case_is_covered_only_to_atops_end():
    actors = load_actors(ROOT / "data" / "actors.toml")
    got = obligations_for(load_atop(), actors)
    assert got["dyad"].drop_duplicates().tolist() == ["CHN-RUS", "PRK-RUS", "CHN-PRK"]
    assert got["period"].str[:4].astype(int).between(2017, 2018).all()
    assert len(got) == 3 * 8
    assert dict(got.groupby("dyad")["level"].first()) == {
        "CHN-PRK": "high",
        "CHN-RUS": "low",
        "PRK-RUS": "low",
    }


# --- the comparison ---------------------------------------------------------------------------


def model_frame(rows: list[tuple[str, int, list[float]]]) -> pd.DataFrame:
    return pd.DataFrame([[d, y, *p] for d, y, p in rows], columns=["dyad", "year", *OUTCOME_LEVELS])


def mapped_frame(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["dyad", "year", "level"])


def test_compare_commitment_on_a_hand_worked_example():
    """Two of four agree; ranks of the means 1,3,2,4 against 1,2,3,4: rho = 1 - 6*2/60 = 0.8."""
    mapped = mapped_frame(
        [
            ("AUH-GER", 2000, "none"),
            ("AUH-GER", 2001, "low"),
            ("AUH-GER", 2002, "medium"),
            ("AUH-GER", 2003, "high"),
            ("AUH-GER", 2004, "high"),  # outside the model's grid: not covered
        ]
    )
    model = model_frame(
        [
            ("AUH-GER", 1999, [0.0, 0.0, 0.0, 1.0]),  # outside ATOP's coverage: not compared
            ("AUH-GER", 2000, [0.7, 0.2, 0.1, 0.0]),  # modal none, mean 0.4
            ("AUH-GER", 2001, [0.1, 0.2, 0.6, 0.1]),  # modal medium, mean 1.7
            ("AUH-GER", 2002, [0.1, 0.5, 0.3, 0.1]),  # modal low, mean 1.4
            ("AUH-GER", 2003, [0.0, 0.1, 0.2, 0.7]),  # modal high, mean 2.6
        ]
    )
    got = compare_commitment(mapped, model)
    assert got.n_covered == 4
    assert got.share_agreeing == pytest.approx(0.5)
    assert got.spearman_rho == pytest.approx(0.8)
    d = got.disagreements
    assert d[["dyad", "year", "atop_level", "model_level"]].values.tolist() == [
        ["AUH-GER", 2001, "low", "medium"],
        ["AUH-GER", 2002, "medium", "low"],
    ]
    assert d["mean_level"].tolist() == pytest.approx([1.7, 1.4])
    assert d[list(OUTCOME_LEVELS)].values.tolist() == [[0.1, 0.2, 0.6, 0.1], [0.1, 0.5, 0.3, 0.1]]


def test_a_tie_goes_to_the_lower_level_and_no_variation_gives_no_rho():
    mapped = mapped_frame([("AUH-GER", 2000, "none"), ("AUH-GER", 2001, "none")])
    model = model_frame(
        [("AUH-GER", 2000, [0.4, 0.4, 0.1, 0.1]), ("AUH-GER", 2001, [0.1, 0.2, 0.3, 0.4])]
    )
    got = compare_commitment(mapped, model)
    assert got.n_covered == 2 and got.share_agreeing == 0.5
    assert math.isnan(got.spearman_rho)  # the mapped level does not vary
    assert got.disagreements["year"].tolist() == [2001]


def test_nothing_covered_is_reported_as_such():
    got = compare_commitment(
        mapped_frame([("AUH-GER", 2000, "high")]),
        model_frame([("AUH-GER", 1999, [0.0, 0.0, 0.0, 1.0])]),
    )
    assert got.n_covered == 0 and math.isnan(got.share_agreeing) and math.isnan(got.spearman_rho)
    assert got.disagreements.empty


def test_a_quarterly_comparison_matches_by_period_or_by_year(tmp_path):
    atop = load_atop(write(tmp_path / "atop.csv", HAND))
    actors = load_actors(actors_file(tmp_path, ["AUH", "GER"], "2004-01-01", "quarter"))
    mapped = obligations_for(atop, actors, ["2004Q1", "2004Q2", "2005Q1"], HAND_COVERAGE)
    low, none = [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]
    by_period = model_frame(
        [("AUH-GER", 2004, low), ("AUH-GER", 2004, none), ("AUH-GER", 2005, none)]
    )
    by_period["period"] = ["2004Q1", "2004Q2", "2005Q1"]
    got = compare_commitment(mapped, by_period)
    assert got.n_covered == 3 and got.share_agreeing == pytest.approx(2 / 3)
    assert got.disagreements[["period", "year", "atop_level"]].values.tolist() == [
        ["2004Q2", 2004, "low"]
    ]
    by_year = model_frame([("AUH-GER", 2004, low), ("AUH-GER", 2005, none)])
    got = compare_commitment(mapped, by_year)
    assert got.n_covered == 2 and got.share_agreeing == 1.0
    assert got.spearman_rho == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (model_frame([("GER-AUH", 2000, [1.0, 0.0, 0.0, 0.0])]), "not dyad names"),
        (model_frame([("AUH-GER", 2000, [0.5, 0.0, 0.0, 0.0])]), "not a distribution"),
        (model_frame([("AUH-GER", 2000, [1.5, -0.5, 0.0, 0.0])]), "not a distribution"),
        (
            model_frame([("AUH-GER", 2000, [1.0, 0, 0, 0]), ("AUH-GER", 2000, [1.0, 0, 0, 0])]),
            "repeated",
        ),
        (model_frame([("AUH-GER", 2000, [1.0, 0, 0, 0])]).drop(columns="high"), "missing"),
    ],
)
def test_compare_commitment_refuses_what_it_cannot_read(model, message):
    with pytest.raises(ValueError, match=message):
        compare_commitment(mapped_frame([("AUH-GER", 2000, "none")]), model)


def test_no_layer_a_fit_is_built_from_imports_atop():
    """ATOP validates: evidence (but the module itself), generative and inference never read it."""
    fit_layers = ("evidence", "generative", "inference")
    readers = [
        str(path.relative_to(PACKAGE))
        for path in modules()
        if path.relative_to(PACKAGE).parts[0] in fit_layers
        and path.name != "atop.py"
        and any(name.startswith("model.evidence.atop") for _, name in project_imports(path))
    ]
    assert not readers
