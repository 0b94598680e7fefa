"""Topic names and creation (checked with confluent-kafka's admin client, outside faust), and
the stream commands without a broker."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.stream_app import all_topics, faust_topics
from adapters.stream_topics import (
    DEAD_LETTER,
    EVENT_PARTITIONS,
    INBOUND,
    INBOUND_PARTITIONS,
    aggregate_kind,
    ensure_topics,
    event_topic,
    event_topics,
)
from tests.kafka_broker import CEILING


@pytest.mark.parametrize(("stored", "kind"), [
    ("gridcore.household:Household.Registered", "household"),
    ("gridcore.delivery_desk:DeliveryDesk.Created", "delivery-desk"),
    ("gridcore.delivery_desk:DeliveryDirectory.Added", "delivery-directory"),
    ("gridcore.grid:GridNode.Established", "grid-node"),
    ("gridcore.alerts:Alert.Raised", "alert"),
    ("gridcore.idempotency:ClientCommand.Recorded", "client-command"),
])
def test_each_aggregate_kind_has_its_topic(stored: str, kind: str) -> None:
    assert aggregate_kind(stored) == kind
    assert event_topic(stored) == f"gridcore.events.{kind}"


def partitions(bootstrap: str) -> dict[str, int]:
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=CEILING)
    return {name: len(t.partitions) for name, t in md.topics.items()}


@pytest.mark.kafka
def test_topics_are_created_with_their_partition_counts(kafka_broker: str) -> None:
    wanted = {**all_topics(f"t-{uuid.uuid4().hex[:6]}"),
              **event_topics([f"k{uuid.uuid4().hex[:6]}"])}
    ensure_topics(kafka_broker, wanted)  # the inbound ones may exist from another test
    have = partitions(kafka_broker)
    assert {t: have.get(t) for t in wanted} == wanted
    assert set(INBOUND.values()) | {DEAD_LETTER} <= wanted.keys()
    assert set(wanted.values()) == {INBOUND_PARTITIONS, EVENT_PARTITIONS}
    assert ensure_topics(kafka_broker, wanted) == []  # again: nothing to create


@pytest.mark.kafka
def test_a_topic_with_the_wrong_partition_count_is_refused(kafka_broker: str) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    name = next(iter(faust_topics(f"t-{uuid.uuid4().hex[:6]}")))
    admin = AdminClient({"bootstrap.servers": kafka_broker})
    futures = admin.create_topics([NewTopic(name, 4, 1)])  # as auto-creation would make it
    futures[name].result(timeout=CEILING)
    with pytest.raises(RuntimeError, match="has 4 partitions, gridcore needs 1; delete it"):
        ensure_topics(kafka_broker, {name: 1})


@pytest.mark.parametrize("command", [["stream", "worker"], ["stream", "feed"],
                                     ["stream", "topics"]])
def test_stream_commands_need_kafka_broker(command: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BROKER", raising=False)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert "KAFKA_BROKER is not set" in result.output
    assert "gridcore ingest" in result.output
