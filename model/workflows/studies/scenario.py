"""What-if scenarios: intervene on threat levels of a fitted model and compare with the baseline.

A scenario fixes chosen threat series from a period on, either at a level
(``do(L = high)``: the level's probability becomes one) or at a latent score
(``do(theta = 1.5)``: the level probabilities follow from the score through
each draw's sharpness). Everything the theory derives from the levels
(strategies, dyad types, commitment, cohesion, P(axis), the weakest link) is
then recomputed draw by draw from the posterior's Table 2 and Table 3 draws.

Because the levels are marginalised exactly and every reported quantity at a
period depends on the threats only through that period's level
probabilities, this is exactly what ``pm.do`` on the level probabilities
followed by posterior-predictive evaluation of the deterministics would give,
without rebuilding or recompiling the model. The baseline goes through the
same function (:func:`reported_quantities`) with the posterior's own level
probabilities, so a difference between the two is purely the intervention.

Setting syntax (``--set`` or a scenario file's ``set`` list)::

    CHN.external=high          CHN's threat from the external actor (series CHN<-USA)
    CHN<-PRK.internal=low      CHN's threat from its partner PRK (series CHN<-PRK)
    CHN<-PRK=medium            the same without the suffix
    RUS.external=1.5           a latent score instead of a level
    PRK.external=high@2026Q1   from a given period on (default: the scenario's ``from``)
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import REPORT_PERIODS, Structure, series_name
from model.evidence.data import Actors, InputError, Problem, load_actors
from model.inference.convergence import HDI_PROB
from model.theory.strategy import full_table
from model.theory.tables import ALLIANCE_TYPES, LEVELS, OUTCOME_LEVELS, STRATEGIES
from model.workflows.common.hooks import Hooks
from model.workflows.common.inputs import BadInputError, CaseFiles, refusing
from model.workflows.common.run_folder import read_run_posterior

if TYPE_CHECKING:  # the sampler is imported when a fit is asked for, not to read a run
    from model.inference.config import SamplerConfig

_SETTING = re.compile(
    r"^\s*(?P<lhs>[^=@]+?)\s*=\s*(?P<value>[^=@]+?)\s*(?:@\s*(?P<start>\S+)\s*)?$"
)


@dataclass(frozen=True)
class Setting:
    """One intervention: a threat series fixed at a level or a latent score from a period on."""

    series: str
    level: str | None = None
    score: float | None = None
    start: str | None = None
    text: str = ""

    def describe(self) -> str:
        """Return a short label such as ``CHN<-USA=high``."""
        value = self.level if self.level is not None else f"{self.score:g}"
        return f"{self.series}={value}" + (f"@{self.start}" if self.start else "")


@dataclass(frozen=True)
class Scenario:
    """A named set of interventions, applied together."""

    name: str
    settings: tuple[Setting, ...]
    start: str | None = None
    description: str = ""

    @property
    def label(self) -> str:
        """Return the settings as one line, for tables and files."""
        return "; ".join(s.describe() for s in self.settings)


def _parse_lhs(lhs: str, actors: Actors) -> tuple[str | None, str | None]:
    """Map ``A.external``, ``A<-B.internal`` or ``A<-B`` to a series name, or to an error."""
    partners, ext = actors.partners, actors.external
    known = f"partners {list(partners)}, external {ext!r}"
    base, _, suffix = lhs.partition(".")
    base, suffix = base.strip(), suffix.strip()
    if suffix not in ("", "external", "internal"):
        return None, f"unknown suffix {suffix!r} (use .external or .internal)"
    if "<-" in base:
        observer, source = (x.strip() for x in base.split("<-", 1))
    elif suffix == "external":
        observer, source = base, ext
    else:
        return None, "name a series as A.external or A<-B.internal"
    if observer not in partners:
        return None, f"unknown partner {observer!r} ({known})"
    if source != ext and source not in partners:
        return None, f"unknown actor {source!r} ({known})"
    if source == observer:
        return None, "a state's threat from itself is not a series"
    if suffix == "internal" and source == ext:
        return None, f"{observer}<-{ext} is the external series: write {observer}.external"
    if suffix == "external" and source != ext:
        return None, f"{observer}<-{source} is an internal series: write .internal"
    return series_name(observer, source), None


def parse_setting(text: str, actors: Actors) -> tuple[Setting | None, list[str]]:
    """Parse one ``--set`` string; return the setting and every problem found in it."""
    m = _SETTING.match(text)
    if not m:
        return None, ["expected SERIES=VALUE[@PERIOD], e.g. CHN.external=high"]
    problems: list[str] = []
    series, why = _parse_lhs(m["lhs"], actors)
    if why:
        problems.append(why)
    value = m["value"].strip()
    level: str | None = None
    score: float | None = None
    if value.lower() in LEVELS:
        level = value.lower()
    else:
        try:
            score = float(value)
        except ValueError:
            problems.append(f"bad value {value!r}: one of {list(LEVELS)} or a latent score")
        else:
            if not np.isfinite(score):
                problems.append(f"latent score {value!r} is not finite")
    if problems:
        return None, problems
    return Setting(series, level, score, m["start"], text.strip()), []


def parse_scenario(
    name: str,
    texts: list[str],
    actors: Actors,
    *,
    start: str | None = None,
    description: str = "",
    source: str = "--set",
) -> Scenario:
    """Parse a scenario's settings; raise :class:`InputError` listing every bad one at once."""
    problems: list[Problem] = []
    settings: list[Setting] = []
    seen: dict[str, str] = {}
    if not texts:
        problems.append(Problem(source, None, name, "a scenario needs at least one setting"))
    for text in texts:
        setting, why = parse_setting(text, actors)
        problems += [Problem(source, None, text, w) for w in why]
        if setting is None:
            continue
        if setting.series in seen:
            problems.append(
                Problem(
                    source,
                    None,
                    text,
                    f"{setting.series} is already set by {seen[setting.series]!r}",
                )
            )
        seen[setting.series] = text
        settings.append(setting)
    if problems:
        raise InputError(problems)
    return Scenario(name, tuple(settings), start, description)


