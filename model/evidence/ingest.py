"""Machine-coded event data (ICEWS, GDELT 2.0) as threat observations.

Event feeds report "source did X to target" with a CAMEO code and a Goldstein
score (-10 most conflictual, +10 most cooperative). This module turns a feed
file into rows of the observation schema with indicator ``event-data``:

1. **Parse** the file in its native layout and validate every row (date,
   CAMEO code, Goldstein score, event id); any bad row rejects the file, and
   every problem is listed with its row.
2. **Map** the feed's actor fields to the case's actors, and each event to
   the threat series it informs (the event's target perceives a threat from
   its source, see ``data/event_mapping.toml``).
3. **Deduplicate** events: repeated event ids, and (by default) the
   conventional one-a-day filter, which keeps one event per day, actor pair
   and CAMEO code, so that one story told by many outlets counts once.
4. **Aggregate** per series and period into one observation: the period's
   mean Goldstein score, cut into the 0-4 threat code by the mapping's
   thresholds (code 4 only when armed-conflict events dominate).

The rows are then validated by :func:`model.evidence.data.parse_observations`, the
same checks every hand-coded file passes, and enter the store through
:func:`model.workflows.updates.update.publish_update`, so provenance, the ledger and the
all-or-nothing guarantee are those of ``axis update``.

Ids are a hash of the feed, series, period and the event ids aggregated, so
ingesting the same file twice adds nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from model.evidence.data import COLUMNS, Actors, InputError, Problem, parse_observations

#: Feed layouts this module reads.
FORMATS: tuple[str, ...] = ("icews", "gdelt")

#: Columns an ICEWS file must have, after normalising the header
#: (lower case, spaces to underscores: ``Event ID`` -> ``event_id``).
ICEWS_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_date",
    "source_name",
    "source_country",
    "cameo_code",
    "intensity",
    "target_name",
    "target_country",
)

#: The GDELT 2.0 event export: 61 tab-separated fields, no header.
GDELT_FIELDS = 61
#: Positions of the fields used, in the GDELT 2.0 Event Codebook's order.
GDELT_INDEX: dict[str, int] = {
    "event_id": 0,  # GLOBALEVENTID
    "event_date": 1,  # SQLDATE, YYYYMMDD
    "source_name": 5,  # Actor1Code (full CAMEO actor code, e.g. USAGOV)
    "source_country": 7,  # Actor1CountryCode
    "target_name": 15,  # Actor2Code
    "target_country": 17,  # Actor2CountryCode
    "cameo_code": 26,  # EventCode
    "intensity": 30,  # GoldsteinScale
}

#: Columns of the parsed event table (one row per feed event).
EVENT_COLUMNS: tuple[str, ...] = (
    "feed_row",
    "event_id",
    "date",
    "source_name",
    "source_country",
    "target_name",
    "target_country",
    "cameo_code",
    "goldstein",
)

DEDUPE_RULES: tuple[str, ...] = ("one-a-day", "none")


@dataclass(frozen=True)
class Mapping:
    """A validated event-data mapping (``data/event_mapping.toml``).

    Attributes
    ----------
    aliases
        Per feed, the feed's actor value (country name or code) -> case actor.
    also_reverse
        Also count an event toward the source's threat from the target.
    cutpoints
        Decreasing Goldstein cutpoints ``(c0, c1, c2)``: a mean score
        ``>= c0`` is code 0, ``>= c1`` code 1, ``>= c2`` code 2, lower is 3.
    severe_roots
        CAMEO root codes of armed conflict.
    severe_share
        Code 4 when at least this share of a period's events has a severe root.
    min_events
        Fewer deduplicated events in a series and period give no observation.
    dedupe
        ``one-a-day`` or ``none``.
    citations
        Per feed, the citation every observation carries (dataset and reference key).
    path
        The file the mapping was read from (named in every note).
    """

    aliases: dict[str, dict[str, str]]
    also_reverse: bool
    cutpoints: tuple[float, float, float]
    severe_roots: frozenset[str]
    severe_share: float
    min_events: int
    dedupe: str
    citations: dict[str, str]
    path: str


def _problem(path: str, field: str, message: str) -> Problem:
    return Problem(path, None, field, message)


def _check_aliases(
    raw: dict[str, Any], actors: Actors, name: str
) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    problems: list[Problem] = []
    aliases: dict[str, dict[str, str]] = {}
    table = raw.get("actors", {})
    if not isinstance(table, dict):
        return {}, [_problem(name, "actors", "must be a table of feeds")]
    for feed in sorted(set(table) - set(FORMATS)):
        problems.append(_problem(name, f"actors.{feed}", f"unknown feed (feeds: {list(FORMATS)})"))
    for feed in FORMATS:
        per = table.get(feed)
        if not isinstance(per, dict) or not per:
            problems.append(_problem(name, f"actors.{feed}", "missing: map case actors to names"))
            continue
        aliases[feed] = {}
        for code, names in per.items():
            where = f"actors.{feed}.{code}"
            if code not in actors.all:
                problems.append(_problem(name, where, f"{code!r} is not an actor of the case"))
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) and n.strip() for n in names)
            ):
                problems.append(_problem(name, where, "need a list of non-empty names"))
                continue
            for n in names:
                other = aliases[feed].get(n)
                if other is not None and other != code:
                    problems.append(_problem(name, where, f"{n!r} is also mapped to {other}"))
                aliases[feed][n] = code
    return aliases, problems


def load_mapping(path: str | Path, actors: Actors) -> Mapping:
    """Read and validate an event-data mapping, listing every problem at once.

    Raises
    ------
    InputError
        Unknown keys, actors outside the case, names mapped to two actors,
        cutpoints not decreasing or outside [-10, 10], a share outside (0, 1],
        a minimum below 1, an unknown dedupe rule, a feed without citation.
    """
    name = str(path)
    try:
        raw = tomllib.loads(
            Path(path).read_text(encoding="utf-8-sig")
        )  # -sig: Notepad's byte-order mark
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError([_problem(name, "-", f"cannot read TOML: {err}")]) from err
    allowed = {"description", "actors", "direction", "code", "aggregate", "citation"}
    problems = [
        _problem(name, k, f"unknown key (allowed: {sorted(allowed)})")
        for k in sorted(set(raw) - allowed)
    ]
    aliases, bad = _check_aliases(raw, actors, name)
    problems += bad

    sections = {
        "direction": {"also_reverse"},
        "code": {"goldstein_cutpoints", "severe_roots", "severe_share"},
        "aggregate": {"min_events", "dedupe"},
        "citation": set(FORMATS),
    }
    for section, keys in sections.items():
        table = raw.get(section, {})
        if not isinstance(table, dict):
            problems.append(_problem(name, section, "must be a table"))
            raw[section] = {}
            continue
        for k in sorted(set(table) - keys):
            problems.append(_problem(name, f"{section}.{k}", "unknown key"))

    also_reverse = raw["direction"].get("also_reverse", False) if "direction" in raw else False
    if not isinstance(also_reverse, bool):
        problems.append(_problem(name, "direction.also_reverse", "must be true or false"))
    code = raw.get("code", {})
    cuts = code.get("goldstein_cutpoints", [3.0, 0.0, -3.0])
    if (
        not isinstance(cuts, list)
        or len(cuts) != 3
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in cuts)
    ):
        problems.append(_problem(name, "code.goldstein_cutpoints", "need three numbers"))
        cuts = [3.0, 0.0, -3.0]
    elif not (cuts[0] > cuts[1] > cuts[2]) or any(abs(c) > 10 for c in cuts):
        problems.append(
            _problem(
                name,
                "code.goldstein_cutpoints",
                f"{cuts} must be strictly decreasing and within [-10, 10]",
            )
        )
    roots = code.get("severe_roots", ["19", "20"])
    valid_roots = {f"{i:02d}" for i in range(1, 21)}
    if not isinstance(roots, list) or not roots or not set(roots) <= valid_roots:
        problems.append(
            _problem(name, "code.severe_roots", "need CAMEO root codes '01'..'20' as strings")
        )
        roots = []
    share = code.get("severe_share", 0.5)
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1:
        problems.append(_problem(name, "code.severe_share", f"{share!r} must be in (0, 1]"))
    agg = raw.get("aggregate", {})
    min_events = agg.get("min_events", 5)
    if not isinstance(min_events, int) or isinstance(min_events, bool) or min_events < 1:
        problems.append(_problem(name, "aggregate.min_events", "must be an integer >= 1"))
    dedupe = agg.get("dedupe", "one-a-day")
    if dedupe not in DEDUPE_RULES:
        problems.append(_problem(name, "aggregate.dedupe", f"must be one of {list(DEDUPE_RULES)}"))
    citations = raw.get("citation", {})
    for feed in FORMATS:
        text = citations.get(feed)
        if not isinstance(text, str) or "(" not in text or ")" not in text:
            problems.append(
                _problem(
                    name,
                    f"citation.{feed}",
                    "need the dataset with its reference key in parentheses, "
                    "e.g. 'ICEWS (Boschee et al., 2015)'",
                )
            )
        elif '"' in text:
            problems.append(_problem(name, f"citation.{feed}", "may not contain double quotes"))
    if problems:
        raise InputError(problems)
    return Mapping(
        aliases=aliases,
        also_reverse=also_reverse,
        cutpoints=(float(cuts[0]), float(cuts[1]), float(cuts[2])),
        severe_roots=frozenset(roots),
        severe_share=float(share),
        min_events=min_events,
        dedupe=dedupe,
        citations=dict(citations),
        path=Path(path).name,
    )


def load_cameo(path: str | Path) -> dict[str, float]:
    """Read the CAMEO codebook table (``code,name,goldstein``): code -> Goldstein weight.

    Codes are strings and keep their leading zeros ("010" is not "10").
    """
    name = str(path)
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:  # -sig: Excel's BOM
        rows = list(csv.DictReader(fh, skipinitialspace=False))
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for line, row in enumerate(rows, start=2):
        try:
            out[row["code"].strip()] = float(row["goldstein"])
        except (KeyError, TypeError, ValueError):
            problems.append(Problem(name, line, "goldstein", "need a code and a number"))
    if problems:
        raise InputError(problems)
    return out


def _read_text(path: Path) -> str:
    try:  # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is not part of the first field
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read: {err}")]) from err


def _icews_records(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """ICEWS rows keyed by the normalised header; comma or tab separated."""
    text = _read_text(path)
    lines = text.splitlines()
    if not lines:
        return [], [Problem(path.name, 1, "-", "file is empty")]
    delimiter = "\t" if lines[0].count("\t") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    missing = [c for c in ICEWS_COLUMNS if c not in header]
    if missing:
        return [], [Problem(path.name, 1, c, "required ICEWS column missing") for c in missing]
    out, problems = [], []
    for line, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                Problem(
                    path.name,
                    line,
                    "-",
                    f"malformed row: {len(values)} fields, header has {len(header)}",
                )
            )
            continue
        row = dict(zip(header, values, strict=True))
        out.append((line, {c: row[c].strip() for c in ICEWS_COLUMNS}))
    return out, problems


def _gdelt_records(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """GDELT 2.0 export rows: 61 tab-separated fields, no header."""
    out, problems = [], []
    for line, raw in enumerate(_read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        values = raw.split("\t")
        if len(values) != GDELT_FIELDS:
            problems.append(
                Problem(
                    path.name,
                    line,
                    "-",
                    f"malformed row: {len(values)} tab-separated fields, "
                    f"the GDELT 2.0 export has {GDELT_FIELDS}",
                )
            )
            continue
        out.append((line, {k: values[i].strip() for k, i in GDELT_INDEX.items()}))
    return out, problems


def _event_date(text: str, fmt: str) -> date | None:
    try:
        if fmt == "gdelt":
            return datetime.strptime(text, "%Y%m%d").date()
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_feed(path: str | Path, fmt: str, cameo: dict[str, float]) -> pd.DataFrame:
    """Parse and validate a feed file into the event table (:data:`EVENT_COLUMNS`).

    Every row is checked, relevant to the case or not: a file with a bad row
    is not trusted as a whole. A blank Goldstein score is filled from the
    CAMEO table.

    Raises
    ------
    InputError
        Every malformed row, bad date, empty event id, CAMEO code missing from
        the table, or Goldstein score that is not a number in [-10, 10].
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise InputError([Problem(path.name, None, "format", f"must be one of {list(FORMATS)}")])
    records, problems = _icews_records(path) if fmt == "icews" else _gdelt_records(path)
    rows = []
    for line, rec in records:
        bad = []
        if not rec["event_id"]:
            bad.append(("event_id", "empty"))
        when = _event_date(rec["event_date"], fmt)
        if when is None:
            want = "YYYYMMDD" if fmt == "gdelt" else "YYYY-MM-DD"
            bad.append(("event_date", f"{rec['event_date']!r} is not a date ({want})"))
        code = rec["cameo_code"]
        if code not in cameo:
            hint = " (CAMEO codes keep their leading zeros)" if "0" + code in cameo else ""
            bad.append(("cameo_code", f"{code!r} is not a CAMEO code{hint}"))
        text = rec["intensity"]
        score = cameo.get(code)  # a blank score is the code's CAMEO weight
        if text:
            try:
                score = float(text)
            except ValueError:
                score = None
            if score is None or not -10 <= score <= 10:
                bad.append(("intensity", f"{text!r} is not a Goldstein score in [-10, 10]"))
        problems += [Problem(path.name, line, f, m) for f, m in bad]
        if not bad:
            rows.append(
                (
                    line,
                    rec["event_id"],
                    when,
                    rec["source_name"],
                    rec["source_country"],
                    rec["target_name"],
                    rec["target_country"],
                    code,
                    score,
                )
            )
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@dataclass
class IngestReport:
    """What happened to a feed's events on their way to observations."""

    events: int = 0
    outside_case: int = 0
    before_start: int = 0
    duplicate_ids: int = 0
    one_a_day: int = 0
    mapped: int = 0
    too_few: int = 0
    observations: int = 0


