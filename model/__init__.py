"""A Bayesian model of Weitsman's dangerous-alliances theory.

Will the partner states of a case (by default Russia, China and North Korea)
form an alliance against an external actor (the United States)? See
``DESIGN`` in the README for the theory and the model.
"""

from __future__ import annotations

import os

# JAX reads this once, when it is first imported: give it one virtual device
# per chain so that numpyro runs the four chains in parallel. Set here, before
# anything can import jax; a value the user set wins.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

__version__ = "0.1.0"
