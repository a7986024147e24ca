"""Tests of :mod:`model.inference`."""