def load_scenarios(path: str | Path, actors: Actors) -> list[Scenario]:
    """Read a scenario file: one ``[scenario.NAME]`` table per scenario.

    Each table has ``set`` (a list of settings), and optionally ``from`` (the
    period the settings start, for those without ``@PERIOD``) and
    ``description``. Every problem in the file is reported at once.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # -sig: Notepad's byte-order mark
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError([Problem(str(path), None, "-", f"cannot read TOML: {err}")]) from err
    problems: list[Problem] = [
        Problem(str(path), None, key, "unknown key (allowed: scenario, description)")
        for key in sorted(set(raw) - {"scenario", "description"})
    ]
    tables = raw.get("scenario", {})
    if not isinstance(tables, dict) or not tables:
        problems.append(Problem(str(path), None, "scenario", "need one or more [scenario.NAME]"))
        tables = {}
    out: list[Scenario] = []
    for name, table in tables.items():
        where = f"scenario.{name}"
        if not isinstance(table, dict):
            problems.append(Problem(str(path), None, where, "must be a table"))
            continue
        for key in sorted(set(table) - {"set", "from", "description"}):
            problems.append(Problem(str(path), None, f"{where}.{key}", "unknown key"))
        texts = table.get("set", [])
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            problems.append(Problem(str(path), None, f"{where}.set", "must be a list of strings"))
            continue
        try:
            out.append(
                parse_scenario(
                    name,
                    texts,
                    actors,
                    start=table.get("from"),
                    description=str(table.get("description", "")),
                    source=f"{path} [{where}]",
                )
            )
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    return out


@dataclass(frozen=True)
class Draws:
    """What a scenario needs from a posterior, one row per draw (chains stacked)."""

    structure: Structure
    window: tuple[str, ...]
    roles: dict[str, str]
    p_level: np.ndarray  # (draw, series, window, level)
    mapping: np.ndarray  # (draw, ext_level, int_level, strategy)
    commitment: np.ndarray  # (draw, alliance_type, outcome_level)
    cohesion: np.ndarray  # (draw, alliance_type, outcome_level)
    sharpness: np.ndarray  # (draw,)
    meta: dict[str, Any] = field(default_factory=dict)


def _stacked(da: xr.DataArray) -> np.ndarray:
    return da.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()


def posterior_draws(idata: xr.DataTree) -> Draws:
    """Collect the posterior draws a scenario recomputes from, checking the case's structure."""
    post = idata.posterior.to_dataset()
    case = json.loads(idata.attrs["case"])
    actors = Actors(tuple(case["partners"]), case["external"], start=pd.Timestamp(0).date())
    structure = Structure(actors)
    for dim, want in (
        ("series", structure.series),
        ("pair", structure.pairs),
        ("dyad", structure.dyads),
    ):
        got = tuple(str(x) for x in post[dim].values)
        if got != want:
            raise ValueError(f"posterior {dim} coordinates {got} do not match the case {want}")
    mapping = _stacked(post["strategy_map"])
    mapping = full_table(mapping, lead=1)
    return Draws(
        structure=structure,
        window=tuple(str(x) for x in post["window"].values),
        roles=json.loads(idata.attrs["report_periods"]),
        p_level=_stacked(post["p_level"]),
        mapping=mapping,
        commitment=_stacked(post["commitment"]),
        cohesion=_stacked(post["cohesion"]),
        sharpness=_stacked(post["level_sharpness"]),
        meta={"provenance": json.loads(idata.attrs.get("provenance", "{}")), "case": case},
    )


