"""Event-data feeds: mapping to threat codes, validation, and ``axis ingest`` through the store."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.evidence.data import InputError, file_sha256, load_actors
from model.evidence.ingest import ingest_feed, load_cameo, load_mapping, read_feed
from model.evidence.store import Store
from tests.citations import citation_key, event_data_reference_keys
from tests.conftest import ACTORS, OBSERVATIONS, ROOT

EVENT_DATA = ROOT / "data" / "event-data"
ICEWS = EVENT_DATA / "icews_sample_2018-06-02_03.csv"
CAMEO = EVENT_DATA / "cameo_goldstein.csv"
MAPPING = ROOT / "data" / "event_mapping.toml"
TINY = ["--draws", "30", "--tune", "30", "--chains", "2", "--allow-bad-diagnostics"]


@pytest.fixture(scope="module")
def case():
    actors = load_actors(ACTORS)
    return actors, load_mapping(MAPPING, actors), load_cameo(CAMEO)


def _icews_subset(tmp_path: Path, ids: list[str]) -> Path:
    with ICEWS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [rows[0]] + [r for r in rows[1:] if r[0] in ids]
    assert len(keep) == len(ids) + 1, "every hand-checked id is in the shipped sample"
    path = tmp_path / "icews_subset.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(keep)
    return path


def _by_series(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(observer, source) -> (events, code, date)."""
    return {
        (r.observer, r.target): (
            int(r.citation.rsplit(", ", 1)[1].split()[0]),
            int(r.code),
            f"{r.date:%Y-%m-%d}",
        )
        for r in frame.itertuples()
    }


def test_icews_rows_map_to_hand_checked_codes(tmp_path, case):
    actors, mapping, cameo = case
    one = dataclasses.replace(mapping, min_events=1)
    ids = [
        # US to North Korea: 036 (+4.0), 046 (+7.0), 043 (+2.8); 32899103 repeats
        # 32897364 (same day, Trump to Kim Jong-Un, 036): mean 13.8/3 = +4.6 -> 0
        *("32897364", "32896380", "32899157", "32899103"),
        # US to China at the Shangri-La Dialogue: 100 (-5.0), 112 (-2.0), 111 (-2.0);
        # 32899614 repeats 32899606 (Mattis to Xi, 111): mean -9/3 = -3.0 -> 2 (edge)
        *("32896490", "32896729", "32899606", "32899614"),
        # China to Russia: 040 (+1.0), 032 (+4.5), 040 (+1.0): mean +2.17 -> 1
        *("32897995", "32895657", "32896169"),
        # Russia to China: 036 (+4.0), 032 (+4.5), 036 (+4.0); 32896166 repeats 32896165
        # mean 12.5/3 = +4.17 -> 0
        *("32896153", "32895656", "32896165", "32896166"),
        # Russia to Kim Jong-Un: 040 (+1.0) -> 1
        "32896637",
        # Russia to the US: observer would be the external actor -> no series
        "32899900",
        # Crimea to a Russian citizen: inside one country -> outside the case
        "32896350",
    ]
    frame, report = ingest_feed(
        _icews_subset(tmp_path, ids), "icews", mapping=one, cameo=cameo, actors=actors
    )
    assert _by_series(frame) == {
        ("PRK", "USA"): (3, 0, "2018-06-02"),
        ("CHN", "USA"): (3, 2, "2018-06-02"),
        ("RUS", "CHN"): (3, 1, "2018-06-03"),
        ("CHN", "RUS"): (3, 0, "2018-06-03"),
        ("PRK", "RUS"): (1, 1, "2018-06-02"),
    }
    assert set(frame.indicator) == {"event-data"} and set(frame.kind) == {"threat"}
    assert report.one_a_day == 3 and report.outside_case == 1 and report.events == len(ids)
    note = frame[(frame.observer == "CHN") & (frame.target == "USA")].note.iloc[0]
    assert "USA to CHN events" in note and "mean Goldstein -3.00" in note

    # counting events for both sides adds the source's view: Russia's threat from the US
    both = dataclasses.replace(one, also_reverse=True)
    frame2, _ = ingest_feed(
        _icews_subset(tmp_path, ids), "icews", mapping=both, cameo=cameo, actors=actors
    )
    assert _by_series(frame2)[("RUS", "USA")] == (1, 0, "2018-06-02")  # 036, +4.0


