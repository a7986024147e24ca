"""Citation checks shared by the tests: reference lists inside and outside the project."""

from __future__ import annotations

import re

from tests.conftest import ROOT

EVENT_DATA_README = ROOT / "data" / "event-data" / "README.md"


def event_data_reference_keys() -> set[str]:
    """Reference keys (``Surname, Year`` / ``A & B, Year``) of data/event-data/README.md."""
    text = EVENT_DATA_README.read_text(encoding="utf-8")
    refs = re.sub(r"\n[ \t]+", " ", text[text.index("## References") :])  # join wrapped entries
    keys = set()
    for entry in re.findall(r"^\* (.+?\(\d{4}\))", refs, flags=re.M):
        year = entry[-5:-1]
        authors = entry[: entry.rindex("(")]
        surnames = re.findall(r"([A-Z][A-Za-z']+), [A-Z]\.", authors)
        if len(surnames) == 1:
            keys.add(f"{surnames[0]}, {year}")
        elif len(surnames) == 2:
            keys.add(f"{surnames[0]} & {surnames[1]}, {year}")
        elif surnames:
            keys.add(f"{surnames[0]} et al., {year}")
    return keys


def citation_key(citation: str) -> str:
    """The reference key in an event-data citation: the text in parentheses."""
    return citation[citation.index("(") + 1 : citation.index(")")]
