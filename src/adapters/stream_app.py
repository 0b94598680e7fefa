"""The faust app of ``gridcore stream worker``: sensor topics in, alerts into the event store.

Agents are thin: decode a batch (``adapters.alert_inputs.parse``), decide with the pure rules
of ``gridcore`` and the tables' state, and record through the application in a thread of its
own, so the event loop never waits on the store. Tables hold what the rules need:

- ``risk-areas``: area -> its declared periods (from the risk-area topic);
- ``plate-travel``: plate -> its recent travel records (place, time, record id);
- ``checkpoint-passes``: passes per checkpoint per hour, a tumbling one-hour window keyed by the
  pass's own time; the same counts go to the store per batch with its alerts
  (``record_vehicle_passes``).

Anything that cannot be decoded or is refused by the application goes to the dead-letter
topic with its original bytes and the reason in a header; the agent goes on. That includes a
time outside the policy's window (``gridcore.clock``: before the epidemic's start year, or
ahead of the server's clock): the application refuses detections, travel records and risk
areas with such times, and the passes, judged here with the tables, are checked against the
same window first, so no pass time reaches the hourly counts that cannot be held.
Every table is updated once per batch, never per record (``take_events`` batching).

Limits, measured (``simulations/benchmarks/streams.py``): faust hands records to a stream one
at a time (two tasks per record in its consumer loop), which costs more than the agent's own
work per pass, so the agent handles a few thousand passes a second whatever the batch size.
So by default (``passes_reader="batch"``, ``gridcore stream worker --passes batch``) the
worker reads the passes topic with a batch consumer of its own group instead, with the same
handling, tables and dead letters: several times faster. ``--passes agent`` reads it with a
faust agent like the other topics. Per pass both paths keep to plain data: the pass decoded
by msgspec to a tuple (``pass_codec``, refusals and their reasons those of the pydantic
model), the travel table read from its own in-memory dict, the policy's window and the risk
periods computed once per batch; the batch reader also overlaps one batch's store write with
the next batch's fetch and decoding, and pauses the cyclic garbage collector per batch.
Kafka orders nothing across topics: a worker starting on backlogs of both passes and risk or
travel records may judge a pass before the risk or travel record produced before it.

Restarts: faust 0.15 resumes fetching the agents' partitions before it seeks them to their
committed offsets; the seek then resets its read position while a fetched batch is still being
handed over, takes the jump for a gap, marks it acknowledged and commits past records no agent
handled (seen: 57 passes lost after a SIGKILL and restart under load). The worker's consumer
stops the flow before that seek (``_SeekSafeConsumer``): the rest of the stale batch is dropped
and read again from the committed offset, so a restart may handle records twice (alerts are
idempotent, counts at least once), never skip one. A partition the group never committed is
sent to its earliest offset: aiokafka's seek to the committed offsets leaves it where the
dropped batch ended (``seek_uncommitted_to_earliest``).

Scale-out (``partitions`` > 1, ``GRIDCORE_STREAM_PARTITIONS``): passes and travel records
are keyed by the normalized plate and camera detections by camera (``stream_topics.
record_key``, Kafka's murmur2 partitioner), over the same partition count; risk areas stay on
one partition. Workers with the same app id form one faust consumer group; faust's assignor
gives one worker the same partition number of every topic of a count (co-partitioning), so a
plate's travel table and its passes meet on one worker. The travel table's changelog
partition is its plate's partition, so the worker that takes a partition over recovers exactly
those plates; the risk table is a GlobalTable that every worker recovers and follows whole;
the hourly pass table is keyed by checkpoint and source partition (one writer per key). A pass
or travel record on another partition than its plate's is dead-lettered (judged there it
would miss the plate's travel). The batch passes reader follows faust's assignment: it reads
the passes partitions whose travel partitions faust gave the worker, and on a revocation
finishes and commits its batch before letting them go.

Exactly once and at least once across a crash or rebalance: alerts are exactly once (their
ids come from the pass, detection or record ids, so a redelivered record adds nothing). Pass
counts are at least once: a batch is counted in the store under its source (topic, partition,
offset range) and its offsets are committed to Kafka after; a worker that dies in between
leaves that batch to be read again by the next owner, whose batch may start and end elsewhere,
so it is counted again (the same range is not: its source is already counted). With the batch
reader at most one read (``batch`` passes) per dead worker is counted twice; with the agent,
the passes handled since faust's last commit (``broker_commit_interval``, 1 s). A clean
revocation commits first and doubles nothing. Exact counts would need each partition's read
position stored in the same transaction as its counts, the next owner seeking to it and
fenced against a worker that is not quite dead: a per-partition cursor aggregate written with
every tally, a second stored event per batch on the path the benchmark measures, for a figure
(passes per checkpoint per hour) that a few hundred extra passes after a crash do not change
in use.

Readiness: with ``ready_file`` (``gridcore stream worker --ready-file``) the worker writes a
small JSON file, replaced whenever a consumer group of the worker is assigned partitions or
loses them: ``{"pid": ..., "groups": {"gridcore-streams": ["gridcore.in.risk-areas/0", ...],
"gridcore-streams-vehicles": [...]}}``; the faust group appears once its tables are recovered
and its partitions sought. Tests and probes wait on it instead of guessing a start-up time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer as FaustKafkaConsumer

from adapters import stream_topics as topics
from gridcore.app_base import collection_paused
from gridcore.authority import System

APP_ID = "gridcore-streams"
RISK_TABLE, TRAVEL_TABLE, PASSES_TABLE = "risk-areas", "plate-travel", "checkpoint-passes"
REASON_MAX = 1000
log = logging.getLogger(__name__)


@dataclass
class StreamSettings:
    broker: str                      # host:port[,host:port]
    app_id: str = APP_ID
    batch: int = 1000                # records per agent batch
    within: float = 0.1              # seconds a batch waits to fill
    feed: bool = True                # run the outbound event-feed relay in the worker
    # "agent": a faust agent reads the passes; "batch": a batch consumer inside the worker
    # reads them (faust's one-record-at-a-time hand-over left out), same handling and tables.
    passes_reader: str = "batch"    # or "agent"; see the module's notes
    data_dir: str = "./var/faust"
    ready_file: str | None = None    # where the worker says which partitions it holds
    # partitions of the keyed inbound topics (GRIDCORE_STREAM_PARTITIONS); every worker of the
    # group must use the same count
    partitions: int = topics.INBOUND_PARTITIONS
    # A benchmark switch, never for production (``GRIDCORE_BENCH_NO_STORE_WRITES=FILE``, read
    # by ``gridcore stream worker``): the passes' store writes (alerts, hourly counts) are left
    # out, nothing is recorded, and each batch's end (epoch seconds), passes and alerts are
    # appended to FILE instead: the floor of ``simulations/benchmarks/streams.py``.
    bench_no_store_writes: str | None = None


def faust_topics(app_id: str = APP_ID,
                 partitions: int = topics.INBOUND_PARTITIONS) -> dict[str, int]:
    """Every topic faust would otherwise declare itself: the tables' changelogs and the
    assignor's, at their sources' partition counts (a mismatch makes a table hang)."""
    names = [f"{app_id}-{t}-changelog" for t in (TRAVEL_TABLE, PASSES_TABLE)]
    names.append(f"{app_id}-__assignor-__leader")
    return {f"{app_id}-{RISK_TABLE}-changelog": topics.RISK_PARTITIONS,
            **dict.fromkeys(names, partitions)}


def all_topics(app_id: str = APP_ID,
               partitions: int = topics.INBOUND_PARTITIONS) -> dict[str, int]:
    return {**topics.inbound_topics(partitions), **faust_topics(app_id, partitions)}


def reason_of(e: BaseException) -> str:
    """What was wrong, for the dead-letter header (a gridcore error has problem and remedy)."""
    text = getattr(e, "reason", None) or str(e) or type(e).__name__
    return f"{type(e).__name__}: {text}"[:REASON_MAX]


def misplaced(plate: str, want: int, partitions: int, partition: int) -> str:
    return (f"MisplacedRecord: plate {plate!r} belongs on partition {want} of {partitions}, "
            f"not {partition}; key records by the normalized plate with Kafka's murmur2 "
            "partitioner")


@dataclass
class _Judged:
    """One partition's batch of passes, judged, for the store (``Streams.write_passes``)."""

    partition: int
    bad: list[tuple[Any, str]]                      # (record, reason) for the dead letters
    alerts: list[tuple[Any, Any, str]] = field(default_factory=list)     # (record, pass, why)
    counted: list[tuple[Any, Any, datetime]] = field(default_factory=list)  # (rec, pass, hour)
    counts: Counter[tuple[str, datetime]] = field(default_factory=Counter)
    source: str = ""                                # topic/partition/first-last offset


