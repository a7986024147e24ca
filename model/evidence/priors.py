"""Prior sets: TOML tables in ``pymc_extras.prior.Prior.to_dict()`` shape.

Priors are data. A prior set names every group the model needs; loading
checks that nothing is missing, nothing unknown is present, every table
deserialises into a :class:`~pymc_extras.prior.Prior`, every value (nested
prior tables included) is finite and, where the distribution needs it,
positive, and every array has the shape the theory fixes. All problems are
reported at once, so that a bad prior never reaches the sampler.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymc_extras.prior import Prior

from model.evidence.data import InputError, Problem
from model.theory.tables import (
    ALLIANCE_TYPES,
    LEVELS,
    OUTCOME_LEVELS,
    STRATEGIES,
    THREAT_INDICATORS,
)

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
    "coder_shift": ("coder",),
    "coder_discrimination": ("coder",),
}

#: Groups a prior file may leave out, with the table used then. They matter only
#: when a case's threat codes come from several coders: each coder's thresholds
#: move by ``coder_shift`` and their discrimination is multiplied by
#: ``exp(coder_discrimination)``, both pooled across coders (as V-Dem's
#: measurement model treats its coders), so a second coder's reading is weighed
#: by how well it agrees with the others rather than taken as the truth.
OPTIONAL_GROUPS: dict[str, dict[str, Any]] = {
    "coder_shift": {
        "dist": "Normal",
        "dims": ["coder"],
        "centered": False,
        "kwargs": {"mu": 0.0, "sigma": {"dist": "Gamma", "kwargs": {"mu": 0.2, "sigma": 0.1}}},
    },
    "coder_discrimination": {
        "dist": "Normal",
        "dims": ["coder"],
        "centered": False,
        "kwargs": {"mu": 0.0, "sigma": {"dist": "Gamma", "kwargs": {"mu": 0.1, "sigma": 0.05}}},
    },
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

#: Lengths of the dims the theory fixes; the others (``series``, ``step``) depend on
#: the case and its period grid, and are checked by :func:`check_case_shapes`.
THEORY_SIZES: dict[str, int] = {
    "ext_level": len(LEVELS),
    "int_level": len(LEVELS),
    "strategy": len(STRATEGIES),
    "alliance_type": len(ALLIANCE_TYPES),
    "outcome_level": len(OUTCOME_LEVELS),
    "indicator": len(THREAT_INDICATORS),
}

#: Parameters that must be > 0, per distribution: scales, rates, shapes, concentrations,
#: and the mean of a distribution on the positive reals. PyMC accepts a negative scale
#: and fails only while sampling, or samples nonsense; the prior file is the place to say so.
POSITIVE: dict[str, frozenset[str]] = {
    name: frozenset(params)
    for name, params in {
        "Normal": ("sigma", "tau"),
        "HalfNormal": ("sigma", "tau"),
        "TruncatedNormal": ("sigma", "tau"),
        "LogNormal": ("sigma", "tau"),
        "LogitNormal": ("sigma", "tau"),
        "SkewNormal": ("sigma", "tau"),
        "StudentT": ("nu", "sigma", "lam"),
        "HalfStudentT": ("nu", "sigma", "lam"),
        "SkewStudentT": ("a", "b", "sigma"),
        "Cauchy": ("beta",),
        "HalfCauchy": ("beta",),
        "Laplace": ("b",),
        "AsymmetricLaplace": ("b", "kappa"),
        "Logistic": ("s",),
        "Gumbel": ("beta",),
        "Moyal": ("sigma",),
        "ExGaussian": ("sigma", "nu"),
        "Exponential": ("lam", "scale"),
        "Gamma": ("alpha", "beta", "mu", "sigma"),
        "InverseGamma": ("alpha", "beta", "mu", "sigma"),
        "Weibull": ("alpha", "beta"),
        "ChiSquared": ("nu",),
        "Pareto": ("alpha", "m"),
        "Wald": ("mu", "lam", "phi"),
        "Kumaraswamy": ("a", "b"),
        "Beta": ("alpha", "beta", "sigma", "nu"),
        "Dirichlet": ("a",),
        "VonMises": ("kappa",),
        "Rice": ("sigma",),
        "Poisson": ("mu",),
        "NegativeBinomial": ("mu", "alpha", "n"),
    }.items()
}

#: Scale-like parameter names, positive in every PyMC distribution that has them: the
#: rule for a distribution :data:`POSITIVE` does not list.
POSITIVE_ANY: frozenset[str] = frozenset({"sigma", "tau", "lam", "nu", "kappa"})

#: Parameters that must lie strictly between 0 and 1.
UNIT_INTERVAL: dict[str, frozenset[str]] = {"Beta": frozenset({"mu"})}


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
    source
        The file it was read from (or its name if built in memory), for error messages.
    """

    name: str
    priors: Mapping[str, Prior]
    tables: Mapping[str, Any]
    description: str = ""
    source: str = ""

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


