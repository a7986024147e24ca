"""Which coordinates the model is built in: a pure function of (evidence, priors).

The posterior is the same in every parametrisation; what changes is the
space NUTS moves in, and so how many leapfrog steps it needs. Three
features of this model make the plain space awkward for a diagonal mass
matrix, and each has an exact change of variables that removes it. They are
chosen here, apart from the model (:func:`model.generative.build.build_model` builds
whatever is chosen) and from the samplers (which see only a ``pm.Model``), in
the way numpyro keeps ``infer/reparam.py`` apart from its kernels.

* **The random walk is anchored at the last evidence.** The evidence fixes each
  threat series near the last periods with evidence, while the plain model's
  free variables are the series' start and its standardised innovations: the
  start and every innovation before the pinned period trade off along one
  narrow ridge. Anchored, the free variable is the series' value at the
  *anchor* (the first period of the reported window), drawn from the start's
  prior shifted by the walk up to it; the start becomes a deterministic.
* **Knots where the evidence is dense.** A period whose threat codes carry more
  information on the score than the walk does (:func:`threat_knots`) is moved
  directly too; between two knots the innovations are a Brownian bridge (their
  sum set by the knots, the rest free), which is how an iid normal walk
  factorises. None qualifies with the shipped evidence; every period with
  evidence does at 100,000 rows.
* **Centring is chosen per pooled vector.** A non-centred pooled vector whose
  members the evidence pins has an inverse funnel; a vector with a member whose
  codes carry well more information than its pooling prior is built centred
  (:func:`centred_members`), the rest keep their offsets.
* **Dirichlet rows are normalised Gammas.** With unequal concentrations PyMC's
  simplex coordinates are correlated a priori; independent Gammas divided by
  their total have exactly the Dirichlet law, and the total, which nothing
  observes, mixes on its own.

Each choice is exact: the reparametrised model's prior and posterior of every
plain variable are the plain model's (``tests/generative/test_reparam.py`` checks the
density, up to the Jacobian, and every reported quantity at random points).
"""

from __future__ import annotations

import numpy as np

from model.evidence.aggregate import Evidence
from model.evidence.priors import PriorSet
from model.generative.coordinates import (
    DIRICHLET_GROUPS,
    PLAIN,
    POOLED_GROUPS,
    Parametrisation,
    normal_constants,
)
from model.generative.graph import model_graph
from model.generative.simulate import code_information

#: A period becomes a knot when its codes' information reaches this share of the walk's.
KNOT_INFORMATION: float = 1.0

#: A pooled vector is centred when a member's code information reaches this many
#: times its pooling prior's precision.
CENTRE_INFORMATION: float = 4.0


def _prior_centre(evidence: Evidence, priors: PriorSet) -> dict[str, np.ndarray]:
    """Evaluate the threat variables and pooling scales at the plain model's initial point.

    The information rules compare the evidence with the priors where the prior
    puts its centre; both are read from the plain model, so the rules follow
    whatever families the prior set names.
    """
    import pytensor
    from pytensor.compile.mode import Mode

    model = model_graph(evidence, priors, PLAIN)
    names = ["theta", "threat_drift", "discrimination", "threshold_shift"]
    names += [f"{g}_sigma" for g in POOLED_GROUPS if f"{g}_sigma" in model.named_vars]
    names += [f"{g}_raw_sigma" for g in POOLED_GROUPS if f"{g}_raw_sigma" in model.named_vars]
    point = model.initial_point()
    fn = pytensor.function(
        model.value_vars,
        model.replace_rvs_by_values([model[n] for n in names]),
        mode=Mode(linker="py", optimizer="fast_compile"),
        on_unused_input="ignore",
    )
    values = fn(*(point[v.name] for v in model.value_vars))
    return {n: np.asarray(x) for n, x in zip(names, values, strict=True)}


def _code_information(evidence: Evidence, centre: dict[str, np.ndarray], about: str) -> np.ndarray:
    """Information of every threat cell's codes at the prior's centre, ``(cell,)``."""
    s, t, i = evidence.threat_cells.T
    counts = evidence.threat_counts.sum(axis=1)
    per_code = code_information(
        centre["theta"][s, t], centre["discrimination"][i], centre["threshold_shift"][i], about
    )
    return counts * per_code


def threat_knots(evidence: Evidence, centre: dict[str, np.ndarray]) -> list[list[int]]:
    """Knot periods of every series: the anchor, and the periods the evidence pins.

    A period is a knot when the Fisher information its threat codes carry about
    the series' score reaches the walk's own precision there, ``2 / drift**2``
    from its two neighbours, both at the prior's centre. There the evidence,
    not the walk, sets the score, and the score is the better coordinate.
    """
    n_series, n_periods = len(evidence.structure.series), len(evidence.periods)
    anchor = int(evidence.first_window)
    knots = [{anchor} for _ in range(n_series)]
    if len(evidence.threat_cells):
        info = np.zeros((n_series, n_periods))
        s, t, _ = evidence.threat_cells.T
        np.add.at(info, (s, t), _code_information(evidence, centre, "score"))
        drift = np.broadcast_to(centre["threat_drift"], (n_series,))
        pinned = info >= KNOT_INFORMATION * 2.0 / drift[:, None] ** 2
        for s_, t_ in zip(*np.nonzero(pinned), strict=True):
            knots[s_].add(int(t_))
    return [sorted(k) for k in knots]


def centred_members(evidence: Evidence, centre: dict[str, np.ndarray]) -> set[str]:
    """Find the pooled groups with a member its codes pin (information over the prior's)."""
    out = set()
    if not len(evidence.threat_cells):
        return out
    i = evidence.threat_cells[:, 2]
    for group, about in POOLED_GROUPS.items():
        sigma = centre.get(f"{group}_sigma", centre.get(f"{group}_raw_sigma"))
        if sigma is None:
            continue
        info = np.zeros(len(evidence.coords["indicator"]))
        np.add.at(info, i, _code_information(evidence, centre, about))
        if np.any(info * sigma**2 >= CENTRE_INFORMATION):
            out.add(group)
    return out


def choose(evidence: Evidence, priors: PriorSet) -> Parametrisation:
    """Choose the coordinates for ``(evidence, priors)``: pure, deterministic, exact.

    Each change of variables is taken only where the prior set allows it
    exactly: the anchor needs a Normal start with constant parameters,
    bridges need standard normal innovations, centring needs a non-centred
    pooled group, and the Gammas need a Dirichlet.
    """
    gamma = frozenset(g for g in DIRICHLET_GROUPS if priors.tables[g].get("dist") == "Dirichlet")
    pooled = [g for g in POOLED_GROUPS if priors.tables[g].get("centered") is False]
    if normal_constants(priors, "threat_init") is None:
        return Parametrisation(gamma=gamma)
    centre = _prior_centre(evidence, priors)
    knots = threat_knots(evidence, centre)
    if normal_constants(priors, "threat_innovation") != (0.0, 1.0):
        anchor = int(evidence.first_window)
        knots = [[anchor] for _ in knots]  # no bridge without standard normal steps
    centred = centred_members(evidence, centre) & set(pooled)
    if any(len(k) > 1 for k in knots) and "threshold_shift" in pooled:
        # pinned knots are pinned relative to the code thresholds: centred shifts
        # move with them instead of against their offsets
        centred.add("threshold_shift")
    return Parametrisation(
        knots=tuple(tuple(k) for k in knots), centred=frozenset(centred), gamma=gamma
    )
