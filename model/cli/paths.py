"""Where the command line looks for its files when an option does not name one.

Every default location lives here and nowhere else, so that pointing the
commands at another tree (the package's own data, say) is a change to this
module alone. Inputs are read relative to :func:`project_root`: the working
directory when it holds the shipped layout (``data/actors.toml``), else the
shipped files (:func:`model.evidence.shipped.shipped_root`: the checkout, or
the copy inside an installed package). Outputs go under :func:`output_root`,
never inside an installed package.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from model.workflows.common.inputs import CaseFiles


def project_root() -> Path:
    """Return the folder holding ``data/`` and ``priors/``: the working directory if it has them."""
    from model.evidence.shipped import shipped_root

    cwd = Path.cwd()
    if (cwd / "data" / "actors.toml").exists():
        return cwd
    return shipped_root()


def output_root() -> Path:
    """Return where ``runs/`` and ``store/`` go: beside the data, or the working directory.

    An installed package's own folder is no place for a user's runs: run from
    anywhere, an installed ``axis`` writes them under the working directory.
    """
    from model.evidence.shipped import is_installed, shipped_root

    root = project_root()
    return Path.cwd() if root == shipped_root() and is_installed() else root


def default_files(
    data: Path | None = None, actors: Path | None = None, priors: Path | None = None
) -> CaseFiles:
    """Return the given files, with the shipped case and the default prior set for the rest."""
    root = project_root()
    return CaseFiles(
        observations=data or root / "data" / "observations.csv",
        actors=actors or root / "data" / "actors.toml",
        priors=priors or root / "priors" / "default.toml",
    )


def case_files(
    case: str | None,
    data: Path | None = None,
    actors: Path | None = None,
    priors: Path | None = None,
) -> CaseFiles:
    """Return the files of a named case (or those given, with the defaults for the rest).

    Raises ``ValueError`` if a case is named together with its files, and
    :class:`~model.evidence.data.InputError` listing the cases if the name is unknown.
    """
    if case is not None:
        from model.evidence.cases import resolve_case

        if data is not None or actors is not None:
            raise ValueError("--case names the data and actors files; drop --data/--actors")
        found = resolve_case(case, project_root())
        data, actors = found.observations, found.actors
    return default_files(data, actors, priors)


def default_ledger() -> Path:
    """Return the SQLite file of the observation store and the ledger."""
    return output_root() / "store" / "axis.sqlite"


def runs_dir() -> Path:
    """Return the folder that receives run and output folders."""
    return output_root() / "runs"


def timestamped(prefix: str = "", suffix: str = "") -> Path:
    """Return a new folder in :func:`runs_dir` named by the time: ``<prefix><time><suffix>``."""
    return runs_dir() / f"{prefix}{datetime.now():%Y%m%d-%H%M%S}{suffix}"


def prior_set_files() -> list[Path]:
    """Return every shipped prior set, by name."""
    return sorted((project_root() / "priors").glob("*.toml"))


def priors_dir() -> Path:
    """Return the folder of prior sets, where ``axis elicit`` writes and ``sensitivity`` reads."""
    return project_root() / "priors"


def rival_priors() -> Path:
    """Return the rival theory's prior set (Walt's), for LOO against the default."""
    return project_root() / "priors" / "realist.toml"


def baseline_priors() -> Path:
    """Return the flat no-theory mapping, stacked with Weitsman's and Walt's."""
    return project_root() / "priors" / "no_theory.toml"


def theory_rivals(theory: str) -> list[Path]:
    """Return the rival theories' prior sets ``--theory`` asks for (none for ``weitsman``).

    Raises ``ValueError`` for a name other than ``weitsman`` or ``stacked``.
    """
    if theory not in ("weitsman", "stacked"):
        raise ValueError(f"--theory must be 'weitsman' or 'stacked', not {theory!r}")
    return [rival_priors(), baseline_priors()] if theory == "stacked" else []


def event_mapping() -> Path:
    """Return the event-data mapping (how CAMEO events become threat observations)."""
    return project_root() / "data" / "event_mapping.toml"


def cameo_table() -> Path:
    """Return the CAMEO code table with Goldstein scores."""
    return project_root() / "data" / "event-data" / "cameo_goldstein.csv"


def scenario_files(case: str | None) -> list[Path]:
    """Return the shipped scenario file of a case (the default case without one).

    Raises ``ValueError`` if there is none: the command then needs --set or --file.
    """
    from model.evidence.cases import DEFAULT_CASE

    default = project_root() / "scenarios" / f"{case or DEFAULT_CASE}.toml"
    if not default.exists():
        raise ValueError(f"give --set or --file (no {default} to use by default)")
    return [default]
