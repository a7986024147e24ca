"""What-if scenarios: parsing, assembling from settings and files, a baseline equal to the
fitted model, theory-true interventions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.evidence.data import InputError, load_actors
from model.workflows.studies.scenario import (
    compare,
    headline,
    load_scenarios,
    parse_scenario,
    parse_setting,
    posterior_draws,
    reported_quantities,
)
from tests.conftest import ACTORS

PARTNERS = ("RUS", "CHN", "PRK")


@pytest.fixture(scope="module")
def actors():
    return load_actors(ACTORS)


@pytest.fixture(scope="module")
def draws(small_fit):
    return posterior_draws(small_fit)


@pytest.mark.parametrize(
    ("text", "series", "level", "score", "start"),
    [
        ("CHN.external=high", "CHN<-USA", "high", None, None),
        ("CHN<-PRK.internal=low", "CHN<-PRK", "low", None, None),
        ("CHN<-PRK = Medium", "CHN<-PRK", "medium", None, None),
        ("RUS<-USA.external=1.5", "RUS<-USA", None, 1.5, None),
        ("PRK.external=-0.25@2026Q1", "PRK<-USA", None, -0.25, "2026Q1"),
    ],
)
def test_parse_setting(actors, text, series, level, score, start):
    setting, problems = parse_setting(text, actors)
    assert problems == []
    assert (setting.series, setting.level, setting.score, setting.start) == (
        series,
        level,
        score,
        start,
    )


def test_every_bad_setting_is_listed_at_once(actors):
    bad = [
        "GBR.external=high",  # unknown partner
        "CHN.external=extreme",  # bad level
        "CHN<-MARS.internal=low",  # unknown actor
        "CHN<-USA.internal=low",  # external series named as internal
        "CHN<-RUS.external=low",  # internal series named as external
        "CHN.sideways=low",  # bad suffix
        "CHN.external",  # no value
    ]
    with pytest.raises(InputError) as err:
        parse_scenario("bad", [*bad, "RUS.external=high", "RUS<-USA=low"], actors)
    problems = err.value.problems
    fields = [p.field for p in problems]
    for text in bad:
        assert text in fields, text
    assert "RUS<-USA=low" in fields  # the same series set twice
    message = str(err.value)
    assert "unknown partner 'GBR'" in message and "'extreme'" in message
    assert "write CHN.external" in message and "write .internal" in message


def test_scenario_file_errors_listed_at_once(tmp_path, actors):
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario.a]\nset = ["XXX.external=high"]\n'
        '[scenario.b]\nset = ["CHN.external=loud"]\nwhen = "now"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_scenarios(path, actors)
    text = str(err.value)
    assert "XXX" in text and "loud" in text and "scenario.b.when" in text


def test_baseline_reproduces_the_fitted_model(small_fit, draws):
    """The shared function applied to the posterior's own level probabilities is the model."""
    got = reported_quantities(
        draws.p_level, draws.mapping, draws.commitment, draws.cohesion, len(PARTNERS)
    )
    post = small_fit.posterior.to_dataset()

    def stacked(name, **sel):
        return post[name].sel(**sel).stack(s=("chain", "draw")).transpose("s", ...).to_numpy()

    window = list(draws.window)
    np.testing.assert_allclose(got["p_axis"], stacked("p_axis", period=window), atol=1e-12)
    np.testing.assert_allclose(got["type_prob"], stacked("type_prob"), atol=1e-12)
    np.testing.assert_allclose(got["strategy"], stacked("strategy_prob"), atol=1e-12)
    np.testing.assert_allclose(got["cohesion"], stacked("cohesion_prob"), atol=1e-12)
    np.testing.assert_allclose(got["axis_commitment"], stacked("axis_commitment"), atol=1e-12)


def _p_axis(frame, scenario, period):
    row = frame[(frame.scenario == scenario) & (frame.quantity == "p_axis")]
    return row.set_index("period").loc[period]


def test_pressure_from_outside_and_trust_inside_make_the_axis_likely(draws, actors):
    """Every external threat high, every internal threat low: Table 2 cell G for all six pairs.

    Cell G's balancing share has prior mean 14/20; all six directed pairs
    share it, so a priori E[P(axis)] = E[m^6] = prod_{i<6} (14+i)/(20+i),
    about 0.15, against a baseline of about 0.005 on the shipped evidence.
    """
    sets = [f"{p}.external=high" for p in PARTNERS]
    sets += [f"{i}<-{j}.internal=low" for i in PARTNERS for j in PARTNERS if i != j]
    chn_low = parse_scenario("chn-low", ["CHN.external=low"], actors)
    frame = compare(draws, [parse_scenario("cell-g", sets, actors), chn_low])
    now = draws.roles["now"]
    g = _p_axis(frame, "cell-g", now)
    prior_mean = np.prod([(14 + i) / (20 + i) for i in range(6)])
    assert 0.14 < prior_mean < 0.16
    assert g["value"] > 0.1 and g["value"] > 10 * g["baseline"]
    assert g["p_increase"] > 0.99
    for dyad in ("CHN-PRK", "CHN-RUS", "PRK-RUS"):
        bb = frame[
            (frame.scenario == "cell-g")
            & (frame.period == now)
            & (frame.unit == dyad)
            & (frame.category == "balancing-balancing")
        ].iloc[0]
        assert bb["value"] > 0.4 and bb["value"] > bb["baseline"]
    low = _p_axis(frame, "chn-low", now)
    assert low["value"] < low["baseline"]
    # the intervention starts at "now": the last-evidence period is untouched
    assert draws.roles["last_evidence"] != now
    before = frame[frame.period == draws.roles["last_evidence"]]
    assert len(before) and before["change"].abs().max() == 0.0


