"""Benchmark: vehicle passes per second through one faust worker, next to a plain consumer.

In one run, on a local Tansu broker (``adapters.stream_broker``): N small JSON vehicle passes
are produced to the passes topic (1% of them from a high-risk plate region, so they alert);
``gridcore stream worker --no-feed`` handles them, then a plain aiokafka consumer reads the
topic from its beginning (records fetched, nothing decoded: the baseline, the median of
``PLAIN_READS`` reads) once the worker has stopped. The worker handles the records
(decoding, the vehicle rule with the risk and travel tables, the hourly windowed table, alerts
and per-batch pass counts written to a SQLite store). The worker's rate is measured from its
first to its last recorded batch (the store's event times), so its start and group join are
left out and reported apart. The ratio is the worker's rate over the plain consumer's; the
target is ``TARGET`` (≥ 25%, issue 16).

The floor beside it: the same worker, on a broker and store of its own with the same passes,
with its store writes switched off (``GRIDCORE_BENCH_NO_STORE_WRITES``, a benchmark switch:
no alert or count is recorded; each batch's end time, passes and alerts go to a file, which
times it as the store's event times time the worker). The store's reads (the policy) stay. Its
ratio is over the plain consumer of its own run.

``GRIDCORE_BENCH_STREAM_PASSES`` (default 20,000) and ``GRIDCORE_BENCH_STREAM_BATCH`` (default
1,000) size the run.

Several workers (``run_scale``, ``python -m simulations.benchmarks.streams --scale``; sized by
``GRIDCORE_BENCH_STREAM_SCALE_PASSES``, default the same): on one broker and store, the topics
with 4 partitions and the passes keyed by plate, 1 worker and then 2 workers in one consumer
group each handle as many new passes; total and per-worker passes/s beside the plain consumer
reading every partition in the same run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from adapters import stream_topics as topics
from adapters.settings import sqlite_env
from adapters.stream_app import APP_ID, all_topics
from adapters.stream_broker import start_local_broker
from gridcore.application import GridcoreApp
from gridcore.authority import System

CHECKPOINTS = [f"KK-{i}" for i in range(1, 5)]
COMMUNITY = "420102001712"
START = datetime(2020, 2, 17, 0, 0, tzinfo=UTC)
TARGET = 0.25  # of the plain consumer's rate (issue 16)
PLAIN_READS = 3  # the baseline is the median of this many plain reads


@dataclass
class Result:
    reader: str                # how the worker read the passes: "agent" or "batch"
    passes: int
    plain_seconds: float
    worker_seconds: float      # first to last recorded batch
    worker_measured: int       # passes in that span (all but the first batch)
    startup_seconds: float     # worker start until it recorded the risk area
    alerts: int
    batch: int
    batches: int               # batches the worker recorded
    work_seconds: float        # the agent's own work on every pass, in process, no Kafka
    floor: Result | None = None  # the same worker with its store writes switched off
    produce_seconds: float = 0.0  # the backlog's production, the worker stopped
    ratios: list[float] = field(default_factory=list)  # every run's, when this is a median

    @property
    def produce_per_s(self) -> float:
        return self.passes / self.produce_seconds if self.produce_seconds else 0.0

    @property
    def work_per_s(self) -> float:
        return self.passes / self.work_seconds

    @property
    def plain_per_s(self) -> float:
        return self.passes / self.plain_seconds

    @property
    def worker_per_s(self) -> float:
        return self.worker_measured / self.worker_seconds

    @property
    def ratio(self) -> float:
        return self.worker_per_s / self.plain_per_s


def build_store(path: Path) -> GridcoreApp:
    app = GridcoreApp(sqlite_env(path), clock=lambda: START)
    app.establish_city("4201", "武汉市", by=System.OPERATOR)
    app.create_node("420102", "江岸区", "4201", by=System.OPERATOR)
    app.create_node("420102001", "后湖街道", "420102", by=System.OPERATOR)
    app.create_node(COMMUNITY, "712社区", "420102001", by=System.OPERATOR)
    for i, code in enumerate(CHECKPOINTS, start=1):
        app.register_checkpoint(code, COMMUNITY, f"卡口{i}", by=System.OPERATOR)
    return app


def pass_records(n: int, alert_every: int = 100, first: int = 0) -> list[bytes]:
    out = []
    for i in range(first, first + n):
        alerting = alert_every and i % alert_every == 0
        plate = f"鄂B{i % 100000:05d}" if alerting else f"京A{i % 100000:05d}"
        at = START + timedelta(seconds=(i - first) * 7200 // max(n, 1))  # two hours
        out.append(orjson.dumps({"pass_id": f"P-{i}", "checkpoint_id": CHECKPOINTS[i % 4],
                                 "plate": plate, "at": at.isoformat()}))
    return out


async def produce(bootstrap: str, topic: str, values: list[bytes], keyed: bool = False) -> None:
    """With ``keyed``: each pass keyed by its plate (``record_key``), partitioned by aiokafka's
    default murmur2, as a producer is told to with several partitions."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=512 * 1024)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=topics.record_key("vehicle", v)
                                       if keyed else None) for v in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def plain_read(bootstrap: str, topic: str, n: int, timeout: float = 300.0,
                     partitions: int = 1) -> float:
    """Seconds a plain aiokafka consumer takes to fetch ``n`` records from the beginning (of
    every partition)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen, started = 0, time.perf_counter()
        while seen < n:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"the plain consumer read {seen} of {n} in {timeout} s")
            batches = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            seen += sum(len(b) for b in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def plain_seconds(bootstrap: str, n: int, partitions: int = 1, reads: int = PLAIN_READS
                  ) -> float:
    """The baseline: the median of ``reads`` plain reads of the passes topic (one read of
    50,000 passes takes a fifth of a second, so one read alone swung by 2x on a shared
    machine)."""
    return statistics.median(
        asyncio.run(plain_read(bootstrap, topics.VEHICLE_PASSES, n, partitions=partitions))
        for _ in range(reads))


def agent_work(app: GridcoreApp, records: list[bytes], batch: int) -> float:
    """Seconds the vehicle agent's own work takes for these records, batch by batch: decode,
    the rule with the risk periods, the hourly counts (the store write of the counts and any
    alert is left out). What a worker costs beyond this is faust's and Kafka's."""
    from collections import Counter

    from adapters.pass_codec import decode_pass
    from gridcore.risk import normalize_plate, vehicle_alert_reason
    from gridcore.vehicle import hour_start

    risk = app.risk_periods()
    started = time.perf_counter()
    for i in range(0, len(records), batch):
        passes = [decode_pass(r) for r in records[i:i + batch]]  # (id, checkpoint, plate, at)
        policy = app.policy_at(max(p[3] for p in passes))
        for p in passes:
            vehicle_alert_reason(normalize_plate(p[2]), p[3], (), risk, policy)
        Counter((p[1], hour_start(p[3])) for p in passes)
    return time.perf_counter() - started


def noted(path: Path) -> list[tuple[datetime, int, int]]:
    """(time, passes, alerts) of each batch a worker with its store writes switched off
    handled, in order (``GRIDCORE_BENCH_NO_STORE_WRITES``)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        at, passes, alerts = line.split()
        out.append((datetime.fromtimestamp(float(at), UTC), int(passes), int(alerts)))
    return out


