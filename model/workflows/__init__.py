"""What an analyst runs, one subpackage per kind of work.

- :mod:`~model.workflows.forecast`: read a case, fit it, summarise it (P(axis) is computed in
  :mod:`~model.workflows.forecast.summary`; sampling happens in
  :mod:`~model.workflows.forecast.fit`).
- :mod:`~model.workflows.updates`: keep the forecast current and score it (update, backtest).
- :mod:`~model.workflows.studies`: scenarios, prior sensitivity, elicited priors.
- :mod:`~model.workflows.validation`: predictive checks, SBC, recovery, historical cases, the
  paper, outside evidence.
- :mod:`~model.workflows.common`: what they share (input files and refusals, hooks, timing, the
  run folder).

Each function returns results; nothing here prints, and figures come in as
arguments from :mod:`model.outputs`. Every command of :mod:`model.cli` calls
one function here. Table 2 and Table 3 are applied in the model's graph
(:mod:`model.generative.build`, from :mod:`model.theory`), not here.
"""
