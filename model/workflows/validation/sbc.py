"""Simulation-based calibration (Talts et al. 2020) of the whole model.

Each simulation draws every parameter from the prior, simulates a data set
from the model's generative story (:mod:`model.generative.simulate`), aggregates it as
real data are, fits the model and records, for every scalar quantity, the
rank of the true value among thinned posterior draws. If the sampler and the
simulator agree with the model, every rank is uniform on ``0..L``.

Simulations are independent tasks for :func:`model.inference.runner.run_tasks`. Each
writes its ranks atomically to ``sims/sim-<seed>.json``; a rerun skips every
seed already written, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from model.evidence.aggregate import Evidence
from model.generative.simulate import Design, PriorSampler, simulate_case, template_evidence
from model.inference.config import SamplerConfig
from model.inference.refit import Refitter
from model.workflows.common.run_folder import atomic_file

#: Deterministics an analyst reads, taken at the last period with evidence.
DERIVED_AT_LAST: tuple[str, ...] = (
    "p_level",
    "strategy_prob",
    "type_prob",
    "commitment_prob",
    "cohesion_prob",
    "axis_commitment",
    "axis_cohesion",
)

#: Family-wise error rate of the uniformity tests (Holm across all quantities).
ALPHA = 0.05


@dataclass(frozen=True)
class SBCSpec:
    """What one simulation does: the design, the priors, and the sampler."""

    design: Design = field(default_factory=Design)
    priors: str = "priors/default.toml"
    #: the forecast's sampler and warm-up, with a fixed count of draws (ranks need one)
    refit: SamplerConfig = field(default_factory=lambda: SamplerConfig(draws=260, chains=2))
    thin: int = 5

    @property
    def n_ranks(self) -> int:
        """``L``: posterior draws each rank counts over (ranks run 0..L)."""
        return self.refit.chains * len(range(0, self.refit.draws, self.thin))

    def key(self) -> str:
        """Describe the settings stably, so a resumed run can check it uses the same ones."""
        d = asdict(self)
        d["design"]["start"] = str(d["design"]["start"])
        return json.dumps(d, sort_keys=True)


def _labels(evidence: Evidence) -> dict[str, list[str]]:
    return evidence.coords


def scalar_quantities(
    values: Mapping[str, np.ndarray],
    evidence: Evidence,
    free: list[str],
    sample_ndim: int,
) -> dict[str, np.ndarray]:
    """Flatten the calibrated quantities to named scalars, keeping the sample axes.

    Every element of every free variable (constrained scale), of the plain
    model's start and tables (``threat_init``, the three Dirichlets), and of
    ``discrimination`` and ``threshold_shift``; ``theta`` and P(axis) at the
    last period with evidence and at the horizon; and the reported
    probabilities of :data:`DERIVED_AT_LAST` at the last period with evidence.
    """
    coords = _labels(evidence)
    last, horizon = evidence.report_index[0], evidence.report_index[2]
    out: dict[str, np.ndarray] = {}

    def add(group: str, arr: np.ndarray, dims: list[str]) -> None:
        arr = np.asarray(arr)
        core = arr.shape[sample_ndim:]
        for idx in np.ndindex(*core) if core else [()]:
            label = ",".join(
                coords[d][i] if d in coords and len(coords[d]) == n else str(i)
                for d, i, n in zip(dims, idx, core, strict=True)
            )
            out[f"{group}[{label}]" if label else group] = arr[(..., *idx)]

    dims = {
        "threat_init": ["series"],
        "threat_anchor": ["series"],
        "strategy_map_gamma": ["ext_level", "int_level", "strategy"],
        "commitment_gamma": ["alliance_type", "outcome_level"],
        "cohesion_gamma": ["alliance_type", "outcome_level"],
        "threat_drift": ["series"],
        "threat_innovation": ["series", "step"],
        "strategy_map": ["ext_level", "int_level", "strategy"],
        "commitment": ["alliance_type", "outcome_level"],
        "cohesion": ["alliance_type", "outcome_level"],
        "discrimination": ["indicator"],
        "threshold_shift": ["indicator"],
        "discrimination_raw_offset": ["indicator"],
        "threshold_shift_offset": ["indicator"],
    }
    plain = ["threat_init", "strategy_map", "commitment", "cohesion"]
    for name in dict.fromkeys([*free, *plain, "discrimination", "threshold_shift"]):
        arr = np.asarray(values[name])
        add(name, arr, dims.get(name, [f"d{i}" for i in range(arr.ndim - sample_ndim)]))
    theta = np.asarray(values["theta"])
    add("theta@last", theta[..., last], ["series"])
    p_axis = np.asarray(values["p_axis"])
    out["p_axis@last"] = p_axis[..., last]
    out["p_axis@horizon"] = p_axis[..., horizon]
    window_dims = {
        "p_level": ["series", "level"],
        "strategy_prob": ["pair", "strategy"],
        "type_prob": ["dyad", "alliance_type"],
        "commitment_prob": ["dyad", "outcome_level"],
        "cohesion_prob": ["dyad", "outcome_level"],
        "axis_commitment": ["outcome_level"],
        "axis_cohesion": ["outcome_level"],
    }
    for name in DERIVED_AT_LAST:
        arr = np.asarray(values[name])
        w = 1 if name.startswith("axis_") else 2  # window axis position among core dims
        arr = np.take(arr, 0, axis=sample_ndim + w - 1)
        add(f"{name}@last", arr, window_dims[name])
    return out


def rank_of(truth: float, draws: np.ndarray, rng: np.random.Generator) -> int:
    """Count the draws below ``truth``, ties broken at random (so ranks stay uniform)."""
    draws = np.asarray(draws).ravel()
    below = int((draws < truth).sum())
    ties = int((draws == truth).sum())
    return below + int(rng.integers(0, ties + 1))


_CACHE: dict[str, tuple[Refitter, PriorSampler, Evidence]] = {}


def _machinery(spec: SBCSpec) -> tuple[Refitter, PriorSampler, Evidence]:
    """Return the compiled refitter and prior sampler of a spec, built once per process."""
    from model.evidence.priors import load_priors

    key = spec.key()
    if key not in _CACHE:
        template = template_evidence(spec.design)
        refitter = Refitter(template, load_priors(spec.priors), spec.refit)
        _CACHE[key] = (refitter, PriorSampler(refitter.model), template)
    return _CACHE[key]


def _write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write JSON atomically (:func:`model.workflows.common.run_folder.atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(payload))


def sim_path(out: Path, seed: int) -> Path:
    """Where the ranks of simulation ``seed`` are written."""
    return Path(out) / "sims" / f"sim-{seed}.json"


def run_one(spec: SBCSpec, seed: int, out: str) -> dict[str, Any]:
    """One SBC simulation (a Dask task): prior draw, simulate, fit, rank; written atomically.

    Skips the work if the simulation's file already exists.
    """
    path = sim_path(Path(out), seed)
    if path.exists():
        return {"seed": seed, "skipped": True}
    start = time.perf_counter()
    refitter, prior, _ = _machinery(spec)
    setup = time.perf_counter() - start
    truth = prior(seed)
    rng = np.random.default_rng([seed, 1])
    sim = simulate_case(spec.design, truth, rng)
    free = [v.name for v in refitter.model.free_RVs]
    t0 = time.perf_counter()
    post = refitter.fit(sim.evidence, seed)
    fit_s = time.perf_counter() - t0
    thinned = {k: v[:, :: spec.thin] for k, v in post.items() if k != "diverging"}
    true_q = scalar_quantities(truth, sim.evidence, free, 0)
    post_q = scalar_quantities(thinned, sim.evidence, free, 2)
    ranks = {k: rank_of(float(true_q[k]), post_q[k], rng) for k in true_q}
    payload = {
        "seed": seed,
        "spec": spec.key(),
        "n_ranks": spec.n_ranks,
        "divergences": int(post["diverging"].sum()),
        # divergences of the first attempt, at the run's own acceptance target
        "first_divergences": int(refitter.last_attempts[0]["divergences"]),
        "target_accept": refitter.last_attempts[0]["target_accept"],
        "fit_seconds": fit_s,
        "setup_seconds": setup,
        "rows": sim.evidence.n_rows,
        "ranks": ranks,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, payload)
    return {"seed": seed, "skipped": False, "fit_seconds": fit_s, "setup_seconds": setup}


def load_ranks(out: Path, spec: SBCSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranks (one row per simulation, one column per quantity) and per-simulation facts.

    Raises if a file was written with different settings, so a resumed run
    never mixes two designs.
    """
    rows, info = [], []
    for path in sorted((Path(out) / "sims").glob("sim-*.json")):
        payload = json.loads(path.read_text())
        if payload["spec"] != spec.key():
            raise ValueError(f"{path} was written with other settings; use another --out")
        rows.append({"seed": payload["seed"], **payload["ranks"]})
        info.append(
            {
                **{k: payload[k] for k in ("seed", "divergences", "fit_seconds", "setup_seconds")},
                "first_divergences": payload.get("first_divergences", payload["divergences"]),
            }
        )
    ranks = pd.DataFrame(rows).set_index("seed").sort_index() if rows else pd.DataFrame()
    return ranks, pd.DataFrame(info)


