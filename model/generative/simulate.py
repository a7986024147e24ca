"""Simulate evidence from the model's own generative story.

The likelihood of :mod:`model.generative.build` scores threat codes directly on the
latent scores ``theta``, and conduct and outcome codes through latent
per-period levels, strategies, dyad types and true outcome levels that it
sums out exactly (:func:`model.theory.alliance.behaviour_log_likelihood`). This
module draws those latent quantities instead of summing over them:

1. per series and period, a level L ~ P(L | theta) (:func:`model.theory.threat.level_probs`);
2. per directed pair and period, a strategy from Table 2 given the acting
   state's *external* level (one per state and period, shared by all of its
   pairs) and the pair's *internal* level;
3. per dyad and period, the type formed by its two strategies, and one true
   commitment and one true cohesion level from Table 3 given the type;
4. coded rows: each conduct or outcome row is right with probability
   ``1 - e`` and otherwise uniform over all categories (the true one
   included), as :func:`model.theory.alliance.coded_counts_likelihood`; each threat row is an
   ordered-logistic code given ``theta`` (:func:`model.theory.threat.code_log_probs`).

The result is an observation table in the schema of :mod:`model.evidence.data`,
aggregated by :func:`model.evidence.aggregate.aggregate` exactly as real data are, so
simulation-based calibration and parameter recovery exercise the whole
pipeline. :func:`replicate_behaviour` applies steps 1-4 to posterior draws:
the posterior predictive distribution of conduct and outcome codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy.special import expit

from model.evidence.aggregate import Evidence, Structure, aggregate
from model.evidence.data import COLUMNS, Actors
from model.theory.strategy import full_table
from model.theory.tables import (
    ALLIANCE_TYPES,
    OUTCOME_LEVELS,
    OUTCOMES,
    STRATEGIES,
    THREAT_INDICATORS,
    type_index_matrix,
)
from model.theory.threat import CODE_CUTPOINTS, LEVEL_ANCHORS

#: Free parameters and deterministics a simulation needs from a draw.
PARAMETERS: tuple[str, ...] = (
    "theta",
    "level_sharpness",
    "discrimination",
    "threshold_shift",
    "strategy_map",
    "commitment",
    "cohesion",
    "conduct_error",
    "outcome_error",
)


@dataclass(frozen=True)
class Design:
    """The layout of a synthetic case: who, when, and how many coded rows where.

    Every period with evidence gets the same number of rows per cell, so
    every simulation of one design aggregates to the same model structure.

    Attributes
    ----------
    partners, external
        Actor codes.
    start
        First day of the first period (quarters).
    n_periods
        Periods with evidence; the last of them is the as-of period.
    horizon
        Forecast periods after it.
    threat_rows
        Threat rows per series and period, spread over :attr:`indicators`
        in turn.
    conduct_rows
        Conduct rows per directed pair and period.
    outcome_rows
        Rows per dyad, outcome indicator (commitment, cohesion) and period.
    indicators
        Threat indicator types used.
    every
        Evidence only in every ``every``-th period, counted back from the
        as-of period (which always has evidence): 4 on a quarterly grid is
        one reading a year, the shipped evidence's density.
    """

    partners: tuple[str, ...] = ("RUS", "CHN", "PRK")
    external: str = "USA"
    start: date = date(2017, 1, 1)
    n_periods: int = 8
    horizon: int = 1
    threat_rows: int = 2
    conduct_rows: int = 1
    outcome_rows: int = 1
    indicators: tuple[str, ...] = ("statement", "military", "economic")
    every: int = 1

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("every must be >= 1")
        if self.n_periods < 2:
            raise ValueError("a design needs at least two periods")
        if min(self.threat_rows, self.conduct_rows, self.outcome_rows) < 0:
            raise ValueError("row counts must be >= 0")
        if self.conduct_rows + self.outcome_rows == 0:
            raise ValueError("a design needs conduct or outcome rows")
        unknown = set(self.indicators) - set(THREAT_INDICATORS)
        if unknown or not self.indicators:
            raise ValueError(f"unknown threat indicators {sorted(unknown)}")

    @property
    def actors(self) -> Actors:
        """The synthetic case."""
        return Actors(partners=self.partners, external=self.external, start=self.start)

    @property
    def structure(self) -> Structure:
        """Series, pairs and dyads."""
        return Structure(self.actors)

    @property
    def periods(self) -> pd.PeriodIndex:
        """Periods with evidence."""
        return pd.period_range(pd.Period(self.start, freq="Q"), periods=self.n_periods, freq="Q")

    @property
    def as_of(self) -> date:
        """Last day of the last period with evidence."""
        return self.periods[-1].end_time.date()

    def observed(self) -> np.ndarray:
        """``(period,)`` whether a period has evidence (see :attr:`every`)."""
        back = self.n_periods - 1 - np.arange(self.n_periods)
        return back % self.every == 0

    def threat_layout(self) -> np.ndarray:
        """Rows per ``(series, period, indicator)``: :attr:`threat_rows` dealt in turn."""
        n_series = len(self.structure.series)
        out = np.zeros((n_series, self.n_periods, len(THREAT_INDICATORS)), dtype=np.int64)
        cols = [THREAT_INDICATORS.index(i) for i in self.indicators]
        for s in range(n_series):
            for t in range(self.n_periods):
                for r in range(self.threat_rows):
                    out[s, t, cols[(s + t + r) % len(cols)]] += 1
        return out * self.observed()[None, :, None]


def level_probs_np(theta: np.ndarray, sharpness: np.ndarray) -> np.ndarray:
    """P(L = low, medium, high | theta) in numpy; ``sharpness`` broadcasts against ``theta``.

    The same ordered logistic as :func:`model.theory.threat.level_probs`:
    ``P(L <= k) = logistic(s (kappa_k - theta))``.
    """
    s = np.asarray(sharpness)[..., None]
    cum = expit(s * (LEVEL_ANCHORS - np.asarray(theta)[..., None]))
    return np.diff(cum, prepend=0.0, append=1.0, axis=-1)


def code_probs_np(theta: np.ndarray, discrimination: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """P(threat code 0..4 | theta) in numpy, as :func:`model.theory.threat.code_log_probs`.

    ``P(code > c) = logistic(d (theta - tau_c - delta))``.
    """
    d = np.asarray(discrimination)[..., None]
    eta = np.asarray(theta)[..., None] - np.asarray(shift)[..., None]
    above = expit(d * (eta - CODE_CUTPOINTS))
    return -np.diff(above, prepend=1.0, append=0.0, axis=-1)


def code_information(
    theta: np.ndarray,
    discrimination: np.ndarray,
    shift: np.ndarray,
    about: Literal["score", "log_discrimination"] = "score",
) -> np.ndarray:
    """Fisher information one threat code carries about ``theta``: ``sum_c p_c'(theta)**2 / p_c``.

    With ``P(code > c) = logistic(d (theta - tau_c - delta))``, the derivative of
    each cumulative term is ``d g (1 - g)``, and a category's derivative is the
    difference of two of them. The sampler compares this, times the number of
    codes, with the random walk's own precision to decide where the evidence
    pins a series (:func:`model.nuts.threat_knots`), and with a pooling prior's
    precision to decide which indicators' effects to centre
    (:func:`model.nuts.centred_members`). The information about the shift
    ``delta`` is the same as about ``theta``; ``about="log_discrimination"``
    gives the information about ``log d``, whose cumulative derivatives are
    ``d (theta - tau_c - delta) g (1 - g)``.
    """
    d = np.asarray(discrimination, dtype=float)[..., None]
    eta = np.asarray(theta, dtype=float)[..., None] - np.asarray(shift, dtype=float)[..., None]
    above = expit(d * (eta - CODE_CUTPOINTS))
    slope = d * above * (1.0 - above)
    if about == "log_discrimination":
        slope = slope * (eta - CODE_CUTPOINTS)
    p = -np.diff(above, prepend=1.0, append=0.0, axis=-1)
    dp = -np.diff(slope, prepend=0.0, append=0.0, axis=-1)
    return (dp**2 / p).sum(axis=-1)


def _categorical(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row of ``p`` (last axis), vectorised."""
    u = rng.random(p.shape[:-1])[..., None]
    return np.minimum((np.cumsum(p, axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)


def _coded(
    true: np.ndarray, n: np.ndarray, error: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw counts of ``n`` coded rows of category ``true``: right w.p. 1-e, else uniform.

    ``error`` broadcasts against ``true``; the result has a new last axis of ``k``.
    """
    e = np.asarray(error)[..., None]
    p = (1.0 - e) * np.eye(k)[true] + e / k
    return rng.multinomial(np.broadcast_to(n, true.shape), p)


@dataclass(frozen=True)
class Behaviour:
    """One draw (or many, on leading axes) of the latent story and its coded counts.

    Attributes
    ----------
    levels
        ``(..., series, period)`` latent threat levels 0-2.
    strategies
        ``(..., pair, period)`` strategy indices.
    types
        ``(..., dyad, period)`` alliance-type indices.
    outcome_levels
        ``(..., dyad, period, outcome)`` true commitment and cohesion levels.
    conduct_counts
        ``(..., pair, period, strategy)`` coded conduct.
    outcome_counts
        ``(..., dyad, period, outcome, outcome_level)`` coded outcomes.
    """

    levels: np.ndarray
    strategies: np.ndarray
    types: np.ndarray
    outcome_levels: np.ndarray
    conduct_counts: np.ndarray
    outcome_counts: np.ndarray


def simulate_behaviour(
    params: Mapping[str, np.ndarray],
    structure: Structure,
    conduct_rows: np.ndarray,
    outcome_rows: np.ndarray,
    rng: np.random.Generator,
) -> Behaviour:
    """Draw latent levels, strategies, types, true outcomes and coded conduct/outcome rows.

    Parameters
    ----------
    params
        ``theta (..., series, period)`` at the periods of the row counts,
        ``level_sharpness (...)``,
        ``strategy_map (..., ext, int, strategy)`` (or ``(..., ext, strategy)``
        for a Walt-style mapping), ``commitment`` and ``cohesion``
        ``(..., type, level)``, ``conduct_error`` and ``outcome_error (...)``.
        Leading axes (e.g. chain, draw) are simulated independently.
    structure
        The case's index maps.
    conduct_rows
        ``(pair, period)`` coded conduct rows to draw per cell.
    outcome_rows
        ``(dyad, period, outcome)`` coded outcome rows per cell.
    rng
        Random generator.
    """
    theta = np.asarray(params["theta"], dtype=float)
    lead = theta.shape[:-2]
    n_s = int(np.prod(lead, dtype=np.int64))
    if theta.shape[-1] != conduct_rows.shape[1]:
        raise ValueError("theta and the row counts must cover the same periods")
    theta = theta.reshape((n_s, *theta.shape[-2:]))
    sharp = np.asarray(params["level_sharpness"], dtype=float).reshape(n_s)
    levels = _categorical(level_probs_np(theta, sharp[:, None, None]), rng)  # (S, series, T)
    k = len(structure.actors.partners)
    ext = levels[:, :k]  # one external level per state and period, shared by its pairs
    a = ext[:, structure.pair_actor]  # (S, pair, T)
    b = levels[:, structure.pair_internal_series]
    mapping = np.asarray(params["strategy_map"], dtype=float)
    mapping = full_table(mapping, len(lead))
    flat = mapping.reshape((n_s, 9, len(STRATEGIES)))
    s_idx = np.arange(n_s)
    strategies = _categorical(flat[s_idx[:, None, None], a * 3 + b], rng)  # (S, pair, T)
    dp = structure.dyad_pairs
    types = type_index_matrix()[strategies[:, dp[:, 0]], strategies[:, dp[:, 1]]]  # (S, D, T)
    tables = np.stack(
        [
            np.asarray(params["commitment"], dtype=float).reshape((n_s, len(ALLIANCE_TYPES), -1)),
            np.asarray(params["cohesion"], dtype=float).reshape((n_s, len(ALLIANCE_TYPES), -1)),
        ],
        axis=1,
    )  # (S, outcome, type, level)
    o_idx = np.arange(len(OUTCOMES))
    p_out = tables[s_idx[:, None, None, None], o_idx, types[..., None]]  # (S, D, T, O, level)
    outcome_levels = _categorical(p_out, rng)
    c_err = np.asarray(params["conduct_error"], dtype=float).reshape((n_s, 1, 1))
    o_err = np.asarray(params["outcome_error"], dtype=float).reshape((n_s, 1, 1, 1))
    conduct = _coded(strategies, conduct_rows, c_err, len(STRATEGIES), rng)
    outcome = _coded(outcome_levels, outcome_rows, o_err, len(OUTCOME_LEVELS), rng)
    out = (levels, strategies, types, outcome_levels, conduct, outcome)
    return Behaviour(*(x.reshape((*lead, *x.shape[1:])) for x in out))


def simulate_threat(
    params: Mapping[str, np.ndarray], layout: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw counts of threat codes ``(series, period, indicator, code)`` for one draw.

    ``layout`` is ``(series, period, indicator)`` rows per cell; ``theta`` in
    ``params`` must cover the same periods.
    """
    theta = np.asarray(params["theta"], dtype=float)[:, : layout.shape[1]]
    p = code_probs_np(
        theta[:, :, None],
        np.asarray(params["discrimination"], dtype=float),
        np.asarray(params["threshold_shift"], dtype=float),
    )
    return rng.multinomial(layout, p)


def observation_frame(
    design: Design,
    threat_counts: np.ndarray,
    conduct_counts: np.ndarray,
    outcome_counts: np.ndarray,
) -> pd.DataFrame:
    """Expand simulated counts into rows of the observations schema.

    The schema is :data:`model.evidence.data.COLUMNS`.

    Every row is dated in the middle of its period and cites the simulation,
    so the frame passes through :func:`model.evidence.aggregate.aggregate` unchanged.
    """
    s = design.structure
    mid = [(p.start_time + pd.Timedelta(days=45)).normalize() for p in design.periods]
    rows: list[tuple] = []

    def add(t: int, kind: str, obs: str, tgt: str, ind: str, code: str, n: int) -> None:
        rows.extend([(mid[t], kind, obs, tgt, ind, code)] * int(n))

    for (ser, t, ind, code), n in np.ndenumerate(threat_counts):
        if n:
            obs, tgt = s.series[ser].split("<-")
            add(t, "threat", obs, tgt, THREAT_INDICATORS[ind], str(code), n)
    for (pair, t, x), n in np.ndenumerate(conduct_counts):
        if n:
            obs, tgt = s.pairs[pair].split("->")
            add(t, "conduct", obs, tgt, "conduct", STRATEGIES[x], n)
    for (d, t, o, lev), n in np.ndenumerate(outcome_counts):
        if n:
            obs, tgt = s.dyads[d].split("-")
            add(t, "outcome", obs, tgt, OUTCOMES[o], OUTCOME_LEVELS[lev], n)
    frame = pd.DataFrame(rows, columns=["date", "kind", "observer", "target", "indicator", "code"])
    frame.insert(0, "id", [f"S{n:06d}" for n in range(len(frame))])
    frame["citation"] = "Simulated from the model"
    frame["note"] = ""
    frame["date"] = pd.to_datetime(frame["date"])
    return frame[list(COLUMNS)]


def row_layout(design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows per cell of a design.

    Threat ``(series, period, indicator)``, conduct ``(pair, period)``,
    outcome ``(dyad, period, outcome)``.
    """
    s = design.structure
    conduct = np.full((len(s.pairs), design.n_periods), design.conduct_rows, dtype=np.int64)
    outcome = np.full(
        (len(s.dyads), design.n_periods, len(OUTCOMES)), design.outcome_rows, dtype=np.int64
    )
    seen = design.observed()
    return design.threat_layout(), conduct * seen, outcome * seen[:, None]


def template_evidence(design: Design) -> Evidence:
    """Evidence with the design's layout and arbitrary codes.

    Every simulation of the design aggregates to this structure, so a model
    built on it serves to draw from the prior and to refit.
    """
    threat, conduct, outcome = row_layout(design)
    frame = observation_frame(
        design,
        np.concatenate([threat[..., None], np.zeros((*threat.shape, 4), np.int64)], axis=-1),
        np.concatenate([conduct[..., None], np.zeros((*conduct.shape, 3), np.int64)], axis=-1),
        np.concatenate([outcome[..., None], np.zeros((*outcome.shape, 3), np.int64)], axis=-1),
    )
    return aggregate(frame, design.actors, design.as_of, design.horizon)


@dataclass(frozen=True)
class Simulation:
    """One simulated data set and the latent story behind it."""

    frame: pd.DataFrame
    evidence: Evidence
    behaviour: Behaviour
    threat_counts: np.ndarray


def simulate_case(
    design: Design, params: Mapping[str, np.ndarray], rng: np.random.Generator
) -> Simulation:
    """Simulate one data set of ``design`` from one parameter draw.

    ``params`` holds one draw of :data:`PARAMETERS` (no leading sample axes);
    ``theta`` may extend past the evidence periods (it is cut to them).
    """
    threat_layout, conduct_rows, outcome_rows = row_layout(design)
    theta = np.asarray(params["theta"], dtype=float)[:, : design.n_periods]
    params = {**params, "theta": theta}
    threat = simulate_threat(params, threat_layout, rng)
    behaviour = simulate_behaviour(params, design.structure, conduct_rows, outcome_rows, rng)
    frame = observation_frame(design, threat, behaviour.conduct_counts, behaviour.outcome_counts)
    evidence = aggregate(frame, design.actors, design.as_of, design.horizon)
    return Simulation(frame, evidence, behaviour, threat)


class PriorSampler:
    """Draws of every free variable and deterministic of a model from its prior.

    Compiled once; each call reseeds, so a draw depends only on its seed.
    """

    def __init__(self, model: pm.Model):
        from pymc.pytensorf import find_rng_nodes
        from pymc.sampling.forward import compile_forward_sampling_function

        variables = [*model.free_RVs, *model.deterministics]
        self.names = [v.name for v in variables]
        self._fn, _ = compile_forward_sampling_function(
            variables, vars_in_trace=[], basic_rvs=model.basic_RVs, model=model
        )
        self._rngs = find_rng_nodes(self._fn.maker.fgraph.inputs)

    def __call__(self, seed: int) -> dict[str, np.ndarray]:
        """One prior draw, reproducible from ``seed``."""
        from pymc.pytensorf import reseed_rngs

        reseed_rngs(self._rngs, seed)
        return {n: np.asarray(v) for n, v in zip(self.names, self._fn(), strict=True)}


def draw_prior(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    """One draw of every free variable and deterministic of ``model`` from its prior."""
    return PriorSampler(model)(seed)


def replicate_behaviour(
    idata: xr.DataTree, evidence: Evidence, seed: int, *, max_draws: int | None = None
) -> xr.Dataset:
    """Posterior predictive replicates of the conduct and outcome codes.

    For each posterior draw, the latent story is simulated afresh (levels,
    strategies, types, true outcome levels) and as many coded rows are drawn
    per cell as the evidence has, so replicated and observed counts compare
    cell by cell.

    Parameters
    ----------
    idata
        A posterior of :func:`model.generative.build.build_model` on ``evidence``.
    evidence
        The evidence it was fitted to.
    seed
        Seed of the replicates.
    max_draws
        Use at most this many draws per chain (evenly thinned), to bound cost.

    Returns
    -------
    xr.Dataset
        ``conduct_counts (chain, draw, pair, behaviour_period, strategy)``,
        ``outcome_counts (chain, draw, dyad, behaviour_period, outcome,
        outcome_level)``, and the latent ``true_strategy (chain, draw, pair,
        behaviour_period)`` and ``true_type (chain, draw, dyad,
        behaviour_period)`` indices (into ``STRATEGIES`` and ``ALLIANCE_TYPES``).
    """
    post = idata.posterior.to_dataset() if hasattr(idata, "posterior") else idata
    if max_draws is not None and post.sizes["draw"] > max_draws:
        step = int(np.ceil(post.sizes["draw"] / max_draws))
        post = post.isel(draw=slice(None, None, step))
    b = evidence.behaviour_periods
    params = {name: post[name].values for name in PARAMETERS if name in post}
    params["theta"] = params["theta"][..., b]
    conduct_rows = evidence.conduct_counts.sum(axis=-1)
    outcome_rows = evidence.outcome_counts.sum(axis=-1)
    sim = simulate_behaviour(
        params, evidence.structure, conduct_rows, outcome_rows, np.random.default_rng(seed)
    )
    coords = evidence.coords
    lead = {"chain": post["chain"].values, "draw": post["draw"].values}
    cd = ("chain", "draw")
    return xr.Dataset(
        {
            "conduct_counts": (
                (*cd, "pair", "behaviour_period", "strategy"),
                sim.conduct_counts,
            ),
            "outcome_counts": (
                (*cd, "dyad", "behaviour_period", "outcome", "outcome_level"),
                sim.outcome_counts,
            ),
            "true_strategy": ((*cd, "pair", "behaviour_period"), sim.strategies),
            "true_type": ((*cd, "dyad", "behaviour_period"), sim.types),
        },
        coords={
            **lead,
            **{k: coords[k] for k in ("pair", "dyad", "behaviour_period", "strategy", "outcome")},
            "outcome_level": coords["outcome_level"],
        },
    )
