"""Tests of :mod:`model.workflows`."""
