"""NUTS in better coordinates: the same posterior, about half the leapfrog steps.

``pm.sample`` runs NUTS on the model's value variables. Three features of this
model make that space awkward for a diagonal mass matrix, and each has an
exact change of variables that removes it (the last adds a coordinate
that integrates out):

* **The random walk is pinned where the evidence is, parametrised at the start.**
  The evidence fixes each threat series near the last periods with evidence,
  while the free variables are the series' start ``threat_init`` and its
  standardised innovations: the start and every innovation before the pinned
  period trade off along one narrow ridge. The sampler moves the series'
  value at *knots* instead: the *anchor* (the first period of the reported
  window, the last with evidence) and every period whose threat codes carry
  more information on the score than the walk does (:func:`threat_knots`;
  none with the shipped evidence, every period with evidence at 100,000
  rows). Between two knots the innovations are a Brownian bridge, their mean
  set by the knots and the rest free (:func:`walk_map`); before the first and
  after the last knot they are the model's own. The map is linear given the
  drift; its Jacobian is ``drift**-1 * L**-1/2`` per bridge of ``L`` steps.
  Knots pinned by many codes are pinned relative to the code thresholds only,
  so with bridges the threshold shifts' mean becomes one coordinate that moves
  every knot with it (a shear, Jacobian ``sqrt(n)``).
* **Pooled effects the evidence pins are better centred.** A non-centred
  pooled vector (``Prior(..., centered=False)``: ``x = mu + sigma * offset``)
  whose members the evidence identifies well has an inverse funnel: as
  ``sigma`` shrinks, every offset must grow, and NUTS diverges there. A
  vector with a member whose codes carry well more information than its
  pooling prior (:func:`centred_members`) is moved as ``x`` itself, with
  ``mu`` non-centred around the members' average:
  ``mu = mean(x) + sigma / sqrt(k) * m``; Jacobian ``sigma**(1 - k) / sqrt(k)``
  (``sigma**-k`` when ``mu`` is a constant). A vector the evidence leaves
  near its prior keeps the model's offsets: centred, its members and their
  scale trade off along a funnel, and the scale mixed at a quarter of the
  draws.
* **A Dirichlet's simplex coordinates are correlated.** PyMC moves a row of
  ``K`` shares in ``K - 1`` centred log-ratios; with unequal concentrations
  (Table 2 and Table 3 rows such as ``[1, 2, 5, 12]``) the prior alone makes
  them correlated, which a diagonal mass matrix cannot undo: they were the
  posterior's three narrowest directions. The sampler moves ``K`` log-Gammas
  ``u`` instead, with shares ``softmax(u)``, and gives the one extra direction,
  the row's log total ``logsumexp(u)``, the density of ``log Gamma(sum(a), 1)``
  (:func:`log_gamma_total`). The Gammas are then independent a priori, and
  the total, independent of everything else, integrates out exactly.

The prior, the likelihood and every reported quantity are the model's own
(compiled from :meth:`pymc.Model.logp`); only the coordinates NUTS moves in
differ. Measured on the shipped data at target_accept 0.95: 31-39 leapfrog
steps per draw instead of 63 (``scripts/benchmark.py``, the README). No
shipped member is pinned. With every pooled member centred, the lowest bulk
ESS of any reported quantity was 869-965 of 4,000 draws, always a pooling
scale (five seeds); with none centred it was 2,175-3,055 (seven seeds), and
divergences were as frequent either way (3 of the 5 fits and 4 of the 7 had
one or more; such a chain is redrawn). Those divergences sat in the upper
tail of a discrimination; the narrower pooling prior of ``priors/*.toml``
(since commit 0093439) left none in 11 fits. The Gamma
coordinates of the Dirichlets cut the condition number of the whitened
posterior covariance from 37 to 16.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pytensor.graph.replace import graph_replace
from pytensor.tensor import TensorLike
from xarray import DataTree

from model.chains import ChainJob, ChainResult, WorkerPool, export_potential, usable_cores

#: numpyro's per-draw statistics, renamed as PyMC names them.
_STATS: dict[str, str] = {
    "diverging": "diverging",
    "num_steps": "n_steps",
    "potential_energy": "lp",
    "energy": "energy",
    "adapt_state.step_size": "step_size",
    "accept_prob": "acceptance_rate",
}


@dataclass(frozen=True)
class Coordinates:
    """The space NUTS samples in, and the way back to the model's value variables.

    Attributes
    ----------
    names
        Sampler coordinate names, in input order.
    logp
        JAX function of the coordinates (in ``names`` order): the joint log density.
    to_values
        JAX function of the coordinates: the model's value variables, in
        ``model.value_vars`` order.
    from_values
        JAX function of the model's value variables: the coordinates.
    anchored
        Whether the random-walk anchor is in use.
    centred
        Names of the pooled vectors sampled centred.
    gamma
        Names of the Dirichlet variables sampled as normalised Gammas.
    knots
        Number of random-walk knots (one per series when only anchored).
    """

    names: tuple[str, ...]
    logp: Callable[..., Any]
    to_values: Callable[..., Any]
    from_values: Callable[..., Any]
    anchored: bool
    centred: tuple[str, ...]
    gamma: tuple[str, ...] = ()
    knots: int = 0


def _pooled_group(
    model: pm.Model, rv: pt.TensorVariable
) -> tuple[str, pt.TensorVariable, pt.TensorVariable | None] | None:
    """``(name, sigma, mu)`` if ``rv`` is the offset of a non-centred pooled vector.

    ``pymc_extras.prior.Prior(..., centered=False)`` draws ``name_offset``
    standard normal with ``name = mu + sigma * name_offset``; ``mu`` is a free
    scalar or a constant (``None`` here).
    """
    if not rv.name.endswith("_offset") or rv.ndim != 1:
        return None
    base = rv.name.removesuffix("_offset")
    free = set(model.free_RVs)
    sigma = model.named_vars.get(f"{base}_sigma")
    mu = model.named_vars.get(f"{base}_mu")
    if sigma not in free or sigma.ndim or base not in model.named_vars:
        return None
    if mu is not None and (mu not in free or mu.ndim or model.rvs_to_transforms.get(mu)):
        return None
    return base, sigma, mu


def _is_dirichlet(model: pm.Model, rv: pt.TensorVariable) -> bool:
    """Whether ``rv`` is a Dirichlet on PyMC's default simplex transform."""
    from pymc.logprob.transforms import SimplexTransform
    from pytensor.tensor.random.basic import DirichletRV

    return isinstance(rv.owner.op, DirichletRV) and isinstance(
        model.rvs_to_transforms.get(rv), SimplexTransform
    )