def tallies(app: GridcoreApp, start: int = 1) -> list[tuple[datetime, int]]:
    """(store time, passes) of each batch the worker counted, in order (from notification
    ``start`` on)."""
    return [(at, n) for at, n, _ in sourced_tallies(app, start)]


def sourced_tallies(app: GridcoreApp, start: int = 1) -> list[tuple[datetime, int, int]]:
    """(store time, passes, source partition) of each batch counted, in order."""
    notes = app.recorder.select_notifications(
        start=start, limit=10**7, topics=["gridcore.vehicle:PassTally.Counted"])
    out = []
    for n in notes:
        s = orjson.loads(n.state)
        partition = int(s["source_key"].split("/")[1])
        out.append((datetime.fromisoformat(s["timestamp"]),
                    sum(c["passes"] for c in s["counts"]), partition))
    return out


def run(passes: int = 20_000, batch: int = 1000, alert_every: int = 100,
        readers: tuple[str, ...] = ("agent", "batch"), runs: int = 1,
        timeout: float = 900.0) -> tuple[list[Result], str]:
    """One row per way the worker reads the passes (``gridcore stream worker --passes``),
    each with its floor (the same worker, store writes switched off) measured beside it.
    The batch reader's row and floor are each the median (by ratio) of ``runs`` runs, each
    on a broker and store of its own: a run of 300,000 passes lasts about three seconds, and
    its ratio moved by a fifth between runs back to back. The agent's row, far from the
    target, is one run."""
    results = []
    for reader in readers:
        n = 1 if reader == "agent" else runs
        result = median_run([run_one(reader, passes, batch, alert_every, timeout)
                             for _ in range(n)])
        result.floor = median_run([run_one(reader, passes, batch, alert_every, timeout,
                                           store_writes=False) for _ in range(n)])
        results.append(result)
    return results, table(results)


