"""``python -m model.cli``: the ``axis`` command."""

from model.cli import main

main()
