"""Ingesting an event-data feed: a dry run codes the feed and touches no store."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.helpers import SHIPPED, listing


def test_a_dry_run_ingest_codes_the_feed_and_touches_no_store(tmp_path):
    from model.inference.config import SamplerConfig
    from model.workflows.updates.ingest import Feed, ingest_update
    from model.workflows.updates.update import UpdateRequest

    events = ROOT / "data" / "event-data"
    feed = Feed(
        events / "icews_sample_2018-06-02_03.csv",
        "icews",
        ROOT / "data" / "event_mapping.toml",
        events / "cameo_goldstein.csv",
    )
    request = UpdateRequest(tmp_path / "axis.sqlite", SHIPPED, tmp_path / "runs", SamplerConfig())
    seen = []
    result = ingest_update(feed, request, dry_run=True, on_coded=seen.append)
    assert result.update is None and seen == [result.coded]
    assert len(result.coded.frame) == result.coded.report.observations > 0
    assert result.coded.batch()[1].file == feed.path.name
    assert listing(tmp_path) == []
