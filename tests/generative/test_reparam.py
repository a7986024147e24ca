"""The reparametrised model is the plain model in other coordinates.

At random points drawn from the reparametrised model's prior, the plain
model (:data:`model.generative.coordinates.PLAIN`) evaluated at the same plain variables
gives the same reported quantities, and the same joint density up to the
Jacobian of each change of variables: the anchor (1), the Brownian bridges
(``1 / (drift sqrt(L))`` each), centring (``1 / sigma`` per member) and the
Gamma rows (``Gamma(S; sum a) / S**(K - 1)`` per row).
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytest
from pymc.model.transform.conditioning import remove_value_transforms
from scipy.stats import gamma as gamma_dist

from model.generative.build import build_model
from model.generative.coordinates import PLAIN, Parametrisation, bridge_basis, walk_map
from model.generative.reparam import choose
from model.generative.simulate import PriorSampler

REPORTED = ("theta", "p_axis", "type_prob", "commitment_prob", "cohesion_prob", "strategy_prob")


def _log_jacobian(
    draw: dict[str, np.ndarray], param: Parametrisation, priors, n_periods: int
) -> float:
    """log p_reparam - log p_plain at a point, from the changes of variables taken."""
    out = 0.0
    for group in param.gamma:
        a = np.asarray(priors.tables[group]["kwargs"]["a"], dtype=float)
        total = draw[f"{group}_gamma"].sum(axis=-1)
        k = a.shape[-1]
        out += float(np.sum(gamma_dist.logpdf(total, a.sum(axis=-1)) - (k - 1) * np.log(total)))
    if "discrimination" in param.centred:
        out -= np.log(draw["discrimination_raw_sigma"]) * draw["discrimination"].size
    if "threshold_shift" in param.centred:
        out -= np.log(draw["threshold_shift_sigma"]) * draw["threshold_shift"].size
    if param.bridged:
        walk = walk_map(param.knots, n_periods)
        series = np.repeat(np.arange(len(param.knots)), [len(k) for k in param.knots])
        for idx, _prev, length in walk.later:
            out -= np.log(draw["threat_drift"][series[idx]]) + 0.5 * np.log(length)
    return out


def _compare(inputs, param: Parametrisation, seeds=(1, 2, 3)) -> None:
    ev, priors = inputs.evidence, inputs.priors
    re = build_model(ev, priors, param)
    plain = build_model(ev, priors, PLAIN)
    re_c, plain_c = remove_value_transforms(re), remove_value_transforms(plain)
    fast = {"mode": "FAST_COMPILE"}  # a few evaluations: compiling is the cost
    re_logp, plain_logp = re_c.compile_logp(**fast), plain_c.compile_logp(**fast)
    reported = pytensor.function(
        plain_c.value_vars,
        plain_c.replace_rvs_by_values([plain_c[n] for n in REPORTED]),
        on_unused_input="ignore",
        **fast,
    )
    prior = PriorSampler(re)
    for seed in seeds:
        draw = prior(seed)
        # the posterior holds every plain variable, offsets included, centred or not
        point = {rv.name: draw[rv.name] for rv in plain.free_RVs}
        at_re = {rv.name: draw[rv.name] for rv in re.free_RVs}
        expected = plain_logp(point) + _log_jacobian(draw, param, priors, len(ev.periods))
        assert re_logp(at_re) == pytest.approx(expected, rel=1e-9, abs=1e-6)
        values = reported(*(point[v.name] for v in plain_c.value_vars))
        for name, value in zip(REPORTED, values, strict=True):
            np.testing.assert_allclose(draw[name], value, rtol=1e-8, atol=1e-12, err_msg=name)


def test_chosen_parametrisation_is_the_plain_model(shipped_inputs):
    """The shipped evidence: the walk anchored at the last evidence, Gamma rows."""
    param = choose(shipped_inputs.evidence, shipped_inputs.priors)
    assert param.anchored and not param.bridged
    assert param.gamma == {"strategy_map", "commitment", "cohesion"}
    _compare(shipped_inputs, param)


def test_bridges_and_centring_are_the_plain_model(shipped_inputs):
    """Knots with bridges on some series and both pooled vectors centred."""
    ev = shipped_inputs.evidence
    anchor = int(ev.report_index[0])
    knots = tuple((2, 7, anchor) if s % 2 else (anchor,) for s in range(len(ev.structure.series)))
    param = Parametrisation(
        knots=knots,
        centred=frozenset({"threshold_shift", "discrimination"}),
        gamma=frozenset({"strategy_map"}),
    )
    assert param.bridged
    _compare(shipped_inputs, param, seeds=(4, 5))


def test_bridge_basis_is_orthonormal_and_sums_to_zero():
    for n in (2, 3, 7):
        b = bridge_basis(n)
        np.testing.assert_allclose(b.T @ b, np.eye(n - 1), atol=1e-12)
        np.testing.assert_allclose(b.sum(axis=0), 0.0, atol=1e-12)


def test_walk_map_reconstructs_any_walk():
    """Innovations and start map to the knot coordinates and back, exactly."""
    rng = np.random.default_rng(0)
    knots, n_periods = [(1, 4, 9), (9,), (0, 9)], 12
    walk = walk_map(knots, n_periods)
    drift = np.array([0.3, 0.2, 0.5])
    z = rng.normal(size=(3, n_periods - 1))
    init = rng.normal(size=3)
    theta = np.concatenate([init[:, None], init[:, None] + np.cumsum(drift[:, None] * z, 1)], 1)
    k = np.concatenate([theta[s, list(ks)] for s, ks in enumerate(knots)])
    r = walk.P.T @ z.ravel()
    np.testing.assert_allclose(walk.P @ r + walk.Q @ k / np.repeat(drift, n_periods - 1), z.ravel())
    np.testing.assert_allclose(walk.F @ k - drift * (walk.G @ r), init)


def test_choose_is_pure_and_respects_the_prior_families(shipped_inputs):
    """The same inputs give the same choice; a non-normal start is not anchored."""
    ev, priors = shipped_inputs.evidence, shipped_inputs.priors
    assert choose(ev, priors) == choose(ev, priors)
    table = dict(priors.tables["threat_init"])
    table["dist"] = "StudentT"
    table["kwargs"] = {"nu": 5.0, "mu": 0.0, "sigma": 1.5}
    heavy = priors.with_tables("heavy", threat_init=table)
    assert not choose(ev, heavy).anchored
    build_model(ev, heavy)  # and the model still builds, in the plain walk