def log_gamma_total(total: TensorLike, concentration: TensorLike) -> pt.TensorVariable:
    """Log density of ``r = log S`` for ``S ~ Gamma(concentration, 1)``, summed.

    The density the sampler gives the log of a Dirichlet row's Gamma total:
    with it the row's Gamma coordinates are independent a priori.
    """
    r = pt.as_tensor_variable(total)
    a = pt.as_tensor_variable(concentration)
    return (a * r - pt.exp(r) - pt.gammaln(a)).sum()


def bridge_basis(n: int) -> np.ndarray:
    """``(n, n - 1)`` orthonormal columns orthogonal to the ones vector (Helmert's).

    Between two knots ``L`` steps apart the standardised innovations are
    ``z = (theta_b - theta_a) / (drift * L) + B w``: ``B`` carries the bridge's
    ``L - 1`` free directions, none of which moves the knots.
    """
    out = np.zeros((n, n - 1))
    for j in range(1, n):
        out[:j, j - 1] = 1.0 / np.sqrt(j * (j + 1))
        out[j, j - 1] = -j / np.sqrt(j * (j + 1))
    return out


@dataclass(frozen=True)
class WalkMap:
    """The random walk in knot coordinates: a linear map, given the drift.

    Each series is sampled at its *knots* (the anchor period and every period
    whose evidence pins it) with the innovations between two knots as a
    Brownian bridge, and the innovations before the first and after the last
    knot as they are. With ``z`` the model's standardised innovations of all
    series, flattened ``(series * step)``, ``k`` the knot values and ``r`` the
    remaining coordinates:

    * ``z = P r + (Q k) / drift[series of the step]``;
    * ``init = F k - drift * (G r)`` (the walk run back from the first knot);
    * back: ``r = P.T z``, ``k = theta[knots]``.

    Attributes
    ----------
    knots
        ``(knot, 2)``: series and period of every knot, series-major.
    P, Q, F, G
        The constant matrices above.
    intervals
        Number of bridges per series: the Jacobian is
        ``prod drift**-intervals * prod L**-1/2``.
    log_length
        ``sum_bridges log L`` (for the constant ``-1/2 sum log L``).
    """

    knots: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    F: np.ndarray
    G: np.ndarray
    intervals: np.ndarray
    log_length: float

    @property
    def bridged(self) -> bool:
        """Whether any series has a bridge (else one knot each: ``P = I``, ``Q = 0``)."""
        return bool(self.intervals.any())


