"""Benchmark: what an analyst waits for, as ratios measured side by side in one invocation.

Why ratios: the 2-core machines this runs on are 1.2-2x faster or slower from
one day to the next, so seconds are only comparable with seconds taken in the
same invocation. Every target below is a ratio of two jobs timed here, one
after the other (their repeats interleaved); the seconds are recorded too.

Every run is a fresh child process timed by wall clock, so interpreter start,
imports, model building and loading compiled programs count as they do for a
user; its peak memory is the largest resident set size of the child or of any
process it waited for (``wait4``). Every job is *warm*: one untimed run of the
same job first fills the compilation caches (JAX's persistent cache under
``AXIS_CACHE``, PyTensor's and numba's), then ``--repeats`` timed runs give
medians.

Jobs (``--only``):

* ``baseline``: ``pm.sample()`` with PyMC's defaults (nutpie on numba, 1000
  tuning steps, 1000 draws), 4 chains, on the plain (un-reparametrised) model
  of the shipped case; timed from the process's start to the end of
  ``pm.sample()`` (the ESS computed afterwards is not charged to it).
* ``forecast``: ``axis forecast`` as a user runs it: draws to a precision,
  with the predictive checks and the report.
* ``forecast1000``: ``axis forecast --draws 1000``.
* ``cold``: ``axis forecast`` with empty compilation caches (every run its
  own), as a user's first forecast of a case runs.
* ``refit``: in one process, a forecast under the default priors and then
  one under the flat mapping (``no_theory``, the same structure): the
  second fit's wall and stages are the job's, what every further prior set
  of a sensitivity analysis or a stacked forecast pays.
* ``routes``: the two stock NUTS routes side by side in one process, on one
  built model of the shipped case, 1,000 draws each: numpyro's kernel under
  one ``jax.pmap`` (the forecast's) and nutpie through ``pm.sample`` (its
  JAX backend); each fits twice, so the first fit's compile stage ``C`` and
  the second's sampling ``S`` read apart.
* ``stacked``: ``axis forecast --theory stacked``.
* ``sensitivity``: ``axis sensitivity``.
* ``backtest``: ``axis backtest --from 2022-04-01 --to 2025-06-30 --every
  quarter`` (13 quarters).
* ``sbc``: ``python scripts/calibrate.py --sims N`` (``--sims``, default 20).

Every job fits the shipped case as of 2025-09-30 (SBC: its simulated cases).
The forecasts get ``--allow-bad-diagnostics``: a run whose convergence gate
fails still took its time, and the table shows its ESS.

Targets (ESS is the smallest bulk ESS over the free variables and reported
quantities, as ``summary.json`` reports it):

* ``forecast1000`` ESS per second >= 5x the baseline's;
* ``forecast`` wall time <= 0.3x the baseline's;
* ``forecast`` wall time <= 1.4x its own ``sampling`` stage (``timings.json``);
* ``refit`` wall <= 0.5x ``cold``'s, with its compile stage under 1 s;
* ``sensitivity`` <= 5 forecasts; ``backtest`` <= 3 forecasts; ``stacked`` <= 2 forecasts;
* ``sbc`` wall time per simulation <= 0.4 forecasts.

Usage::

    python scripts/benchmark.py                      # every job, warm, medians
    python scripts/benchmark.py --only baseline forecast forecast1000 --repeats 3
    python scripts/benchmark.py --json bench.json    # keep every number
    python scripts/benchmark.py --quick              # smoke test: tiny fits, no targets judged

Only the standard library is imported here: the parent stays light, and the
child that runs ``pm.sample()`` (``--child-baseline``) imports the model itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: The as-of date of every forecast-like job, so runs are comparable across days.
AS_OF = "2025-09-30"

#: The project's default seed (``SamplerConfig.seed``), for the baseline too.
SEED = 20250630

#: Jobs in the order they are warmed and then timed.
JOBS: tuple[str, ...] = (
    "baseline",
    "forecast",
    "forecast1000",
    "cold",
    "refit",
    "routes",
    "stacked",
    "sensitivity",
    "backtest",
    "sbc",
)

#: Timed runs per job unless ``--repeats`` says otherwise (the expensive ones run once).
DEFAULT_REPEATS: dict[str, int] = {
    "baseline": 3,
    "forecast": 3,
    "forecast1000": 3,
    "cold": 1,
    "refit": 3,
    "routes": 1,
    "stacked": 1,
    "sensitivity": 1,
    "backtest": 1,
    "sbc": 1,
}

#: The backtest every run times: 13 quarterly as-of dates.
BACKTEST_RANGE: tuple[str, ...] = ("--from", "2022-04-01", "--to", "2025-06-30")

#: Flags each job adds in ``--quick`` mode, as (option, value...) groups; a group the
#: command's ``--help`` does not name is dropped (the commands' internals change).
QUICK_FLAGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "forecast": (("--draws", "50"), ("--tune", "50")),
    "forecast1000": (("--draws", "50"), ("--tune", "50")),
    "cold": (("--draws", "50"), ("--tune", "50")),
    "stacked": (("--draws", "50"), ("--tune", "50")),
    "sensitivity": (("--draws", "50"), ("--tune", "50"), ("--no-prior-sets",), ("--sweep", "")),
    "backtest": (("--draws", "50"), ("--tune", "50")),
    "sbc": (("--draws", "50"), ("--tune", "50")),
}

#: The backtest's range in ``--quick`` mode: two quarters.
QUICK_BACKTEST_RANGE: tuple[str, ...] = ("--from", "2025-01-01", "--to", "2025-06-30")

#: Draws and tuning steps per chain of the baseline in ``--quick`` mode.
QUICK_BASELINE = {"draws": 50, "tune": 50}

#: Simulations of the SBC warm-up, and the fewest calibrate.py can summarise (its ECDF
#: plot fails on one).
WARM_SIMS = 2

#: Simulations of the ``--quick`` SBC job.
QUICK_SIMS = 2


@dataclass(frozen=True)
class Target:
    """One target: a same-run ratio and the bound it is held to."""

    key: str
    label: str
    op: str  # ">=" or "<="
    bound: float


TARGETS: tuple[Target, ...] = (
    Target("ess_per_s", "forecast --draws 1000 ESS/s vs pm.sample() ESS/s", ">=", 5.0),
    Target("forecast_vs_baseline", "default forecast wall / pm.sample() wall", "<=", 0.3),
    Target("forecast_vs_sampling", "default forecast wall / its sampling stage", "<=", 1.4),
    Target("refit_vs_cold", "refit under other priors wall / cold forecast wall", "<=", 0.5),
    Target("refit_compile", "refit under other priors: compile stage, s", "<=", 1.0),
    Target("stacked", "axis forecast --theory stacked wall / default forecast wall", "<=", 2.0),
    Target("sensitivity", "axis sensitivity wall / default forecast wall", "<=", 5.0),
    Target("backtest", "axis backtest (13 quarters) wall / default forecast wall", "<=", 3.0),
    Target("sbc_per_sim", "SBC wall per simulation / default forecast wall", "<=", 0.4),
)


# -- running children -------------------------------------------------------------------


@dataclass
class Child:
    """One finished child process.

    Attributes
    ----------
    wall
        Seconds from spawning it to reaping it.
    peak_mb
        Largest resident set size of the child or any process it waited for, MB.
    code
        Exit code.
    stdout, stderr
        What it printed.
    started
        ``time.time()`` just before it was spawned (for children that report
        their own end time, as the baseline does).
    """

    wall: float
    peak_mb: float
    code: int
    stdout: str
    stderr: str
    started: float


def run_child(argv: Sequence[str], env: dict[str, str], log: Path) -> Child:
    """Run ``argv`` as a fresh process in the project folder; keep its output under ``log``.

    Parameters
    ----------
    argv
        The command.
    env
        Its environment (the caches it sees).
    log
        Path prefix: ``<log>.out`` and ``<log>.err`` receive its output.

    Returns
    -------
    Child
        Wall time, peak memory, exit code and output.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log.with_suffix(".out"), log.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
    return Child(
        wall=wall,
        peak_mb=usage.ru_maxrss / 1024.0,  # Linux reports kilobytes
        code=proc.returncode,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        started=started,
    )