def _dims_text(dims: tuple[str, ...], sizes: Mapping[str, int]) -> str:
    return ", ".join(f"{d}={sizes.get(d, '?')}" for d in dims)


def _check_value(
    dist: str,
    param: str,
    value: Any,
    dims: tuple[str, ...],
    sizes: Mapping[str, int],
    where: str,
    source: str,
) -> list[Problem]:
    """Problems of one numeric kwarg: its type, finiteness, sign and shape.

    The shape must broadcast (numpy rules, aligned on the right) to the
    table's dims; a dim whose length is not in ``sizes`` matches any length.
    """

    def problem(message: str) -> list[Problem]:
        return [Problem(source, None, where, message)]

    def numeric(x: Any) -> bool:
        if isinstance(x, list):
            return all(numeric(v) for v in x)
        return isinstance(x, int | float) and not isinstance(x, bool)

    if not numeric(value):
        return problem(f"must be a number, a list of numbers or a prior table, got {value!r}")
    try:
        array = np.asarray(value, dtype=float)
    except ValueError:
        return problem("the nested lists are ragged: every row needs the same length")
    if not np.all(np.isfinite(array)):
        return problem(f"must be finite, got {value!r}")
    if param in POSITIVE.get(dist, POSITIVE_ANY) and not np.all(array > 0):
        return problem(f"{dist} {param} must be > 0, got {array.min():g}")
    if param in UNIT_INTERVAL.get(dist, ()) and not np.all((array > 0) & (array < 1)):
        return problem(f"{dist} {param} must be between 0 and 1 (exclusive)")
    if not dims and array.ndim:
        return problem(f"must be a single number (no dims), got shape {array.shape}")
    if array.ndim > len(dims):
        return problem(f"shape {array.shape} has more axes than dims ({_dims_text(dims, sizes)})")
    for axis, dim in zip(array.shape[::-1], dims[::-1], strict=False):
        if dim in sizes and axis not in (1, sizes[dim]):
            return problem(
                f"shape {array.shape} does not broadcast to dims ({_dims_text(dims, sizes)})"
            )
    return []


def _check_kwargs(
    table: Mapping[str, Any],
    dims: tuple[str, ...],
    sizes: Mapping[str, int],
    where: str,
    source: str,
) -> list[Problem]:
    """Problems of every kwarg of a prior table, nested prior tables included (recursively).

    A nested table (a hierarchical prior's parameter, such as a pooling
    scale) may declare dims, which must be among its parent's; its own
    kwargs are checked against its own dims.
    """
    dist = table.get("dist")
    kwargs = table.get("kwargs", {})
    if not isinstance(kwargs, Mapping):
        return [Problem(source, None, f"{where}.kwargs", "must be a table of parameters")]
    problems: list[Problem] = []
    for key, expect, what in (
        ("centered", bool, "true or false"),
        ("transform", str, 'the name of a function, such as "exp"'),
    ):
        if key in table and not isinstance(table[key], expect):
            problems.append(Problem(source, None, f"{where}.{key}", f"must be {what}"))
    for param, value in kwargs.items():
        field = f"{where}.kwargs.{param}"
        if not isinstance(value, Mapping):
            problems += _check_value(str(dist), param, value, dims, sizes, field, source)
            continue
        for key in sorted(set(value) - _TABLE_KEYS):
            problems.append(Problem(source, None, f"{field}.{key}", "unknown key"))
        if not isinstance(value.get("dist"), str):
            problems.append(Problem(source, None, f"{field}.dist", "a nested prior needs a dist"))
            continue
        inner = value.get("dims", [])
        inner = [inner] if isinstance(inner, str) else inner
        if not isinstance(inner, list) or not all(isinstance(d, str) for d in inner):
            problems.append(Problem(source, None, f"{field}.dims", "must be a list of dim names"))
            continue
        inner = tuple(inner)
        if not set(inner) <= set(dims):
            problems.append(
                Problem(
                    source,
                    None,
                    f"{field}.dims",
                    f"{list(inner)} must be among the parent's dims {list(dims)}",
                )
            )
            continue
        problems += _check_kwargs(value, inner, sizes, field, source)
    if dist in ("Uniform", "TruncatedNormal") and not problems:
        low, high = kwargs.get("lower"), kwargs.get("upper")
        if not isinstance(low, Mapping | None) and not isinstance(high, Mapping | None):
            try:
                below = bool(np.all(np.asarray(low, dtype=float) < np.asarray(high, dtype=float)))
            except ValueError:  # shapes that broadcast to the dims but not to each other
                below = False
            if not below:
                problems.append(
                    Problem(source, None, f"{where}.kwargs.lower", "must be below upper")
                )
    return problems


