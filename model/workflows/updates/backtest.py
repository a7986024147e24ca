"""Backtests: as-of fits across a range of dates, scored on what happened next.

Each as-of fit sees only the evidence dated on or before its date. Its
forecasts of conduct (strategy probabilities) and outcomes (commitment and
cohesion probabilities) are then scored against the conduct and outcome
observations dated after the as-of date and within the horizon, with the
Brier score and the log score, beside the forecaster's naive baselines
computed from the evidence known at each as-of date: uniform, climatology
(how often each code has been seen) and persistence (what this pair or
dyad has been doing); :func:`score_table` gives the skill against each
with a paired standard error.

The fits are approximate leave-future-out fits (Bürkner, Gabry and Vehtari
2020, :mod:`model.workflows.updates.reuse`): the earliest is drawn by NUTS, and each later one
reweights the last NUTS fit's draws by the likelihood of the evidence that
arrived in between, unless the Pareto-smoothed weights say no (``k > 0.7``),
when it is drawn by NUTS and becomes the next anchor. To make the fits
comparable draw by draw, every fit runs on the same period grid, to the
last as-of period plus the horizon: periods after a fit's own horizon carry
no evidence, and a random walk's later steps leave its earlier ones as they
were, so each fit's posterior is the one it would have on its own grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import Evidence, dyad_name, on_grid, pair_name
from model.evidence.data import Actors, load_actors, read_observations
from model.evidence.priors import PriorSet, load_priors
from model.evidence.questions import Question, load_questions
from model.inference.config import SamplerConfig
from model.theory.tables import OUTCOME_LEVELS, STRATEGIES
from model.workflows.common.hooks import Hooks
from model.workflows.common.inputs import CaseFiles, check_prior_shapes, refusing
from model.workflows.forecast.inputs import Inputs, prepare_inputs
from model.workflows.forecast.summary import summarise
from model.workflows.updates.baselines import BASELINES, baselines, versus
from model.workflows.updates.past_questions import question_targets

STEPS: dict[str, str] = {"quarter": "Q", "month": "M", "year": "Y"}


def as_of_dates(start: date, end: date, every: str = "quarter") -> list[date]:
    """Period ends from the period holding ``start`` to the one holding ``end``.

    The as-of date of a period is its last day: a fit then sees the whole
    period's evidence.
    """
    if every not in STEPS:
        raise ValueError(f"--every must be one of {list(STEPS)}")
    periods = pd.period_range(pd.Period(start, STEPS[every]), pd.Period(end, STEPS[every]))
    return [p.end_time.date() for p in periods]


def score(probs: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    """Mean multi-category Brier score and mean log score of categorical forecasts.

    Parameters
    ----------
    probs
        ``(n, K)`` forecast probabilities, rows summing to one.
    observed
        ``(n,)`` index of the observed category.

    Returns
    -------
    ``brier``: mean of ``sum_k (p_k - 1[k = y])^2`` (0 best, 2 worst);
    ``log``: mean of ``log p_y`` (0 best).
    """
    probs = np.asarray(probs, dtype=float)
    observed = np.asarray(observed, dtype=int)
    onehot = np.eye(probs.shape[1])[observed]
    return {
        "brier": float(((probs - onehot) ** 2).sum(axis=1).mean()),
        "log": float(np.log(probs[np.arange(len(observed)), observed]).mean()),
    }


def forecast_targets(
    idata: xr.DataTree,
    later: pd.DataFrame,
    freq: str,
    last: str | None = None,
    known: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the forecast distribution for each later conduct or outcome observation.

    Only observations in the fit's window up to period ``last`` (default: the
    window's end) are scored.

    Returns one row per observation inside the fit's window with ``kind``,
    ``id``, ``unit`` (pair or dyad), ``period``, ``probs`` (posterior-mean
    probability vector), ``observed`` (category index) and, given the rows
    ``known`` at the as-of date, one probability vector per baseline
    (:func:`baselines`).
    """
    post = idata.posterior
    window = [str(p) for p in post["window"].values]
    window = set(window[: window.index(last) + 1] if last in window else window)
    rows = []
    for r in later.itertuples(index=False):
        period = str(pd.Period(r.date, freq))
        if period not in window or r.kind == "threat":
            continue
        if r.kind == "conduct":
            unit = pair_name(r.observer, r.target)
            da = post["strategy_prob"].sel(pair=unit, window=period)
            observed = STRATEGIES.index(r.code)
        else:
            unit = dyad_name(r.observer, r.target)
            da = post[f"{r.indicator}_prob"].sel(dyad=unit, window=period)
            observed = OUTCOME_LEVELS.index(r.code)
        probs = da.mean(("chain", "draw")).values
        row = {
            "id": r.id,
            "kind": r.kind,
            "indicator": r.indicator,
            "unit": unit,
            "period": period,
            "probs": probs,
            "observed": observed,
        }
        if known is not None:
            row |= baselines(known, r.kind, r.indicator, unit)
        rows.append(row)
    columns = ["id", "kind", "indicator", "unit", "period", "probs", "observed"]
    return pd.DataFrame(rows, columns=[*columns, *(BASELINES if known is not None else ())])


