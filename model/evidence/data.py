"""Loading and validating the case: actors, periods and coded observations.

Everything a fit depends on is read here and only here, so that the model
builder stays a pure function of in-memory data. Validation collects every
problem before it raises, naming file, row and field, so an analyst can fix
a file in one pass.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from model.theory.tables import OUTCOME_LEVELS, OUTCOMES, STRATEGIES, THREAT_INDICATORS

#: Columns every observations CSV must have, in the order the shipped file uses.
COLUMNS: tuple[str, ...] = (
    "id",
    "date",
    "kind",
    "observer",
    "target",
    "indicator",
    "code",
    "citation",
    "note",
)

#: The optional column naming who coded a row; rows without it are the main coder's.
CODER_COLUMN = "coder"

#: The coder of a file without a ``coder`` column, or of a row that leaves it empty.
DEFAULT_CODER = "main"

KINDS: tuple[str, ...] = ("threat", "conduct", "outcome")

#: Period lengths a case may use, mapped to pandas period aliases.
FREQUENCIES: dict[str, str] = {"quarter": "Q", "month": "M", "year": "Y"}

#: Named default as-of rules of ``[periods] as_of`` (an ISO date is also allowed).
AS_OF_RULES: tuple[str, ...] = ("today", "last-evidence")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely."""

    file: str
    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row is not None else "")
        return f"{where}, field '{self.field}': {self.message}"


class InputWarning(UserWarning):
    """Something in an input file is ignored; the file still loads.

    A warning rather than a :class:`Problem`: the fit is sound without the
    ignored part, but the analyst may have meant it to count (a misspelt
    column name, say), so it must not go unmentioned. The CLI prints these
    as ``warning:`` lines.
    """


class InputError(ValueError):
    """Raised when an input file is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the input:\n{lines}")


@dataclass(frozen=True)
class Actors:
    """The case: partner states, the external actor, and the period grid.

    Parameters
    ----------
    partners
        Codes of the states that may ally, in report order.
    external
        Code of the outside actor whose threat they may balance against.
    start
        First day covered by the model's periods.
    frequency
        Period length: ``quarter`` (default), ``month`` or ``year``.
    names
        Optional display names per code.
    as_of
        The default as-of date when a fit names none: ``today`` (a live
        case), ``last-evidence`` (a closed, historical case: the date of the
        newest observation, so a nineteenth-century case does not forecast
        from today), or an ISO date.
    """

    partners: tuple[str, ...]
    external: str
    start: date
    frequency: str = "quarter"
    names: dict[str, str] = field(default_factory=dict)
    as_of: str = "today"

    @property
    def all(self) -> tuple[str, ...]:
        """Every actor code, partners first."""
        return (*self.partners, self.external)

    @property
    def pandas_freq(self) -> str:
        """The pandas period alias of :attr:`frequency`."""
        return FREQUENCIES[self.frequency]


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None


def load_actors(path: str | Path) -> Actors:
    """Read and validate ``actors.toml``.

    The file has ``partners`` (a list of at least two codes), ``external``
    (one code) and an optional ``[periods]`` table with ``start`` (ISO date)
    and ``frequency``; an optional ``[names]`` table maps codes to names.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # -sig: Notepad's byte-order mark
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read TOML: {err}")]) from err
    problems: list[Problem] = []
    allowed = {"partners", "external", "periods", "names", "description"}
    for key in sorted(set(raw) - allowed):
        problems.append(Problem(str(path), None, key, f"unknown key (allowed: {sorted(allowed)})"))
    partners = raw.get("partners")
    if (
        not isinstance(partners, list)
        or len(partners) < 2
        or not all(isinstance(p, str) and p for p in partners)
    ):
        problems.append(Problem(str(path), None, "partners", "need a list of >= 2 actor codes"))
        partners = []
    elif len(set(partners)) != len(partners):
        problems.append(Problem(str(path), None, "partners", "duplicate actor code"))
    for code in partners:
        if any(ch in code for ch in "-<>.,= "):
            problems.append(
                Problem(
                    str(path),
                    None,
                    "partners",
                    f"code {code!r} may not contain - < > . , = or spaces",
                )
            )
    external = raw.get("external")
    if not isinstance(external, str) or not external:
        problems.append(Problem(str(path), None, "external", "need one actor code"))
    elif external in partners:
        problems.append(
            Problem(str(path), None, "external", "the external actor is also a partner")
        )
    periods = raw.get("periods", {})
    for key in sorted(set(periods) - {"start", "frequency", "as_of"}):
        problems.append(Problem(str(path), None, f"periods.{key}", "unknown key"))
    start = _parse_date(str(periods.get("start", "2017-01-01")))
    if start is None:
        problems.append(Problem(str(path), None, "periods.start", "not an ISO date"))
    frequency = periods.get("frequency", "quarter")
    if frequency not in FREQUENCIES:
        problems.append(
            Problem(str(path), None, "periods.frequency", f"must be one of {list(FREQUENCIES)}")
        )
    as_of = str(periods.get("as_of", "today"))
    if as_of not in AS_OF_RULES and _parse_date(as_of) is None:
        problems.append(
            Problem(
                str(path), None, "periods.as_of", f"must be one of {list(AS_OF_RULES)} or a date"
            )
        )
    if problems:
        raise InputError(problems)
    return Actors(
        partners=tuple(partners),
        external=external,
        start=start,
        frequency=frequency,
        names=dict(raw.get("names", {})),
        as_of=as_of,
    )


