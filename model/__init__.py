"""A Bayesian model of Weitsman's dangerous-alliances theory.

Will the partner states of a case (by default Russia, China and North Korea)
form an alliance against an external actor (the United States)? See
``docs/`` and the README for the theory and the model.

Importing the package has no side effects: JAX is given its CPU devices
(one per chain) when the first fit starts (:func:`model.inference.sampling.sample`).
"""

from __future__ import annotations

__version__ = "0.1.0"
