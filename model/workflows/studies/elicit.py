"""The analyst's own priors: plain statements about Table 2 and Table 3 become Dirichlets.

An analyst rarely thinks in Dirichlet concentrations; they think "when the
external threat is high and the internal low, a state balances between 60%
and 90% of the time, most likely 75%", or "I trust Weitsman's table a
little". :func:`elicit` turns such statements into a validated prior set:

* each statement about one share of a row (a Table 2 cell's strategy, a
  Table 3 alliance type's commitment or cohesion level) is the marginal
  ``Beta(a_k, A - a_k)`` of that row's ``Dirichlet(a)``; preliz fits that
  Beta by maximum entropy with the stated mass (90%) in the stated interval
  and, when given, the stated mode (:func:`fit_share`);
* a row's other shares keep the base set's proportions, scaled to what the
  stated shares leave, with the row's total concentration the geometric
  mean of the stated ones (a Dirichlet has one total per row);
* the trust statement (``a little``, ``fairly``, ``very``) sets the total
  concentration of every row no statement touches (:data:`TRUST`).

Statements that contradict each other (two about the same share, shares
whose lower bounds or most-likely values exceed 100% together) or that no
Beta marginal can meet (a mode outside its interval, an interval too narrow
or too wide for 90% of a Beta's mass) are refused with the cell named.
"""

from __future__ import annotations

import contextlib
import io
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.evidence.data import InputError, Problem
from model.evidence.priors import PriorSet, load_priors, parse_prior_tables, prior_set_toml
from model.theory.tables import ALLIANCE_TYPES, LEVELS, OUTCOME_LEVELS, STRATEGIES

#: Total concentration per row for each degree of trust in the theory's tables.
#: ``fairly`` is the shipped default's 20; ``a little`` lets a few conduct
#: codes overrule the table, ``very`` makes it nearly deterministic.
TRUST: dict[str, float] = {"a little": 5.0, "fairly": 20.0, "very": 100.0}

#: The prior mass a stated interval holds.
MASS = 0.9

#: How far the fitted Beta's mass in the interval may miss :data:`MASS`.
MASS_TOLERANCE = 0.03

_PCT = r"(\d+(?:\.\d+)?)\s*%"
_RANGE = rf"between\s+{_PCT}\s+and\s+{_PCT}(?:\s*,\s*most likely\s+{_PCT})?"
_TABLE2 = re.compile(
    rf"external\s+(\w+)\s*,\s*internal\s+(\w+)\s*:\s*(\w+)\s+{_RANGE}\s*$", re.IGNORECASE
)
_TABLE3 = re.compile(rf"(commitment|cohesion)\s+of\s+([\w-]+)\s*:\s*(\w+)\s+{_RANGE}\s*$", re.I)


@dataclass(frozen=True)
class Statement:
    """One belief about one share of a Dirichlet row.

    Attributes
    ----------
    table
        ``strategy_map``, ``commitment`` or ``cohesion``.
    row
        The row's index: ``(ext_level, int_level)`` for Table 2, the
        alliance type for Table 3.
    category
        The share the statement is about (a strategy, an outcome level).
    lower, upper
        The interval holding :data:`MASS` of the share's prior.
    mode
        The most likely value, if stated.
    text
        The statement as the analyst gave it.
    """

    table: str
    row: tuple[str, ...]
    category: str
    lower: float
    upper: float
    mode: float | None
    text: str

    @property
    def cell(self) -> str:
        """Name the row in the analyst's terms, for messages."""
        if self.table == "strategy_map":
            return f"Table 2, external {self.row[0]}, internal {self.row[1]}"
        return f"Table 3 {self.table}, {self.row[0]}"


@dataclass
class Elicited:
    """The prior set an elicitation wrote, with what each statement became.

    Attributes
    ----------
    priors
        The validated prior set.
    path
        Where it was written.
    fitted
        One row per statement: the cell, the share, the fitted Beta's
        parameters and its mass in the stated interval.
    """

    priors: PriorSet
    path: Path
    fitted: list[dict[str, Any]] = field(default_factory=list)


