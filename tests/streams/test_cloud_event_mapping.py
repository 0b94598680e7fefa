"""The feed's messages as CloudEvents, without a broker: every stored event of a community
maps to a v1.0 CloudEvent with the event's ids, type, subject and time, whose data is the body
the plain feed carries (personal values sealed), valid against its committed schema; binary
and structured Kafka messages read back to the same event."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema_rs
import orjson
import pytest

from adapters import cloud_events as ce
from adapters.event_feed import envelope
from adapters.settings import sqlite_env
from adapters.stream_topics import H_EVENT_ID, aggregate_kind
from gridcore.application import GridcoreApp
from gridcore.base import event_id
from tests.conftest import Clock
from tests.scenario import given_community

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, tuple]]:
    path = tmp_path_factory.mktemp("ce") / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path), clock=Clock())
    given_community(app)
    notes = app.recorder.select_notifications(start=1, limit=10**6)
    out = [(n, envelope(n)) for n in notes]
    app.close()
    return out


def test_each_feed_message_is_a_cloud_event_of_its_stored_event(records) -> None:
    assert any(b'"sealed"' in n.state for n, _ in records)  # the store seals personal data
    for n, (_, key, value, headers) in records:
        event = ce.to_cloud_event(value, "urn:gridcore:wuhan-712")
        a = event.get_attributes()
        kind = aggregate_kind(n.topic)
        assert a["specversion"] == "1.0"
        assert a["id"] == str(event_id(n.originator_id, n.originator_version))
        assert dict(headers)[H_EVENT_ID].decode() == a["id"]
        assert a["source"] == f"urn:gridcore:wuhan-712/{kind}"
        assert a["type"].startswith(f"cn.gridcore.{kind}.") and a["type"][-3:-1] == ".v"
        assert a["subject"] == a["partitionkey"] == key.decode() == str(n.originator_id)
        state = orjson.loads(n.state)
        assert a["time"] == datetime.fromisoformat(state["timestamp"])
        assert a["datacontenttype"] == "application/json"
        assert event.get_data() == state  # current versions: the stored body unchanged
        name = a["dataschema"].rsplit("/", 1)[1]
        schema = json.loads((DOCS / name).read_text(encoding="utf-8"))
        assert jsonschema_rs.is_valid(schema, event.get_data()), name


def test_binary_and_structured_messages_read_back_to_the_same_event(records) -> None:
    for _, record in records[:50]:
        event = ce.to_cloud_event(record[2], "urn:gridcore:t")
        for wire in (ce.BINARY, ce.STRUCTURED):
            topic, key, value, headers = ce.encode(record, wire, "urn:gridcore:t")
            assert (topic, key) == record[:2] and set(record[3]) <= set(headers)
            back = ce.from_kafka(value, headers, key)
            assert back.get_data() == event.get_data()
            for attr in ("id", "source", "type", "subject", "time", "dataschema"):
                assert back.get_attributes()[attr] == event.get_attributes()[attr], attr
        assert ce.encode(record, ce.PLAIN) == record


def test_the_format_setting_defaults_to_plain_and_rejects_an_unknown_one(monkeypatch) -> None:
    monkeypatch.delenv("GRIDCORE_FEED_FORMAT", raising=False)
    assert ce.feed_format() == "plain"
    monkeypatch.setenv("GRIDCORE_FEED_FORMAT", "CloudEvents-Binary")
    assert ce.feed_format() == ce.BINARY
    with pytest.raises(ValueError, match="use one of plain, cloudevents-binary"):
        ce.feed_format("cloudevents")


def test_the_type_names_the_aggregate_kind_event_and_class_version() -> None:
    assert ce.event_type("gridcore.household:Household.Registered", 1) == \
        "cn.gridcore.household.registered.v1"
    assert ce.event_type("gridcore.household:Household.MeasureChanged", 3) == \
        "cn.gridcore.household.measure-changed.v3"
