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
