"""From validated observation rows to the counts the model is built on.

The likelihood depends on the evidence only through counts per (series,
period, indicator, code) for threat evidence, per (pair, period, strategy)
for conduct and per (dyad, period, outcome, level) for outcomes. Aggregating
here keeps the model's size independent of the number of rows.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import combinations

import numpy as np
import pandas as pd

from model.evidence.data import CODER_COLUMN, DEFAULT_CODER, Actors
from model.theory.tables import (
    ALLIANCE_TYPES,
    LEVELS,
    OUTCOME_LEVELS,
    OUTCOMES,
    STRATEGIES,
    THREAT_CODES,
    THREAT_INDICATORS,
)

#: Labels of the reported periods, in order.
REPORT_PERIODS: tuple[str, ...] = ("last_evidence", "now", "horizon")


def series_name(observer: str, source: str) -> str:
    """Name of the threat series ``observer`` perceives from ``source``, e.g. ``CHN<-USA``."""
    return f"{observer}<-{source}"


def pair_name(actor: str, partner: str) -> str:
    """Name of the directed pair of ``actor``'s strategy toward ``partner``, e.g. ``RUS->CHN``."""
    return f"{actor}->{partner}"


def dyad_name(a: str, b: str) -> str:
    """Name of an undirected dyad: the two codes sorted and joined, e.g. ``CHN-PRK``."""
    return "-".join(sorted((a, b)))


@dataclass(frozen=True)
class Structure:
    """Index maps of a case: series, directed pairs and dyads of ``k`` partners.

    With k partners there are k external series and k(k-1) directed
    internal series, k(k-1) pairs and k(k-1)/2 dyads.
    """

    actors: Actors
    series: tuple[str, ...] = field(init=False)
    pairs: tuple[str, ...] = field(init=False)
    dyads: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        p, ext = self.actors.partners, self.actors.external
        series = [series_name(i, ext) for i in p]
        series += [series_name(i, j) for i in p for j in p if i != j]
        object.__setattr__(self, "series", tuple(series))
        object.__setattr__(self, "pairs", tuple(pair_name(i, j) for i in p for j in p if i != j))
        object.__setattr__(self, "dyads", tuple(dyad_name(i, j) for i, j in combinations(p, 2)))

    @property
    def pair_actor(self) -> np.ndarray:
        """Partner index of each pair's acting state."""
        p = self.actors.partners
        return np.array([p.index(s.split("->")[0]) for s in self.pairs])

    @property
    def pair_internal_series(self) -> np.ndarray:
        """Series index of each pair's internal threat (actor's threat from partner)."""
        out = []
        for s in self.pairs:
            i, j = s.split("->")
            out.append(self.series.index(series_name(i, j)))
        return np.array(out)

    @property
    def members(self) -> np.ndarray:
        """``(dyad, 2)`` partner indices, in the order of ``actors.partners``."""
        p = self.actors.partners
        return np.array([(p.index(i), p.index(j)) for i, j in combinations(p, 2)])

    @property
    def dyad_pairs(self) -> np.ndarray:
        """``(dyad, 2)`` pair indices: first->second, second->first."""
        p = self.actors.partners
        return np.array(
            [
                (self.pairs.index(pair_name(i, j)), self.pairs.index(pair_name(j, i)))
                for i, j in combinations(p, 2)
            ]
        )


