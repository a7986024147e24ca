"""The Python interface (``from model import ...``) and where the shipped files are found.

Fast: nothing here fits. The notebook (tests/test_examples.py) exercises
the interface on a real fit, and tests/test_wheel.py the installed layout.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import model
from model.evidence.data import InputError, InputWarning

ROOT = Path(__file__).resolve().parent.parent


def public_functions() -> list[str]:
    return [n for n in model.__all__ if inspect.isfunction(getattr(model, n))]


def test_all_is_what_the_package_resolves():
    exported = {n for names in model._EXPORTS.values() for n in names}
    assert sorted(model.__all__) == model.__all__
    assert set(model.__all__) == exported
    assert len(exported) == sum(len(v) for v in model._EXPORTS.values()), "a name listed twice"
    for name in model.__all__:
        assert getattr(model, name) is not None
        assert name in dir(model)
    with pytest.raises(AttributeError):
        model.no_such_name  # noqa: B018


def test_each_public_name_is_listed_once_where_it_is_defined():
    """``_EXPORTS`` is the one list: each name once, at the module defining it (no re-exports)."""
    import importlib

    listed = [n for names in model._EXPORTS.values() for n in names]
    assert len(listed) == len(set(listed))
    assert model.__all__ == sorted(listed)
    for module, names in model._EXPORTS.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            assert getattr(obj, "__module__", module) == module, (name, obj.__module__)


def test_import_model_is_cheap_and_has_no_side_effects():
    """``import model`` imports no numerical library; JAX flags and backends are untouched."""
    code = (
        "import os, sys, model\n"
        "heavy = [m for m in ('jax', 'pymc', 'pytensor', 'matplotlib', 'pandas', 'xarray')"
        " if m in sys.modules]\n"
        "print(heavy, os.environ.get('XLA_FLAGS'))\n"
        "from model import shipped_path\n"
        "print('pymc' in sys.modules, 'jax' in sys.modules)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split("\n")[:2] == ["[] None", "False False"], out.stdout + out.stderr


@pytest.mark.parametrize("name", public_functions())
def test_every_public_function_documents_parameters_and_returns(name):
    """numpydoc sections, and every parameter of the signature described."""
    func = getattr(model, name)
    doc = inspect.getdoc(func) or ""
    assert re.search(r"^Returns\n-------$", doc, re.M), f"{name}: no Returns section"
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    params = [stars.get(p.kind, "") + p.name for p in inspect.signature(func).parameters.values()]
    if params:
        assert re.search(r"^Parameters\n----------$", doc, re.M), f"{name}: no Parameters section"
        section = re.split(r"^\w+\n-+$", doc.split("Parameters\n----------", 1)[1], flags=re.M)[0]
        described = set()
        for line in section.splitlines():
            if line and not line.startswith(" "):
                described |= {p.strip() for p in line.split(":")[0].split(",")}
        missing = [p for p in params if p not in described]
        assert not missing, f"{name}: parameters not described: {missing}"


# --- shipped files -------------------------------------------------------------------------


def test_shipped_paths_in_a_checkout():
    assert model.shipped_path("observations.csv") == ROOT / "data" / "observations.csv"
    assert model.shipped_path("event-data", "cameo_goldstein.csv").is_file()
    assert model.case_names()[:2] == ["default", "crink"]
    assert {"three-emperors-1873", "dual-alliance-1879", "triple-entente-1907"} <= set(
        model.case_names()
    )
    case = model.shipped_case("crink")
    assert case.actors == ROOT / "data" / "cases" / "crink" / "actors.toml"
    assert case.readme is not None and case.readme.is_file()
    sets = ["default", "fast_drift", "learned", "no_theory", "realist", "weak_theory"]
    assert model.prior_set_names() == sets
    assert model.prior_set_path() == ROOT / "priors" / "default.toml"
    assert model.scenario_path("crink") == ROOT / "scenarios" / "crink.toml"
    from model.evidence.shipped import is_installed

    assert not is_installed()


@pytest.mark.parametrize("bad", ["nope", "../priors/default", "default.toml", ""])
def test_unknown_prior_sets_are_input_errors_listing_the_known(bad):
    with pytest.raises(
        InputError, match="available: default, fast_drift, learned, no_theory, realist"
    ):
        model.prior_set_path(bad)


def test_names_reach_nothing_outside_the_shipped_folders():
    with pytest.raises(InputError):
        model.shipped_case("../../etc")
    with pytest.raises(InputError):
        model.scenario_path("../data/actors")


def test_an_installed_copy_comes_before_the_checkout(tmp_path, monkeypatch):
    """A wheel's ``model/_shipped`` is used where present (the layout a wheel installs)."""
    from model.evidence import shipped

    fake = tmp_path / "model"
    (fake / "_shipped" / "data").mkdir(parents=True)
    (fake / "_shipped" / "data" / "actors.toml").write_text("")
    (fake / "_shipped" / "priors").mkdir()
    (fake / "_shipped" / "priors" / "mine.toml").write_text("")
    monkeypatch.setattr(shipped.resources, "files", lambda _: fake)
    assert shipped.shipped_root() == fake / "_shipped"
    assert shipped.is_installed()
    assert shipped.prior_set_names() == ["mine"]
    assert shipped.shipped_case().readme is None  # the repository README is not installed


def test_a_missing_install_says_so(tmp_path, monkeypatch):
    from model.evidence import shipped

    monkeypatch.setattr(shipped.resources, "files", lambda _: tmp_path)
    monkeypatch.setattr(shipped, "__file__", str(tmp_path / "model" / "evidence" / "shipped.py"))
    with pytest.raises(FileNotFoundError, match="shipped data is missing"):
        shipped.shipped_root()