def default_as_of(actors: Actors, frame: pd.DataFrame) -> date:
    """Return the as-of date of a fit that names none, by the case's ``[periods] as_of`` rule.

    A live case forecasts from today. A historical case (``last-evidence``)
    forecasts from its newest observation: its horizon then counts from the
    end of the record rather than from a present a century and a half later.
    """
    if actors.as_of == "today":
        return date.today()
    if actors.as_of == "last-evidence":
        if frame.empty:
            raise ValueError("no observations: 'last-evidence' needs at least one dated row")
        return frame["date"].max().date()
    return date.fromisoformat(actors.as_of)


def _check_row(row: dict[str, str], actors: Actors, today: date) -> list[tuple[str, str]]:
    """Return (field, message) for everything wrong with one observation row.

    A row dated after ``today`` is refused: it cannot be evidence yet, and an
    as-of fit would drop it from the period grid without a word (a typo such
    as 2031 for 2013 would go unseen).
    """
    bad: list[tuple[str, str]] = []
    kind = row["kind"].strip()
    observer, target = row["observer"].strip(), row["target"].strip()
    indicator, code = row["indicator"].strip(), row["code"].strip()
    if not row["id"].strip():
        bad.append(("id", "empty"))
    when = _parse_date(row["date"])
    if when is None:
        bad.append(("date", f"{row['date']!r} is not an ISO date (YYYY-MM-DD)"))
    elif when < actors.start:
        bad.append(("date", f"{when} is before the case's first period ({actors.start})"))
    elif when > today:
        bad.append(("date", f"{when} is after today ({today}): evidence cannot be dated later"))
    if kind not in KINDS:
        bad.append(("kind", f"{kind!r} is not one of {list(KINDS)}"))
        return bad
    known = set(actors.all)
    for name, value in (("observer", observer), ("target", target)):
        if value not in known:
            bad.append((name, f"unknown actor {value!r} (actors: {sorted(known)})"))
    if observer in known and observer not in actors.partners:
        bad.append(("observer", f"{observer!r} is not a partner state"))
    if observer == target and observer in known:
        bad.append(("target", "target equals observer"))
    if kind in ("conduct", "outcome") and target in known and target not in actors.partners:
        bad.append(("target", f"{kind} evidence needs a partner state, not {target!r}"))
    if kind == "threat":
        if indicator not in THREAT_INDICATORS:
            bad.append(("indicator", f"{indicator!r} is not one of {list(THREAT_INDICATORS)}"))
        if code not in {"0", "1", "2", "3", "4"}:
            bad.append(("code", f"threat code {code!r} is out of range 0-4"))
    elif kind == "conduct":
        if indicator != "conduct":
            bad.append(("indicator", "conduct evidence has indicator 'conduct'"))
        if code not in STRATEGIES:
            bad.append(("code", f"{code!r} is not one of {list(STRATEGIES)}"))
    else:
        if indicator not in OUTCOMES:
            bad.append(("indicator", f"{indicator!r} is not one of {list(OUTCOMES)}"))
        if code not in OUTCOME_LEVELS:
            bad.append(("code", f"{code!r} is not one of {list(OUTCOME_LEVELS)}"))
    if not row["citation"].strip():
        bad.append(("citation", "missing: every observation needs a source"))
    return bad


def read_observations(path: str | Path, actors: Actors) -> pd.DataFrame:
    """Read and validate an observations CSV.

    Returns a frame with the :data:`COLUMNS`, ``date`` parsed, a ``coder``
    column (the optional :data:`CODER_COLUMN`; :data:`DEFAULT_CODER` where a
    file has none, so one coder's files need no such column) and a
    ``source_row`` column holding each row's line number in the file. Raises
    :class:`InputError` listing every problem (malformed rows, unknown
    actors, codes out of range, bad dates, missing citations, duplicate ids).
    """
    path = Path(path)
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which is not part
        # of the first column's name; CRLF line ends are the csv module's own (newline="").
        with path.open(encoding="utf-8-sig", newline="") as handle:  # streamed: a big file
            return _parse_rows(handle, str(path), actors)  # is not held in memory twice
    except UnicodeDecodeError:
        raise InputError([_not_utf8(path)]) from None
    except OSError as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read: {err}")]) from err


