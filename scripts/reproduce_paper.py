"""Print the paper's coding next to the model's answer on the shipped data.

    python scripts/reproduce_paper.py                 # fit with default priors, then compare
    python scripts/reproduce_paper.py --run runs/X    # compare an existing run folder
    python scripts/reproduce_paper.py --coders        # each coder alone and both, side by side

Exit status 0 if every check holds, 1 if any fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from model.workflows.validation.paper import Check, compare_with_paper

ROOT = Path(__file__).resolve().parent.parent
SECOND_CODER = ROOT / "data" / "second_coder" / "observations.csv"


def _fit(actors: Path, frame: pd.DataFrame, priors: Path, draws: int | None, seed: int) -> dict:
    from model.evidence.data import load_actors
    from model.evidence.priors import load_priors
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import prepare_inputs
    from model.workflows.forecast.summary import summarise

    inputs = prepare_inputs(load_actors(actors), frame, load_priors(priors))
    return summarise(run_forecast(inputs, SamplerConfig(draws=draws, seed=seed)))


def coder_frames(actors: Path, data: Path, second: Path) -> dict[str, pd.DataFrame]:
    """The main coder's rows, the second coder's, and both together."""
    from model.evidence.data import load_actors, read_observations

    case = load_actors(actors)
    main, other = read_observations(data, case), read_observations(second, case)
    both = pd.concat([main, other], ignore_index=True)
    return {"main coder": main, "second coder": other, "both coders": both}


def _print_checks(console: Console, coding: dict[str, Any], runs: dict[str, list[Check]]) -> None:
    table = Table(title=f"The paper's coding ({coding['source']}) and the model's answer")
    for col in ("unit", "quantity", "paper", *runs, "holds"):
        table.add_column(col)
    rows = zip(*runs.values(), strict=True)
    for checks in rows:
        first = checks[0]
        holds = all(c.holds for c in checks)
        table.add_row(
            first.unit,
            first.what,
            first.paper,
            *(c.model for c in checks),
            "[green]yes[/]" if holds else "[red]NO[/]",
        )
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, help="existing run folder (skips fitting)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "observations.csv")
    parser.add_argument("--actors", type=Path, default=ROOT / "data" / "actors.toml")
    parser.add_argument("--priors", type=Path, default=ROOT / "priors" / "default.toml")
    parser.add_argument("--coding", type=Path, default=ROOT / "data" / "paper_coding.toml")
    parser.add_argument(
        "--coders",
        action="store_true",
        help="fit the main coder's rows, the second coder's and both; show agreement",
    )
    parser.add_argument("--second", type=Path, default=SECOND_CODER)
    parser.add_argument("--seed", type=int, default=20250630)
    parser.add_argument("--draws", type=int, default=None, help="[default: to a precision]")
    args = parser.parse_args()
    coding = tomllib.loads(args.coding.read_text(encoding="utf-8"))
    console = Console()

    if args.run:
        summaries = {"run": json.loads((args.run / "summary.json").read_text())}
    elif args.coders:
        from model.evidence.agreement import coder_agreement

        frames = coder_frames(args.actors, args.data, args.second)
        agreement = coder_agreement(frames["both coders"], ("main", "second"))
        console.print("Agreement on the events both coders coded (Krippendorff's alpha):")
        console.print(agreement.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        summaries = {
            name: _fit(args.actors, frame, args.priors, args.draws, args.seed)
            for name, frame in frames.items()
        }
    else:
        from model.evidence.data import load_actors, read_observations

        frame = read_observations(args.data, load_actors(args.actors))
        summaries = {"model": _fit(args.actors, frame, args.priors, args.draws, args.seed)}
    runs = {name: compare_with_paper(s, coding) for name, s in summaries.items()}
    _print_checks(console, coding, runs)
    for name, s in summaries.items():
        dg = s["diagnostics"]
        console.print(
            f"{name}: R-hat max {dg['r_hat_max']:.4f}, bulk ESS min {dg['ess_bulk_min']:.0f}, "
            f"divergences {dg['divergences']}"
        )
    return 0 if all(c.holds for checks in runs.values() for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
