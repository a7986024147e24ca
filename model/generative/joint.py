"""One model over several cases: the theory shared, each case's threats and evidence its own.

Weitsman's tables are a claim about every alliance, not about one. A joint
fit lets the cases the theory was built on teach Table 2, Table 3 and the
coders' error rates (:data:`~model.generative.graph.THEORY_GROUPS`) together,
while each case keeps its own actors, external actor, period grid, threat
walks and measurement model (discrimination, threshold shifts, level
sharpness): the cases' sources and eras differ (telegrams and treaty texts
against event data), so nothing but the theory is assumed common.

Each case is a named PyMC submodel: its variables are ``<case>::theta``,
``<case>::p_axis``, ... over its own dimensions (``<case>:series``, ...;
:class:`~model.generative.graph.Scope`). With one case and the theory shared
the graph is the one-case model's with its names prefixed; with nothing
shared, the joint density is the sum of the cases' own
(``tests/generative/test_joint.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pymc as pm

from model.evidence.aggregate import Evidence
from model.evidence.priors import PriorSet
from model.generative.coordinates import Parametrisation
from model.generative.graph import SHARED_DIMS, THEORY_GROUPS, Scope, Theory, case_graph
from model.generative.prior_data import LivePriors, prior_structure
from model.generative.reparam import choose

__all__ = ["build_joint_model", "case_variable"]


def case_variable(case: str, name: str) -> str:
    """Return the joint model's name of a case's variable (``"<case>::<name>"``)."""
    return f"{case}::{name}"


def build_joint_model(
    cases: Mapping[str, Evidence],
    priors: PriorSet,
    *,
    shared: Sequence[str] = THEORY_GROUPS,
    parametrisations: Mapping[str, Parametrisation] | None = None,
) -> pm.Model:
    """Build one model over several cases, sharing the theory's variables.

    Parameters
    ----------
    cases
        Each case's aggregated evidence, by case name (the names prefix the
        cases' variables and dimensions).
    priors
        One prior set for every case: the shared tables' prior, and each
        case's own threat and measurement priors (scalars or arrays that fit
        every case's series).
    shared
        Prior groups every case reads from one variable; by default the
        theory (Table 2, Table 3, conduct and outcome error rates). ``()``
        shares nothing: the cases are then independent models side by side.
    parametrisations
        Each case's coordinates; by default chosen for it alone
        (:func:`model.generative.reparam.choose`), as a one-case fit would.

    Returns
    -------
    pm.Model
        With the attributes ``cases`` (the case names, in order) and
        ``parametrisation`` (by case).
    """
    if not cases:
        raise ValueError("a joint model needs at least one case")
    bad = [name for name in cases if not name or "::" in name or ":" in name]
    if bad:
        raise ValueError(f"case names must be non-empty and hold no ':': {bad}")
    params = {
        name: (parametrisations or {}).get(name) or choose(ev, priors) for name, ev in cases.items()
    }
    first = next(iter(cases.values()))
    gamma = next(iter(params.values())).gamma  # the tables' coordinates depend on the priors only
    common = {k: v for k, v in first.coords.items() if k in SHARED_DIMS}
    live = LivePriors(priors)
    with pm.Model(coords=common) as model:
        theory = Theory(live, gamma, model, shared)
        for name, ev in cases.items():
            scope = Scope(name)
            own = {k: v for k, v in scope.coords(ev.coords).items() if k not in SHARED_DIMS}
            with pm.Model(name=name, coords=own):
                case_graph(ev, live, params[name], scope, theory)
    model.cases = tuple(cases)
    model.prior_structure = prior_structure(priors)
    model.parametrisation = params
    return model
