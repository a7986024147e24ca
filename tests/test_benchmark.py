"""The benchmark's synthetic evidence: real layout, codes drawn from the model."""

from __future__ import annotations

from model.benchmark import model_truth, simulated_rows
from model.data import COLUMNS, load_actors, read_observations
from model.evidence import aggregate
from model.priors import load_priors
from tests.conftest import ACTORS, AS_OF, DEFAULT_PRIORS, OBSERVATIONS


def test_simulated_rows_keep_the_layout_and_vary_the_codes(tmp_path):
    """``n`` valid rows in the real cells; a cell's codes differ, unlike copies of one row."""
    actors = load_actors(ACTORS)
    real = read_observations(OBSERVATIONS, actors)
    real = real[list(COLUMNS)]
    truth = model_truth(real, actors, load_priors(DEFAULT_PRIORS))
    rows = simulated_rows(real, actors, truth, 3000, seed=5)
    assert len(rows) == 3000
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    sim = aggregate(read_observations(path, actors), actors, AS_OF)  # passes validation
    ev = aggregate(real, actors, AS_OF)
    real_cells = {tuple(c) for c in ev.threat_cells}
    assert {tuple(c) for c in sim.threat_cells} <= real_cells
    assert set(sim.behaviour_periods) <= set(ev.behaviour_periods)
    busy = sim.threat_counts.sum(axis=1) >= 20
    assert busy.sum() >= 10
    # copies of one real code would put every count of a cell on one code
    assert ((sim.threat_counts[busy] > 0).sum(axis=1) >= 2).mean() > 0.5