class _KeyedTable(faust.Table):  # type: ignore[misc]
    """A table whose changelog partition is computed from the key (``partition_of``), not
    taken from the event being handled: the worker updates tables once per batch, after
    awaits, and the partition must be the one its source records are on, so that the worker
    assigned that partition after a rebalance recovers exactly these keys."""

    partition_of: Callable[[Any], int]

    def partition_for_key(self, key: Any) -> int:
        return self.partition_of(key)


class _WindowClock:
    """The time the passes table windows by: set to each count's hour before updating."""

    ts: float = 0.0

    def __call__(self, event: Any) -> float:
        return self.ts


class ReadyFile:
    """The worker's readiness marker: per consumer group, the partitions it holds now.
    Written whole to a temporary file and renamed, so a reader never sees half of it."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.groups: dict[str, list[str]] = {}

    def set(self, group: str, partitions: Iterable[Any]) -> None:
        if self.path is None:
            return
        self.groups[group] = sorted(f"{tp.topic}/{tp.partition}" for tp in partitions)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"pid": os.getpid(), "groups": self.groups}))
        os.replace(tmp, self.path)

    def remove(self) -> None:
        """At exit: the file goes if it is still this process's."""
        if self.path is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_text()).get("pid") == os.getpid():
                self.path.unlink()