def _not_utf8(path: Path) -> Problem:
    """Locate the first byte of a file that is not UTF-8 text (the streamed decoder cannot)."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(str(path), 1, "-", "the file is UTF-16 text: save it as 'CSV UTF-8'")
    body = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as err:
        line = body[: err.start].count(b"\n") + 1
        column = err.start - (body.rfind(b"\n", 0, err.start) + 1) + 1
        return Problem(
            str(path),
            line,
            "-",
            f"byte 0x{body[err.start]:02x} at character {column} is not UTF-8 text: "
            "save the file as 'CSV UTF-8'",
        )
    return Problem(str(path), None, "-", "not UTF-8 text: save the file as 'CSV UTF-8'")


def parse_observations(text: str, name: str, actors: Actors) -> pd.DataFrame:
    """Validate observation rows given as CSV text; ``name`` is the file named in problems.

    The one validator of every observation, hand-coded or derived (the
    event-data adapter writes its rows as CSV text and passes them here).
    """
    return _parse_rows(io.StringIO(text.removeprefix("\ufeff")), name, actors)


def _parse_rows(lines: Iterable[str], name: str, actors: Actors) -> pd.DataFrame:
    """Validate CSV lines (header first) into the observation frame (:func:`read_observations`)."""
    reader = csv.reader(lines)
    try:
        return _read_rows(reader, name, actors)
    except csv.Error as err:  # a field over the csv module's size limit (an unclosed quote), ...
        raise InputError([Problem(name, reader.line_num, "-", f"not CSV: {err}")]) from None


def _check_header(header: list[str], name: str) -> list[Problem]:
    """Problems of the header row; unknown columns are warned about once and ignored."""
    problems = [Problem(name, 1, c, "required column missing") for c in COLUMNS if c not in header]
    for column in dict.fromkeys(c for c in header if c in COLUMNS and header.count(c) > 1):
        problems.append(Problem(name, 1, column, "column appears more than once"))
    if header.count(CODER_COLUMN) > 1:
        problems.append(Problem(name, 1, CODER_COLUMN, "column appears more than once"))
    for i, column in enumerate(header):
        if column not in COLUMNS and column != CODER_COLUMN:
            what = f"unknown column {column!r}" if column else f"unnamed column {i + 1}"
            warnings.warn(
                InputWarning(f"{Problem(name, 1, column or '-', f'{what} is ignored')}"),
                stacklevel=4,
            )
    return problems


def _read_rows(reader: Iterator[list[str]], name: str, actors: Actors) -> pd.DataFrame:
    """Validate the rows of a CSV reader (header first) into the observation frame."""
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError([Problem(name, 1, "-", "file is empty")]) from None
    bad_header = _check_header(header, name)
    if bad_header:
        raise InputError(bad_header)
    where = [header.index(c) for c in COLUMNS]
    coder_at = header.index(CODER_COLUMN) if CODER_COLUMN in header else None
    coders: list[str] = []
    today = date.today()
    dates: dict[str, str] = {}  # as written -> YYYY-MM-DD (ISO also allows 20240619, 2024-W25-3)
    problems: list[Problem] = []
    columns: list[list[str]] = [[] for _ in COLUMNS]
    lines: list[int] = []
    seen: dict[str, int] = {}
    # A row's verdict depends on its fields, not its id or note: check each distinct
    # combination once and keep one copy of each repeated string, so a million rows
    # cost seconds and little memory.
    verdicts: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    shared: dict[str, str] = {}
    for line, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                Problem(
                    name,
                    line,
                    "-",
                    f"malformed row: {len(values)} fields, header has {len(header)}",
                )
            )
            continue
        row = [values[i].strip() for i in where]
        key = (*row[1:7], "" if not row[7] else "cited", "" if not row[0] else "id")
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _check_row(
                dict(zip(COLUMNS, row, strict=True)), actors, today
            )
        problems += [Problem(name, line, f, m) for f, m in verdict]
        rid = row[0]
        if rid in seen:
            problems.append(
                Problem(name, line, "id", f"duplicate id {rid!r} (first at row {seen[rid]})")
            )
        seen.setdefault(rid, line)
        if row[1] not in dates:
            when = _parse_date(row[1])
            dates[row[1]] = when.isoformat() if when is not None else row[1]
        row[1] = dates[row[1]]
        for column, value in zip(columns, row, strict=True):
            column.append(shared.setdefault(value, value))
        coder = values[coder_at].strip() if coder_at is not None else ""
        coders.append(shared.setdefault(coder or DEFAULT_CODER, coder or DEFAULT_CODER))
        lines.append(line)
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(dict(zip(COLUMNS, columns, strict=True)), columns=list(COLUMNS))
    frame[CODER_COLUMN] = coders
    frame["source_row"] = np.asarray(lines, dtype=np.int64)
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    return frame


def file_sha256(*paths: str | Path) -> str:
    """Hash the bytes of one or more files, so a run records exactly what it read."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(Path(p).read_bytes())
    return digest.hexdigest()
