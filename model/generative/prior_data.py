"""A prior set's numbers as inputs of the model, not constants of its compiled program.

Prior sets, the Table 2 sweep and rival theories differ only in numbers:
concentrations, locations, scales. The graph reads every such number from a
``pm.Data`` container (named ``<group>__<parameter>``, nested hyperpriors as
``<group>__<parameter>__<parameter>``), so one compiled program serves every
prior set of one *structure* (the same families, dimensions and shapes), and
:func:`set_priors` moves a built model from one set to another.

What is structure and what is a number: a group's ``dist``, ``dims``,
``centered`` and ``transform`` and every parameter's shape are structure;
the parameter values are numbers, except the threat innovations', which the
bridged random walk's coordinates assume (:mod:`model.generative.reparam`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pymc as pm
from pymc_extras.prior import Prior

from model.evidence.priors import PriorSet

__all__ = ["LivePriors", "prior_numbers", "prior_structure", "set_priors"]

#: Separator between a group, its parameters and their hyperparameters in a container's name.
SEP = "__"

#: Groups whose numbers the model's coordinates assume, so they count as structure.
FIXED_GROUPS: frozenset[str] = frozenset({"threat_innovation"})


def _is_number(value: Any) -> bool:
    """Whether a table entry is a number or a (nested) list of numbers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, list | tuple) and value:
        return all(_is_number(v) for v in value)
    return False


def _map_numbers(
    table: Mapping[str, Any], prefix: str, number: Callable[[str, np.ndarray], Any]
) -> dict[str, Any]:
    """Copy a prior table with each number (hyperpriors' too) replaced by ``number(name, value)``.

    The one walk over a table's numbers: it makes the containers the graph
    reads (``pm.Data``, :class:`LivePriors`) and lists their values
    (:func:`prior_numbers`) alike, so the two cannot disagree on a name.
    """
    kwargs = {}
    for key, value in table.get("kwargs", {}).items():
        name = f"{prefix}{SEP}{key}"
        if isinstance(value, Mapping):
            kwargs[key] = _map_numbers(value, name, number)
        elif _is_number(value):
            kwargs[key] = number(name, np.asarray(value, dtype=float))
        else:
            kwargs[key] = value
    return {**table, "kwargs": kwargs}


def prior_numbers(priors: PriorSet) -> dict[str, np.ndarray]:
    """Every number a model reads from ``priors``, under its container's name."""
    found: dict[str, np.ndarray] = {}
    for group, table in priors.tables.items():
        if group not in FIXED_GROUPS:
            _map_numbers(table, group, found.setdefault)
    return found


def _skeleton(table: Any, numbers: bool = False) -> Any:
    """Return a table, hashable, with every number replaced by its shape unless ``numbers``."""
    if isinstance(table, Mapping):
        return tuple(sorted((k, _skeleton(v, numbers)) for k, v in table.items()))
    if _is_number(table):
        return ("number", np.shape(table)) if not numbers else ("number", str(table))
    if isinstance(table, list | tuple):
        return tuple(_skeleton(v, numbers) for v in table)
    return table


def prior_structure(priors: PriorSet) -> tuple[Any, ...]:
    """Describe, hashably, what a prior set's model compiles: all but its numbers."""
    return tuple(
        (group, _skeleton(table, numbers=group in FIXED_GROUPS))
        for group, table in sorted(priors.tables.items())
    )


class _Tables(Mapping[str, Any]):
    """The tables of a :class:`LivePriors`, their numbers made containers on first read."""

    def __init__(self, live: LivePriors):
        self._live = live

    def __getitem__(self, group: str) -> Any:
        return self._live.table(group)

    def __iter__(self) -> Iterator[str]:
        return iter(self._live.source.tables)

    def __len__(self) -> int:
        return len(self._live.source.tables)


class LivePriors:
    """A prior set as the graph reads it: its numbers ``pm.Data`` of the model being built.

    It answers ``priors[group]`` and ``priors.tables[group]`` as a
    :class:`~model.evidence.priors.PriorSet` does. A group's containers are
    created in the model in context when the graph first reads the group
    there, so a group the model never uses adds nothing, and a case's own
    groups in a joint model live in the case's submodel.
    """

    def __init__(self, source: PriorSet):
        self.source = source
        self.name = source.name
        self._made: dict[tuple[int, str], dict[str, Any]] = {}

    @property
    def tables(self) -> Mapping[str, Any]:
        """Each group's table, its numbers read from the model."""
        return _Tables(self)

    def table(self, group: str) -> dict[str, Any]:
        """Return one group's table, creating its containers in the model in context once."""
        source = self.source.tables[group]
        if group in FIXED_GROUPS:
            return dict(source)
        key = (id(pm.modelcontext(None)), group)
        if key not in self._made:
            self._made[key] = _map_numbers(source, group, pm.Data)
        return self._made[key]

    def __getitem__(self, group: str) -> Prior:
        if group in FIXED_GROUPS:
            return self.source[group]
        return Prior.from_dict(self.table(group))


def set_priors(model: pm.Model, priors: PriorSet) -> None:
    """Put another prior set's numbers into a built model.

    Raises
    ------
    ValueError
        If ``priors`` has another structure than the set the model was built
        with (its families, dimensions, shapes or fixed groups differ): such
        a set needs a model of its own.
    """
    built, structure = getattr(model, "prior_structure", None), prior_structure(priors)
    if built != structure:
        theirs = dict(structure)
        ours = dict(built or ())
        differ = sorted(g for g in {*theirs, *ours} if theirs.get(g) != ours.get(g))
        raise ValueError(
            f"prior set {priors.name!r} has another structure than the model's "
            f"(groups {', '.join(differ) or 'unknown'}); build a model for it"
        )
    numbers = prior_numbers(priors)
    values = {}
    for var in model.data_vars:
        base = var.name.rsplit("::", 1)[-1]  # a joint model's case prefix
        if base in numbers:
            values[var.name] = numbers[base]
    with model:
        pm.set_data(values)
