"""The live track record: every published forecast scored on the evidence that came after it.

A publication (:func:`model.workflows.updates.update.publish_update`) keeps
in its ledger row what it forecast for each period from its as-of period to
its horizon (:func:`forecast_record`): each pair's strategy, each dyad's
commitment and cohesion, and beside them the forecaster's baselines of the
rows known when it was published (climatology and persistence,
:func:`model.workflows.updates.backtest.baselines`). Once later conduct and
outcome rows arrive in the store, :func:`track_record` scores them exactly
as a backtest scores its targets (:func:`model.workflows.updates.backtest.score_table`),
so the record of the published forecasts and the backtest's record read the
same way. Nothing is refitted: the ledger holds everything a score needs,
and a baseline never sees a row that arrived after its publication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import dyad_name, pair_name
from model.evidence.store import Store
from model.theory.tables import OUTCOME_LEVELS, OUTCOMES, STRATEGIES
from model.workflows.updates.backtest import score_table
from model.workflows.updates.baselines import BASELINES, baselines
from model.workflows.updates.ledger import read_ledger

#: Decimals a forecast probability keeps in the ledger: far below any Monte Carlo error.
DECIMALS = 6


def _rounded(p: np.ndarray) -> list[float]:
    return [round(float(x), DECIMALS) for x in p]


def forecast_record(idata: xr.DataTree, known: pd.DataFrame, freq: str) -> dict[str, Any]:
    """Return what a publication forecasts for each later period, and the baselines then.

    Parameters
    ----------
    idata
        The published fit (:func:`model.workflows.forecast.fit.run_forecast`).
    known
        The rows it was fitted to (dated on or before its as-of date).
    freq
        The case's pandas period frequency (``"Q"``).

    Returns
    -------
    dict
        ``freq``, ``as_of``; ``model``: per period from the as-of period to
        the horizon, ``{"conduct": {pair: probs}, "commitment": {dyad:
        probs}, "cohesion": {dyad: probs}}`` (posterior means over
        :data:`~model.theory.tables.STRATEGIES` or
        :data:`~model.theory.tables.OUTCOME_LEVELS`); ``baselines``: per
        unit of each kind, the climatology and persistence forecasts of the
        known rows.
    """
    post = idata.posterior
    roles = json.loads(idata.attrs["report_periods"])
    window = [str(p) for p in post["window"].values]
    ahead = window[window.index(roles["now"]) :]
    strategy = post["strategy_prob"].mean(("chain", "draw"))
    outcome = {o: post[f"{o}_prob"].mean(("chain", "draw")) for o in OUTCOMES}
    pairs = [str(p) for p in post["pair"].values]
    dyads = [str(d) for d in post["dyad"].values]
    model: dict[str, dict[str, dict[str, list[float]]]] = {}
    for period in ahead:
        at = strategy.sel(window=period)
        model[period] = {"conduct": {p: _rounded(at.sel(pair=p).values) for p in pairs}}
        for o in OUTCOMES:
            at = outcome[o].sel(window=period)
            model[period][o] = {d: _rounded(at.sel(dyad=d).values) for d in dyads}
    base: dict[str, dict[str, dict[str, list[float]]]] = {
        "conduct": {
            p: {b: _rounded(v) for b, v in baselines(known, "conduct", "conduct", p).items()}
            for p in pairs
        }
    }
    for o in OUTCOMES:
        base[o] = {
            d: {b: _rounded(v) for b, v in baselines(known, "outcome", o, d).items()} for d in dyads
        }
    as_of = json.loads(idata.attrs["provenance"])["as_of"]
    return {"freq": freq, "as_of": as_of, "model": model, "baselines": base}


def publication_targets(record: dict[str, Any], later: pd.DataFrame) -> pd.DataFrame:
    """Score targets of one publication: each later conduct or outcome row in its periods.

    The columns are a backtest's targets' (``id``, ``kind``, ``indicator``,
    ``unit``, ``period``, ``probs``, ``observed`` and one column per
    baseline), so :func:`~model.workflows.updates.backtest.score_table` scores them.
    """
    as_of = pd.Timestamp(record["as_of"])
    rows = []
    for r in later[later["date"] > as_of].itertuples(index=False):
        period = str(pd.Period(r.date, record["freq"]))
        if r.kind == "threat" or period not in record["model"]:
            continue
        if r.kind == "conduct":
            unit, key, categories = pair_name(r.observer, r.target), "conduct", STRATEGIES
        else:
            unit, key, categories = dyad_name(r.observer, r.target), r.indicator, OUTCOME_LEVELS
        probs = record["model"][period][key].get(unit)
        if probs is None:
            continue
        base = record["baselines"][key][unit]
        rows.append(
            {
                "id": r.id,
                "kind": r.kind,
                "indicator": r.indicator,
                "unit": unit,
                "period": period,
                "probs": np.asarray(probs),
                "observed": categories.index(r.code),
                **{b: np.asarray(base[b]) for b in BASELINES},
            }
        )
    columns = ["id", "kind", "indicator", "unit", "period", "probs", "observed", *BASELINES]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class TrackRecord:
    """The published forecasts' record.

    Attributes
    ----------
    targets
        Every scored row, with the ledger id and as-of date of the
        publication that forecast it.
    by_publication
        One row per publication with a scored row: its id, as-of date,
        how many rows it was scored on, and the model's and each baseline's
        mean Brier score.
    pooled
        :func:`~model.workflows.updates.backtest.score_table` of all targets:
        scores, skill and its paired standard error per kind and overall.
    unscored
        Ledger ids of publications with nothing to score yet (no later
        rows), or published before the ledger kept forecasts.
    """

    targets: pd.DataFrame
    by_publication: pd.DataFrame
    pooled: pd.DataFrame
    unscored: list[int]


def track_record(ledger: pd.DataFrame, observations: pd.DataFrame) -> TrackRecord:
    """Score every publication of ``ledger`` on the ``observations`` dated after it.

    Parameters
    ----------
    ledger
        The ledger (:func:`model.workflows.updates.ledger.read_ledger`).
    observations
        Every row known now (the store's), with a datetime ``date`` column.

    Returns
    -------
    TrackRecord
        Per publication and pooled; publications with no later row are
        listed as unscored.
    """
    targets, unscored = [], []
    for row in ledger.itertuples(index=False):
        record = json.loads(row.summary).get("forecasts") if row.summary else None
        scored = publication_targets(record, observations) if record else pd.DataFrame()
        if scored.empty:
            unscored.append(int(row.id))
            continue
        scored.insert(0, "as_of", record["as_of"])
        scored.insert(0, "ledger_id", int(row.id))
        targets.append(scored)
    all_targets = pd.concat(targets, ignore_index=True) if targets else pd.DataFrame()
    per = []
    for (lid, as_of), g in all_targets.groupby(["ledger_id", "as_of"]) if targets else []:
        table = score_table(g).set_index("kind")
        per.append(
            {"ledger_id": lid, "as_of": as_of, "n": len(g)}
            | {"brier": table.loc["all", "brier"]}
            | {f"brier_{b}": table.loc["all", f"brier_{b}"] for b in BASELINES}
        )
    return TrackRecord(all_targets, pd.DataFrame(per), score_table(all_targets), unscored)


def record_line(record: TrackRecord) -> dict[str, Any]:
    """Return the pooled record in a few numbers, as a publication's ledger row keeps it.

    ``publications`` scored, ``n`` rows, the model's mean Brier score and,
    per baseline, its Brier score and the model's skill against it with the
    paired standard error of the difference; empty numbers before anything
    can be scored.
    """
    line: dict[str, Any] = {"publications": len(record.by_publication), "n": len(record.targets)}
    if record.targets.empty:
        return line
    pooled = record.pooled.set_index("kind").loc["all"]
    line["brier"] = round(float(pooled["brier"]), 4)
    for b in BASELINES:
        line[f"brier_{b}"] = round(float(pooled[f"brier_{b}"]), 4)
        line[f"skill_{b}"] = round(float(pooled[f"skill_{b}"]), 4)
        line[f"brier_diff_se_{b}"] = round(float(pooled[f"brier_diff_se_{b}"]), 4)
    return line


@dataclass(frozen=True)
class History:
    """The ledger and, if asked, the published forecasts' record (``axis history``)."""

    ledger: pd.DataFrame
    record: TrackRecord | None = None


def read_history(path: Path, *, required: bool = False, scores: bool = False) -> History:
    """Read the ledger and, with ``scores``, score its publications on the store's rows.

    Parameters
    ----------
    path
        The store's SQLite file.
    required
        A file the analyst named: a missing one is an error naming it.
    scores
        Also compute the :class:`TrackRecord`.

    Returns
    -------
    History
        The ledger, oldest first, and the record if asked.
    """
    ledger = read_ledger(path, required=required)
    if not scores:
        return History(ledger)
    return History(ledger, track_record(ledger, Store(path).observations()))