def group_of(quantity: str) -> str:
    """Return the group a scalar quantity belongs to (its name before ``[``)."""
    return quantity.split("[")[0]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error control, any dependence)."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    m = len(p)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def default_bins(n_ranks: int, most: int = 20) -> int:
    """Return the most bins (up to ``most``) that split the ``L + 1`` rank values evenly."""
    return max(b for b in range(1, most + 1) if (n_ranks + 1) % b == 0)


def uniformity_table(ranks: pd.DataFrame, n_ranks: int, bins: int | None = None) -> pd.DataFrame:
    """Chi-square test of uniform ranks per quantity, Holm-adjusted across all quantities.

    Ranks ``0..L`` fall into ``bins`` equal bins (``L + 1`` should be a
    multiple of ``bins``). A quantity passes when its Holm-adjusted p-value
    is at least :data:`ALPHA`: across every quantity tested together, the
    chance of any false alarm is at most 5%.
    """
    n_values = n_ranks + 1
    bins = bins or default_bins(n_ranks)
    if n_values % bins:
        raise ValueError(f"L + 1 = {n_values} is not a multiple of {bins} bins")
    rows = []
    for q in ranks.columns:
        r = ranks[q].to_numpy(dtype=np.int64)
        counts = np.bincount(r * bins // n_values, minlength=bins)
        chi2, p = stats.chisquare(counts)
        rows.append(
            {
                "quantity": q,
                "group": group_of(q),
                "n_sims": len(r),
                "chi2": float(chi2),
                "p_value": float(p),
                "mean_pit": float(((r + 0.5) / n_values).mean()),
            }
        )
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy())
    table["passes"] = table["p_holm"] >= ALPHA
    return table


