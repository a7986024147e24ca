"""A Bayesian model of Weitsman's dangerous-alliances theory.

Will the partner states of a case (by default Russia, China and North Korea)
form an alliance against an external actor (the United States)? See
``docs/`` and the README for the theory and the model.

The names below are the Python interface for notebooks and scripts
(``docs/api.md``; an example in ``docs/examples/quickstart.ipynb``)::

    from model import load_case, run_forecast, SamplerConfig, p_axis_table

    inputs = load_case("default")
    idata = run_forecast(inputs, SamplerConfig(draws=500))
    p_axis_table(idata)

Importing the package has no side effects and is cheap: each name is
imported from its module when first used (:func:`__getattr__`), so
``import model`` loads neither JAX nor PyMC, and JAX is given its CPU
devices (one per chain) only when the first fit starts
(:func:`model.inference.sampling.sample`).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Where each public name lives, by module: the one list of the public interface.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "model.evidence.agreement": ("coder_agreement",),
    "model.evidence.data": ("InputError",),
    "model.evidence.shipped": (
        "case_names",
        "prior_set_names",
        "prior_set_path",
        "scenario_path",
        "shipped_case",
        "shipped_path",
    ),
    "model.evidence.questions": ("Question", "load_questions"),
    "model.evidence.store": ("Store",),
    "model.inference.config": ("SamplerConfig",),
    "model.workflows.forecast.inputs": (
        "Inputs",
        "add_observations",
        "load_case",
        "load_inputs",
        "load_prior_set",
        "prepare_inputs",
    ),
    "model.workflows.forecast.fit": ("run_forecast",),
    "model.workflows.forecast.questions": ("question_probabilities",),
    "model.workflows.forecast.summary": ("summarise", "summary_dataset", "summary_frame"),
    "model.workflows.forecast.theories": ("Stacked", "fit_theories", "stack"),
    "model.workflows.common.inputs": ("CaseFiles",),
    "model.workflows.common.run_folder": ("write_run",),
    "model.workflows.updates.update": ("diff_summaries", "run_update"),
    "model.workflows.updates.questions": ("open_questions", "question_record", "settle"),
    "model.workflows.updates.backtest": ("Backtest", "backtest_case"),
    "model.workflows.updates.record": ("TrackRecord", "read_history", "track_record"),
    "model.workflows.studies.scenario": ("run_scenario",),
    "model.workflows.studies.sensitivity": ("Sensitivity", "run_sensitivity", "verdict"),
    "model.workflows.studies.elicit": ("Elicited", "elicit_priors"),
    "model.outputs.format": ("format_probability",),
    "model.outputs.tables": ("dyad_type_table", "p_axis_table"),
    "model.outputs.plots": (
        "plot_axis_fan",
        "plot_dyad_types",
        "plot_outcomes",
        "plot_prior_sets",
        "plot_psense",
        "plot_scenarios",
        "plot_sweep",
        "plot_threats",
        "run_figures",
    ),
}

_MODULE_OF: dict[str, str] = {name: mod for mod, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, and keep it.

    Parameters
    ----------
    name
        One of :data:`__all__`.

    Returns
    -------
    Any
        The function or class of that name.

    Raises
    ------
    AttributeError
        For any other name, as for an ordinary module.
    """
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """List the module's names with the public ones not yet imported.

    Returns
    -------
    list of str
        For tab completion in a notebook.
    """
    return sorted(set(globals()) | set(__all__))
