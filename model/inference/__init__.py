"""Inference on any ``pm.Model``.

The one sampling function (:func:`model.inference.sampling.sample`),
convergence diagnostics, Pareto-smoothed importance reweighting, many fits of
one structure on one compiled program, and the Dask runner.
"""
