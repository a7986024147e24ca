"""The default paths: the shipped case, a named case's files, and what cannot be resolved."""

from __future__ import annotations

import pytest

from model.evidence.data import InputError
from tests.conftest import DEFAULT_PRIORS, OBSERVATIONS, ROOT
from tests.helpers import SHIPPED


def test_default_paths_are_the_shipped_case():
    from model.cli.paths import case_files, default_files, project_root

    assert project_root() == ROOT
    assert default_files() == SHIPPED
    crink = case_files("crink")
    assert crink.observations == ROOT / "data" / "cases" / "crink" / "observations.csv"
    assert crink.priors == DEFAULT_PRIORS


def test_default_paths_refuse_what_they_cannot_resolve():
    from model.cli.paths import case_files, scenario_files

    with pytest.raises(InputError, match="atlantis"):
        case_files("atlantis")
    with pytest.raises(ValueError, match="drop --data/--actors"):
        case_files("crink", data=OBSERVATIONS)
    with pytest.raises(ValueError, match="give --set or --file"):
        scenario_files("atlantis")
