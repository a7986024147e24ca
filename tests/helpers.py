"""Helpers shared by several test modules: the shipped case's files, folder listings, results
of studies made without a fit, the comparison of two fits, and the package's imports.

Fixtures live in :mod:`tests.conftest`; test modules import helpers from here, never
from one another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from model.workflows.common.inputs import CaseFiles
from tests.conftest import ACTORS, DEFAULT_PRIORS, OBSERVATIONS

#: The shipped case's three files, as the commands resolve them by default.
SHIPPED = CaseFiles(OBSERVATIONS, ACTORS, DEFAULT_PRIORS)

#: The package's source folder.
PACKAGE = Path(__file__).resolve().parent.parent / "model"


def listing(root: Path) -> list[str]:
    """Everything under a folder, hidden temporary siblings included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


#: What a backtest folder holds (model.outputs.folders.write_backtest), sorted.
BACKTEST_FILES: tuple[str, ...] = (
    "backtest.csv",
    "backtest.png",
    "by_lead.csv",
    "decomposition.csv",
    "reliability.png",
    "scores.csv",
    "targets.csv",
)


def fake_backtest():
    """A backtest's result, two as-of dates, without a fit."""
    from model.workflows.updates.backtest import Backtest

    forecasts = pd.DataFrame(
        {
            "as_of": ["2025-03-31", "2025-06-30"],
            "fit": ["NUTS", "reweighted"],
            "period": ["2025Q1", "2025Q2"],
            "p_axis": [0.2, 0.3],
            "p_axis_hdi_low": [0.1, 0.2],
            "p_axis_hdi_high": [0.3, 0.4],
            "CHN-RUS modal": ["balancing-balancing"] * 2,
            "CHN-RUS P(modal)": [0.6, 0.7],
            "CHN-RUS|balancing-balancing": [0.6, 0.7],
            "CHN-RUS|hedging-hedging": [0.4, 0.3],
        }
    )
    from model.workflows.updates.backtest import score_table

    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])
    targets = pd.DataFrame(
        {
            "as_of": ["2025-03-31"] * 3,
            "id": ["C1", "C2", "O1"],
            "kind": ["conduct", "conduct", "outcome"],
            "indicator": ["diplomatic", "diplomatic", "commitment"],
            "unit": ["CHN->RUS", "RUS->CHN", "CHN-RUS"],
            "period": ["2025Q2"] * 3,
            "probs": list(probs),
            "observed": [0, 1, 3],
            "uniform": list(np.full((3, 4), 0.25)),
            "climatology": list(np.array([[0.4, 0.3, 0.2, 0.1]] * 3)),
            "persistence": list(np.array([[0.5, 0.2, 0.2, 0.1]] * 3)),
        }
    )
    return Backtest(forecasts, score_table(targets), targets)


def fake_sensitivity():
    """A sensitivity study's result, one flagged cell and a rival prior set, without a fit."""
    from model.workflows.studies.sensitivity import Sensitivity

    psense = pd.DataFrame(
        {
            "quantity": ["P(axis)", "P(axis)"],
            "component": ["prior: threat", "likelihood: threat evidence"],
            "sensitivity": [0.01, 0.2],
            "diagnosis": ["fine", "fine"],
            "pareto_k": [0.1, 0.2],
            "pareto_k_warning": [False, False],
            "mean_shift": [0.001, 0.03],
            "shift_mcse": [0.002, 0.005],
            "flagged": [False, True],
            "reason": ["CJS 0.010 < 0.05", "CJS 0.200; mean moves +0.030"],
        }
    )
    fits = pd.DataFrame(
        {
            "prior set": ["default", "realist"],
            "fit": ["NUTS", "reweighted"],
            "P(axis)": [0.3, 0.1],
            "hdi_low": [0.2, 0.05],
            "hdi_high": [0.4, 0.2],
            "CHN-RUS": ["balancing-balancing", "hedging-hedging"],
            "CHN-RUS P": [0.6, 0.5],
        }
    )
    loo = pd.DataFrame(
        {"elpd": [-10.0], "elpd_diff": [0.0], "dse": [0.0], "weight": [1.0], "pareto_k_max": [0.3]},
        index=["Weitsman (default)"],
    )
    from model.workflows.forecast.theories import Stacked

    p_axis = {
        "mean": 0.3,
        "hdi_low": 0.2,
        "hdi_high": 0.4,
        "period": "2025Q3",
        "by_theory": {"Weitsman (default)": 0.3},
    }
    return Sensitivity(psense, fits, fits.iloc[:0], loo, None, Stacked(loo, p_axis, {}))


def assert_agree(a: dict, b: dict, z: float = 4.5) -> None:
    """Every headline probability agrees within ``z`` joint Monte Carlo standard errors."""
    pairs = [(a["p_axis"]["mean"], b["p_axis"]["mean"], a["p_axis"]["mcse"], b["p_axis"]["mcse"])]
    for dyad, info in a["dyads"].items():
        other = b["dyads"][dyad]
        for t, p in info["type_probs"].items():
            pairs.append((p, other["type_probs"][t], info["type_mcse"][t], other["type_mcse"][t]))
    for x, y, sx, sy in pairs:
        assert abs(x - y) <= z * np.hypot(sx, sy) + 1e-4, (x, y, sx, sy)


def project_imports(path: Path) -> list[tuple[int, str]]:
    """Every project module a file imports, with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("model.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "model":  # ``from model import x``: x is a subpackage or name
                found += [(node.lineno, f"model.{a.name}") for a in node.names]
            elif node.module.startswith("model."):
                found.append((node.lineno, node.module))
    return found


def modules() -> list[Path]:
    """Every module of the package."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
