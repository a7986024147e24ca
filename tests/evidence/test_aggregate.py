"""Aggregating rows into counts must not change the likelihood: cost is flat in rows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from model.evidence.aggregate import aggregate
from model.evidence.data import load_actors
from model.evidence.priors import load_priors
from model.generative.build import build_model
from model.theory.tables import OUTCOME_LEVELS, OUTCOMES, STRATEGIES, THREAT_INDICATORS
from tests import bruteforce as bf
from tests.conftest import ACTORS, DEFAULT_PRIORS


def _random_rows(actors, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` random valid rows over 2017-2018, with repeats in the same cells on purpose."""
    p, ext = actors.partners, actors.external
    days = pd.date_range("2017-01-01", "2018-12-31", freq="D")
    rows = []
    for i in range(n):
        kind = rng.choice(["threat", "threat", "conduct", "outcome"])
        observer = str(rng.choice(p))
        partner = str(rng.choice([a for a in p if a != observer]))
        if kind == "threat":
            target = ext if rng.random() < 0.4 else partner
            indicator = str(rng.choice(THREAT_INDICATORS))
            code = str(rng.integers(5))
        elif kind == "conduct":
            target, indicator, code = partner, "conduct", str(rng.choice(STRATEGIES))
        else:
            target, indicator = partner, str(rng.choice(OUTCOMES))
            code = str(rng.choice(OUTCOME_LEVELS))
        when = days[rng.integers(len(days))]
        rows.append((f"r{i}", when, kind, observer, target, indicator, code, "x", ""))
    cols = ["id", "date", "kind", "observer", "target", "indicator", "code", "citation", "note"]
    return pd.DataFrame(rows, columns=cols)


def _row_indices(frame: pd.DataFrame, evidence) -> list[dict]:
    """Each row's series, pair, dyad, period and code as indices of the model's coords."""
    coords = evidence.coords
    start = pd.Period(coords["period"][0], freq="Q")
    partners = coords["partner"]
    out = []
    for r in frame.itertuples():
        i = partners.index(r.observer)
        j = partners.index(r.target) if r.target in partners else None
        row = {"kind": r.kind, "period": pd.Period(r.date, freq="Q").ordinal - start.ordinal}
        if r.kind == "threat":
            row["series"] = coords["series"].index(f"{r.observer}<-{r.target}")
            row["indicator"] = THREAT_INDICATORS.index(r.indicator)
            row["code"] = int(r.code)
        elif r.kind == "conduct":
            row["pair"] = coords["pair"].index(f"{r.observer}->{r.target}")
            row["code"] = STRATEGIES.index(r.code)
        else:
            a, b = sorted((i, j))
            row["dyad"] = [(x, y) for x in range(3) for y in range(x + 1, 3)].index((a, b))
            row["indicator"] = OUTCOMES.index(r.indicator)
            row["code"] = OUTCOME_LEVELS.index(r.code)
        out.append(row)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_aggregated_equals_row_level_log_likelihood(seed):
    """Counts per cell and one-row-at-a-time give the same log-probability at a random point."""
    rng = np.random.default_rng(seed)
    actors = load_actors(ACTORS)
    frame = _random_rows(actors, 60, rng)
    evidence = aggregate(frame, actors, date(2018, 12, 31), horizon=2)
    model = build_model(evidence, load_priors(DEFAULT_PRIORS))

    # a random point in the unconstrained space
    point = {
        k: v + rng.normal(scale=0.5, size=np.shape(v)) for k, v in model.initial_point().items()
    }
    observed = model.compile_logp(vars=model.observed_RVs, jacobian=False)(point)

    names = [
        "theta", "discrimination", "threshold_shift", "level_sharpness", "strategy_map",
        "commitment", "cohesion", "conduct_error", "outcome_error",
    ]  # fmt: skip
    graphs = model.replace_rvs_by_values([model[n] for n in names])  # at the point, not a draw
    evaluate = model.compile_fn(graphs, inputs=model.value_vars, on_unused_input="ignore")
    values = dict(zip(names, evaluate(point), strict=True))
    partners = list(actors.partners)
    k = len(partners)
    pair_idx = [(a, b) for a in range(k) for b in range(k) if a != b]
    dyads = [(a, b) for a in range(k) for b in range(a + 1, k)]
    want = bf.row_log_likelihood(
        _row_indices(frame, evidence), {"pairs": pair_idx, "dyads": dyads}, values, k
    )
    assert len(frame) > len(evidence.threat_cells)  # some cells really hold several rows
    assert observed == pytest.approx(want, rel=1e-9)


def _as_of_and_template():
    """The shipped case as of 2024Q4 on the grid of 2025Q3 plus four quarters, and that grid."""
    from model.evidence.data import read_observations
    from model.workflows.forecast.inputs import prepare_inputs
    from tests.conftest import OBSERVATIONS

    actors = load_actors(ACTORS)
    frame = read_observations(OBSERVATIONS, actors)
    priors = load_priors(DEFAULT_PRIORS)
    early = prepare_inputs(actors, frame, priors, as_of=date(2024, 12, 31), horizon=4 + 3)
    late = prepare_inputs(actors, frame, priors, as_of=date(2025, 9, 30), horizon=4)
    return early.evidence, late.evidence


def test_on_grid_masks_the_later_evidence_in_the_templates_cells():
    """An as-of fit's counts land in the last fit's cells; every later cell holds zeros."""
    from model.evidence.aggregate import on_grid, same_structure

    early, late = _as_of_and_template()
    masked = on_grid(early, late)
    assert same_structure(masked, late) and not same_structure(early, late)
    assert masked.report_index == early.report_index  # its own last evidence, now, horizon
    for field in ("threat_counts", "conduct_counts", "outcome_counts"):
        assert getattr(masked, field).sum() == getattr(early, field).sum()
    later = masked.threat_cells[:, 1] > early.report_index[1]
    assert later.any() and masked.threat_counts[later].sum() == 0
    after = masked.behaviour_periods > early.report_index[1]
    assert masked.conduct_counts[:, after].sum() == 0 and masked.outcome_counts[:, after].sum() == 0


def test_on_grid_refuses_another_grid_and_a_cell_the_template_lacks():
    from dataclasses import replace

    from model.evidence.aggregate import on_grid

    early, late = _as_of_and_template()
    with pytest.raises(ValueError, match="period grid"):
        on_grid(early, replace(late, periods=late.periods[:-1]))
    with pytest.raises(ValueError, match="no threat cell"):
        on_grid(late, early)  # the later evidence has cells the earlier lacks


def test_masked_evidence_has_the_density_of_the_evidence_alone():
    """Zero counts add nothing: the masked as-of model's log density is the truncated one's."""
    from model.evidence.aggregate import on_grid
    from model.generative.coordinates import PLAIN

    early, late = _as_of_and_template()
    priors = load_priors(DEFAULT_PRIORS)
    alone = build_model(early, priors, PLAIN)
    masked = build_model(on_grid(early, late), priors, PLAIN, shared_data=True)
    assert set(alone.initial_point()) == set(masked.initial_point())
    logp_alone, logp_masked = alone.compile_logp(), masked.compile_logp()
    rng = np.random.default_rng(1)
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in alone.initial_point().items()}
        assert logp_masked(point) == pytest.approx(logp_alone(point), rel=1e-10)
    unmasked = build_model(late, priors, PLAIN).compile_logp()
    assert unmasked(point) != pytest.approx(logp_alone(point), rel=1e-3)
