"""Tests of :mod:`model.theory`."""
