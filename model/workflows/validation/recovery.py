"""Parameter recovery: fixed, known configurations simulated, fitted, and checked.

Each configuration fixes every state's external threat level and every
directed internal threat level (the latent scores sit in the middle of the
level). Other parameters are fixed at their prior means. Evidence is
simulated from :mod:`model.generative.simulate` at a chosen volume (rows per series,
pair or dyad outcome per period), fitted, and compared with the truth: is
each true threat score at the last period inside its 94% HDI, is each
series' modal level the true one, and is each dyad's modal type the true
modal type (the type with the highest probability under the true
parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from arviz_stats.base import array_stats

from model.evidence.aggregate import Structure
from model.evidence.priors import PriorSet
from model.generative.simulate import Design, level_probs_np, simulate_case, template_evidence
from model.inference.config import SamplerConfig
from model.inference.convergence import HDI_PROB
from model.inference.refit import Refitter
from model.theory.alliance import axis_log_prob, type_probs
from model.theory.strategy import full_table, strategy_given_external, strategy_marginal
from model.theory.tables import ALLIANCE_TYPES, LEVELS, THREAT_INDICATORS

#: Latent score in the middle of each level (anchors at -1 and +1).
LEVEL_SCORE: dict[str, float] = {"low": -2.5, "medium": 0.0, "high": 2.5}


@dataclass(frozen=True)
class Configuration:
    """Known threat levels: one external level per state, one per directed internal series.

    ``internal`` maps a series name (``"CHN<-RUS"``) to its level; series not
    named take ``internal_default``.
    """

    name: str
    external: Mapping[str, str]
    internal: Mapping[str, str]
    internal_default: str = "low"


#: Configurations checked by default.
CONFIGURATIONS: dict[str, Configuration] = {
    # external high, internal low everywhere: cell G, balancing by everyone
    "all balancing": Configuration(
        "all balancing", {"RUS": "high", "CHN": "high", "PRK": "high"}, {}, "low"
    ),
    # the paper's coding (data/paper_coding.toml)
    "paper": Configuration(
        "paper",
        {"RUS": "high", "CHN": "low", "PRK": "high"},
        {"CHN<-PRK": "medium", "PRK<-CHN": "medium"},
        "low",
    ),
    # external low, internal medium: cell B, tethering by everyone
    "tethering-heavy": Configuration(
        "tethering-heavy", {"RUS": "low", "CHN": "low", "PRK": "low"}, {}, "medium"
    ),
}


def true_parameters(
    config: Configuration, design: Design, priors: PriorSet
) -> dict[str, np.ndarray]:
    """Parameters of a configuration: constant scores per level, other groups at prior means."""
    s = design.structure
    ext = design.external
    level = [
        config.external[obs] if src == ext else config.internal.get(name, config.internal_default)
        for name in s.series
        for obs, src in [name.split("<-")]
    ]
    n_t = design.n_periods + design.horizon
    theta = np.repeat(np.array([LEVEL_SCORE[v] for v in level])[:, None], n_t, axis=1)

    def mean(group: str) -> np.ndarray:
        a = np.asarray(priors.tables[group]["kwargs"]["a"], dtype=float)
        return a / a.sum(axis=-1, keepdims=True)

    return {
        "theta": theta,
        "level_sharpness": np.array(4.0),
        "discrimination": np.full(len(THREAT_INDICATORS), np.exp(0.7)),
        "threshold_shift": np.zeros(len(THREAT_INDICATORS)),
        "strategy_map": mean("strategy_map"),
        "commitment": mean("commitment"),
        "cohesion": mean("cohesion"),
        "conduct_error": np.array(0.1),
        "outcome_error": np.array(0.1),
    }


def true_quantities(
    params: Mapping[str, np.ndarray], structure: Structure, period: int
) -> dict[str, np.ndarray]:
    """Level, type probabilities and P(axis) at one period, by the model's own functions."""
    p_lev = level_probs_np(params["theta"][:, period], params["level_sharpness"])[:, None, :]
    k = len(structure.actors.partners)
    mapping = np.asarray(params["strategy_map"])
    mapping = full_table(mapping)
    q = strategy_given_external(p_lev[structure.pair_internal_series], mapping)
    strat = strategy_marginal(p_lev[:k][structure.pair_actor], q)
    dp = structure.dyad_pairs
    p_type = type_probs(strat[dp[:, 0]], strat[dp[:, 1]]).eval()[:, 0]
    p_axis = np.exp(axis_log_prob(np.log(p_lev[:k]), q, dp, structure.members).eval())[0]
    return {"p_level": p_lev[:, 0], "type_prob": p_type, "p_axis": float(p_axis)}


