"""Two ``gridcore stream worker`` processes in one consumer group over four partitions, on a
Tansu broker of their own; one is killed (SIGKILL) while passes stream in and started again.

Passes and travel records are keyed by plate with Kafka's murmur2 partitioner (as a producer
is told to: ``adapters.stream_topics.record_key``), so a plate's travel and passes share a
partition. At the end every pass's alert is exactly what the pure vehicle rule
(``gridcore.risk.vehicle_alert_reason``) says for the same inputs, each raised once; every
pass is counted at least once per checkpoint and hour, and no more passes are counted twice
than the killed worker's last uncommitted batch (``--batch``): the documented at-least-once.

Every wait is on something observable: the workers' readiness files (the partitions each
consumer group holds), the tables' changelog topics, the offsets the passes group committed,
the store. ``CEILING`` only ends a wait that would never end, with what was seen last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
import pytest

from adapters import stream_topics as topics
from adapters.alert_inputs import RiskAreaDeclared, TravelRecord, VehiclePass, parse
from adapters.kek import kek_file
from adapters.settings import sqlite_env
from adapters.stream_app import APP_ID, RISK_TABLE, TRAVEL_TABLE, all_topics
from adapters.stream_broker import LocalBroker, start_local_broker
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.risk import RiskPeriod, normalize_plate, vehicle_alert_reason
from tests.conftest import Clock
from tests.kafka_broker import CEILING, committed, need_kafka, produce, read_topic, wait_until
from tests.scenario import COMMUNITY, ZONES, given_community

pytestmark = pytest.mark.kafka
GRIDCORE = str(Path(sys.executable).with_name("gridcore"))
PARTITIONS, BATCH = 4, 200
PASSES_GROUP = f"{APP_ID}-vehicles"
CHECKPOINTS = ["KK-1", "KK-2", "KK-3"]


T = TypeVar("T")


def records(kind: str, values: list[bytes], cls: type[T]) -> list[T]:
    """The inputs as the worker parses them."""
    out = [parse(kind, v) for v in values]  # type: ignore[arg-type]
    assert all(isinstance(r, cls) for r in out)
    return cast(list[T], out)


def js(**fields: Any) -> bytes:
    return orjson.dumps(fields)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def produce_keyed(bootstrap: str, kind: str, values: list[bytes]) -> dict[int, int]:
    """As a producer of that input is told to: keyed by ``record_key``, murmur2-partitioned."""
    return produce(bootstrap, topics.INBOUND[kind], values,
                   key=lambda v: topics.record_key(kind, v), partitioner="murmur2_random")


@dataclass
class Member:
    """One worker process of the group, in a directory of its own."""

    name: str
    home: Path
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)

    @property
    def ready_file(self) -> Path:
        return self.home / "ready.json"

    @property
    def log(self) -> Path:
        return self.home / "worker.log"

    def holding(self) -> dict[str, list[str]]:
        """What this process's readiness file says its groups hold (nothing yet: {})."""
        if self.process is None or self.process.poll() is not None:
            return {}
        try:
            said = orjson.loads(self.ready_file.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return said["groups"] if said.get("pid") == self.process.pid else {}

    def partitions(self, group: str, topic: str) -> set[int]:
        return {int(tp.rsplit("/", 1)[1]) for tp in self.holding().get(group, [])
                if tp.rsplit("/", 1)[0] == topic}


@dataclass
class Group:
    bootstrap: str
    store: Path
    app: GridcoreApp
    members: list[Member]

    def start(self, m: Member) -> None:
        env = {**os.environ, "KAFKA_BROKER": self.bootstrap, "GRIDCORE_STORE": "sqlite",
               "GRIDCORE_SQLITE_PATH": str(self.store),
               "GRIDCORE_KEK_FILE": str(kek_file(self.app.env).resolve()),
               "GRIDCORE_STREAM_PARTITIONS": str(PARTITIONS)}
        with m.log.open("ab") as out:
            m.process = subprocess.Popen(
                [GRIDCORE, "stream", "worker", "--batch", str(BATCH), "--passes", "batch",
                 "--no-feed", "--loglevel", "info", "--ready-file", str(m.ready_file)],
                env=env, cwd=m.home, stdout=out, stderr=subprocess.STDOUT)
        m.pids.append(m.process.pid)

    def shares(self, running: list[Member]) -> dict[str, set[int]] | None:
        """The passes partitions each running member reads, once they hold all of them
        between them, each the passes partitions of its own travel partitions."""
        for m in running:
            assert m.process is not None and m.process.poll() is None, (
                f"worker {m.name} exited: {m.log.read_text(errors='replace')[-3000:]}")
        held = {m.name: m.partitions(PASSES_GROUP, topics.VEHICLE_PASSES) for m in running}
        travel = {m.name: m.partitions(APP_ID, topics.TRAVEL_RECORDS) for m in running}
        every = set(range(PARTITIONS))
        if held != travel or set().union(*held.values()) != every or any(
                not h for h in held.values()) or sum(map(len, held.values())) != PARTITIONS:
            return None
        return held

    def wait_shared(self, running: list[Member]) -> dict[str, set[int]]:
        result: dict[str, set[int]] = wait_until(
            lambda: self.shares(running), CEILING,
            f"workers {[m.name for m in running]} share the {PARTITIONS} partitions",
            diagnose=self.diagnosis)
        return result

    def notes(self, topic: str) -> list[dict[str, Any]]:
        return [orjson.loads(n.state) for n in self.app.recorder.select_notifications(
            start=1, limit=10**7, topics=[topic])]

    def tallies(self) -> Counter[tuple[str, datetime]]:
        out: Counter[tuple[str, datetime]] = Counter()
        for s in self.notes("gridcore.vehicle:PassTally.Counted"):
            for c in s["counts"]:
                out[(c["checkpoint_id"], utc(c["hour"]))] += c["passes"]
        return out

    def diagnosis(self) -> str:
        lines = []
        for m in self.members:
            code = m.process.poll() if m.process else None
            lines.append(f"worker {m.name} pids {m.pids} exit {code}: holds {m.holding()}")
        try:
            offsets = committed(self.bootstrap, PASSES_GROUP, topics.VEHICLE_PASSES,
                                PARTITIONS, timeout=30)
        except Exception as e:  # the broker itself may be the trouble
            offsets = {"error": f"{type(e).__name__}: {e}"}  # type: ignore[dict-item]
        lines.append(f"committed offsets of {PASSES_GROUP}: {offsets}")
        lines.append(f"store: passes counted {sum(self.tallies().values())}, alerts "
                     f"{len(self.notes('gridcore.alerts:Alert.Raised'))}")
        for m in self.members:
            lines.append(f"log of {m.name} (tail):\n"
                         + m.log.read_text(errors="replace")[-3000:])
        return "\n".join(lines)


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Group]:
    """A community with three checkpoints, on a broker of its own (topics of four
    partitions), and two worker homes (not started)."""
    need_kafka()
    home = tmp_path_factory.mktemp("scale-out")
    broker: LocalBroker = start_local_broker(home, startup=CEILING)
    store = home / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(store), clock=Clock())
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    for code in CHECKPOINTS:
        app.register_checkpoint(code, COMMUNITY, f"卡口{code}", by=System.OPERATOR)
    topics.ensure_topics(broker.bootstrap, all_topics(partitions=PARTITIONS))
    members = []
    for name in ("a", "b"):
        (home / name).mkdir()
        members.append(Member(name, home / name))
    g = Group(broker.bootstrap, store, app, members)
    try:
        yield g
    finally:
        for m in members:
            if m.process is not None and m.process.poll() is None:
                m.process.kill()
                m.process.wait(timeout=CEILING)
        app.close()
        broker.stop()


