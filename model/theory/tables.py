"""The vocabulary of Weitsman's dangerous-alliances theory.

Only names and orderings live here: the numbers that encode the paper's
Table 2 and Table 3 are priors and live in ``priors/*.toml``, so that an
analyst can change them without touching code.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np

#: Ordinal threat levels of the latent variable L.
LEVELS: tuple[str, ...] = ("low", "medium", "high")

#: Codes of a threat observation (0-4), by name.
THREAT_CODES: tuple[str, ...] = ("none", "low", "medium", "high", "severe")

#: The four strategies, in order of rising threat (Weitsman 2004).
STRATEGIES: tuple[str, ...] = ("hedging", "tethering", "balancing", "bandwagoning")

#: Ordinal levels of alliance commitment and cohesion (Table 3).
OUTCOME_LEVELS: tuple[str, ...] = ("none", "low", "medium", "high")

#: The two outcome indicators of Table 3.
OUTCOMES: tuple[str, ...] = ("commitment", "cohesion")

#: Indicator types of threat evidence.
THREAT_INDICATORS: tuple[str, ...] = (
    "statement",
    "military",
    "economic",
    "diplomatic",
    "legal",
    "event-data",
)

#: Table 2 cell letters, indexed [external level, internal level].
CELLS: tuple[tuple[str, ...], ...] = (("A", "B", "C"), ("D", "E", "F"), ("G", "H", "I"))


def type_name(first: str, second: str) -> str:
    """Name the unordered pair of two strategies, e.g. ``balancing-tethering``.

    The pair is sorted alphabetically so that a dyad's type does not depend
    on which state is named first.
    """
    return "-".join(sorted((first, second)))


#: The ten alliance types: unordered pairs of strategies, alphabetical names.
ALLIANCE_TYPES: tuple[str, ...] = tuple(
    sorted({type_name(a, b) for a, b in combinations_with_replacement(STRATEGIES, 2)})
)

#: Types that Table 3 of the paper does not cover; their outcome priors are
#: flat and every report marks them as outside the theory.
OUTSIDE_THEORY: frozenset[str] = frozenset({"bandwagoning-tethering", "bandwagoning-bandwagoning"})


def type_index_matrix() -> np.ndarray:
    """Return the (strategy, strategy) -> alliance-type index matrix.

    Entry ``[x, y]`` is the index in :data:`ALLIANCE_TYPES` of the type formed
    when one state plays strategy ``x`` and its partner strategy ``y``; the
    matrix is symmetric because a type is an unordered pair.
    """
    n = len(STRATEGIES)
    out = np.empty((n, n), dtype=np.int64)
    for x, sx in enumerate(STRATEGIES):
        for y, sy in enumerate(STRATEGIES):
            out[x, y] = ALLIANCE_TYPES.index(type_name(sx, sy))
    return out
