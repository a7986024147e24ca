"""Is the model right? Each module one check, against a different yardstick.

- :mod:`~model.workflows.validation.predictive`: prior and posterior predictive checks of a fit.
- :mod:`~model.workflows.validation.sbc`: simulation-based calibration of model and sampler.
- :mod:`~model.workflows.validation.recovery`: known parameters recovered from simulated evidence.
- :mod:`~model.workflows.validation.cases`: Weitsman's readings of her historical cases.
- :mod:`~model.workflows.validation.paper`: the paper's own coding of the present case.
- :mod:`~model.workflows.validation.event_data`: the model against machine-coded event data.
"""
