"""Evidence and priors, as data.

Actors and coded observations (:mod:`model.evidence.data`), their aggregation
into counts (:mod:`model.evidence.aggregate`), the shipped cases, prior sets
(:mod:`model.evidence.priors`), where the shipped files are in a checkout or an
install (:mod:`model.evidence.shipped`), the forecast store and feed ingestion,
and treaty obligations (:mod:`model.evidence.atop`), which check the model's
commitment and never enter a fit. Imports only :mod:`model.theory`.
"""