def map_events(
    events: pd.DataFrame, fmt: str, mapping: Mapping, actors: Actors, report: IngestReport
) -> pd.DataFrame:
    """Assign each event to the threat series it informs; drop what the case cannot use.

    Returns the events with ``observer`` and ``source`` columns (one row per
    series an event informs: two with ``also_reverse``), after dropping
    repeated ids, events outside the case, before its first period, and
    (``one-a-day``) repeats of the same day, actor pair and CAMEO code.
    """
    report.events = len(events)
    ev = events.drop_duplicates("event_id")
    report.duplicate_ids = len(events) - len(ev)
    names = mapping.aliases[fmt]
    ev = ev.assign(src=ev["source_country"].map(names), tgt=ev["target_country"].map(names))
    inside = ev["src"].notna() & ev["tgt"].notna() & (ev["src"] != ev["tgt"])
    early = inside & (ev["date"].dt.date < actors.start)
    report.outside_case = int((~inside).sum())
    report.before_start = int(early.sum())
    ev = ev[inside & ~early]
    if mapping.dedupe == "one-a-day":
        keys = ["date", "source_name", "target_name", "source_country", "target_country"]
        kept = ev.drop_duplicates([*keys, "cameo_code"])
        report.one_a_day = len(ev) - len(kept)
        ev = kept
    # the event's target perceives a threat from its source
    parts = [ev.assign(observer=ev["tgt"], source=ev["src"])]
    if mapping.also_reverse:
        parts.append(ev.assign(observer=ev["src"], source=ev["tgt"]))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["observer"].isin(actors.partners)]  # the external actor is never an observer
    report.mapped = int(out["event_id"].nunique())
    return out.drop(columns=["src", "tgt"]).reset_index(drop=True)


