"""The output folders of the analyses: backtest, sensitivity and scenarios.

Each folder is written atomically (:func:`model.workflows.common.run_folder.atomic_folder`):
the files are written into a hidden sibling that is renamed into place at
the end, so a failure or a kill midway leaves no folder at all rather than
a folder that looks complete and is not. Figures are closed once saved, so
that a long session writing many folders does not keep them all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model.workflows.common.run_folder import REPORT, atomic_folder


def save_figure(fig: Any, path: Path) -> None:
    """Save a figure as the run folders' PNGs are saved, then close it."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)


def write_backtest(result: Any, out: Path) -> Path:
    """Write a backtest's tables and figures into ``out``, atomically.

    ``backtest.csv`` (forecasts), ``scores.csv`` (model and baselines, skill),
    ``targets.csv``, ``decomposition.csv`` (Brier decomposition),
    ``by_lead.csv``, ``backtest.png`` and ``reliability.png``; with past
    questions, ``questions.csv`` (each question's probabilities and answer)
    and ``question_scores.csv``.

    ``result`` is a :class:`model.workflows.updates.backtest.Backtest`;
    ``targets.csv`` holds every scored target with each forecast's
    probabilities (:func:`model.workflows.updates.backtest.targets_table`).
    """
    from model.outputs.plots import plot_backtest, plot_reliability
    from model.workflows.updates.backtest import targets_table

    with atomic_folder(out, "backtest folder") as tmp:
        result.forecasts.to_csv(tmp / "backtest.csv", index=False)
        result.scores.to_csv(tmp / "scores.csv", index=False)
        targets_table(result.targets).to_csv(tmp / "targets.csv", index=False)
        if len(result.targets):
            result.decomposition.to_csv(tmp / "decomposition.csv", index=False)
            result.by_lead.to_csv(tmp / "by_lead.csv", index=False)
            save_figure(plot_reliability(result.targets), tmp / "reliability.png")
        save_figure(plot_backtest(result.forecasts), tmp / "backtest.png")
        if len(result.questions):
            result.questions.to_csv(tmp / "questions.csv", index=False)
            result.question_scores.to_csv(tmp / "question_scores.csv", index=False)
    return out


def write_sensitivity(result: Any, out: Path) -> Path:
    """Write every table and figure of a sensitivity analysis into ``out``, atomically.

    ``result`` is a :class:`model.workflows.studies.sensitivity.Sensitivity`;
    ``sensitivity.png`` is the one-page summary
    (:func:`model.outputs.plots.plot_sensitivity_page`), and ``report.html``
    shows it with the verdict and the tables, self-contained.
    """
    from model.outputs.plots import (
        plot_prior_sets,
        plot_psense,
        plot_sensitivity_page,
        plot_sweep,
    )
    from model.outputs.report import render_sensitivity_html

    with atomic_folder(out, "sensitivity folder") as tmp:
        result.psense.to_csv(tmp / "psense.csv", index=False)
        save_figure(plot_psense(result.psense), tmp / "psense.png")
        result.prior_sets.to_csv(tmp / "prior_sets.csv", index=False)
        save_figure(plot_prior_sets(result.prior_sets), tmp / "prior_sets.png")
        page = plot_sensitivity_page(result.prior_sets, result.sweep)
        html = render_sensitivity_html(result, page)  # before saving: that closes the figure
        (tmp / REPORT).write_text(html, encoding="utf-8")
        save_figure(page, tmp / "sensitivity.png")
        if len(result.sweep):
            result.sweep.to_csv(tmp / "sweep.csv", index=False)
            save_figure(plot_sweep(result.sweep), tmp / "sweep.png")
        result.loo.to_csv(tmp / "loo.csv")
        stacked = getattr(result, "stacked", None)
        if stacked is not None:
            doc = {"p_axis": stacked.p_axis, "weights": stacked.weights}
            (tmp / "stacked.json").write_text(json.dumps(doc, indent=1) + "\n")
    return out


def write_scenarios(result: Any, out: Path) -> Path:
    """Write ``scenarios.csv``, ``scenarios.json`` and ``scenarios.png`` into ``out``, atomically.

    ``result`` is a :class:`model.workflows.studies.scenario.ScenarioResult`; the
    JSON holds its ``meta`` beside every row.
    """
    from model.outputs.plots import plot_scenarios

    with atomic_folder(out, "output folder") as tmp:
        result.frame.to_csv(tmp / "scenarios.csv", index=False)
        doc = {"meta": result.meta, "rows": json.loads(result.frame.to_json(orient="records"))}
        (tmp / "scenarios.json").write_text(json.dumps(doc, indent=1) + "\n")
        save_figure(plot_scenarios(result.frame, result.period), tmp / "scenarios.png")
    return out