def walk_map(knots: Sequence[Sequence[int]], n_periods: int) -> WalkMap:
    """Build :class:`WalkMap` for a list of knot periods per series.

    Every series needs at least one knot; periods index the model's
    ``period`` dim (the walk has ``n_periods - 1`` steps; step ``u`` moves
    period ``u`` to ``u + 1``).
    """
    n_s, n_u = len(knots), n_periods - 1
    columns: list[np.ndarray] = []  # of P
    q_entries: list[tuple[int, int, float]] = []  # (step, knot, value) of Q
    first: list[int] = []  # each series' first knot
    before: list[tuple[int, int]] = []  # (series, column of r) summed back to init
    where: list[tuple[int, int]] = []
    intervals = np.zeros(n_s)
    log_length = 0.0

    def column(steps: np.ndarray, weights: np.ndarray | float) -> int:
        col = np.zeros(n_s * n_u)
        col[steps] = weights
        columns.append(col)
        return len(columns) - 1

    for s, periods in enumerate(knots):
        ks = sorted({int(k) for k in periods})
        if not ks:
            raise ValueError(f"series {s} has no knot")
        row, base = s * n_u, len(where)
        first.append(base)
        where += [(s, k) for k in ks]
        before += [(s, column(np.array([row + u]), 1.0)) for u in range(ks[0])]
        for j, (a, b) in enumerate(pairwise(ks)):
            steps = row + np.arange(a, b)
            intervals[s] += 1
            log_length += np.log(b - a)
            for u in steps:  # every step of the bridge shares the knots' difference
                q_entries += [(u, base + j + 1, 1.0 / (b - a)), (u, base + j, -1.0 / (b - a))]
            for w in bridge_basis(b - a).T:
                column(steps, w)
        for u in range(ks[-1], n_u):  # after the last knot
            column(np.array([row + u]), 1.0)
    P = np.stack(columns, axis=1) if columns else np.zeros((n_s * n_u, 0))
    Q = np.zeros((n_s * n_u, len(where)))
    for u, k, value in q_entries:
        Q[u, k] += value
    F = np.zeros((n_s, len(where)))
    F[np.arange(n_s), first] = 1.0
    G = np.zeros((n_s, P.shape[1]))
    for s, c in before:
        G[s, c] = 1.0
    return WalkMap(np.array(where), P, Q, F, G, intervals, float(log_length))


