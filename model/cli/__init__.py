"""The ``axis`` command line: each command parses its options and calls one workflow function."""

from model.cli.app import app, main

__all__ = ["app", "main"]
