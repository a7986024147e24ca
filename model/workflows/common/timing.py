"""Where a command's time goes: a stage timer that workflows fill and the outputs record.

A command starts one :class:`StageTimer` before it imports the model's
libraries, so that its total is the time the analyst waited. Each stage is
either measured here, around the code that runs it (:meth:`StageTimer.stage`),
or reported by the code that ran it (:meth:`StageTimer.add`: a fit records its
own build, sampling and diagnostics seconds). The outputs layer prints the
stages and keeps them beside the results, so a slow run can be explained
afterwards without running it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StageTimer:
    """Seconds spent in each named stage of one command, and since the command began.

    Attributes
    ----------
    began
        ``time.perf_counter()`` when the command began (the timer's creation).
    stages
        Seconds by stage name, in the order the stages were first recorded.
    """

    began: float = field(default_factory=time.perf_counter)
    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``; a block that raises records nothing.

        A failed stage's seconds would be mistaken for the cost of a stage
        that finished, so only completed stages count.
        """
        start = time.perf_counter()
        yield
        self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to stage ``name``: a stage run twice counts both times."""
        self.stages[name] = self.stages.get(name, 0.0) + seconds

    def update(self, stages: Mapping[str, float]) -> None:
        """Add the seconds of stages measured elsewhere (a fit's ``stage_seconds``)."""
        for name, seconds in stages.items():
            self.add(name, seconds)

    def total(self) -> float:
        """Return the seconds since the command began."""
        return time.perf_counter() - self.began

    def record(self, order: Iterable[str], total: float | None = None) -> dict[str, object]:
        """Return ``{"total": ..., "stages": {...}}`` rounded to 0.01 s, stages in ``order``.

        Stages not in ``order`` are left out: the record lists what the
        command documents, so that records of different runs line up.
        """
        total = self.total() if total is None else total
        return {
            "total": round(total, 2),
            "stages": {k: round(self.stages[k], 2) for k in order if k in self.stages},
        }


#: What each recorded stage of ``axis forecast`` covers, in the order it runs.
STAGES = {
    "start": "import the model's libraries",
    "inputs": "read and aggregate the evidence and priors",
    "build": "build the PyMC model (and choose its coordinates)",
    "compile": "the model's JAX program and NUTS over its chains: traced, compiled or loaded",
    "sampling": "NUTS: warm-up and draws to the precision asked",
    "diagnostics": "convergence gate and provenance",
    "theories": "rival theories fitted and stacked (--theory stacked only)",
    "write": "figures and the run folder",
    "checks": "prior and posterior predictive checks",
    "report": "report.html",
}


def stage_line(stages: dict[str, float], total: float) -> str:
    """One console line: the total, then every stage that took 0.05 s or more."""
    parts = [f"{name} {stages[name]:.1f}" for name in STAGES if stages.get(name, 0.0) >= 0.05]
    return f"{total:.1f} s ({', '.join(parts)})"
