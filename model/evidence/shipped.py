"""Where the shipped evidence, cases, prior sets and scenarios are, in a checkout or installed.

The repository keeps them at its top level (``data/``, ``priors/``,
``scenarios/``), where analysts and reviewers read them. A wheel installs
the same three folders inside the package as ``model/_shipped/`` (the
``package-dir`` mapping in ``pyproject.toml``), laid out as in the
repository, so one root serves both: :func:`shipped_root` is
``model/_shipped`` when installed, else the checkout (a repository, or an
editable install of one). Every other function here is a path under it, so
that no caller builds paths from ``__file__`` or the working directory.

The paths are real files (``pip`` unpacks a wheel); a zipped install is not
supported and is reported as such.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from model.evidence.cases import DEFAULT_CASE, Case, available_cases, resolve_case
from model.evidence.data import InputError, Problem

__all__ = [
    "DEFAULT_PRIORS",
    "case_names",
    "is_installed",
    "prior_set_names",
    "prior_set_path",
    "scenario_path",
    "shipped_case",
    "shipped_path",
    "shipped_root",
]

#: The prior set a fit uses unless told otherwise (``priors/default.toml``).
DEFAULT_PRIORS = "default"

#: A file every shipped root holds: how a folder is recognised as one.
_MARKER = ("data", "actors.toml")

#: Names of prior sets and cases are file or folder names, never paths.
_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _installed_root() -> Path | None:
    """Return the installed copy, ``model/_shipped``, if this package has one."""
    installed = resources.files("model") / "_shipped"
    if isinstance(installed, Path) and installed.joinpath(*_MARKER).is_file():
        return installed
    return None


def shipped_root() -> Path:
    """Return the folder holding ``data/``, ``priors/`` and ``scenarios/``.

    The installed copy (``model/_shipped``, present only in a wheel) comes
    first; a checkout has none and uses the repository itself, so an edit
    to ``data/`` is seen at once there.

    Returns
    -------
    Path
        The root; ``shipped_root() / "data" / "actors.toml"`` exists.

    Raises
    ------
    FileNotFoundError
        If neither an installed copy nor a checkout holds the data (a broken
        install, or the package zipped).
    """
    installed = _installed_root()
    if installed is not None:
        return installed
    checkout = Path(__file__).resolve().parents[2]
    if checkout.joinpath(*_MARKER).is_file():
        return checkout
    raise FileNotFoundError(
        f"the shipped data is missing: neither the package nor {checkout} holds "
        f"{'/'.join(_MARKER)}; reinstall axis-forecast from a wheel or a checkout"
    )


def is_installed() -> bool:
    """Tell whether the shipped files are the installed copy rather than a checkout's.

    A command's outputs (run folders, the store) belong beside the data in
    a checkout, but never inside an installed package: this tells which.

    Returns
    -------
    bool
        ``True`` when :func:`shipped_root` is ``model/_shipped`` of an install.
    """
    return _installed_root() is not None


def shipped_path(*parts: str) -> Path:
    """Return a file or folder of the shipped ``data/`` folder.

    Parameters
    ----------
    *parts
        Path components under ``data/``: ``shipped_path("observations.csv")``,
        ``shipped_path("event-data", "cameo_goldstein.csv")``; none gives
        ``data/`` itself.

    Returns
    -------
    Path
        The path; whether it exists is the caller's to check, as for a path
        an analyst types (a missing file is reported when it is read).
    """
    return shipped_root().joinpath("data", *parts)


def case_names() -> list[str]:
    """List the shipped cases.

    Returns
    -------
    list of str
        ``"default"`` (Russia, China and North Korea against the United
        States), then every complete folder of ``data/cases/``, sorted.
    """
    return available_cases(shipped_root())


def shipped_case(name: str = DEFAULT_CASE) -> Case:
    """Return the files of a shipped case.

    Parameters
    ----------
    name
        ``"default"`` or a folder name of ``data/cases/`` (:func:`case_names`).

    Returns
    -------
    Case
        Its actors file, observations file and README (the reference list);
        ``readme`` is ``None`` where none is installed (the default case's
        references are in the repository README, which a wheel does not hold).

    Raises
    ------
    InputError
        If no shipped case has that name; the message lists those that do.
    """
    case = resolve_case(name, shipped_root())
    if case.readme is not None and not case.readme.is_file():
        return Case(case.name, case.actors, case.observations, None)
    return case


def prior_set_names() -> list[str]:
    """List the shipped prior sets.

    Returns
    -------
    list of str
        The stem of every ``priors/*.toml``, sorted (``default``, ``realist``, ...).
    """
    return sorted(p.stem for p in (shipped_root() / "priors").glob("*.toml"))


def prior_set_path(name: str = DEFAULT_PRIORS) -> Path:
    """Return the file of a shipped prior set.

    Parameters
    ----------
    name
        A prior set's name, the stem of its file in ``priors/``
        (:func:`prior_set_names`).

    Returns
    -------
    Path
        ``priors/<name>.toml``, which exists.

    Raises
    ------
    InputError
        If no shipped prior set has that name; the message lists those that do.
    """
    known = prior_set_names()
    if not _NAME.fullmatch(name) or name not in known:
        message = f"unknown prior set {name!r}; available: {', '.join(known)}"
        raise InputError([Problem("--priors", None, "priors", message)])
    return shipped_root() / "priors" / f"{name}.toml"


def scenario_path(case: str = DEFAULT_CASE) -> Path:
    """Return the file of a shipped case's what-if scenarios.

    Parameters
    ----------
    case
        A case name (:func:`case_names`).

    Returns
    -------
    Path
        ``scenarios/<case>.toml``; a case may have none, so whether it exists
        is the caller's to check.

    Raises
    ------
    InputError
        If ``case`` is not a plain name (it could reach outside ``scenarios/``).
    """
    if not _NAME.fullmatch(case):
        raise InputError([Problem("--case", None, "case", f"not a case name: {case!r}")])
    return shipped_root() / "scenarios" / f"{case}.toml"
