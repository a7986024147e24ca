"""Tests of :mod:`model.outputs`."""
