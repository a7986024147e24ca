"""Weitsman's own readings of historical cases, set beside the model's answer.

A reading is data: ``data/cases/<name>/weitsman_reading.toml`` names, for
each dyad, a few key dates (the signing, a crisis, the end) with the
alliance type, commitment and cohesion levels Weitsman (2004) gives there.
It is written after the case's evidence and is never read by a fit, so the
comparison is a test of the model and the coding, not of one against
itself. This module reads and checks a reading, finds each key date's
period on the case's grid, takes the model's probabilities for that dyad
and period out of a posterior and scores them. It fits nothing: the script
fits, so the logic here is tested without sampling.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from model.evidence.aggregate import Structure
from model.evidence.cases import Case
from model.evidence.data import Actors, InputError, Problem
from model.theory.tables import ALLIANCE_TYPES, OUTCOME_LEVELS

#: The file in a case folder that holds Weitsman's reading.
READING_FILE = "weitsman_reading.toml"

#: How an entry rests on her text: her words, her argument in other words,
#: or a type inferred from her threat tables where she names none.
BASES: tuple[str, ...] = ("quote", "paraphrase", "inferred")

#: How sure the entry is as a reading of her text, lowest first.
CONFIDENCES: tuple[str, ...] = ("low", "medium", "high")

#: Keys an entry may carry; anything else is a typo the reader should see.
_KEYS = frozenset(
    {
        "dyad",
        "date",
        "label",
        "type",
        "commitment",
        "cohesion",
        "citation",
        "basis",
        "confidence",
        "says",
    }
)
_REQUIRED = ("dyad", "date", "label", "citation", "basis", "confidence", "says")


@dataclass(frozen=True)
class Reading:
    """Weitsman's reading of one dyad at one key date.

    ``type`` is ``None`` where she names no type (an entry may record only
    cohesion or commitment); ``commitment`` and ``cohesion`` list every
    level her wording admits, empty where she gives none.
    """

    dyad: str
    date: date
    label: str
    type: str | None
    commitment: tuple[str, ...]
    cohesion: tuple[str, ...]
    citation: str
    basis: str
    confidence: str
    says: str


def reading_path(case: Case) -> Path:
    """Where a case's reading lives: beside its ``actors.toml``."""
    return case.actors.parent / READING_FILE


def has_reading(case: Case) -> bool:
    """Whether a case carries a reading to validate against."""
    return reading_path(case).exists()


def _levels(value: Any, where: str, field: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(where, None, field, "must be a list of level names"))
        return ()
    bad = [v for v in value if v not in OUTCOME_LEVELS]
    if bad:
        problems.append(Problem(where, None, field, f"{bad} not among {list(OUTCOME_LEVELS)}"))
    return tuple(value)


def _entry(
    raw: dict[str, Any], where: str, actors: Actors, as_of: date | None, problems: list[Problem]
) -> Reading | None:
    """Check one ``[[reading]]`` table; append what is wrong and return ``None`` if anything is."""
    before = len(problems)
    for key in sorted(set(raw) - _KEYS):
        problems.append(Problem(where, None, key, f"unknown key (allowed: {sorted(_KEYS)})"))
    for key in _REQUIRED:
        if key not in raw:
            problems.append(Problem(where, None, key, "missing"))
    if len(problems) > before:
        return None
    dyads = Structure(actors).dyads
    if raw["dyad"] not in dyads:
        problems.append(Problem(where, None, "dyad", f"{raw['dyad']!r} not among {list(dyads)}"))
    day = raw["date"]
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            day = None
    if not isinstance(day, date):
        problems.append(Problem(where, None, "date", "not an ISO date"))
    elif day < actors.start or (as_of is not None and day > as_of):
        end = f" to {as_of}" if as_of else ""
        problems.append(
            Problem(where, None, "date", f"{day} outside the case's period ({actors.start}{end})")
        )
    kind = raw.get("type")
    if kind is not None and kind not in ALLIANCE_TYPES:
        problems.append(Problem(where, None, "type", f"{kind!r} not among {list(ALLIANCE_TYPES)}"))
    if raw["basis"] not in BASES:
        problems.append(Problem(where, None, "basis", f"must be one of {list(BASES)}"))
    if raw["confidence"] not in CONFIDENCES:
        problems.append(Problem(where, None, "confidence", f"must be one of {list(CONFIDENCES)}"))
    commitment = _levels(raw.get("commitment"), where, "commitment", problems)
    cohesion = _levels(raw.get("cohesion"), where, "cohesion", problems)
    if len(problems) > before:
        return None
    return Reading(
        dyad=raw["dyad"],
        date=day,
        label=str(raw["label"]),
        type=kind,
        commitment=commitment,
        cohesion=cohesion,
        citation=str(raw["citation"]),
        basis=raw["basis"],
        confidence=raw["confidence"],
        says=str(raw["says"]),
    )


