"""The Kafka topics gridcore reads and writes, and creating them with their partition counts.

Inbound (sensor and external feeds, JSON objects, see ``adapters.alert_inputs``):
camera detections, vehicle passes, vehicle travel records, risk-area declarations and lifts,
each keyed by its producer with ``record_key`` (plate, camera, area) and partitioned with
Kafka's default murmur2 partitioner (``partition_for``).
Outbound: every domain event on ``gridcore.events.<aggregate kind>``
(``gridcore.events.household``), keyed by the aggregate id. Anything the stream agents cannot
use goes to the dead-letter topic.

Topics are created explicitly, never left to the broker: an auto-created topic gets the
broker's default partition count, and a faust table whose changelog does not match its
source's partitions waits for ever.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Iterable, Mapping

CAMERA_DETECTIONS = "gridcore.in.camera-detections"
VEHICLE_PASSES = "gridcore.in.vehicle-passes"
TRAVEL_RECORDS = "gridcore.in.vehicle-travel"
RISK_AREAS = "gridcore.in.risk-areas"
DEAD_LETTER = "gridcore.dead-letter"
EVENTS_PREFIX = "gridcore.events."

#: The input kind (``adapters.alert_inputs.Kind``) each inbound topic carries.
INBOUND: dict[str, str] = {
    "camera": CAMERA_DETECTIONS,
    "vehicle": VEHICLE_PASSES,
    "travel": TRAVEL_RECORDS,
    "risk": RISK_AREAS,
}

#: Partitions of the keyed inbound topics (camera detections, vehicle passes, travel records)
#: unless ``GRIDCORE_STREAM_PARTITIONS`` says otherwise: one keeps a single worker; N lets up
#: to N workers of one consumer group share them. Passes and travel are keyed by the plate
#: (``record_key``) over the same count, so a plate's passes and travel meet on one worker.
INBOUND_PARTITIONS = 1
#: Risk areas stay on one partition whatever the count: every worker holds the whole risk
#: table (a faust GlobalTable, which faust 0.15 recovers reliably only on one partition).
RISK_PARTITIONS = 1
#: Outbound topics are keyed by aggregate id, so order per aggregate holds on any count.
EVENT_PARTITIONS = 3
DEAD_LETTER_PARTITIONS = 1

# Headers of the dead-letter topic and of the outbound domain events.
H_REASON = "gridcore-reason"
H_SOURCE_TOPIC = "gridcore-source-topic"
H_SOURCE_PARTITION = "gridcore-source-partition"
H_SOURCE_OFFSET = "gridcore-source-offset"
H_EVENT_ID = "gridcore-event-id"
H_NOTIFICATION_ID = "gridcore-notification-id"
H_EVENT_TOPIC = "gridcore-event-topic"
H_AGGREGATE_ID = "gridcore-aggregate-id"
H_AGGREGATE_VERSION = "gridcore-aggregate-version"

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def aggregate_kind(event_topic: str) -> str:
    """``gridcore.delivery_desk:DeliveryDesk.Created`` -> ``delivery-desk`` (the aggregate class
    the event is nested in, so one module holding two aggregates gives two kinds)."""
    module, _, qualname = event_topic.partition(":")
    owner = qualname.split(".")[0] if "." in qualname else module.rsplit(".", 1)[-1]
    return _CAMEL.sub("-", owner).lower().replace("_", "-")


def event_topic(event_topic_name: str) -> str:
    """The Kafka topic an event of this stored topic is published to."""
    return EVENTS_PREFIX + aggregate_kind(event_topic_name)


def inbound_topics(partitions: int = INBOUND_PARTITIONS) -> dict[str, int]:
    """Every topic the stream worker reads or writes, with its partition count."""
    topics = {t: partitions for t in INBOUND.values()}
    topics[RISK_AREAS] = RISK_PARTITIONS
    topics[DEAD_LETTER] = DEAD_LETTER_PARTITIONS
    return topics


def record_key(kind: str, value: bytes) -> bytes | None:
    """The key a producer gives an inbound record: the normalized plate of a pass or travel
    record (its passes and travel then share a partition), the camera of a detection, the
    area of a risk record; None when the record has none (the worker dead-letters it)."""
    import orjson

    from gridcore.risk import normalize_plate

    field = {"vehicle": "plate", "travel": "plate", "camera": "camera_id", "risk": "area"}[kind]
    try:
        data = orjson.loads(value)
        text = data[field] if isinstance(data, dict) else None
        if isinstance(text, str) and field == "plate":
            text = normalize_plate(text)
    except Exception:  # not JSON, no such field, not a plate: the worker says why
        return None
    return text.encode() if isinstance(text, str) and text else None


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (``aiokafka.partitioner.murmur2``, the Java client's
    ``Utils.murmur2``), a word at a time: about three times faster than aiokafka's (the
    worker checks every pass's partition with it)."""
    m = 0x5BD1E995
    length = len(data)
    h = 0x9747B28C ^ length
    words = length >> 2
    for k in struct.unpack_from(f"<{words}I", data):
        k = (k * m) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = length & 3
    if rest:
        tail = words << 2
        if rest >= 3:
            h ^= data[tail + 2] << 16
        if rest >= 2:
            h ^= data[tail + 1] << 8
        h = ((h ^ data[tail]) * m) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


def partition_for(key: bytes, partitions: int) -> int:
    """The partition of ``key``: Kafka's default (murmur2, as the Java client and aiokafka;
    librdkafka clients need ``partitioner=murmur2_random``), so producers that key records with
    ``record_key`` place them where the worker's tables expect them."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


async def ensure_topics_async(bootstrap: str, wanted: Mapping[str, int],
                              timeout_ms: int = 15_000) -> list[str]:
    """Create the topics of ``wanted`` (name -> partitions) that do not exist yet; returns the
    names created. A topic that exists with another partition count is an error, with a remedy.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name=t, num_partitions=n, replication_factor=1)
                   for t, n in wanted.items() if t not in existing]
        if missing:
            response = await admin.create_topics(missing, timeout_ms=timeout_ms)
            for error in getattr(response, "topic_errors", ()):
                name, code = error[0], error[1]
                if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (created meanwhile)
                    raise RuntimeError(f"could not create Kafka topic {name!r} (error {code}); "
                                       "check the broker's log and KAFKA_BROKER")
        present = [t for t in wanted if t in existing]
        if present:
            for described in await admin.describe_topics(present):
                name, parts = described["topic"], len(described["partitions"])
                if parts != wanted[name]:
                    raise RuntimeError(
                        f"Kafka topic {name!r} has {parts} partitions, gridcore needs "
                        f"{wanted[name]}; delete it (it was probably auto-created) and start "
                        "again so gridcore creates it")
        return [t.name for t in missing]
    finally:
        await admin.close()


def ensure_topics(bootstrap: str, wanted: Mapping[str, int]) -> list[str]:
    """``ensure_topics_async`` for callers without an event loop."""
    return asyncio.run(ensure_topics_async(bootstrap, wanted))


def event_topics(kinds: Iterable[str]) -> dict[str, int]:
    return {EVENTS_PREFIX + k: EVENT_PARTITIONS for k in kinds}
