"""Bad input through the CLI: a message naming file, row and field; exit 2; nothing written."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from model.cli import app
from tests.citations import citation_key, event_data_reference_keys
from tests.conftest import ACTORS, DEFAULT_PRIORS, OBSERVATIONS, ROOT
from tests.fakes import fake_ledger, fake_posterior, fake_summary, truncate

GOOD = 'P900,2024-06-19,threat,RUS,USA,statement,3,"Watterson, 2024",a valid row'


def _csv_with(tmp_path: Path, extra: str) -> Path:
    lines = OBSERVATIONS.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "obs.csv"
    path.write_text("\n".join([*lines[:6], extra]) + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, *args: str):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["forecast", "--out", str(out), "--draws", "10", "--tune", "10", *args]
    )
    return result, out


BAD_ROWS = {
    "malformed": ("P901,2024-06-19,threat,RUS,USA,statement", "row 7", "malformed row"),
    "unknown actor": (
        'P902,2024-06-19,threat,RUS,GBR,statement,3,"X, 2024",n',
        "field 'target'",
        "unknown actor",
    ),
    "code out of range": (
        'P903,2024-06-19,threat,RUS,USA,statement,7,"X, 2024",n',
        "field 'code'",
        "out of range",
    ),
    "bad date": (
        'P904,2024-13-45,threat,RUS,USA,statement,3,"X, 2024",n',
        "field 'date'",
        "not an ISO date",
    ),
    "missing citation": (
        "P905,2024-06-19,threat,RUS,USA,statement,3,,n",
        "field 'citation'",
        "missing",
    ),
    "duplicate id": (
        'P001,2024-06-19,threat,RUS,USA,statement,3,"X, 2024",n',
        "field 'id'",
        "duplicate id",
    ),
    "bad strategy": (
        'P906,2024-06-19,conduct,RUS,CHN,conduct,appeasing,"X, 2024",n',
        "field 'code'",
        "appeasing",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_observation_row_is_rejected(tmp_path, case):
    row, where, what = BAD_ROWS[case]
    data = _csv_with(tmp_path, row)
    result, out = _run(tmp_path, "--data", str(data))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert str(data) in text and "row 7" in text and where in text and what in text
    assert "Nothing was written" in text
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["obs.csv"]


def test_every_problem_is_listed_at_once(tmp_path):
    data = tmp_path / "obs.csv"
    lines = OBSERVATIONS.read_text(encoding="utf-8").splitlines()
    bad = [
        'P991,yesterday,threat,RUS,USA,statement,3,"X, 2024",n',
        "P992,2024-01-01,threat,RUS,MARS,statement,9,,n",
    ]
    data.write_text("\n".join([*lines[:3], *bad]) + "\n", encoding="utf-8")
    result, _ = _run(tmp_path, "--data", str(data))
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    for needle in (
        "row 4, field 'date'",
        "row 5, field 'target'",
        "row 5, field 'code'",
        "row 5, field 'citation'",
    ):
        assert needle in text


def test_unknown_prior_key_is_rejected(tmp_path):
    priors = tmp_path / "priors.toml"
    text = DEFAULT_PRIORS.read_text(encoding="utf-8")
    priors.write_text(
        text + '\n[alliance_mood]\ndist = "Normal"\n[threat_drift.extra]\nx = 1\n', encoding="utf-8"
    )
    result, out = _run(tmp_path, "--priors", str(priors))
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert str(priors) in text and "field 'alliance_mood'" in text and "unknown prior group" in text
    assert "field 'threat_drift.extra'" in text
    assert not out.exists()


def test_missing_prior_group_is_rejected(tmp_path):
    priors = tmp_path / "priors.toml"
    text = DEFAULT_PRIORS.read_text(encoding="utf-8")
    cut = text.index("[conduct_error]")
    priors.write_text(text[:cut], encoding="utf-8")
    result, _ = _run(tmp_path, "--priors", str(priors))
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "field 'conduct_error': missing prior group" in text and "field 'outcome_error'" in text


def test_bad_as_of_date(tmp_path):
    result, out = _run(tmp_path, "--as-of", "2025-02-30")
    assert result.exit_code == 2 and "not an ISO date" in result.output and not out.exists()


def test_shipped_data_is_valid_and_cited():
    """The evidence set: >= 60 rows, every series, every pair and dyad, each row dated and cited."""
    from model.evidence.aggregate import Structure, dyad_name, pair_name, series_name
    from model.evidence.data import load_actors, read_observations

    actors = load_actors(ACTORS)
    frame = read_observations(OBSERVATIONS, actors)
    assert len(frame) >= 60
    s = Structure(actors)
    threat = frame[frame.kind == "threat"]
    seen = {series_name(o, t) for o, t in zip(threat.observer, threat.target, strict=True)}
    assert seen == set(s.series)
    conduct = frame[frame.kind == "conduct"]
    assert {pair_name(o, t) for o, t in zip(conduct.observer, conduct.target, strict=True)} == set(
        s.pairs
    )
    outcome = frame[frame.kind == "outcome"]
    for ind in ("commitment", "cohesion"):
        sub = outcome[outcome.indicator == ind]
        assert {dyad_name(o, t) for o, t in zip(sub.observer, sub.target, strict=True)} == set(
            s.dyads
        )
    paper = ROOT.parent / "shared" / "reference" / "ma-2025-dangerous-alliance-paper.txt"
    if paper.exists():  # the reference list is the paper's, outside this repository
        refs = paper.read_text(encoding="utf-8")
        refs = refs[refs.rindex("參考文獻") if "參考文獻" in refs else 0 :]
        for cite in set(frame[frame.indicator != "event-data"].citation) - {"Ma, 2025"}:
            surname = cite.split(",")[0].split(" & ")[0].split(" et al")[0].strip()
            year = cite.rsplit(",", 1)[1].strip()[:4]
            assert surname in refs and year in refs, cite
    # event-data rows cite a dataset of the project's own reference list, not the paper's
    keys = event_data_reference_keys()
    for cite in set(frame[frame.indicator == "event-data"].citation):
        assert citation_key(cite) in keys, cite
    with OBSERVATIONS.open(encoding="utf-8") as fh:
        assert all(row["note"].strip() for row in csv.DictReader(fh))


# ------------------------------------------------ files as spreadsheets save them


def _update_cli(tmp_path: Path, *args: str):
    """`axis update` on a fresh store in tmp_path (no fit unless a row is new)."""
    return CliRunner().invoke(
        app,
        [
            "update",
            *args,
            "--ledger",
            str(tmp_path / "store" / "axis.sqlite"),
            "--runs",
            str(tmp_path / "runs"),
            "--draws",
            "10",
            "--tune",
            "10",
        ],
    )


def _written(tmp_path: Path, *inputs: Path) -> list[str]:
    """Everything in tmp_path but the given input files (the store's lock file excepted)."""
    keep = {p.name for p in inputs}
    return sorted(
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p.is_file() and p.name not in keep and not p.name.endswith(".lock")
    )


def test_excel_csv_utf8_loads_exactly_like_plain_utf8(tmp_path):
    """A byte-order mark and CRLF line ends (Excel's "CSV UTF-8") change nothing."""
    from model.evidence.data import load_actors, read_observations

    excel = tmp_path / "excel.csv"
    text = OBSERVATIONS.read_text(encoding="utf-8")
    excel.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    case = load_actors(ACTORS)
    plain, saved = read_observations(OBSERVATIONS, case), read_observations(excel, case)
    assert saved.equals(plain)
    # through `axis update`: every row is the shipped evidence, so each is found, read
    # field by field, a duplicate of its stored twin (a BOM-damaged header would fail)
    result = _update_cli(tmp_path, str(excel))
    out = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "required column missing" not in out
    assert out.count(f"skipped {excel.name}, row") == len(plain)
    assert "Nothing new" in out
    assert _written(tmp_path, excel) == []


def test_excel_csv_utf8_forecast_input_is_read(tmp_path):
    """`axis forecast` reads the same file: the only problem reported is the prior set's."""
    excel = tmp_path / "excel.csv"
    text = OBSERVATIONS.read_text(encoding="utf-8")
    excel.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    priors = tmp_path / "priors.toml"
    priors.write_text(DEFAULT_PRIORS.read_text(encoding="utf-8") + "\n[nope]\n", "utf-8")
    result, out = _run(tmp_path, "--data", str(excel), "--priors", str(priors))
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "1 problem(s)" in text and "field 'nope'" in text and str(excel) not in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b.decode().encode("utf-16"), "row 1, field '-': the file is UTF-16 text"),
        (lambda b: b[:300] + b"\xe9" + b[300:], "is not UTF-8 text: save the file as 'CSV UTF-8'"),
        (lambda b: b[:300] + b'"' + b"x" * 140_000, "not CSV: field larger than field limit"),
        (lambda b: b.replace(b"statement", b"[/statement]", 1), "'[/statement]' is not one of"),
    ],
    ids=["utf-16", "latin-1 byte", "unclosed quote", "markup in a cell"],
)
def test_undecodable_or_unparsable_file_is_named(tmp_path, damage, message):
    data = tmp_path / "obs.csv"
    data.write_bytes(damage(OBSERVATIONS.read_bytes()))
    result, out = _run(tmp_path, "--data", str(data))
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert str(data) in text and message in text, text
    assert "Traceback" not in result.output and not out.exists()