@dataclass
class Backtest:
    """Results of a backtest."""

    forecasts: pd.DataFrame  # one row per as-of date, with the path each fit took
    scores: pd.DataFrame  # one row per (kind) with model and uniform scores
    targets: pd.DataFrame  # every scored observation
    freq: str = "Q"  # the case's period frequency (for the scores by lead)
    questions: pd.DataFrame = field(default_factory=pd.DataFrame)  # past questions, scored

    @property
    def question_scores(self) -> pd.DataFrame:
        """Scores on the past questions (:func:`~.past_questions.question_scores`)."""
        from model.workflows.updates.past_questions import question_scores

        return question_scores(self.questions)

    @property
    def decomposition(self) -> pd.DataFrame:
        """The Brier decomposition of the model and each baseline (:func:`decomposition_table`)."""
        return decomposition_table(self.targets)

    @property
    def by_lead(self) -> pd.DataFrame:
        """Scores by lead (:func:`lead_table`)."""
        return lead_table(self.targets, self.freq)


@dataclass(frozen=True)
class Grid:
    """The as-of fits of a backtest as data sets of one model.

    Every fit is on the period grid of the last as-of date plus the horizon,
    with the last fit's cells and a window from the first fit's last period
    with evidence; a fit's later evidence is masked
    (:func:`model.evidence.aggregate.on_grid`). So all of them are one model
    structure, built and compiled once (:func:`model.inference.refit.model_for`),
    and each has the posterior of its own evidence alone.
    """

    actors: Actors
    frame: pd.DataFrame
    priors: PriorSet
    template: Evidence
    horizon: int
    last: date

    def as_of(self, when: date) -> Inputs:
        """Return the inputs of the fit as of ``when``: its own rows and hash, the grid's cells."""
        freq = self.actors.pandas_freq
        steps = self.horizon + (pd.Period(self.last, freq) - pd.Period(when, freq)).n
        inputs = prepare_inputs(self.actors, self.frame, self.priors, as_of=when, horizon=steps)
        return replace(inputs, evidence=on_grid(inputs.evidence, self.template))


def one_grid(
    actors: Actors, frame: pd.DataFrame, priors: PriorSet, dates: list[date], horizon: int
) -> Grid:
    """Return the :class:`Grid` of as-of fits at ``dates`` (sorted), ``horizon`` periods each."""
    first = prepare_inputs(actors, frame, priors, as_of=dates[0], horizon=horizon)
    last = prepare_inputs(actors, frame, priors, as_of=dates[-1], horizon=horizon)
    template = replace(last.evidence, window_start=first.evidence.report_index[0])
    return Grid(actors, frame, priors, template, horizon, dates[-1])