def last_json(stdout: str) -> dict[str, Any]:
    """Return the last line of ``stdout`` that is a JSON object.

    Raises
    ------
    ValueError
        When there is none.
    """
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            return json.loads(line)
    raise ValueError("the child printed no JSON result")


def cache_env(cache: Path | None) -> dict[str, str]:
    """The children's environment: this one, or every compilation cache under ``cache``."""
    env = dict(os.environ)
    if cache is not None:
        env["AXIS_CACHE"] = str(cache / "axis")
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(
            f for f in (flags, f"compiledir={cache / 'pytensor'}") if f
        )
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    return env


def named_options(help_text: str) -> set[str]:
    """Every ``--option`` a command's help text names."""
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", help_text))


def supported_flags(
    groups: Sequence[tuple[str, ...]], help_text: str
) -> tuple[list[str], list[str]]:
    """Split flag groups into those the command accepts and those it does not name.

    Parameters
    ----------
    groups
        ``(option, value...)`` groups, e.g. ``("--draws", "50")`` or ``("--no-report",)``.
    help_text
        The command's ``--help`` output.

    Returns
    -------
    tuple of list of str
        The accepted groups, flattened into arguments, and the dropped options.
    """
    named = named_options(help_text)
    kept: list[str] = []
    dropped: list[str] = []
    for group in groups:
        if group[0] in named:
            kept.extend(group)
        else:
            dropped.append(group[0])
    return kept, dropped