def median_run(runs: list[Result]) -> Result:
    """The run with the median ratio (the lower middle of an even count), knowing the
    others' ratios."""
    ordered = sorted(runs, key=lambda r: r.ratio)
    chosen = ordered[(len(ordered) - 1) // 2]
    chosen.ratios = [r.ratio for r in runs]
    return chosen


def run_one(reader: str, passes: int, batch: int, alert_every: int,
            timeout: float, store_writes: bool = True) -> Result:
    from adapters.stream_topics import ensure_topics

    with tempfile.TemporaryDirectory(prefix="gridcore-bench-streams-") as tmp:
        home = Path(tmp)
        broker = start_local_broker(home)
        worker: subprocess.Popen[bytes] | None = None
        try:
            store = home / "gridcore.sqlite"
            app = build_store(store)
            ensure_topics(broker.bootstrap, all_topics())
            risk = [orjson.dumps({"declaration_id": "R-1", "area": "鄂B", "level": "high",
                                  "start": "2020-02-01T00:00:00+08:00"})]
            asyncio.run(produce(broker.bootstrap, topics.RISK_AREAS, risk))
            env = {**os.environ, "KAFKA_BROKER": broker.bootstrap, "GRIDCORE_STORE": "sqlite",
                   "GRIDCORE_SQLITE_PATH": str(store)}
            notes = home / "batches.txt"
            if not store_writes:
                env["GRIDCORE_BENCH_NO_STORE_WRITES"] = str(notes)

            def progress() -> list[tuple[datetime, int, int]]:
                if store_writes:
                    return [(at, n, 0) for at, n in tallies(app)]
                return noted(notes)

            gridcore = str(Path(sys.executable).with_name("gridcore"))
            log = home / "worker.log"
            started = time.monotonic()
            deadline = started + timeout

            def start() -> subprocess.Popen[bytes]:
                with log.open("ab") as out:
                    return subprocess.Popen([gridcore, "stream", "worker", "--no-feed",
                                             "--batch", str(batch), "--passes", reader],
                                            env=env, cwd=home,
                                            stdout=out, stderr=subprocess.STDOUT)

            def waiting(what: str, proc: subprocess.Popen[bytes]) -> None:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not {what}: "
                                       + log.read_text(errors="replace")[-2000:])
                time.sleep(0.1)  # polling the store for the worker's progress

            # The risk area first (the rule needs it; it stays in the risk table's
            # changelog), then the worker stops, every pass is produced, and the worker starts
            # again on that backlog, as after an outage: a worker running while the passes
            # are produced is paced by the producer on the same two cores (about 60,000
            # passes/s, under the worker's own rate), not by its own work.
            worker = start()
            while not app.risk_periods():
                waiting("record the risk area", worker)
            startup = time.monotonic() - started
            stop(worker)
            records = pass_records(passes, alert_every)
            producing = time.perf_counter()
            asyncio.run(produce(broker.bootstrap, topics.VEHICLE_PASSES, records))
            produce_seconds = time.perf_counter() - producing
            worker = start()
            while sum(n for _, n, _ in progress()) < passes:
                waiting("count every pass", worker)
            stop(worker)
            # The baseline, on the same topic once the worker is done (no contention).
            plain = plain_seconds(broker.bootstrap, passes)
            counted = progress()
            first, last = counted[0][0], counted[-1][0]
            alerts = (len(app.recorder.select_notifications(
                start=1, limit=10**7, topics=["gridcore.alerts:Alert.Raised"]))
                if store_writes else sum(a for _, _, a in counted))  # judged, not recorded
            result = Result(reader, passes, plain, max((last - first).total_seconds(), 1e-6),
                            passes - counted[0][1], startup, alerts,
                            batch, len(counted), agent_work(app, records, batch),
                            produce_seconds=produce_seconds)
            app.close()
        finally:
            if worker is not None and worker.poll() is None:
                worker.kill()
            broker.stop()
    return result


