"""The analyst's own priors: statements become Dirichlets whose marginals meet them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.evidence.data import InputError
from model.evidence.priors import load_priors
from model.theory.tables import ALLIANCE_TYPES, STRATEGIES
from model.workflows.studies.elicit import MASS, TRUST, elicit_priors, parse_statement
from tests.conftest import ROOT

DEFAULT = ROOT / "priors" / "default.toml"
BALANCING = "external high, internal low: balancing between 60% and 90%, most likely 75%"
COMMITMENT = "commitment of balancing-balancing: high between 50% and 90%"

STATEMENTS_FILE = f'''
name = "analyst"
trust = "a little"
statements = [
  "{BALANCING}",
  "{COMMITMENT}",
]
'''


def _marginal(a: np.ndarray, k: int) -> stats.rv_continuous:
    """The Beta marginal of share ``k`` of ``Dirichlet(a)``."""
    return stats.beta(a[k], a.sum() - a[k])


def _assert_meets(written) -> None:
    """The written Dirichlets' marginals put 90% in each stated interval, mode where said."""
    a2 = np.asarray(written.tables["strategy_map"]["kwargs"]["a"])
    cell = a2[2, 0]  # external high, internal low
    b = _marginal(cell, STRATEGIES.index("balancing"))
    assert b.cdf(0.9) - b.cdf(0.6) == pytest.approx(MASS, abs=0.01)
    alpha, beta = b.args
    assert (alpha - 1) / (alpha + beta - 2) == pytest.approx(0.75, abs=0.01)
    # the other strategies keep the default's proportions (hedging : tethering 2.4 : 2.6)
    assert cell[0] / cell[1] == pytest.approx(2.4 / 2.6, rel=1e-3)
    a3 = np.asarray(written.tables["commitment"]["kwargs"]["a"])
    row = a3[ALLIANCE_TYPES.index("balancing-balancing")]
    high = _marginal(row, 3)
    assert high.cdf(0.9) - high.cdf(0.5) == pytest.approx(MASS, abs=0.01)
    # rows no statement names carry the trust's total concentration
    assert a2[0, 0].sum() == pytest.approx(TRUST["a little"], rel=1e-3)
    assert a3[0].sum() != pytest.approx(TRUST["a little"])


def test_elicit_from_a_statements_file(tmp_path):
    path = tmp_path / "beliefs.toml"
    path.write_text(STATEMENTS_FILE)
    out = tmp_path / "priors"
    result = elicit_priors(path, DEFAULT, out)
    assert result.path == out / "analyst.toml"
    text = result.path.read_text()
    assert text.startswith("# Elicited prior set") and BALANCING in text.split("description")[0]
    written = load_priors(result.path)  # a validated prior set
    assert written.name == "analyst"
    _assert_meets(written)
    # the other groups are the base set's
    assert written.tables["threat_drift"] == load_priors(DEFAULT).tables["threat_drift"]
    with pytest.raises(InputError, match="exists"):
        elicit_priors(path, DEFAULT, out)


def test_elicit_from_prompts(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from model.cli import app

    typed = "\n".join(["analyst", "a little", BALANCING, COMMITMENT, "", ""])
    args = ["elicit", "--out-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args, input=typed)
    assert result.exit_code == 0, result.output
    assert "Written:" in result.output
    _assert_meets(load_priors(tmp_path / "analyst.toml"))


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (
            [BALANCING, "external high, internal low: balancing between 10% and 30%"],
            "external high, internal low.*two statements about balancing",
        ),
        (
            [BALANCING, "external high, internal low: hedging between 50% and 80%"],
            "external high, internal low.*lower bounds add up to 110%",
        ),
        (
            ["external low, internal low: hedging between 60% and 90%, most likely 40%"],
            "external low, internal low: hedging.*outside",
        ),
        (
            ["cohesion of hedging-hedging: low between 60% and 90%, most likely 61%"],
            "hedging-hedging: low.*no Dirichlet meets",
        ),
        (["external huge, internal low: hedging between 10% and 20%"], "unknown external"),
    ],
)
def test_contradictions_and_impossible_statements_name_the_cell(tmp_path, statements, message):
    source = {"name": "bad", "trust": "fairly", "statements": statements}
    with pytest.raises(InputError, match=message):
        elicit_priors(source, DEFAULT, tmp_path)
    assert not (tmp_path / "bad.toml").exists()


def test_parse_statement_reads_percentages():
    s = parse_statement(BALANCING)
    assert (s.table, s.row, s.category) == ("strategy_map", ("high", "low"), "balancing")
    assert (s.lower, s.upper, s.mode) == (0.6, 0.9, 0.75)