def schedule(repeats: dict[str, int]) -> list[tuple[str, int]]:
    """Timed runs in rounds: every job's first run, then every job's second, and so on.

    Interleaving spreads any drift of the machine's speed over all jobs alike,
    which keeps the same-run ratios fair. ``repeats`` is ordered as the jobs run.
    """
    rounds = max(repeats.values(), default=0)
    return [(job, i) for i in range(rounds) for job, n in repeats.items() if i < n]


# -- the jobs ---------------------------------------------------------------------------


def axis_command() -> list[str]:
    """The ``axis`` command a user runs: the venv's console script, or ``python -m model.cli``."""
    script = Path(sys.executable).parent / "axis"
    return [str(script)] if script.exists() else [sys.executable, "-m", "model.cli"]


@dataclass
class Job:
    """How to run one job and read its figures.

    Attributes
    ----------
    name
        Its name for ``--only``.
    label
        What the tables call it.
    argv
        The command of a run that writes into a given folder.
    read
        Figures of a finished run, from its folder and the child.
    accept
        Whether a finished child counts as a run (usually: it exited 0).
    notes
        Flags dropped because the command no longer names them.
    cold
        Every run, the warm-up's too, gets empty compilation caches of its own.
    """

    name: str
    label: str
    argv: Callable[[Path], list[str]]
    read: Callable[[Path, Child], dict[str, Any]] = lambda out, child: {}
    accept: Callable[[Child], bool] = lambda child: child.code == 0
    notes: list[str] = field(default_factory=list)
    cold: bool = False


def read_forecast(out: Path, child: Child) -> dict[str, Any]:
    """A forecast run's ESS, R-hat, divergences and stage seconds from its run folder.

    ``stages`` gains ``other``: the child's wall time that no stage covers
    (interpreter start, the command line's own imports, the console).
    """
    diag = json.loads((out / "summary.json").read_text())["diagnostics"]
    timings = json.loads((out / "timings.json").read_text())
    stages = dict(timings["stages"])
    stages["other"] = max(child.wall - timings["total"], 0.0)
    return {
        "ess": float(diag["ess_bulk_min"]),
        "r_hat_max": float(diag["r_hat_max"]),
        "divergences": int(diag["divergences"]),
        "stages": stages,
    }


def read_refit(out: Path, child: Child) -> dict[str, Any]:
    """The refit child's JSON line: the second fit's wall, ESS and stages are the job's."""
    res = last_json(child.stdout)
    return {"process_s": child.wall, **res}


def read_baseline(out: Path, child: Child) -> dict[str, Any]:
    """The baseline child's JSON line; its wall time ends when ``pm.sample()`` returned."""
    res = last_json(child.stdout)
    return {**res, "process_s": child.wall, "wall": res["sampled_at"] - child.started}


#: The summary line ``scripts/calibrate.py`` prints when it finished, calibrated or not.
_SBC_DONE = re.compile(r"(\d+) simulations \((\d+) new\) in")


def sbc_finished(child: Child) -> bool:
    """Whether calibrate.py ran its simulations (exit 1 may only mean a quantity failed SBC)."""
    return child.code == 0 or (child.code == 1 and _SBC_DONE.search(child.stdout) is not None)


def read_sbc(out: Path, child: Child) -> dict[str, Any]:
    """How many simulations the SBC run fitted (all must be new: each run has its own folder)."""
    found = _SBC_DONE.search(child.stdout)
    if found is None:
        raise ValueError("calibrate.py printed no summary line")
    return {"sims": int(found.group(2)), "calibrated": child.code == 0}