def test_latent_score_and_start_period(draws, actors):
    """A latent score far above the high anchor acts like the level high, from its period on."""
    horizon = draws.roles["horizon"]
    high = parse_scenario("level", ["CHN.external=high"], actors)
    score = parse_scenario("score", [f"CHN.external=6.0@{horizon}"], actors)
    frame = compare(draws, [high, score])
    a, b = _p_axis(frame, "level", horizon), _p_axis(frame, "score", horizon)
    assert b["value"] == pytest.approx(a["value"], rel=0.05)
    assert b["value"] > b["baseline"]
    now = _p_axis(frame, "score", draws.roles["now"])
    assert now["change"] == 0.0


def test_start_outside_the_window_is_an_error(draws, actors):
    sc = parse_scenario("early", ["CHN.external=high@2019Q1"], actors)
    with pytest.raises(InputError, match="not in the forecast window"):
        compare(draws, [sc])


def test_scenario_file_through_the_cli(tmp_path, small_fit):
    """A scenario file, a run folder: a table per scenario, and the CSV, JSON and plot written."""
    run = tmp_path / "run"
    run.mkdir()
    small_fit.to_netcdf(run / "posterior.nc")
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text(
        'description = "test"\n'
        "[scenario.us-pressure]\n"
        'set = ["RUS.external=high", "CHN.external=high", "PRK.external=high"]\n'
        'description = "every partner faces a high US threat"\n'
        "[scenario.china-reassured]\n"
        'set = ["CHN.external=low"]\n'
        'from = "horizon"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["scenario", "--run", str(run), "--file", str(scenarios), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Scenario 'us-pressure'" in text and "Scenario 'china-reassured'" in text
    assert "P(axis)" in text and "baseline" in text and "change" in text
    assert {p.name for p in out.iterdir()} == {"scenarios.csv", "scenarios.json", "scenarios.png"}
    frame = pd.read_csv(out / "scenarios.csv")
    assert set(frame.scenario) == {"us-pressure", "china-reassured"}
    doc = json.loads((out / "scenarios.json").read_text())
    assert [s["name"] for s in doc["meta"]["scenarios"]] == ["us-pressure", "china-reassured"]
    assert doc["meta"]["scenarios"][1]["from"] == "horizon"
    assert doc["meta"]["provenance"]["seed"] == json.loads(small_fit.attrs["provenance"])["seed"]
    rows = headline(frame, doc["meta"]["report_period"])
    assert (rows.quantity == "p_axis").sum() == 2


def test_bad_settings_through_the_cli_write_nothing(tmp_path, small_fit):
    run = tmp_path / "run"
    run.mkdir()
    small_fit.to_netcdf(run / "posterior.nc")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "scenario",
            "--run",
            str(run),
            "--set",
            "GBR.external=high",
            "--set",
            "CHN.external=extreme",
            "--out",
            str(out),
        ],
    )
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "GBR" in text and "extreme" in text and "Nothing was written" in text
    assert not out.exists()


def test_plot_scenarios_returns_a_figure(draws, actors):
    from matplotlib.figure import Figure

    from model.outputs.plots import plot_scenarios

    frame = compare(draws, [parse_scenario("x", ["PRK.external=low"], actors)])
    fig = plot_scenarios(frame, draws.roles["now"])
    assert isinstance(fig, Figure) and len(fig.axes) >= 2


def test_scenarios_assemble_from_settings_and_files(tmp_path):
    from model.workflows.studies.scenario import assemble_scenarios

    actors = load_actors(ACTORS)
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario.pressure]\nset = ["RUS.external=high", "CHN.external=high"]\n'
        'from = "horizon"\ndescription = "US pressure"\n',
        encoding="utf-8",
    )
    found = assemble_scenarios(["PRK.external=low"], [path], actors, name="mine", start="now")
    assert [s.name for s in found] == ["mine", "pressure"]
    assert found[0].start == "now" and found[1].start == "horizon"
    assert found[1].label == "RUS<-USA=high; CHN<-USA=high"
    assert assemble_scenarios([], [path], actors)[0].description == "US pressure"


def test_scenario_problems_of_settings_and_files_are_listed_at_once(tmp_path):
    from model.workflows.studies.scenario import assemble_scenarios

    path = tmp_path / "s.toml"
    path.write_text('[scenario.a]\nset = ["CHN.external=loud"]\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        assemble_scenarios(["GBR.external=high"], [path], load_actors(ACTORS))
    assert len(err.value.problems) == 2
    assert "GBR" in str(err.value) and "loud" in str(err.value)