def group_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per group: quantities, the smallest raw and Holm p-values, pass/fail."""
    g = table.groupby("group", sort=False)
    return pd.DataFrame(
        {
            "quantities": g.size(),
            "min_p_value": g["p_value"].min(),
            "min_p_holm": g["p_holm"].min(),
            "passes": g["passes"].all(),
        }
    ).reset_index()


@dataclass
class SBCResult:
    """Everything a run produced."""

    ranks: pd.DataFrame
    sims: pd.DataFrame
    table: pd.DataFrame
    groups: pd.DataFrame
    new: int


def run_sbc(
    spec: SBCSpec,
    n_sims: int,
    out: Path,
    *,
    seed: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SBCResult:
    """Run (or resume) ``n_sims`` simulations with seeds ``seed .. seed + n_sims - 1``."""
    from model.inference.runner import run_tasks

    out = Path(out)
    (out / "sims").mkdir(parents=True, exist_ok=True)
    spec_file = out / "spec.json"
    if spec_file.exists() and json.loads(spec_file.read_text())["spec"] != spec.key():
        raise ValueError(f"{out} holds a run with other settings; use another --out")
    _write_json(spec_file, {"spec": spec.key()})
    todo = [s for s in range(seed, seed + n_sims) if not sim_path(out, s).exists()]
    if todo:
        run_tasks(
            run_one,
            [(spec, s, str(out)) for s in todo],
            scheduler=scheduler,
            workers=workers,
            progress=progress,
        )
    ranks, sims = load_ranks(out, spec)
    wanted = [s for s in range(seed, seed + n_sims) if s in ranks.index]
    ranks, sims = ranks.loc[wanted], sims[sims["seed"].isin(wanted)]
    table = uniformity_table(ranks, spec.n_ranks)
    return SBCResult(ranks, sims, table, group_table(table), new=len(todo))


def worst_per_group(table: pd.DataFrame) -> list[str]:
    """Return the quantity with the smallest p-value in each group, for plotting."""
    tested = table.dropna(subset=["p_value"])  # a quantity with no rank spread has no test
    idx = tested.groupby("group", sort=False)["p_value"].idxmin()
    return tested.loc[idx, "quantity"].tolist()