def test_other_iso_date_forms_load_as_their_day(tmp_path):
    """Python reads 20240619 and 2024-W25-3 as ISO dates; pandas must get the same day."""
    from model.evidence.data import load_actors, read_observations

    rows = [
        GOOD.replace("2024-06-19", "2024-W25-3"),
        GOOD.replace("P900", "P901").replace("2024-06-19", "20240619"),
        GOOD.replace("P900", "P902"),
    ]
    data = _csv_with(tmp_path, "\n".join(rows))
    frame = read_observations(data, load_actors(ACTORS))
    assert frame["date"].iloc[-3:].dt.strftime("%Y-%m-%d").tolist() == ["2024-06-19"] * 3


FUTURE = 'P950,2031-01-01,threat,RUS,USA,statement,3,"Watterson, 2024",dated in the future'


def test_row_after_today_is_refused_by_forecast(tmp_path):
    data = _csv_with(tmp_path, FUTURE)
    for extra in ((), ("--as-of", "2024-12-31")):  # with --as-of too: today is the limit
        result, out = _run(tmp_path, "--data", str(data), *extra)
        text = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert f"{data}, row 7, field 'date': 2031-01-01 is after today" in text
        assert "Nothing was written" in text and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["obs.csv"]


def test_row_after_today_is_refused_by_update(tmp_path):
    new = tmp_path / "new.csv"
    new.write_text(OBSERVATIONS.read_text(encoding="utf-8").splitlines()[0] + "\n" + FUTURE + "\n")
    for extra in ((), ("--as-of", "2025-06-30")):
        result = _update_cli(tmp_path, str(new), *extra)
        text = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert f"{new}, row 2, field 'date': 2031-01-01 is after today" in text
    assert _written(tmp_path, new) == []


