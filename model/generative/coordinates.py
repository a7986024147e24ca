"""The coordinates the model can be built in, as data: which walks are anchored, what is centred.

:class:`Parametrisation` is what :func:`model.generative.reparam.choose`
decides and :func:`model.generative.graph.model_graph` builds; the walk's
change of variables (:func:`walk_map`, Brownian bridges between knots) is
here too, so that the graph and the rules that choose it both read one
definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from model.evidence.priors import PriorSet

__all__ = [
    "DIRICHLET_GROUPS",
    "PLAIN",
    "POOLED_GROUPS",
    "Parametrisation",
    "WalkMap",
    "bridge_basis",
    "normal_constants",
    "walk_map",
]


#: The Dirichlet prior groups (Table 2 and Table 3).
DIRICHLET_GROUPS: tuple[str, ...] = ("strategy_map", "commitment", "cohesion")


#: Pooled prior groups whose members are indicators, and what their codes inform.
POOLED_GROUPS: dict[str, str] = {"threshold_shift": "score", "discrimination": "log_discrimination"}


@dataclass(frozen=True)
class Parametrisation:
    """The coordinates :func:`model.generative.build.build_model` builds the model in.

    Attributes
    ----------
    knots
        Knot periods (indices into the period grid) per series; empty: the
        plain random walk, started at ``threat_init``.
    centred
        Pooled prior groups built centred.
    gamma
        Dirichlet prior groups built as normalised Gammas.
    """

    knots: tuple[tuple[int, ...], ...] = ()
    centred: frozenset[str] = field(default_factory=frozenset)
    gamma: frozenset[str] = field(default_factory=frozenset)

    @property
    def anchored(self) -> bool:
        """Whether the random walk is moved at knots."""
        return bool(self.knots)

    @property
    def bridged(self) -> bool:
        """Whether any series has more than one knot (a Brownian bridge between them)."""
        return any(len(k) > 1 for k in self.knots)

    def describe(self) -> dict[str, object]:
        """Describe the choice for a run's provenance (JSON-ready)."""
        return {
            "anchored": self.anchored,
            "knots": sum(len(k) for k in self.knots),
            "centred": sorted(self.centred),
            "gamma": sorted(self.gamma),
        }


#: The model's own coordinates: what ``pm.Model`` would sample without this module.
PLAIN = Parametrisation()


def normal_constants(priors: PriorSet, group: str) -> tuple[float, float] | None:
    """``(mu, sigma)`` of a group whose prior is a Normal with constant scalar parameters."""
    table = priors.tables[group]
    kwargs = table.get("kwargs", {})
    if table.get("dist") != "Normal" or table.get("transform") or table.get("centered") is False:
        return None
    mu, sigma = kwargs.get("mu", 0.0), kwargs.get("sigma", 1.0)
    if not all(isinstance(v, int | float) for v in (mu, sigma)):
        return None
    return float(mu), float(sigma)


def bridge_basis(n: int) -> np.ndarray:
    """``(n, n - 1)`` orthonormal columns orthogonal to the ones vector (Helmert's).

    Between two knots ``L`` steps apart the standardised innovations are
    ``z = (theta_b - theta_a) / (drift * L) + B w``: ``B`` carries the bridge's
    ``L - 1`` free directions, none of which moves the knots. With ``w``
    standard normal and the knots' difference normal with variance
    ``drift**2 L``, ``z`` is exactly iid standard normal.
    """
    out = np.zeros((n, n - 1))
    for j in range(1, n):
        out[:j, j - 1] = 1.0 / np.sqrt(j * (j + 1))
        out[j, j - 1] = -j / np.sqrt(j * (j + 1))
    return out


@dataclass(frozen=True)
class WalkMap:
    """The random walk in knot coordinates: linear maps, given the drift.

    With ``z`` the standardised innovations of all series, flattened
    ``(series * step)``, ``k`` the knot values (series-major) and ``r`` the
    free steps: ``z = P r + (Q k) / drift[series of the step]`` and the start
    ``init = F k - drift * (G r)`` (the walk run back from the first knot).

    Attributes
    ----------
    P, Q, F, G
        The constant matrices above.
    first
        Index into ``k`` of each series' first knot.
    later
        ``(knot, 3)``: for every knot after a series' first, its index into
        ``k``, the index of the knot before it and the bridge's length.
    """

    P: np.ndarray
    Q: np.ndarray
    F: np.ndarray
    G: np.ndarray
    first: np.ndarray
    later: np.ndarray


def walk_map(knots: Sequence[Sequence[int]], n_periods: int) -> WalkMap:
    """Build :class:`WalkMap` for the knot periods of every series."""
    n_s, n_u = len(knots), n_periods - 1
    columns: list[np.ndarray] = []
    q_entries: list[tuple[int, int, float]] = []
    first: list[int] = []
    later: list[tuple[int, int, int]] = []
    before: list[tuple[int, int]] = []
    count = 0

    def column(steps: np.ndarray, weights: np.ndarray | float) -> int:
        col = np.zeros(n_s * n_u)
        col[steps] = weights
        columns.append(col)
        return len(columns) - 1

    for s, periods in enumerate(knots):
        ks = sorted({int(k) for k in periods})
        row, base = s * n_u, count
        first.append(base)
        count += len(ks)
        before += [(s, column(np.array([row + u]), 1.0)) for u in range(ks[0])]
        for j, (a, b) in enumerate(pairwise(ks)):
            later.append((base + j + 1, base + j, b - a))
            steps = row + np.arange(a, b)
            for u in steps:
                q_entries += [(u, base + j + 1, 1.0 / (b - a)), (u, base + j, -1.0 / (b - a))]
            for w in bridge_basis(b - a).T:
                column(steps, w)
        for u in range(ks[-1], n_u):
            column(np.array([row + u]), 1.0)
    P = np.stack(columns, axis=1) if columns else np.zeros((n_s * n_u, 0))
    Q = np.zeros((n_s * n_u, count))
    for u, k, value in q_entries:
        Q[u, k] += value
    F = np.zeros((n_s, count))
    F[np.arange(n_s), first] = 1.0
    G = np.zeros((n_s, P.shape[1]))
    for s, c in before:
        G[s, c] = 1.0
    return WalkMap(P, Q, F, G, np.array(first, int), np.array(later, int).reshape(-1, 3))
