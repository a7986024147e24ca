"""The benchmark's synthetic evidence: real layout, codes drawn from the model."""

from __future__ import annotations

from model.benchmark import Measured, Results, model_truth, simulated_rows, stage_table
from model.data import COLUMNS, load_actors, read_observations
from model.evidence import aggregate
from model.forecast import stage_line
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


def test_stage_table_gives_each_jobs_median_per_stage():
    """Medians per stage and job; a run without a stage counts 0 s there; a wall row ends it."""
    warm = Measured("warm", walls=[10.0, 12.0, 11.0])
    warm.stages = [
        {"setup": 1.0, "nuts": 6.0, "other": 1.0},
        {"setup": 3.0, "nuts": 8.0, "redraw": 3.0, "other": 1.0},
        {"setup": 2.0, "nuts": 7.0, "other": 2.0},
    ]
    plain = Measured("no stages", walls=[5.0])
    rows = {r["stage"]: r for r in stage_table(Results(main=[warm, plain]))}
    assert list(rows) == ["setup", "nuts", "redraw", "other", "wall"]
    assert rows["setup"]["warm"] == 2.0 and rows["nuts"]["warm"] == 7.0
    assert rows["redraw"]["warm"] == 0.0  # two runs of three did not redraw
    assert rows["wall"]["warm"] == 11.0
    assert all("no stages" not in r for r in rows.values())


def test_stage_line_lists_the_stages_in_order_and_skips_the_negligible():
    """The console's summary: the total, then the stages in the order they run, rounded."""
    line = stage_line({"report": 2.46, "nuts": 12.31, "inputs": 0.01, "setup": 3.0}, 19.2)
    assert line == "19.2 s (setup 3.0, nuts 12.3, report 2.5)"