def make_jobs(
    only: Sequence[str], quick: bool, sims: int, help_of: Callable[[str], str]
) -> dict[str, tuple[Job, Job]]:
    """Each job as (warm-up run, timed run): they differ only for SBC (fewer simulations).

    Parameters
    ----------
    only
        The jobs wanted (of :data:`JOBS`).
    quick
        Tiny settings (``QUICK_FLAGS``) for a smoke test.
    sims
        Simulations per timed SBC run.
    help_of
        A command's ``--help`` text, by job name (``sensitivity``, ``backtest``,
        ``sbc``, ``forecast``), to drop quick flags a command no longer has.
    """
    axis = axis_command()
    data = ["--data", str(ROOT / "data" / "observations.csv")]
    data += ["--actors", str(ROOT / "data" / "actors.toml")]
    data += ["--priors", str(ROOT / "priors" / "default.toml")]

    def extra(name: str, groups: Sequence[tuple[str, ...]], notes: list[str]) -> list[str]:
        kept, dropped = supported_flags(groups, help_of(name))
        notes.extend(f"{o} dropped: the command no longer names it" for o in dropped)
        return kept

    def forecast(name: str, label: str, base: Sequence[str], cold: bool = False) -> tuple[Job, Job]:
        notes: list[str] = []
        flags = [*base, *(extra("forecast", QUICK_FLAGS[name], notes) if quick else [])]
        # a forecast whose gate fails still took its time: it exits 0 and the tables say so
        flags += ["--allow-bad-diagnostics"]
        job = Job(
            name,
            label,
            lambda out: [*axis, "forecast", *data, "--as-of", AS_OF, "--out", str(out), *flags],
            read_forecast,
            notes=notes,
            cold=cold,
        )
        return job, job

    options = {"seed": SEED, **(QUICK_BASELINE if quick else {})}
    baseline = Job(
        "baseline",
        "pm.sample() defaults, plain model",
        _child("--child-baseline", options),
        read_baseline,
    )
    jobs: dict[str, tuple[Job, Job]] = {"baseline": (baseline, baseline)}
    if "forecast" in only:
        jobs["forecast"] = forecast("forecast", "axis forecast (to a precision)", [])
    if "forecast1000" in only:
        jobs["forecast1000"] = forecast(
            "forecast1000", "axis forecast --draws 1000", [] if quick else ["--draws", "1000"]
        )
    if "cold" in only:
        jobs["cold"] = forecast("cold", "axis forecast, empty caches", [], cold=True)
    if "refit" in only:
        refit = Job(
            "refit",
            "refit under no_theory, same process",
            _child("--child-refit", QUICK_BASELINE if quick else {}),
            read_refit,
        )
        jobs["refit"] = (refit, refit)
    if "routes" in only:
        routes = Job(
            "routes",
            "numpyro and nutpie, same model and process",
            _child("--child-routes", QUICK_BASELINE if quick else {}),
            read_refit,
        )
        jobs["routes"] = (routes, routes)
    if "stacked" in only:
        jobs["stacked"] = forecast(
            "stacked", "axis forecast --theory stacked", ["--theory", "stacked"]
        )
    if "sensitivity" in only:
        jobs["sensitivity"] = _sensitivity(axis, data, quick, extra)
    if "backtest" in only:
        jobs["backtest"] = _backtest(axis, data, quick, extra)
    if "sbc" in only:
        jobs["sbc"] = _sbc(sims, quick, extra)
    return {n: jobs[n] for n in only}


def _child(flag: str, options: dict[str, Any]) -> Callable[[Path], list[str]]:
    """The command of a job this script runs in a child of its own (``--child-...``)."""
    return lambda out: [sys.executable, str(Path(__file__).resolve()), flag, json.dumps(options)]


#: Adds the flag groups a command names to a job (and notes the others): ``extra`` in make_jobs.
Extra = Callable[[str, Sequence[tuple[str, ...]], list[str]], list[str]]


def _pairs(flags: Sequence[str]) -> list[tuple[str, ...]]:
    """``[--a, 1, --b, 2]`` as ``[(--a, 1), (--b, 2)]``."""
    return [tuple(flags[i : i + 2]) for i in range(0, len(flags), 2)]


def _sensitivity(axis: list[str], data: list[str], quick: bool, extra: Extra) -> tuple[Job, Job]:
    """``axis sensitivity`` on the shipped case as of :data:`AS_OF`."""
    notes: list[str] = []
    sens = extra("sensitivity", _pairs([*data, "--as-of", AS_OF]), notes)
    sens += extra("sensitivity", QUICK_FLAGS["sensitivity"], notes) if quick else []
    job = Job(
        "sensitivity",
        "axis sensitivity",
        lambda out: [*axis, "sensitivity", *sens, "--out", str(out)],
        notes=notes,
    )
    return job, job


def _backtest(axis: list[str], data: list[str], quick: bool, extra: Extra) -> tuple[Job, Job]:
    """``axis backtest`` over :data:`BACKTEST_RANGE`, every quarter."""
    notes: list[str] = []
    span = [*(QUICK_BACKTEST_RANGE if quick else BACKTEST_RANGE), "--every", "quarter"]
    back = extra("backtest", _pairs(data), notes)
    back += extra("backtest", QUICK_FLAGS["backtest"], notes) if quick else []
    job = Job(
        "backtest",
        "axis backtest, 13 quarters" if not quick else "axis backtest, 2 quarters",
        lambda out: [*axis, "backtest", *span, *back, "--out", str(out)],
        notes=notes,
    )
    return job, job


def _sbc(sims: int, quick: bool, extra: Extra) -> tuple[Job, Job]:
    """``scripts/calibrate.py``: :data:`WARM_SIMS` simulations warm the caches, ``sims`` timed."""
    notes: list[str] = []
    calibrate = [sys.executable, str(ROOT / "scripts" / "calibrate.py")]
    sbc_flags = extra("sbc", QUICK_FLAGS["sbc"], notes) if quick else []

    def sbc(n: int) -> Job:
        return Job(
            "sbc",
            f"SBC, {n} simulations",
            lambda out: [*calibrate, "--sims", str(n), "--out", str(out), *sbc_flags],
            read_sbc,
            sbc_finished,
            notes,
        )

    return sbc(WARM_SIMS), sbc(sims)


# -- the numbers ------------------------------------------------------------------------


