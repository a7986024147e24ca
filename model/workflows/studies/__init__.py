"""Questions asked of a fit: what if (scenarios), how much the priors matter, an analyst's priors.

- :mod:`~model.workflows.studies.scenario`: threats fixed on every draw, set beside the baseline.
- :mod:`~model.workflows.studies.sensitivity`: power-scaling, prior sets, the Table 2 sweep.
- :mod:`~model.workflows.studies.elicit`: plain statements about Table 2 and 3 to a prior set.
"""
