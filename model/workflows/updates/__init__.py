"""The forecast kept current: updates, reuse of earlier draws, backtests, machine-coded feeds.

- :mod:`~model.workflows.updates.update`: new observations stored, the forecast refitted, published.
- :mod:`~model.workflows.updates.reuse`: reweight an earlier fit's draws where sound, else NUTS.
- :mod:`~model.workflows.updates.backtest`: as-of fits across a range, scored on what came after.
- :mod:`~model.workflows.updates.ingest`: CAMEO event feeds coded as threat observations.
- :mod:`~model.workflows.updates.ledger`: the published forecasts, read back.
"""