def summarise_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians over a job's timed runs (seconds rounded to 0.1 s).

    Returns
    -------
    dict
        ``runs``, ``wall`` (median), ``wall_min``, ``wall_max``, ``peak_mb``
        (largest), and when the runs report them ``ess`` (median),
        ``ess_per_s`` (median ESS over median wall), ``sample_s`` (median:
        the baseline's ``pm.sample()`` call), ``divergences`` and ``r_hat_max``
        (largest), ``sims`` with ``wall_per_sim`` (median), and ``stages``
        (median per stage; a run without a stage spent 0 s in it).
    """
    walls = [r["wall"] for r in runs]
    out: dict[str, Any] = {"runs": len(runs)}
    if not runs:
        return out
    out["wall"] = round(statistics.median(walls), 1)
    out["wall_min"], out["wall_max"] = round(min(walls), 1), round(max(walls), 1)
    out["peak_mb"] = round(max(r["peak_mb"] for r in runs), 1)
    if all("ess" in r for r in runs):
        out["ess"] = round(statistics.median(r["ess"] for r in runs), 1)
        out["ess_per_s"] = round(out["ess"] / statistics.median(walls), 2)
    if all("sample_s" in r for r in runs):
        out["sample_s"] = round(statistics.median(r["sample_s"] for r in runs), 1)
    for key in ("divergences", "r_hat_max"):
        if all(key in r for r in runs):
            out[key] = max(r[key] for r in runs)
    if all("sims" in r for r in runs):
        out["sims"] = runs[0]["sims"]
        out["wall_per_sim"] = round(statistics.median(r["wall"] / r["sims"] for r in runs), 2)
    if any("stages" in r for r in runs):
        out["stages"] = stage_medians([r.get("stages", {}) for r in runs])
    return out


def stage_medians(stages: Sequence[dict[str, float]]) -> dict[str, float]:
    """Median seconds per stage (to 0.1 s), stages in the order the runs recorded them."""
    names = list(dict.fromkeys(name for s in stages for name in s))
    return {n: round(statistics.median(s.get(n, 0.0) for s in stages), 1) for n in names}


#: Figures of a run that are seconds (or megabytes): recorded to one decimal.
ROUNDED = ("wall", "process_s", "sample_s", "peak_mb")


def rounded(run: dict[str, Any]) -> dict[str, Any]:
    """A run's figures as recorded: seconds and megabytes to 0.1, stage seconds too."""
    out = {k: round(v, 1) if k in ROUNDED else v for k, v in run.items()}
    if "stages" in out:
        out["stages"] = {k: round(v, 1) for k, v in out["stages"].items()}
    return out


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Each target's ratio from the jobs' medians; ``None`` where a job it needs did not run."""

    def get(job: str, key: str) -> float | None:
        value = summary.get(job, {}).get(key)
        return None if value is None or not math.isfinite(value) or value <= 0 else value

    def div(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a / b

    forecast = get("forecast", "wall")
    sampling = summary.get("forecast", {}).get("stages", {}).get("sampling")
    refit_stages = summary.get("refit", {}).get("stages", {})
    return {
        "ess_per_s": div(get("forecast1000", "ess_per_s"), get("baseline", "ess_per_s")),
        "forecast_vs_baseline": div(forecast, get("baseline", "wall")),
        "forecast_vs_sampling": div(forecast, sampling if sampling else None),
        "refit_vs_cold": div(get("refit", "wall"), get("cold", "wall")),
        "refit_compile": refit_stages.get("compile") if "refit" in summary else None,
        "stacked": div(get("stacked", "wall"), forecast),
        "sensitivity": div(get("sensitivity", "wall"), forecast),
        "backtest": div(get("backtest", "wall"), forecast),
        "sbc_per_sim": div(get("sbc", "wall_per_sim"), forecast),
    }


def judge(value: float | None, target: Target, quick: bool) -> str:
    """``yes`` or ``no``; ``-`` when the ratio is missing or the run was ``--quick``."""
    if value is None or quick:
        return "-"
    met = value >= target.bound if target.op == ">=" else value <= target.bound
    return "yes" if met else "no"


def target_rows(summary: dict[str, dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    """One row per target: label, value (2 decimals), target and whether it is met."""
    values = ratios(summary)
    return [
        {
            "key": t.key,
            "ratio": t.label,
            "value": None if values[t.key] is None else round(values[t.key], 2),
            "target": f"{t.op} {t.bound:g}",
            "met": judge(values[t.key], t, quick),
        }
        for t in TARGETS
    ]


def render(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool]) -> str:
    """A plain-text table: a header, a rule, then the rows; ``right`` aligns columns right."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, cells)])


def fmt(value: Any, spec: str = ",.1f") -> str:
    """A cell: ``-`` for nothing, floats by ``spec`` (one decimal), integers with commas."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return format(value, spec)


def job_table(jobs: dict[str, Job], summary: dict[str, dict[str, Any]]) -> str:
    """Seconds, ESS, ESS/s and peak memory per job."""
    rows = []
    for name, job in jobs.items():
        s = summary.get(name)
        if s is None:
            continue
        if "error" in s:
            rows.append([job.label, 0, None, "failed", None, None, None])
            continue
        span = f"{s['wall_min']:.1f}-{s['wall_max']:.1f}" if s.get("runs") else None
        rows.append(
            [
                job.label,
                s["runs"],
                fmt(s.get("wall")),
                span,
                fmt(s.get("ess"), ",.0f"),
                fmt(s.get("ess_per_s")),
                fmt(s.get("peak_mb"), ",.0f"),
            ]
        )
    headers = ["job", "runs", "median s", "min-max s", "min bulk ESS", "ESS/s", "peak MB"]
    return render(headers, rows, [False, True, True, True, True, True, True])


def stage_table(summary: dict[str, dict[str, Any]]) -> str | None:
    """Median seconds per stage of the warm forecasts (``other``: not inside any stage)."""
    cols = [j for j in ("forecast", "forecast1000") if summary.get(j, {}).get("stages")]
    if not cols:
        return None
    names = list(dict.fromkeys(n for j in cols for n in summary[j]["stages"]))
    rows = [[n, *(fmt(summary[j]["stages"].get(n)) for j in cols)] for n in names]
    rows.append(["wall", *(fmt(summary[j]["wall"]) for j in cols)])
    return render(["stage", *cols], rows, [False, *(True for _ in cols)])


# -- the baseline child -----------------------------------------------------------------


def shipped_inputs() -> Any:
    """The shipped case as of :data:`AS_OF` with the default priors, as every job fits it."""
    from datetime import date

    from model.workflows.forecast.inputs import load_inputs

    return load_inputs(
        ROOT / "data" / "actors.toml",
        ROOT / "data" / "observations.csv",
        ROOT / "priors" / "default.toml",
        as_of=date.fromisoformat(AS_OF),
    )


def baseline_child(options: dict[str, Any]) -> dict[str, Any]:
    """``pm.sample()`` with PyMC's defaults, 4 chains, on the plain model of the shipped case.

    PyMC picks nutpie on numba when nutpie is installed; the sampler it used
    is recorded. The end of ``pm.sample()`` is stamped (``sampled_at``) before
    the ESS is computed the way ``summary.json`` computes it.
    """

    import pymc as pm

    from model.generative.build import build_model
    from model.generative.coordinates import PLAIN
    from model.inference.convergence import diagnostics

    inputs = shipped_inputs()
    model = build_model(inputs.evidence, inputs.priors, parametrisation=PLAIN)
    sized = {k: options[k] for k in ("draws", "tune") if k in options}
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(chains=4, random_seed=options["seed"], progressbar=False, **sized)
    sampled_at = time.time()
    sample_s = time.perf_counter() - t0
    idata.attrs["free_variables"] = json.dumps([rv.name for rv in model.free_RVs])
    diag = diagnostics(idata)
    return {
        "sampled_at": sampled_at,
        "sample_s": sample_s,
        "sampler": str(idata.posterior.attrs.get("inference_library", "?")),
        "draws": int(idata.posterior.sizes["draw"]),
        "ess": diag["ess_bulk_min"],
        "r_hat_max": diag["r_hat_max"],
        "divergences": diag["divergences"],
    }


def refit_child(options: dict[str, Any]) -> dict[str, Any]:
    """Fit the shipped case under the default priors, then under ``no_theory`` in one process.

    The second fit runs on the model and compiled sampler of the first (the
    prior's numbers are the model's data); its wall time, ESS and stages are
    reported, and the first's wall for comparison.
    """
    from dataclasses import replace

    from model.inference.config import SamplerConfig
    from model.inference.sampling import jax_devices
    from model.workflows.forecast.fit import run_forecast
    from model.workflows.forecast.inputs import load_prior_set

    jax_devices()
    inputs = shipped_inputs()
    config = SamplerConfig(seed=SEED, **options)
    t0 = time.perf_counter()
    run_forecast(inputs, config)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    idata = run_forecast(replace(inputs, priors=load_prior_set("no_theory")), config)
    wall = time.perf_counter() - t0
    diag = json.loads(idata.attrs["diagnostics"])
    return {
        "wall": wall,
        "first_s": first,
        "ess": float(diag["ess_bulk_min"]),
        "r_hat_max": float(diag["r_hat_max"]),
        "divergences": int(diag["divergences"]),
        "stages": json.loads(idata.attrs["stage_seconds"]),
    }


def routes_child(options: dict[str, Any]) -> dict[str, Any]:
    """Fit one built model of the shipped case twice by each stock route, in one process.

    numpyro's NUTS kernel under one ``jax.pmap`` (the forecast's route:
    programs compiled once per model, the data their arguments) and nutpie
    through ``pm.sample`` on PyMC's JAX backend, 1,000 draws each by
    default. Each route's first fit pays its compiling, the second does not
    where the route keeps its programs; the numpyro route also records its
    compile stage apart. The job's wall is the numpyro route's second fit.
    """
    import arviz as az

    from model.inference.config import SamplerConfig
    from model.inference.refit import model_for
    from model.inference.sampling import jax_devices, sample

    jax_devices()
    inputs = shipped_inputs()
    model = model_for(inputs.evidence, inputs.priors)
    out: dict[str, Any] = {}
    for route in ("numpyro", "nutpie"):
        for n, name in enumerate(("first", "again")):
            config = SamplerConfig(
                sampler=route,
                draws=options.get("draws", 1000),
                tune=options.get("tune", 1000),
                seed=SEED + n,
                retry_target_accept=None,
            )
            t0 = time.perf_counter()
            idata = sample(model, config)
            wall = time.perf_counter() - t0
            attempts = json.loads(idata.posterior.attrs["sampling_attempts"])
            ess = az.ess(idata.posterior.to_dataset()[["p_axis", "type_prob"]])
            out[f"{route}_{name}_s"] = round(wall, 1)
            out[f"{route}_{name}_compile_s"] = round(
                sum(a.get("compile_seconds") or 0.0 for a in attempts), 1
            )
            out[f"{route}_{name}_ess"] = round(float(min(v.min() for v in ess.values())), 0)
    return {
        **out,
        "wall": out["numpyro_again_s"],
        "ess": out["numpyro_again_ess"],
        "stages": {
            "numpyro compile": out["numpyro_first_compile_s"],
            "numpyro sampling": out["numpyro_again_s"],
            "nutpie first fit": out["nutpie_first_s"],
            "nutpie second fit": out["nutpie_again_s"],
        },
    }


# -- the benchmark ----------------------------------------------------------------------


def git_commit() -> str | None:
    """The commit benchmarked, with ``+dirty`` when the tree has changes; ``None`` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return f"{head}+dirty" if head and dirty else head or None