def test_as_of_still_filters_rows_after_it():
    """Rows after --as-of but not after today are evidence the as-of fit must not see."""
    from model.workflows.forecast.inputs import load_inputs

    inputs = load_inputs(ACTORS, OBSERVATIONS, DEFAULT_PRIORS, as_of=date(2022, 12, 31))
    assert inputs.observations["date"].max() <= pd.Timestamp("2022-12-31")


def test_unknown_column_is_ignored_with_one_warning(tmp_path):
    lines = OBSERVATIONS.read_text(encoding="utf-8").splitlines()
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "\n".join([lines[0] + ",source_url", *(f"{x},https://example.org" for x in lines[1:])])
        + "\n",
        encoding="utf-8",
    )
    result = _update_cli(tmp_path, str(extra))
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    warning = f"warning: {extra}, row 1, field 'source_url': unknown column 'source_url' is ignored"
    assert text.count(warning) == 1
    assert "Nothing new" in text
    assert _written(tmp_path, extra) == []


def test_repeated_column_is_refused(tmp_path):
    lines = OBSERVATIONS.read_text(encoding="utf-8").splitlines()
    data = tmp_path / "obs.csv"
    data.write_text("\n".join([lines[0] + ",code", *(x + ",1" for x in lines[1:4])]) + "\n")
    result, out = _run(tmp_path, "--data", str(data))
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert f"{data}, row 1, field 'code': column appears more than once" in text
    assert not out.exists()


