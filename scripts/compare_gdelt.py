"""Compare the posterior threat trajectories with the GDELT dyad series (outside evidence).

    python scripts/compare_gdelt.py                 # fit the hand-coded evidence, then compare
    python scripts/compare_gdelt.py --run runs/X    # compare an existing run folder

The model is fitted on data/observations.csv only (no event data). For each
GDELT pair and each threat series it matches, the script reports the Pearson
and Spearman correlation of quarterly means (posterior mean theta against
*minus* the GDELT series, since GDELT rises with cooperation and threat with
conflict), and whether the 2022 and 2023 changes of the yearly means have
the same sign in both. Writes comparison.csv and compare_gdelt.png.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from pathlib import Path

import xarray as xr
from rich.console import Console
from rich.table import Table

from model.evidence.data import load_actors, read_observations
from model.outputs.plots import plot_outside
from model.workflows.validation.event_data import MOVE_YEARS, compare_run, load_dyad_series

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, help="existing run folder (skips fitting)")
    parser.add_argument(
        "--gdelt",
        type=Path,
        default=ROOT / "data" / "event-data" / "gdelt_dyad_daily_2018-2024.csv",
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "observations.csv")
    parser.add_argument("--actors", type=Path, default=ROOT / "data" / "actors.toml")
    parser.add_argument("--priors", type=Path, default=ROOT / "priors" / "default.toml")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 9, 30))
    parser.add_argument("--seed", type=int, default=20250630)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument(
        "--out", type=Path, help="output folder [default: runs/compare-gdelt-<time>]"
    )
    args = parser.parse_args()
    console = Console()
    out = args.out or ROOT / "runs" / f"compare-gdelt-{datetime.now():%Y%m%d-%H%M%S}"

    actors = load_actors(args.actors)
    observations = read_observations(args.data, actors)
    gdelt = load_dyad_series(args.gdelt)
    if args.run:
        idata = xr.open_datatree(args.run / "posterior.nc")
        run = args.run
    else:
        from model.inference.config import SamplerConfig
        from model.outputs.plots import run_figures
        from model.workflows.common.run_folder import write_run
        from model.workflows.forecast.fit import run_forecast
        from model.workflows.forecast.inputs import load_inputs

        inputs = load_inputs(args.actors, args.data, args.priors, as_of=args.as_of)
        config = SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
        sizes = f"{args.chains} x {args.draws} draws, seed {args.seed}"
        with console.status(f"fitting the hand-coded evidence ({sizes})"):
            idata = run_forecast(inputs, config)
        run = write_run(idata, out / "fit", run_figures(idata))
    console.print(f"Posterior: {run}")
    dg = json.loads(idata.attrs["diagnostics"])
    console.print(
        f"diagnostics: R-hat max {dg['r_hat_max']:.4f}, bulk ESS min {dg['ess_bulk_min']:.0f}, "
        f"divergences {dg['divergences']} ({'passed' if dg['passed'] else 'FAILED'})"
    )

    table, (mean, low, high), quarterly = compare_run(idata, gdelt, observations, actors.external)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "comparison.csv", index=False)
    plot_outside(mean, low, high, quarterly, table).savefig(
        out / "compare_gdelt.png", dpi=110, bbox_inches="tight"
    )

    t = Table(
        title=f"Posterior mean theta vs minus GDELT, quarterly means {quarterly.index[0]}.."
        f"{quarterly.index[-1]} (r: all quarters; r ev.: from the series' first evidence)"
    )
    for col in ("pair", "series", "n", "Pearson", "Spearman", "n ev.", "Pearson ev."):
        t.add_column(col)
    for y in MOVE_YEARS:
        t.add_column(f"{y}: -GDELT (sd) / theta / P(same sign)")
    for r in table.to_dict("records"):
        t.add_row(
            r["pair"],
            r["series"],
            str(r["quarters"]),
            f"{r['pearson']:+.2f}",
            f"{r['spearman']:+.2f}",
            str(r["quarters_evidence"]),
            f"{r['pearson_evidence']:+.2f}",
            *(
                f"{r[f'minus_gdelt_change_{y}']:+.2f} / {r[f'theta_change_{y}']:+.2f} / "
                f"{r[f'p_same_sign_{y}']:.2f} {'agree' if r[f'agree_{y}'] else 'DISAGREE'}"
                for y in MOVE_YEARS
            ),
        )
    console.print(t)
    console.print(f"Written: {out}/comparison.csv, compare_gdelt.png")


if __name__ == "__main__":
    main()
