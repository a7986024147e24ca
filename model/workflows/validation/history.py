"""The theory learned from history and tested on cases it did not see.

Table 2 and Table 3 carry the whole forecast, so their worth is measured out
of sample, the way a political scientist would: fit all the historical cases
but one jointly (:func:`model.generative.joint.build_joint_model`: the
theory shared, each case's threats and evidence its own), then predict the
held-out case's conduct and outcome codes, and its implied alliance type at
the literature's key dates, from its threat evidence alone.

Three versions of the theory are scored on the same held-out codes:

* ``prior``: the tables as the prior set states them (nothing learned);
* ``learned``: the tables' posterior given the other cases;
* ``flat``: the flat Table 2 of ``priors/no_theory.toml`` (the theory says
  nothing about strategy).

With the held-out case's conduct and outcome rows withheld its tables and
threats do not meet in the likelihood, so the joint posterior of (the
others' fit, the held-out threats) is the product of the others' joint fit
and the held-out case's threat-only fit: its threat draws are paired with
table draws from each version (:func:`predict_case`). Exact, and each
held-out fit is an ordinary one.

:func:`learned_prior_set` turns the tables' posterior over every historical
case into an ordinary prior set (moment-matched Dirichlet and Beta rows),
written under ``priors/`` with its provenance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.priors import PriorSet, load_priors, parse_prior_tables, prior_set_toml
from model.evidence.shipped import prior_set_path, shipped_case, shipped_root
from model.generative.graph import THEORY_GROUPS
from model.generative.joint import build_joint_model, case_variable
from model.generative.simulate import level_probs_np
from model.inference.config import SamplerConfig
from model.inference.convergence import diagnostics
from model.inference.sampling import sample
from model.theory.strategy import full_table
from model.theory.tables import ALLIANCE_TYPES, OUTCOME_LEVELS, STRATEGIES
from model.workflows.forecast.fit import versions
from model.workflows.forecast.inputs import Inputs, load_case, prepare_inputs
from model.workflows.studies.scenario import reported_quantities
from model.workflows.validation.cases import has_reading, load_reading, period_label, reading_path

__all__ = [
    "VERSIONS",
    "HeldOut",
    "History",
    "fit_cases",
    "historical_cases",
    "learned_prior_set",
    "predict_case",
    "run_history",
    "score_table",
    "withhold_behaviour",
]

#: The versions of the theory scored side by side on every held-out case.
VERSIONS: tuple[str, ...] = ("learned", "prior", "flat")

#: The prior set whose Table 2 is flat: what "the theory says nothing" means.
FLAT_PRIORS = "no_theory"

#: Groups whose draws make a version of the theory (Table 2, Table 3, error rates).
TABLES: tuple[str, ...] = THEORY_GROUPS


def historical_cases() -> list[str]:
    """Return the shipped cases that carry the literature's reading: the theory's history."""
    from model.evidence.cases import available_cases

    root = shipped_root()
    return [n for n in available_cases(root) if has_reading(shipped_case(n))]


def withhold_behaviour(inputs: Inputs) -> Inputs:
    """Return the case with its conduct and outcome rows withheld, on the same period grid.

    What a held-out case shows its prediction: its threat evidence only. The
    as-of date and horizon are the full case's, so both share one grid.
    """
    frame = inputs.observations
    threats = frame[frame["kind"] == "threat"].reset_index(drop=True)
    ev = inputs.evidence
    horizon = ev.report_index[2] - ev.report_index[1]
    return prepare_inputs(
        inputs.actors, threats, inputs.priors, as_of=inputs.as_of, horizon=horizon
    )


def fit_cases(cases: Mapping[str, Inputs], priors: PriorSet, config: SamplerConfig) -> xr.DataTree:
    """Fit several cases jointly (the theory shared) and record what produced the draws.

    Parameters
    ----------
    cases
        Each case's inputs, by name.
    priors
        The prior set every case reads.
    config
        Sampler settings (as for a forecast).

    Returns
    -------
    xarray.DataTree
        The posterior; its attributes hold ``cases``, ``provenance`` (each
        case's data hash, the prior hash, seed, sampler, versions) and
        ``diagnostics`` (the convergence gate over every case's quantities).
    """
    model = build_joint_model({n: c.evidence for n, c in cases.items()}, priors)
    idata = sample(model, config)
    idata.attrs["cases"] = json.dumps(list(cases))
    idata.attrs["provenance"] = json.dumps(
        {
            "data_sha256": {n: c.data_sha256 for n, c in cases.items()},
            "priors_sha256": priors.sha256,
            "priors": priors.name,
            "seed": config.seed,
            "sampler": {k: getattr(config, k) for k in config.__dataclass_fields__},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": versions(),
        }
    )
    idata.attrs["diagnostics"] = json.dumps(diagnostics(idata))
    return idata


def _flat(da: xr.DataArray) -> np.ndarray:
    """``(chain, draw, ...)`` draws as ``(sample, ...)``."""
    values = da.values
    return values.reshape(-1, *values.shape[2:])


def table_draws(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """Return the theory's draws from a posterior, flattened over chains and draws."""
    return {g: _flat(posterior[g]) for g in TABLES}


def prior_tables(priors: PriorSet, n: int, seed: int) -> dict[str, np.ndarray]:
    """Draw the theory's tables from a prior set: Dirichlet rows and Beta error rates."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for group in TABLES:
        table = priors.tables[group]
        kwargs = table["kwargs"]
        if table["dist"] == "Dirichlet":
            a = np.asarray(kwargs["a"], dtype=float)
            g = rng.gamma(a, size=(n, *a.shape))
            out[group] = g / g.sum(axis=-1, keepdims=True)
        elif table["dist"] == "Beta":
            out[group] = rng.beta(kwargs["alpha"], kwargs["beta"], size=n)
        else:
            raise ValueError(f"{priors.source}: [{group}] must be a Dirichlet or a Beta here")
    return out


@dataclass(frozen=True)
class Target:
    """One withheld code: what was coded, where, of which kind."""

    kind: str  # "conduct", "commitment" or "cohesion"
    unit: str  # a pair (conduct) or a dyad (outcome)
    period: str
    code: str


def targets_of(inputs: Inputs) -> list[Target]:
    """Every conduct and outcome code of a case, one target per code."""
    ev = inputs.evidence
    s = ev.structure
    found: list[Target] = []
    for j, t in enumerate(ev.behaviour_periods):
        period = ev.periods[t]
        for p, pair in enumerate(s.pairs):
            for x, strategy in enumerate(STRATEGIES):
                found += [Target("conduct", pair, period, strategy)] * int(
                    ev.conduct_counts[p, j, x]
                )
        for d, dyad in enumerate(s.dyads):
            for o, kind in enumerate(("commitment", "cohesion")):
                for lev, level in enumerate(OUTCOME_LEVELS):
                    found += [Target(kind, dyad, period, level)] * int(
                        ev.outcome_counts[d, j, o, lev]
                    )
    return found


def implied(
    theta: np.ndarray, sharpness: np.ndarray, tables: Mapping[str, np.ndarray], n_partners: int
) -> dict[str, np.ndarray]:
    """Compute what the theory implies from the threats, every period, per draw.

    ``theta`` is ``(sample, series, period)``, ``sharpness`` ``(sample,)``;
    the tables' draws are paired with them one to one.
    """
    p_level = level_probs_np(theta, sharpness[:, None, None])
    mapping = full_table(np.asarray(tables["strategy_map"]), lead=1)
    return reported_quantities(
        p_level, mapping, tables["commitment"], tables["cohesion"], n_partners
    )


def _paired(tables: Mapping[str, np.ndarray], n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` table draws, resampled without regard to order (the posteriors are independent)."""
    m = len(next(iter(tables.values())))
    pick = np.random.default_rng(seed).choice(m, size=n, replace=m < n)
    return {g: np.asarray(v)[pick] for g, v in tables.items()}


@dataclass
class HeldOut:
    """One held-out case: every withheld code's predictive distribution under each version.

    Attributes
    ----------
    case
        The case's name.
    codes
        One row per withheld code and version: ``kind``, ``unit``, ``period``,
        ``code``, ``version``, the predictive probability of every category
        (``p_<category>``), ``p_observed``, ``log_score`` (natural log of
        ``p_observed``) and ``brier`` (multi-class, 0 to 2).
    key_dates
        One row per reading with a type and version: ``dyad``, ``date``,
        ``period``, ``reading`` (the literature's type), ``modal`` (the
        implied type), ``p_reading`` (its implied probability), ``matched``
        and ``brier`` over the ten types.
    """

    case: str
    codes: pd.DataFrame
    key_dates: pd.DataFrame


def _predictive(probs: np.ndarray, error: np.ndarray, n_categories: int) -> np.ndarray:
    """Return a code's predictive distribution: the true category, or by ``error`` any.

    ``probs`` is ``(sample, category)``; the result is its posterior mean
    ``(category,)`` (:func:`model.theory.alliance.coded_counts_likelihood`'s
    error model for one code).
    """
    coded = (1 - error)[:, None] * probs + (error / n_categories)[:, None]
    return coded.mean(axis=0)


def predict_case(
    inputs: Inputs,
    threat_fit: xr.DataTree,
    versions_tables: Mapping[str, Mapping[str, np.ndarray]],
    *,
    case: str,
    seed: int = 0,
) -> HeldOut:
    """Score a held-out case's withheld codes and key dates under each version of the theory.

    Parameters
    ----------
    inputs
        The full case (its conduct and outcome codes are the targets).
    threat_fit
        A fit of the case with those codes withheld (:func:`withhold_behaviour`).
    versions_tables
        Table draws by version (:data:`VERSIONS`), each paired with the
        threat fit's draws.
    case
        The case's name (for the reading file).
    seed
        Seeds the pairing of draws.
    """
    post = threat_fit.posterior.to_dataset()
    theta = _flat(post["theta"])
    sharp = _flat(post["level_sharpness"])
    n = len(theta)
    s = inputs.evidence.structure
    periods = list(inputs.evidence.periods)
    readings = [
        r
        for r in load_reading(reading_path(shipped_case(case)), inputs.actors)
        if r.type is not None
    ]
    targets = targets_of(inputs)
    code_rows: list[dict[str, Any]] = []
    date_rows: list[dict[str, Any]] = []
    for version, tables in versions_tables.items():
        drawn = _paired(tables, n, seed)
        q = implied(theta, sharp, drawn, len(s.actors.partners))
        for tgt in targets:
            t = periods.index(tgt.period)
            if tgt.kind == "conduct":
                probs = q["strategy"][:, s.pairs.index(tgt.unit), t]
                pred = _predictive(probs, drawn["conduct_error"], len(STRATEGIES))
                cats = STRATEGIES
            else:
                probs = q[tgt.kind][:, s.dyads.index(tgt.unit), t]
                pred = _predictive(probs, drawn["outcome_error"], len(OUTCOME_LEVELS))
                cats = OUTCOME_LEVELS
            k = cats.index(tgt.code)
            truth = np.eye(len(cats))[k]
            code_rows.append(
                {
                    "case": case,
                    "kind": tgt.kind,
                    "unit": tgt.unit,
                    "period": tgt.period,
                    "code": tgt.code,
                    "version": version,
                    **{f"p_{c}": float(p) for c, p in zip(cats, pred, strict=True)},
                    "p_observed": float(pred[k]),
                    "log_score": float(np.log(pred[k])),
                    "brier": float(((pred - truth) ** 2).sum()),
                }
            )
        for r in readings:
            label = period_label(r.date, inputs.actors)
            if label not in periods:
                continue
            p = q["type_prob"][:, s.dyads.index(r.dyad), periods.index(label)].mean(axis=0)
            truth = np.eye(len(ALLIANCE_TYPES))[ALLIANCE_TYPES.index(r.type)]
            modal = ALLIANCE_TYPES[int(np.argmax(p))]
            date_rows.append(
                {
                    "case": case,
                    "dyad": r.dyad,
                    "date": r.date.isoformat(),
                    "period": label,
                    "label": r.label,
                    "confidence": r.confidence,
                    "version": version,
                    "reading": r.type,
                    "modal": modal,
                    "p_reading": float(p[ALLIANCE_TYPES.index(r.type)]),
                    "matched": modal == r.type,
                    "brier": float(((p - truth) ** 2).sum()),
                }
            )
    return HeldOut(case, pd.DataFrame(code_rows), pd.DataFrame(date_rows))


def score_table(codes: pd.DataFrame, baseline: str = "learned") -> pd.DataFrame:
    """Mean log score and Brier per version and kind of code, with paired differences.

    For every version other than ``baseline`` the difference from it is
    taken code by code (the same held-out codes), so its standard error is
    that of a paired mean: ``sd(diff) / sqrt(n)``.

    Returns
    -------
    pandas.DataFrame
        One row per (kind, version), kinds ``conduct``, ``outcome`` and
        ``all``: ``n``, ``log_score``, ``brier``, and for the non-baseline
        versions ``log_score_diff`` (baseline minus version: positive when
        the baseline predicts better), ``log_score_diff_se``, ``brier_diff``
        (version minus baseline: positive when the baseline does better),
        ``brier_diff_se``.
    """
    codes = codes.assign(group=np.where(codes["kind"] == "conduct", "conduct", "outcome"))
    key = ["case", "kind", "unit", "period", "code"]
    rows: list[dict[str, Any]] = []
    for group in ("conduct", "outcome", "all"):
        part = codes if group == "all" else codes[codes["group"] == group]
        if part.empty:
            continue
        # each code once per version, in the same order: the pairing of the differences
        part = part.assign(occurrence=part.groupby([*key, "version"]).cumcount())
        wide = part.pivot_table(
            index=[*key, "occurrence"], columns="version", values=["log_score", "brier"]
        )
        for version in [v for v in VERSIONS if v in wide["log_score"]]:
            ls, br = wide["log_score"][version], wide["brier"][version]
            row: dict[str, Any] = {
                "kind": group,
                "version": version,
                "n": len(ls),
                "log_score": float(ls.mean()),
                "brier": float(br.mean()),
            }
            if version != baseline and baseline in wide["log_score"]:
                d_ls = wide["log_score"][baseline] - ls
                d_br = br - wide["brier"][baseline]
                row |= {
                    "log_score_diff": float(d_ls.mean()),
                    "log_score_diff_se": float(d_ls.std(ddof=1) / np.sqrt(len(d_ls))),
                    "brier_diff": float(d_br.mean()),
                    "brier_diff_se": float(d_br.std(ddof=1) / np.sqrt(len(d_br))),
                }
            rows.append(row)
    return pd.DataFrame(rows)


def moment_matched(draws: np.ndarray) -> np.ndarray:
    """Dirichlet concentrations with the draws' means and (on average) their variances.

    For a Dirichlet with total ``a0`` each share has variance
    ``m (1 - m) / (a0 + 1)``; ``a0`` is solved for each share and averaged
    over a row's shares (their variances all estimate it), and the row's
    concentrations are ``a0 * m``. ``draws`` is ``(sample, ..., category)``.
    """
    m = draws.mean(axis=0)
    v = draws.var(axis=0, ddof=1)
    a0 = (m * (1 - m) / np.maximum(v, 1e-12) - 1).mean(axis=-1, keepdims=True)
    return np.maximum(a0, 1e-3) * m


def beta_matched(draws: np.ndarray) -> tuple[float, float]:
    """Beta parameters with the draws' mean and variance."""
    m, v = float(draws.mean()), float(draws.var(ddof=1))
    total = m * (1 - m) / max(v, 1e-12) - 1
    return m * total, (1 - m) * total


def learned_prior_set(
    fit: xr.DataTree, base: PriorSet, *, name: str = "learned"
) -> tuple[PriorSet, list[str]]:
    """Turn the tables' posterior over the historical cases into an ordinary prior set.

    Each row of Table 2 and Table 3 becomes the Dirichlet with the
    posterior's means and variances (:func:`moment_matched`), each error
    rate the matching Beta; every other group is ``base``'s. Returns the
    validated set and the provenance lines for its file's header.
    """
    post = fit.posterior.to_dataset()
    tables = {k: dict(v) for k, v in base.tables.items()}
    for group in ("strategy_map", "commitment", "cohesion"):
        a = moment_matched(_flat(post[group]))
        tables[group] = {**tables[group], "kwargs": {"a": np.round(a, 3).tolist()}}
    for group in ("conduct_error", "outcome_error"):
        alpha, beta = beta_matched(_flat(post[group]))
        tables[group] = {
            **tables[group],
            "kwargs": {"alpha": round(alpha, 3), "beta": round(beta, 3)},
        }
    prov = json.loads(fit.attrs["provenance"])
    description = (
        "Weitsman's tables learned from the historical cases: the posterior of Table 2, "
        "Table 3 and the coders' error rates given every case with the literature's reading, "
        f"fitted jointly from the prior set {prov['priors']!r}, as moment-matched Dirichlet and "
        "Beta rows. Threat and measurement priors are the base set's."
    )
    learned = parse_prior_tables(tables, source=name, name=name, description=description)
    notes = [
        f"cases: {', '.join(json.loads(fit.attrs['cases']))}",
        f"fitted from: priors/{prov['priors']}.toml (sha256 {prov['priors_sha256'][:12]})",
        f"seed: {prov['seed']}; draws: {post.sizes['chain']} x {post.sizes['draw']}",
        "data sha256: " + ", ".join(f"{c} {h[:12]}" for c, h in prov["data_sha256"].items()),
        f"versions: {', '.join(f'{k} {v}' for k, v in prov['versions'].items())}",
        "written by scripts/validate_cases.py --learn (model.workflows.validation.history)",
    ]
    return learned, notes


def write_prior_set(priors: PriorSet, notes: Sequence[str], path: Path) -> Path:
    """Write a learned prior set under ``priors/``, atomically, and check it loads back."""
    from model.workflows.common.run_folder import atomic_file

    text = prior_set_toml(priors, "Prior set learned from the historical cases.", notes)
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        load_priors(tmp)  # a set that would not load is never written
    return path


@dataclass
class History:
    """Leave-one-case-out over the historical cases, and the fit of them all.

    Attributes
    ----------
    held_out
        One :class:`HeldOut` per case.
    scores
        :func:`score_table` of every held-out code, pooled over cases.
    key_dates
        Every key date of every held-out case, by version.
    fits
        Diagnostics of every fit, by label.
    all_cases
        The joint fit of every case (the learned prior set's source), if made.
    present, present_case
        The present case's own fit, and its name, if made.
    """

    held_out: list[HeldOut]
    scores: pd.DataFrame
    key_dates: pd.DataFrame
    fits: dict[str, dict[str, Any]] = field(default_factory=dict)
    all_cases: xr.DataTree | None = None
    present: xr.DataTree | None = None
    present_case: str | None = None

    @property
    def codes(self) -> pd.DataFrame:
        """Every held-out code's predictions, all cases."""
        return pd.concat([h.codes for h in self.held_out], ignore_index=True)

    def matched(self) -> pd.DataFrame:
        """Key dates matched per version: ``matched`` of ``n``."""
        kd = self.key_dates
        return (
            kd.groupby("version")["matched"]
            .agg(["sum", "count"])
            .rename(columns={"sum": "matched", "count": "n"})
        )


def _fit_task(
    names: Sequence[str], priors_path: str, config: SamplerConfig, threat_only: bool
) -> xr.DataTree:
    """One fit of the study, as a picklable task for the Dask runner."""
    priors = load_priors(priors_path)
    cases = {n: load_case(n, priors=priors) for n in names}
    if threat_only:
        cases = {n: withhold_behaviour(c) for n, c in cases.items()}
    return fit_cases(cases, priors, config)


def run_history(
    cases: Sequence[str] | None = None,
    *,
    priors: str | Path = "default",
    config: SamplerConfig | None = None,
    all_cases: bool = True,
    present: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> History:
    """Leave one case out, every case in turn; and (``all_cases``) fit them all together.

    Each held-out case takes two fits: the others jointly, and itself with
    its conduct and outcome codes withheld. They are independent, so they
    run as tasks on the project's Dask runner (:mod:`model.inference.runner`):
    a machine with more cores, or a cluster (``scheduler``), runs them side
    by side.

    Parameters
    ----------
    cases
        Case names; ``None``: :func:`historical_cases`.
    priors
        The prior set (name or file) the theory starts from.
    config
        Sampler settings for every fit; the default draws 4 x 500 after 500
        warm-up steps (a fixed count: the fits are compared, not quoted).
    all_cases
        Also fit every case jointly (:func:`learned_prior_set`'s source).
    present
        Also fit this case alone on all its evidence (the present case, for
        the outside checks of :mod:`model.workflows.validation.atop`).
    scheduler, workers
        As for :func:`model.inference.runner.run_tasks`.
    progress
        Called with a line as each fit finishes.
    """
    from model.inference.runner import run_tasks

    names = list(cases or historical_cases())
    if len(names) < 2:
        raise ValueError("leaving one case out needs at least two cases")
    config = config or SamplerConfig(draws=500, tune=500)
    path = str(
        priors if isinstance(priors, Path) or "/" in str(priors) else prior_set_path(str(priors))
    )
    base = load_priors(path)
    flat = load_priors(prior_set_path(FLAT_PRIORS))
    tasks: list[tuple[Any, ...]] = []
    labels: list[str] = []
    for name in names:
        others = [n for n in names if n != name]
        tasks += [(others, path, config, False), ([name], path, config, True)]
        labels += [f"all but {name}", f"{name}, threats only"]
    if all_cases:
        tasks.append((names, path, config, False))
        labels.append("all cases")
    if present is not None:
        tasks.append(([present], path, config, False))
        labels.append(f"{present} (present)")

    def told(done: int, total: int) -> None:
        if progress is not None:
            progress(f"{done}/{total} fits done")

    fits = run_tasks(_fit_task, tasks, scheduler=scheduler, workers=workers, progress=told)
    held: list[HeldOut] = []
    for i, name in enumerate(names):
        joint, threat = fits[2 * i], fits[2 * i + 1]
        inputs = load_case(name, priors=base)
        tables = {
            "learned": table_draws(joint.posterior.to_dataset()),
            "prior": table_draws(threat.posterior.to_dataset()),  # nothing informs them there
        }
        n = len(tables["prior"]["conduct_error"])
        flat_tables = dict(tables["prior"])
        flat_tables["strategy_map"] = prior_tables(flat, n, seed=config.seed)["strategy_map"]
        tables["flat"] = flat_tables
        threat_case = _case_tree(threat, name)
        held.append(predict_case(inputs, threat_case, tables, case=name, seed=config.seed))
    codes = pd.concat([h.codes for h in held], ignore_index=True)
    key_dates = pd.concat([h.key_dates for h in held], ignore_index=True)
    diag = {
        label: json.loads(f.attrs["diagnostics"]) for label, f in zip(labels, fits, strict=True)
    }
    return History(
        held_out=held,
        scores=score_table(codes),
        key_dates=key_dates,
        fits=diag,
        all_cases=fits[2 * len(names)] if all_cases else None,
        present=fits[-1] if present is not None else None,
        present_case=present,
    )


def _case_tree(fit: xr.DataTree, case: str) -> xr.DataTree:
    """One case's variables of a joint fit, under their one-case names."""
    post = fit.posterior.to_dataset()
    prefix = case_variable(case, "")
    own = {v[len(prefix) :]: post[v] for v in post.data_vars if str(v).startswith(prefix)}
    return xr.DataTree.from_dict({"posterior": xr.Dataset(own)})
