"""Tests of :mod:`model.cli`."""
