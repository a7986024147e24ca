"""The PyMC model: a pure function from (evidence, priors) to ``pm.Model``.

No file is read, nothing is sampled, nothing global is touched: the same
inputs always build the same graph, which is what makes runs reproducible
and the model testable. The graph itself is :mod:`model.generative.graph`;
the coordinates it is built in are chosen by :mod:`model.generative.reparam`.
"""

from __future__ import annotations

import pymc as pm

from model.evidence.aggregate import Evidence
from model.evidence.priors import PriorSet
from model.generative.coordinates import Parametrisation
from model.generative.graph import model_graph
from model.generative.reparam import choose

__all__ = ["build_model"]


def build_model(
    evidence: Evidence,
    priors: PriorSet,
    parametrisation: Parametrisation | None = None,
    *,
    shared_data: bool = False,
) -> pm.Model:
    """Build the dangerous-alliances model.

    Parameters
    ----------
    evidence
        Aggregated counts on the period grid (:func:`model.evidence.aggregate.aggregate`).
    priors
        A validated prior set (:func:`model.evidence.priors.load_priors`).
    parametrisation
        The coordinates to build in; ``None`` chooses them from the evidence
        and priors (:func:`model.generative.reparam.choose`),
        :data:`model.generative.coordinates.PLAIN`
        builds the model in its own. Every parametrisation has the same
        posterior of every named quantity.
    shared_data
        Hold the counts (:data:`model.generative.graph.DATA_FIELDS`) in ``pm.Data`` containers, so
        that many data sets of one structure (simulation-based calibration,
        recovery) are fitted by one compiled sampler after ``pm.set_data``.

    Returns
    -------
    pm.Model
        Free variables: the random-walk threats, the measurement model and
        the Table 2 / Table 3 Dirichlets. Named deterministics hold every
        reported quantity: ``theta``, ``p_level``, ``strategy_prob``,
        ``type_prob``, ``commitment_prob``, ``cohesion_prob``, ``p_axis``,
        ``axis_commitment``, ``axis_cohesion`` (what the theory implies from
        the threats), and ``smoothed_type_prob``, ``smoothed_commitment_prob``,
        ``smoothed_cohesion_prob`` for every period: each dyad's state given
        all the evidence, its own period's conduct and outcome codes included
        (:func:`model.theory.alliance.dyad_states`); in a period without such
        codes the two agree.
    """
    param = choose(evidence, priors) if parametrisation is None else parametrisation
    return model_graph(evidence, priors, param, shared_data=shared_data)