def parse_reading(
    text: str, name: str, actors: Actors, *, as_of: date | None = None
) -> list[Reading]:
    """Read and check a reading given as TOML text; ``name`` is the file named in problems.

    Every entry must name a dyad of the case, a date from the case's start
    to ``as_of`` (its newest evidence, so a key date is never a forecast),
    an alliance type of the theory if any, and levels of Table 3. All
    problems are raised together as one :class:`InputError`.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError([Problem(name, None, "-", f"not valid TOML: {err}")]) from None
    entries = data.get("reading", [])
    problems: list[Problem] = []
    if not entries:
        problems.append(Problem(name, None, "reading", "no [[reading]] entries"))
    out: list[Reading] = []
    for i, raw in enumerate(entries, 1):
        entry = _entry(raw, f"{name} [[reading]] {i}", actors, as_of, problems)
        if entry is not None:
            out.append(entry)
    seen: set[tuple[str, date]] = set()
    for r in out:
        if (r.dyad, r.date) in seen:
            problems.append(Problem(name, None, "date", f"{r.dyad} at {r.date} given twice"))
        seen.add((r.dyad, r.date))
    if problems:
        raise InputError(problems)
    return out


def load_reading(path: str | Path, actors: Actors, *, as_of: date | None = None) -> list[Reading]:
    """Read and check a case's reading file (:func:`parse_reading`)."""
    path = Path(path)
    return parse_reading(path.read_text(encoding="utf-8"), str(path), actors, as_of=as_of)


def period_label(day: date, actors: Actors) -> str:
    """Return the label of the grid period a date falls in, as the model's coordinates spell it."""
    return str(pd.Period(day, freq=actors.pandas_freq))


def posterior_means(
    posterior: xr.Dataset, var: str, dyad: str, dim: str, label: str
) -> dict[str, float] | None:
    """Posterior mean of each category of ``var`` for one dyad and one period.

    ``dim`` is the period dimension (``period`` for the smoothed state,
    ``window`` for the implied one); ``None`` when ``label`` is not on it,
    as for an implied type before the forecast window.
    """
    da = posterior[var]
    if label not in da[dim].values:
        return None
    m = da.sel(dyad=dyad, **{dim: label}).mean(("chain", "draw"))
    last = da.dims[-1]
    return {str(k): float(m.sel({last: k})) for k in m[last].values}


def modal(probs: Mapping[str, float]) -> str:
    """Return the most probable category (the first listed on a tie)."""
    return max(probs, key=lambda k: probs[k])


def brier(probs: Mapping[str, float], truth: str) -> float:
    """Multi-class Brier score of one forecast: sum of squared errors, 0 (sure and right) to 2.

    A uniform forecast over K categories scores 1 - 1/K whatever the truth.
    """
    if truth not in probs:
        raise ValueError(f"{truth!r} is not a category of the forecast")
    p = np.array([probs[k] for k in probs])
    y = np.array([k == truth for k in probs], dtype=float)
    return float(np.sum((p - y) ** 2))


def uniform_brier(k: int = len(ALLIANCE_TYPES)) -> float:
    """Brier score of a uniform forecast over ``k`` categories: the no-skill baseline."""
    return 1.0 - 1.0 / k


