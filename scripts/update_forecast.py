"""Scheduler entry point: add new observation files and publish a refreshed forecast.

    python scripts/update_forecast.py new_events.csv [more.csv ...] [--ledger store/axis.sqlite]

Takes every option of `axis update` (see `axis update --help`).

Exit codes:
    0  published, or nothing new to publish (every row already stored)
    2  bad input: a bad row in any file, an unknown actor, a bad prior; nothing changed
    3  the refit failed its convergence gate; nothing changed
    4  another axis process held the store's lock past --lock-timeout; nothing changed
    1  anything else; nothing changed (the store and ledger commit in one transaction)
"""

from __future__ import annotations

import sys

from model.cli.app import app

if __name__ == "__main__":
    sys.exit(app(["update", *sys.argv[1:]], standalone_mode=True))