RISK = [js(declaration_id="R-1", area="武汉市", level="high", start="2020-01-23T00:00:00+08:00"),
        js(declaration_id="R-2", area="鄂B", level="high", start="2020-02-01T00:00:00+08:00"),
        js(declaration_id="R-3", area="孝感市", level="medium",
           start="2020-01-23T00:00:00+08:00")]


def plate(i: int) -> str:
    return f"鄂B{i:05d}" if i % 97 == 0 else f"湘A{i:05d}"


def travel_records(plates: int) -> list[bytes]:
    """Travel in a high-risk area within the lookback (alerts), before it was high-risk or in
    a medium-risk area (no alert), for some of the plates."""
    out = []
    for i in range(plates):
        if i % 53 == 0:
            out.append(js(record_id=f"T-{i}", plate=plate(i), place="武汉市",
                          at="2020-02-12T12:00:00+08:00"))
        if i % 11 == 0:
            out.append(js(record_id=f"T-{i}-old", plate=plate(i), place="武汉市",
                          at="2019-12-01T12:00:00+08:00"))
        if i % 13 == 0:
            out.append(js(record_id=f"T-{i}-mid", plate=plate(i), place="孝感市",
                          at="2020-02-14T12:00:00+08:00"))
    return out


def expected_alerts(app: GridcoreApp, passes: list[bytes], travel: list[bytes]
                    ) -> dict[str, str]:
    """Pass id -> reason, by the pure rule over all the inputs."""
    risk: dict[str, list[RiskPeriod]] = {}
    for r in records("risk", RISK, RiskAreaDeclared):
        risk.setdefault(r.area, []).append(RiskPeriod(
            declaration_id=r.declaration_id, level=r.level, start=r.start, until=r.until))
    visits: dict[str, list[tuple[str, datetime]]] = {}
    for t in records("travel", travel, TravelRecord):
        visits.setdefault(normalize_plate(t.plate), []).append((t.place, t.at))
    out = {}
    for p in records("vehicle", passes, VehiclePass):
        number = normalize_plate(p.plate)
        reason = vehicle_alert_reason(number, p.at, visits.get(number, []), risk,
                                      app.policy_at(p.at))
        if reason:
            out[p.pass_id] = reason
    return out


