"""Where the suite's time goes: every fit's compile and sampling seconds, summed per run.

The suite's wall time is mostly fits. This plugin records, in every test
process, each NUTS run (its compile and sampling seconds), each new sampling
program (PyTensor's JAX translation of a model), each reweighting program and
each model build, with the test that asked for it. At the end of the run the
controller sums them against the tests' own time and prints one table: how
much is compiling, how much is drawing, how much is everything else, and the
tests that cost most. ``docs/performance.md`` quotes it.

The records go to the run's shared-fits folder (one file per worker), so a
run over parallel workers is summed once.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The kinds of record, in the table's order.
KINDS = ("nuts", "nutpie", "program", "reweight program", "model build", "wait")

#: Where this process writes its records (:func:`install`).
FOLDER: Path | None = None


def record(kind: str, seconds: float, **extra: Any) -> None:
    """Append one row to this process's records, naming the test that is running."""
    if FOLDER is None:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    row = {"kind": kind, "seconds": round(seconds, 3), "test": test, **extra}
    with (FOLDER / f"account-{worker}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def _timed(kind: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kind == "program":  # a model's program is built once, then looked up
            from model.inference.sampling import _PROGRAMS

            if args[0] in _PROGRAMS:
                return fn(*args, **kwargs)
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
        extra: dict[str, Any] = {}
        if kind in ("nuts", "program"):
            extra["structure"] = structure(args[0])
        if kind == "nuts":  # the run's own compile stage: a new program and its chains
            extra["compile"] = float(out.posterior.attrs.get("compile_time", 0.0))
        record(kind, seconds, **extra)
        return out

    return wrapper


def structure(model: Any) -> str:
    """A short name of a model's structure: its variables' and data's names and shapes.

    Two models with the same name share a program's shape, so the account can
    tell programs built again for a structure already built in the run.
    """
    import hashlib

    import numpy as np

    parts = [(v.name, str(v.type.shape)) for v in model.value_vars]
    parts += [(d.name, str(np.shape(d.get_value()))) for d in model.data_vars]
    return hashlib.sha256(repr(sorted(parts)).encode()).hexdigest()[:12]


def install(folder: Path) -> None:
    """Wrap the fitting functions of this process so each call leaves a record in ``folder``."""
    from model.inference import refit, reweight, sampling

    global FOLDER
    FOLDER = folder
    for module, name, kind in (
        (sampling, "_numpyro", "nuts"),
        (sampling, "_nutpie", "nutpie"),
        (sampling, "_program", "program"),
        (reweight, "_compile_batched", "reweight program"),
        (refit, "build_model", "model build"),
    ):
        fn = getattr(module, name)
        if not getattr(fn, "_accounted", False):
            wrapped = _timed(kind, fn)
            wrapped._accounted = True  # type: ignore[attr-defined]
            setattr(module, name, wrapped)


@dataclass
class Account:
    """The run's fits, summed: seconds and counts by kind, and per test."""

    durations: dict[str, float]
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    compile_seconds: float = 0.0
    by_test: dict[str, float] = field(default_factory=dict)
    structures: int = 0

    @property
    def test_seconds(self) -> float:
        """Every test's setup, call and teardown, on every worker."""
        return sum(self.durations.values())

    @property
    def fitting(self) -> float:
        """Seconds in NUTS runs (their programs included), reweighting programs, builds and
        waits for another worker's fit."""
        return sum(self.seconds.get(k, 0.0) for k in KINDS if k != "program")

    def lines(self, top: int = 10) -> list[str]:
        """The table the run prints."""
        sampling = self.seconds.get("nuts", 0.0) - self.compile_seconds
        out = [
            f"test time (all workers): {self.test_seconds:,.0f} s",
            f"  NUTS runs: {self.counts.get('nuts', 0)}, {self.seconds.get('nuts', 0.0):,.0f} s"
            f" = compile {self.compile_seconds:,.0f} s (of which {self.counts.get('program', 0)}"
            f" new programs of {self.structures} structures,"
            f" {self.seconds.get('program', 0.0):,.0f} s)"
            f" + drawing {sampling:,.0f} s",
        ]
        for kind, label in (
            ("nutpie", "nutpie runs"),
            ("reweight program", "reweighting programs"),
            ("model build", "model builds"),
            ("wait", "waits for a shared fit another worker drew"),
        ):
            out.append(
                f"  {label}: {self.counts.get(kind, 0)}, {self.seconds.get(kind, 0.0):,.0f} s"
            )
        out.append(f"  everything else: {self.test_seconds - self.fitting:,.0f} s")
        out.append(f"tests that fit most (seconds in fits), top {top}:")
        ranked = sorted(self.by_test.items(), key=lambda kv: -kv[1])[:top]
        out += [f"  {s:7.1f}  {t}" for t, s in ranked]
        out.append(f"tests with most other work (seconds outside fits), top {top}:")
        other = {t: d - self.by_test.get(t, 0.0) for t, d in self.durations.items()}
        ranked = sorted(other.items(), key=lambda kv: -kv[1])[:top]
        out += [f"  {s:7.1f}  {t}" for t, s in ranked]
        return out


def account(records: Iterable[dict[str, Any]], durations: dict[str, float]) -> Account:
    """Sum a run's records (:func:`install`'s rows) against the tests' own seconds by test.

    A program's seconds are part of the NUTS run that built it, so they count
    once, in ``nuts``; ``by_test`` sums the top-level kinds the same way.
    """
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    by_test: dict[str, float] = defaultdict(float)
    compiled = 0.0
    structures = set()
    for row in records:
        if row["kind"] == "program":
            structures.add(row.get("structure"))
        seconds[row["kind"]] += row["seconds"]
        counts[row["kind"]] += 1
        compiled += row.get("compile", 0.0)
        if row["kind"] != "program":
            by_test[row["test"]] += row["seconds"]
    return Account(
        dict(durations), dict(seconds), dict(counts), compiled, dict(by_test), len(structures)
    )


def read(folder: Path) -> list[dict[str, Any]]:
    """Every worker's records in ``folder``."""
    rows = []
    for path in sorted(folder.glob("account-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


class Plugin:
    """The hooks: install in every test process, sum and print in the controller."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.durations: dict[str, float] = defaultdict(float)

    @pytest.hookimpl
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        install(self.folder)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] += report.duration

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        rows = read(self.folder)
        if not rows or os.environ.get("PYTEST_XDIST_WORKER"):
            return
        terminalreporter.section("where the time went")
        for line in account(rows, self.durations).lines():
            terminalreporter.write_line(line)