# --- loading -------------------------------------------------------------------------------


def test_load_case_by_name_by_folder_and_with_prior_sets():
    from datetime import date

    shipped = model.load_case(as_of=date(2025, 9, 30))
    assert shipped.actors.partners == ("RUS", "CHN", "PRK") and shipped.priors.name == "default"
    same = model.load_inputs(
        ROOT / "data" / "actors.toml",
        ROOT / "data" / "observations.csv",
        ROOT / "priors" / "default.toml",
        as_of=date(2025, 9, 30),
    )
    assert shipped.data_sha256 == same.data_sha256
    folder = model.load_case(ROOT / "data" / "cases" / "crink", priors="realist")
    named = model.load_case("crink", priors=ROOT / "priors" / "realist.toml")
    assert folder.data_sha256 == named.data_sha256 and named.priors.name == "realist"
    loaded = model.load_prior_set("weak_theory")
    assert model.load_case("crink", priors=loaded).priors is loaded


def test_load_case_reports_bad_input():
    with pytest.raises(InputError, match="unknown case 'atlantis'"):
        model.load_case("atlantis")
    with pytest.raises(InputError, match="unknown prior set"):
        model.load_case(priors="optimistic")


def test_add_observations_validates_and_skips_what_is_known(tmp_path):
    from datetime import date

    inputs = model.load_case(as_of=date(2025, 9, 30))
    rows = (ROOT / "data" / "observations.csv").read_text(encoding="utf-8").splitlines()
    header, first = rows[0], rows[1]
    fields = header.split(",")
    new = dict(zip(fields, next(__import__("csv").reader([first])), strict=True))
    new["id"] = "api-test-1"
    new["date"] = "2025-09-15"
    new["note"] = "a new row, for the test"
    line = ",".join(f'"{new[f]}"' for f in fields)
    path = tmp_path / "new.csv"
    path.write_text("\n".join([header, first, line]) + "\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        updated = model.add_observations(inputs, path, as_of=date(2025, 9, 30))
    assert [w.category for w in caught] == [InputWarning]  # the repeated shipped row
    assert len(updated.observations) == len(inputs.observations) + 1
    assert updated.data_sha256 != inputs.data_sha256
    assert updated.evidence.periods == inputs.evidence.periods
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "\n" + line.replace('"2025-09-15"', '"2025-13-45"') + "\n")
    with pytest.raises(InputError):
        model.add_observations(inputs, bad)


# --- reading a fit (the suite's shared small fit) ------------------------------------------


def test_tables_are_views_of_the_summary(small_fit):
    from model.workflows.forecast.summary import summary_rows

    summary = model.summarise(small_fit)
    table = model.p_axis_table(summary)
    assert list(table.index) == ["last_evidence", "now", "horizon"]
    for role, key in (("last_evidence", "p_axis"), ("now", "p_axis_now")):
        assert table.loc[role, "mean"] == summary[key]["mean"]
        assert table.loc[role, "mcse"] == summary[key]["mcse"]
        assert table.loc[role, "period"] == summary["periods"][role]
    assert "±" in table.loc["now", "shown"]
    types = model.dyad_type_table(summary)
    assert set(types.index) == set(summary["dyads"])
    probs = types.drop(columns=["modal_type", "modal_mcse"])
    assert (probs.sum(axis=1) - 1).abs().max() < 1e-6
    assert (probs.idxmax(axis=1) == types["modal_type"]).all()
    later = model.dyad_type_table(summary, "horizon")
    assert (
        later.loc["CHN-RUS", "modal_type"]
        == (summary["forecast"]["horizon"]["dyads"]["CHN-RUS"]["modal_type"])
    )
    with pytest.raises(ValueError, match="report must be one of"):
        model.dyad_type_table(summary, "tomorrow")
    assert model.summary_frame(summary).equals(summary_rows(summary))


def test_summary_dataset_holds_every_period(small_fit):
    summary = model.summarise(small_fit)
    ds = model.summary_dataset(small_fit)
    assert list(ds["statistic"].values) == ["mean", "mcse", "hdi_low", "hdi_high"]
    p = ds["p_axis"]
    assert p.sizes["period"] == small_fit.posterior.sizes["period"]
    last = summary["p_axis"]["period"]
    for stat in ("mean", "mcse", "hdi_low", "hdi_high"):
        assert float(p.sel(period=last, statistic=stat)) == pytest.approx(summary["p_axis"][stat])
    assert (p.sel(statistic="hdi_low") <= p.sel(statistic="mean")).all()
    assert (p.sel(statistic="mean") <= p.sel(statistic="hdi_high")).all()
    assert {"type_prob", "theta", "p_level", "axis_cohesion"} <= set(ds.data_vars)


def test_run_scenario_by_settings_and_by_file(small_fit):
    mine = model.run_scenario(small_fit, "CHN.external=high", name="pressed")
    assert set(mine["scenario"]) == {"pressed"}
    both = model.run_scenario(
        small_fit, ["CHN.external=high"], name="pressed", file=model.scenario_path("default")
    )
    assert {"pressed", "detente", "korea-peace"} <= set(both["scenario"])
    same = both[both["scenario"] == "pressed"].reset_index(drop=True)
    assert same.equals(mine.reset_index(drop=True))
    with pytest.raises(InputError):
        model.run_scenario(small_fit, "ATL.external=high")
    with pytest.raises(ValueError, match="give settings or a scenario file"):
        model.run_scenario(small_fit)
