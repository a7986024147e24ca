"""Write the shipped case's past questions: every subject and quarter its coded rows settle.

Example (the shipped file, 2018 to 2025)::

    python scripts/past_questions.py --out data/past_questions.toml

The rule (:func:`model.workflows.updates.past_questions.settleable_questions`)
asks, for every pair and dyad with conduct, commitment or cohesion rows in a
quarter whose codes settle it, whether the state the axis needs held there
(a pair balancing, a dyad's commitment or cohesion high), as a forecaster
would have asked it on the last day of the year before. Which questions are
written depends on where rows are, never on their codes. Score them with::

    axis backtest --from 2017-12-31 --to 2024-12-31 --every year \\
        --questions data/past_questions.toml
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from model.evidence.data import load_actors, read_observations
from model.workflows.updates.past_questions import ASKED, settleable_questions

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
# Past questions on the shipped case, {first} to {last}: written by scripts/past_questions.py.
#
# One question per pair or dyad and quarter whose conduct, commitment or cohesion rows
# in data/observations.csv settle it, asking whether the state an anti-US axis needs
# held there ({asked}),
# as a forecaster would have asked it on the last day of the year before. Which
# questions exist depends on where rows are, never on their codes; every question
# asks its kind's value.
#
# How a question is settled: a quarter's state is the modal code of its rows for that
# subject (a tie, or no row, settles nothing), the rule of data/questions.toml.
# Score them on as-of fits dated when each was asked:
#   axis backtest --from {as_of} --to {last_as_of} --every year --questions data/past_questions.toml
"""


def _toml_value(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"'


def render(tables: list[dict[str, Any]], first: int, last: int) -> str:
    """Return the TOML text of ``tables``, with the header that states the rule."""
    asked = "; ".join(f"{k} {' or '.join(v)}" for k, v in ASKED.items())
    text = HEADER.format(
        first=first,
        last=last,
        asked=asked,
        as_of=f"{first - 1}-12-31",
        last_as_of=f"{last - 1}-12-31",
    )
    for table in tables:
        text += "\n[[question]]\n"
        text += "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items())
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--observations", type=Path, default=ROOT / "data" / "observations.csv")
    p.add_argument("--actors", type=Path, default=ROOT / "data" / "actors.toml")
    p.add_argument("--first", type=int, default=2018, help="first year asked about")
    p.add_argument("--last", type=int, default=2025, help="last year asked about")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "past_questions.toml")
    args = p.parse_args(argv)
    actors = load_actors(args.actors)
    frame = read_observations(args.observations, actors)
    tables = settleable_questions(frame, actors, args.first, args.last)
    args.out.write_text(render(tables, args.first, args.last), encoding="utf-8")
    print(f"{len(tables)} questions written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
