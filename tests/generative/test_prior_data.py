"""A prior set's numbers are the model's data: one built model moves between prior sets of
one structure, and its density then is the density of a model built for the other set."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model.generative.build import build_model
from model.generative.prior_data import (
    FIXED_GROUPS,
    prior_numbers,
    prior_structure,
    set_priors,
)
from model.workflows.forecast.inputs import load_prior_set


@pytest.fixture(scope="module")
def sets():
    return {name: load_prior_set(name) for name in ("default", "no_theory", "realist", "learned")}


def test_every_number_of_a_set_is_named_once_hyperpriors_included(sets):
    numbers = prior_numbers(sets["default"])
    assert numbers["discrimination__mu__mu"] == pytest.approx(0.7)
    assert numbers["discrimination__sigma__sigma"] == pytest.approx(0.1)
    assert numbers["strategy_map__a"].shape == (3, 3, 4)
    assert numbers["strategy_map__a"][2, 0].tolist() == [2.4, 2.6, 14.0, 1.0]  # cell G
    assert not any(name.split("__")[0] in FIXED_GROUPS for name in numbers)


def test_structure_ignores_numbers_but_not_families_or_shapes(sets):
    default = prior_structure(sets["default"])
    assert prior_structure(sets["no_theory"]) == default
    assert prior_structure(sets["learned"]) == default
    assert prior_structure(sets["realist"]) != default  # Walt's map has no internal level
    swept = sets["default"].scaled_concentration("strategy_map", 5.0)
    assert prior_structure(swept) == default
    table = dict(sets["default"].tables["threat_innovation"])
    table["kwargs"] = {"mu": 0.0, "sigma": 2.0}  # the bridge assumes standard normal steps
    assert prior_structure(sets["default"].with_tables("wide", threat_innovation=table)) != default


def test_the_built_model_reads_every_number_from_its_data(shipped_inputs, sets):
    model = build_model(shipped_inputs.evidence, sets["default"])
    data = {d.name: d.get_value() for d in model.data_vars}
    used = {n: v for n, v in prior_numbers(sets["default"]).items() if n in data}
    assert used and all(np.allclose(data[n], v) for n, v in used.items())
    # every table the one-coder model uses is read from the data, nothing baked in
    for group in ("strategy_map", "commitment", "cohesion", "threat_init", "threat_drift"):
        assert any(n.startswith(f"{group}__") for n in data), group


def test_a_model_moved_to_another_set_has_that_sets_density(shipped_inputs, sets):
    """Set the numbers of the flat mapping into the default's model: its log density at any point is
    the density of a model built for it in the same coordinates."""
    evidence, other = shipped_inputs.evidence, "no_theory"
    moved = build_model(evidence, sets["default"])
    fresh = build_model(evidence, sets[other], moved.parametrisation)
    before = moved.compile_logp()(moved.initial_point())
    set_priors(moved, sets[other])
    rng = np.random.default_rng(0)
    logp_moved, logp_fresh = moved.compile_logp(), fresh.compile_logp()
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in moved.initial_point().items()}
        assert logp_moved(point) == pytest.approx(logp_fresh(point), rel=1e-10)
    assert logp_moved(moved.initial_point()) != pytest.approx(before)


def test_a_set_of_another_structure_is_refused_by_name(shipped_inputs, sets):
    model = build_model(shipped_inputs.evidence, sets["default"])
    with pytest.raises(ValueError, match="strategy_map"):
        set_priors(model, sets["realist"])


def test_a_joint_model_moves_each_cases_numbers(shipped_inputs, sets):
    from model.generative.joint import build_joint_model

    cases = {"a": shipped_inputs.evidence, "b": replace(shipped_inputs.evidence)}
    model = build_joint_model(cases, sets["default"])
    set_priors(model, sets["learned"])
    values = {d.name: d.get_value() for d in model.data_vars}
    learned = prior_numbers(sets["learned"])
    assert np.allclose(values["strategy_map__a"], learned["strategy_map__a"])  # shared, in root
    assert np.allclose(values["a::threat_drift__mu"], learned["threat_drift__mu"])  # a case's own
    assert np.allclose(values["b::threat_drift__mu"], learned["threat_drift__mu"])
