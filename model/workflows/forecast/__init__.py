"""The forecast: a case's inputs, one fit, the summary it reports, rival theories.

- :mod:`~model.workflows.forecast.inputs`: read, validate and aggregate a case.
- :mod:`~model.workflows.forecast.fit`: build, sample, annotate (where sampling happens).
- :mod:`~model.workflows.forecast.summary`: P(axis), the dyads' types and outcomes, from draws.
- :mod:`~model.workflows.forecast.theories`: Walt's and the flat mapping, stacked by PSIS-LOO.
- :mod:`~model.workflows.forecast.case`: ``axis forecast`` without its output.
"""
