"""Simulation-based calibration of the whole model at a reduced size.

Example (200 simulations on a local cluster over every core, resumable)::

    python scripts/calibrate.py --sims 200 --out calibration/sbc

``--scheduler tcp://host:8786`` sends the same simulations to an existing
Dask cluster. Rerunning with the same ``--out`` skips finished simulations.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from model.generative.simulate import Design
from model.inference.config import SamplerConfig
from model.outputs.calibration import write_outputs
from model.workflows.validation.sbc import SBCSpec, run_sbc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sims", type=int, default=200, help="number of simulations")
    p.add_argument("--seed", type=int, default=0, help="first simulation seed")
    p.add_argument("--out", type=Path, default=Path("calibration/sbc"))
    p.add_argument("--priors", default="priors/default.toml")
    p.add_argument("--periods", type=int, default=8, help="periods with evidence")
    p.add_argument("--threat-rows", type=int, default=2, help="per series and period")
    p.add_argument("--conduct-rows", type=int, default=1, help="per pair and period")
    p.add_argument("--outcome-rows", type=int, default=1, help="per dyad, outcome, period")
    # the forecast's own sampler and warm-up, with a fixed count of draws, which ranks need:
    # 2 chains x 260 draws thinned by 5 give L = 104, so 105 rank values in 15 equal bins
    p.add_argument("--draws", type=int, default=260)
    p.add_argument("--tune", type=int, default=300)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--thin", type=int, default=5)
    p.add_argument(
        "--target-accept",
        type=float,
        default=SamplerConfig.target_accept,
        help="NUTS acceptance target (default: the forecast's)",
    )
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--workers", type=int, default=None, help="local workers (default: cores)")
    args = p.parse_args(argv)

    spec = SBCSpec(
        design=Design(
            n_periods=args.periods,
            threat_rows=args.threat_rows,
            conduct_rows=args.conduct_rows,
            outcome_rows=args.outcome_rows,
        ),
        priors=str(Path(args.priors).resolve()),  # workers elsewhere need a full path
        refit=SamplerConfig(
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            target_accept=args.target_accept,
        ),
        thin=args.thin,
    )
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"  {done}/{total} simulations ({time.perf_counter() - start:.0f} s)", flush=True)

    result = run_sbc(
        spec,
        args.sims,
        args.out,
        seed=args.seed,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=progress,
    )
    write_outputs(result, spec, args.out)
    elapsed = time.perf_counter() - start
    fits = result.sims["fit_seconds"]
    print(
        f"{len(result.ranks)} simulations ({result.new} new) in {elapsed:.0f} s; "
        f"L = {spec.n_ranks}; fit {fits.median():.1f} s median per simulation; "
        f"divergences in {(result.sims['divergences'] > 0).sum()} simulations "
        f"({(result.sims['first_divergences'] > 0).sum()} at the first target, "
        f"{args.target_accept:g}, and drawn again)"
    )
    print(result.groups.to_string(index=False))
    failed = result.table[~result.table["passes"]]
    print(f"{len(failed)} of {len(result.table)} quantities fail (Holm, family-wise 5%)")
    return 0 if failed.empty else 1


if __name__ == "__main__":
    sys.exit(main())