def shift_basis(n: int, seen: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Split ``n`` threshold shifts into the mean of the ``seen`` ones and contrasts.

    Returns ``along`` (``1`` on the seen indicators) and ``(n, n - 1)``
    orthonormal columns orthogonal to it: Helmert contrasts among the seen
    shifts and a unit column for each unseen one, so that
    ``x = mean * along + basis @ contrast``.
    """
    seen = sorted(seen)
    unseen = [i for i in range(n) if i not in seen]
    along = np.zeros(n)
    along[seen] = 1.0
    basis = np.zeros((n, n - 1))
    basis[seen, : len(seen) - 1] = bridge_basis(len(seen))
    basis[unseen, len(seen) - 1 :] = np.eye(len(unseen))
    return along, basis


def _threat_cells(model: pm.Model) -> np.ndarray:
    """``(cell, 3)`` series, period and indicator index of each threat cell of the model.

    Read from the ``threat_cell`` labels (``series|period|indicator``), so the
    sampler needs nothing but the model.
    """
    dims = [list(model.coords[d]) for d in ("series", "period", "indicator")]
    labels = [c.split("|") for c in model.coords.get("threat_cell", ())]
    return np.array([[d.index(x) for d, x in zip(dims, c, strict=True)] for c in labels], int)


def _coded_cells(model: pm.Model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes per threat cell, and the cell's series, period and indicator indices."""
    counts = model.rvs_to_values[model["threat_evidence"]].data.sum(axis=-1)
    s, t, i = _threat_cells(model).T
    return counts, s, t, i


#: The threat variables the evidence rules (knots, centring) read at the prior's centre.
_AT_START = ("theta", "threat_drift", "discrimination", "threshold_shift")


def _at_start(
    model: pm.Model, point: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray] | None:
    """Evaluate the threat variables and pooling scales at the initial point (the prior's centre).

    ``None`` when the model has no threat evidence to weigh. Evaluated once
    per sampler build and shared by :func:`threat_knots` and
    :func:`centred_members`; ``point`` is ``model.initial_point()``, if at hand.
    """
    import pytensor
    from pytensor.compile.mode import Mode

    if not all(n in model.named_vars for n in ("threat_evidence", *_AT_START)):
        return None
    pooled = [g[:2] for rv in model.free_RVs if (g := _pooled_group(model, rv)) is not None]
    # each pooled vector and its scale, once
    names = list(dict.fromkeys([*_AT_START, *(n for b, sigma in pooled for n in (b, sigma.name))]))
    point = model.initial_point() if point is None else point
    at_start = pytensor.function(  # a few small arrays, once: the Python linker is quickest
        model.value_vars,
        model.replace_rvs_by_values([model[n] for n in names]),
        mode=Mode(linker="py", optimizer="fast_compile"),
        on_unused_input="ignore",
    )
    values = at_start(*(point[v.name] for v in model.value_vars))
    return {n: np.asarray(x) for n, x in zip(names, values, strict=True)}


#: A period becomes a knot when its codes' information reaches this share of the walk's.
KNOT_INFORMATION: float = 1.0


def threat_knots(
    model: pm.Model, anchor: str, start: dict[str, np.ndarray] | None = None
) -> list[list[int]]:
    """Knot periods of every series: the anchor, and the periods the evidence pins.

    A period is a knot of a series when the Fisher information its threat
    codes carry about the series' latent score (:func:`model.simulate.code_information`,
    summed over its codes) reaches the random walk's own precision there,
    ``2 / drift**2`` from its two neighbours; both are taken at the model's
    initial point (the prior's centre). There the evidence, not the walk,
    sets the score, and a knot moved directly is the better coordinate; with
    the shipped evidence (at most three codes in a cell) no period qualifies
    and the walk is only anchored. ``start`` is :func:`_at_start`'s evaluation,
    if already made.
    """
    from model.simulate import code_information

    series, periods = list(model.coords["series"]), list(model.coords["period"])
    ref = periods.index(anchor)
    knots = [{ref} for _ in series]
    start = _at_start(model) if start is None else start
    if start is None:
        return [sorted(k) for k in knots]
    theta, drift, disc, shift = (start[n] for n in _AT_START)
    drift = np.broadcast_to(drift, (len(series),))
    counts, s, t, i = _coded_cells(model)
    info = np.zeros((len(series), len(periods)))
    np.add.at(info, (s, t), counts * code_information(theta[s, t], disc[i], shift[i]))
    walk_precision = 2.0 / drift[:, None] ** 2
    for s, t in zip(*np.nonzero(info >= KNOT_INFORMATION * walk_precision), strict=True):
        knots[s].add(int(t))
    return [sorted(k) for k in knots]


#: A pooled member is sampled centred when its codes' information on it reaches
#: this many times the pooling prior's precision.
CENTRE_INFORMATION: float = 4.0

#: What a threat code informs, for each pooled vector whose members are indicators.
_POOLED_INFORMATION: dict[str, Literal["score", "log_discrimination"]] = {
    "threshold_shift": "score",  # the shift moves the score's thresholds
    "discrimination_raw": "log_discrimination",  # discrimination = exp(raw)
}


def centred_members(
    model: pm.Model, start: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Find the members of each pooled vector its evidence pins, as boolean masks.

    A member is pinned when the Fisher information its threat codes carry
    about it (:func:`model.simulate.code_information`, summed over its codes)
    reaches :data:`CENTRE_INFORMATION` times the pooling prior's precision
    ``1 / sigma**2``; both are taken at the model's initial point, as for
    :func:`threat_knots`. Non-centred, a pinned member would sit in an
    inverse funnel, so :func:`sampler_coordinates` centres a vector with any
    pinned member. A vector with none keeps the model's offsets: its pooling
    scale mixes about three times faster so (measured on the shipped
    evidence, where no member reaches the bar). Pooled vectors of other
    kinds are left non-centred. ``start`` is :func:`_at_start`'s evaluation,
    if already made.
    """
    from model.simulate import code_information

    start = _at_start(model) if start is None else start
    if start is None:  # no threat evidence: nothing is pinned
        return {}
    theta, disc, shift = start["theta"], start["discrimination"], start["threshold_shift"]
    counts, s, t, i = _coded_cells(model)
    centre: dict[str, np.ndarray] = {}
    for rv in model.free_RVs:
        if (found := _pooled_group(model, rv)) is None:
            continue
        base, sigma = found[:2]
        info = np.zeros(np.shape(start[base]))
        if (about := _POOLED_INFORMATION.get(base)) is not None:
            np.add.at(info, i, counts * code_information(theta[s, t], disc[i], shift[i], about))
        centre[base] = info * start[sigma.name] ** 2 >= CENTRE_INFORMATION
    return centre


def sampler_coordinates(
    model: pm.Model,
    anchor: str | None,
    knots: Sequence[Sequence[int]] | None = None,
    centre: dict[str, np.ndarray] | None = None,
) -> Coordinates:
    """Build the sampler's coordinates for ``model``.

    Parameters
    ----------
    model
        A model from :func:`model.build.build_model`.
    anchor
        Period label at which to anchor the random walk (``None``: no anchor).
    knots
        Knot periods per series (default: :func:`threat_knots`); ignored without
        an anchor.
    centre
        Members of each pooled vector the evidence pins, as boolean masks by
        vector name (default: :func:`centred_members`); a vector with any is
        moved centred as a whole. With bridged knots the threshold shifts are
        centred: the pinned knots ride on their mean.
    """
    from pymc.sampling.jax import get_jaxified_graph

    value_of = {rv: model.rvs_to_values[rv] for rv in model.free_RVs}
    point = model.initial_point()
    shape_of = {name: np.shape(value) for name, value in point.items()}
    replace: dict[pt.TensorVariable, pt.TensorVariable] = {}
    inputs: dict[str, pt.TensorVariable] = {}
    to_coords: dict[str, pt.TensorVariable] = {}
    extra = pt.constant(0.0, dtype="float64")
    anchored = False
    walk: WalkMap | None = None
    start = _at_start(model, point) if knots is None or centre is None else None
    if anchor is not None and "threat_init" in model.named_vars:
        knots = threat_knots(model, anchor, start) if knots is None else knots
        n_s, n_u = shape_of[value_of[model["threat_innovation"]].name]
        walk = walk_map(knots, n_u + 1)
        init_v = value_of[model["threat_init"]]
        z_v = value_of[model["threat_innovation"]]
        (drift,) = model.replace_rvs_by_values([model["threat_drift"]])
        drift = pt.broadcast_to(drift, (n_s,))
        k_v = pt.tensor("threat_knots", shape=(len(walk.knots),), dtype=init_v.dtype)
        r_v = pt.tensor("threat_steps", shape=(walk.P.shape[1],), dtype=init_v.dtype)
        z = r_v  # with one knot per series there is no bridge: P is the identity and Q is zero
        if walk.bridged:
            z = pt.dot(walk.P, r_v) + pt.dot(walk.Q, k_v) / pt.repeat(drift, n_u)
        replace[z_v] = z.reshape((n_s, n_u))
        replace[init_v] = pt.dot(walk.F, k_v) - drift * pt.dot(walk.G, r_v)
        extra = extra - (walk.intervals * pt.log(drift)).sum() - 0.5 * walk.log_length
        (theta,) = model.replace_rvs_by_values([model["theta"]])
        inputs[k_v.name], inputs[r_v.name] = k_v, r_v
        to_coords[k_v.name] = theta[walk.knots[:, 0], walk.knots[:, 1]]
        to_coords[r_v.name] = pt.dot(walk.P.T, z_v.reshape((-1,)))
        anchored = True
    centre = dict(centred_members(model, start) if centre is None else centre)
    if walk is not None and walk.bridged and "threshold_shift" in centre:
        centre["threshold_shift"] = np.ones_like(centre["threshold_shift"], bool)
    centred = []
    for rv in model.free_RVs:
        group = _pooled_group(model, rv)
        if group is None:
            continue
        base, sigma_rv, mu_rv = group
        offset_v = value_of[rv]
        if not np.any(centre.get(base, False)):  # the model's own offsets
            continue
        sigma = model.replace_rvs_by_values([sigma_rv])[0]
        k = int(np.prod(shape_of[offset_v.name]))
        centred.append(base)
        raw = offset_v.type(name=f"{base}_centred")
        inputs[raw.name] = raw
        if mu_rv is None:  # effects around zero: raw = sigma * offset
            replace[offset_v] = raw / sigma
            extra = extra - k * pt.log(sigma)
            to_coords[raw.name] = sigma * offset_v
        else:  # the mean, non-centred around the effects' average
            mu_v = value_of[mu_rv]
            local = mu_v.type(name=f"{base}_mu_local")
            mu = raw.mean() + sigma / np.sqrt(k) * local
            replace[mu_v] = mu
            replace[offset_v] = (raw - mu) / sigma
            extra = extra + (1 - k) * pt.log(sigma) - 0.5 * np.log(k)
            to_coords[raw.name] = mu_v + sigma * offset_v
            to_coords[local.name] = (mu_v - (mu_v + sigma * offset_v).mean()) * np.sqrt(k) / sigma
            inputs[local.name] = local
    gamma = []
    for rv in model.free_RVs:
        if not _is_dirichlet(model, rv):
            continue
        y = value_of[rv]  # (..., K - 1): centred log shares without the last
        shape = (*shape_of[y.name][:-1], shape_of[y.name][-1] + 1)
        u = pt.tensor(f"{rv.name}_log_gamma", shape=shape, dtype=y.dtype)
        inputs[u.name] = u
        replace[y] = (u - u.mean(axis=-1, keepdims=True))[..., :-1]
        (alpha,) = model.replace_rvs_by_values([rv.owner.op.dist_params(rv.owner)[0]])
        total = pt.broadcast_to(alpha, shape).sum(axis=-1)
        # |det d(y, log total) / du| = 1 / K for every row: a constant, kept for exactness
        rows = int(np.prod(shape[:-1]))
        extra = extra + log_gamma_total(pt.logsumexp(u, axis=-1), total) - rows * np.log(shape[-1])
        full = pt.concatenate([y, -y.sum(axis=-1, keepdims=True)], axis=-1)
        to_coords[u.name] = full + (pt.log(total) - pt.logsumexp(full, axis=-1))[..., None]
        gamma.append(rv.name)
    for rv in model.free_RVs:
        v = value_of[rv]
        if v not in replace:
            inputs[v.name] = v
            to_coords[v.name] = v
    logp = model.logp() + extra
    logp = graph_replace(logp, replace, strict=False)
    values = [replace.get(v, v) for v in model.value_vars]
    level = "threshold_shift_centred"
    if walk is not None and walk.bridged and level in inputs:
        # Knots pinned by the evidence are pinned relative to the code thresholds
        # only: every score and the shifts of every indicator with evidence can
        # move together. That ridge becomes one coordinate, the mean of those
        # shifts, with the knots riding on it; the rest of the shifts are
        # orthonormal contrasts to it.
        x_v, k_v = inputs.pop(level), inputs.pop("threat_knots")
        seen = sorted(set(_threat_cells(model)[:, 2].tolist()))
        along, basis = shift_basis(shape_of["threshold_shift_offset"][0], seen)
        mean = pt.scalar("threat_level", dtype=x_v.dtype)
        contrast = pt.tensor("threshold_shift_contrast", shape=(basis.shape[1],), dtype=x_v.dtype)
        knots_rel = k_v.type(name="threat_knots_relative")
        shear = {x_v: mean * along + pt.dot(basis, contrast), k_v: knots_rel + mean}
        # |det d(knots, shifts) / d(relative knots, mean, contrasts)| = sqrt(#seen)
        logp = graph_replace(logp, shear, strict=False) + 0.5 * np.log(len(seen))
        values = [graph_replace(v, shear, strict=False) for v in values]
        x, k = to_coords.pop(level), to_coords.pop("threat_knots")
        for var, to in (
            (knots_rel, k - x[seen].mean()),
            (mean, x[seen].mean()),
            (contrast, pt.dot(basis.T, x)),
        ):
            inputs[var.name], to_coords[var.name] = var, to
    names = tuple(inputs)
    ins = [inputs[n] for n in names]
    return Coordinates(
        names=names,
        logp=get_jaxified_graph(inputs=ins, outputs=[logp]),
        to_values=get_jaxified_graph(inputs=ins, outputs=[_fresh(v) for v in values]),
        from_values=get_jaxified_graph(
            inputs=model.value_vars, outputs=[_fresh(to_coords[n]) for n in names]
        ),
        anchored=anchored,
        centred=tuple(centred),
        gamma=tuple(gamma),
        knots=0 if walk is None else len(walk.knots),
    )


def _fresh(var: pt.TensorVariable) -> pt.TensorVariable:
    """Copy a bare input so that a compiled graph computes every output."""
    return var.copy() if var.owner is None else var


def _initial(model: pm.Model, coords: Coordinates, chains: int, seed: int) -> dict[str, np.ndarray]:
    """Jittered starting points, one per chain, in sampler coordinates (like ``pm.sample``).

    Each chain starts at the model's initial point plus uniform(-1, 1) noise in
    the value space; a start with a non-finite density is redrawn.
    """
    import jax

    rng = np.random.default_rng(seed)
    point = model.initial_point()
    to_coords = jax.jit(jax.vmap(coords.from_values))
    density = jax.jit(jax.vmap(lambda *c: coords.logp(*c)[0]))
    starts: list[np.ndarray] | None = None
    for _attempt in range(20):
        values = [
            point[v.name] + rng.uniform(-1, 1, (chains, *np.shape(point[v.name])))
            for v in model.value_vars
        ]
        fresh = [np.array(x) for x in to_coords(*values)]  # writable copies
        if starts is None:
            starts, bad = fresh, np.ones(chains, dtype=bool)
        for old, new in zip(starts, fresh, strict=True):
            old[bad] = new[bad]
        bad = ~np.isfinite(np.asarray(density(*starts)))
        if not bad.any():
            break
    return dict(zip(coords.names, starts, strict=True))


#: Name of the run-folder group that keeps the adapted sampler, for warm starts.
STATE_GROUP = "sampler_state"

#: Warm-up iterations of a warm start: the step size is re-tuned, the mass matrix kept.
WARM_TUNE = 150


def sampler_state(result: ChainResult, names: tuple[str, ...]) -> xr.Dataset:
    """Collect the adapted sampler at the end of a run: positions, mass matrix, step size.

    A later fit of the same structure (``axis update`` with a few new rows)
    starts from it instead of adapting from scratch.
    """
    data: dict[str, Any] = {}
    for n in names:
        z = result.last[n]
        data[f"z_{n}"] = (("chain", *(f"{n}_dim_{i}" for i in range(z.ndim - 1))), z)
    data["inverse_mass"] = (("chain", "flat"), result.inverse_mass)
    data["step_size"] = (("chain",), result.step_size)
    return xr.Dataset(data, attrs={"names": ",".join(names)})


def load_sampler_state(run_folder: Path) -> xr.Dataset | None:
    """Read a run folder's saved sampler state (``None`` if it has none or cannot be read)."""
    state = read_group(run_folder, STATE_GROUP)
    if state is not None:
        state.attrs["source"] = str(run_folder)
    return state


def read_group(run_folder: Path, group: str) -> xr.Dataset | None:
    """Read one group of a run folder's ``posterior.nc`` (``None``: absent or unreadable)."""
    try:
        with xr.open_dataset(Path(run_folder) / "posterior.nc", group=group) as ds:
            return ds.load()
    except (OSError, ValueError, KeyError):
        return None


def _warm_usable(
    state: xr.Dataset | None, coords: Coordinates, init: dict[str, np.ndarray]
) -> bool:
    """Whether a saved sampler state fits these coordinates (same names and shapes)."""
    if state is None or state.attrs.get("names") != ",".join(coords.names):
        return False
    return all(state[f"z_{n}"].shape[1:] == init[n].shape[1:] for n in coords.names)


def sample_numpyro(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    anchor: str | None,
    warm: xr.Dataset | None = None,
    workers: int | None = None,
    cache_dir: str | None = None,
    only_chains: Sequence[int] | None = None,
) -> DataTree:
    """NUTS (numpyro) in :func:`sampler_coordinates`; returns what ``pm.sample`` would.

    Chains run in parallel in ``workers`` processes (default: one per usable
    core, at most one per chain; 0 or 1 runs them in this process), see
    :mod:`model.chains`. ``cache_dir`` is JAX's persistent compilation cache
    for the chain program. The posterior group holds
    every free variable (constrained) and deterministic of the model, with the
    model's dims; ``sample_stats`` holds PyMC's names; ``sampler_state``
    holds the adapted sampler (:func:`sampler_state`).

    With ``warm`` (a previous run's ``sampler_state`` of the same structure),
    the chains start where that run ended, keep its mass matrix and re-tune
    only the step size, in :data:`WARM_TUNE` iterations instead of ``tune``.
    A state that does not fit is ignored (a full warm-up is run).

    ``only_chains`` runs just those of the ``chains`` chains, each with the key
    and start it has in the full run (to redraw a chain; :func:`splice_chains`).
    """
    import jax
    import numpyro
    from arviz_base import make_attrs
    from pymc.sampling.jax import get_jaxified_graph
    from pymc.util import get_default_varnames

    start = time.perf_counter()
    subset = list(range(chains)) if only_chains is None else sorted(only_chains)
    workers = min(len(subset), usable_cores()) if workers is None else workers
    with WorkerPool(workers) as pool:  # started now: their imports overlap the build below
        coords = sampler_coordinates(model, anchor)
        names = coords.names

        def potential(z: dict[str, jax.Array]) -> jax.Array:
            return -coords.logp(*(z[n] for n in names))[0]

        init = _initial(model, coords, chains, seed)
        job = ChainJob(
            names=names,
            init=init,
            keys=np.asarray(jax.random.split(jax.random.PRNGKey(seed), chains)),
            tune=tune,
            draws=draws,
            target_accept=target_accept,
            fields=tuple(_STATS),
            cache_dir=cache_dir,
        )
        warmed = _warm_usable(warm, coords, init)
        if warmed:
            last = np.arange(chains) % warm.sizes["chain"]
            job = replace(
                job,
                init={n: np.asarray(warm[f"z_{n}"].values)[last] for n in names},
                step_size=float(np.median(warm["step_size"].values)),
                # flattened in sorted-name order, numpyro's order for a dict of coordinates
                inverse_mass=np.asarray(warm["inverse_mass"].values).mean(axis=0),
                adapt_mass=False,
                tune=min(tune, WARM_TUNE),
            )
        if only_chains is not None:
            job = job.part(subset)
        job = replace(
            job, potential=export_potential(potential, names, {n: v[0] for n, v in init.items()})
        )
        sent = time.perf_counter()
        result = pool.run(job)
    back = time.perf_counter()
    tune = job.tune
    z = result.samples
    outputs = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    post_fn = get_jaxified_graph(inputs=model.value_vars, outputs=outputs)

    @jax.jit
    def postprocess(z: dict[str, jax.Array]) -> list[jax.Array]:
        def one(*c: jax.Array) -> list[jax.Array]:
            return post_fn(*coords.to_values(*c))

        return jax.vmap(jax.vmap(one))(*(z[n] for n in names))

    posterior = {v.name: np.asarray(r) for v, r in zip(outputs, postprocess(z), strict=True)}
    done = time.perf_counter()
    stats = {_STATS[k]: v for k, v in result.fields.items() if k in _STATS}
    stats["tree_depth"] = np.log2(stats["n_steps"]).astype(int) + 1
    idata = posterior_tree(
        model,
        posterior,
        stats,
        make_attrs(
            {
                "tuning_steps": tune,
                "sampler_coordinates": ",".join(names),
                "random_walk_anchor": anchor if coords.anchored else "",
                "random_walk_knots": coords.knots,
                "warm_start": int(warmed),
                "worker_processes": pool.size,
                "stage_seconds": json.dumps(
                    stage_seconds(start, sent, back, done, float(result.seconds.max()))
                ),
            },
            inference_library=numpyro,
        ),
    )
    idata[STATE_GROUP] = sampler_state(result, names)
    return idata


def stage_seconds(
    start: float, sent: float, back: float, done: float, nuts: float
) -> dict[str, float]:
    """Where a NUTS run's wall time went, from :func:`time.perf_counter` marks.

    ``setup``: the sampler's coordinates, starting points and the exported
    density, up to the chains being handed over; ``nuts``: the slowest
    worker's NUTS (loading or compiling its program, warm-up and draws);
    ``workers``: the rest of the hand-over (start-up not hidden by the
    setup, and the draws' transfer); ``collect``: the deterministics of every
    draw, from its coordinates.
    """
    return {
        "setup": round(sent - start, 2),
        "nuts": round(nuts, 2),
        "workers": round(max(back - sent - nuts, 0.0), 2),
        "collect": round(done - back, 2),
    }


def posterior_tree(
    model: pm.Model,
    posterior: dict[str, np.ndarray],
    stats: dict[str, np.ndarray],
    attrs: dict[str, Any],
) -> DataTree:
    """Assemble a run's DataTree from draws, ``(chain, draw, ...)``, with the model's dims.

    Shared by the NUTS sampler and the reweighted update
    (:mod:`model.reweight`), so both write the same groups.
    """
    from arviz_base import from_dict
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    model_coords, dims = coords_and_dims_for_inferencedata(model)
    groups: dict[str, Any] = {"posterior": posterior, "sample_stats": stats}
    for name, found in (("observed_data", find_observations), ("constant_data", find_constants)):
        data = found(model)
        if data is not None:
            groups[name] = data
    return from_dict(
        data=groups,
        coords=model_coords,
        dims=dims,
        sample_dims=["chain", "draw"],
        attrs={"posterior": attrs},
    )


def splice_chains(idata: DataTree, fresh: DataTree, chains: Sequence[int]) -> DataTree:
    """Replace ``chains`` of ``idata`` by the chains of ``fresh``, in order.

    Every chain-indexed variable of the posterior, the sampler statistics and
    the sampler state is replaced; the rest of ``idata`` is kept.
    """
    out = idata.copy(deep=True)
    idx = list(chains)
    for group in ("posterior", "sample_stats", STATE_GROUP):
        if group not in idata.children:
            continue
        ds = out[group].to_dataset()
        new = fresh[group].to_dataset()
        for name, da in ds.data_vars.items():
            if "chain" not in da.dims:
                continue
            values = da.values.copy()
            axis = da.dims.index("chain")
            replacement = new[name].transpose(*da.dims).values
            np.moveaxis(values, axis, 0)[idx] = np.moveaxis(replacement, axis, 0)
            ds[name] = da.copy(data=values)
        out[group] = ds
    return out
