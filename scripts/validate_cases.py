"""Weitsman's readings of the historical cases beside the model's answer.

    python scripts/validate_cases.py                          # every case with a reading
    python scripts/validate_cases.py --cases dual-alliance-1879 --draws 500
    python scripts/validate_cases.py --implied window --json validation.json
    python scripts/validate_cases.py --history runs/history --learn priors/learned.toml

With ``--history OUT`` the theory is tested on cases it did not see
(:mod:`model.workflows.validation.history`): each case in turn is held out,
the others are fitted jointly (Table 2, Table 3 and the error rates shared),
and the held-out case's conduct and outcome codes and its implied type at
the key dates are predicted from its threat evidence alone, under the
tables learned from the others, the tables as priors only, and the flat
Table 2. Every case is also fitted jointly, and the present case alone, for
the ATOP check (:mod:`model.workflows.validation.atop`): the model's
commitment given the evidence against treaty obligations. ``--learn FILE``
writes the tables' posterior over every case as a prior set. The fits run
on the Dask runner (``--scheduler`` for a cluster).

Each case is fitted on all its evidence (as of its newest row). Per key date
the table sets Weitsman's type and cohesion beside the model's smoothed
state there (``smoothed_type_prob``, ``smoothed_cohesion_prob``: the dyad's
state given all the evidence) and beside the type the threats alone imply
(``type_prob``). The model reports ``type_prob`` only in its forecast
window, which starts at the newest evidence; with ``--implied as-of`` (the
default) every earlier key date gets its own fit as of that date, whose
window starts there; with ``--implied window`` earlier key dates show no
implied type. The closing lines give the share of key dates matched and the
mean multi-class Brier score of the smoothed types against hers.

Exit status 0 when every fit passes the convergence gate, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from model.evidence.cases import available_cases, resolve_case
from model.workflows.validation.cases import (
    KeyDate,
    compare,
    has_reading,
    load_reading,
    period_label,
    reading_path,
    scores,
)

ROOT = Path(__file__).resolve().parent.parent


def _fit(case: Any, priors: Path, config: Any, as_of: date | None = None) -> Any:
    """Fit a case (as of a date if given); return its posterior dataset and diagnostics."""
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_inputs

    inputs = load_inputs(case.actors, case.observations, priors, as_of=as_of)
    idata = run_forecast(inputs, config)
    return idata.posterior.to_dataset(), json.loads(idata.attrs["diagnostics"]), inputs


def _flag(value: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[value]


def _table(name: str, rows: list[KeyDate], as_of: str) -> Table:
    table = Table(title=f"{name} (fitted as of {as_of})")
    for col in (
        "dyad",
        "key date",
        "conf.",
        "Weitsman type",
        "smoothed type (P)",
        "P(hers)",
        "match",
        "implied type",
        "match",
        "cohesion: hers / model",
        "match",
        "Brier",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.dyad,
            f"{r.date} {r.label}",
            r.confidence,
            r.weitsman_type or "(none named)",
            f"{r.smoothed_type} ({r.smoothed_type_p:.2f})",
            "-" if r.smoothed_p_weitsman is None else f"{r.smoothed_p_weitsman:.2f}",
            _flag(r.type_match),
            "-" if r.implied_type is None else f"{r.implied_type} ({r.implied_period})",
            _flag(r.implied_match),
            f"{'/'.join(r.weitsman_cohesion) or '-'} / {r.smoothed_cohesion}",
            _flag(r.cohesion_match),
            "-" if r.brier is None else f"{r.brier:.2f}",
        )
    return table


def _share_line(label: str, s: dict[str, Any]) -> str:
    if not s["judged"]:
        return f"{label}: none judged"
    return f"{label}: {s['matched']}/{s['judged']} ({100 * s['share']:.0f}%)"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases", nargs="+", help="case names (default: every case with a reading)"
    )
    parser.add_argument(
        "--draws", type=int, default=None, help="draws per chain (default: to a precision)"
    )
    parser.add_argument("--seed", type=int, default=20040101)
    parser.add_argument("--priors", type=Path, default=ROOT / "priors" / "default.toml")
    parser.add_argument(
        "--implied",
        choices=("as-of", "window"),
        default="as-of",
        help="implied types at earlier key dates: fit as of each (as-of) or leave out (window)",
    )
    parser.add_argument("--json", type=Path, help="write every key date and the scores here")
    parser.add_argument("--history", type=Path, help="leave one case out; write results here")
    parser.add_argument("--learn", type=Path, help="with --history: write the learned prior set")
    parser.add_argument("--tune", type=int, default=500, help="with --history: warm-up steps")
    parser.add_argument("--scheduler", help="with --history: a Dask scheduler's address")
    args = parser.parse_args()
    if args.history:
        return history(args)

    from model.inference.config import SamplerConfig

    config = SamplerConfig(draws=args.draws, seed=args.seed)
    names = args.cases or [n for n in available_cases(ROOT) if has_reading(resolve_case(n, ROOT))]
    console = Console(width=200)
    rows: list[KeyDate] = []
    fits: dict[str, Any] = {}
    for name in names:
        case = resolve_case(name, ROOT)
        post, diag, inputs = _fit(case, args.priors, config)
        actors = inputs.evidence.structure.actors
        readings = load_reading(reading_path(case), actors, as_of=inputs.as_of)
        window = set(post["window"].values)
        fits[name] = {
            "as_of": inputs.as_of.isoformat(),
            "diagnostics": _brief(diag),
            "as_of_fits": {},
        }
        earlier: dict[date, Any] = {}
        case_rows = []
        for reading in readings:
            implied = None
            if args.implied == "as-of" and period_label(reading.date, actors) not in window:
                if reading.date not in earlier:
                    earlier[reading.date], d, _ = _fit(case, args.priors, config, reading.date)
                    fits[name]["as_of_fits"][reading.date.isoformat()] = _brief(d)
                implied = earlier[reading.date]
            case_rows.append(compare(name, reading, post, actors, implied))
        console.print(_table(name, case_rows, inputs.as_of.isoformat()))
        for when, d in [("all evidence", fits[name]["diagnostics"])] + [
            (f"as of {k}", v) for k, v in fits[name]["as_of_fits"].items()
        ]:
            console.print(
                f"  fit {when}: R-hat max {d['r_hat_max']:.3f}, bulk ESS min "
                f"{d['ess_bulk_min']:.0f}, divergences {d['divergences']}, "
                f"{'passed' if d['passed'] else 'FAILED'} the gate"
            )
        rows += case_rows

    if args.implied == "window":
        console.print(
            "implied types are reported only in each fit's forecast window (from its newest "
            "evidence); key dates before it show none"
        )
    result = {"all": scores(rows), "medium_or_high": scores(rows, min_confidence="medium")}
    for key, title in (
        ("all", "all key dates"),
        ("medium_or_high", "readings of medium or high confidence"),
    ):
        s = result[key]
        brier = "n/a" if s["brier"] is None else f"{s['brier']:.3f} over {s['brier_n']}"
        console.print(
            f"[bold]{title}[/] ({s['key_dates']}): "
            + "; ".join(
                _share_line(label, s[k])
                for label, k in (
                    ("smoothed type", "smoothed_type"),
                    ("implied type", "implied_type"),
                    ("cohesion", "cohesion"),
                    ("commitment", "commitment"),
                )
            )
            + f"; Brier {brier} (uniform {s['brier_uniform']:.3f})"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"key_dates": [r.as_dict() for r in rows], "scores": result, "fits": fits},
                indent=2,
            )
            + "\n"
        )
    passed = all(
        f["diagnostics"]["passed"] and all(d["passed"] for d in f["as_of_fits"].values())
        for f in fits.values()
    )
    return 0 if passed else 1


def history(args: argparse.Namespace) -> int:
    """Leave one case out, the learned prior set and the ATOP check (``--history``)."""
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.inputs import load_case
    from model.workflows.validation.atop import atop_check
    from model.workflows.validation.history import (
        learned_prior_set,
        run_history,
        write_prior_set,
    )

    console = Console(width=200)
    out: Path = args.history
    out.mkdir(parents=True, exist_ok=True)
    config = SamplerConfig(draws=args.draws or 500, tune=args.tune, seed=args.seed)
    start = time.perf_counter()
    result = run_history(
        args.cases,
        priors=args.priors,
        config=config,
        present="default",
        scheduler=args.scheduler,
        progress=lambda line: console.print(f"  {line} ({time.perf_counter() - start:.0f} s)"),
    )
    result.codes.to_csv(out / "codes.csv", index=False)
    result.key_dates.to_csv(out / "key_dates.csv", index=False)
    result.scores.to_csv(out / "scores.csv", index=False)
    console.print("[bold]Held-out conduct and outcome codes[/] (learned: the other cases' tables)")
    console.print(result.scores.round(3).to_string(index=False))
    matched = result.matched()
    console.print("[bold]Key dates whose implied type is the literature's[/]")
    console.print(matched.to_string())
    # the costly fits are kept before anything else can fail
    result.all_cases.to_netcdf(out / "all_cases.nc")
    result.present.to_netcdf(out / "present.nc")
    if args.learn:
        from model.evidence.priors import load_priors

        learned, notes = learned_prior_set(result.all_cases, load_priors(args.priors))
        write_prior_set(learned, notes, args.learn)
        console.print(f"learned prior set: {args.learn}")
    check = atop_check(
        {
            name: (
                fit,
                name,
                inputs.actors,
                inputs.evidence.periods[inputs.evidence.report_index[0]],
            )
            for fit, names in (
                (result.all_cases, json.loads(result.all_cases.attrs["cases"])),
                (result.present, [result.present_case]),
            )
            for name in names
            for inputs in [load_case(name)]
        }
    )
    check.table().to_csv(out / "atop.csv", index=False)
    check.pooled.disagreements.to_csv(out / "atop_disagreements.csv", index=False)
    console.print("[bold]ATOP obligations against the model's commitment[/]")
    console.print(check.table().round(3).to_string(index=False))
    summary = {
        "scores": result.scores.to_dict("records"),
        "key_dates_matched": matched.reset_index().to_dict("records"),
        "atop": check.table().to_dict("records"),
        "fits": {k: _brief(v) for k, v in result.fits.items()},
        "seconds": round(time.perf_counter() - start, 1),
    }
    (out / "history.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    for label, d in summary["fits"].items():
        console.print(
            f"  {label}: R-hat max {d['r_hat_max']:.3f}, bulk ESS min {d['ess_bulk_min']:.0f}, "
            f"divergences {d['divergences']}, {'passed' if d['passed'] else 'FAILED'} the gate"
        )
    return 0 if all(d["passed"] for d in summary["fits"].values()) else 1


def _brief(diag: dict[str, Any]) -> dict[str, Any]:
    """The gate's numbers of one fit, for the console and the JSON file."""
    keys = ("r_hat_max", "ess_bulk_min", "divergences", "passed")
    return {k: diag[k] for k in keys}


if __name__ == "__main__":
    sys.exit(main())
