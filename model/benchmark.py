"""Measure what an analyst waits for: end-to-end forecasts, the sampler, and how cost scales.

Every figure comes from a fresh child process (so imports, compilation and
caches count as they do for a user) and is timed by wall clock; peak memory
is the child's maximum resident set size from ``wait4``. The same model and
data run under the project's sampler settings and under ``pm.sample()``
with PyMC's defaults, in the same invocation, so their ratio is fair.

The child side lives here too (``python -m model.benchmark child ...``): it
runs one measured job and prints one JSON line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.data import COLUMNS

#: The as-of date every benchmark fit uses, so runs are comparable across days.
AS_OF = "2025-09-30"


@dataclass
class Measured:
    """Repeated measurements of one job."""

    label: str
    walls: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    ess: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    stages: list[dict[str, float]] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Median wall time in seconds."""
        return statistics.median(self.walls) if self.walls else float("nan")

    @property
    def peak_mb(self) -> float:
        """Largest peak resident memory over the runs, in MB."""
        return max(self.peaks_mb) if self.peaks_mb else float("nan")

    @property
    def ess_min(self) -> float:
        """Smallest minimum bulk ESS over the runs."""
        return min(self.ess) if self.ess else float("nan")

    @property
    def ess_per_s(self) -> float:
        """Minimum bulk ESS per median wall second."""
        return self.ess_min / self.wall if self.walls and self.ess else float("nan")


