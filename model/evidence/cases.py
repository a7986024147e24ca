"""Named cases: which actors file and which evidence file a case name stands for.

The shipped case (Russia, China and North Korea against the United States,
after Ma 2025) lives in ``data/actors.toml`` and ``data/observations.csv``
and is called :data:`DEFAULT_CASE`. Every further case is a folder
``data/cases/<name>/`` holding ``actors.toml``, ``observations.csv`` and a
``README.md`` with the case's reference list, so that a case travels as one
folder and its citations sit next to its rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from model.evidence.data import InputError, Problem

#: Name of the shipped case, addressable like any other.
DEFAULT_CASE = "default"

#: Files every case folder holds.
CASE_FILES: tuple[str, ...] = ("actors.toml", "observations.csv", "README.md")


@dataclass(frozen=True)
class Case:
    """Where a named case's files are."""

    name: str
    actors: Path
    observations: Path
    readme: Path | None


def cases_dir(root: Path) -> Path:
    """Return the folder of named cases under a project root."""
    return root / "data" / "cases"


def available_cases(root: Path) -> list[str]:
    """Names of every case under ``root``: the shipped one, then each complete folder, sorted."""
    folder = cases_dir(root)
    names = [DEFAULT_CASE]
    if folder.is_dir():
        names += sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and (p / "actors.toml").exists() and (p / "observations.csv").exists()
        )
    return names


def resolve_case(name: str, root: Path) -> Case:
    """Return the files of case ``name``; an unknown name raises :class:`InputError` listing all.

    Names are folder names: letters, digits, ``-`` and ``_``. Nothing
    outside ``data/cases/`` can be reached through a name.
    """
    if name == DEFAULT_CASE:
        data = root / "data"
        return Case(name, data / "actors.toml", data / "observations.csv", root / "README.md")
    known = available_cases(root)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name) or name not in known:
        raise InputError(
            [
                Problem(
                    "--case", None, "case", f"unknown case {name!r}; available: {', '.join(known)}"
                )
            ]
        )
    folder = cases_dir(root) / name
    readme = folder / "README.md"
    return Case(
        name,
        folder / "actors.toml",
        folder / "observations.csv",
        readme if readme.exists() else None,
    )


#: The heading of a case README's reference list: a line of its own, not prose that names it.
_REFERENCES = re.compile(r"^## References[ \t]*$", re.M)

#: A reference-list entry's key: ``Surname, I. (2004)`` or ``Body (2022b)`` at the start of a line.
_ENTRY = re.compile(r"^(?:[-*]\s+)?(?P<authors>[^()\n]+?)\s+\((?P<year>\d{4}[a-z]?)\)\.", re.M)


def _entry_key(authors: str, year: str) -> str:
    """Return the in-text citation key of a reference entry (codebook section 8)."""
    # "Surname, I., Surname, I., & Surname, I.": split at "&" and at a comma that
    # follows an initial and precedes the next surname.
    split = r",?\s*&\s*|(?<=\.),\s+(?=[A-Z][\w'-]+,)"
    names = [a.strip() for a in re.split(split, authors)]
    surnames = [n.split(",")[0].strip() for n in names if n.strip()]
    if len(surnames) >= 3:
        lead = f"{surnames[0]} et al."
    elif len(surnames) == 2:
        lead = f"{surnames[0]} & {surnames[1]}"
    else:
        lead = surnames[0]
    return f"{lead}, {year}"


def reference_keys(readme: Path) -> set[str]:
    """Citation keys of the reference list in a case README (the ``## References`` section).

    Each entry starts a line (optionally as a list item) with its authors and
    ``(Year)``: ``Weitsman, P. A. (2004). Dangerous Alliances...``. The key is
    the surname (two joined by ``&``, three or more as ``et al.``), a comma
    and the year with its letter, as in ``observations.csv``.
    """
    text = readme.read_text(encoding="utf-8-sig")
    heading = _REFERENCES.search(text)  # the heading line, not a mention of it in prose
    if heading is None:
        return set()
    section = text[heading.end() :]
    end = re.search(r"^## ", section, re.M)
    section = section if end is None else section[: end.start()]
    return {_entry_key(m["authors"], m["year"]) for m in _ENTRY.finditer(section)}
