"""Several coders: an optional ``coder`` column, one cell per coder, coder effects in the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.evidence.aggregate import aggregate
from model.evidence.data import DEFAULT_CODER, load_actors, read_observations
from model.evidence.priors import load_priors
from model.generative.build import build_model
from tests.conftest import ACTORS, ANSWER, AS_OF, DEFAULT_PRIORS, OBSERVATIONS


@pytest.fixture(scope="module")
def actors():
    return load_actors(ACTORS)


@pytest.fixture(scope="module")
def two_coders(actors, tmp_path_factory):
    """The shipped rows, and a second coder's copy of its threat rows with codes moved by one."""
    frame = pd.read_csv(OBSERVATIONS, dtype=str, keep_default_na=False)
    second = frame[frame["kind"] == "threat"].copy()
    second["id"] = "S" + second["id"]
    second["code"] = second["code"].astype(int).clip(upper=3).add(1).astype(str)
    second["coder"] = "second"
    both = pd.concat([frame.assign(coder=""), second], ignore_index=True)
    path = tmp_path_factory.mktemp("coders") / "both.csv"
    both.to_csv(path, index=False)
    return read_observations(path, actors), len(second)


def test_files_without_a_coder_column_are_the_main_coders(actors):
    frame = read_observations(OBSERVATIONS, actors)
    assert set(frame["coder"]) == {DEFAULT_CODER}
    ev = aggregate(frame, actors, AS_OF)
    assert ev.coders == (DEFAULT_CODER,)
    assert "coder" not in ev.coords
    assert not any(label.count("|") > 2 for label in ev.coords["threat_cell"])


def test_each_coder_has_their_own_cells(actors, two_coders):
    frame, n_second = two_coders
    assert set(frame["coder"]) == {DEFAULT_CODER, "second"}  # an empty cell is the main coder
    one = aggregate(frame[frame["coder"] == DEFAULT_CODER], actors, AS_OF)
    both = aggregate(frame, actors, AS_OF)
    assert both.coders == (DEFAULT_CODER, "second")
    assert len(both.threat_cells) == 2 * len(one.threat_cells)  # the copy codes the same cells
    assert both.threat_counts.sum() == one.threat_counts.sum() + n_second
    mine = both.cell_coders() == 0
    np.testing.assert_array_equal(both.threat_counts[mine], one.threat_counts)
    np.testing.assert_array_equal(both.threat_cells[mine], one.threat_cells)
    # the second coder's codes are the first's moved up by one (capped at 4)
    assert (both.threat_counts[~mine] @ np.arange(5)).sum() > (
        both.threat_counts[mine] @ np.arange(5)
    ).sum()
    assert both.coords["coder"] == [DEFAULT_CODER, "second"]


def test_the_model_gives_several_coders_their_own_thresholds(actors, two_coders):
    frame, _ = two_coders
    priors = load_priors(DEFAULT_PRIORS)
    single = build_model(aggregate(frame[frame["coder"] == DEFAULT_CODER], actors, AS_OF), priors)
    several = build_model(aggregate(frame, actors, AS_OF), priors)
    names = {rv.name for rv in several.free_RVs} - {rv.name for rv in single.free_RVs}
    for group in ("coder_shift", "coder_discrimination"):  # non-centred: offsets and scales
        assert any(n.startswith(group) for n in names), names
    assert several.named_vars_to_dims["coder_shift"] == ("coder",)
    # the coder effects move each coder's code probabilities: the density depends on them
    point = several.initial_point()
    logp = several.compile_logp(vars=[several["threat_evidence"]])
    moved = {**point}
    key = next(k for k in point if k.startswith("coder_shift_offset"))
    moved[key] = point[key] + np.array([0.0, 1.0])
    assert logp(moved) != pytest.approx(logp(point))


@pytest.mark.slow
@pytest.mark.parametrize("who", ["second", "both"])
def test_the_papers_answer_holds_for_each_coder_and_both(actors, who):
    """The paper's three modal types and a low P(axis), from the second coder's rows and both."""
    import tomllib

    from model.evidence.priors import load_priors
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import prepare_inputs
    from model.workflows.forecast.summary import summarise
    from model.workflows.validation.paper import compare_with_paper
    from tests.conftest import ROOT

    second = read_observations(ROOT / "data" / "second_coder" / "observations.csv", actors)
    frame = second
    if who == "both":
        frame = pd.concat([read_observations(OBSERVATIONS, actors), second], ignore_index=True)
    inputs = prepare_inputs(actors, frame, load_priors(DEFAULT_PRIORS), as_of=AS_OF)
    assert inputs.evidence.coders == ((DEFAULT_CODER, "second") if who == "both" else ("second",))
    summary = summarise(run_forecast(inputs, SamplerConfig(**ANSWER)))
    coding = tomllib.loads((ROOT / "data" / "paper_coding.toml").read_text(encoding="utf-8"))
    checks = compare_with_paper(summary, coding)
    held = {(c.unit, c.what): c for c in checks if c.what in ("alliance type", "P(axis) mean")}
    assert len(held) == 4
    assert all(c.holds for c in held.values()), [c for c in held.values() if not c.holds]
    assert summary["diagnostics"]["passed"], summary["diagnostics"]
