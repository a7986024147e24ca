"""One model over several cases (model/generative/joint.py): the theory shared, nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from model.generative.build import build_model
from model.generative.graph import THEORY_GROUPS
from model.generative.joint import build_joint_model, case_variable
from model.workflows.forecast.inputs import load_case

CASES = ("three-emperors-1873", "dual-alliance-1879")


@pytest.fixture(scope="module")
def cases():
    return {name: load_case(name) for name in CASES}


def _own(point: dict[str, np.ndarray], case: str) -> dict[str, np.ndarray]:
    prefix = case_variable(case, "")
    return {k[len(prefix) :]: v for k, v in point.items() if k.startswith(prefix)}


def test_sharing_nothing_is_each_case_fitted_alone(cases):
    """With nothing shared the joint density is the sum of each case's own, at any point."""
    priors = cases[CASES[0]].priors
    joint = build_joint_model({n: c.evidence for n, c in cases.items()}, priors, shared=())
    alone = {n: build_model(c.evidence, priors) for n, c in cases.items()}
    assert {v.name for v in joint.free_RVs} == {
        case_variable(n, v.name) for n, m in alone.items() for v in m.free_RVs
    }
    logp = joint.compile_logp()
    alone_logp = {n: m.compile_logp() for n, m in alone.items()}
    for seed in (1, 2, 3):
        point = joint.initial_point(random_seed=seed)
        total = sum(alone_logp[n](_own(point, n)) for n in CASES)
        np.testing.assert_allclose(logp(point), total, rtol=1e-10)


def test_the_theory_is_one_set_of_variables_every_case_reads(cases):
    priors = cases[CASES[0]].priors
    joint = build_joint_model({n: c.evidence for n, c in cases.items()}, priors)
    unscoped = {v.name for v in joint.free_RVs if "::" not in v.name}
    assert unscoped == {f"{g}_gamma" for g in THEORY_GROUPS[:3]} | set(THEORY_GROUPS[3:])
    for name, inputs in cases.items():  # each case keeps its own grid and reported quantities
        dims = joint.named_vars_to_dims[case_variable(name, "theta")]
        assert dims == (f"{name}:series", f"{name}:period")
        assert joint.coords[f"{name}:period"] == inputs.evidence.periods
        assert case_variable(name, "p_axis") in joint.named_vars


def test_one_case_shared_is_the_one_case_model_renamed(cases):
    """The joint graph of a single case has the one-case model's density, names prefixed."""
    name = CASES[0]
    inputs = cases[name]
    joint = build_joint_model({name: inputs.evidence}, inputs.priors)
    alone = build_model(inputs.evidence, inputs.priors)
    point = joint.initial_point(random_seed=5)
    renamed = {k.removeprefix(case_variable(name, "")): v for k, v in point.items()}
    np.testing.assert_allclose(
        joint.compile_logp()(point), alone.compile_logp()(renamed), rtol=1e-10
    )


def test_case_names_that_would_clash_are_refused(cases):
    inputs = cases[CASES[0]]
    with pytest.raises(ValueError, match="no ':'"):
        build_joint_model({"a:b": inputs.evidence}, inputs.priors)
    with pytest.raises(ValueError, match="at least one case"):
        build_joint_model({}, inputs.priors)
