"""Tests of :mod:`model.evidence`."""
