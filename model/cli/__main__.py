"""``python -m model.cli``: the ``axis`` command."""

from model.cli.app import main

main()
