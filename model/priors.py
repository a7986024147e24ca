"""Prior sets: TOML tables in ``pymc_extras.prior.Prior.to_dict()`` shape.

Priors are data. A prior set names every group the model needs; loading
checks that nothing is missing, nothing unknown is present, every table
deserialises into a :class:`~pymc_extras.prior.Prior`, and every array has
the shape the theory fixes. All problems are reported at once.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymc_extras.prior import Prior

from model.data import InputError, Problem
from model.theory import ALLIANCE_TYPES, LEVELS, OUTCOME_LEVELS, STRATEGIES

#: Each prior group the model uses, with the dims its table must declare.
#: ``None`` means a scalar.
GROUPS: dict[str, tuple[str, ...] | None] = {
    "strategy_map": ("ext_level", "int_level", "strategy"),
    "commitment": ("alliance_type", "outcome_level"),
    "cohesion": ("alliance_type", "outcome_level"),
    "threat_init": ("series",),
    "threat_drift": ("series",),
    "threat_innovation": ("series", "step"),
    "level_sharpness": None,
    "discrimination": ("indicator",),
    "threshold_shift": ("indicator",),
    "conduct_error": None,
    "outcome_error": None,
}

#: Which prior groups belong to which part of the model (for sensitivity).
GROUP_FAMILIES: dict[str, tuple[str, ...]] = {
    "strategy mapping (Table 2)": ("strategy_map",),
    "commitment/cohesion (Table 3)": ("commitment", "cohesion"),
    "threat dynamics": ("threat_init", "threat_drift", "threat_innovation"),
    "measurement": (
        "level_sharpness",
        "discrimination",
        "threshold_shift",
        "conduct_error",
        "outcome_error",
    ),
}

#: Alternative dims a group may declare. A ``strategy_map`` without
#: ``int_level`` is a theory in which strategy depends on the external threat
#: only (Walt's balance of threat): the builder uses one row for every
#: internal level.
ALTERNATIVE_DIMS: dict[str, tuple[str, ...]] = {"strategy_map": ("ext_level", "strategy")}

_DIRICHLET_SHAPES: dict[str, tuple[int, ...]] = {
    "strategy_map": (len(LEVELS), len(LEVELS), len(STRATEGIES)),
    "commitment": (len(ALLIANCE_TYPES), len(OUTCOME_LEVELS)),
    "cohesion": (len(ALLIANCE_TYPES), len(OUTCOME_LEVELS)),
}

_TABLE_KEYS = {"dist", "kwargs", "dims", "centered", "transform"}


@dataclass(frozen=True)
class PriorSet:
    """A validated prior set.

    Attributes
    ----------
    name
        Short name, by default the file stem.
    priors
        One :class:`Prior` per group of :data:`GROUPS`.
    tables
        The raw tables, kept for hashing and for writing modified sets.
    description
        The set's own account of what it encodes.
    """

    name: str
    priors: Mapping[str, Prior]
    tables: Mapping[str, Any]
    description: str = ""

    def __getitem__(self, group: str) -> Prior:
        return self.priors[group]

    @property
    def sha256(self) -> str:
        """Hash of the canonical content, so comments and layout do not change it."""
        blob = json.dumps(self.tables, sort_keys=True, default=_jsonable).encode()
        return hashlib.sha256(blob).hexdigest()

    def with_tables(self, name: str, **tables: Mapping[str, Any]) -> PriorSet:
        """Return a new validated set with some tables replaced."""
        merged = {**self.tables, **{k: dict(v) for k, v in tables.items()}}
        return parse_prior_tables(merged, source=name, name=name, description=self.description)

    def scaled_concentration(self, group: str, total: float) -> PriorSet:
        """Rescale a Dirichlet table so each row's concentration sums to ``total``.

        The mean shares (what the theory says) stay; only the trust in them
        changes. This is the knob the concentration sweep turns.
        """
        table = dict(self.tables[group])
        a = np.asarray(table["kwargs"]["a"], dtype=float)
        scaled = a / a.sum(axis=-1, keepdims=True) * total
        table["kwargs"] = {**table["kwargs"], "a": scaled.tolist()}
        return self.with_tables(f"{self.name}@{group}={total:g}", **{group: table})


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _dirichlet_shape(group: str, dims: tuple[str, ...] | None) -> tuple[int, ...]:
    shape = _DIRICHLET_SHAPES[group]
    if group == "strategy_map" and dims == ALTERNATIVE_DIMS["strategy_map"]:
        return (shape[0], shape[2])
    return shape


def _check_table(group: str, table: Any, source: str) -> tuple[Prior | None, list[Problem]]:
    """Validate one table and build its Prior; return every problem found."""
    problems: list[Problem] = []
    if not isinstance(table, Mapping):
        return None, [Problem(source, None, group, "must be a table {dist, kwargs, dims}")]
    for key in sorted(set(table) - _TABLE_KEYS):
        problems.append(
            Problem(source, None, f"{group}.{key}", f"unknown key (allowed: {sorted(_TABLE_KEYS)})")
        )
    if "dist" not in table:
        problems.append(Problem(source, None, f"{group}.dist", "missing"))
    expected = GROUPS[group]
    dims = tuple(table.get("dims", ())) or None
    if dims is not None and dims == ALTERNATIVE_DIMS.get(group):
        expected = dims
    if dims != expected:
        problems.append(
            Problem(
                source,
                None,
                f"{group}.dims",
                f"must be {list(expected or [])}, got {list(dims or [])}",
            )
        )
    if group in _DIRICHLET_SHAPES and "dist" in table:
        try:
            a = np.asarray(table.get("kwargs", {}).get("a", []), dtype=float)
        except (ValueError, TypeError):
            a = np.empty((0,))  # ragged or non-numeric: reported as a shape problem
        if table["dist"] != "Dirichlet":
            problems.append(Problem(source, None, f"{group}.dist", "must be Dirichlet"))
        elif a.shape != _dirichlet_shape(group, expected):
            problems.append(
                Problem(
                    source,
                    None,
                    f"{group}.kwargs.a",
                    f"shape {a.shape}, expected {_dirichlet_shape(group, expected)}",
                )
            )
        elif not np.all(a > 0):
            problems.append(
                Problem(source, None, f"{group}.kwargs.a", "concentrations must be > 0")
            )
    if problems:
        return None, problems
    try:
        prior = Prior.from_dict(dict(table))
    except Exception as err:  # pymc_extras raises several types for bad tables
        problems.append(Problem(source, None, group, f"not a valid Prior: {err}"))
        return None, problems
    return prior, problems


def parse_prior_tables(
    tables: Mapping[str, Any], *, source: str, name: str, description: str = ""
) -> PriorSet:
    """Validate a mapping of prior tables and build a :class:`PriorSet`."""
    problems: list[Problem] = []
    for key in sorted(set(tables) - set(GROUPS)):
        problems.append(
            Problem(source, None, key, f"unknown prior group (known: {sorted(GROUPS)})")
        )
    for key in GROUPS:
        if key not in tables:
            problems.append(Problem(source, None, key, "missing prior group"))
    priors: dict[str, Prior] = {}
    for key in GROUPS:
        if key in tables:
            prior, found = _check_table(key, tables[key], source)
            problems += found
            if prior is not None:
                priors[key] = prior
    if problems:
        raise InputError(problems)
    clean = {k: tables[k] for k in GROUPS}
    return PriorSet(name=name, priors=priors, tables=clean, description=description)


def load_priors(path: str | Path) -> PriorSet:
    """Read and validate a prior-set TOML file.

    A top-level ``description`` string is allowed; every other top-level key
    must be a prior group.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read TOML: {err}")]) from err
    description = raw.pop("description", "")
    return parse_prior_tables(raw, source=str(path), name=path.stem, description=str(description))
