"""Reading a run folder back: its posterior with its case, and one that will not do refused."""

from __future__ import annotations

import pytest
import xarray as xr

from model.workflows.common.inputs import BadInputError
from tests.fakes import fake_posterior, truncate


def test_a_run_posterior_is_read_with_its_case(tmp_path):
    from model.workflows.common.run_folder import read_run_posterior

    fake_posterior(tmp_path / "run" / "posterior.nc")
    idata, actors = read_run_posterior(tmp_path / "run")
    assert actors.partners == ("CHN", "RUS") and actors.external == "USA"
    assert "posterior" in idata.children


def test_a_run_posterior_that_will_not_do_is_refused(tmp_path):
    from model.workflows.common.run_folder import read_run_posterior

    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"no posterior\.nc in run folder"):
        read_run_posterior(tmp_path / "empty")
    truncate(fake_posterior(tmp_path / "damaged" / "posterior.nc"))
    with pytest.raises(BadInputError, match="damaged"):
        read_run_posterior(tmp_path / "damaged")
    other = tmp_path / "other" / "posterior.nc"
    other.parent.mkdir()
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("draw", [1.0, 2.0])})})
    tree.to_netcdf(other)
    with pytest.raises(BadInputError, match="not written by axis"):
        read_run_posterior(tmp_path / "other")
