"""The ``axis`` command line: each command parses its options and calls one workflow function.

The commands register on :data:`model.cli.app.app` as their modules are
imported, in the order ``axis --help`` lists them: forecast, store, studies.
"""

from model.cli import forecast, store, studies
from model.cli.app import app, main

__all__ = ["app", "forecast", "main", "store", "studies"]
