"""What an analyst runs.

Forecast, update, backtest, scenario, sensitivity, predictive checks,
calibration, recovery and outside evidence. Each returns results; nothing here
prints, and figures come in as arguments from :mod:`model.outputs`.
"""