@dataclass(frozen=True)
class Evidence:
    """Aggregated evidence on a period grid: everything the model builder needs.

    Attributes
    ----------
    structure
        Series, pairs and dyads of the case.
    periods
        Period labels (e.g. ``2024Q2``), from the case's start to the horizon.
    report_index
        Period indices of :data:`REPORT_PERIODS`.
    threat_cells
        ``(cell, 3)`` integer array of (series, period, indicator).
    threat_counts
        ``(cell, code)`` counts of threat codes 0-4.
    threat_coders
        ``(cell,)`` index into ``coders`` of the coder whose codes a cell
        counts: one coder's codes of a series, period and indicator form a
        cell, so the measurement model can give each coder their own
        thresholds and discrimination.
    coders
        Coders of the threat codes, the main coder first.
    behaviour_periods
        Indices of periods with conduct or outcome evidence.
    conduct_counts
        ``(pair, behaviour_period, strategy)``.
    outcome_counts
        ``(dyad, behaviour_period, outcome, outcome_level)``.
    n_rows
        Rows by kind, for reporting.
    window_start
        Index of the first reported period, where it is not the last with
        evidence: as-of fits that share one grid (:func:`on_grid`) share one
        window too, so that one compiled model serves all of them.
    """

    structure: Structure
    periods: tuple[str, ...]
    report_index: tuple[int, int, int]
    threat_cells: np.ndarray
    threat_counts: np.ndarray
    behaviour_periods: np.ndarray
    conduct_counts: np.ndarray
    outcome_counts: np.ndarray
    n_rows: dict[str, int]
    threat_coders: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    coders: tuple[str, ...] = (DEFAULT_CODER,)
    window_start: int | None = None

    @property
    def first_window(self) -> int:
        """Index of the first reported period (the ``window`` dim starts there)."""
        return self.report_index[0] if self.window_start is None else self.window_start

    @property
    def coords(self) -> dict[str, list[str]]:
        """Named coordinates for every dim the model uses."""
        s = self.structure
        return {
            "partner": list(s.actors.partners),
            "series": list(s.series),
            "pair": list(s.pairs),
            "dyad": list(s.dyads),
            "period": list(self.periods),
            "step": list(self.periods[1:]),
            "window": list(self.periods[self.first_window :]),
            "level": list(LEVELS),
            "ext_level": list(LEVELS),
            "int_level": list(LEVELS),
            "code": list(THREAT_CODES),
            "indicator": list(THREAT_INDICATORS),
            "strategy": list(STRATEGIES),
            "alliance_type": list(ALLIANCE_TYPES),
            "outcome": list(OUTCOMES),
            "outcome_level": list(OUTCOME_LEVELS),
            "threat_cell": [
                f"{s.series[a]}|{self.periods[b]}|{THREAT_INDICATORS[c]}"
                + (f"|{self.coders[k]}" if len(self.coders) > 1 else "")
                for (a, b, c), k in zip(self.threat_cells, self.cell_coders(), strict=True)
            ],
            **({"coder": list(self.coders)} if len(self.coders) > 1 else {}),
            "behaviour_period": [self.periods[t] for t in self.behaviour_periods],
        }

    def cell_coders(self) -> np.ndarray:
        """Each threat cell's coder index (all the main coder's when none is recorded)."""
        if len(self.threat_coders) == len(self.threat_cells):
            return self.threat_coders
        return np.zeros(len(self.threat_cells), dtype=np.int64)