def test_two_workers_share_four_partitions_and_a_killed_one_loses_and_doubles_no_alert(
        group: Group) -> None:
    a, b = group.members
    bs = group.bootstrap
    plates, n = 1000, 20_000
    travel = travel_records(plates)

    # One worker takes in the risk areas and travel; the tables' changelogs then hold them,
    # which is what a worker taking a partition over recovers.
    group.start(a)
    group.wait_shared([a])
    produce_keyed(bs, "risk", RISK)
    produce_keyed(bs, "travel", travel)
    areas = {r.area for r in records("risk", RISK, RiskAreaDeclared)}
    travel_plates = {normalize_plate(t.plate) for t in records("travel", travel, TravelRecord)}

    def keys(rs: list[Any]) -> set[str]:
        return {orjson.loads(r.key) for r in rs}

    read_topic(bs, f"{APP_ID}-{RISK_TABLE}-changelog", lambda rs: keys(rs) >= areas)
    changelog = read_topic(bs, f"{APP_ID}-{TRAVEL_TABLE}-changelog",
                           lambda rs: keys(rs) >= travel_plates)
    # Each plate's travel is in the changelog partition of its records (what a worker taking
    # that partition over recovers).
    assert {(orjson.loads(r.key or b"null"), r.partition) for r in changelog} == {
        (p, topics.partition_for(p.encode(), PARTITIONS)) for p in travel_plates}

    # A second worker joins: the group shares the four partitions between them.
    group.start(b)
    before = group.wait_shared([a, b])
    assert all(len(held) == 2 for held in before.values()), before

    hours = [utc(f"2020-02-18T{h:02d}:00:00+00:00") for h in range(3)]
    passes = [js(pass_id=f"S-{i}", checkpoint_id=CHECKPOINTS[i % 3], plate=plate(i * 7 % plates),
                 at=(hours[i * 3 // n] + timedelta(minutes=i % 60, seconds=i % 7)).isoformat())
              for i in range(n)]
    want_counts = Counter((p.checkpoint_id, hours[i * 3 // n])
                          for i, p in enumerate(records("vehicle", passes, VehiclePass)))
    want_alerts = expected_alerts(group.app, passes, travel)
    assert 200 < len(want_alerts) < n // 10, len(want_alerts)
    ends = produce_keyed(bs, "vehicle", passes)
    assert set(ends) == set(range(PARTITIONS)), ends

    # Worker a dies (SIGKILL) once it has counted passes of its partitions, before the end.
    mine = {f"{topics.VEHICLE_PASSES}/{p}/" for p in before["a"]}

    def a_counting() -> bool:
        return any(s["source_key"].startswith(tuple(mine))
                   for s in group.notes("gridcore.vehicle:PassTally.Counted"))

    wait_until(a_counting, CEILING, "worker a counted passes of its partitions",
               interval=0.02, diagnose=group.diagnosis)
    assert a.process is not None
    a.process.kill()
    a.process.wait(timeout=CEILING)
    at_kill = committed(bs, PASSES_GROUP, topics.VEHICLE_PASSES, PARTITIONS)
    assert any(at_kill.get(p, 0) < ends[p] for p in before["a"]), (
        f"worker a was not killed mid-stream: committed {at_kill}, ends {ends}")
    # b takes every partition over (once the group gave a up), then a starts again and joins.
    assert group.wait_shared([b]) == {"b": set(range(PARTITIONS))}
    group.start(a)
    after = group.wait_shared([a, b])
    assert all(len(held) == 2 for held in after.values()), after

    def done() -> bool:
        offsets = committed(bs, PASSES_GROUP, topics.VEHICLE_PASSES, PARTITIONS)
        return (all(offsets.get(p, 0) >= end for p, end in ends.items())
                and all(group.tallies()[k] >= v for k, v in want_counts.items()))

    wait_until(done, CEILING, f"the passes group committed {ends} (each partition's end) and "
                              f"all {n} passes are counted", interval=0.2,
               diagnose=group.diagnosis)

    # Alerts: exactly the rule's, each once.
    raised = group.notes("gridcore.alerts:Alert.Raised")
    assert Counter(s["input_id"] for s in raised if s["kind"] == "vehicle") == Counter(
        dict.fromkeys(want_alerts, 1))
    assert {s["input_id"]: s["reason"] for s in raised} == want_alerts
    # Counts: at least once, and only the killed worker's last batch may be counted twice.
    counts = group.tallies()
    assert set(counts) == set(want_counts)
    assert all(counts[k] >= v for k, v in want_counts.items()), (counts, want_counts)
    doubled = sum(counts.values()) - n
    assert 0 <= doubled <= BATCH, f"{doubled} passes counted twice"
    print(f"killed at committed offsets {at_kill} of {ends}; {doubled} passes counted twice")
    # Every record was on its plate's partition: nothing went to the dead-letter topic. A
    # pass put on another partition than its plate's (keyed by something else) goes there,
    # saying where it belongs: judged where it landed, it would miss the plate's travel.
    assert read_topic(bs, topics.DEAD_LETTER, lambda rs: True) == []
    stray = js(pass_id="S-stray", checkpoint_id="KK-1", plate=plate(0),
               at="2020-02-18T05:00:00+00:00")
    home = topics.partition_for(topics.record_key("vehicle", stray) or b"", PARTITIONS)
    key = next(k for k in (f"k{i}".encode() for i in range(100))
               if topics.partition_for(k, PARTITIONS) != home)
    produce(bs, topics.VEHICLE_PASSES, [stray], key=lambda v: key, partitioner="murmur2_random")
    letters = read_topic(bs, topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
    assert [r.value for r in letters] == [stray]
    reason = letters[0].headers[topics.H_REASON].decode()
    assert f"MisplacedRecord: plate '{plate(0)}' belongs on partition {home} of 4" in reason
    assert "S-stray" not in {s["input_id"] for s in group.notes("gridcore.alerts:Alert.Raised")}

    for m in (a, b):
        assert m.process is not None
        m.process.send_signal(signal.SIGTERM)
        assert m.process.wait(timeout=CEILING) == 0, m.log.read_text(errors="replace")[-3000:]