def run_child(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command as a fresh process: (wall seconds, peak RSS in MB, stdout).

    Raises ``RuntimeError`` with the child's stderr tail when it fails, so a
    broken benchmark never reports a number.
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(args), stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, stdout


def child_json(stdout: str) -> dict[str, Any]:
    """Return the last JSON line a child printed."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"child printed no JSON result:\n{stdout[-2000:]}")


def cache_env(cache: Path) -> dict[str, str]:
    """Environment with every compilation cache (JAX, PyTensor, numba) under ``cache``."""
    env = dict(os.environ)
    env["AXIS_CACHE"] = str(cache / "axis")
    env["PYTENSOR_FLAGS"] = f"compiledir={cache / 'pytensor'}"
    env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    return env


def forecast_args(out: Path, root: Path, extra: Sequence[str] = ()) -> list[str]:
    """``axis forecast`` on the shipped data, as a fresh Python process."""
    return [
        sys.executable, "-m", "model.cli", "forecast",
        "--data", str(root / "data" / "observations.csv"),
        "--actors", str(root / "data" / "actors.toml"),
        "--priors", str(root / "priors" / "default.toml"),
        "--as-of", AS_OF, "--out", str(out), "--allow-bad-diagnostics", *extra,
    ]  # fmt: skip


def child_args(mode: str, **options: Any) -> list[str]:
    """Command for a measured job in a fresh process (``python -m model.benchmark child``)."""
    return [sys.executable, "-m", "model.benchmark", "child", mode, json.dumps(options)]


def repeat(
    label: str,
    n: int,
    make_args: Callable[[int], list[str]],
    env_for: Callable[[int], dict[str, str]],
    read_ess: Callable[[int, str], float | None],
    progress: Callable[[str], None],
) -> Measured:
    """Run a job ``n`` times, collecting wall time, peak memory and ESS."""
    m = Measured(label)
    for i in range(n):
        wall, peak, stdout = run_child(make_args(i), env_for(i))
        m.walls.append(wall)
        m.peaks_mb.append(peak)
        ess = read_ess(i, stdout)
        if ess is not None:
            m.ess.append(ess)
        progress(f"{label} run {i + 1}/{n}: {wall:.1f} s, {peak:.0f} MB")
    return m


# -- synthetic evidence -----------------------------------------------------------------


def resample_rows(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows drawn with replacement from real ones, each kept in its own period.

    Only the layout of these rows (who, when, which indicator) is used by
    :func:`simulated_rows`: their codes would be copies, and a cell of copies
    of one code is perfectly separated, which drives the discrimination to
    infinity instead of sharpening the posterior.
    """
    rng = np.random.default_rng(seed)
    return frame.iloc[rng.integers(len(frame), size=n)].reset_index(drop=True)


def model_truth(frame: pd.DataFrame, actors: Any, priors: Any, seed: int = 0) -> dict[str, Any]:
    """One prior draw of every parameter on the case's period grid: the rows' truth.

    The grid depends only on the case and :data:`AS_OF`, so one draw serves
    every size of :func:`simulated_rows`.
    """
    from model.build import build_model
    from model.evidence import aggregate
    from model.simulate import PriorSampler

    evidence = aggregate(frame, actors, date.fromisoformat(AS_OF))
    return PriorSampler(build_model(evidence, priors))(seed)


def simulated_rows(
    frame: pd.DataFrame, actors: Any, truth: dict[str, Any], n: int, seed: int
) -> pd.DataFrame:
    """``n`` rows where the real ones fall, with codes drawn from the model.

    The layout (rows per threat cell, per pair and per dyad, in the real
    periods) is the real evidence resampled to ``n`` rows; the codes are drawn
    from the model's own generative story (:mod:`model.simulate`) at ``truth``
    (:func:`model_truth`), the same at every size. More rows then sharpen
    the posterior around that truth at the rate real evidence would, which is
    what "cost as the evidence grows" is about.
    """
    from model.evidence import aggregate
    from model.simulate import Design, observation_frame, simulate_behaviour, simulate_threat
    from model.theory import THREAT_INDICATORS

    layout = aggregate(resample_rows(frame, n, seed), actors, date.fromisoformat(AS_OF))
    s, n_t = layout.structure, len(layout.periods)
    threat = np.zeros((len(s.series), n_t, len(THREAT_INDICATORS)), dtype=np.int64)
    cells = layout.threat_cells
    threat[cells[:, 0], cells[:, 1], cells[:, 2]] = layout.threat_counts.sum(axis=1)
    b = layout.behaviour_periods
    conduct = np.zeros((len(s.pairs), n_t), dtype=np.int64)
    conduct[:, b] = layout.conduct_counts.sum(axis=-1)
    outcome = np.zeros((len(s.dyads), n_t, layout.outcome_counts.shape[2]), dtype=np.int64)
    outcome[:, b] = layout.outcome_counts.sum(axis=-1)
    rng = np.random.default_rng(seed)
    start = pd.Period(actors.start, freq="Q").start_time.date()
    design = Design(
        partners=tuple(actors.partners), external=actors.external, start=start, n_periods=n_t
    )
    behaviour = simulate_behaviour(truth, s, conduct, outcome, rng)
    out = observation_frame(
        design,
        simulate_threat(truth, threat, rng),
        behaviour.conduct_counts,
        behaviour.outcome_counts,
    )
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    return out


def synthetic_case(k: int, n_periods: int, seed: int, folder: Path) -> tuple[Path, Path, str]:
    """Write a k-partner case over ``n_periods`` quarters with evidence in every series.

    Latent threats follow random walks; each series gets a threat code
    every other period, and every pair and dyad conduct and outcome codes
    in a third of the periods. The last four periods are the forecast
    horizon. Returns (actors path, observations path, as-of date).
    """
    from model.evidence import dyad_name
    from model.theory import OUTCOME_LEVELS, OUTCOMES, STRATEGIES

    rng = np.random.default_rng(seed)
    partners = [chr(65 + i) * 3 for i in range(k)]
    start = pd.Period("2000Q1", freq="Q")
    n_obs = n_periods - 4  # periods with evidence; the horizon adds four
    folder.mkdir(parents=True, exist_ok=True)
    actors = folder / "actors.toml"
    actors.write_text(
        f'description = "synthetic {k}-partner case"\n'
        f'partners = {json.dumps(partners)}\nexternal = "ZZZ"\n\n'
        '[periods]\nstart = "2000-01-01"\nfrequency = "quarter"\n'
    )
    rows: list[tuple[str, ...]] = []

    def add(kind: str, observer: str, target: str, indicator: str, code: str, t: int) -> None:
        day = (start + t).start_time + pd.Timedelta(days=int(rng.integers(80)))
        row = (kind, observer, target, indicator, code, "synthetic", "")
        rows.append((f"x{len(rows)}", f"{day:%Y-%m-%d}", *row))

    series = [(p, "ZZZ") for p in partners]
    series += [(i, j) for i in partners for j in partners if i != j]
    for observer, source in series:
        walk = np.cumsum(rng.normal(0, 0.3, size=n_obs)) + rng.normal(0, 1)
        for t in range(0, n_obs, 2):
            code = int(np.clip(np.round(walk[t] + 2 + rng.normal(0, 0.7)), 0, 4))
            add("threat", observer, source, "statement", str(code), t)
    for t in range(0, n_obs, 3):
        for i in partners:
            for j in partners:
                if i == j:
                    continue
                add("conduct", i, j, "conduct", str(rng.choice(STRATEGIES)), t)
                if dyad_name(i, j).startswith(i):
                    for outcome in OUTCOMES:
                        add("outcome", i, j, outcome, str(rng.choice(OUTCOME_LEVELS)), t)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    data = folder / "observations.csv"
    frame.to_csv(data, index=False)
    return actors, data, f"{(start + (n_obs - 1)).end_time:%Y-%m-%d}"


# -- the benchmark itself ---------------------------------------------------------------

#: Sections in the order they run; ``--only`` picks a subset.
SECTIONS: tuple[str, ...] = ("forecast", "sampler", "baseline", "update", "rows", "scale")


@dataclass
class Results:
    """Everything one benchmark invocation measured."""

    main: list[Measured] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    scale: list[dict[str, Any]] = field(default_factory=list)

    def baseline(self) -> Measured | None:
        """Return the warm-cache ``pm.sample()`` run every ratio is taken against."""
        return next(
            (m for m in self.main if m.label.startswith("pm.sample() defaults, warm")), None
        )


def _shipped(root: Path) -> dict[str, str]:
    return {
        "actors": str(root / "data" / "actors.toml"),
        "data": str(root / "data" / "observations.csv"),
        "priors": str(root / "priors" / "default.toml"),
        "as_of": AS_OF,
    }


def _forecast_ess(out: Path) -> float:
    return float(json.loads((out / "summary.json").read_text())["diagnostics"]["ess_bulk_min"])


def forecast_stages(out: Path, wall: float) -> dict[str, float]:
    """Read a forecast run's recorded stages; add ``other``, the wall time no stage covers.

    ``other`` is the interpreter's start, the command line's own imports and
    the console: the child's wall time less the command's recorded total.
    """
    from model.forecast import TIMINGS_FILE

    record = json.loads((out / TIMINGS_FILE).read_text())
    return {**record["stages"], "other": max(wall - record["total"], 0.0)}


def stage_table(results: Results) -> list[dict[str, Any]]:
    """Median seconds per forecast stage, one column per measured forecast job.

    The rows follow :data:`model.forecast.STAGES`, then ``other`` and the
    median wall time, so the columns add up (up to the medians' mismatch).
    """
    from model.forecast import STAGES

    jobs = [m for m in results.main if m.stages]
    covers = {**STAGES, "other": "interpreter start, command-line imports, console"}
    rows = []
    for stage, text in covers.items():
        row: dict[str, Any] = {"stage": stage, "covers": text}
        for m in jobs:
            if any(stage in s for s in m.stages):  # a run without the stage spent 0 s in it
                row[m.label] = statistics.median(s.get(stage, 0.0) for s in m.stages)
        if len(row) > 2:
            rows.append(row)
    rows.append({"stage": "wall", "covers": "the whole command", **{m.label: m.wall for m in jobs}})
    return rows


def bench_forecast(
    root: Path, work: Path, repeats: int, progress: Callable[[str], None]
) -> list[Measured]:
    """``axis forecast`` end to end as a fresh process, with warm and with empty caches."""
    warm = cache_env(work / "warm-cache")
    progress("forecast: warming the caches")
    run_child(forecast_args(work / "warmup", root), warm)
    results = []
    for label, env_for in (
        ("axis forecast, warm caches", lambda i: warm),
        ("axis forecast, empty caches", lambda i: cache_env(work / f"cold-cache-{i}")),
    ):
        tag = label.split(", ")[1].split()[0]
        m = repeat(
            label,
            repeats,
            lambda i, tag=tag: forecast_args(work / f"{tag}-{i}", root),
            env_for,
            lambda i, _, tag=tag: _forecast_ess(work / f"{tag}-{i}"),
            progress,
        )
        m.stages = [forecast_stages(work / f"{tag}-{i}", w) for i, w in enumerate(m.walls)]
        results.append(m)
    return results


def bench_sampler(
    root: Path, work: Path, repeats: int, progress: Callable[[str], None]
) -> Measured:
    """Time the sampler alone: repeated ``sample`` calls in one warm process."""
    progress("sampler alone")
    _, peak, stdout = run_child(
        child_args("sampler", repeats=repeats, **_shipped(root)), cache_env(work / "warm-cache")
    )
    out = child_json(stdout)
    return Measured("sampler alone (compiled, in-process)", out["walls"], [peak], out["ess"])


def bench_baseline(
    root: Path, work: Path, repeats: int, cold: bool, progress: Callable[[str], None]
) -> list[Measured]:
    """``pm.sample()`` with PyMC's defaults, end to end, warm (and optionally empty) caches."""
    args = child_args("baseline", seed=20250630, **_shipped(root))
    warm = cache_env(work / "baseline-cache")
    progress("pm.sample() defaults: warming the caches (numba compiles the model)")
    runs: list[tuple[str, int, Callable[[int], dict[str, str]]]] = []
    if cold:
        runs.append(("pm.sample() defaults, empty caches", 1, lambda i: warm))
    else:
        run_child(args, warm)
    runs.append(("pm.sample() defaults, warm caches", repeats, lambda i: warm))
    out = []
    for label, n, env_for in runs:
        samples: list[float] = []

        def ess(_: int, stdout: str, samples: list[float] = samples) -> float:
            res = child_json(stdout)
            samples.append(res["sample_s"])
            return float(res["ess"])

        m = repeat(label, n, lambda i: args, env_for, ess, progress)
        m.extra["sample_s"] = statistics.median(samples)
        out.append(m)
    return out


#: How ``axis update`` says what it did and what the gate saw.
_METHOD = re.compile(r"Posterior: (\S+)")
_ESS = re.compile(r"min bulk ESS (\d+)")


def bench_update(
    root: Path, work: Path, repeats: int, progress: Callable[[str], None]
) -> list[Measured]:
    """``axis update`` with three new rows, warm caches: as it runs, and with ``--refit``.

    The store is seeded first with a NUTS fit (the baseline and one update,
    ``--refit``), and every timed update starts from a copy of that seeded
    store and its run folders: each measures "a published NUTS forecast, then
    a few new rows", not a chain of updates that drifts ever further from
    the last fit. By default an update reweights that fit's draws when the
    weights and the gate allow (:mod:`model.reweight`); ``--refit`` always
    draws again with NUTS from the previous run's adapted sampler. Each row
    records which path every run took and the gate's minimum bulk ESS.
    """
    env = cache_env(work / "warm-cache")
    seeded = work / "update" / "seeded"
    frame = pd.read_csv(root / "data" / "observations.csv", dtype=str, keep_default_na=False)

    def command(folder: Path, *args: str) -> list[str]:
        return [
            sys.executable, "-m", "model.cli", "update",
            "--ledger", str(folder / "axis.sqlite"), "--runs", str(folder / "runs"),
            "--data", str(root / "data" / "observations.csv"), "--allow-bad-diagnostics", *args,
        ]  # fmt: skip

    def new_file(i: int) -> Path:
        rows = frame[frame["kind"] == "threat"].tail(3).copy()
        rows["id"] = [f"bench-{i}-{n}" for n in range(len(rows))]
        rows["date"] = f"2025-09-{i + 2:02d}"  # a new date: not a duplicate of stored evidence
        rows["note"] = f"benchmark update {i}"
        path = work / "update" / f"new-{i}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.to_csv(path, index=False)
        return path

    progress("update: seeding the store with a NUTS fit and warming the caches")
    run_child(command(seeded, "--refit", str(new_file(-1))), env)
    out = []
    for label, extra in (
        ("axis update (3 new rows), warm caches", []),
        ("axis update --refit (3 new rows, NUTS warm start), warm caches", ["--refit"]),
    ):
        methods: list[str] = []

        def fresh_copy(i: int, extra: list[str] = extra) -> list[str]:
            folder = work / "update" / f"{'refit' if extra else 'default'}-{i}"
            shutil.copytree(seeded, folder)
            return command(folder, *extra, str(new_file(i)))

        def published(i: int, stdout: str, methods: list[str] = methods) -> float | None:
            if "Added 3 observation(s)" not in stdout:  # a skipped update would time nothing
                raise RuntimeError(f"update {i} did not add its rows:\n{stdout[-1500:]}")
            flat = " ".join(stdout.split())  # the console wraps long lines
            method, ess = _METHOD.search(flat), _ESS.search(flat)
            methods.append(method.group(1) if method else "?")
            return float(ess.group(1)) if ess else None

        m = repeat(label, repeats, fresh_copy, lambda i: env, published, progress)
        m.extra["posterior"] = ", ".join(methods)
        out.append(m)
    return out


def bench_rows(
    root: Path,
    work: Path,
    sizes: Sequence[int],
    progress: Callable[[str], None],
    fit_max: int = 1_000_000,
) -> list[dict[str, Any]]:
    """Load time, gradient cost, fit time and peak memory from 1,000 to 1,000,000 rows.

    The rows of every size are :func:`simulated_rows` (the same truth).
    Sizes above ``fit_max`` are loaded, built and differentiated but not
    fitted (a quick look at load cost and memory).
    """
    from model.data import load_actors, read_observations
    from model.priors import load_priors

    shipped = _shipped(root)
    actors = load_actors(shipped["actors"])
    frame = read_observations(shipped["data"], actors)[list(COLUMNS)]
    truth = model_truth(frame, actors, load_priors(shipped["priors"]))
    env = cache_env(work / "warm-cache")
    out = []
    for n in sizes:
        path = work / "rows" / f"rows-{n}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        simulated_rows(frame, actors, truth, n, seed=n).to_csv(path, index=False)
        opts = {**shipped, "data": str(path), "fit": n <= fit_max}
        _, peak, stdout = run_child(child_args("fit", **opts), env)
        res = child_json(stdout)
        out.append({"rows": n, "file_mb": path.stat().st_size / 1e6, "peak_mb": peak, **res})
        fit = f"fit {res['fit_s']:.1f} s" if "fit_s" in res else "not fitted"
        progress(
            f"rows {n:,}: load {res['load_s']:.1f} s, gradient {res['gradient_us']:.0f} us, "
            f"{fit}, {peak:.0f} MB"
        )
    return out


def bench_scale(
    root: Path,
    work: Path,
    grid: Sequence[tuple[int, int]],
    config: dict[str, Any],
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Fit time for k partner states and T periods on synthetic cases of the same density."""
    env = cache_env(work / "scale-cache")
    out = []
    for k, n_periods in grid:
        actors, data, as_of = synthetic_case(
            k, n_periods, seed=k * 100 + n_periods, folder=work / f"scale-{k}-{n_periods}"
        )
        opts = {"actors": str(actors), "data": str(data), "as_of": as_of, "config": config}
        opts["priors"] = str(root / "priors" / "default.toml")
        wall, peak, stdout = run_child(child_args("fit", **opts), env)
        res = child_json(stdout)
        out.append({"partners": k, "periods": n_periods, "process_s": wall, "peak_mb": peak, **res})
        progress(f"scale k={k}, T={n_periods}: fit {res['fit_s']:.1f} s (process {wall:.1f} s)")
    return out


#: The targets each main-table row is held to (seconds of median wall time).
TARGETS: dict[str, str] = {
    "axis forecast, warm caches": "<= 10 s; ESS/s >= 3x baseline",
    "axis forecast, empty caches": "<= 25 s",
    "axis update (3 new rows), warm caches": "<= 10 s",
}


def main_table(results: Results) -> list[dict[str, Any]]:
    """One row per end-to-end job, with its ESS/s ratio to the ``pm.sample()`` baseline."""
    base = results.baseline()
    rows = []
    for m in results.main:
        ratio = m.ess_per_s / base.ess_per_s if base and m.ess else float("nan")
        rows.append(
            {
                "job": m.label,
                "runs": len(m.walls),
                "median_s": m.wall,
                "min_s": min(m.walls),
                "max_s": max(m.walls),
                "ess_bulk_min": m.ess_min,
                "ess_per_s": m.ess_per_s,
                "ratio_to_baseline": ratio,
                "peak_mb": m.peak_mb,
                "target": TARGETS.get(m.label, ""),
                **m.extra,
            }
        )
    return rows


def run_benchmark(
    root: Path,
    work: Path,
    *,
    sections: Sequence[str] = SECTIONS,
    repeats: int = 3,
    baseline_cold: bool = False,
    row_sizes: Sequence[int] = (1_000, 100_000, 1_000_000),
    rows_fit_max: int = 1_000_000,
    scale_grid: Sequence[tuple[int, int]] = ((3, 20), (4, 20), (6, 20), (3, 40), (3, 80)),
    scale_config: dict[str, Any] | None = None,
    progress: Callable[[str], None] = print,
) -> Results:
    """Run the chosen sections; every child failure raises, so no number is ever made up."""
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    results = Results()
    if "forecast" in sections:
        results.main += bench_forecast(root, work, repeats, progress)
    if "sampler" in sections:
        results.main.append(bench_sampler(root, work, repeats, progress))
    if "baseline" in sections:
        results.main += bench_baseline(root, work, repeats, baseline_cold, progress)
    if "update" in sections:
        results.main += bench_update(root, work, repeats, progress)
    if "rows" in sections:
        results.rows = bench_rows(root, work, row_sizes, progress, rows_fit_max)
    if "scale" in sections:
        results.scale = bench_scale(root, work, scale_grid, scale_config or {}, progress)
    return results


# -- the measured jobs, run inside a fresh child process ---------------------------------


def _inputs(options: dict[str, Any]) -> Any:
    """Load the case a child job names (files and as-of date)."""
    from model.forecast import load_inputs

    as_of = date.fromisoformat(options["as_of"])
    return load_inputs(options["actors"], options["data"], options["priors"], as_of=as_of)


def _model(options: dict[str, Any]) -> Any:
    """Build the model of the case a child job names."""
    from model.build import build_model

    inputs = _inputs(options)
    return build_model(inputs.evidence, inputs.priors)


def _gradient_us(model: Any, n: int = 300) -> float:
    """Microseconds per log-density-and-gradient evaluation (JAX, compiled, one thread)."""
    import jax
    import jax.numpy as jnp
    from pymc.sampling.jax import get_jaxified_logp

    logp = get_jaxified_logp(model)
    point = model.initial_point()
    values = [jnp.asarray(point[v.name]) for v in model.value_vars]
    f = jax.jit(jax.value_and_grad(lambda *x: logp(x), argnums=tuple(range(len(values)))))
    jax.block_until_ready(f(*values))
    t0 = time.perf_counter()
    for _ in range(n):
        out = f(*values)
    jax.block_until_ready(out)
    return (time.perf_counter() - t0) / n * 1e6


def _fit_child(options: dict[str, Any]) -> dict[str, Any]:
    """Load a case; time one gradient; optionally fit: seconds, ESS, steps per draw."""
    from model.build import build_model
    from model.forecast import SamplerConfig, annotate, diagnostics, sample

    t0 = time.perf_counter()
    inputs = _inputs(options)
    t1 = time.perf_counter()
    model = build_model(inputs.evidence, inputs.priors)
    out: dict[str, Any] = {
        "load_s": t1 - t0,
        "rows": len(inputs.observations),
        "cells": len(inputs.evidence.threat_cells),
        "free_parameters": int(sum(np.size(v) for v in model.initial_point().values())),
        "gradient_us": _gradient_us(model),
    }
    if options.get("fit", True):
        config = SamplerConfig(**options.get("config", {}))
        t2 = time.perf_counter()
        idata = annotate(sample(model, config), inputs, config)
        out["fit_s"] = time.perf_counter() - t2
        diag = diagnostics(idata)
        out.update(
            ess=diag["ess_bulk_min"],
            divergences=diag["divergences"],
            r_hat_max=diag["r_hat_max"],
            steps_per_draw=float(idata.sample_stats["n_steps"].mean())
            if "n_steps" in idata.sample_stats
            else None,
        )
    return out


def _sampler_child(options: dict[str, Any]) -> dict[str, Any]:
    """Time the sampler alone: compile once, then repeated ``sample`` calls in-process."""
    from model.forecast import SamplerConfig, diagnostics, sample

    model = _model(options)
    config = SamplerConfig(**options.get("config", {}))
    sample(model, config)  # compile (or load from the cache) outside the timing
    walls, ess = [], []
    for _ in range(options["repeats"]):
        t0 = time.perf_counter()
        idata = sample(model, config)
        walls.append(time.perf_counter() - t0)
        ess.append(diagnostics(idata)["ess_bulk_min"])
    return {"walls": walls, "ess": ess}


def _baseline_child(options: dict[str, Any]) -> dict[str, Any]:
    """``pm.sample()`` with PyMC's defaults (4 chains) on the same model, end to end."""
    import pymc as pm

    from model.forecast import diagnostics

    model = _model(options)
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(chains=4, random_seed=options["seed"], progressbar=False)
    wall = time.perf_counter() - t0
    idata.attrs["free_variables"] = json.dumps([rv.name for rv in model.free_RVs])
    diag = diagnostics(idata)
    return {"sample_s": wall, "ess": diag["ess_bulk_min"], "divergences": diag["divergences"]}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "fit": _fit_child,
    "sampler": _sampler_child,
    "baseline": _baseline_child,
}


def child_main(argv: Sequence[str]) -> None:
    """Entry point of a measured child: ``child MODE JSON`` prints one JSON line."""
    mode, options = argv[1], json.loads(argv[2])
    print(json.dumps(CHILDREN[mode](options)), flush=True)


if __name__ == "__main__":
    child_main(sys.argv[1:])
