"""Ledger rows and run folders without a fit: for the tests of the commands that read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from model.evidence.store import Publication, Store


def fake_summary(i: int = 0, *, as_of: str = "2025-09-30", p: float = 0.42) -> dict[str, Any]:
    """The fields of a forecast summary that the ledger keeps."""
    interval = {"mean": p, "hdi_low": p / 2, "hdi_high": min(1.0, p * 1.5), "period": "2025Q3"}
    return {
        "provenance": {
            "as_of": as_of,
            "data_sha256": f"{i:02d}" + "d" * 62,
            "priors_sha256": "e" * 64,
            "seed": 20250630 + i,
            "sampler": {"draws": 1000, "tune": 300, "chains": 4, "sampler": "numpyro"},
        },
        "p_axis": interval,
        "p_axis_now": interval,
        "p_axis_horizon": {**interval, "mean": p / 3, "period": "2026Q3"},
        "dyads": {"CHN-RUS": {"type_probs": {"balancing-balancing": 0.6, "hedging-hedging": 0.4}}},
        "diagnostics": {"passed": True, "r_hat_max": 1.003, "ess_bulk_min": 812, "divergences": 0},
    }


def fake_ledger(path: Path, run_folders: list[Path], **kwargs: Any) -> Store:
    """A store whose ledger has one published forecast per run folder (no observations)."""
    store = Store(path)
    store.publish(
        [Publication([], fake_summary(i, **kwargs), f) for i, f in enumerate(run_folders)]
    )
    return store


def fake_posterior(path: Path) -> Path:
    """A small netCDF file shaped like a run's posterior.nc (a posterior group, a case record)."""
    draws = np.random.default_rng(0).normal(size=(2, 50, 3))
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": (("chain", "draw", "k"), draws)})})
    tree.attrs["case"] = '{"partners": ["CHN", "RUS"], "external": "USA"}'
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.to_netcdf(path)
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file short, as a full disk or an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
