"""Benchmark: batched household registration against the raw insert rate of the same database.

Measured in one run: registering N households (batches of ``BATCH``) through the application
on SQLite and on PostgreSQL, and, as the baseline, inserting the same number of event-sized
rows with ``sqlite3.executemany`` / psycopg ``executemany`` into a table of the same shape, in
transactions of the same size. The ratio is events/s over raw rows/s.
"""

from __future__ import annotations

import gc
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from adapters.settings import scratch_schema, sqlite_env
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System

BATCH = 10_000
PG_DSN = os.environ.get("GRIDCORE_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Result:
    store: str
    households: int
    events: int
    seconds: float
    raw_rows_per_s: float
    event_bytes: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def ratio(self) -> float:
        return self.events_per_s / self.raw_rows_per_s


def grid_codes(households: int) -> list[str]:
    communities = max(1, households // 10_000)
    return [f"9901010{c:02d}-{g:03d}" for c in range(communities) for g in range(1, 101)]


def build_grid(app: GridcoreApp, households: int) -> list[str]:
    app.establish_city("99", "基准市", by=System.OPERATOR)
    app.create_node("9901", "基准区", "99", by=System.OPERATOR)
    app.create_node("990101", "基准街道", "9901", by=System.OPERATOR)
    zones = grid_codes(households)
    for community in sorted({z.split("-")[0] for z in zones}):
        app.create_node(community, f"社区{community[-2:]}", "990101", by=System.OPERATOR)
    for z in zones:
        app.create_node(z, f"微网格{z[-3:]}", z.split("-")[0], by=System.OPERATOR)
    return zones


def make_rows(households: int, zones: list[str], seed: int = 7) -> list[HouseholdRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(households):
        no = f"B{i:07d}"
        size = rng.choices((1, 2, 3, 4, 5), weights=(18, 38, 22, 15, 7))[0]
        members = [new_member(no, m, "张" + "伟芳秀英明"[m % 5], f"138{rng.randrange(10**8):08d}",
                              None, rng.randint(1935, 2015)) for m in range(1, size + 1)]
        rows.append(HouseholdRow(no, zones[i % len(zones)], f"{i // 400}栋{i % 400}号", members))
    return rows


def timed_registration(app: GridcoreApp, rows: list[HouseholdRow]) -> tuple[float, int]:
    before = app.recorder.max_notification_id() or 0
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        app.register_households(rows[i:i + BATCH], by=System.OPERATOR)
    seconds = time.perf_counter() - started
    gc.unfreeze()
    return seconds, (app.recorder.max_notification_id() or 0) - before


def sample_rows(n: int, size: int) -> list[tuple[str, int, str, bytes]]:
    topic = "gridcore.household:Household.Registered"
    return [(uuid.uuid4().hex, 1, topic, os.urandom(size)) for _ in range(n)]


def raw_events_table(path: Path) -> sqlite3.Connection:
    """A new SQLite file with a table of the events table's shape, the store's pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER, "
                 "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    return conn


def raw_sqlite(path: Path, n: int, size: int) -> float:
    conn = raw_events_table(path)
    rows = sample_rows(n, size)
    started = time.perf_counter()
    for i in range(0, n, BATCH):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw_events VALUES (?, ?, ?, ?)", rows[i:i + BATCH])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return n / seconds


def raw_postgres(schema: str, n: int, size: int) -> float:
    import psycopg

    rows = [(uuid.UUID(r[0]), r[1], r[2], r[3]) for r in sample_rows(n, size)]
    with psycopg.connect(PG_DSN) as conn:
        conn.execute(f"CREATE TABLE {schema}.raw_events (originator_id uuid, "
                     "originator_version bigint, topic text, state bytea, "
                     "PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        started = time.perf_counter()
        for i in range(0, n, BATCH):
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {schema}.raw_events VALUES (%s, %s, %s, %s)",
                                rows[i:i + BATCH])
            conn.commit()
        return n / (time.perf_counter() - started)


def mean_state_size(app: GridcoreApp) -> float:
    sizes = [len(n.state) for n in app.recorder.select_notifications(start=1, limit=100_000)
             if n.topic.endswith("Household.Registered")]
    return statistics.fmean(sizes)


def bench_sqlite(households: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        app = GridcoreApp(sqlite_env(Path(tmp) / "bench.sqlite"))
        rows = make_rows(households, build_grid(app, households))
        seconds, events = timed_registration(app, rows)
        size = mean_state_size(app)
        app.close()
        raw = raw_sqlite(Path(tmp) / "raw.sqlite", households, round(size))
    return Result("SQLite", households, events, seconds, raw, size)


def bench_postgres(households: int) -> Result:
    with scratch_schema(PG_DSN, "bench") as (schema, env):
        app = GridcoreApp(env)
        rows = make_rows(households, build_grid(app, households))
        seconds, events = timed_registration(app, rows)
        size = mean_state_size(app)
        app.close()
        raw = raw_postgres(schema, households, round(size))
    return Result("PostgreSQL", households, events, seconds, raw, size)


def table(results: list[Result]) -> str:
    lines = ["| store | households | events | events/s | raw insert rows/s | ratio | target |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.store} | {r.households:,} | {r.events:,} | {r.events_per_s:,.0f} | "
                     f"{r.raw_rows_per_s:,.0f} | {r.ratio:.0%} | ≥ 50% |")
    return "\n".join(lines)


def run(households: int = 100_000, postgres: bool = True) -> tuple[list[Result], str]:
    results = [bench_sqlite(households)]
    if postgres:
        results.append(bench_postgres(households))
    return results, table(results)


if __name__ == "__main__":
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(run(n)[1])