def run_backtest(
    actors: Actors,
    frame: pd.DataFrame,
    priors: PriorSet,
    config: SamplerConfig,
    dates: list[date],
    *,
    horizon: int = 4,
    progress: Callable[[int, date], None] | None = None,
    reuse: bool = True,
    questions: list[Question] | None = None,
) -> Backtest:
    """Fit as of each date and score each fit on the evidence that came after it.

    With ``reuse`` (the default) later fits reweight the last NUTS fit where
    the weights allow (:mod:`model.workflows.updates.reuse`); without, every fit is NUTS.
    Each of ``questions`` (past ones, :mod:`model.workflows.updates.past_questions`)
    is scored on the latest as-of fit dated on or before it opened.
    """
    from model.workflows.updates import reuse as reuse_mod

    forecasts, targets = [], []
    freq = actors.pandas_freq
    dates = sorted(dates)
    if not dates:
        return Backtest(pd.DataFrame(), score_table(pd.DataFrame()), pd.DataFrame(), freq)
    grid = one_grid(actors, frame, priors, dates, horizon)
    asked = asked_at(questions or [], dates)
    answered = []
    anchor = None
    for n, when in enumerate(dates):
        if progress:
            progress(n, when)
        inputs = grid.as_of(when)
        done, anchor = reuse_mod.fit(
            inputs, config, anchor if reuse else None, label=f"as of {when.isoformat()}"
        )
        idata = done.idata
        summary = summarise(idata)
        row = {
            "as_of": when.isoformat(),
            "fit": done.method,
            "why": done.why,
            "period": summary["p_axis_now"]["period"],
            "p_axis": summary["p_axis_now"]["mean"],
            "p_axis_hdi_low": summary["p_axis_now"]["hdi_low"],
            "p_axis_hdi_high": summary["p_axis_now"]["hdi_high"],
            "r_hat_max": summary["diagnostics"]["r_hat_max"],
            "divergences": summary["diagnostics"]["divergences"],
        }
        for dyad, info in summary["forecast"]["now"]["dyads"].items():
            row[f"{dyad} modal"] = info["modal_type"]
            row[f"{dyad} P(modal)"] = info["type_probs"][info["modal_type"]]
            for t, p in info["type_probs"].items():
                row[f"{dyad}|{t}"] = p
        forecasts.append(row)
        later = frame[frame["date"].dt.date > when]
        last = str(pd.Period(when, freq) + horizon)
        known = frame[frame["date"].dt.date <= when]
        t = forecast_targets(idata, later, freq, last, known)
        t.insert(0, "as_of", when.isoformat())
        targets.append(t)
        if asked.get(when):
            q = question_targets(idata, asked[when], known, frame, actors)
            answered.append(q.assign(as_of=when.isoformat()))
    all_targets = pd.concat(targets, ignore_index=True) if targets else pd.DataFrame()
    scored = pd.concat(answered, ignore_index=True) if answered else pd.DataFrame()
    return Backtest(pd.DataFrame(forecasts), score_table(all_targets), all_targets, freq, scored)


def asked_at(questions: list[Question], dates: list[date]) -> dict[date, list[Question]]:
    """Give the questions each as-of fit answers: each on the latest date before it opened.

    A question opened before the first as-of date has no fit and is left out.
    """
    out: dict[date, list[Question]] = {}
    for q in questions:
        before = [d for d in dates if d <= q.opens]
        if before:
            out.setdefault(before[-1], []).append(q)
    return out


