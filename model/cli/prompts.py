"""Questions the command line asks at the terminal: interactive input, apart from printing.

Only ``axis elicit`` without a statements file asks anything; what it asks
returns the same keys a statements file holds, so the rest of the command
does not know which way its statements came.
"""

from __future__ import annotations

from typing import Any

import typer

from model.outputs.console import console
from model.workflows.studies.elicit import TRUST

__all__ = ["ask_statements"]


ELICIT_HELP = """Your beliefs about Weitsman's tables, one statement per line, for example:
  external high, internal low: balancing between 60% and 90%, most likely 75%
  commitment of balancing-balancing: high between 50% and 90%
  cohesion of hedging-tethering: low between 40% and 80%, most likely 60%
Levels: low, medium, high; strategies: hedging, tethering, balancing,
bandwagoning; outcome levels: none, low, medium, high. A blank line ends."""


def ask_statements(name: str | None = None) -> dict[str, Any]:
    """Ask at the terminal for a prior set's name, the trust in the tables and the statements.

    Returns the same keys a statements file holds (``name``, ``trust``,
    ``statements``), for :func:`model.workflows.studies.elicit.elicit_priors`.
    """
    if name is None:
        name = typer.prompt("Name of the prior set (written as priors/<name>.toml)")
    trust = ""
    while trust not in TRUST:
        trust = typer.prompt(
            "How sure are you of Weitsman's tables? (" + " / ".join(TRUST) + ")",
            default="fairly",
        ).strip()
    console.print(ELICIT_HELP)
    statements = []
    while line := typer.prompt("statement", default="", show_default=False).strip():
        statements.append(line)
    return {"name": name, "trust": trust, "statements": statements}
