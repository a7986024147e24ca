"""What an analyst runs.

Forecast, update, backtest, scenario, sensitivity, predictive checks,
calibration, recovery and outside evidence. Each returns results; nothing here
prints, and figures come in as arguments from :mod:`model.outputs`. Every
command of :mod:`model.cli` calls one function here; what they share is in
:mod:`~model.workflows.inputs` (the files read, and the one way inputs are
refused), :mod:`~model.workflows.timing` (where the time went) and
:mod:`~model.workflows.hooks` (how a long run reports while it runs).
"""