@cache
def _compiled(n_partners: int):
    """Compile the theory's chain from level probabilities to reported quantities, once per k."""
    import pytensor
    import pytensor.tensor as pt

    from model.theory.alliance import axis_log_prob, outcome_probs, type_probs, weakest_link
    from model.theory.strategy import strategy_given_external, strategy_marginal

    structure = Structure(
        Actors(tuple(f"P{i}" for i in range(n_partners)), "X", start=pd.Timestamp(0).date())
    )
    p_lev = pt.tensor3("p_level")  # (series, window, level)
    mapping = pt.tensor3("mapping")
    commitment = pt.matrix("commitment")
    cohesion = pt.matrix("cohesion")
    log_p_ext = pt.log(p_lev[:n_partners])
    q = strategy_given_external(p_lev[structure.pair_internal_series], mapping)
    strat = strategy_marginal(p_lev[:n_partners][structure.pair_actor], q)
    first, second = structure.dyad_pairs[:, 0], structure.dyad_pairs[:, 1]
    p_type = type_probs(strat[first], strat[second])
    outputs = {
        "strategy": strat,
        "type_prob": p_type,
        "commitment": outcome_probs(p_type, commitment),
        "cohesion": outcome_probs(p_type, cohesion),
        "p_axis": pt.exp(axis_log_prob(log_p_ext, q, structure.dyad_pairs, structure.members)),
        "axis_commitment": weakest_link(
            log_p_ext, q, commitment, structure.dyad_pairs, structure.members
        ),
        "axis_cohesion": weakest_link(
            log_p_ext, q, cohesion, structure.dyad_pairs, structure.members
        ),
    }
    fn = pytensor.function(
        [p_lev, mapping, commitment, cohesion], list(outputs.values()), on_unused_input="ignore"
    )
    return list(outputs), fn


def reported_quantities(
    p_level: np.ndarray,
    mapping: np.ndarray,
    commitment: np.ndarray,
    cohesion: np.ndarray,
    n_partners: int,
) -> dict[str, np.ndarray]:
    """Every reported quantity per draw, from level probabilities and the Table 2/3 draws.

    The one function behind baseline and scenario alike. It reuses the
    model's own maths (:mod:`model.theory.strategy`, :mod:`model.theory.alliance`), so the
    baseline reproduces the fitted model's deterministics exactly.

    Parameters
    ----------
    p_level
        ``(draw, series, period, level)``.
    mapping
        ``(draw, ext_level, int_level, strategy)``: Table 2.
    commitment, cohesion
        ``(draw, alliance_type, outcome_level)``: Table 3.
    n_partners
        ``k``; the series must be in :class:`~model.evidence.aggregate.Structure` order.

    Returns
    -------
    ``strategy`` (draw, pair, period, strategy), ``type_prob``, ``commitment``,
    ``cohesion`` (draw, dyad, period, ...), ``p_axis`` (draw, period),
    ``axis_commitment`` and ``axis_cohesion`` (draw, period, outcome_level).
    """
    names, fn = _compiled(n_partners)
    # A level fixed by intervention has probability exactly 0 elsewhere; the exact sums
    # work in logs through selection matrices, where log(0) * 0 would be NaN. The
    # smallest normal float stands in for 0 (its share of any sum is below 1e-300).
    p_level = np.maximum(p_level, np.finfo(float).tiny)
    results = [fn(*args) for args in zip(p_level, mapping, commitment, cohesion, strict=True)]
    return {name: np.stack([r[i] for r in results]) for i, name in enumerate(names)}


def _level_probs_fn():
    import pytensor
    import pytensor.tensor as pt

    from model.theory.threat import level_probs

    theta, sharp = pt.vector("theta"), pt.scalar("sharpness")
    return pytensor.function([theta, sharp], level_probs(theta, sharp))


