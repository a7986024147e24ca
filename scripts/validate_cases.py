"""Weitsman's readings of the historical cases beside the model's answer.

    python scripts/validate_cases.py                          # every case with a reading
    python scripts/validate_cases.py --cases dual-alliance-1879 --draws 500
    python scripts/validate_cases.py --implied window --json validation.json

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
    args = parser.parse_args()

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


def _brief(diag: dict[str, Any]) -> dict[str, Any]:
    """The gate's numbers of one fit, for the console and the JSON file."""
    keys = ("r_hat_max", "ess_bulk_min", "divergences", "passed")
    return {k: diag[k] for k in keys}


if __name__ == "__main__":
    sys.exit(main())
