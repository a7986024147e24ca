"""Backtests: as-of fits across a range of dates, scored on what happened next.

Each as-of fit sees only the evidence dated on or before its date. Its
forecasts of conduct (strategy probabilities) and outcomes (commitment and
cohesion probabilities) are then scored against the conduct and outcome
observations dated after the as-of date and within the horizon, with the
Brier score and the log score, beside a uniform forecast as the baseline.

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
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import dyad_name, pair_name
from model.evidence.data import Actors, load_actors, read_observations
from model.evidence.priors import PriorSet, load_priors
from model.inference.config import SamplerConfig
from model.theory.tables import OUTCOME_LEVELS, STRATEGIES
from model.workflows.common.hooks import Hooks
from model.workflows.common.inputs import CaseFiles, check_prior_shapes, refusing
from model.workflows.forecast.inputs import prepare_inputs
from model.workflows.forecast.summary import summarise

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
    idata: xr.DataTree, later: pd.DataFrame, freq: str, last: str | None = None
) -> pd.DataFrame:
    """Return the forecast distribution for each later conduct or outcome observation.

    Only observations in the fit's window up to period ``last`` (default: the
    window's end) are scored.

    Returns one row per observation inside the fit's window with ``kind``,
    ``id``, ``period``, ``probs`` (posterior-mean probability vector) and
    ``observed`` (category index).
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
            da = post["strategy_prob"].sel(pair=pair_name(r.observer, r.target), window=period)
            observed = STRATEGIES.index(r.code)
        else:
            da = post[f"{r.indicator}_prob"].sel(
                dyad=dyad_name(r.observer, r.target), window=period
            )
            observed = OUTCOME_LEVELS.index(r.code)
        probs = da.mean(("chain", "draw")).values
        rows.append(
            {"id": r.id, "kind": r.kind, "period": period, "probs": probs, "observed": observed}
        )
    return pd.DataFrame(rows, columns=["id", "kind", "period", "probs", "observed"])


@dataclass
class Backtest:
    """Results of a backtest."""

    forecasts: pd.DataFrame  # one row per as-of date, with the path each fit took
    scores: pd.DataFrame  # one row per (kind) with model and uniform scores
    targets: pd.DataFrame  # every scored observation


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
) -> Backtest:
    """Fit as of each date and score each fit on the evidence that came after it.

    With ``reuse`` (the default) later fits reweight the last NUTS fit where
    the weights allow (:mod:`model.workflows.updates.reuse`); without, every fit is NUTS.
    """
    from model.workflows.updates import reuse as reuse_mod

    forecasts, targets = [], []
    freq = actors.pandas_freq
    dates = sorted(dates)
    end = pd.Period(dates[-1], freq) if dates else None
    anchor = None
    for n, when in enumerate(dates):
        if progress:
            progress(n, when)
        gap = (end - pd.Period(when, freq)).n
        inputs = prepare_inputs(actors, frame, priors, as_of=when, horizon=horizon + gap)
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
        t = forecast_targets(idata, later, freq, last)
        t.insert(0, "as_of", when.isoformat())
        targets.append(t)
    all_targets = pd.concat(targets, ignore_index=True) if targets else pd.DataFrame()
    return Backtest(pd.DataFrame(forecasts), score_table(all_targets), all_targets)


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
) -> Backtest:
    """Read a case and backtest it from ``start`` to ``end``: ``axis backtest`` without its output.

    ``end`` defaults to the date of the newest observation. ``hooks.progress``
    hears ``(fits done, fits in all, as-of date)`` before each fit.

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
    )


def score_table(targets: pd.DataFrame) -> pd.DataFrame:
    """Model and uniform-baseline scores per evidence kind and overall."""
    rows = []
    groups = [(k, g) for k, g in targets.groupby("kind")] if len(targets) else []
    if len(targets):
        groups.append(("all", targets))
    for kind, g in groups:
        probs = np.stack(g["probs"].to_numpy())
        obs = g["observed"].to_numpy()
        model = score(probs, obs)
        uniform = score(np.full_like(probs, 1.0 / probs.shape[1]), obs)
        rows.append(
            {
                "kind": kind,
                "n": len(g),
                "brier": model["brier"],
                "brier_uniform": uniform["brier"],
                "log_score": model["log"],
                "log_score_uniform": uniform["log"],
            }
        )
    return pd.DataFrame(rows)
