"""The outbound event feed against a real broker: every stored event on the topic of its
aggregate kind, in order per aggregate, with its ids; a relay killed mid-stream (SIGKILL)
and started again loses nothing. Read back with confluent-kafka, a client outside faust."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters import demo
from adapters.event_feed import EventFeed, event_id
from adapters.settings import postgres_env, sqlite_env
from adapters.stream_topics import (
    H_AGGREGATE_ID,
    H_AGGREGATE_VERSION,
    H_EVENT_ID,
    H_EVENT_TOPIC,
    H_NOTIFICATION_ID,
    aggregate_kind,
)
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import Role
from tests.conftest import PG_DSN, Clock
from tests.kafka_broker import CEILING, Record, read_topics, wait_until
from tests.scenario import COMMUNITY, given_community

pytestmark = pytest.mark.kafka
GRIDCORE = str(Path(sys.executable).with_name("gridcore"))


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding the 712 demo community (about 1,200 events of 8 kinds)."""
    path = tmp_path_factory.mktemp("feed") / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path), clock=demo.ScenarioClock())
    demo.build(app)
    app.close()
    return path


def copy_store(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / "gridcore.sqlite"
    dst.write_bytes(src.read_bytes())
    return dst


def read_feed(bootstrap: str, prefix: str, app: Any) -> list[Record]:
    """The feed's records, read until every stored event was seen at least once and the
    reader is at the end of every partition (a duplicate after them is read too)."""
    notes = app.recorder.select_notifications(start=1, limit=10**6)
    kinds = sorted({prefix + aggregate_kind(n.topic) for n in notes})
    wanted = {str(n.id).encode() for n in notes}
    return read_topics(bootstrap, kinds,
                       lambda rs: wanted <= {r.headers.get(H_NOTIFICATION_ID) for r in rs})


def check_feed(app: Any, records: list[Record], prefix: str) -> None:
    """Every stored event is on the feed, each copy with the same ids and content, in order
    per aggregate (a later copy of an event may repeat it: never one out of order)."""
    notes = {n.id: n for n in app.recorder.select_notifications(start=1, limit=10**6)}
    seen: dict[int, bytes] = {}
    versions: dict[bytes, list[int]] = defaultdict(list)
    for r in records:
        h = r.headers
        nid = int(h[H_NOTIFICATION_ID])
        n = notes[nid]
        agg, ver = str(n.originator_id), n.originator_version
        assert r.topic == prefix + aggregate_kind(n.topic)
        assert r.key == agg.encode() == h[H_AGGREGATE_ID]
        assert int(h[H_AGGREGATE_VERSION]) == ver and h[H_EVENT_TOPIC] == n.topic.encode()
        assert h[H_EVENT_ID] == str(event_id(agg, ver)).encode()
        body = orjson.loads(r.value)
        assert body["event_id"] == str(event_id(agg, ver)) and body["notification_id"] == nid
        assert body["state"] == orjson.loads(n.state)
        assert seen.setdefault(nid, r.value) == r.value  # a duplicate is the same record
        versions[r.key].append(ver)
    assert set(seen) == set(notes), f"{len(set(notes) - set(seen))} event(s) missing"
    for agg, vs in versions.items():
        first = list(dict.fromkeys(vs))  # each version where it first appears
        assert first == sorted(first) == list(range(1, len(first) + 1)), agg
        # a resend after a crash starts again from an earlier version, then keeps order
        for a, b in itertools.pairwise(vs):
            assert b == a + 1 or b <= a, (agg, vs)


def test_feed_publishes_every_event_per_aggregate_in_order(kafka_broker: str,
                                                           demo_store: Path,
                                                           tmp_path: Path) -> None:
    app = GridcoreApp(sqlite_env(copy_store(demo_store, tmp_path)))
    prefix = f"t{uuid.uuid4().hex[:8]}.events."
    feed = EventFeed(app, kafka_broker, batch=200, prefix=prefix)
    sent = asyncio.run(feed.run(once=True))
    last = app.recorder.max_notification_id()
    assert sent == last and feed.position() == last and feed.lag() == 0
    records = read_feed(kafka_broker, prefix, app)
    assert len(records) == last  # no crash: exactly once
    check_feed(app, records, prefix)

    # More events later: only they are sent, from the recorded position.
    app.enrol_staff("GW99", "赵六", Role.GRID_WORKER, demo.COMMUNITY, 40, "13900009999",
                    by=System.OPERATOR)
    more = app.recorder.max_notification_id() - last
    assert more > 0
    assert asyncio.run(feed.run(once=True)) == more
    records = read_feed(kafka_broker, prefix, app)
    assert len(records) == last + more
    check_feed(app, records, prefix)
    feed.close()
    app.close()


class FailingProducer:
    """A broker that takes records but never acknowledges them."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        self.sent += 1
        fut = asyncio.get_running_loop().create_future()
        fut.set_exception(RuntimeError("not acknowledged"))
        return fut


def test_position_is_recorded_only_after_the_broker_acknowledged(demo_store: Path,
                                                                  tmp_path: Path) -> None:
    app = GridcoreApp(sqlite_env(copy_store(demo_store, tmp_path)))
    feed = EventFeed(app, "127.0.0.1:9", batch=100, create_topics=False)
    producer = FailingProducer()
    with pytest.raises(RuntimeError, match="not acknowledged"):
        asyncio.run(feed.publish_batch(producer))
    assert producer.sent == 100 and feed.position() == 0
    feed.close()
    app.close()


def start_relay(store: Path, bootstrap: str, prefix: str, *extra: str) -> subprocess.Popen[bytes]:
    """``gridcore stream feed`` over ``store``; its output goes to relay.log next to it (a
    file, not a pipe: nothing waits on a reader)."""
    env = {**os.environ, "KAFKA_BROKER": bootstrap, "GRIDCORE_STORE": "sqlite",
           "GRIDCORE_SQLITE_PATH": str(store)}
    with (store.parent / "relay.log").open("ab") as out:
        return subprocess.Popen([GRIDCORE, "stream", "feed", "--batch", "7", "--prefix", prefix,
                                 *extra], env=env, stdout=out, stderr=subprocess.STDOUT)


def relay_log(store: Path) -> str:
    return (store.parent / "relay.log").read_text(errors="replace")[-3000:]


def test_relay_killed_mid_stream_resumes_without_gaps(kafka_broker: str, demo_store: Path,
                                                      tmp_path: Path) -> None:
    store = copy_store(demo_store, tmp_path)
    app = GridcoreApp(sqlite_env(store))
    last = app.recorder.max_notification_id()
    prefix = f"k{uuid.uuid4().hex[:8]}.events."
    feed = EventFeed(app, kafka_broker, prefix=prefix)
    kills = []
    for _ in range(3):  # kill it three times at growing positions, mid-stream
        before = feed.position()
        relay = start_relay(store, kafka_broker, prefix)
        wait_until(lambda b=before, r=relay: feed.position() > b + 7 or r.poll() is not None,
                   CEILING, "the relay recorded a batch",
                   diagnose=lambda r=relay: (f"position {feed.position()} of {last}, relay "
                                             f"exit {r.poll()}\n{relay_log(store)}"))
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=CEILING)
        kills.append(feed.position())
        if kills[-1] >= last:
            break
    assert any(0 < k < last for k in kills), f"no kill mid-stream: positions {kills}"
    relay = start_relay(store, kafka_broker, prefix, "--once")
    try:
        code = relay.wait(timeout=CEILING)  # a ceiling: --once exits when caught up
    except subprocess.TimeoutExpired:
        relay.kill()
        raise AssertionError(f"the relay did not catch up within the {CEILING} s ceiling: "
                             f"position {feed.position()} of {last}\n{relay_log(store)}"
                             ) from None
    assert code == 0, relay_log(store)
    assert feed.position() == last
    records = read_feed(kafka_broker, prefix, app)
    assert len(records) >= last
    check_feed(app, records, prefix)
    feed.close()
    app.close()


@pytest.mark.postgres
def test_feed_on_postgresql_tracks_its_position_in_the_same_schema(kafka_broker: str,
                                                                   pg_schema: str) -> None:
    app = GridcoreApp(postgres_env(PG_DSN, schema=pg_schema), clock=Clock())
    given_community(app)
    prefix = f"p{uuid.uuid4().hex[:8]}.events."
    feed = EventFeed(app, kafka_broker, batch=10, prefix=prefix)
    last = app.recorder.max_notification_id()
    assert asyncio.run(feed.run(once=True)) == last and feed.position() == last
    app.enrol_staff("GW99", "赵六", Role.GRID_WORKER, COMMUNITY, 40, "13900009999",
                    by=System.OPERATOR)
    assert asyncio.run(feed.run(once=True)) == app.recorder.max_notification_id() - last
    # A second relay over the same store (a restart) starts where the first one stopped.
    again = EventFeed(app, kafka_broker, prefix=prefix)
    assert again.position() == app.recorder.max_notification_id()
    assert asyncio.run(again.run(once=True)) == 0
    records = read_feed(kafka_broker, prefix, app)
    assert len(records) == app.recorder.max_notification_id()
    check_feed(app, records, prefix)
    feed.close()
    again.close()
    app.close()


def test_an_enciphered_state_travels_as_base64_with_the_same_ids() -> None:
    from base64 import b64decode
    from types import SimpleNamespace

    from adapters.event_feed import envelope

    agg = uuid.uuid4()
    note = SimpleNamespace(id=7, originator_id=agg, originator_version=3,
                           topic="gridcore.household:Household.Registered",
                           state=b"\x00\x01sealed")
    topic, key, value, headers = envelope(note)
    body = orjson.loads(value)
    assert topic == "gridcore.events.household" and key == str(agg).encode()
    assert b64decode(body["state_base64"]) == b"\x00\x01sealed" and "state" not in body
    assert dict(headers)[H_EVENT_ID] == str(event_id(agg, 3)).encode() == \
        body["event_id"].encode()
    assert event_id(agg, 3) == event_id(str(agg), 3) != event_id(agg, 4)
