"""Tests of :mod:`model.generative`."""