def backtest_case(
    files: CaseFiles,
    config: SamplerConfig,
    *,
    start: date,
    end: date | None = None,
    every: str = "quarter",
    horizon: int = 4,
    reuse: bool = True,
    hooks: Hooks | None = None,
    questions: Path | None = None,
) -> Backtest:
    """Read a case and backtest it from ``start`` to ``end``: ``axis backtest`` without its output.

    Parameters
    ----------
    files
        The case's observations, actors and prior set.
    config
        Sampler settings of every NUTS fit.
    start, end
        The range of as-of dates; ``end`` defaults to the date of the newest
        observation.
    every
        ``quarter``, ``month`` or ``year``: an as-of date at each such period's end.
    horizon
        Periods after each as-of date whose evidence scores its fit.
    reuse
        Reweight the last NUTS fit where the weights allow
        (:mod:`model.workflows.updates.reuse`); ``False`` draws every fit by NUTS.
    hooks
        ``hooks.progress`` hears ``(fits done, fits in all, as-of date)``
        before each fit.
    questions
        A file of past questions (:mod:`model.workflows.updates.past_questions`)
        to score on the as-of fits, each on the latest dated on or before it opened.

    Returns
    -------
    Backtest
        The forecasts, the scored targets and their scores beside the
        baselines, and the past questions scored (``questions``,
        ``question_scores``).

    Raises
    ------
    model.workflows.common.inputs.BadInputError
        If a file cannot be read, the prior set does not fit the case or the
        dates make no range; nothing has run then.
    """
    with refusing():
        actors = load_actors(files.actors)
        frame = read_observations(files.observations, actors)
        priors = load_priors(files.priors)
        check_prior_shapes(priors, actors)
        dates = as_of_dates(start, end or frame["date"].max().date(), every)
        asked = load_questions(questions, actors) if questions is not None else None
    told = (hooks or Hooks()).progress
    return run_backtest(
        actors,
        frame,
        priors,
        config,
        dates,
        horizon=horizon,
        progress=None if told is None else lambda n, when: told(n, len(dates), str(when)),
        reuse=reuse,
        questions=asked,
    )