def stop(proc: subprocess.Popen[bytes]) -> None:
    """A worker stopped cleanly (SIGTERM: its batch finished and its offsets committed)."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


@dataclass
class ScaleResult:
    """One consumer group of ``workers`` batch-reading workers over ``partitions``."""

    workers: int
    partitions: int
    passes: int
    plain_seconds: float       # the plain consumer over every partition, the same run
    seconds: float             # the group's first to last recorded batch
    measured: int              # passes in that span (all but the first batch)
    per_worker: list[float]    # each worker's passes/s over its own first to last batch
    alerts: int
    produce_seconds: float = 0.0  # the round's backlog produced, no worker running

    @property
    def plain_per_s(self) -> float:
        return self.passes / self.plain_seconds

    @property
    def total_per_s(self) -> float:
        return self.measured / self.seconds

    @property
    def ratio(self) -> float:
        return self.total_per_s / self.plain_per_s


def run_scale(passes: int = 20_000, batch: int = 1000, alert_every: int = 100,
              partitions: int = 4, workers: tuple[int, ...] = (1, 2),
              timeout: float = 900.0) -> tuple[list[ScaleResult], str]:
    """Throughput per worker with several workers: on one broker and one store, the topics
    with ``partitions`` partitions (``GRIDCORE_STREAM_PARTITIONS``), passes keyed by plate;
    for each count in ``workers`` that many ``gridcore stream worker --passes batch`` form one
    consumer group; once each holds its share of the partitions they stop, ``passes`` new
    passes are produced, and they start again on that backlog. The group's rate runs from
    the moment every worker has recorded a batch to the last batch. The plain consumer reads
    the same topic (every partition) in the same run."""
    from adapters.stream_topics import ensure_topics

    results: list[ScaleResult] = []
    with tempfile.TemporaryDirectory(prefix="gridcore-bench-streams-scale-") as tmp:
        home = Path(tmp)
        broker = start_local_broker(home)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            store = home / "gridcore.sqlite"
            app = build_store(store)
            ensure_topics(broker.bootstrap, all_topics(partitions=partitions))
            risk = [orjson.dumps({"declaration_id": "R-1", "area": "鄂B", "level": "high",
                                  "start": "2020-02-01T00:00:00+08:00"})]
            asyncio.run(produce(broker.bootstrap, topics.RISK_AREAS, risk))
            env = {**os.environ, "KAFKA_BROKER": broker.bootstrap, "GRIDCORE_STORE": "sqlite",
                   "GRIDCORE_SQLITE_PATH": str(store),
                   "GRIDCORE_STREAM_PARTITIONS": str(partitions)}
            gridcore = str(Path(sys.executable).with_name("gridcore"))
            group = f"{APP_ID}-vehicles"
            produced = 0
            for round_no, count in enumerate(workers, start=1):
                deadline = time.monotonic() + timeout
                homes = [home / f"round-{round_no}-worker-{w}" for w in range(count)]
                for h in homes:
                    h.mkdir()

                def start(homes: list[Path] = homes) -> list[subprocess.Popen[bytes]]:
                    out = []
                    for h in homes:
                        (h / "ready.json").unlink(missing_ok=True)
                        with (h / "worker.log").open("ab") as log:
                            out.append(subprocess.Popen(
                                [gridcore, "stream", "worker", "--no-feed", "--batch",
                                 str(batch), "--passes", "batch",
                                 "--ready-file", str(h / "ready.json")],
                                env=env, cwd=h, stdout=log, stderr=subprocess.STDOUT))
                    return out

                def waiting(what: str, procs: list[subprocess.Popen[bytes]],
                            homes: list[Path] = homes, deadline: float = deadline) -> None:
                    if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                        logs = "\n".join((h / "worker.log").read_text(errors="replace")[-1500:]
                                         for h in homes)
                        raise RuntimeError(f"the workers did not {what}: {logs}")
                    time.sleep(0.1)  # polling the readiness files and the store

                def shares(procs: list[subprocess.Popen[bytes]],
                           homes: list[Path] = homes) -> list[set[int]]:
                    out = []
                    for h, proc in zip(homes, procs, strict=True):
                        try:
                            said = orjson.loads((h / "ready.json").read_bytes())
                        except (OSError, orjson.JSONDecodeError):
                            said = {}
                        held = said.get("groups", {}).get(group, []) if said.get(
                            "pid") == proc.pid else []
                        out.append({int(tp.rsplit("/", 1)[1]) for tp in held})
                    return out

                def shared(procs: list[subprocess.Popen[bytes]]) -> bool:
                    """Each worker reads a share of the passes partitions, together all."""
                    held = shares(procs)
                    return (all(held) and sum(map(len, held)) == partitions
                            and set().union(*held) == set(range(partitions)))

                # The group formed once with no passes waiting (and the risk area recorded),
                # then stopped; the round's passes produced while no worker reads them; the
                # workers started again on that backlog. Produced while they ran, the
                # passes came at the producer's pace (about 60,000/s on the same two
                # cores), under one worker's own rate.
                procs = start()
                while not app.risk_periods():
                    waiting("record the risk area", procs)
                while not shared(procs):
                    waiting("share the passes partitions", procs)
                for proc in procs:
                    stop(proc)
                start_id = app.recorder.max_notification_id() or 0
                records = pass_records(passes, alert_every, first=produced)
                producing = time.perf_counter()
                asyncio.run(produce(broker.bootstrap, topics.VEHICLE_PASSES, records,
                                    keyed=True))
                produce_seconds = time.perf_counter() - producing
                produced += passes
                procs = start()
                while sum(n for _, n, _ in sourced_tallies(app, start_id + 1)) < passes:
                    waiting("count every pass", procs)
                owner = {p: w for w, held in enumerate(shares(procs)) for p in held}
                counted = sourced_tallies(app, start_id + 1)
                alerts = len(app.recorder.select_notifications(
                    start=start_id + 1, limit=10**7, topics=["gridcore.alerts:Alert.Raised"]))
                for proc in procs:
                    stop(proc)
                per_worker, firsts = [], []
                for w in range(count):
                    mine = [(at, n) for at, n, p in counted if owner.get(p) == w]
                    span = (mine[-1][0] - mine[0][0]).total_seconds() if len(mine) > 1 else 0
                    per_worker.append(sum(n for _, n in mine[1:]) / span if span else 0.0)
                    firsts.append(mine[0][0] if mine else counted[0][0])
                # From the moment every worker has recorded a batch (a worker that joined
                # first may read alone until the group is re-balanced), to the last batch.
                since = max(firsts)
                last = counted[-1][0]
                results.append(ScaleResult(
                    count, partitions, passes, 0.0, max((last - since).total_seconds(), 1e-6),
                    sum(n for at, n, _ in counted if at > since), per_worker, alerts,
                    produce_seconds))
            # The baseline once the workers are done: every pass of the run, all partitions.
            plain = plain_seconds(broker.bootstrap, produced, partitions)
            for r in results:
                r.plain_seconds = plain * r.passes / produced
            app.close()
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
            broker.stop()
    return results, scale_table(results)


def scale_table(results: list[ScaleResult]) -> str:
    return "\n".join([
        "| workers (one consumer group) | partitions | vehicle passes (车辆通行) "
        "| plain aiokafka consumer (baseline, every partition) | passes/s, all workers "
        "| ratio | per worker (all ÷ workers) | each worker over its own batches "
        "| backlog produced beforehand | alerts raised |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        *(f"| {r.workers} | {r.partitions} | {r.passes:,} | {r.plain_per_s:,.0f}/s "
          f"| {r.total_per_s:,.0f}/s | {r.ratio:.1%} | {r.total_per_s / r.workers:,.0f}/s "
          f"| {', '.join(f'{x:,.0f}/s' for x in r.per_worker)} "
          f"| {r.passes / r.produce_seconds if r.produce_seconds else 0:,.0f}/s "
          f"| {r.alerts:,} |"
          for r in results),
    ])


READERS = {"agent": "faust agent (`take_events`)", "batch": "batch consumer in the worker"}


def spread(r: Result) -> str:
    """`` (median of 3: 22.1-29.0%)`` for a median of several runs."""
    if len(r.ratios) < 2:
        return ""
    return (f" (median of {len(r.ratios)}: {min(r.ratios):.1%}-{max(r.ratios):.1%})")


def floor_cells(r: Result) -> str:
    f = r.floor
    if f is None:
        return "| – | – "
    return (f"| {f.worker_per_s:,.0f}/s (plain consumer {f.plain_per_s:,.0f}/s, "
            f"{f.alerts:,} alerts judged) | {f.ratio:.1%}{spread(f)} ")


def table(results: list[Result]) -> str:
    return "\n".join([
        "| passes read by | vehicle passes (车辆通行) | plain aiokafka consumer (baseline) "
        "| faust worker (rule + hourly table + store) | ratio | target "
        "| floor: the worker with its store writes off | floor ratio "
        "| the agent's work alone | worker start and group join "
        "| backlog produced beforehand | alerts raised |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {READERS.get(r.reader, r.reader)} | {r.passes:,} | {r.plain_per_s:,.0f}/s "
          f"| {r.worker_per_s:,.0f}/s ({r.batches:,} batches of at most {r.batch:,}) "
          f"| {r.ratio:.1%}{spread(r)} "
          f"| ≥ {TARGET:.0%}{' (met)' if r.ratio >= TARGET else ' (not met)'} "
          f"{floor_cells(r)}| {r.work_per_s:,.0f}/s | {r.startup_seconds:.1f} s "
          f"| {r.produce_per_s:,.0f}/s | {r.alerts:,} |" for r in results),
    ])


def main() -> None:
    passes = int(os.environ.get("GRIDCORE_BENCH_STREAM_PASSES", "20000"))
    alert_every = int(os.environ.get("GRIDCORE_BENCH_STREAM_ALERT_EVERY", "100"))
    batch = int(os.environ.get("GRIDCORE_BENCH_STREAM_BATCH", "1000"))
    if "--scale" in sys.argv[1:]:
        _, body = run_scale(int(os.environ.get("GRIDCORE_BENCH_STREAM_SCALE_PASSES", passes)),
                            batch=batch, alert_every=alert_every)
    else:
        _, body = run(passes, batch=batch, alert_every=alert_every)
    print(body)


if __name__ == "__main__":
    main()
