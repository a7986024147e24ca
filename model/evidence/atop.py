"""ATOP treaty obligations: an outside check of the commitment the model infers, never evidence.

The Alliance Treaty Obligations and Provisions data (Leeds et al. 2002) code,
per pair of states and year, whether a treaty in force binds them to
defence, offence, neutrality, non-aggression or consultation. Nobody in this
project coded them, so they can check the model's commitment level of a
dyad without sharing its coders' judgement; for that they must stay out of
every fit, and nothing here produces observation rows or priors. The rule
mapping obligations to a commitment level, what a covered dyad-period is
and what the comparison reports are stated in ``docs/atop.md``, written
before any comparison.

The shipped extract (``data/atop/``) holds the dyad-years of the partner
pairs of the shipped cases; ``coverage.toml`` beside it says where a missing
pair-year means "no alliance" (a kept pair, a year of ATOP's span, both
states existing) rather than "not extracted" or "no such state".
:func:`obligations_for` turns the two into one mapped level per dyad and
period of a case, and :func:`compare_commitment` sets those levels against
the model's posterior probabilities, which the caller supplies.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from model.evidence.aggregate import dyad_name
from model.evidence.data import Actors, InputError, Problem, _not_utf8
from model.evidence.shipped import shipped_path
from model.theory.tables import OUTCOME_LEVELS

__all__ = [
    "ATOP_COLUMNS",
    "OBLIGATIONS",
    "AtopComparison",
    "AtopCoverage",
    "commitment_level",
    "compare_commitment",
    "load_atop",
    "load_coverage",
    "obligations_for",
]

#: The five 0/1 obligations of an ATOP dyad-year, from the strongest duty down.
OBLIGATIONS: tuple[str, ...] = (
    "atop_defense",
    "atop_offense",
    "atop_neutral",
    "atop_nonagg",
    "atop_consul",
)

#: Columns every ATOP dyad-year file must have.
ATOP_COLUMNS: tuple[str, ...] = ("state1", "state2", "ccode1", "ccode2", "year", *OBLIGATIONS)

#: The shipped files, under ``data/``.
_ATOP_FILE: tuple[str, ...] = ("atop", "atop_dyad_years.csv")
_COVERAGE_FILE: tuple[str, ...] = ("atop", "coverage.toml")

#: Columns of the model's probabilities that :func:`compare_commitment` reads.
_LEVEL_COLUMNS: list[str] = list(OUTCOME_LEVELS)

#: How far a row of the model's probabilities may sum from one (float round-off).
_SUM_TOLERANCE = 1e-6


# --- the dyad-years -------------------------------------------------------------------------


def load_atop(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate an ATOP dyad-year file.

    The file is read once and checked whole, so that a hand-edited or
    re-extracted file is refused with every problem at once (file, row and
    field), as every other input of the project is.

    Parameters
    ----------
    path
        A CSV with the :data:`ATOP_COLUMNS`; ``None`` reads the shipped
        extract (``data/atop/atop_dyad_years.csv``, found as every shipped
        file is, in a checkout or an install).

    Returns
    -------
    pandas.DataFrame
        The :data:`ATOP_COLUMNS` (codes as text, the rest as ``int64``),
        plus ``dyad`` (the pair named as the model names dyads, codes sorted,
        e.g. ``AUH-GER``: the file's own order is COW's) and ``source_row``
        (the row's line in the file, for messages that point back to it).

    Raises
    ------
    InputError
        If the file cannot be read, lacks a column, or has rows whose codes
        are empty or equal, whose COW codes, years or obligations are not
        integers (obligations 0 or 1, at least one of them 1: a row is a
        pair-year with an alliance in force), whose state has another COW code
        elsewhere in the file, or that repeat a pair-year.
    """
    path = Path(path) if path is not None else shipped_path(*_ATOP_FILE)
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError:
        raise InputError([_not_utf8(path)]) from None
    except OSError as err:
        raise InputError([Problem(name, None, "-", f"cannot read: {err}")]) from err
    except csv.Error as err:
        raise InputError([Problem(name, None, "-", f"not CSV: {err}")]) from None
    if not rows:
        raise InputError([Problem(name, 1, "-", "file is empty")])
    header = [h.strip() for h in rows[0]]
    missing = [
        Problem(name, 1, c, "required column missing") for c in ATOP_COLUMNS if c not in header
    ]
    repeated = [
        Problem(name, 1, c, "column appears more than once")
        for c in ATOP_COLUMNS
        if header.count(c) > 1
    ]
    if missing or repeated:
        raise InputError(missing + repeated)
    where = [header.index(c) for c in ATOP_COLUMNS]
    problems: list[Problem] = []
    records: list[list[Any]] = []
    ccode_of: dict[str, tuple[int, int]] = {}  # state -> (COW code, first row giving it)
    seen: dict[tuple[str, int], int] = {}  # (dyad, year) -> first row
    for line, values in enumerate(rows[1:], start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            message = f"malformed row: {len(values)} fields, header has {len(header)}"
            problems.append(Problem(name, line, "-", message))
            continue
        row = dict(zip(ATOP_COLUMNS, (values[i].strip() for i in where), strict=True))
        bad, record = _check_atop_row(row)
        problems += [Problem(name, line, f, m) for f, m in bad]
        if bad:
            continue
        state1, state2, ccode1, ccode2, year = record[:5]
        for state, ccode, column in ((state1, ccode1, "ccode1"), (state2, ccode2, "ccode2")):
            known, first = ccode_of.setdefault(state, (ccode, line))
            if known != ccode:
                message = f"{state} has COW code {ccode} here but {known} at row {first}"
                problems.append(Problem(name, line, column, message))
        key = (dyad_name(state1, state2), year)
        if key in seen:
            message = f"pair-year {key[0]} {year} repeated (first at row {seen[key]})"
            problems.append(Problem(name, line, "year", message))
        seen.setdefault(key, line)
        records.append([*record, key[0], line])
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(records, columns=[*ATOP_COLUMNS, "dyad", "source_row"])
    numeric = [c for c in ATOP_COLUMNS if c not in ("state1", "state2")] + ["source_row"]
    return frame.astype(dict.fromkeys(numeric, "int64"))


def _check_atop_row(row: dict[str, str]) -> tuple[list[tuple[str, str]], list[Any]]:
    """Return (field, message) for everything wrong with one ATOP row, and its typed values."""
    bad: list[tuple[str, str]] = []
    for column in ("state1", "state2"):
        if not row[column]:
            bad.append((column, "empty"))
    if row["state1"] and row["state1"] == row["state2"]:
        bad.append(("state2", f"the same state as state1 ({row['state1']!r})"))
    numbers: dict[str, int] = {}
    for column in ("ccode1", "ccode2", "year", *OBLIGATIONS):
        try:
            numbers[column] = int(row[column])
        except ValueError:
            bad.append((column, f"{row[column]!r} is not an integer"))
    for column in OBLIGATIONS:
        if column in numbers and numbers[column] not in (0, 1):
            bad.append((column, f"{numbers[column]} is not 0 or 1"))
    if all(numbers.get(column) == 0 for column in OBLIGATIONS):
        bad.append(("-", "no obligation is 1: a row is a pair-year with an alliance in force"))
    if bad:
        return bad, []
    typed = [numbers[c] for c in ATOP_COLUMNS[2:]]
    return bad, [row["state1"], row["state2"], *typed]


# --- what the extract covers ----------------------------------------------------------------


@dataclass(frozen=True)
class AtopCoverage:
    """Where a pair-year missing from the ATOP file means "no alliance in force".

    Parameters
    ----------
    first_year, last_year
        ATOP's span: outside it, ATOP says nothing.
    pairs
        Dyad names (:func:`model.evidence.aggregate.dyad_name`) of the pairs
        whose every ATOP dyad-year the file holds; any other pair was not
        extracted, so its missing rows mean nothing.
    membership
        Per state code, its years of state-system membership as inclusive
        ``(first, last)`` spells: ATOP codes no alliance of a state that did
        not exist, so a missing row then says nothing either.
    """

    first_year: int
    last_year: int
    pairs: frozenset[str]
    membership: Mapping[str, tuple[tuple[int, int], ...]]

    def member(self, state: str, year: int) -> bool:
        """Tell whether ``state`` was a member of the state system in ``year``."""
        return any(first <= year <= last for first, last in self.membership.get(state, ()))

    def covers(self, dyad: str, year: int) -> bool:
        """Tell whether the pair-year is covered: a kept pair, in the span, both states existing.

        Parameters
        ----------
        dyad
            A dyad name, e.g. ``AUH-GER``.
        year
            A calendar year.

        Returns
        -------
        bool
            ``True`` when a missing row for this pair-year means no ATOP
            alliance was in force.
        """
        if dyad not in self.pairs or not self.first_year <= year <= self.last_year:
            return False
        return all(self.member(state, year) for state in dyad.split("-"))


def load_coverage(path: str | Path | None = None) -> AtopCoverage:
    """Read and validate what an ATOP extract covers (``coverage.toml``).

    Without it a missing pair-year could not be read: it is "no alliance"
    only for a kept pair, within ATOP's span, while both states existed.

    Parameters
    ----------
    path
        A TOML file with ``first_year``, ``last_year``, ``pairs`` (dyad
        names) and a ``[states.<code>]`` table per state of those pairs
        (``ccode``, optional ``cow`` and ``name``, and ``member``, a list of
        ``[first, last]`` years); ``None`` reads the shipped one
        (``data/atop/coverage.toml``).

    Returns
    -------
    AtopCoverage
        The span, pairs and membership.

    Raises
    ------
    InputError
        Listing every problem: unknown keys, a span that is not two
        ordered integer years, a pair that is not a dyad name (codes sorted
        and joined by ``-``) or names a state without a table, a state
        without an integer ``ccode`` or with spells that are not ordered
        integer years within the span.
    """
    path = Path(path) if path is not None else shipped_path(*_COVERAGE_FILE)
    name = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError([Problem(name, None, "-", f"cannot read TOML: {err}")]) from err
    problems: list[Problem] = []
    allowed = {"first_year", "last_year", "pairs", "states"}
    for key in sorted(set(raw) - allowed):
        problems.append(Problem(name, None, key, f"unknown key (allowed: {sorted(allowed)})"))
    span: dict[str, int] = {}
    for key in ("first_year", "last_year"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            span[key] = value
        else:
            problems.append(Problem(name, None, key, "need an integer year"))
    first, last = span.get("first_year"), span.get("last_year")
    if first is not None and last is not None and first > last:
        problems.append(Problem(name, None, "last_year", f"{last} is before first_year {first}"))
    states = raw.get("states", {})
    if not isinstance(states, dict):
        problems.append(Problem(name, None, "states", "need a table per state"))
        states = {}
    membership: dict[str, tuple[tuple[int, int], ...]] = {}
    for code, table in states.items():
        spells = _check_state(code, table, first, last, name, problems)
        if spells is not None:
            membership[code] = spells
    pairs = raw.get("pairs")
    if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
        problems.append(Problem(name, None, "pairs", "need a list of dyad names"))
        pairs = []
    for pair in pairs:
        codes = pair.split("-")
        if len(codes) != 2 or not all(codes) or dyad_name(*codes) != pair:
            problems.append(
                Problem(name, None, "pairs", f"{pair!r} is not a dyad name (codes sorted, '-')")
            )
            continue
        for code in codes:
            if code not in states:
                problems.append(Problem(name, None, "pairs", f"{pair}: no [states.{code}] table"))
    if problems or first is None or last is None:  # a missing year is among the problems
        raise InputError(problems)
    return AtopCoverage(first, last, frozenset(pairs), membership)


def _check_state(
    code: str,
    table: object,
    first: int | None,
    last: int | None,
    name: str,
    problems: list[Problem],
) -> tuple[tuple[int, int], ...] | None:
    """Validate one ``[states.<code>]`` table, appending to ``problems``; return its spells."""
    where = f"states.{code}"
    if not isinstance(table, dict):
        problems.append(Problem(name, None, where, "need a table"))
        return None
    for key in sorted(set(table) - {"ccode", "cow", "name", "member"}):
        problems.append(Problem(name, None, f"{where}.{key}", "unknown key"))
    ccode = table.get("ccode")
    if not isinstance(ccode, int) or isinstance(ccode, bool):
        problems.append(Problem(name, None, f"{where}.ccode", "need an integer COW code"))
    member = table.get("member")
    ok = isinstance(member, list) and bool(member)
    spells: list[tuple[int, int]] = []
    for spell in member if ok else []:
        years = spell if isinstance(spell, list) and len(spell) == 2 else []
        if not all(isinstance(y, int) and not isinstance(y, bool) for y in years) or not years:
            ok = False
            break
        spells.append((years[0], years[1]))
    if not ok:
        message = "need a list of [first, last] integer years"
        problems.append(Problem(name, None, f"{where}.member", message))
        return None
    for start, end in spells:
        if (
            start > end
            or (first is not None and start < first)
            or (last is not None and end > last)
        ):
            message = f"spell [{start}, {end}] is not ordered within [{first}, {last}]"
            problems.append(Problem(name, None, f"{where}.member", message))
    return tuple(spells)


# --- the rule ----------------------------------------------------------------------------------


def commitment_level(row: Mapping[str, Any] | pd.Series) -> str:
    """Map one dyad-year's ATOP obligations to a commitment level (the rule of ``docs/atop.md``).

    The codebook's commitment is how far the members will fulfil obligations
    to each other against the external threat, so the level is that of the
    strongest duty in force: a duty to fight (defence or offence) is the
    codebook's mutual-assistance obligation, ``high``; neutrality is a formal,
    concrete duty about a war with a third state without a duty to fight,
    ``medium``; non-aggression and consultation oblige nothing against the
    threat, ``low``; no obligation at all is ``none``.

    Parameters
    ----------
    row
        The five :data:`OBLIGATIONS` as 0/1 (a row of :func:`load_atop` or
        any mapping with those keys); a pair-year without an ATOP alliance
        is all zeros.

    Returns
    -------
    str
        One of :data:`model.theory.tables.OUTCOME_LEVELS`.
    """
    if row["atop_defense"] or row["atop_offense"]:
        return "high"
    if row["atop_neutral"]:
        return "medium"
    if row["atop_nonagg"] or row["atop_consul"]:
        return "low"
    return "none"


def obligations_for(
    atop: pd.DataFrame,
    actors: Actors,
    periods: Iterable[str | pd.Period] | None = None,
    coverage: AtopCoverage | None = None,
) -> pd.DataFrame:
    """Map ATOP's obligations onto a case's dyads and periods: one level per covered dyad-period.

    ATOP's unit is the year, the model's the period; a year's level is given
    to each of its periods (every quarter of a quarterly case). A
    dyad-period is kept only where ATOP speaks (:meth:`AtopCoverage.covers`),
    and there a pair-year missing from ``atop`` is an explicit ``none``,
    because no alliance in force is itself an answer the model can be
    checked against.

    Parameters
    ----------
    atop
        Dyad-years as :func:`load_atop` returns them (``dyad``, ``year`` and
        the :data:`OBLIGATIONS` are read).
    actors
        The case: its partners give the dyads (every pair, named and
        ordered as the model's dyads), its frequency the periods.
    periods
        The case's period grid, as the posterior labels it (``"1879"``,
        ``"2017Q1"``) or as periods. ``None``: every period from the case's
        start to the end of ATOP's span, a superset of any grid the case
        can have; :func:`compare_commitment` keeps those the model has.
    coverage
        What ``atop`` covers; ``None`` reads the shipped ``coverage.toml``,
        which describes the shipped extract.

    Returns
    -------
    pandas.DataFrame
        Columns ``dyad``, ``period`` (its label), ``year``, the five
        :data:`OBLIGATIONS` (0 where no alliance was in force) and
        ``level`` (:func:`commitment_level`), one row per covered
        dyad-period, dyads in the model's order, then periods in order.
    """
    coverage = coverage if coverage is not None else load_coverage()
    freq = actors.pandas_freq
    if periods is None:
        first = pd.Period(actors.start, freq=freq)
        grid = pd.period_range(first, pd.Period(f"{coverage.last_year}-12-31", freq=freq))
    else:
        grid = pd.PeriodIndex(list(periods), freq=freq)
    by_key = {
        (dyad, int(year)): [int(v) for v in values]
        for dyad, year, *values in atop[["dyad", "year", *OBLIGATIONS]].itertuples(index=False)
    }
    none = [0] * len(OBLIGATIONS)
    records: list[list[Any]] = []
    for a, b in combinations(actors.partners, 2):
        dyad = dyad_name(a, b)
        for period in grid:
            if coverage.covers(dyad, period.year):
                found = by_key.get((dyad, period.year), none)
                records.append([dyad, str(period), period.year, *found])
    frame = pd.DataFrame(records, columns=["dyad", "period", "year", *OBLIGATIONS])
    frame = frame.astype(dict.fromkeys(["year", *OBLIGATIONS], "int64"))
    levels = [commitment_level(dict(zip(OBLIGATIONS, r[3:], strict=True))) for r in records]
    frame["level"] = pd.Series(levels, index=frame.index, dtype=frame["dyad"].dtype)
    return frame


# --- the comparison ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AtopComparison:
    """The model's commitment against ATOP's mapped level, over covered dyad-periods.

    Parameters
    ----------
    share_agreeing
        Share of covered dyad-periods whose modal commitment level is the
        mapped one (NaN when none is covered).
    n_covered
        Number of covered dyad-periods the model has probabilities for.
    spearman_rho
        Spearman rank correlation between the mapped level (0-3) and the
        model's posterior mean level; NaN when fewer than two dyad-periods
        are covered or either side does not vary (no order to compare).
    disagreements
        Every covered dyad-period whose modal level is not the mapped one:
        its keys, ``atop_level``, ``model_level`` (modal), ``mean_level``,
        the four probabilities and the obligations behind the mapped level.
    """

    share_agreeing: float
    n_covered: int
    spearman_rho: float
    disagreements: pd.DataFrame


def compare_commitment(mapped: pd.DataFrame, model_probs: pd.DataFrame) -> AtopComparison:
    """Compare ATOP's mapped commitment with the model's, dyad-period by dyad-period.

    A pure function of two tables, so that the comparison is the same
    whichever posterior reading (smoothed or implied) the caller passes, and
    can be tested on numbers worked by hand.

    Parameters
    ----------
    mapped
        :func:`obligations_for`'s table (``dyad``, ``year``, ``level``, and
        ``period`` where the case's periods are not years).
    model_probs
        The model's commitment: columns ``dyad`` (a dyad name), ``year`` and
        one probability per level of :data:`OUTCOME_LEVELS` (``none``,
        ``low``, ``medium``, ``high``), summing to one per row. With a
        ``period`` column as well, rows are matched by dyad and period (a
        quarterly case: one row per quarter); without one, by dyad and year.

    Returns
    -------
    AtopComparison
        Over the rows present in both tables (the covered dyad-periods of
        the model's grid): the share whose modal level (the most probable; a
        tie goes to the lower level, the cautious reading) is the mapped
        level, their number, Spearman's rho between the mapped level's rank
        and the posterior mean level (:func:`scipy.stats.spearmanr`, ties
        given average ranks), and the disagreements.

    Raises
    ------
    ValueError
        If a column is missing, a dyad is not named as the model names
        dyads, a level is unknown, a key repeats (or one year holds two
        mapped levels, when matching by year), or a row of probabilities is
        negative, not finite or does not sum to one.
    """
    keys = ["dyad", "period"] if {"period"} <= set(mapped) & set(model_probs) else ["dyad", "year"]
    _require(mapped, ["dyad", "year", "level", *keys], "mapped")
    _require(model_probs, ["dyad", "year", *keys, *_LEVEL_COLUMNS], "model_probs")
    unknown = sorted(set(mapped["level"]) - set(OUTCOME_LEVELS))
    if unknown:
        raise ValueError(f"mapped: unknown levels {unknown}; known: {list(OUTCOME_LEVELS)}")
    misnamed = sorted(
        {d for d in model_probs["dyad"] if len(p := str(d).split("-")) != 2 or dyad_name(*p) != d}
    )
    if misnamed:
        raise ValueError(f"model_probs: not dyad names (codes sorted, '-'): {misnamed}")
    if model_probs.duplicated(keys).any():
        raise ValueError(f"model_probs: repeated {'/'.join(keys)}")
    atop = mapped.drop_duplicates([*keys, "level"])
    if atop.duplicated(keys).any():
        raise ValueError(f"mapped: one {'/'.join(keys)} has two levels")
    probs = model_probs[_LEVEL_COLUMNS].to_numpy(dtype=float)
    wrong = ~np.isfinite(probs).all(axis=1) | (probs < 0).any(axis=1)
    wrong |= np.abs(probs.sum(axis=1) - 1.0) > _SUM_TOLERANCE
    if wrong.any():
        rows = model_probs.loc[wrong, keys].astype(str).agg(" ".join, axis=1).tolist()
        raise ValueError(f"model_probs: probabilities not a distribution at {rows}")

    model = model_probs[[*keys, *_LEVEL_COLUMNS]]
    both = atop.merge(model, on=keys, how="inner", validate="one_to_one")
    both = both.sort_values(keys, kind="stable").reset_index(drop=True)
    p = both[_LEVEL_COLUMNS].to_numpy(dtype=float)
    ranks = np.arange(len(OUTCOME_LEVELS), dtype=float)
    atop_rank = both["level"].map(OUTCOME_LEVELS.index).to_numpy(dtype=float)
    modal = np.argmax(p, axis=1)  # the first maximum: a tie goes to the lower level
    mean_level = p @ ranks
    agree = modal == atop_rank

    n = len(both)
    share = float(agree.mean()) if n else math.nan
    varies = n >= 2 and np.ptp(atop_rank) > 0 and np.ptp(mean_level) > 0
    rho = float(spearmanr(atop_rank, mean_level).statistic) if varies else math.nan

    both = both.rename(columns={"level": "atop_level"})
    both["model_level"] = [OUTCOME_LEVELS[i] for i in modal]
    both["mean_level"] = mean_level
    first = [*dict.fromkeys([*keys, "year"])]
    shown = [*first, "atop_level", "model_level", "mean_level", *_LEVEL_COLUMNS]
    shown += [c for c in OBLIGATIONS if c in both.columns]
    disagreements = both.loc[~agree, shown].reset_index(drop=True)
    return AtopComparison(share, n, rho, disagreements)


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` that ``frame`` lacks."""
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}")
