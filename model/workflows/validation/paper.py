"""The paper's coding next to the model's answer.

The paper's coding is data (``data/paper_coding.toml``); this module only
compares it with a run's summary, so the same check serves the script, the
test and any other case with a published coding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """One comparison between the paper and the model."""

    unit: str
    what: str
    paper: str
    model: str
    holds: bool


def _modal(probs: dict[str, float]) -> str:
    return max(probs, key=probs.get)


def compare_with_paper(summary: dict[str, Any], coding: dict[str, Any]) -> list[Check]:
    """Compare a run summary (:func:`~model.workflows.forecast.summary.summarise`) with the paper.

    Checks, per dyad: the modal alliance type equals the paper's (and reaches
    ``type_min_probability`` where the coding sets one); the modal commitment
    and cohesion lie in the paper's ranges. Then the posterior mean P(axis) at
    the last period with evidence is at most ``p_axis_max``.
    """
    checks: list[Check] = []
    for dyad, paper in coding["dyads"].items():
        model = summary["dyads"][dyad]
        modal = _modal(model["type_probs"])
        p = model["type_probs"][paper["type"]]
        floor = paper.get("type_min_probability", 0.0)
        checks.append(
            Check(
                dyad,
                "alliance type",
                paper["type"] + (f" (P >= {floor})" if floor else ""),
                f"{modal} ({model['type_probs'][modal]:.2f}); paper's type {p:.2f}",
                modal == paper["type"] and p >= floor,
            )
        )
        for what in ("commitment", "cohesion"):
            got = _modal(model[what])
            checks.append(
                Check(
                    dyad,
                    what,
                    " or ".join(paper[what]),
                    f"{got} ({model[what][got]:.2f})",
                    got in paper[what],
                )
            )
    pa = summary["p_axis"]
    checks.append(
        Check(
            "axis",
            "P(axis) mean",
            f"low (<= {coding['p_axis_max']})",
            f"{pa['mean']:.3f} [{pa['hdi_low']:.3f}, {pa['hdi_high']:.3f}]",
            pa["mean"] <= coding["p_axis_max"],
        )
    )
    return checks