async def fetched_ends(bootstrap: str, listed: Mapping[Any, int | None],
                       ceiling: float = 30.0) -> dict[Any, int | None]:
    """Each partition's end as a fetch from its listed end reports it, when that is further.
    Tansu's ListOffsets answers the last record batch's base offset + 1, not the end: table
    recovery read up to there and stopped inside the last batch (a worker taking a partition
    over missed plates' travel: 20 of 580 alerts in one of two runs of the scale-out test),
    and faust's consistency check, finding a table ahead of that end after a rebalance,
    stopped the worker. On Apache Kafka and Redpanda both agree. Asked at each recovery only, with a
    consumer outside any group."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    ask = {tp: end for tp, end in listed.items() if end}
    if not ask:
        return dict(listed)
    by_tp = {TopicPartition(tp.topic, tp.partition): tp for tp in ask}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                enable_auto_commit=False, max_poll_records=1)
    await consumer.start()
    out = dict(listed)
    try:
        consumer.assign(list(by_tp))
        for ktp, tp in by_tp.items():
            consumer.seek(ktp, ask[tp] - 1)
        left = set(by_tp)
        deadline = asyncio.get_running_loop().time() + ceiling
        while left and asyncio.get_running_loop().time() < deadline:
            got = await consumer.getmany(*left, timeout_ms=500)
            for ktp in list(left):
                fetched = consumer.highwater(ktp)  # known once a fetch answered, records or not
                if ktp in got or fetched is not None:
                    left.discard(ktp)
                    out[by_tp[ktp]] = max(ask[by_tp[ktp]], fetched or 0)
        if left:
            log.warning("no fetch answered for %s; recovering up to the listed ends", left)
    finally:
        await consumer.stop()
    return out


class _SeekSafeConsumer(FaustKafkaConsumer):
    """faust's consumer, stopping the flow before it seeks the agents' partitions to their
    committed offsets (see the module's notes: otherwise records fetched before the seek are
    skipped and acknowledged as a gap). ``resume_flow`` follows the seek in faust either way.
    Once sought, the assignment goes to the readiness file."""

    ready: ReadyFile | None = None
    bootstrap: str = ""

    async def highwaters(self, *partitions: Any) -> Any:
        """The changelogs' ends the table recovery reads up to, as a fetch reports them (see
        ``fetched_ends``)."""
        listed = await super().highwaters(*partitions)
        return await fetched_ends(self.bootstrap, listed) if self.bootstrap else listed

    async def perform_seek(self) -> None:
        self.stop_flow()
        await super().perform_seek()
        await self.seek_uncommitted_to_earliest()
        if self.ready is not None:
            self.ready.set(self.app.conf.id, self.assignment())

    async def seek_uncommitted_to_earliest(self) -> None:
        """aiokafka's ``seek_to_committed`` moves only partitions with a committed offset
        above 0: an inbound partition this group never committed stayed where its fetch
        stood, past the stale batch just dropped, which no agent then handled until the
        next restart (seen: a worker started on a backlog of passes left its first 5,000
        unread in half the runs). Such partitions go to their earliest offset, where
        ``auto_offset_reset="earliest"`` starts a new group."""
        inbound = set(topics.INBOUND.values())
        fresh = [tp for tp in self.assignment()
                 if tp.topic in inbound and not self._committed_offset.get(tp)]
        if not fresh:
            return
        earliest = await self.earliest_offsets(*fresh)
        for tp in fresh:
            await self.seek(tp, earliest.get(tp) or 0)


class Streams:
    """The faust app, its topics, tables and agents, over one gridcore application."""

    def __init__(self, gapp: Any, settings: StreamSettings) -> None:
        self.gapp, self.settings = gapp, settings
        self.store = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-store")
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        self.app = app = faust.App(
            settings.app_id,
            broker=",".join(f"kafka://{b}" for b in settings.broker.split(",")),
            store="memory://",
            datadir=settings.data_dir,
            value_serializer="raw",
            key_serializer="raw",
            topic_partitions=settings.partitions,
            topic_replication_factor=1,
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=6.0,
            broker_heartbeat_interval=1.0,
            broker_rebalance_timeout=5.0,
            broker_commit_every=10_000,
            broker_commit_interval=1.0,
            broker_max_poll_records=5000,
            consumer_max_fetch_size=16 * 1024 * 1024,
            stream_buffer_maxsize=32_768,
            table_cleanup_interval=60.0,
            web_enabled=False,
            producer_acks=-1,
        )
        self.ready = ReadyFile(settings.ready_file)
        # faust builds its consumer from the transport's class: this app's gets its own
        # subclass, which knows this worker's readiness file.
        app.transport.Consumer = type("Consumer", (_SeekSafeConsumer,), {
            "ready": self.ready, "bootstrap": settings.broker})
        # The passes reader (``passes_reader="batch"``) reads the passes partitions that match
        # the travel partitions faust gave this worker; set on every assignment.
        self.passes_wanted: frozenset[int] = frozenset()
        self.passes_changed = asyncio.Event()
        self.passes_lock = asyncio.Lock()
        self.passes_consumer: Any = None
        # the passes reader's batch in flight: its finishing and the offsets to commit after
        self.passes_pending: tuple[Awaitable[Any], dict[Any, int]] | None = None
        self.passes_commit: asyncio.Future[Any] | None = None  # its commit, once sent
        # parsed travel per plate, next to the table's value it was parsed from
        self.visits_parsed: dict[str, tuple[Any, list[tuple[str, datetime]]]] = {}
        self.plate_partitions: dict[str, int] = {}

        @app.on_partitions_revoked.connect
        async def revoked(sender: Any, revoked: set[Any], **kwargs: Any) -> None:
            self.ready.set(settings.app_id, [])
            await self.release_passes()

        # Sent once the tables are recovered, before the streams resume. (Not on faust's seek:
        # faust also seeks from its fetch loop as soon as partitions are assigned, before the
        # recovery; a passes reader started then judged a taken-over partition's passes
        # without their plates' travel: 76 to 255 of 580 alerts missing in the scale-out test.)
        @app.on_rebalance_complete.connect
        async def recovered(sender: Any, **kwargs: Any) -> None:
            self.follow_assignment(app.consumer.assignment())

        self.window_clock = _WindowClock()
        # JSON keys and values. Risk areas: a global table, whole on every worker (one
        # partition, as faust's GlobalTable needs; the partitioner places its writes). Travel:
        # keyed by plate, each key in the changelog partition of its plate's records. Passes:
        # keyed by (checkpoint, source partition), so each partition's counts have one writer.
        n = settings.partitions
        self.risk = app.GlobalTable(RISK_TABLE, default=list, partitions=topics.RISK_PARTITIONS,
                                    use_partitioner=True, recovery_buffer_size=1)
        self.travel = self._keyed_table(
            TRAVEL_TABLE, list, lambda plate: topics.partition_for(plate.encode(), n))
        self.passes = (self._keyed_table(PASSES_TABLE, int, lambda key: int(key[0][1]))
                       .tumbling(timedelta(hours=1), expires=timedelta(days=2))
                       .relative_to(self.window_clock))
        raw = dict(value_type=bytes, key_type=bytes, value_serializer="raw",
                   key_serializer="raw")
        self.inbound = {kind: app.topic(name, partitions=topics.RISK_PARTITIONS
                                        if kind == "risk" else n, **raw)
                        for kind, name in topics.INBOUND.items()}
        self.dead_letter = app.topic(topics.DEAD_LETTER,
                                     partitions=topics.DEAD_LETTER_PARTITIONS, **raw)
        self._agents()
        if settings.feed:
            self._relay()

    def _keyed_table(self, name: str, default: Any, partition_of: Callable[[Any], int]) -> Any:
        table = _KeyedTable(self.app, name=name, beacon=self.app.tables.beacon, default=default,
                            partitions=self.settings.partitions)
        table.partition_of = partition_of
        return self.app.tables.add(table)

    # ---- helpers ---------------------------------------------------------------------------

    async def in_store(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking application call in the store's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.store, fn, *args)

    async def to_dead_letter(self, message: Any, reason: str) -> None:
        """``message``: a faust event's message or an aiokafka record (both have topic,
        partition, offset, key and the original bytes as value)."""
        headers = {
            topics.H_REASON: reason.encode(),
            topics.H_SOURCE_TOPIC: str(message.topic).encode(),
            topics.H_SOURCE_PARTITION: str(message.partition).encode(),
            topics.H_SOURCE_OFFSET: str(message.offset).encode(),
        }
        await self.dead_letter.send(key=message.key, value=message.value, headers=headers)
        log.warning("dead letter from %s@%s: %s", message.topic, message.offset, reason[:200])

    def parse_all(self, kind: str, events: Sequence[Any]) -> tuple[list[tuple[Any, Any]],
                                                                   list[tuple[Any, str]]]:
        """Each faust event's message with its decoded record, or with the reason it is bad."""
        from adapters.alert_inputs import parse

        good, bad = [], []
        for ev in events:
            m = ev.message
            try:
                good.append((m, parse(kind, m.value)))  # type: ignore[arg-type]
            except Exception as e:  # malformed: the dead-letter topic says why
                bad.append((m, reason_of(e)))
        return good, bad

    def apply_all(self, records: Sequence[tuple[Any, Any]]) -> list[tuple[Any, str]]:
        """In the store thread: record each input through the application; the refused ones
        with their reasons."""
        from adapters.alert_inputs import apply

        refused = []
        for ev, rec in records:
            try:
                apply(self.gapp, rec, System.FEED)
            except Exception as e:  # a gridcore error (unknown camera...) or a store error
                refused.append((ev, reason_of(e)))
        return refused

    async def in_window(self, good: Sequence[tuple[Any, Any]], what: str,
                        bad: list[tuple[Any, str]]) -> list[tuple[Any, Any]]:
        """The records whose ``at`` lies in the policy's window at the application's clock
        (``gridcore.clock``); the others go to ``bad`` with the reason."""
        from gridcore.clock import check_instant

        now = self.gapp.clock()
        policy = await self.in_store(self.gapp.policy_at, now)
        kept = []
        for ev, rec in good:
            try:
                check_instant(rec.at, now, policy, what)
            except Exception as e:  # InvalidInput: what was wrong and the window accepted
                bad.append((ev, reason_of(e)))
            else:
                kept.append((ev, rec))
        return kept

    async def _dead_letters(self, bad: Iterable[tuple[Any, str]]) -> None:
        for ev, reason in bad:
            await self.to_dead_letter(ev, reason)

    # ---- agents ----------------------------------------------------------------------------

    def _agents(self) -> None:
        s = self.settings
        app = self.app

        @app.agent(self.inbound["camera"], name="cameras")
        async def cameras(stream: Any) -> None:
            async for events in stream.take_events(s.batch, within=s.within):
                good, bad = self.parse_all("camera", events)
                bad += await self.in_store(self.apply_all, good)
                await self._dead_letters(bad)

        @app.agent(self.inbound["risk"], name="risk-areas")
        async def risk_areas(stream: Any) -> None:
            async for events in stream.take_events(s.batch, within=s.within):
                good, bad = self.parse_all("risk", events)
                refused = await self.in_store(self.apply_all, good)
                skip = {id(ev) for ev, _ in refused}
                self.update_risk([rec for ev, rec in good if id(ev) not in skip])
                await self._dead_letters(bad + refused)

        @app.agent(self.inbound["travel"], name="travel")
        async def travel(stream: Any) -> None:
            async for events in stream.take_events(s.batch, within=s.within):
                good, bad = self.parse_all("travel", events)
                good = self.placed(good, bad)
                refused = await self.in_store(self.apply_all, good)
                skip = {id(ev) for ev, _ in refused}
                kept = [rec for ev, rec in good if id(ev) not in skip]
                if kept:
                    policy = await self.in_store(self.gapp.policy_at, max(r.at for r in kept))
                    self.update_travel(kept, policy.travel_lookback_days)
                await self._dead_letters(bad + refused)

        if s.passes_reader == "batch":
            app.task(self.read_passes_in_batches)
            self.agent_fns = (cameras, risk_areas, travel)
            return

        @app.agent(self.inbound["vehicle"], name="vehicles")
        async def vehicles(stream: Any) -> None:
            async for events in stream.take_events(s.batch, within=s.within):
                # a batch may mix partitions: each is counted under a source of its own
                by_partition: dict[int, list[Any]] = {}
                for ev in events:
                    by_partition.setdefault(ev.message.partition, []).append(ev.message)
                for part in by_partition.values():
                    await self.handle_passes(part)

        self.agent_fns = (cameras, risk_areas, travel, vehicles)

    def follow_assignment(self, assignment: Iterable[Any]) -> None:
        """Once faust recovered the tables of its assignment: the passes reader is to read the
        passes partitions matching this worker's travel partitions (the same plates)."""
        self.passes_wanted = frozenset(tp.partition for tp in assignment
                                       if tp.topic == topics.TRAVEL_RECORDS)
        self.passes_changed.set()

    async def release_passes(self) -> None:
        """When faust revokes this worker's partitions: the passes reader finishes the batch
        in hand, commits it and lets its partitions go before the group is re-balanced, so
        the next owner starts where this one ended."""
        self.passes_wanted = frozenset()
        async with self.passes_lock:
            await self.settle_passes()
            if self.passes_consumer is not None and self.passes_consumer.assignment():
                self.passes_consumer.assign([])
                self.ready.set(f"{self.settings.app_id}-vehicles", [])

    async def settle_passes(self, commit_later: bool = False) -> None:
        """The batch in flight (``read_passes_in_batches``): its store write awaited, its
        counts put in the hourly table, its dead letters sent, then its offsets committed
        (with ``commit_later`` the commit is sent and awaited by ``passes_committed``)."""
        pending, self.passes_pending = self.passes_pending, None
        if pending is not None:
            finish, offsets = pending
            await finish
            if self.passes_consumer is not None:
                self.passes_commit = asyncio.ensure_future(
                    self.passes_consumer.commit(offsets))
        if not commit_later:
            await self.passes_committed()

    async def passes_committed(self) -> None:
        commit, self.passes_commit = self.passes_commit, None
        if commit is not None:
            await commit

    async def read_passes_in_batches(self) -> None:
        """The passes topic read a batch at a time by a consumer outside faust, handled as the
        agent would (rule, tables, store, dead letters), offsets committed to the group
        ``<app id>-vehicles`` after each batch. It holds no group membership of its own: it is
        assigned the passes partitions co-partitioned with the travel partitions faust gave
        this worker (``follow_assignment``), so a plate's passes are judged where its travel
        table is, and gives them up when faust revokes them (``release_passes``).

        A fetch's partitions are judged with one read of the policies and stored in one
        transaction (``record_passes``). A fetch's store write overlaps the next fetch and
        its decoding, and its offset commit the next fetch's rule (neither needs the store):
        the next fetch is judged once that write is done (``settle_passes``) and its own
        write starts once that commit is done. So nothing is committed before it is in the
        store, the store sees the fetches in order, and at most one fetch is in the store
        but not committed, as without the overlap."""
        from aiokafka import AIOKafkaConsumer, TopicPartition

        s = self.settings
        group = f"{s.app_id}-vehicles"
        consumer = self.passes_consumer = AIOKafkaConsumer(
            bootstrap_servers=s.broker.split(","),
            group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=s.batch,
            max_partition_fetch_bytes=16 * 1024 * 1024)
        await consumer.start()
        # What the worker holds from its start (modules, the app) is left out of the cyclic
        # collector's scans, and the collector waits while a batch is handled (its objects
        # are acyclic, freed by reference counting): otherwise full collections over the
        # whole heap, about 0.2 s each, came every few batches.
        gc.collect()
        gc.freeze()
        try:
            while True:
                if not self.passes_wanted and not consumer.assignment():
                    await self.settle_passes()
                    await self.passes_changed.wait()
                self.passes_changed.clear()
                async with self.passes_lock:
                    held = frozenset(tp.partition for tp in consumer.assignment())
                    if held != self.passes_wanted:
                        await self.settle_passes()
                        consumer.assign([TopicPartition(topics.VEHICLE_PASSES, p)
                                         for p in sorted(self.passes_wanted)])
                        self.ready.set(group, consumer.assignment())
                    if not consumer.assignment():
                        continue
                    # With a batch in flight, only what is fetched already (no wait).
                    got = await consumer.getmany(
                        timeout_ms=0 if self.passes_pending else int(s.within * 1000),
                        max_records=s.batch)
                    if not got:
                        await self.settle_passes()
                        continue
                    with collection_paused():
                        decoded = [(records, self.decode_passes(records))
                                   for records in got.values()]
                        await self.settle_passes(commit_later=True)
                        in_force = await self.in_store(self.gapp.policy_reader)
                        judged = [await self.judge_passes(records, good, bad, in_force)
                                  for records, (good, bad) in decoded]
                        await self.passes_committed()
                        finish = asyncio.ensure_future(self.write_passes(*judged))
                    self.passes_pending = (finish, {
                        tp: records[-1].offset + 1 for tp, records in got.items()})
        finally:
            with contextlib.suppress(Exception):
                await self.settle_passes()
            self.passes_consumer = None
            await consumer.stop()

    # ---- tables (one update per key per batch) ------------------------------------------

    def update_risk(self, records: Sequence[Any]) -> None:
        changed: dict[str, list[dict[str, Any]]] = {}
        for rec in records:
            periods = changed.get(rec.area)
            if periods is None:
                periods = changed[rec.area] = list(self.risk[rec.area])
            if hasattr(rec, "level"):  # a declaration
                periods[:] = [p for p in periods if p["declaration_id"] != rec.declaration_id]
                periods.append({"declaration_id": rec.declaration_id, "level": str(rec.level),
                                "start": rec.start.isoformat(),
                                "until": rec.until.isoformat() if rec.until else None})
            else:  # a lift ends the period at its time, unless it ended before
                for p in periods:
                    if p["declaration_id"] == rec.declaration_id and (
                            p["until"] is None
                            or datetime.fromisoformat(p["until"]) > rec.at):
                        p["until"] = rec.at.isoformat()
        for area, periods in changed.items():
            self.risk[area] = periods

    def risk_periods(self) -> dict[str, list[Any]]:
        from gridcore.risk import RiskPeriod

        return {area: [RiskPeriod(declaration_id=p["declaration_id"], level=p["level"],
                                  start=datetime.fromisoformat(p["start"]),
                                  until=datetime.fromisoformat(p["until"]) if p["until"]
                                  else None) for p in periods]
                for area, periods in self.risk.items() if periods}

    def update_travel(self, records: Sequence[Any], lookback_days: int) -> None:
        from gridcore.risk import normalize_plate

        changed: dict[str, list[list[str]]] = {}
        for rec in records:
            plate = normalize_plate(rec.plate)
            visits = changed.get(plate)
            if visits is None:
                visits = changed[plate] = list(self.travel[plate])
            if all(v[2] != rec.record_id for v in visits):
                visits.append([rec.place, rec.at.isoformat(), rec.record_id])
        for plate, visits in changed.items():
            # Passes can arrive late: keep a day more than the lookback before the newest visit.
            newest = max(datetime.fromisoformat(v[1]) for v in visits)
            since = newest - timedelta(days=lookback_days + 1)
            self.travel[plate] = [v for v in visits if datetime.fromisoformat(v[1]) >= since]

    def travel_of(self, plate: str) -> list[tuple[str, datetime]]:
        return [(v[0], datetime.fromisoformat(v[1])) for v in self.travel[plate]]

    def count_passes(self, counts: Counter[tuple[str, datetime]], partition: int) -> None:
        for (checkpoint, hour), n in counts.items():
            self.window_clock.ts = hour.timestamp()
            self.passes[(checkpoint, partition)] += n

    def passes_in_hour(self, checkpoint: str, hour: datetime) -> int:
        """This worker's count (the partitions it holds or held) of one checkpoint's hour."""
        self.window_clock.ts = hour.timestamp()
        return sum(int(self.passes[(checkpoint, p)].current())
                   for p in range(self.settings.partitions))

    def placed(self, good: list[tuple[Any, Any]],
               bad: list[tuple[Any, str]]) -> list[tuple[Any, Any]]:
        """With several partitions: the records on their plate's partition (``record_key``,
        ``partition_for``); the others go to ``bad`` saying where they belong (a record on
        another partition would be judged without its plate's travel)."""
        from gridcore.risk import normalize_plate

        n = self.settings.partitions
        if n == 1:
            return good
        kept = []
        for ev, rec in good:
            try:
                want = topics.partition_for(normalize_plate(rec.plate).encode(), n)
            except Exception as e:  # a plate the rule refuses
                bad.append((ev, reason_of(e)))
                continue
            if want == ev.partition:
                kept.append((ev, rec))
            else:
                bad.append((ev, misplaced(rec.plate, want, n, ev.partition)))
        return kept

    # ---- the vehicle rule --------------------------------------------------------------------

    async def handle_passes(self, records: Sequence[Any]) -> None:
        """One partition's batch of passes (faust messages or aiokafka records): judged,
        recorded, counted, dead-lettered."""
        good, bad = self.decode_passes(records)
        await self.write_passes(await self.judge_passes(records, good, bad))

    def decode_passes(self, records: Sequence[Any]) -> tuple[list[tuple[Any, Any]],
                                                             list[tuple[Any, str]]]:
        """Each record with its pass (``pass_codec``: a tuple ``(pass_id, checkpoint_id,
        plate, at)``, with several partitions the normalized plate appended), or with the
        reason it goes to the dead-letter topic (malformed; on another partition than its
        plate's)."""
        from adapters.pass_codec import decode_pass

        good: list[tuple[Any, Any]] = []
        bad: list[tuple[Any, str]] = []
        append = good.append
        for m in records:
            try:
                append((m, decode_pass(m.value)))
            except Exception as e:  # malformed: the dead-letter topic says why
                bad.append((m, reason_of(e)))
        n = self.settings.partitions
        if n == 1 or not good:
            return good, bad
        from gridcore.risk import normalize_plate

        kept = []
        where = self.plate_partitions
        if len(where) > 200_000:
            where.clear()
        for m, p in good:
            try:
                plate = normalize_plate(p[2])
            except Exception as e:  # a plate the rule refuses
                bad.append((m, reason_of(e)))
                continue
            want = where.get(plate)
            if want is None:
                want = where[plate] = topics.partition_for(plate.encode(), n)
            if want == m.partition:
                kept.append((m, (*p, plate)))
            else:
                bad.append((m, misplaced(p[2], want, n, m.partition)))
        return kept, bad

    def visits_of(self) -> Callable[[str], list[tuple[str, datetime]] | None]:
        """Look-ups of a plate's travel (place, time) for one batch: read from the travel
        table's own dict (faust's in-memory store, which its updates and changelog recovery
        write) without faust's per-key layer, each plate's list parsed once per value the
        table holds (a new value, from ``update_travel`` or a recovery, is parsed again)."""
        store = self.travel.data
        plain = getattr(store, "data", None)
        raw_of: Callable[[str], Any] = (
            plain.get if isinstance(plain, dict)
            else lambda plate: store.get(plate))
        parsed = self.visits_parsed
        if len(parsed) > 200_000:
            parsed.clear()

        def visits(plate: str) -> list[tuple[str, datetime]] | None:
            raw = raw_of(plate)
            if not raw:
                return None
            seen = parsed.get(plate)
            if seen is not None and seen[0] is raw:
                return seen[1]
            out = [(v[0], datetime.fromisoformat(v[1])) for v in raw]
            parsed[plate] = (raw, out)
            return out

        return visits

    async def judge_passes(self, records: Sequence[Any], good: list[tuple[Any, Any]],
                           bad: list[tuple[Any, str]],
                           in_force: Callable[[datetime], Any] | None = None) -> _Judged:
        """The decoded passes of one partition's batch judged: the policy's window, the rule,
        the hourly counts. ``in_force``: the policies, read once for a fetch's partitions
        (``policy_reader``); else read here."""
        from gridcore.clock import check_instant, window
        from gridcore.risk import normalize_plate, region_alert_reason, travel_alert_reason
        from gridcore.vehicle import hour_number, hour_start

        first, last = records[0], records[-1]
        if not good:
            return _Judged(first.partition, bad)
        # The policy's window at the application's clock (``gridcore.clock``), per batch.
        now = self.gapp.clock()
        if in_force is None:
            in_force = await self.in_store(self.gapp.policy_reader)  # one read a batch
        policy = in_force(now)
        earliest, latest = window(now, policy)
        kept = []
        for m, p in good:
            if earliest <= p[3] <= latest:
                kept.append((m, p))
                continue
            try:
                check_instant(p[3], now, policy, "pass time")
            except Exception as e:  # InvalidInput: what was wrong and the window accepted
                bad.append((m, reason_of(e)))
            else:  # pragma: no cover - the window and check_instant agree
                kept.append((m, p))
        if not kept:
            return _Judged(first.partition, bad)
        policy = in_force(max(p[3] for _, p in kept))
        risk = self.risk_periods()
        visits_of = self.visits_of()
        normalized = self.settings.partitions > 1  # the plate normalized by decode_passes
        alerts: list[tuple[Any, Any, str]] = []
        counted: list[tuple[Any, Any, datetime]] = []
        per_hour: dict[tuple[str, int], int] = {}  # (checkpoint, hour_number): passes
        hours: dict[int, datetime] = {}
        numbers: dict[int, int] = {}  # id of a pass's time (shared by equal texts): its hour
        for m, p in kept:
            at = p[3]
            try:
                plate = p[4] if normalized else normalize_plate(p[2])
                visits = visits_of(plate)
                reason = ((travel_alert_reason(at, visits, risk, policy) if visits else None)
                          or (region_alert_reason(plate, at, risk) if plate[:2] in risk
                              else None))
            except Exception as e:  # a plate the rule refuses
                bad.append((m, reason_of(e)))
                continue
            key = numbers.get(id(at))
            if key is None:
                key = numbers[id(at)] = hour_number(at)
            hour = hours.get(key)
            if hour is None:
                hour = hours[key] = hour_start(at)
            counted.append((m, p, hour))
            cell = (p[1], key)
            per_hour[cell] = per_hour.get(cell, 0) + 1
            if reason:
                alerts.append((m, p, reason))
        counts = Counter({(cp, hours[key]): n for (cp, key), n in per_hour.items()})
        source = f"{first.topic}/{first.partition}/{first.offset}-{last.offset}"
        return _Judged(first.partition, bad, alerts, counted, counts, source)

    def write_passes(self, *batches: _Judged) -> Awaitable[None]:
        """The judged batches' store write (one transaction for all: a fetch's partitions)
        started in the store's thread; returns what finishes them once written
        (``finish_passes``)."""
        written: Awaitable[list[tuple[Any, str]]] | None = None
        if not any(j.counted for j in batches):
            pass
        elif self.settings.bench_no_store_writes:
            self.bench_note(sum(len(j.counted) for j in batches),
                            sum(len(j.alerts) for j in batches))
        else:
            written = asyncio.get_running_loop().run_in_executor(
                self.store, self.record_passes, [j for j in batches if j.counted])
        return self.finish_passes(written, batches)

    async def finish_passes(self, written: Awaitable[list[tuple[Any, str]]] | None,
                            batches: Sequence[_Judged]) -> None:
        """Once the batches' store write is done: their counts in the hourly table (but those
        the store refused), the refused and the malformed to the dead-letter topic."""
        refused = await written if written is not None else []
        refused_ids = {id(m) for m, _ in refused}
        for j in batches:
            counts, bad = j.counts, j.bad
            if refused_ids:
                mine = {id(m) for m, _, _ in j.counted} & refused_ids
                if mine:
                    bad = bad + [(m, why) for m, why in refused if id(m) in mine]
                    counts = Counter((p[1], hour) for m, p, hour in j.counted
                                     if id(m) not in mine)
            if counts:
                self.count_passes(counts, j.partition)
            await self._dead_letters(bad)

    def bench_note(self, passes: int, alerts: int) -> list[tuple[Any, str]]:
        """The benchmark switch (``bench_no_store_writes``) instead of ``record_passes``: one
        line per write, ``<epoch seconds> <passes> <alerts>``; nothing refused."""
        with open(self.settings.bench_no_store_writes or os.devnull, "a") as out:
            out.write(f"{time.time():.6f} {passes} {alerts}\n")
        return []

    def record_passes(self, batches: Sequence[_Judged]) -> list[tuple[Any, str]]:
        """In the store thread: the batches' alerts and counts in one transaction
        (``record_vehicle_passes``: alerts idempotent by pass id, counts once per source
        key). When that is refused, each batch apart (``record_batch_apart``), to find
        the bad alert or checkpoint and record the others."""
        try:
            self.gapp.record_vehicle_passes(
                [(p[0], p[1], p[2], p[3], reason) for j in batches for _, p, reason in j.alerts],
                {j.source: dict(j.counts) for j in batches if j.counts}, by=System.FEED)
            return []
        except Exception:  # a bad alert or count: found below, the others still recorded
            pass
        refused: list[tuple[Any, str]] = []
        for j in batches:
            refused += self.record_batch_apart(j.alerts, j.counted, j.counts, j.source)
        return refused

    def record_batch_apart(self, alerts: Sequence[tuple[Any, Any, str]],
                           counted: Sequence[tuple[Any, Any, datetime]], counts: Counter[Any],
                           source: str) -> list[tuple[Any, str]]:
        """One batch refused as a whole: its alerts in one transaction, one at a time if
        that is refused too, then its counts once per source key, per checkpoint if need
        be. A checkpoint the application refuses is dead-lettered."""
        refused: list[tuple[Any, str]] = []
        try:
            if alerts:
                self.gapp.raise_vehicle_alerts(
                    [(p[0], p[1], p[2], p[3], reason) for _, p, reason in alerts],
                    by=System.FEED)
        except Exception:
            for ev, p, reason in alerts:
                try:
                    self.gapp.raise_vehicle_alert(p[0], p[1], p[2], p[3], reason,
                                                  by=System.FEED)
                except Exception as e:
                    refused.append((ev, reason_of(e)))
        if not counts:
            return refused
        try:
            self.gapp.count_vehicle_passes(dict(counts), source, by=System.FEED)
            return refused
        except Exception:  # one unknown checkpoint must not lose the others' counts
            pass
        refused_ids = {id(ev) for ev, _ in refused}
        for checkpoint in sorted({c for c, _ in counts}):
            part = {k: n for k, n in counts.items() if k[0] == checkpoint}
            try:
                self.gapp.count_vehicle_passes(part, f"{source}/{checkpoint}", by=System.FEED)
            except Exception as e:
                refused += [(ev, reason_of(e)) for ev, p, _ in counted
                            if p[1] == checkpoint and id(ev) not in refused_ids]
        return refused

    # ---- the outbound relay --------------------------------------------------------------

    def _relay(self) -> None:
        from adapters.event_feed import EventFeed

        self.feed = EventFeed(self.gapp, self.settings.broker)
        self.feed_stop = asyncio.Event()

        @self.app.task
        async def relay() -> None:
            await self.feed.run(self.feed_stop)