def _period_index(label: str | None, draws: Draws, default: str) -> int | str:
    """Window index of a period label or report role, or the error text."""
    label = label or default
    label = draws.roles.get(label, label)
    if label not in draws.window:
        roles = ", ".join(REPORT_PERIODS)
        return (
            f"period {label!r} is not in the forecast window {draws.window[0]}..{draws.window[-1]} "
            f"(give a period label of the window or one of: {roles})"
        )
    return draws.window.index(label)


def intervene(draws: Draws, scenario: Scenario, default_start: str = "now") -> np.ndarray:
    """Level probabilities under the scenario: ``(draw, series, window, level)``.

    Raises :class:`InputError` listing every setting whose start period is
    outside the forecast window.
    """
    p = draws.p_level.copy()
    problems: list[Problem] = []
    level_fn = None
    for s in scenario.settings:
        t0 = _period_index(s.start or scenario.start, draws, default_start)
        if isinstance(t0, str):
            problems.append(Problem(f"scenario {scenario.name}", None, s.text or s.series, t0))
            continue
        k = draws.structure.series.index(s.series)
        if s.level is not None:
            p[:, k, t0:, :] = 0.0
            p[:, k, t0:, LEVELS.index(s.level)] = 1.0
        else:
            level_fn = level_fn or _level_probs_fn()
            fixed = np.stack([level_fn(np.array([s.score]), sh)[0] for sh in draws.sharpness])
            p[:, k, t0:, :] = fixed[:, None, :]
    if problems:
        raise InputError(problems)
    return p


#: (quantity, unit, period, category) of one reported number.
Key = tuple[str, str, str, str]


def _long(values: dict[str, np.ndarray], draws: Draws) -> dict[Key, np.ndarray]:
    """Flatten per-draw arrays into {(quantity, unit, period, category): draws}."""
    s = draws.structure
    out: dict[Key, np.ndarray] = {}
    units = {
        "strategy": (s.pairs, STRATEGIES),
        "type_prob": (s.dyads, ALLIANCE_TYPES),
        "commitment": (s.dyads, OUTCOME_LEVELS),
        "cohesion": (s.dyads, OUTCOME_LEVELS),
    }
    for t, period in enumerate(draws.window):
        out[("p_axis", "axis", period, "formed")] = values["p_axis"][:, t]
        for q in ("axis_commitment", "axis_cohesion"):
            for c, cat in enumerate(OUTCOME_LEVELS):
                out[(q.removeprefix("axis_"), "axis (weakest link)", period, cat)] = values[q][
                    :, t, c
                ]
        for q, (names, cats) in units.items():
            for u, unit in enumerate(names):
                for c, cat in enumerate(cats):
                    out[(q, unit, period, cat)] = values[q][:, u, t, c]
    return out


def _hdi(x: np.ndarray) -> tuple[float, float]:
    import arviz as az

    lo, hi = az.hdi(np.asarray(x, dtype=float), prob=HDI_PROB)
    return float(lo), float(hi)


COLUMNS: tuple[str, ...] = (
    "scenario",
    "settings",
    "period",
    "quantity",
    "unit",
    "category",
    "baseline",
    "value",
    "change",
    "baseline_hdi_low",
    "baseline_hdi_high",
    "hdi_low",
    "hdi_high",
    "p_increase",
)


