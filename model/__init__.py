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
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Where each public name lives, by module (the names are kept as their modules define them).
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
    "model.evidence.store": ("Store",),
    "model.workflows.forecast": (
        "Inputs",
        "SamplerConfig",
        "format_probability",
        "load_inputs",
        "prepare_inputs",
        "run_forecast",
        "summarise",
        "write_run",
    ),
    "model.workflows.analysis": (
        "add_observations",
        "dyad_type_table",
        "load_case",
        "load_prior_set",
        "p_axis_table",
        "run_scenario",
        "summary_dataset",
        "summary_frame",
    ),
    "model.workflows.update": ("diff_summaries", "run_update"),
    "model.workflows.sensitivity": ("Sensitivity", "run_sensitivity", "verdict"),
    "model.workflows.elicit": ("Elicited", "elicit_priors"),
    "model.workflows.theories": ("Stacked", "fit_theories", "stack"),
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

__all__ = [
    "Elicited",
    "InputError",
    "Inputs",
    "SamplerConfig",
    "Sensitivity",
    "Stacked",
    "Store",
    "add_observations",
    "case_names",
    "coder_agreement",
    "diff_summaries",
    "dyad_type_table",
    "elicit_priors",
    "fit_theories",
    "format_probability",
    "load_case",
    "load_inputs",
    "load_prior_set",
    "p_axis_table",
    "plot_axis_fan",
    "plot_dyad_types",
    "plot_outcomes",
    "plot_prior_sets",
    "plot_psense",
    "plot_scenarios",
    "plot_sweep",
    "plot_threats",
    "prepare_inputs",
    "prior_set_names",
    "prior_set_path",
    "run_figures",
    "run_forecast",
    "run_scenario",
    "run_sensitivity",
    "run_update",
    "scenario_path",
    "shipped_case",
    "shipped_path",
    "stack",
    "summarise",
    "summary_dataset",
    "summary_frame",
    "verdict",
    "write_run",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ imports on demand
    from model.evidence.agreement import coder_agreement
    from model.evidence.data import InputError
    from model.evidence.shipped import (
        case_names,
        prior_set_names,
        prior_set_path,
        scenario_path,
        shipped_case,
        shipped_path,
    )
    from model.evidence.store import Store
    from model.outputs.plots import (
        plot_axis_fan,
        plot_dyad_types,
        plot_outcomes,
        plot_prior_sets,
        plot_psense,
        plot_scenarios,
        plot_sweep,
        plot_threats,
        run_figures,
    )
    from model.workflows.analysis import (
        add_observations,
        dyad_type_table,
        load_case,
        load_prior_set,
        p_axis_table,
        run_scenario,
        summary_dataset,
        summary_frame,
    )
    from model.workflows.elicit import Elicited, elicit_priors
    from model.workflows.forecast import (
        Inputs,
        SamplerConfig,
        format_probability,
        load_inputs,
        prepare_inputs,
        run_forecast,
        summarise,
        write_run,
    )
    from model.workflows.sensitivity import Sensitivity, run_sensitivity, verdict
    from model.workflows.theories import Stacked, fit_theories, stack
    from model.workflows.update import diff_summaries, run_update


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
