"""Benchmark: end-to-end forecast time, the sampler alone, PyMC's default baseline, and scaling.

Usage::

    python scripts/benchmark.py                     # everything, 3 runs each (about an hour)
    python scripts/benchmark.py --only forecast baseline --repeats 3
    python scripts/benchmark.py --only rows scale --scale-draws 500

Figures are medians over fresh processes on this machine; see ``model.benchmark``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from model.benchmark import SECTIONS, main_table, run_benchmark, stage_table

ROOT = Path(__file__).resolve().parent.parent


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def _print(console: Console, title: str, rows: list[dict], columns: list[str]) -> None:
    table = Table(title=title)
    for c in columns:
        table.add_column(
            c, justify="left" if c in ("job", "target", "stage", "covers") else "right"
        )
    for r in rows:
        table.add_row(*(_fmt(r.get(c, "")) for c in columns))
    console.print(table)


def main() -> None:
    """Parse arguments, run the benchmark, print its tables (and save them as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--repeats", type=int, default=3, help="runs per end-to-end job")
    parser.add_argument("--baseline-cold", action="store_true", help="also time pm.sample() cold")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument(
        "--rows-fit-max", type=int, default=1_000_000, help="fit only up to this many rows"
    )
    parser.add_argument("--scale-draws", type=int, default=1000, help="draws (and tune) per chain")
    parser.add_argument("--workdir", type=Path, help="keep run folders here [default: temporary]")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args()

    console = Console(width=170)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="axis-benchmark-"))
    work.mkdir(parents=True, exist_ok=True)
    console.print(f"working folder: {work}")
    results = run_benchmark(
        ROOT,
        work,
        sections=args.only,
        repeats=args.repeats,
        baseline_cold=args.baseline_cold,
        row_sizes=args.rows,
        rows_fit_max=args.rows_fit_max,
        scale_config={"draws": args.scale_draws, "tune": args.scale_draws},
        progress=lambda msg: console.print(f"[dim]{msg}[/]"),
    )
    main_rows = main_table(results)
    cols = ["job", "runs", "median_s", "min_s", "max_s", "ess_bulk_min", "ess_per_s"]
    cols += ["ratio_to_baseline", "peak_mb", "target"]
    cols += ["posterior"] if any("posterior" in r for r in main_rows) else []
    if main_rows:
        _print(console, "End to end (4 chains x 1000 draws, shipped data)", main_rows, cols)
    stages = stage_table(results)
    if stages:
        jobs = [c for c in stages[-1] if c not in ("stage", "covers")]
        _print(
            console, "Where a forecast's time goes (median s)", stages, ["stage", *jobs, "covers"]
        )
    if results.rows:
        first = results.rows[0].get("fit_s", float("nan"))
        for r in results.rows:
            if "fit_s" in r:
                r["fit_vs_first"] = r["fit_s"] / first
        _print(
            console,
            "Cost against evidence volume (target: fit within 1.5x of the smallest, < 2 GB)",
            results.rows,
            [
                "rows",
                "file_mb",
                "load_s",
                "gradient_us",
                "fit_s",
                "fit_vs_first",
                "steps_per_draw",
                "peak_mb",
                "cells",
                "ess",
            ],
        )
    if results.scale:
        _print(
            console,
            f"Scale in partners and periods ({args.scale_draws} draws and tune per chain)",
            results.scale,
            [
                "partners",
                "periods",
                "free_parameters",
                "gradient_us",
                "fit_s",
                "steps_per_draw",
                "process_s",
                "ess",
                "peak_mb",
            ],
        )
    if args.json:
        blob = {"main": main_rows, "stages": stages, "rows": results.rows, "scale": results.scale}
        args.json.write_text(json.dumps(blob, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