def _index(values: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Position of each value in ``names`` (values are validated, so all are present)."""
    codes = pd.Categorical(values, categories=list(names)).codes.astype(np.int64)
    if (codes < 0).any():
        raise ValueError(f"unexpected values {sorted(set(values) - set(names))[:5]}")
    return codes


def coders_of(frame: pd.DataFrame) -> pd.Series:
    """Each row's coder: the main coder where a frame has no ``coder`` column or leaves it empty.

    Rows from the store, or from files written before the column existed,
    have none; they are the main coder's.
    """
    if CODER_COLUMN not in frame:
        return pd.Series(DEFAULT_CODER, index=frame.index, dtype=object)
    named = frame[CODER_COLUMN].astype(object)
    return named.where(named.notna() & (named.astype(str) != ""), DEFAULT_CODER)


def period_grid(actors: Actors, last: pd.Period, horizon: int) -> pd.PeriodIndex:
    """Periods from the case's start to ``horizon`` periods after ``last``."""
    first = pd.Period(actors.start, freq=actors.pandas_freq)
    return pd.period_range(first, last + horizon, freq=actors.pandas_freq)


def aggregate(frame: pd.DataFrame, actors: Actors, now: date, horizon: int = 4) -> Evidence:
    """Count validated observations per cell of the model.

    Parameters
    ----------
    frame
        Output of :func:`model.evidence.data.read_observations` (possibly filtered).
    actors
        The case.
    now
        The current (or as-of) date: its period is reported as ``now`` and
        the horizon counts from it. Observations after it are an error.
    horizon
        Forecast periods after ``now``.
    """
    if frame.empty:
        raise ValueError("no observations: the model needs evidence to fit")
    if horizon < 1:
        raise ValueError("horizon must be at least 1 period")
    freq = actors.pandas_freq
    obs_period = frame["date"].dt.to_period(freq)
    now_period = pd.Period(now, freq=freq)
    if (obs_period > now_period).any():
        raise ValueError(f"observations dated after the as-of date {now} are present")
    grid = period_grid(actors, now_period, horizon)
    t = obs_period.array.asi8 - grid[0].ordinal  # period index of every row
    s = Structure(actors)
    kind = frame["kind"].to_numpy()

    threat = kind == "threat"
    ser = _index(frame["observer"][threat] + "<-" + frame["target"][threat], s.series)
    ind = _index(frame["indicator"][threat], THREAT_INDICATORS)
    code = _index(frame["code"][threat], [str(c) for c in range(len(THREAT_CODES))])
    coder_names = coders_of(frame)
    found = set(coder_names[threat])
    coders = tuple([DEFAULT_CODER] * (DEFAULT_CODER in found) + sorted(found - {DEFAULT_CODER}))
    coders = coders or (DEFAULT_CODER,)
    who_coded = _index(coder_names[threat], coders)
    # one integer key per (series, period, indicator, coder) cell: a 1-D unique is fast
    n_t, n_i, n_c = len(grid), len(THREAT_INDICATORS), len(coders)
    keys, inverse = np.unique(
        ((ser * n_t + t[threat]) * n_i + ind) * n_c + who_coded, return_inverse=True
    )
    cell_coders, keys = keys % n_c, keys // n_c
    cells = np.stack([keys // (n_t * n_i), keys // n_i % n_t, keys % n_i], axis=1)
    counts = np.zeros((len(cells), len(THREAT_CODES)), dtype=np.int64)
    np.add.at(counts, (inverse.ravel(), code), 1)

    behaviour = ~threat
    b_periods = np.unique(t[behaviour])
    conduct = np.zeros((len(s.pairs), len(b_periods), len(STRATEGIES)), dtype=np.int64)
    outcome = np.zeros(
        (len(s.dyads), len(b_periods), len(OUTCOMES), len(OUTCOME_LEVELS)), dtype=np.int64
    )
    b_index = np.searchsorted(b_periods, t)
    is_conduct = kind == "conduct"
    if is_conduct.any():
        who = _index(frame["observer"][is_conduct] + "->" + frame["target"][is_conduct], s.pairs)
        what = _index(frame["code"][is_conduct], STRATEGIES)
        np.add.at(conduct, (who, b_index[is_conduct], what), 1)
    is_outcome = kind == "outcome"
    if is_outcome.any():
        sub = frame[is_outcome]
        first = sub["observer"].where(sub["observer"] < sub["target"], sub["target"])
        second = sub["target"].where(sub["observer"] < sub["target"], sub["observer"])
        who = _index(first + "-" + second, s.dyads)
        ind = _index(sub["indicator"], OUTCOMES)
        lev = _index(sub["code"], OUTCOME_LEVELS)
        np.add.at(outcome, (who, b_index[is_outcome], ind, lev), 1)

    last_evidence = int(t.max())
    now_index = now_period.ordinal - grid[0].ordinal
    return Evidence(
        structure=s,
        periods=tuple(str(p) for p in grid),
        report_index=(last_evidence, now_index, len(grid) - 1),
        threat_cells=cells.astype(np.int64),
        threat_counts=counts,
        behaviour_periods=b_periods.astype(np.int64),
        conduct_counts=conduct,
        outcome_counts=outcome,
        n_rows={k: int((kind == k).sum()) for k in ("threat", "conduct", "outcome")},
        threat_coders=cell_coders.astype(np.int64),
        coders=coders,
    )


#: The evidence arrays that change between data sets of one structure.
COUNT_FIELDS: tuple[str, ...] = ("threat_counts", "conduct_counts", "outcome_counts")


def same_structure(a: Evidence, b: Evidence) -> bool:
    """Whether two evidence sets differ only in their counts (same cells, periods, grid).

    The reported periods ``now`` and ``horizon`` are labels, not shapes: two
    as-of fits on one grid (:func:`on_grid`) have the same structure.
    """
    return (
        a.periods == b.periods
        and a.first_window == b.first_window
        and a.structure == b.structure
        and np.array_equal(a.threat_cells, b.threat_cells)
        and a.coders == b.coders
        and np.array_equal(a.cell_coders(), b.cell_coders())
        and np.array_equal(a.behaviour_periods, b.behaviour_periods)
        and all(getattr(a, f).shape == getattr(b, f).shape for f in COUNT_FIELDS)
    )


def structure_key(evidence: Evidence) -> str:
    """Digest what :func:`same_structure` compares: equal keys, one model structure."""
    parts = (
        evidence.periods,
        evidence.first_window,
        evidence.structure.actors,
        evidence.coders,
        *(
            np.ascontiguousarray(x).tobytes()
            for x in (evidence.threat_cells, evidence.cell_coders(), evidence.behaviour_periods)
        ),
        *(getattr(evidence, f).shape for f in COUNT_FIELDS),
    )
    return hashlib.sha256(pickle.dumps(parts)).hexdigest()


def _cell_keys(evidence: Evidence) -> list[tuple[int, int, int, str]]:
    """Each threat cell as (series, period, indicator, coder name)."""
    coders = evidence.cell_coders()
    return [
        (int(a), int(b), int(c), evidence.coders[int(k)])
        for (a, b, c), k in zip(evidence.threat_cells, coders, strict=True)
    ]


def on_grid(evidence: Evidence, template: Evidence) -> Evidence:
    """``evidence``'s counts in ``template``'s cells, with zeros in the cells it has not seen.

    A backtest's as-of fits all see a prefix of the last one's evidence on
    the last one's period grid. Put in that grid's cells, each is the
    template's structure with the later evidence masked: a cell with no
    codes adds nothing to the likelihood, so the posterior is the one of the
    evidence alone, and every as-of fit is a data set of one model
    (:func:`same_structure`). The reported periods stay ``evidence``'s; the
    window is the template's.

    Raises
    ------
    ValueError
        If ``evidence`` is on another grid or has a cell the template lacks.
    """
    if evidence.periods != template.periods or evidence.structure != template.structure:
        raise ValueError("the evidence is not on the template's period grid")
    where = {key: i for i, key in enumerate(_cell_keys(template))}
    threat = np.zeros_like(template.threat_counts)
    for j, key in enumerate(_cell_keys(evidence)):
        if key not in where:
            s, t, ind, coder = key
            raise ValueError(
                f"the template has no threat cell {evidence.structure.series[s]} "
                f"{evidence.periods[t]} {THREAT_INDICATORS[ind]} ({coder})"
            )
        threat[where[key]] = evidence.threat_counts[j]
    at = np.searchsorted(template.behaviour_periods, evidence.behaviour_periods)
    known = at < len(template.behaviour_periods)
    if not known.all() or not np.array_equal(
        template.behaviour_periods[at], evidence.behaviour_periods
    ):
        raise ValueError("the template lacks a period with conduct or outcome codes")
    conduct = np.zeros_like(template.conduct_counts)
    conduct[:, at] = evidence.conduct_counts
    outcome = np.zeros_like(template.outcome_counts)
    outcome[:, at] = evidence.outcome_counts
    return replace(
        template,
        report_index=evidence.report_index,
        window_start=template.first_window,
        threat_counts=threat,
        conduct_counts=conduct,
        outcome_counts=outcome,
        n_rows=evidence.n_rows,
    )