# ------------------------------------------------ axis update --case / --as-of


def test_update_case_seeds_the_store_from_the_named_case(tmp_path):
    """`--case crink` sets the seed evidence and the actors: its own rows are duplicates."""
    crink = ROOT / "data" / "cases" / "crink" / "observations.csv"
    result = _update_cli(tmp_path, str(crink), "--case", "crink")
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    rows = len(crink.read_text(encoding="utf-8").splitlines()) - 1
    assert text.count("skipped observations.csv, row") == rows and "Nothing new" in text
    # the shipped case's actors do not know crink's fourth partner
    shipped = _update_cli(tmp_path, str(crink))
    assert shipped.exit_code == 2 and "unknown actor" in shipped.output
    assert _written(tmp_path) == []


def test_update_case_errors(tmp_path):
    new = tmp_path / "new.csv"
    new.write_text(OBSERVATIONS.read_text(encoding="utf-8").splitlines()[0] + "\n")
    unknown = _update_cli(tmp_path, str(new), "--case", "atlantis")
    assert unknown.exit_code == 2 and "unknown case 'atlantis'" in unknown.output
    both = _update_cli(tmp_path, str(new), "--case", "crink", "--actors", str(ACTORS))
    assert both.exit_code == 2 and "drop --data/--actors" in both.output
    bad = _update_cli(tmp_path, str(new), "--as-of", "2025-02-30")
    assert bad.exit_code == 2 and "not an ISO date" in bad.output
    assert _written(tmp_path, new) == []


def test_update_passes_case_and_as_of_to_the_publication(tmp_path, monkeypatch):
    """The named case's files and the as-of date reach the update workflow."""
    import model.workflows.updates.update
    from model.workflows.updates.update import UpdateResult

    seen = {}

    def publish(batches, **kwargs):
        seen.update(kwargs, batches=batches)
        return UpdateResult(added=0)

    monkeypatch.setattr(model.workflows.updates.update, "publish_update", publish)
    new = tmp_path / "new.csv"
    lines = (ROOT / "data" / "cases" / "crink" / "observations.csv").read_text().splitlines()
    new.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    result = _update_cli(tmp_path, str(new), "--case", "crink", "--as-of", "2024-06-30")
    assert result.exit_code == 0, result.output
    assert seen["as_of"] == date(2024, 6, 30)
    assert seen["seed_data"] == ROOT / "data" / "cases" / "crink" / "observations.csv"
    assert len(seen["actors"].partners) == 4 and len(seen["batches"][0][0]) == 2


# ------------------------------------------------ prior values


