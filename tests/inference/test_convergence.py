"""The vectorised convergence diagnostics are ArviZ's, number for number."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr

from model.inference.convergence import dataset_diagnostics, rank_diagnostics


def _chains(seed: int, n_chain: int = 4, n_draw: int = 301) -> xr.Dataset:
    """Awkward draws: autocorrelated, one chain shifted, ties, a heavy tail, a constant."""
    rng = np.random.default_rng(seed)
    ar = np.zeros((n_chain, n_draw, 3))
    noise = rng.normal(size=ar.shape)
    for t in range(1, n_draw):
        ar[:, t] = 0.9 * ar[:, t - 1] + noise[:, t]
    ar[0] += 1.5  # a chain stuck elsewhere: R-hat well above 1
    return xr.Dataset(
        {
            "ar": (("chain", "draw", "k"), ar),
            "tied": (("chain", "draw"), rng.integers(0, 4, (n_chain, n_draw)).astype(float)),
            "heavy": (("chain", "draw", "j", "m"), rng.standard_t(1.5, (n_chain, n_draw, 2, 2))),
            "flat": (("chain", "draw"), np.full((n_chain, n_draw), 0.25)),
        },
        coords={"k": ["a", "b", "c"]},
    )


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the constant
def test_rank_rhat_and_bulk_ess_equal_arviz(seed):
    ds = _chains(seed)
    r_hat, ess = dataset_diagnostics(ds)
    ref_r, ref_e = az.rhat(ds), az.ess(ds, method="bulk")
    for name in ds.data_vars:
        assert r_hat[name].dims == ref_r[name].dims
        np.testing.assert_allclose(
            r_hat[name].values, ref_r[name].values, rtol=1e-12, equal_nan=True
        )
        np.testing.assert_allclose(ess[name].values, ref_e[name].values, rtol=1e-12, equal_nan=True)
    assert float(r_hat["ar"].max()) > 1.05  # the shifted chain is caught
    assert list(r_hat["ar"].coords["k"].values) == ["a", "b", "c"]


def test_one_chain_has_no_r_hat_but_an_ess():
    draws = np.random.default_rng(3).normal(size=(1, 400, 2))
    r_hat, ess = rank_diagnostics(draws)
    assert np.isnan(r_hat).all()
    ref = az.ess(
        xr.DataArray(np.moveaxis(draws, -1, 0), dims=("q", "chain", "draw")), method="bulk"
    )
    ref = ref.values
    np.testing.assert_allclose(ess, ref, rtol=1e-12)
