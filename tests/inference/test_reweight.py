"""Updating by reweighting: the weights' maths, the exact joint density, the posterior it gives."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytensor
import pytest
import xarray as xr
from scipy import stats

from model.evidence.data import load_actors, read_observations
from model.evidence.priors import load_priors
from model.evidence.store import Publication, Source, Store
from model.generative.build import build_model
from model.generative.coordinates import PLAIN
from model.inference.config import SamplerConfig
from model.inference.convergence import IMPORTANCE_GROUP, PARETO_K_MAX, average_ranks
from model.inference.reweight import (
    ANCHOR_GROUP,
    anchor_record,
    differs,
    importance_weights,
    log_joint,
    pareto_smoothed_weights,
    reweight,
    systematic_resample,
)
from model.workflows.common.run_folder import write_run
from model.workflows.forecast.fit import run_forecast
from model.workflows.forecast.inputs import prepare_inputs
from model.workflows.forecast.summary import summarise
from model.workflows.updates.update import publish_update
from tests.conftest import ACTORS, AS_OF, DEFAULT_PRIORS, OBSERVATIONS, SMALL

#: Three new readings that Russia sees a low threat from China in 2025Q3 (the
#: shipped codes of that series are all "none"): they move that threat by about
#: 0.8 posterior sd, yet leave the weights' Pareto k near 0 on the small fit.
NEW_ROWS = [
    ("R901", "2025-08-05", "statement", "1"),
    ("R902", "2025-08-19", "statement", "1"),
    ("R903", "2025-09-02", "diplomatic", "1"),
]


def _with_new_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    new = pd.DataFrame(
        [
            {
                "id": i,
                "date": pd.Timestamp(d),
                "kind": "threat",
                "observer": "RUS",
                "target": "CHN",
                "indicator": ind,
                "code": code,
                "citation": "Test source, 2025",
                "note": "test row",
            }
            for i, d, ind, code in NEW_ROWS
        ]
    )
    new = new.astype({c: frame[c].dtype for c in new.columns if c in frame})
    return pd.concat([frame, new], ignore_index=True), new


# ---------------------------------------------------------------- the maths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_systematic_resampling_takes_each_draw_floor_or_ceil_of_n_w_times(seed):
    rng = np.random.default_rng(seed)
    w = rng.gamma(0.5, size=(3, 200))
    idx = systematic_resample(w, np.random.default_rng(seed))
    n = w.shape[1]
    expected = n * w / w.sum(axis=1, keepdims=True)
    for chain in range(3):
        counts = np.bincount(idx[chain], minlength=n)
        assert np.all(counts >= np.floor(expected[chain]) - 1e-9)
        assert np.all(counts <= np.ceil(expected[chain]) + 1e-9)
        assert np.all(np.diff(idx[chain]) >= 0)  # order kept: repeats sit together
    uniform = systematic_resample(np.ones((2, 50)), np.random.default_rng(seed))
    np.testing.assert_array_equal(uniform, np.tile(np.arange(50), (2, 1)))


def test_importance_weights_recover_a_shifted_normal_and_flag_a_far_one():
    # draws of N(0, 1) reweighted to N(mu, 1): ratio exp(mu x - mu^2 / 2)
    x = np.random.default_rng(3).normal(size=(4, 1000))
    near = pareto_smoothed_weights(0.5 * x - 0.125)
    mean = float(np.sum(near.weights * x))
    assert abs(mean - 0.5) < 0.08  # the weighted mean finds the new centre
    assert near.pareto_k < PARETO_K_MAX
    assert 2000 < near.ess < 4000
    far = pareto_smoothed_weights(4.0 * x - 8.0)  # new mean 4 sd away: untrustworthy
    assert far.pareto_k > PARETO_K_MAX
    same = pareto_smoothed_weights(np.zeros((4, 1000)))
    np.testing.assert_allclose(same.weights, 1 / 4000)
    assert same.ess == pytest.approx(4000)


def test_average_ranks_are_scipys_with_ties_and_nan():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 6))
    x[1::3] = x[0:-1:3]  # repeated draws, as resampling makes
    x[:, 2] = 1.0
    x[:, 3] = rng.integers(0, 3, 400)
    x[10, 4] = np.nan
    np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x, method="average", axis=0))


# ---------------------------------------------------------------- the model


@pytest.fixture(scope="module")
def grown(shipped_inputs):
    """The shipped evidence with :data:`NEW_ROWS` added: its inputs and model."""
    actors = load_actors(ACTORS)
    frame, _ = _with_new_rows(read_observations(OBSERVATIONS, actors))
    inputs = prepare_inputs(actors, frame, shipped_inputs.priors, as_of=AS_OF)
    return inputs, build_model(inputs.evidence, inputs.priors, PLAIN)


def test_log_joint_is_the_models_density_without_jacobian(small_fit, shipped_inputs):
    model = build_model(shipped_inputs.evidence, shipped_inputs.priors, PLAIN)
    post = small_fit.posterior.to_dataset().isel(chain=slice(0, 1), draw=slice(0, 3))
    draws = {rv.name: post[rv.name].values for rv in model.free_RVs}
    ours, dets = log_joint(model)(draws)
    logp = model.compile_logp(jacobian=False)
    # constrained draws to the model's (transformed) value variables
    outs = []
    for rv in model.free_RVs:
        t = model.rvs_to_transforms.get(rv)
        outs.append(rv if t is None else t.forward(rv, *rv.owner.inputs))
    forward = pytensor.function(model.free_RVs, outs, on_unused_input="ignore")
    for d in range(3):
        values = forward(*(draws[rv.name][0, d] for rv in model.free_RVs))
        point = {v.name: x for v, x in zip(model.value_vars, values, strict=True)}
        assert ours[0, d] == pytest.approx(float(logp(point)), rel=1e-9, abs=1e-8)
    np.testing.assert_allclose(dets["p_axis"], post["p_axis"].values, rtol=1e-10)


def test_new_rows_keep_the_parameters_but_not_a_new_quarter(shipped_inputs, small_fit, grown):
    post = small_fit.posterior.to_dataset()
    assert differs(grown[1], post) is None
    later = prepare_inputs(
        load_actors(ACTORS),
        read_observations(OBSERVATIONS, load_actors(ACTORS)),
        shipped_inputs.priors,
        as_of=pd.Timestamp("2025-12-31").date(),
    )
    assert differs(build_model(later.evidence, later.priors, PLAIN), post) is not None


@pytest.fixture(scope="module")
def reweighted(small_fit, shipped_inputs, grown):
    old = build_model(shipped_inputs.evidence, shipped_inputs.priors, PLAIN)
    post = small_fit.posterior.to_dataset()
    anchor_lj, _ = log_joint(old, deterministics=False)(
        {rv.name: post[rv.name].values for rv in old.free_RVs}
    )
    return reweight(small_fit, anchor_lj, grown[1], seed=11, anchor_folder="anchor")


@pytest.fixture(scope="module")
def refit(grown):
    """NUTS on the grown evidence: what the reweighted posterior must agree with."""
    return run_forecast(grown[0], SamplerConfig(**SMALL))


def _mean_and_se(da) -> tuple[float, float]:
    import arviz as az

    return float(da.mean()), float(az.mcse(da.to_dataset(name="x"))["x"])


@pytest.mark.slow  # the NUTS refit it is compared with is a second small fit
@pytest.mark.parametrize(
    ("name", "sel", "moves"),
    [
        ("theta", {"series": "RUS<-CHN", "period": "2025Q3"}, True),
        ("theta", {"series": "RUS<-CHN", "period": "2025Q2"}, True),
        ("p_axis", {"period": "2025Q3"}, False),
        (
            "type_prob",
            {"dyad": "CHN-RUS", "window": "2025Q3", "alliance_type": "balancing-hedging"},
            False,
        ),
    ],
    ids=["theta-2025Q3", "theta-2025Q2", "p_axis", "type_prob"],
)
def test_reweighted_posterior_agrees_with_nuts_on_the_new_evidence(
    name, sel, moves, small_fit, reweighted, refit
):
    before, se_before = _mean_and_se(small_fit.posterior[name].sel(sel))
    after, se_after = _mean_and_se(reweighted.idata.posterior[name].sel(sel))
    truth, se_truth = _mean_and_se(refit.posterior[name].sel(sel))
    assert abs(after - truth) < 4 * np.hypot(se_after, se_truth)  # within Monte Carlo error
    if moves:  # and the new rows did move it
        assert abs(before - truth) > 4 * np.hypot(se_before, se_truth)
    assert reweighted.weights.pareto_k < PARETO_K_MAX


def test_reweighting_is_reproducible_and_recorded(small_fit, shipped_inputs, grown, reweighted):
    group = reweighted.idata[IMPORTANCE_GROUP].to_dataset()
    assert group.attrs["anchor"] == "anchor"
    np.testing.assert_allclose(group["weight"].values.sum(), 1.0)
    idx = group["draw_index"].values
    np.testing.assert_array_equal(
        reweighted.idata.posterior["threat_drift"].values,
        np.take_along_axis(small_fit.posterior["threat_drift"].values, idx[..., None], axis=1),
    )
    again = reweight(
        small_fit, group["anchor_log_joint"].values, grown[1], seed=11, anchor_folder="anchor"
    )
    np.testing.assert_array_equal(again.idata[IMPORTANCE_GROUP]["draw_index"].values, idx)


def test_weights_judged_first_give_the_same_reweighted_run(small_fit, grown, reweighted):
    """Weights computed alone (density only), then handed in, change nothing downstream."""
    anchor_lj = reweighted.idata[IMPORTANCE_GROUP]["anchor_log_joint"].values
    w = importance_weights(small_fit, anchor_lj, grown[1])
    assert w.pareto_k == reweighted.weights.pareto_k
    np.testing.assert_allclose(w.weights, reweighted.weights.weights, rtol=1e-12)
    split = reweight(small_fit, anchor_lj, grown[1], seed=11, anchor_folder="anchor", weights=w)
    for name in ("threat_drift", "p_axis", "smoothed_type_prob"):
        np.testing.assert_allclose(
            split.idata.posterior[name].values,
            reweighted.idata.posterior[name].values,
            rtol=1e-12,
        )


def test_reweighted_deterministics_are_the_new_models_own(small_fit, shipped_inputs):
    """A row inside the last period with evidence keeps the report window; every
    deterministic of the reweighted run is the new model's own at the kept draws (some,
    such as each dyad's state given the evidence, read the evidence itself)."""
    actors = load_actors(ACTORS)
    frame, _ = _with_new_rows(read_observations(OBSERVATIONS, actors))
    frame.loc[frame["id"] == "R901", "date"] = pd.Timestamp("2025-05-20")  # 2025Q2
    inputs = prepare_inputs(
        actors, frame[~frame["id"].isin(["R902", "R903"])], shipped_inputs.priors, as_of=AS_OF
    )
    model = build_model(inputs.evidence, inputs.priors, PLAIN)
    post = small_fit.posterior.to_dataset()
    assert differs(model, post, model.deterministics) is None
    old = build_model(shipped_inputs.evidence, shipped_inputs.priors, PLAIN)
    draws = {rv.name: post[rv.name].values for rv in old.free_RVs}
    anchor_lj, _ = log_joint(old, deterministics=False)(draws)
    done = reweight(small_fit, anchor_lj, model, seed=2, anchor_folder="anchor").idata.posterior
    kept = {rv.name: done[rv.name].values for rv in model.free_RVs}
    _, own = log_joint(model)(kept)
    for name in ("p_axis", "type_prob", "theta", "smoothed_type_prob"):
        np.testing.assert_allclose(done[name].values, own[name], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- axis update


@pytest.mark.slow
def test_update_reweights_from_the_anchor_and_falls_back_to_nuts(
    tmp_path, full_fit, shipped_inputs
):
    """A published full-size NUTS fit, two reweighted updates from it, then a forced refit."""
    actors = load_actors(ACTORS)
    priors = load_priors(DEFAULT_PRIORS)
    seed_frame = read_observations(OBSERVATIONS, actors)
    store = Store(tmp_path / "axis.sqlite")
    anchor = tmp_path / "runs" / "anchor"
    write_run(full_fit, anchor)
    store.publish(
        [Publication([(seed_frame, Source("observations.csv", "x"))], summarise(full_fit), anchor)]
    )
    _, new = _with_new_rows(seed_frame)
    common = dict(
        store=store,
        actors=actors,
        priors=priors,
        seed_data=OBSERVATIONS,
        config=SamplerConfig(seed=5),
        runs_dir=tmp_path / "runs",
        as_of=AS_OF,
    )
    first = publish_update([(new.iloc[:2], Source("a.csv", "a"))], **common)
    assert first.method.startswith("reweighted the draws of anchor"), first.method
    # the anchor's density rebuilt from the store is the one its fit would have recorded
    with xr.open_datatree(first.run_folder / "posterior.nc") as tree:
        rebuilt = tree[IMPORTANCE_GROUP]["anchor_log_joint"].values
    model = build_model(shipped_inputs.evidence, shipped_inputs.priors, PLAIN)
    recorded = anchor_record(model, full_fit)["log_joint"].values
    np.testing.assert_allclose(rebuilt, recorded, rtol=1e-10)
    second = publish_update([(new.iloc[2:], Source("b.csv", "b"))], **common)
    assert second.method.startswith("reweighted the draws of anchor"), second.method
    prov = json.loads(_provenance(second.run_folder))
    assert prov["reweighted"]["anchor"] == str(anchor)
    assert prov["reweighted"]["pareto_k"] < PARETO_K_MAX
    assert second.summary["diagnostics"]["passed"]
    assert len(store.ledger()) == 3

    more = new.assign(id=new["id"] + "x", date=pd.Timestamp("2025-09-20"))
    tiny = SamplerConfig(draws=30, tune=30, chains=2, seed=5)
    forced = publish_update(
        [(more.iloc[:1], Source("c.csv", "c"))],
        **common | {"config": tiny, "reweight": False, "allow_bad_diagnostics": True},
    )
    assert forced.method == "NUTS (asked for)"
    assert json.loads(_provenance(forced.run_folder))["reweighted"] is None


def _provenance(run_folder) -> str:
    with xr.open_datatree(run_folder / "posterior.nc") as tree:
        return tree.attrs["provenance"]


@pytest.mark.slow
def test_a_recorded_anchor_density_is_used_without_rebuilding(tmp_path, full_fit, shipped_inputs):
    """A NUTS update records its draws' joint density; the next update reads it and
    needs neither the anchor's evidence nor its model (here the store is empty)."""
    from model.workflows.updates.update import _reweight_and_write

    anchor = tmp_path / "anchor"
    tree = full_fit.copy()
    tree[ANCHOR_GROUP] = anchor_record(
        build_model(shipped_inputs.evidence, shipped_inputs.priors, PLAIN), full_fit
    )
    write_run(tree, anchor)
    actors = load_actors(ACTORS)
    known, _ = _with_new_rows(read_observations(OBSERVATIONS, actors))
    summary, how = _reweight_and_write(
        actors,
        known.iloc[:0],  # nothing to rebuild the anchor from
        known,
        shipped_inputs.priors,
        SamplerConfig(),
        anchor,
        tmp_path / "out",
        as_of=AS_OF,
        horizon=4,
        figures=None,  # workflows draw no figures; the run folder holds the numbers
    )
    assert how.startswith("reweighted the draws of anchor"), how
    assert summary is not None and summary["diagnostics"]["passed"]
