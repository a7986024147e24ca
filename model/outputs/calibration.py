"""Calibration's outputs: its tables and the ECDF figure, each written atomically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from model.outputs.plots import plot_sbc_ecdf
from model.workflows.common.run_folder import atomic_file
from model.workflows.validation.sbc import SBCResult, SBCSpec, worst_per_group


def write_outputs(result: SBCResult, spec: SBCSpec, out: Path) -> list[Path]:
    """Write ranks, per-simulation facts, both tables and the ECDF plot, each atomically."""
    out = Path(out)
    written = []

    def put(name: str, write: Callable[[Path], None]) -> None:
        with atomic_file(out / name) as tmp:
            write(tmp)
        written.append(out / name)

    put("ranks.csv", lambda p: result.ranks.to_csv(p))
    put("simulations.csv", lambda p: result.sims.to_csv(p, index=False))
    put("uniformity.csv", lambda p: result.table.to_csv(p, index=False))
    put("groups.csv", lambda p: result.groups.to_csv(p, index=False))
    fig = plot_sbc_ecdf(result.ranks, spec.n_ranks, worst_per_group(result.table))
    put("ecdf_difference.png", lambda p: fig.savefig(p, dpi=110, bbox_inches="tight"))
    return written