def _gdelt(eid: int, day: str, a1: str, a2: str, code: str, goldstein: str) -> str:
    """One row of the GDELT 2.0 export layout (61 tab-separated fields)."""
    f = [""] * 61
    f[0], f[1], f[2], f[3], f[4] = str(eid), day, day[:6], day[:4], f"{day[:4]}.5000"
    f[5], f[6], f[7] = a1, a1, a1[:3]
    f[15], f[16], f[17] = a2, a2, a2[:3]
    f[25], f[26], f[27], f[28] = "1", code, code[:3], code[:2]
    f[29], f[30], f[31], f[32], f[33], f[34] = "4", goldstein, "10", "2", "10", "-3.1"
    f[59], f[60] = f"{day}120000", f"https://news.example/{eid}"
    return "\t".join(f)


GDELT_ROWS = [
    # US sanctions and threats against Russia: 163 (-8), 172 (-5), 138 (-7): mean -6.67 -> 3
    _gdelt(1001, "20220301", "USAGOV", "RUS", "163", "-8.0"),
    _gdelt(1002, "20220305", "USA", "RUSGOV", "172", "-5.0"),
    _gdelt(1003, "20220310", "USAMIL", "RUS", "138", "-7.0"),
    # Russia to North Korea at the 2023 summit: 057 (+8), 042 (+1.9), 043 (blank -> table +2.8)
    # mean 12.7/3 = +4.23 -> 0
    _gdelt(1004, "20230913", "RUSGOV", "PRKGOV", "057", "8.0"),
    _gdelt(1005, "20230913", "RUS", "PRK", "042", "1.9"),
    _gdelt(1006, "20230914", "RUSGOV", "PRK", "043", ""),
    # armed clashes, US forces on Chinese forces: 2 of 3 events root 19 -> 4
    _gdelt(1007, "20240105", "USAMIL", "CHNMIL", "190", "-10.0"),
    _gdelt(1008, "20240106", "USAMIL", "CHN", "195", "-10.0"),
    _gdelt(1009, "20240107", "USA", "CHN", "111", "-2.0"),
    # South Korea is outside the case; China to the US has no observer in the case
    _gdelt(1010, "20240107", "KOR", "PRK", "111", "-2.0"),
    _gdelt(1011, "20240107", "CHN", "USA", "111", "-2.0"),
    # the same event id twice counts once
    _gdelt(1001, "20220301", "USAGOV", "RUS", "163", "-8.0"),
]


def test_gdelt_rows_map_to_hand_checked_codes(tmp_path, case):
    actors, mapping, cameo = case
    path = tmp_path / "20240107.export.CSV"
    path.write_text("\n".join(GDELT_ROWS) + "\n", encoding="utf-8")
    frame, report = ingest_feed(
        path,
        "gdelt",
        mapping=dataclasses.replace(mapping, min_events=1),
        cameo=cameo,
        actors=actors,
    )
    assert _by_series(frame) == {
        ("RUS", "USA"): (3, 3, "2022-03-10"),
        ("PRK", "RUS"): (3, 0, "2023-09-14"),
        ("CHN", "USA"): (3, 4, "2024-01-07"),
    }
    assert report.duplicate_ids == 1 and report.outside_case == 1
    assert all(
        c.startswith("GDELT 2.0 Event Database (Leetaru & Schrodt, 2013)") for c in frame.citation
    )
    # the default minimum of 5 events per series and period leaves nothing here
    none, _ = ingest_feed(path, "gdelt", mapping=mapping, cameo=cameo, actors=actors)
    assert none.empty


def test_malformed_feed_rows_are_all_named(tmp_path, case):
    _, _, cameo = case
    lines = ICEWS.read_text(encoding="utf-8").splitlines()
    bad = lines[:6]
    bad[2] = bad[2].replace(",036,", ",36,", 1)  # row 3: leading zero lost
    bad[3] = bad[3].replace("2018-06-02", "2018-06-31", 1)  # row 4: no such day
    bad[4] = bad[4].replace(",4.0,", ",strong,", 1)  # row 5: not a number
    path = tmp_path / "bad_icews.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_feed(path, "icews", cameo)
    text = str(err.value)
    assert "bad_icews.csv, row 3, field 'cameo_code'" in text and "leading zeros" in text
    assert "bad_icews.csv, row 4, field 'event_date'" in text
    assert "bad_icews.csv, row 5, field 'intensity'" in text
    assert len(err.value.problems) == 3

    short = tmp_path / "short.export.CSV"
    short.write_text(GDELT_ROWS[0] + "\n" + "\t".join(["1"] * 58) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"short.export.CSV, row 2, field '-': malformed row"):
        read_feed(short, "gdelt", cameo)


