"""The outbound relay: every stored domain event published to Kafka, resumable after a crash.

Each event of the application's log goes to the topic of its aggregate kind
(``gridcore.events.household``...), keyed by the aggregate id, so with per-key partitioning the
events of one aggregate stay in order. Its headers carry the event id (a uuid5 of aggregate id
and version, the same however often it is sent), the notification id, the event's class topic
and the aggregate id and version. The value is a JSON envelope with those fields and the stored
state as it is in the event store (personal values stay sealed).

The relay keeps its position like a projection, in the tracking table of the events' own
database under ``feed:kafka``, and records it only after the broker acknowledged the whole
batch. A crash between the two sends that batch again on restart: duplicates are possible and
carry the same event id; gaps are not.

``GRIDCORE_FEED_FORMAT`` (or ``wire``) sends the same records as CloudEvents instead, in
Kafka binary or structured mode (``adapters.cloud_events``); ``plain`` is the default.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from eventsourcing.persistence import Tracking

from adapters import cloud_events
from adapters import stream_topics as topics
from adapters.tracking import tracking_recorder
from gridcore.base import EVENT_NAMESPACE, event_id

FEED_NAME = "feed:kafka"
FEED_NAMESPACE = EVENT_NAMESPACE
log = logging.getLogger(__name__)


def envelope(notification: Any, prefix: str = topics.EVENTS_PREFIX
             ) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """(Kafka topic, key, value, headers) for one stored notification."""
    aggregate_id = str(notification.originator_id)
    eid = str(event_id(aggregate_id, notification.originator_version))
    state = bytes(notification.state)
    head = orjson.dumps({
        "event_id": eid, "notification_id": notification.id, "aggregate_id": aggregate_id,
        "aggregate_version": notification.originator_version, "topic": notification.topic})
    if state[:1] == b"{":  # plain JSON state: spliced in, not decoded and encoded again
        value = head[:-1] + b',"state":' + state + b"}"
    else:  # a compressed or enciphered store: the bytes as they are, in base64
        value = head[:-1] + b',"state_base64":"' + base64.b64encode(state) + b'"}'
    headers = [
        (topics.H_EVENT_ID, eid.encode()),
        (topics.H_NOTIFICATION_ID, str(notification.id).encode()),
        (topics.H_EVENT_TOPIC, notification.topic.encode()),
        (topics.H_AGGREGATE_ID, aggregate_id.encode()),
        (topics.H_AGGREGATE_VERSION, str(notification.originator_version).encode()),
    ]
    kafka_topic = prefix + topics.aggregate_kind(notification.topic)
    return kafka_topic, aggregate_id.encode(), value, headers


class EventFeed:
    """Publishes the log after the feed's recorded position, a batch at a time."""

    def __init__(self, app: Any, bootstrap: str, batch: int = 1000, name: str = FEED_NAME,
                 tracking: Any = None, prefix: str = topics.EVENTS_PREFIX,
                 create_topics: bool = True, wire: str | None = None) -> None:
        self.app, self.bootstrap, self.batch, self.name = app, bootstrap, batch, name
        # plain | cloudevents-binary | cloudevents-structured (GRIDCORE_FEED_FORMAT)
        self.wire = cloud_events.feed_format(wire)
        self.prefix, self.create_topics = prefix, create_topics
        self.tracking = tracking if tracking is not None else tracking_recorder(app)
        self._created: set[str] = set()
        self._tracked: dict[int, set[str]] = {}
        # The store is reached from one thread of its own: the event loop never blocks on it.
        self._store = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-feed-store")

    # ---- the store side (blocking; run in the executor) ----------------------------------

    def position(self) -> int:
        return self.tracking.max_tracking_id(self.name) or 0

    def _read(self, after: int) -> Sequence[Any]:
        return self.app.recorder.select_notifications(start=after + 1, limit=self.batch)

    def _record(self, position: int) -> None:
        self.tracking.insert_tracking(Tracking(self.name, position))

    def lag(self) -> int:
        return max(0, (self.app.recorder.max_notification_id() or 0) - self.position())

    async def _in_store(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._store, fn, *args)

    # ---- the broker side -----------------------------------------------------------------

    def producer(self) -> Any:
        from aiokafka import AIOKafkaProducer

        # acks=all and one batch in flight per partition (aiokafka's way): per-key order holds.
        return AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                linger_ms=5, max_batch_size=256 * 1024)

    async def _ensure(self, names: set[str]) -> None:
        new = names - self._created
        if new:
            await topics.ensure_topics_async(self.bootstrap,
                                             {t: topics.EVENT_PARTITIONS for t in new})
            self._created |= new

    async def _track(self, producer: Any, names: set[str]) -> None:
        """Have the producer's client follow these topics' metadata. aiokafka does not track a
        topic it found in its first, full metadata; its next update for another topic then
        drops that one, and a send to it waits for a leader until it times out (seen after a
        restart, when the topics already exist)."""
        tracked = self._tracked.setdefault(id(producer), set())
        for name in sorted(names - tracked):
            await producer.client.add_topic(name)
            tracked.add(name)

    async def publish_batch(self, producer: Any) -> int:
        """Publish the next batch after the recorded position, wait for the broker's
        acknowledgement of every record, then record the position; returns events sent."""
        position = await self._in_store(self.position)
        notes = await self._in_store(self._read, position)
        if not notes:
            return 0
        records = [envelope(n, self.prefix) for n in notes]
        if self.wire != cloud_events.PLAIN:
            records = [cloud_events.encode(r, self.wire) for r in records]
        names = {r[0] for r in records}
        if self.create_topics:
            await self._ensure(names)
        if hasattr(producer, "client"):
            await self._track(producer, names)
        futures = [await producer.send(t, value=v, key=k, headers=h) for t, k, v, h in records]
        await asyncio.gather(*futures)  # raises if any record was not acknowledged
        await self._in_store(self._record, notes[-1].id)
        return len(notes)

    async def run(self, stop: asyncio.Event | None = None, idle: float = 0.1,
                  once: bool = False) -> int:
        """Publish until ``stop`` is set (or, with ``once``, until caught up); returns events
        sent. Broker errors are logged and retried from the recorded position."""
        stop = stop or asyncio.Event()
        sent, backoff = 0, idle
        producer = self.producer()
        await producer.start()
        try:
            while not stop.is_set():
                try:
                    n = await self.publish_batch(producer)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # broker or store trouble: retry from the position
                    log.warning("event feed: batch failed (%s); retrying", e)
                    backoff = min(backoff * 2, 5.0)
                    await _wait(stop, backoff)
                    continue
                backoff = idle
                sent += n
                if n:
                    continue
                if once:
                    break
                await _wait(stop, idle)  # the log is polled while nothing is new
        finally:
            await producer.stop()
        return sent

    def close(self) -> None:
        self._store.shutdown(wait=True)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
