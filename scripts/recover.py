"""Parameter recovery: simulate known configurations, fit, and print how well truth is found.

Example::

    python scripts/recover.py --volumes 4 2 1 --out calibration/recovery.csv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from model.evidence.priors import load_priors
from model.generative.simulate import Design
from model.inference.config import SamplerConfig
from model.workflows.common.run_folder import atomic_file
from model.workflows.validation.recovery import recovery_table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--priors", default="priors/default.toml")
    p.add_argument("--periods", type=int, default=8)
    p.add_argument("--volumes", type=int, nargs="+", default=[4, 2, 1])
    p.add_argument(
        "--every", type=int, default=1, help="evidence in every N-th period only (4: once a year)"
    )
    p.add_argument("--draws", type=int, default=500)
    p.add_argument("--tune", type=int, default=500)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="also write the table as CSV")
    args = p.parse_args(argv)
    start = time.perf_counter()
    table = recovery_table(
        load_priors(args.priors),
        volumes=tuple(args.volumes),
        base=Design(n_periods=args.periods),
        refit=SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains),
        seed=args.seed,
        every=args.every,
        progress=lambda m: print(f"  {m} ({time.perf_counter() - start:.0f} s)", flush=True),
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(args.out) as tmp:
            table.to_csv(tmp, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