def test_mapping_problems_are_listed_at_once(tmp_path, case):
    actors, _, _ = case
    text = MAPPING.read_text(encoding="utf-8")
    text = text.replace('CHN = ["CHN"]', 'CHN = ["CHN"]\nJPN = ["JPN"]\nKOR = ["CHN"]')
    text = text.replace("[3.0, 0.0, -3.0]", "[0.0, 3.0, -3.0]")
    text = text.replace("min_events = 5", "min_events = 0")
    text = text.replace('gdelt = "GDELT', 'gdelt = "no key GDELT').replace("(Leetaru", "Leetaru")
    bad = tmp_path / "mapping.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_mapping(bad, actors)
    fields = {p.field for p in err.value.problems}
    assert {
        "actors.gdelt.JPN",
        "actors.gdelt.KOR",
        "code.goldstein_cutpoints",
        "aggregate.min_events",
        "citation.gdelt",
    } <= fields


def _expected_from_sample() -> dict[tuple[str, str], tuple[int, int, str]]:
    """The sample's observations computed directly from the file, as the codebook states."""
    d = pd.read_csv(ICEWS, dtype=str, keep_default_na=False)
    names = {"Russian Federation": "RUS", "China": "CHN", "North Korea": "PRK"}
    names["United States"] = "USA"
    d["src"], d["tgt"] = d.source_country.map(names), d.target_country.map(names)
    d = d[d.src.notna() & d.tgt.notna() & (d.src != d.tgt) & (d.tgt != "USA")]
    d = d.drop_duplicates(["event_date", "source_name", "target_name", "src", "tgt", "cameo_code"])
    out = {}
    for (tgt, src), g in d.groupby(["tgt", "src"]):
        if len(g) >= 5:
            m = g.intensity.astype(float).mean()
            code = 0 if m >= 3 else 1 if m >= 0 else 2 if m >= -3 else 3
            out[(tgt, src)] = (len(g), code, g.event_date.max())
    return out


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """``axis ingest`` of the shipped ICEWS sample into a fresh store, then the same file again."""
    tmp = tmp_path_factory.mktemp("ingest")
    args = ["ingest", str(ICEWS), "--format", "icews", "--ledger", str(tmp / "axis.sqlite")]
    args += ["--runs", str(tmp / "runs"), *TINY]
    first = CliRunner().invoke(app, args)
    store = Store(tmp / "axis.sqlite")
    state = (store.observations(), store.ledger())
    again = CliRunner().invoke(app, args)
    return tmp, args, first, state, again


@pytest.mark.slow  # the ingest fits a baseline and the ingested evidence
def test_axis_ingest_adds_the_sample_through_the_update_path(ingested):
    tmp, _, first, (obs, led), _ = ingested
    assert first.exit_code == 0, first.output
    seed = pd.read_csv(OBSERVATIONS)
    added = obs[~obs.id.isin(seed.id)]
    assert len(obs) == len(seed) + len(added) and set(added.indicator) == {"event-data"}
    expected = _expected_from_sample()
    assert len(expected) >= 3  # the sample informs several series
    assert _by_series(added) == expected
    assert set(added.source_file) == {ICEWS.name}
    assert set(added.source_sha256) == {file_sha256(ICEWS)}
    assert len(led) == 2  # the baseline of the shipped evidence, then the ingest
    run = Path(led.iloc[-1]["run_folder"])
    assert (run / "summary.json").exists()
    keys = event_data_reference_keys()
    assert {citation_key(c) for c in added.citation} <= keys, keys


@pytest.mark.slow  # the ingest fits a baseline and the ingested evidence
def test_reingesting_the_same_file_adds_nothing(ingested):
    tmp, _, _, (obs, led), again = ingested
    assert again.exit_code == 0, again.output
    assert "Nothing new" in again.output
    store = Store(tmp / "axis.sqlite")
    assert store.observations().equals(obs) and store.ledger().equals(led)