def measure(
    jobs: dict[str, tuple[Job, Job]],
    repeats: dict[str, int],
    work: Path,
    env: dict[str, str],
    say: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Warm every job once (untimed), then time them in interleaved rounds.

    A job whose run fails is reported as failed (with its stderr's tail) and
    skipped thereafter; the others go on. Returns per job its ``runs`` and
    ``summary`` (or ``error``).
    """
    results: dict[str, dict[str, Any]] = {name: {"runs": []} for name in repeats}

    def run(name: str, job: Job, tag: str) -> dict[str, Any] | None:
        out = work / name / tag
        own = cache_env(work / name / f"{tag}-caches") if job.cold else env
        child = run_child(job.argv(out), own, work / "logs" / f"{name}-{tag}")
        try:
            if not job.accept(child):
                raise RuntimeError(f"exited {child.code}")
            figures = {"wall": child.wall, "peak_mb": child.peak_mb, **job.read(out, child)}
        except (RuntimeError, ValueError, KeyError, OSError) as err:
            tail = "\n".join(x[:100] for x in child.stderr.strip().splitlines()[-15:])
            results[name]["error"] = f"{tag}: {err}\n{tail}"
            say(f"{name} {tag} FAILED ({err}); its log: {work / 'logs' / name}-{tag}.err")
            return None
        say(f"{name} {tag}: {figures['wall']:.1f} s, {child.peak_mb:,.0f} MB")
        return figures

    for name in repeats:
        say(f"{name}: warming the caches (untimed)")
        run(name, jobs[name][0], "warmup")
    for name, i in schedule(repeats):
        if "error" not in results[name]:
            figures = run(name, jobs[name][1], f"run{i + 1}")
            if figures is not None:
                results[name]["runs"].append(figures)
    for res in results.values():
        if "error" not in res:
            res["summary"] = summarise_runs(res["runs"])
    return results


def report(
    jobs: dict[str, Job], results: dict[str, dict[str, Any]], quick: bool
) -> tuple[str, list[dict[str, Any]]]:
    """The printed tables, and the target rows."""
    summary = {n: r.get("summary", {"error": r.get("error")}) for n, r in results.items()}
    rows = target_rows({n: s for n, s in summary.items() if "error" not in s}, quick)
    parts = ["Jobs (warm; medians over fresh processes; peak MB: largest process)"]
    parts.append(job_table(jobs, summary))
    stages = stage_table(summary)
    if stages:
        parts += ["", "Where a warm forecast's time goes (median s)", stages]
    title = "Targets (same-run ratios)"
    parts += ["", title + (": --quick, not judged" if quick else "")]
    parts.append(
        render(
            ["ratio", "value", "target", "met"],
            [[r["ratio"], fmt(r["value"], ".2f"), r["target"], r["met"]] for r in rows],
            [False, True, False, False],
        )
    )
    for name, r in results.items():
        if "error" in r:
            parts += ["", f"{name} failed: {r['error']}"]
    base = summary.get("baseline", {})
    if "sample_s" in base:
        parts.append(
            f"note (baseline): pm.sample() took {base['sample_s']:.1f} s of its "
            f"{base['wall']:.1f} s (the rest: start, imports, build)"
        )
    for name, job in jobs.items():
        for note in job.notes:
            parts.append(f"note ({name}): {note}")
    if not quick:
        verdicts = [r["met"] for r in rows]
        parts += [
            "",
            f"{verdicts.count('yes')} of {len(rows)} targets met"
            + (f", {verdicts.count('-')} not measured" if "-" in verdicts else ""),
        ]
    return "\n".join(parts), rows


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--only",
        nargs="+",
        choices=JOBS,
        default=list(JOBS),
        metavar="JOB",
        help=f"jobs to run, of: {' '.join(JOBS)} [default: all]",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per job [default: 3 for baseline and the forecasts, "
        "1 for sensitivity, backtest and sbc]",
    )
    p.add_argument("--sims", type=int, default=20, help="SBC simulations [default: 20]")
    p.add_argument("--json", type=Path, help="write every number to this JSON file")
    p.add_argument(
        "--quick", action="store_true", help="smoke test: tiny fits, one run each, no target judged"
    )
    p.add_argument(
        "--workdir",
        type=Path,
        help="keep run folders and logs here [default: a temporary folder, removed]",
    )
    p.add_argument(
        "--cache",
        type=Path,
        help="put every compilation cache (JAX, PyTensor, numba) under this folder "
        "[default: the user's own caches]",
    )
    p.add_argument("--child-baseline", metavar="JSON", help=argparse.SUPPRESS)
    p.add_argument("--child-refit", metavar="JSON", help=argparse.SUPPRESS)
    p.add_argument("--child-routes", metavar="JSON", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        p.error("--repeats must be at least 1")
    if args.sims < WARM_SIMS:
        p.error(f"--sims must be at least {WARM_SIMS} (calibrate.py cannot summarise fewer)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen jobs, print the tables; 1 when a job failed or a target was missed."""
    args = parse_args(argv)
    if args.child_baseline is not None:
        print(json.dumps(baseline_child(json.loads(args.child_baseline))), flush=True)
        return 0
    if args.child_refit is not None:
        print(json.dumps(refit_child(json.loads(args.child_refit))), flush=True)
        return 0
    if args.child_routes is not None:
        print(json.dumps(routes_child(json.loads(args.child_routes))), flush=True)
        return 0
    selected = [j for j in JOBS if j in args.only]
    if args.quick:
        repeats = dict.fromkeys(selected, args.repeats or 1)
        sims = QUICK_SIMS
    else:
        repeats = {j: args.repeats or DEFAULT_REPEATS[j] for j in selected}
        sims = args.sims
    work = args.workdir or Path(tempfile.mkdtemp(prefix="axis-benchmark-"))
    work.mkdir(parents=True, exist_ok=True)
    env = cache_env(args.cache)

    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    helps: dict[str, str] = {}
    commands = {
        "forecast": [*axis_command(), "forecast"],
        "sbc": [sys.executable, str(ROOT / "scripts" / "calibrate.py")],
    }
    commands |= {c: [*axis_command(), c] for c in ("sensitivity", "backtest")}

    def help_of(name: str) -> str:
        if name not in helps:
            wide = {**env, "COLUMNS": "200", "TERM": "dumb"}
            run = subprocess.run(
                [*commands[name], "--help"], capture_output=True, text=True, env=wide, cwd=ROOT
            )
            helps[name] = run.stdout
        return helps[name]

    say(f"working folder {work}; jobs {' '.join(selected)}; timed runs {repeats}")
    both = make_jobs(selected, args.quick, sims, help_of)
    results = measure(both, repeats, work, env, say)
    failed = any("error" in r for r in results.values())
    if args.workdir is None and not failed:  # a failure's logs stay for reading
        shutil.rmtree(work, ignore_errors=True)
    timed = {n: both[n][1] for n in selected}
    text, rows = report(timed, results, args.quick)
    print("\n" + text)
    if args.json:
        blob = {
            "meta": {
                "commit": git_commit(),
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "cores": os.cpu_count(),
                "machine": platform.platform(),
                "python": platform.python_version(),
                "quick": args.quick,
                "repeats": repeats,
                "sims": sims if "sbc" in selected else None,
                "as_of": AS_OF,
                "cache": str(args.cache) if args.cache else "the user's own",
            },
            "jobs": {
                n: {
                    "label": timed[n].label,
                    "command": timed[n].argv(Path("<out>")),
                    "runs": [rounded(r) for r in results[n]["runs"]],
                    **({"summary": results[n]["summary"]} if "summary" in results[n] else {}),
                    **({"error": results[n]["error"]} if "error" in results[n] else {}),
                }
                for n in selected
            },
            "targets": rows,
        }
        args.json.write_text(json.dumps(blob, indent=2) + "\n")
        print(f"\nSaved to {args.json}")
    return 1 if failed or any(r["met"] == "no" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