def threat_code(mean_goldstein: float, severe_share: float, mapping: Mapping) -> int:
    """Code a period's events 0-4.

    Code 4 (armed conflict) when at least ``mapping.severe_share`` of the
    events have a severe CAMEO root; otherwise the number of cutpoints the
    mean Goldstein score falls below: ``>= c0`` -> 0, ``>= c1`` -> 1,
    ``>= c2`` -> 2, lower -> 3.
    """
    if severe_share >= mapping.severe_share:
        return 4
    return sum(mean_goldstein < c for c in mapping.cutpoints)


def _observation_id(fmt: str, observer: str, source: str, period: str, ids: list[str]) -> str:
    blob = "|".join([fmt, observer, source, period, *sorted(ids)])
    return "E" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def aggregate_events(
    mapped: pd.DataFrame,
    fmt: str,
    mapping: Mapping,
    actors: Actors,
    file_name: str,
    report: IngestReport,
) -> list[dict[str, str]]:
    """One observation row per (observer, source, period) with enough events.

    The row is dated by the period's last event, so an as-of fit never sees
    an aggregate that includes events after its date.
    """
    if mapped.empty:
        return []
    period = mapped["date"].dt.to_period(actors.pandas_freq).astype(str)
    rows = []
    for (observer, source, per), grp in mapped.groupby(["observer", "source", period], sort=True):
        n = len(grp)
        if n < mapping.min_events:
            report.too_few += 1
            continue
        mean = float(grp["goldstein"].mean())
        severe = float(grp["cameo_code"].str[:2].isin(mapping.severe_roots).mean())
        code = threat_code(mean, severe, mapping)
        first, last = grp["date"].min(), grp["date"].max()
        roots = Counter(grp["cameo_code"].str[:2])
        top = ", ".join(f"{r}:{c}" for r, c in sorted(roots.items(), key=lambda kv: -kv[1])[:4])
        rows.append(
            {
                "id": _observation_id(fmt, observer, source, per, list(grp["event_id"])),
                "date": f"{last:%Y-%m-%d}",
                "kind": "threat",
                "observer": observer,
                "target": source,
                "indicator": "event-data",
                "code": str(code),
                "citation": f"{mapping.citations[fmt]}: {file_name}, {n} events",
                "note": (
                    f"{per}: {n} {source} to {observer} events {first:%Y-%m-%d} to "
                    f"{last:%Y-%m-%d}, mean Goldstein {mean:+.2f}, severe share {severe:.2f}, "
                    f"CAMEO roots {top}; feed rows from {int(grp['feed_row'].min())}; "
                    f"coded by {mapping.path}"
                ),
                "source_row": int(grp["feed_row"].min()),
            }
        )
    report.observations = len(rows)
    return rows


def ingest_feed(
    path: str | Path,
    fmt: str,
    *,
    mapping: Mapping,
    cameo: dict[str, float],
    actors: Actors,
) -> tuple[pd.DataFrame, IngestReport]:
    """Turn a feed file into validated observation rows.

    Returns the rows as :func:`model.evidence.data.read_observations` would (with
    ``source_row`` pointing at the first feed row of each aggregate) and
    the report of what was dropped and why. Raises
    :class:`~model.evidence.data.InputError` naming every bad row of the feed.
    """
    path = Path(path)
    report = IngestReport()
    events = read_feed(path, fmt, cameo)
    mapped = map_events(events, fmt, mapping, actors, report)
    rows = aggregate_events(mapped, fmt, mapping, actors, path.name, report)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([[r[c] for c in COLUMNS] for r in rows])
    frame = parse_observations(buf.getvalue(), f"{path.name} (as coded)", actors)
    frame["source_row"] = [r["source_row"] for r in rows]
    return frame, report