def per_target(probs: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each target's multi-category Brier score and log score (the means :func:`score` takes)."""
    observed = np.asarray(observed, dtype=int)
    onehot = np.eye(probs.shape[1])[observed]
    return ((probs - onehot) ** 2).sum(axis=1), np.log(probs[np.arange(len(observed)), observed])


def score_table(targets: pd.DataFrame) -> pd.DataFrame:
    """Model and baseline scores per evidence kind and overall, with skill and its error.

    For each baseline ``b`` present (:data:`BASELINES`; older targets carry
    the uniform one only): ``brier_b`` and ``log_score_b``, the Brier skill
    score ``skill_b = 1 - brier / brier_b`` (above 0: the model beats it)
    and ``brier_diff_b`` = mean of ``brier_b - brier`` over the same targets
    with its paired standard error ``brier_diff_se_b`` (sd of the
    differences over sqrt(n)): the skill is beyond noise when the difference
    is more than about two standard errors.
    """
    rows = []
    groups = [(k, g) for k, g in targets.groupby("kind")] if len(targets) else []
    if len(targets):
        groups.append(("all", targets))
    for kind, g in groups:
        probs = np.stack(g["probs"].to_numpy())
        obs = g["observed"].to_numpy(dtype=int)  # object dtype after a concat with empty frames
        model_brier, model_log = per_target(probs, obs)
        row: dict[str, float | int | str] = {
            "kind": kind,
            "n": len(g),
            "brier": float(model_brier.mean()),
            "log_score": float(model_log.mean()),
        }
        for b in BASELINES:
            if b in g:
                b_probs = np.stack(g[b].to_numpy())
            elif b == "uniform":
                b_probs = np.full_like(probs, 1.0 / probs.shape[1])
            else:
                continue
            row |= versus(b, model_brier, *per_target(b_probs, obs))
        rows.append(row)
    return pd.DataFrame(rows)


#: Forecast-probability bins of the Brier decomposition and the reliability diagram.
BINS: np.ndarray = np.linspace(0.0, 1.0, 11)


def one_vs_rest(targets: pd.DataFrame, forecast: str = "probs") -> tuple[np.ndarray, np.ndarray]:
    """Split every (target, category) into a binary event: its forecast, and whether it happened."""
    probs = np.concatenate([np.asarray(p, dtype=float) for p in targets[forecast]])
    hit = np.concatenate(
        [
            np.eye(len(p))[int(o)]
            for p, o in zip(targets[forecast], targets["observed"], strict=True)
        ]
    )
    return probs, hit


def reliability_bins(probs: np.ndarray, hit: np.ndarray) -> pd.DataFrame:
    """Bin binary forecasts by :data:`BINS`: count, mean forecast and observed frequency."""
    which = np.clip(np.digitize(probs, BINS[1:-1]), 0, len(BINS) - 2)
    rows = []
    for b in range(len(BINS) - 1):
        inside = which == b
        n = int(inside.sum())
        rows.append(
            {
                "low": BINS[b],
                "high": BINS[b + 1],
                "n": n,
                "forecast": float(probs[inside].mean()) if n else np.nan,
                "observed": float(hit[inside].mean()) if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def brier_decomposition(targets: pd.DataFrame, forecast: str = "probs") -> dict[str, float]:
    """Murphy's decomposition of the one-vs-rest Brier score: reliability, resolution, uncertainty.

    Every (target, category) pair is a binary event; with the forecasts
    binned (:data:`BINS`), ``brier ~ reliability - resolution + uncertainty``
    (exact but for the spread of forecasts within a bin). Reliability near
    zero: the forecasts mean what they say; resolution above zero: they
    tell events apart better than the base rate does.
    """
    probs, hit = one_vs_rest(targets, forecast)
    bins = reliability_bins(probs, hit)
    used = bins[bins["n"] > 0]
    base = float(hit.mean())
    w = used["n"].to_numpy() / len(hit)
    return {
        "brier_binary": float(((probs - hit) ** 2).mean()),
        "reliability": float((w * (used["forecast"] - used["observed"]) ** 2).sum()),
        "resolution": float((w * (used["observed"] - base) ** 2).sum()),
        "uncertainty": base * (1 - base),
    }


def decomposition_table(targets: pd.DataFrame) -> pd.DataFrame:
    """Decompose the model's and each baseline's Brier score, per kind and overall."""
    rows = []
    groups = [(k, g) for k, g in targets.groupby("kind")] if len(targets) else []
    if len(targets):
        groups.append(("all", targets))
    for kind, g in groups:
        for name, column in (("model", "probs"), *((b, b) for b in BASELINES if b in g)):
            rows.append({"kind": kind, "forecast": name, **brier_decomposition(g, column)})
    return pd.DataFrame(rows)


def lead_table(targets: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Scores by lead: how many periods after its as-of period each target fell."""
    if targets.empty:
        return pd.DataFrame()
    lead = [
        (pd.Period(p, freq) - pd.Period(a, freq)).n
        for p, a in zip(targets["period"], targets["as_of"], strict=True)
    ]
    table = []
    for n, g in targets.assign(lead=lead).groupby("lead"):
        row = score_table(g).set_index("kind").loc["all"].to_dict()
        table.append({"lead": int(n), **row})
    return pd.DataFrame(table)


def targets_table(targets: pd.DataFrame) -> pd.DataFrame:
    """Every scored target with each forecast's probabilities, one column per category.

    ``targets.csv`` of a backtest folder: the as-of date, the target (kind,
    indicator, pair or dyad, period, the code observed) and, for the model
    and every baseline, ``<forecast>:<category>``.
    """
    rows = []
    for r in targets.to_dict("records"):
        categories = STRATEGIES if r["kind"] == "conduct" else OUTCOME_LEVELS
        row = {k: r[k] for k in ("as_of", "id", "kind", "indicator", "unit", "period") if k in r}
        row["observed"] = categories[int(r["observed"])]
        for name, key in (("model", "probs"), *((b, b) for b in BASELINES)):
            if key in r:
                row |= {f"{name}:{c}": float(p) for c, p in zip(categories, r[key], strict=True)}
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(scores: pd.DataFrame, z: float = 2.0) -> list[str]:
    """Say, kind by kind, whether the model beats each baseline and whether beyond noise.

    Beyond noise: the paired mean Brier difference exceeds ``z`` standard errors.
    """
    lines = []
    for r in scores.to_dict("records"):
        parts = []
        for b in BASELINES:
            if f"skill_{b}" not in r or pd.isna(r[f"skill_{b}"]):
                continue
            diff, se = r[f"brier_diff_{b}"], r[f"brier_diff_se_{b}"]
            sure = np.isfinite(se) and abs(diff) > z * se
            word = "beats" if diff > 0 else "trails"
            parts.append(
                f"{word} {b} (skill {r[f'skill_{b}']:+.2f}, Brier {diff:+.3f} ± {se:.3f}"
                + (")" if sure else ", within noise)")
            )
        lines.append(f"{r['kind']} ({r['n']} codes): the model " + "; ".join(parts))
    return lines
