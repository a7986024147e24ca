"""Print the paper's coding next to the model's answer on the shipped data.

    python scripts/reproduce_paper.py                 # fit with default priors, then compare
    python scripts/reproduce_paper.py --run runs/X    # compare an existing run folder

Exit status 0 if every check holds, 1 if any fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from model.workflows.reproduce import compare_with_paper

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, help="existing run folder (skips fitting)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "observations.csv")
    parser.add_argument("--actors", type=Path, default=ROOT / "data" / "actors.toml")
    parser.add_argument("--priors", type=Path, default=ROOT / "priors" / "default.toml")
    parser.add_argument("--coding", type=Path, default=ROOT / "data" / "paper_coding.toml")
    parser.add_argument("--seed", type=int, default=20250630)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()

    if args.run:
        summary = json.loads((args.run / "summary.json").read_text())
    else:
        from model.workflows.forecast import SamplerConfig, load_inputs, run_forecast, summarise

        inputs = load_inputs(args.actors, args.data, args.priors)
        summary = summarise(run_forecast(inputs, SamplerConfig(draws=args.draws, seed=args.seed)))
    coding = tomllib.loads(args.coding.read_text(encoding="utf-8"))
    checks = compare_with_paper(summary, coding)

    table = Table(title=f"The paper's coding ({coding['source']}) and the model's answer")
    for col in ("unit", "quantity", "paper", "model", "holds"):
        table.add_column(col)
    for c in checks:
        table.add_row(
            c.unit, c.what, c.paper, c.model, "[green]yes[/]" if c.holds else "[red]NO[/]"
        )
    console = Console()
    console.print(table)
    dg = summary["diagnostics"]
    console.print(
        f"diagnostics: R-hat max {dg['r_hat_max']:.4f}, bulk ESS min {dg['ess_bulk_min']:.0f}, "
        f"divergences {dg['divergences']}"
    )
    return 0 if all(c.holds for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