@pytest.mark.slow  # the ingest fits a baseline and the ingested evidence
def test_malformed_feed_is_rejected_and_nothing_is_added(ingested, tmp_path):
    tmp, args, _, (obs, led), _ = ingested
    runs_before = sorted((tmp / "runs").iterdir())
    lines = ICEWS.read_text(encoding="utf-8").splitlines()
    lines[7] = lines[7].replace(",036,", ",999,", 1)  # row 8: not a CAMEO code
    bad = tmp_path / "bad_feed.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(bad), *args[2:]])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "bad_feed.csv, row 8, field 'cameo_code'" in text and "Nothing was written" in text
    store = Store(tmp / "axis.sqlite")
    assert store.observations().equals(obs) and store.ledger().equals(led)
    assert sorted((tmp / "runs").iterdir()) == runs_before


def test_dry_run_writes_the_coded_rows_and_touches_no_store(tmp_path):
    out = tmp_path / "coded.csv"
    args = ["ingest", str(ICEWS), "--dry-run", "--write", str(out)]
    result = CliRunner().invoke(app, [*args, "--ledger", str(tmp_path / "axis.sqlite")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "axis.sqlite").exists()
    coded = pd.read_csv(out, dtype=str)
    assert len(coded) == len(_expected_from_sample())
    assert coded.id.str.match(r"^E[0-9a-f]{12}$").all()


def test_every_feed_citation_is_in_the_event_data_reference_list(case):
    _, mapping, _ = case
    keys = event_data_reference_keys()
    assert {"Boschee et al., 2015", "Leetaru & Schrodt, 2013", "Goldstein, 1992"} <= keys
    assert "Ma, 2025" not in keys  # the paper's list is a different one
    for feed, citation in mapping.citations.items():
        assert citation_key(citation) in keys, (feed, citation)


def test_dataverse_layout_reads_like_the_sample(tmp_path, case):
    """ICEWS as Harvard Dataverse ships it: tab-separated, headers like ``Event ID``."""
    _, _, cameo = case
    sample = pd.read_csv(ICEWS, dtype=str, keep_default_na=False).head(40)
    dataverse = sample.rename(columns=lambda c: c.replace("_", " ").title()).rename(
        columns={"Cameo Code": "CAMEO Code", "Event Id": "Event ID"}
    )
    path = tmp_path / "events.2018.tab"
    dataverse.to_csv(path, sep="\t", index=False)
    ours, theirs = read_feed(ICEWS, "icews", cameo).head(40), read_feed(path, "icews", cameo)
    assert theirs.drop(columns="feed_row").equals(ours.drop(columns="feed_row"))


def test_unknown_format_is_bad_input(tmp_path):
    result = CliRunner().invoke(app, ["ingest", str(ICEWS), "--format", "acled", "--dry-run"])
    assert result.exit_code == 2 and "field 'format'" in " ".join(result.output.split())


def test_feed_saved_by_excel_codes_like_the_plain_one(tmp_path):
    """A byte-order mark and CRLF line ends (Excel's "CSV UTF-8") change no coded row."""
    (tmp_path / "excel").mkdir()
    excel = tmp_path / "excel" / ICEWS.name  # the file name is part of each citation
    excel.write_bytes(b"\xef\xbb\xbf" + ICEWS.read_bytes().replace(b"\n", b"\r\n"))
    cameo = tmp_path / "cameo.csv"
    cameo.write_bytes(b"\xef\xbb\xbf" + CAMEO.read_bytes().replace(b"\n", b"\r\n"))
    coded = {}
    for name, feed, table in (("plain", ICEWS, CAMEO), ("excel", excel, cameo)):
        out = tmp_path / f"{name}.csv"
        args = ["ingest", str(feed), "--cameo", str(table), "--dry-run", "--write", str(out)]
        result = CliRunner().invoke(app, [*args, "--ledger", str(tmp_path / "axis.sqlite")])
        assert result.exit_code == 0, result.output
        coded[name] = pd.read_csv(out, dtype=str)
    assert len(coded["plain"]) and coded["excel"].equals(coded["plain"])
    assert not (tmp_path / "axis.sqlite").exists()
