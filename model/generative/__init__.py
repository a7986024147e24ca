"""The generative model.

:func:`model.generative.build.build_model` is a pure function from (evidence,
priors) to a ``pm.Model``; :mod:`model.generative.reparam` chooses the
coordinates it is built in; :mod:`model.generative.simulate` draws data from
the same story.
"""
