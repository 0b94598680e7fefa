"""The outbound feed as CloudEvents against a real broker (Tansu): with
``GRIDCORE_FEED_FORMAT`` binary or structured, every stored event is on the topic of its kind,
keyed by its aggregate, and reads back with the CloudEvents SDK (and confluent-kafka, a client
outside gridcore) as the event its plain message maps to."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from adapters import cloud_events as ce
from adapters.event_feed import EventFeed, envelope
from adapters.settings import sqlite_env
from adapters.stream_topics import H_NOTIFICATION_ID, aggregate_kind
from gridcore.application import GridcoreApp
from tests.conftest import Clock
from tests.kafka_broker import read_topics
from tests.scenario import given_community

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("wire", [ce.BINARY, ce.STRUCTURED])
def test_the_feed_publishes_cloud_events(kafka_broker: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, wire: str) -> None:
    monkeypatch.setenv("GRIDCORE_FEED_FORMAT", wire)
    monkeypatch.setenv("GRIDCORE_FEED_SOURCE", "urn:gridcore:test")
    app = GridcoreApp(sqlite_env(tmp_path / "gridcore.sqlite"), clock=Clock())
    given_community(app)
    prefix = f"t{uuid.uuid4().hex[:8]}.events."
    feed = EventFeed(app, kafka_broker, batch=100, prefix=prefix)
    assert feed.wire == wire
    notes = app.recorder.select_notifications(start=1, limit=10**6)
    assert asyncio.run(feed.run(once=True)) == len(notes)
    feed.close()
    wanted = {str(n.id).encode() for n in notes}
    records = read_topics(kafka_broker, sorted({prefix + aggregate_kind(n.topic) for n in notes}),
                          lambda rs: wanted <= {r.headers.get(H_NOTIFICATION_ID) for r in rs})
    assert len(records) == len(notes)
    by_id = {n.id: n for n in notes}
    for r in records:
        n = by_id[int(r.headers[H_NOTIFICATION_ID])]
        expected = ce.to_cloud_event(envelope(n, prefix)[2], "urn:gridcore:test")
        if wire == ce.BINARY:
            assert r.headers["content-type"] == b"application/json"
            assert r.headers["ce_id"] == expected.get_id().encode()
        else:
            assert r.headers["content-type"] == b"application/cloudevents+json"
        got = ce.from_kafka(r.value, r.headers, r.key)
        assert r.topic == prefix + aggregate_kind(n.topic)
        assert r.key == str(n.originator_id).encode() == got.get_subject().encode()
        assert got.get_data() == expected.get_data()
        for attr in ("id", "source", "type", "time", "dataschema", "specversion"):
            assert got.get_attributes()[attr] == expected.get_attributes()[attr], attr
    app.close()