def _problem(where: str, message: str) -> InputError:
    return InputError([Problem("statements", None, where, message)])


def parse_statement(text: str) -> Statement:
    """Read a plain statement about a Table 2 or Table 3 share.

    Two forms are understood, percentages throughout::

        external high, internal low: balancing between 60% and 90%, most likely 75%
        commitment of balancing-balancing: high between 50% and 90%

    Raises
    ------
    model.evidence.data.InputError
        If the statement has neither form or names an unknown level,
        strategy, alliance type or outcome level.
    """
    text = " ".join(text.split())
    if m := _TABLE2.match(text):
        ext, internal, strategy, lo, hi, mode = m.groups()
        table, row, category = "strategy_map", (ext.lower(), internal.lower()), strategy.lower()
        for name, value, allowed in (
            ("external level", row[0], LEVELS),
            ("internal level", row[1], LEVELS),
            ("strategy", category, STRATEGIES),
        ):
            if value not in allowed:
                raise _problem(text, f"unknown {name} {value!r} (one of {', '.join(allowed)})")
    elif m := _TABLE3.match(text):
        outcome, kind, level, lo, hi, mode = m.groups()
        table, row, category = outcome.lower(), (kind.lower(),), level.lower()
        if row[0] not in ALLIANCE_TYPES:
            raise _problem(text, f"unknown alliance type {row[0]!r} (e.g. balancing-hedging)")
        if category not in OUTCOME_LEVELS:
            raise _problem(text, f"unknown level {category!r} (one of {', '.join(OUTCOME_LEVELS)})")
    else:
        raise _problem(
            text,
            "not understood; write 'external high, internal low: balancing between 60% and "
            "90%, most likely 75%' or 'commitment of balancing-balancing: high between 50% "
            "and 90%'",
        )
    return Statement(
        table,
        row,
        category,
        float(lo) / 100,
        float(hi) / 100,
        None if mode is None else float(mode) / 100,
        text,
    )


def fit_share(statement: Statement) -> tuple[float, float, float]:
    """Fit the Beta marginal of one share by maximum entropy (preliz), and check it.

    Returns
    -------
    tuple of float
        ``alpha``, ``beta`` and the fitted Beta's mass in the stated interval.

    Raises
    ------
    model.evidence.data.InputError
        Naming the cell, if the interval is empty or outside (0, 1), the mode
        lies outside it, or no Beta puts :data:`MASS` in it (with that mode).
    """
    import preliz as pz

    s = statement
    where = f"{s.cell}: {s.category}"
    if not 0 < s.lower < s.upper < 1:
        raise _problem(where, f"need 0% < lower < upper < 100%, got {s.lower:.0%}-{s.upper:.0%}")
    if s.mode is not None and not s.lower <= s.mode <= s.upper:
        raise _problem(where, f"most likely {s.mode:.0%} lies outside {s.lower:.0%}-{s.upper:.0%}")
    beta = pz.Beta()
    fixed = ("mode", s.mode) if s.mode is not None else None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # preliz prints mass mismatches
            pz.maxent(beta, s.lower, s.upper, MASS, fixed_stat=fixed, plot=False)
    except Exception as err:  # preliz raises several kinds; each means "cannot fit"
        raise _problem(where, f"no Beta fits {s.text!r}: {err}") from err
    mass = float(beta.cdf(s.upper) - beta.cdf(s.lower))
    if not np.isfinite(mass) or abs(mass - MASS) > MASS_TOLERANCE:
        raise _problem(
            where,
            f"no Dirichlet meets {s.text!r}: the closest Beta marginal puts {mass:.0%} "
            f"(not {MASS:.0%}) in {s.lower:.0%}-{s.upper:.0%}; widen, narrow or move the "
            "interval or the most likely value",
        )
    return float(beta.alpha), float(beta.beta), mass


