"""Event-data feeds into the store: code a feed as observations, then publish as an update.

An ICEWS or GDELT 2.0 file is coded by :mod:`model.evidence.ingest` into
``event-data`` threat observations (one per series and period), which then
take the path of an update (:mod:`model.workflows.updates.update`): duplicates
skipped, refit, ledger. The coded rows are handed to the caller before the
refit, so that the analyst sees what is about to be added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from model.evidence.data import Actors, file_sha256
from model.evidence.ingest import IngestReport, ingest_feed, load_cameo, load_mapping
from model.evidence.store import Source
from model.workflows.common.hooks import Hooks
from model.workflows.common.run_folder import Figures
from model.workflows.updates import update


@dataclass(frozen=True)
class Feed:
    """An event-data file and how to code it.

    Attributes
    ----------
    path
        The ICEWS or GDELT 2.0 file.
    fmt
        Its layout: ``icews`` or ``gdelt``.
    mapping
        The event-data mapping TOML (:func:`model.evidence.ingest.load_mapping`).
    cameo
        The CAMEO code table (:func:`model.evidence.ingest.load_cameo`).
    """

    path: Path
    fmt: str
    mapping: Path
    cameo: Path


@dataclass(frozen=True)
class CodedFeed:
    """A feed coded as observations, with the account of what was dropped and why."""

    feed: Feed
    frame: pd.DataFrame
    report: IngestReport
    min_events: int

    def batch(self) -> tuple[pd.DataFrame, Source]:
        """Return the observations with their provenance, as an update takes them."""
        return self.frame, Source(self.feed.path.name, file_sha256(self.feed.path))


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: the coded feed, and the update (``None``: nothing was published)."""

    coded: CodedFeed
    update: update.UpdateResult | None


def code_feed(feed: Feed, actors: Actors) -> CodedFeed:
    """Code a feed for a case; raise if the file is missing or any row or mapping entry is bad.

    Raises ``FileNotFoundError`` or :class:`~model.evidence.data.InputError`
    (every bad row of the feed at once).
    """
    if not feed.path.exists():
        raise FileNotFoundError(f"no such file: {feed.path}")
    rules = load_mapping(feed.mapping, actors)
    frame, report = ingest_feed(
        feed.path, feed.fmt, mapping=rules, cameo=load_cameo(feed.cameo), actors=actors
    )
    return CodedFeed(feed, frame, report, rules.min_events)


def ingest_update(
    feed: Feed,
    request: update.UpdateRequest,
    *,
    dry_run: bool = False,
    on_coded: Callable[[CodedFeed], None] | None = None,
    hooks: Hooks | None = None,
    figures: Figures | None = None,
) -> IngestResult:
    """Code a feed and publish its observations: ``axis ingest`` without its output.

    ``on_coded`` sees the coded feed before anything is published. With
    ``dry_run``, or when no series and period has enough events, nothing
    is published and the store is not touched. Raises what
    :func:`model.workflows.updates.update.update_store` raises; nothing is changed then.
    """
    actors, priors = update.load_update_case(request)
    coded = code_feed(feed, actors)
    if on_coded is not None:
        on_coded(coded)
    if dry_run or coded.frame.empty:
        return IngestResult(coded, None)
    published = update.publish_locked(
        [coded.batch()], actors, priors, request, hooks=hooks, figures=figures
    )
    return IngestResult(coded, published)