@dataclass(frozen=True)
class KeyDate:
    """One key date of a case: Weitsman's reading beside the model's.

    ``smoothed_*`` is the dyad's state given all the evidence, the key
    date's own codes included; ``implied_*`` is the type the threats alone
    imply, taken at ``implied_period`` (the key date's period when the fit
    reports it there, else ``None`` throughout).
    """

    case: str
    dyad: str
    date: date
    period: str
    label: str
    confidence: str
    basis: str
    citation: str
    weitsman_type: str | None
    weitsman_cohesion: tuple[str, ...]
    weitsman_commitment: tuple[str, ...]
    smoothed_type: str
    smoothed_type_p: float
    smoothed_p_weitsman: float | None
    smoothed_cohesion: str
    smoothed_commitment: str
    implied_type: str | None
    implied_period: str | None
    implied_p_weitsman: float | None
    brier: float | None

    @property
    def type_match(self) -> bool | None:
        """Whether the smoothed modal type is hers (``None`` where she names none)."""
        return None if self.weitsman_type is None else self.smoothed_type == self.weitsman_type

    @property
    def implied_match(self) -> bool | None:
        """Whether the implied modal type at the key date's period is hers."""
        if self.weitsman_type is None or self.implied_type is None:
            return None
        return self.implied_type == self.weitsman_type

    @property
    def cohesion_match(self) -> bool | None:
        """Whether the smoothed modal cohesion is among the levels she admits."""
        return self.smoothed_cohesion in self.weitsman_cohesion if self.weitsman_cohesion else None

    @property
    def commitment_match(self) -> bool | None:
        """Whether the smoothed modal commitment is among the levels she admits."""
        if not self.weitsman_commitment:
            return None
        return self.smoothed_commitment in self.weitsman_commitment

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the match flags."""
        out = asdict(self)
        out["date"] = self.date.isoformat()
        out["weitsman_cohesion"] = list(self.weitsman_cohesion)
        out["weitsman_commitment"] = list(self.weitsman_commitment)
        for key in ("type_match", "implied_match", "cohesion_match", "commitment_match"):
            out[key] = getattr(self, key)
        return out


def compare(
    case: str,
    reading: Reading,
    posterior: xr.Dataset,
    actors: Actors,
    implied_posterior: xr.Dataset | None = None,
) -> KeyDate:
    """Set one reading beside the model's smoothed and implied state at its period.

    ``implied_posterior`` is the fit whose forecast window holds the key
    date's period (an as-of fit at the key date); by default the same
    posterior, whose window starts at its newest evidence, so the implied
    type of an earlier key date is left out rather than taken from another
    year.
    """
    period = period_label(reading.date, actors)
    types = posterior_means(posterior, "smoothed_type_prob", reading.dyad, "period", period)
    cohesion = posterior_means(posterior, "smoothed_cohesion_prob", reading.dyad, "period", period)
    commitment = posterior_means(
        posterior, "smoothed_commitment_prob", reading.dyad, "period", period
    )
    if types is None or cohesion is None or commitment is None:
        raise ValueError(f"period {period} is not on the fit's grid")
    source = posterior if implied_posterior is None else implied_posterior
    implied = posterior_means(source, "type_prob", reading.dyad, "window", period)
    truth = reading.type
    return KeyDate(
        case=case,
        dyad=reading.dyad,
        date=reading.date,
        period=period,
        label=reading.label,
        confidence=reading.confidence,
        basis=reading.basis,
        citation=reading.citation,
        weitsman_type=truth,
        weitsman_cohesion=reading.cohesion,
        weitsman_commitment=reading.commitment,
        smoothed_type=modal(types),
        smoothed_type_p=types[modal(types)],
        smoothed_p_weitsman=None if truth is None else types[truth],
        smoothed_cohesion=modal(cohesion),
        smoothed_commitment=modal(commitment),
        implied_type=None if implied is None else modal(implied),
        implied_period=None if implied is None else period,
        implied_p_weitsman=None if implied is None or truth is None else implied[truth],
        brier=None if truth is None else brier(types, truth),
    )


def _share(flags: Iterable[bool | None]) -> tuple[int, int]:
    """Count (matches, judged) over the flags that are not ``None``."""
    judged = [f for f in flags if f is not None]
    return sum(judged), len(judged)


def scores(rows: Sequence[KeyDate], *, min_confidence: str = "low") -> dict[str, Any]:
    """Share of key dates matched and mean Brier score, over readings at least as sure as asked.

    The Brier score is the mean over key dates where she names a type, of the
    smoothed type probabilities against her type; beside it the uniform
    forecast's score, the no-skill line.
    """
    floor = CONFIDENCES.index(min_confidence)
    kept = [r for r in rows if CONFIDENCES.index(r.confidence) >= floor]
    out: dict[str, Any] = {"min_confidence": min_confidence, "key_dates": len(kept)}
    for name, attr in (
        ("smoothed_type", "type_match"),
        ("implied_type", "implied_match"),
        ("cohesion", "cohesion_match"),
        ("commitment", "commitment_match"),
    ):
        hit, n = _share(getattr(r, attr) for r in kept)
        out[name] = {"matched": hit, "judged": n, "share": hit / n if n else None}
    briers = [r.brier for r in kept if r.brier is not None]
    out["brier"] = float(np.mean(briers)) if briers else None
    out["brier_n"] = len(briers)
    out["brier_uniform"] = uniform_brier()
    return out