def _check_table(
    group: str, table: Any, source: str, sizes: Mapping[str, int] = THEORY_SIZES
) -> tuple[Prior | None, list[Problem]]:
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
    elif not isinstance(table["dist"], str):
        problems.append(Problem(source, None, f"{group}.dist", "must be a distribution name"))
    expected = GROUPS[group]
    raw = table.get("dims", [])
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
        problems.append(Problem(source, None, f"{group}.dims", "must be a list of dim names"))
        raw = list(expected or [])
    dims = tuple(raw) or None
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
    # the kwargs are checked against the dims the group must have, whatever it declares
    problems += _check_kwargs(table, expected or (), sizes, group, source)
    if group in _DIRICHLET_SHAPES and not problems:
        try:
            a = np.asarray(table.get("kwargs", {}).get("a", []), dtype=float)
        except (ValueError, TypeError):
            a = np.empty((0,))  # a nested prior table: reported as a shape problem
        if table["dist"] != "Dirichlet":
            problems.append(Problem(source, None, f"{group}.dist", "must be Dirichlet"))
        elif a.shape != _dirichlet_shape(group, expected):  # the simplex axis cannot broadcast
            problems.append(
                Problem(
                    source,
                    None,
                    f"{group}.kwargs.a",
                    f"shape {a.shape}, expected {_dirichlet_shape(group, expected)}",
                )
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
    tables = {**OPTIONAL_GROUPS, **tables}
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
    return PriorSet(name=name, priors=priors, tables=clean, description=description, source=source)


def check_case_shapes(priors: PriorSet, sizes: Mapping[str, int]) -> None:
    """Raise :class:`InputError` unless every parameter array broadcasts to the case's dims.

    Loading checks the dims the theory fixes (:data:`THEORY_SIZES`); the
    length of ``series`` (and ``step``) comes with the case and its period
    grid, so a per-series vector written for a three-partner case is caught
    here, before sampling, rather than as a shape error inside PyMC.
    ``sizes`` maps dim names to lengths (``evidence.coords``' lengths, or
    just ``series`` when the period grid is not built yet).
    """
    known = {**THEORY_SIZES, **sizes}
    problems: list[Problem] = []
    for group, table in priors.tables.items():
        dims = GROUPS[group]
        declared = tuple(table.get("dims", ())) if isinstance(table, Mapping) else ()
        if declared == ALTERNATIVE_DIMS.get(group):
            dims = declared
        problems += _check_kwargs(table, dims or (), known, group, priors.source or priors.name)
    if problems:
        raise InputError(problems)


def load_priors(path: str | Path) -> PriorSet:
    """Read and validate a prior-set TOML file.

    A top-level ``description`` string is allowed; every other top-level key
    must be a prior group.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # -sig: Notepad's byte-order mark
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read TOML: {err}")]) from err
    description = raw.pop("description", "")
    return parse_prior_tables(raw, source=str(path), name=path.stem, description=str(description))


def _toml_value(value: Any) -> str:
    """Render a value as inline TOML (numbers, strings, booleans, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.floating | np.integer):
        return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence | np.ndarray):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def prior_set_toml(priors: PriorSet, heading: str, notes: Sequence[str]) -> str:
    """Write a prior set as TOML, with where it came from in a comment block at the top.

    Parameters
    ----------
    priors
        The set (its tables are written as :func:`load_priors` reads them).
    heading
        The first comment line: what made the set.
    notes
        One comment line each under the heading (an analyst's statements,
        or a fit's provenance).
    """
    lines = [f"# {heading}", "#"]
    lines += [f"#   {s}" for s in notes] or ["#   (none)"]
    lines += ["#", f"description = {json.dumps(priors.description)}", ""]
    for group, table in priors.tables.items():
        lines.append(f"[{group}]")
        for key, value in table.items():
            if key == "kwargs" and isinstance(value, Mapping):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        if isinstance(table.get("kwargs"), Mapping):
            lines.append(f"[{group}.kwargs]")
            for key, value in table["kwargs"].items():
                lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
