"""Observation files with random damage: each loads or names file, row and field; none crashes.

Bytes, quoting, missing and extra fields, codes, dates, line ends and
encodings are damaged at random, starting from rows of the shipped file.
Whatever the damage, the reader (:func:`~model.evidence.data.read_observations`, alone
and through ``axis update``) returns a valid frame or raises
:class:`~model.evidence.data.InputError` whose every problem names the file, a row
and a field; any other exception is a failure, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from model.cli import app
from model.evidence.data import COLUMNS, KINDS, InputError, load_actors, read_observations
from tests.conftest import ACTORS, OBSERVATIONS

CASE = load_actors(ACTORS)

with OBSERVATIONS.open(encoding="utf-8", newline="") as _fh:
    #: The header and the first rows of the shipped file: valid, each kind of evidence.
    BASE: list[list[str]] = list(csv.reader(_fh))[:9]

#: Values that meet the validator's edges, mixed with arbitrary text below.
AWKWARD = [
    "", " ", '"', '""', ",", "\n", "\r\n", "\r", "\x00", "\ufeff", "é", "參", "\t",
    "2031-01-01", "2024-13-45", "2024-W25-3", "20240619", "0001-01-01", "9999-12-31",
    "2016-12-31", "-1", "5", "4", "nan", "1e3", "threat", "conduct", "outcome", "balancing",
    "RUS", "USA", "GBR", "high", "statement", "cohesion", "[/x]", "[bold]", "P001", "=1+1",
]  # fmt: skip

value = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)

#: Edits of the rows, mostly of one field.
OPS = ("set",) * 5 + ("drop", "add", "drop_row", "copy_row")


def _edit(draw: st.DrawFn, row: list[str], op: str) -> None:
    j = draw(st.integers(0, max(0, len(row) - 1)))
    if op == "set" and row:
        row[j] = draw(value)
    elif op == "drop" and row:
        del row[j]
    elif op == "add":
        row.insert(j, draw(value))


@st.composite
def damaged_rows(draw: st.DrawFn) -> list[list[str]]:
    """The base rows after a few random edits of fields and rows, and now and then the header.

    The header is edited in one file in four: a damaged header hides every
    row behind one problem.
    """
    rows = [list(r) for r in BASE]
    header_op = draw(st.sampled_from([None] * 9 + ["set", "add", "drop"]))
    if header_op:
        _edit(draw, rows[0], header_op)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(OPS))
        if len(rows) < 2:
            break
        i = draw(st.integers(1, len(rows) - 1))
        if op == "drop_row":
            del rows[i]
        elif op == "copy_row":
            rows.insert(draw(st.integers(1, len(rows))), list(rows[i]))
        else:
            _edit(draw, rows[i], op)
    return rows


@st.composite
def damaged_file(draw: st.DrawFn) -> bytes:
    """Damaged rows written with random quoting, line ends, encoding and byte damage."""
    rows = draw(damaged_rows())
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quoting = draw(st.sampled_from(["minimal"] * 3 + ["all", "none", "raw"]))
    if quoting == "raw":  # joined by hand: commas and quotes inside fields are not escaped
        text = end.join(",".join(r) for r in rows) + end
    else:
        buf = io.StringIO()
        mode = {"minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL, "none": csv.QUOTE_NONE}
        csv.writer(buf, quoting=mode[quoting], escapechar="\\", lineterminator=end).writerows(rows)
        text = buf.getvalue()
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig"] * 2 + ["utf-16", "cp1252"]))
    data = bytearray(text.encode(encoding, errors="replace"))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        where = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "truncate", "replace"]))
        if kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "truncate":
            del data[where:]
        elif where < len(data):
            data[where] = draw(st.integers(0, 255))
    return bytes(data)


def _check_outcome(path: Path) -> None:
    """Load ``path``: a valid frame, or an InputError naming file, row and field per problem."""
    try:
        frame = read_observations(path, CASE)
    except InputError as err:
        assert err.problems
        for p in err.problems:
            assert p.file == str(path), p
            assert isinstance(p.row, int) and p.row >= 1, p
            assert isinstance(p.field, str) and p.field, p
            assert p.message, p
        return
    assert list(frame.columns) == [*COLUMNS, "coder", "source_row"]
    assert frame["kind"].isin(KINDS).all()
    if len(frame):
        assert frame["date"].min().date() >= CASE.start
        assert frame["date"].max().date() <= date.today()
        assert frame["id"].is_unique and frame["citation"].str.strip().ne("").all()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.filterwarnings("ignore::model.evidence.data.InputWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_file())
def test_damaged_file_loads_or_names_file_row_and_field(data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "obs.csv"
        path.write_bytes(data)
        _check_outcome(path)
        assert _files(root) == ["obs.csv"]


def test_the_base_rows_load():
    """The undamaged base is valid, so damage is what the property above exercises."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "obs.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(BASE)
        assert len(read_observations(path, CASE)) == len(BASE) - 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_file())
def test_damaged_file_through_axis_update(data):
    """The CLI's validation: exit 0 or 2 (the file named), never a traceback, nothing written.

    The publication is stubbed: a file that loads would otherwise start a fit.
    """
    import model.workflows.updates.update

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            model.workflows.updates.update,
            "publish_update",
            lambda *a, **k: model.workflows.updates.update.UpdateResult(0),
        )
        root = Path(tmp)
        path = root / "obs.csv"
        path.write_bytes(data)
        out = root / "out"
        args = ["update", str(path), "--ledger", str(out / "axis.sqlite"), "--runs", str(out)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code in (0, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        if result.exit_code == 2:
            said = "".join(result.output.split())
            assert "".join(str(path).split()) in said and "Nothingwaswritten." in said
            assert _files(root) == ["obs.csv"]
        else:  # validated and handed to the (stubbed) publication under the store's lock
            assert _files(root) in (["obs.csv"], ["obs.csv", "out", "out/axis.sqlite.lock"])