class GracefulWorker(faust.Worker):
    """A faust worker that also leaves on SIGTERM when its event loop is stuck: the signal
    starts a watchdog that ends the process after ``grace`` seconds if stopping hangs."""

    grace: float = 20.0

    def _install_signal_handlers_unix(self) -> None:
        super()._install_signal_handlers_unix()
        loop = self.loop

        def on_sigterm(signum: int, frame: Any) -> None:
            threading.Thread(target=self._watchdog, name="sigterm-watchdog",
                             daemon=True).start()
            loop.call_soon_threadsafe(self._schedule_shutdown, signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)

    def _watchdog(self) -> None:
        threading.Event().wait(self.grace)
        log.error("the worker did not stop within %s s of SIGTERM; exiting", self.grace)
        os._exit(143)


def run_worker(gapp: Any, settings: StreamSettings, loglevel: str = "warning") -> None:
    """Create the topics, then run the worker until SIGTERM/SIGINT."""
    topics.ensure_topics(settings.broker, all_topics(settings.app_id, settings.partitions))
    streams = Streams(gapp, settings)
    worker = GracefulWorker(streams.app, loglevel=loglevel, quiet=True)
    try:
        worker.execute_from_commandline()
    finally:
        streams.ready.remove()
        streams.store.shutdown(wait=False)