def _priors_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The default prior set with each (old, new) text replaced once."""
    text = DEFAULT_PRIORS.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "priors.toml"
    path.write_text(text, encoding="utf-8")
    return path


BAD_PRIORS = {
    "negative sigma": (
        (
            "[threat_drift.kwargs]\nmu = 0.2\nsigma = 0.1",
            "[threat_drift.kwargs]\nmu = 0.2\nsigma = -0.1",
        ),
        "field 'threat_drift.kwargs.sigma': Gamma sigma must be > 0, got -0.1",
    ),
    "zero concentration": (
        ("[2.0, 2.0, 2.0, 14.0],  # balancing-balancing", "[0.0, 2.0, 2.0, 14.0],  #"),
        "field 'commitment.kwargs.a': Dirichlet a must be > 0, got 0",
    ),
    "not finite": (
        (
            "[threat_init.kwargs]\nmu = 0.0\nsigma = 1.5",
            "[threat_init.kwargs]\nmu = nan\nsigma = inf",
        ),
        "field 'threat_init.kwargs.mu': must be finite, got nan",
    ),
    "wrong shape": (
        ("[threshold_shift.kwargs]\nmu = 0.0", "[threshold_shift.kwargs]\nmu = [0.0, 0.1, 0.2]"),
        "field 'threshold_shift.kwargs.mu': shape (3,) does not broadcast to dims (indicator=6)",
    ),
    "nested prior": (
        ("kwargs = { mu = 0.3, sigma = 0.1 }", "kwargs = { mu = 0.3, sigma = -0.1 }"),
        "field 'discrimination.kwargs.sigma.kwargs.sigma': Gamma sigma must be > 0, got -0.1",
    ),
    "not a number": (
        ("[conduct_error.kwargs]\nalpha = 2.0", '[conduct_error.kwargs]\nalpha = "two"'),
        "field 'conduct_error.kwargs.alpha': must be a number, a list of numbers or a prior",
    ),
    "scalar group": (
        ("[level_sharpness.kwargs]\nmu = 4.0", "[level_sharpness.kwargs]\nmu = [4.0, 4.0]"),
        "field 'level_sharpness.kwargs.mu': must be a single number (no dims), got shape (2,)",
    ),
    "nested dims": (
        (
            '{ dist = "Gamma", kwargs = { mu = 0.2,',
            '{ dist = "Gamma", dims = 3, kwargs = { mu = 0.2,',
        ),
        "field 'threshold_shift.kwargs.sigma.dims': must be a list of dim names",
    ),
    "not a bool": (
        ('dims = ["indicator"]\ncentered = false', 'dims = ["indicator"]\ncentered = "no"'),
        "field 'discrimination.centered': must be true or false",
    ),
    "per-series vector of the wrong case": (
        ("[threat_init.kwargs]\nmu = 0.0", "[threat_init.kwargs]\nmu = [0.0, 0.0, 0.0]"),
        "field 'threat_init.kwargs.mu': shape (3,) does not broadcast to dims (series=9)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PRIORS))
def test_bad_prior_value_is_refused_by_forecast(tmp_path, case):
    edit, message = BAD_PRIORS[case]
    priors = _priors_with(tmp_path, edit)
    result, out = _run(tmp_path, "--priors", str(priors))
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"{priors}, field" in text and message in text, text
    assert "Nothing was written" in text and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["priors.toml"]


def test_every_bad_prior_value_is_listed_at_once(tmp_path):
    cases = [c for c in BAD_PRIORS if c != "per-series vector of the wrong case"]
    priors = _priors_with(tmp_path, *(BAD_PRIORS[c][0] for c in cases))
    result, _ = _run(tmp_path, "--priors", str(priors))
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert f"{len(cases) + 1} problem(s)" in text  # nan and inf are two
    for case in cases:
        assert BAD_PRIORS[case][1] in text, case


def test_bad_prior_value_is_refused_by_update(tmp_path):
    new = tmp_path / "new.csv"
    new.write_text(OBSERVATIONS.read_text(encoding="utf-8").splitlines()[0] + "\n" + GOOD + "\n")
    for edit, message in (
        BAD_PRIORS["negative sigma"],
        BAD_PRIORS["per-series vector of the wrong case"],
    ):
        priors = _priors_with(tmp_path, edit)
        result = _update_cli(tmp_path, str(new), "--priors", str(priors))
        text = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert message in text and "Nothing was written" in text
    assert _written(tmp_path, new, priors) == []


def test_shipped_prior_sets_pass_the_value_checks():
    from model.evidence.aggregate import Structure
    from model.evidence.data import load_actors
    from model.evidence.priors import check_case_shapes, load_priors

    for path in sorted((ROOT / "priors").glob("*.toml")):
        prior_set = load_priors(path)
        for actors in (ACTORS, *sorted((ROOT / "data" / "cases").glob("*/actors.toml"))):
            check_case_shapes(prior_set, {"series": len(Structure(load_actors(actors)).series)})


@pytest.mark.parametrize("sweep", ["1,0,20", "-4", "nan"])
def test_sensitivity_sweep_needs_positive_totals(tmp_path, sweep):
    out = tmp_path / "sens"
    args = ["sensitivity", "--sweep", sweep, "--no-prior-sets", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "every total concentration must be > 0" in " ".join(result.output.split())
    assert not out.exists()


# ------------------------------------------------ damaged run folders


def _damaged_run(tmp_path: Path) -> Path:
    run = tmp_path / "run-1"
    truncate(fake_posterior(run / "posterior.nc"))
    (run / "summary.json").write_text(json.dumps(fake_summary()), encoding="utf-8")
    return run


def _says(result, *needles: str) -> bool:
    """Whether the output holds every needle, whatever rich's line wrapping did to long paths."""
    said = "".join(result.output.split())
    return all("".join(n.split()) in said for n in needles)


