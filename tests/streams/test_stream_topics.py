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


def test_passes_and_travel_are_keyed_by_plate_detections_by_camera() -> None:
    from adapters.stream_topics import record_key

    assert record_key("vehicle", b'{"pass_id": "P-1", "plate": "\xe9\x84\x82a\xc2\xb712345"}'
                      ) == "鄂A12345".encode()  # the normalized plate: 鄂a·12345 -> 鄂A12345
    assert record_key("travel", '{"plate": "鄂A 12345"}'.encode()) == "鄂A12345".encode()
    assert record_key("camera", b'{"camera_id": "CAM-1"}') == b"CAM-1"
    assert record_key("risk", '{"area": "武汉市"}'.encode()) == "武汉市".encode()
    for broken in (b"not json", b"[1]", b'{"plate": "not a plate"}', b'{"plate": ""}'):
        assert record_key("vehicle", broken) is None


def test_a_key_goes_where_kafkas_default_partitioner_puts_it() -> None:
    from aiokafka.partitioner import DefaultPartitioner  # type: ignore[import-untyped]

    from adapters.stream_topics import partition_for

    keys = [f"湘A{i:05d}".encode() for i in range(200)]
    for n in (1, 4, 12):
        assert [partition_for(k, n) for k in keys] == [
            DefaultPartitioner()(k, list(range(n)), list(range(n))) for k in keys]
    assert len({partition_for(k, 4) for k in keys}) == 4


def test_scale_out_topics_have_the_configured_partitions_and_one_for_risk_areas() -> None:
    from adapters.stream_app import APP_ID
    from adapters.stream_topics import RISK_AREAS

    wanted = all_topics(partitions=4)
    assert wanted[RISK_AREAS] == 1 and wanted[f"{APP_ID}-risk-areas-changelog"] == 1
    assert wanted[DEAD_LETTER] == 1
    assert {t: n for t, n in wanted.items() if n != 1} == {
        **{t: 4 for k, t in INBOUND.items() if k != "risk"},
        f"{APP_ID}-plate-travel-changelog": 4, f"{APP_ID}-checkpoint-passes-changelog": 4,
        f"{APP_ID}-__assignor-__leader": 4}


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