def _row_index(statement: Statement) -> tuple[int, ...]:
    if statement.table == "strategy_map":
        return (LEVELS.index(statement.row[0]), LEVELS.index(statement.row[1]))
    return (ALLIANCE_TYPES.index(statement.row[0]),)


def _categories(table: str) -> tuple[str, ...]:
    return STRATEGIES if table == "strategy_map" else OUTCOME_LEVELS


def _check_row(group: list[Statement]) -> None:
    """Refuse a row's statements that contradict each other, naming the cell."""
    cell = group[0].cell
    seen: set[str] = set()
    for s in group:
        if s.category in seen:
            raise _problem(cell, f"two statements about {s.category}: keep one")
        seen.add(s.category)
    low = sum(s.lower for s in group)
    if low >= 1:
        raise _problem(
            cell, f"the stated lower bounds add up to {low:.0%}: shares cannot exceed 100%"
        )
    modes = sum(s.mode for s in group if s.mode is not None)
    if modes > 1:
        raise _problem(cell, f"the most likely values add up to {modes:.0%}, more than 100%")
    if len(group) == len(_categories(group[0].table)):
        high = sum(s.upper for s in group)
        if high <= 1:
            raise _problem(cell, f"every share is stated and the upper bounds add to {high:.0%}")


def fit_row(base: np.ndarray, group: list[Statement]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Dirichlet concentrations of one row from its statements and the base row's proportions.

    Each stated share's mean ``alpha / (alpha + beta)`` is kept; the row's
    total is the geometric mean of the stated Betas' totals; unstated shares
    split what is left in the base row's proportions.
    """
    _check_row(group)
    cats = _categories(group[0].table)
    fits = {s.category: (s, *fit_share(s)) for s in group}
    totals = [a + b for _, a, b, _ in fits.values()]
    total = float(np.exp(np.mean(np.log(totals))))
    shares = {c: a / (a + b) for c, (_, a, b, _) in fits.items()}
    left = 1.0 - sum(shares.values())
    if left <= 0:
        raise _problem(group[0].cell, "the stated shares leave nothing for the other categories")
    rest = [i for i, c in enumerate(cats) if c not in shares]
    base_rest = base[rest].sum() if rest else 0.0
    row = np.empty(len(cats))
    for i, c in enumerate(cats):
        if c in shares:
            row[i] = shares[c]
        else:
            row[i] = left * (base[i] / base_rest if base_rest > 0 else 1 / len(rest))
    if not rest:
        row = row / row.sum()
    fitted = [
        {
            "cell": s.cell,
            "share": c,
            "beta_alpha": a,
            "beta_beta": b,
            "mass": mass,
            "statement": s.text,
        }
        for c, (s, a, b, mass) in fits.items()
    ]
    return row * total, fitted


def read_statements(path: Path) -> dict[str, Any]:
    """Read a statements file: ``trust``, ``statements`` (plain text), optional ``name``, ``base``.

    Raises
    ------
    model.evidence.data.InputError
        If the file cannot be read as TOML or has other keys.
    """
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read TOML: {err}")]) from err
    unknown = set(raw) - {"name", "trust", "statements", "description"}
    if unknown:
        raise InputError(
            [Problem(str(path), None, k, "unknown key (name, trust, statements)") for k in unknown]
        )
    return raw


def elicit(
    statements: Sequence[str],
    trust: str,
    base: PriorSet,
    out: Path,
    *,
    name: str | None = None,
) -> Elicited:
    """Fit a prior set to the analyst's statements and write it as ``out`` (TOML).

    Parameters
    ----------
    statements
        Plain statements (:func:`parse_statement`).
    trust
        ``a little``, ``fairly`` or ``very``: the total concentration
        (:data:`TRUST`) of every Table 2 and Table 3 row no statement names.
    base
        The prior set whose other groups, and whose proportions within the
        rows, the new set keeps (the default set, usually).
    out
        The TOML file to write.
    name
        The set's name (default: the file's stem).

    Returns
    -------
    Elicited
        The validated set, its path and each statement's fitted Beta.

    Raises
    ------
    model.evidence.data.InputError
        If a statement is not understood, contradicts another, or no
        Dirichlet can meet it (the message names the cell); nothing is
        written then.
    """
    if trust not in TRUST:
        raise _problem("trust", f"{trust!r}: say one of {', '.join(TRUST)}")
    parsed = [parse_statement(s) for s in statements]
    tables: dict[str, Any] = {}
    fitted: list[dict[str, Any]] = []
    for group_name in ("strategy_map", "commitment", "cohesion"):
        table = dict(base.tables[group_name])
        a = np.asarray(table["kwargs"]["a"], dtype=float)
        if a.ndim != (3 if group_name == "strategy_map" else 2):
            raise _problem(group_name, f"the base set's {group_name} has another shape")
        new = a / a.sum(axis=-1, keepdims=True) * TRUST[trust]
        rows: dict[tuple[int, ...], list[Statement]] = {}
        for s in parsed:
            if s.table == group_name:
                rows.setdefault(_row_index(s), []).append(s)
        for idx, group in rows.items():
            new[idx], found = fit_row(a[idx], group)
            fitted += found
        table["kwargs"] = {**table["kwargs"], "a": np.round(new, 4).tolist()}
        tables[group_name] = table
    name = name or out.stem
    description = (
        f"Elicited from the analyst's statements (trust in the theory's tables: {trust}); "
        f"other groups as in {base.name}."
    )
    merged = {**base.tables, **tables}
    priors = parse_prior_tables(merged, source=str(out), name=name, description=description)
    out.parent.mkdir(parents=True, exist_ok=True)
    heading = "Elicited prior set. The analyst's statements:"
    lines = [f"trust: {trust}", *statements]
    out.write_text(prior_set_toml(priors, heading, lines), encoding="utf-8")
    written = load_priors(out)
    if written.sha256 != priors.sha256:
        raise _problem(str(out), "the written prior set does not read back as fitted")
    return Elicited(priors=written, path=out, fitted=fitted)


def elicit_priors(
    source: Path | Mapping[str, Any],
    base: Path,
    out_dir: Path,
    *,
    name: str | None = None,
    overwrite: bool = False,
) -> Elicited:
    """Fit and write an analyst's prior set: ``axis elicit``.

    Parameters
    ----------
    source
        A statements file (TOML: ``trust``, ``statements``, optional
        ``name``) or the same keys gathered at prompts.
    base
        The prior set to start from (its other groups, its proportions).
    out_dir
        Folder receiving ``<name>.toml`` (``priors/``, where ``axis
        sensitivity`` fits every set).
    name
        The set's name; else the file's ``name`` key, else its stem.
    overwrite
        Replace an existing file of that name; otherwise it is refused, so
        that the shipped sets are never overwritten by accident.

    Returns
    -------
    Elicited
        The validated prior set, where it was written, and what each
        statement became (the fitted share and its mass in the stated range).

    Raises
    ------
    model.evidence.data.InputError
        As :func:`elicit`, or if the file exists and ``overwrite`` is false.
    """
    raw = dict(source) if isinstance(source, Mapping) else read_statements(source)
    fallback = None if isinstance(source, Mapping) else Path(source).stem
    name = name or raw.get("name") or fallback
    if not name or not re.fullmatch(r"[\w.-]+", str(name)):
        raise _problem("name", f"{name!r}: give the prior set a name of letters, digits, _ . -")
    out = out_dir / f"{name}.toml"
    if out.exists() and not overwrite:
        raise _problem(str(out), "exists; choose another --name or pass --force")
    return elicit(
        [str(s) for s in raw.get("statements", [])],
        str(raw.get("trust", "fairly")),
        load_priors(base),
        out,
        name=str(name),
    )