def _listing(root: Path) -> list[str]:
    """Every file and folder under root but the store's lock file (an update takes the lock)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix != ".lock")


def test_report_names_a_damaged_posterior(tmp_path):
    run = _damaged_run(tmp_path)
    before = _listing(tmp_path)
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 2, result.output
    assert _says(result, f"{run / 'posterior.nc'}, field '-': damaged: cannot be read as netCDF")
    assert _says(result, "Nothing was written") and "Traceback" not in result.output
    assert _listing(tmp_path) == before


def test_report_names_a_damaged_summary_and_checks(tmp_path):
    run = tmp_path / "run-1"
    fake_posterior(run / "posterior.nc")
    (run / "summary.json").write_text('{"p_axis": {"mean": 0.4', encoding="utf-8")
    truncate(fake_posterior(run / "checks.nc"), keep=0.3)
    before = _listing(tmp_path)
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 2, result.output
    assert _says(result, f"{run / 'summary.json'}, row 1, field '-': damaged: not JSON")
    assert _says(result, f"{run / 'checks.nc'}, field '-': damaged")
    assert _listing(tmp_path) == before


def test_scenario_run_names_a_damaged_posterior(tmp_path):
    run = _damaged_run(tmp_path)
    out = tmp_path / "scen"
    args = ["scenario", "--run", str(run), "--set", "CHN.external=high", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert _says(result, f"{run / 'posterior.nc'}, field '-': damaged") and not out.exists()


def test_scenario_run_names_a_netcdf_that_is_not_a_posterior(tmp_path):
    run = tmp_path / "run-1"
    run.mkdir()
    xr.Dataset({"x": ("k", [1.0, 2.0])}).to_netcdf(run / "posterior.nc")
    out = tmp_path / "scen"
    args = ["scenario", "--run", str(run), "--set", "CHN.external=high", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert _says(result, "field 'posterior': no posterior group") and not out.exists()


def test_update_names_a_damaged_anchor_and_changes_nothing(tmp_path):
    run = _damaged_run(tmp_path)
    ledger = tmp_path / "store" / "axis.sqlite"
    fake_ledger(ledger, [run])
    new = tmp_path / "new.csv"
    new.write_text(OBSERVATIONS.read_text(encoding="utf-8").splitlines()[0] + "\n" + GOOD + "\n")
    before = (_listing(tmp_path), ledger.read_bytes())
    result = _update_cli(tmp_path, str(new))
    assert result.exit_code == 2, result.output
    assert _says(result, f"{run / 'posterior.nc'}, field '-': damaged", "Nothing was written")
    assert (_listing(tmp_path), ledger.read_bytes()) == before


def test_toml_files_with_a_byte_order_mark_load(tmp_path):
    """Actors and prior files saved with a byte-order mark (Notepad) read like plain UTF-8."""
    actors, priors = tmp_path / "actors.toml", tmp_path / "priors.toml"
    for src, dst in ((ACTORS, actors), (DEFAULT_PRIORS, priors)):
        dst.write_bytes(b"\xef\xbb\xbf" + src.read_bytes().replace(b"\n", b"\r\n"))
    again = tmp_path / "again.csv"
    again.write_text("\n".join(OBSERVATIONS.read_text(encoding="utf-8").splitlines()[:3]) + "\n")
    result = _update_cli(tmp_path, str(again), "--actors", str(actors), "--priors", str(priors))
    assert result.exit_code == 0, result.output
    assert "Nothing new" in result.output