def compare(draws: Draws, scenarios: list[Scenario], default_start: str = "now") -> pd.DataFrame:
    """Baseline and each scenario, long: one row per (scenario, period, quantity, unit, category).

    ``baseline`` and ``value`` are posterior means, ``change`` their
    difference; for P(axis) the 94% HDIs of both and ``p_increase``, the
    posterior probability that the intervention raises it, are filled in.
    All scenarios are checked before any is computed.
    """
    problems: list[Problem] = []
    levels = []
    for sc in scenarios:
        try:
            levels.append(intervene(draws, sc, default_start))
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    k = len(draws.structure.actors.partners)
    tables = (draws.mapping, draws.commitment, draws.cohesion)
    base = _long(reported_quantities(draws.p_level, *tables, k), draws)
    rows: list[dict[str, Any]] = []
    for sc, p in zip(scenarios, levels, strict=True):
        new = _long(reported_quantities(p, *tables, k), draws)
        for (quantity, unit, period, cat), b in base.items():
            v = new[(quantity, unit, period, cat)]
            row = {
                "scenario": sc.name,
                "settings": sc.label,
                "period": period,
                "quantity": quantity,
                "unit": unit,
                "category": cat,
                "baseline": float(b.mean()),
                "value": float(v.mean()),
                "change": float(v.mean() - b.mean()),
            }
            if quantity == "p_axis":
                row["baseline_hdi_low"], row["baseline_hdi_high"] = _hdi(b)
                row["hdi_low"], row["hdi_high"] = _hdi(v)
                row["p_increase"] = float((v > b).mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def headline(frame: pd.DataFrame, period: str, min_change: float = 0.02) -> pd.DataFrame:
    """Rows worth a console table at one period.

    P(axis); each dyad's types whose probability moves by at least
    ``min_change`` (or its baseline modal type when none does); and P(high)
    commitment and cohesion per dyad and for the axis's weakest link.
    """
    at = frame[frame["period"] == period]
    keep = at["quantity"].eq("p_axis")
    types = at[at["quantity"] == "type_prob"]
    for (_, _unit), g in types.groupby(["scenario", "unit"], sort=False):
        moved = g["change"].abs() >= min_change
        keep |= at.index.isin(g.index[moved] if moved.any() else [g["baseline"].idxmax()])
    keep |= at["quantity"].isin(["commitment", "cohesion"]) & at["category"].eq("high")
    order = {"p_axis": 0, "type_prob": 1, "commitment": 2, "cohesion": 3}
    out = at[keep].assign(_o=at["quantity"].map(order))
    return out.sort_values(["scenario", "_o", "unit"], kind="stable").drop(columns="_o")


# ------------------------------------------------------------ the command's workflow


@dataclass(frozen=True)
class ScenarioRequest:
    """The scenarios to compute, and the posterior to compute them on.

    Attributes
    ----------
    settings
        ``--set`` settings of one scenario named ``name`` (may be empty).
    files
        Scenario TOML files (:func:`load_scenarios`).
    name
        The name of the ``settings`` scenario.
    start
        The period settings without ``@PERIOD`` start (a label or a report role).
    at
        The period the headline rows report.
    run
        A run folder whose posterior to use; without it the case is fitted.
    case
        The files to fit when there is no ``run``.
    as_of
        Fit as of this date (when fitting).
    config
        Sampler settings (when fitting; default: the sampler's defaults).
    """

    settings: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    name: str = "what-if"
    start: str = "now"
    at: str = "now"
    run: Path | None = None
    case: CaseFiles | None = None
    as_of: date | None = None
    config: SamplerConfig | None = None


@dataclass(frozen=True)
class ScenarioResult:
    """Every scenario set beside the baseline, and what the command shows and writes of it.

    Attributes
    ----------
    frame
        :func:`compare`: every quantity at every period.
    headline
        :func:`headline` of ``frame`` at ``period``.
    period
        The period the headline reports.
    scenarios
        The scenarios, in the order given.
    meta
        Where the posterior came from, the periods and the scenarios, for ``scenarios.json``.
    """

    frame: pd.DataFrame
    headline: pd.DataFrame
    period: str
    scenarios: list[Scenario]
    meta: dict[str, Any]


def assemble_scenarios(
    settings: tuple[str, ...] | list[str],
    files: tuple[Path, ...] | list[Path],
    actors: Actors,
    *,
    name: str = "what-if",
    start: str | None = None,
) -> list[Scenario]:
    """Return the ``settings`` scenario (if any settings), then every file's scenarios.

    Raises :class:`InputError` listing every problem of the settings and of
    every file at once, so that one run shows the analyst all there is to fix.
    """
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    try:
        if settings:
            scenarios.append(parse_scenario(name, list(settings), actors, start=start))
    except InputError as err:
        problems += err.problems
    for f in files:
        try:
            scenarios += load_scenarios(f, actors)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    return scenarios


def _case_files(request: ScenarioRequest) -> CaseFiles:
    """Return the files to fit: a request without a run folder must name them."""
    if request.case is None:
        raise ValueError("a scenario needs a run folder or a case to fit")
    return request.case


def _fit_baseline(request: ScenarioRequest, hooks: Hooks) -> xr.DataTree:
    """Fit the case of a request that names no run folder (the forecast's fit)."""
    from model.inference.config import SamplerConfig
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_case_files

    config = request.config or SamplerConfig()
    with refusing():
        inputs = load_case_files(_case_files(request), as_of=request.as_of)
    if hooks.fitting is not None:
        hooks.fitting(inputs, config)
    return run_forecast(inputs, config, progressbar=hooks.progressbar, on_chunk=hooks.on_chunk)


def _meta(
    request: ScenarioRequest, draws: Draws, period: str, scenarios: list[Scenario]
) -> dict[str, Any]:
    """Return what ``scenarios.json`` records beside the rows: source, periods, scenarios."""
    return {
        "run": str(request.run) if request.run else None,
        "report_period": period,
        "periods": draws.roles,
        "scenarios": [
            {
                "name": s.name,
                "settings": s.label,
                "from": s.start or request.start,
                "description": s.description,
            }
            for s in scenarios
        ],
        "provenance": draws.meta["provenance"],
    }


def run_scenarios(request: ScenarioRequest, *, hooks: Hooks | None = None) -> ScenarioResult:
    """Read or fit the posterior and compute every scenario on it: ``axis scenario``.

    Every setting and file is checked before a fit; the start periods and
    the reported period are checked against the posterior's window.
    ``hooks.fitting`` hears of a fit; ``hooks.busy`` wraps the recomputation.

    Raises
    ------
    model.workflows.common.inputs.BadInputError
        For a bad run folder, setting, scenario file, case file or period;
        nothing has been written then. Errors of a fit are not wrapped.
    """
    hooks = hooks or Hooks()
    if request.run is not None:
        idata, actors = read_run_posterior(request.run)
    else:
        with refusing(InputError):
            actors = load_actors(_case_files(request).actors)
    with refusing(InputError):
        scenarios = assemble_scenarios(
            request.settings, request.files, actors, name=request.name, start=request.start
        )
    if request.run is None:
        idata = _fit_baseline(request, hooks)
    draws = posterior_draws(idata)
    with (
        refusing(InputError),
        hooks.busy(f"recomputing {len(scenarios)} scenario(s) over every draw"),
    ):
        frame = compare(draws, scenarios, default_start=request.start)
    period = draws.roles.get(request.at, request.at)
    if period not in draws.window:
        raise BadInputError(f"--at {request.at!r} is not in the window {', '.join(draws.window)}")
    return ScenarioResult(
        frame, headline(frame, period), period, scenarios, _meta(request, draws, period, scenarios)
    )


def run_scenario(
    idata: xr.DataTree,
    settings: str | list[str] | None = None,
    *,
    file: str | Path | None = None,
    name: str = "scenario",
    start: str = "now",
) -> pd.DataFrame:
    """Fix chosen threats on a fit (what if?) and set the result beside the baseline.

    No refit: the threat levels are fixed on every posterior draw and the
    theory's strategies, alliance types, commitment, cohesion and P(axis)
    follow (:mod:`model.workflows.studies.scenario`, as ``axis scenario --run``).

    Parameters
    ----------
    idata
        A posterior from :func:`model.workflows.forecast.fit.run_forecast`.
    settings
        One setting or a list making one scenario, e.g.
        ``"CHN.external=high"`` or ``["RUS.external=1.5", "PRK<-CHN=low@2026Q1"]``
        (syntax in :mod:`model.workflows.studies.scenario`).
    file
        A scenario file with one ``[scenario.NAME]`` table per scenario
        (:func:`model.evidence.shipped.scenario_path` gives the shipped ones),
        instead of or as well as ``settings``.
    name
        The name of the scenario ``settings`` make.
    start
        The period settings without ``@PERIOD`` start from: ``now``,
        ``last_evidence`` or a period label.

    Returns
    -------
    pandas.DataFrame
        :func:`model.workflows.studies.scenario.compare`'s long table: one row per
        (scenario, period, quantity, unit, category) with the ``baseline``
        and scenario ``value`` (posterior means) and their ``change``; for
        P(axis) also both 94% HDIs and ``p_increase``.

    Raises
    ------
    InputError
        If a setting names an unknown series, level or period.
    """
    if settings is None and file is None:
        raise ValueError("give settings or a scenario file")
    meta = json.loads(idata.attrs["case"])
    actors = Actors(tuple(meta["partners"]), meta["external"], start=date(1, 1, 1))
    scenarios = []
    problems = []
    if settings is not None:
        texts = [settings] if isinstance(settings, str) else list(settings)
        try:
            scenarios.append(parse_scenario(name, texts, actors, start=None))
        except InputError as err:
            problems += err.problems
    if file is not None:
        try:
            scenarios += load_scenarios(file, actors)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    return compare(posterior_draws(idata), scenarios, default_start=start)
