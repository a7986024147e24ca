"""Fit many data sets of one structure with one compiled sampler.

Simulation-based calibration and parameter recovery fit the same model to
hundreds of simulated data sets that differ only in their counts. Building a
model per data set and sampling it through ``pm.sample`` compiles a new JAX
program each time (the counts are baked in as constants), and that compile
costs more than the sampling. Here the counts of a template
:class:`~model.evidence.Evidence` are shared variables, the model's joint
log density (``model.logp()``, the exact density ``pm.sample`` would use) is
compiled once as a JAX function *of the parameters and the counts*, and
numpyro's NUTS is run with the counts as jit arguments
(``jit_model_args=True``): every later data set of the same shape reuses the
compiled program.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace

from model.build import build_model
from model.evidence import Evidence
from model.priors import PriorSet

#: The evidence arrays that change between data sets of one structure.
DATA_FIELDS: tuple[str, ...] = ("threat_counts", "conduct_counts", "outcome_counts")


@dataclass(frozen=True)
class RefitConfig:
    """Sampler settings of a refit: NUTS chains run one after another."""

    draws: int = 500
    tune: int = 500
    chains: int = 1
    target_accept: float = 0.9


def same_structure(a: Evidence, b: Evidence) -> bool:
    """Whether two evidence sets differ only in their counts (same cells, periods, grid)."""
    return (
        a.periods == b.periods
        and a.report_index == b.report_index
        and a.structure == b.structure
        and np.array_equal(a.threat_cells, b.threat_cells)
        and np.array_equal(a.behaviour_periods, b.behaviour_periods)
        and all(getattr(a, f).shape == getattr(b, f).shape for f in DATA_FIELDS)
    )


class Refitter:
    """A model of a fixed evidence structure, compiled once, fitted to many data sets.

    Parameters
    ----------
    template
        Evidence with the structure every data set will share.
    priors
        The prior set.
    config
        Sampler settings.
    """

    def __init__(self, template: Evidence, priors: PriorSet, config: RefitConfig | None = None):
        import jax
        from pymc.sampling.jax import get_jaxified_graph

        self.template = template
        self.config = config or RefitConfig()
        shared = {
            f: pytensor.shared(np.asarray(getattr(template, f)).astype("float64"), name=f)
            for f in DATA_FIELDS
        }
        self.model = build_model(replace(template, **shared), priors)
        symbolic = {
            f: pt.tensor(name=f, dtype="float64", shape=s.get_value().shape)
            for f, s in shared.items()
        }
        values = self.model.value_vars
        logp = graph_replace(self.model.logp(), {shared[f]: symbolic[f] for f in DATA_FIELDS})
        data_in = [symbolic[f] for f in DATA_FIELDS]
        logp_fn = get_jaxified_graph(inputs=[*values, *data_in], outputs=[logp])
        self._names = [v.name for v in values]
        names = self._names

        def potential(params: dict, data: tuple) -> jax.Array:
            """Negative joint log density: NUTS's potential energy."""
            return -logp_fn(*(params[n] for n in names), *data)[0]

        self._potential = potential
        outputs = self.model.unobserved_value_vars
        self.output_names = [v.name for v in outputs]
        post_fn = get_jaxified_graph(inputs=values, outputs=outputs)
        self._post = jax.jit(jax.vmap(lambda *v: post_fn(*v)))
        self._run = None
        self._initial = self.model.initial_point()
        self._shapes = {n: np.shape(self._initial[n]) for n in names}

    def _data(self, evidence: Evidence) -> tuple[np.ndarray, ...]:
        if not same_structure(self.template, evidence):
            raise ValueError("evidence does not have the template's structure")
        return tuple(np.asarray(getattr(evidence, f), dtype="float64") for f in DATA_FIELDS)

    def log_density(self, evidence: Evidence, point: dict[str, np.ndarray]) -> float:
        """Joint log density at a point of the unconstrained (value-variable) space."""
        return -float(self._potential(point, self._data(evidence)))

    def fit(self, evidence: Evidence, seed: int) -> dict[str, np.ndarray]:
        """Sample the posterior given ``evidence``, reproducibly from ``seed``.

        Returns
        -------
        dict
            Every free variable (constrained) and deterministic, shaped
            ``(chain, draw, ...)``, plus ``diverging (chain, draw)``.
        """
        import jax

        c = self.config
        data = self._data(evidence)
        if self._run is None:
            self._run = self._compile()
        rng = np.random.default_rng(seed)
        keys = jax.random.split(jax.random.PRNGKey(seed), c.chains)
        chains, divs = [], []
        for chain in range(c.chains):
            init = {
                n: np.asarray(self._initial[n]) + rng.uniform(-1, 1, np.shape(self._initial[n]))
                for n in self._names
            }
            z, div = self._run(data, keys[chain], init)
            chains.append(z)
            divs.append(np.asarray(div))
        flat = [np.concatenate([np.asarray(z[n]) for z in chains]) for n in self._names]
        outs = self._post(*flat)
        lead = (c.chains, c.draws)
        result = {
            name: np.asarray(v).reshape((*lead, *np.shape(v)[1:]))
            for name, v in zip(self.output_names, outs, strict=True)
        }
        result["diverging"] = np.stack(divs)
        return result

    def _compile(self):
        """One jitted NUTS run (warm-up, then draws) with the counts as an argument."""
        import jax
        from numpyro.infer.hmc import hmc

        potential, c = self._potential, self.config
        init_kernel, sample_kernel = hmc(
            potential_fn_gen=lambda data: partial(potential, data=data)
        )

        def run(data: tuple, key: jax.Array, init: dict) -> tuple[dict, jax.Array]:
            state = init_kernel(
                init,
                num_warmup=c.tune,
                target_accept_prob=c.target_accept,
                model_args=(data,),
                rng_key=key,
            )

            def step(state, _):
                state = sample_kernel(state, model_args=(data,))
                return state, (state.z, state.diverging)

            _, (z, div) = jax.lax.scan(step, state, None, length=c.tune + c.draws)
            return jax.tree.map(lambda x: x[c.tune :], z), div[c.tune :]

        return jax.jit(run)