def check_recovery(
    truth: Mapping[str, np.ndarray], post: Mapping[str, np.ndarray], design: Design, last: int
) -> dict[str, pd.DataFrame]:
    """Compare a posterior with the truth at the last period with evidence.

    Returns per-series and per-dyad tables: truth, posterior mean, 94% HDI,
    whether the truth is inside it, and whether the modal level / type is
    the true one.
    """
    s = design.structure
    true = true_quantities(truth, s, last)
    theta = post["theta"][..., last]  # (chain, draw, series)
    hdi = array_stats.hdi(theta, prob=HDI_PROB, axis=(0, 1))
    p_level = post["p_level"][:, :, :, 0].mean(axis=(0, 1))  # (series, level)
    series = pd.DataFrame(
        {
            "series": s.series,
            "true_theta": truth["theta"][:, last],
            "mean": theta.mean(axis=(0, 1)),
            "hdi_low": hdi[:, 0],
            "hdi_high": hdi[:, 1],
            "true_level": [LEVELS[i] for i in true["p_level"].argmax(-1)],
            "modal_level": [LEVELS[i] for i in p_level.argmax(-1)],
        }
    )
    series["in_hdi"] = (series["true_theta"] >= series["hdi_low"]) & (
        series["true_theta"] <= series["hdi_high"]
    )
    series["level_correct"] = series["true_level"] == series["modal_level"]
    p_type = post["type_prob"][:, :, :, 0].mean(axis=(0, 1))  # (dyad, type)
    dyads = pd.DataFrame(
        {
            "dyad": s.dyads,
            "true_type": [ALLIANCE_TYPES[i] for i in true["type_prob"].argmax(-1)],
            "true_type_prob": true["type_prob"].max(-1),
            "modal_type": [ALLIANCE_TYPES[i] for i in p_type.argmax(-1)],
            "modal_type_prob": p_type.max(-1),
        }
    )
    dyads["type_correct"] = dyads["true_type"] == dyads["modal_type"]
    p_axis = post["p_axis"][..., last]
    axis_hdi = array_stats.hdi(p_axis, prob=HDI_PROB, axis=(0, 1))
    axis = pd.DataFrame(
        {
            "true_p_axis": [true["p_axis"]],
            "mean": [p_axis.mean()],
            "hdi_low": [axis_hdi[0]],
            "hdi_high": [axis_hdi[1]],
        }
    )
    return {"series": series, "dyads": dyads, "axis": axis}


def recovery_table(
    priors: PriorSet,
    *,
    configurations: Mapping[str, Configuration] | None = None,
    volumes: tuple[int, ...] = (4, 2, 1),
    base: Design | None = None,
    refit: SamplerConfig | None = None,
    seed: int = 0,
    every: int = 1,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Recovery per configuration and evidence volume (rows per series per period).

    At volume ``v`` every threat series, every pair's conduct and every
    dyad's commitment and cohesion get ``v`` coded rows in every
    ``every``-th period (``v / every`` rows per period on average).
    """
    configurations = configurations or CONFIGURATIONS
    base = base or Design(n_periods=8)
    refit = refit or SamplerConfig(draws=500, tune=500, chains=2)
    rows = []
    for v in volumes:
        design = replace(base, threat_rows=v, conduct_rows=v, outcome_rows=v, every=every)
        refitter = Refitter(template_evidence(design), priors, refit)
        for n, (name, config) in enumerate(configurations.items()):
            truth = true_parameters(config, design, priors)
            sim = simulate_case(design, truth, np.random.default_rng([seed, v, n]))
            post = refitter.fit(sim.evidence, seed + n)
            res = check_recovery(truth, post, design, sim.evidence.report_index[0])
            ser, dy, ax = res["series"], res["dyads"], res["axis"].iloc[0]
            rows.append(
                {
                    "configuration": name,
                    "rows_per_period": v / every,
                    "theta_in_hdi": f"{ser['in_hdi'].sum()}/{len(ser)}",
                    "level_correct": f"{ser['level_correct'].sum()}/{len(ser)}",
                    "type_correct": f"{dy['type_correct'].sum()}/{len(dy)}",
                    "theta_hdi_width": float((ser["hdi_high"] - ser["hdi_low"]).mean()),
                    "true_p_axis": ax["true_p_axis"],
                    "p_axis_mean": ax["mean"],
                    "p_axis_hdi": f"[{ax['hdi_low']:.2f}, {ax['hdi_high']:.2f}]",
                    "divergences": int(post["diverging"].sum()),
                    "missed": "; ".join(
                        [*ser.loc[~ser["in_hdi"], "series"], *dy.loc[~dy["type_correct"], "dyad"]]
                    ),
                }
            )
            if progress:
                progress(f"{name} at {v} rows per period done")
    return pd.DataFrame(rows)
