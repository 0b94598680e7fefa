"""Benchmark: batched household registration against the raw insert rate of the same database.

Measured in one run: registering N households (batches of ``BATCH``) through the application
on SQLite and on PostgreSQL, and, as the baseline, inserting the same number of event-sized
rows into a table of the same shape, in transactions of the same size: ``sqlite3.executemany``
on SQLite, a binary ``COPY`` on PostgreSQL (the fastest raw insert each offers). The ratio is
events/s over raw rows/s.

The floor is the ratio with no Python work at all: the very rows the registration stored (its
events and its subject-key rows), read back and inserted pre-built into an empty store of the
same schema, batch by batch, with the same statements (``executemany`` / binary ``COPY``). No
registration can beat it without storing less.
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
from typing import Any

from psycopg.sql import SQL

from adapters.settings import scratch_schema, sqlite_env
from adapters.sqlite_store import tune
from adapters.vault import KEY_TABLE
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
    floor_seconds: float
    key_rows: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def ratio(self) -> float:
        return self.events_per_s / self.raw_rows_per_s

    @property
    def floor_ratio(self) -> float:
        """The ratio a registration that did no Python work would reach."""
        return self.events / self.floor_seconds / self.raw_rows_per_s

    @property
    def baseline(self) -> str:
        return "executemany" if self.store == "SQLite" else "COPY"

    @property
    def target(self) -> str:
        return "≥ 25%" if self.store == "SQLite" else "≥ 30%"


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


def timed_registration(app: GridcoreApp, rows: list[HouseholdRow]) -> tuple[float, int, int]:
    """Seconds, events stored, and the last notification id before them."""
    before = app.recorder.max_notification_id() or 0
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        app.register_households(rows[i:i + BATCH], by=System.OPERATOR)
    seconds = time.perf_counter() - started
    gc.unfreeze()
    return seconds, (app.recorder.max_notification_id() or 0) - before, before


def sample_rows(n: int, size: int) -> list[tuple[str, int, str, bytes]]:
    topic = "gridcore.household:Household.Registered"
    return [(uuid.uuid4().hex, 1, topic, os.urandom(size)) for _ in range(n)]


def raw_events_table(path: Path) -> sqlite3.Connection:
    """A new SQLite file with a table of the events table's shape, the store's pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    tune(conn)
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


EVENT_COLUMNS = "originator_id, originator_version, topic, state"
EVENT_TYPES = ["uuid", "int8", "text", "bytea"]
KEY_TYPES = ["uuid", "bytea"]


def copy_rows(cur: Any, table: str, columns: str, types: list[str], rows: list[Any]) -> None:
    """A binary ``COPY`` of pre-built rows (psycopg writes them; no SQL text per row)."""
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


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
                copy_rows(cur, f"{schema}.raw_events", EVENT_COLUMNS, EVENT_TYPES,
                          rows[i:i + BATCH])
            conn.commit()
        return n / (time.perf_counter() - started)


Stored = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def stored_rows(app: GridcoreApp, after: int) -> Stored:
    """The events stored after notification ``after`` and every subject-key row, as stored."""
    recorder: Any = app.recorder
    notes = recorder.select_notifications(start=after + 1, limit=10**9)
    if hasattr(recorder, "key_table"):  # PostgreSQL
        events: list[tuple[Any, ...]] = [
            (n.originator_id, n.originator_version, n.topic, n.state) for n in notes]
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT subject_id, key FROM {0}").format(recorder.key_table))
            keys = [(r["subject_id"], bytes(r["key"])) for r in curs.fetchall()]
    else:
        events = [(n.originator_id.hex if isinstance(n.originator_id, uuid.UUID)
                   else n.originator_id, n.originator_version, n.topic, n.state) for n in notes]
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subject_id, key FROM {KEY_TABLE}")
            keys = [(r[0], r[1]) for r in c.fetchall()]
    return events, keys


def chunks(rows: list[Any], parts: int) -> list[list[Any]]:
    """``rows`` in ``parts`` consecutive slices of near-equal size (one per batch)."""
    size = -(-len(rows) // parts)
    return [rows[i * size:(i + 1) * size] for i in range(parts)]


def floor_sqlite(path: Path, stored: Stored, batches: int) -> float:
    """Seconds to insert the stored rows, pre-built, into an empty store of the same schema."""
    app = GridcoreApp(sqlite_env(path))
    recorder: Any = app.recorder
    table = recorder.events_table_name
    app.close()
    conn = sqlite3.connect(path, isolation_level=None)
    tune(conn)
    events, keys = stored
    started = time.perf_counter()
    for ev, ks in zip(chunks(events, batches), chunks(keys, batches), strict=True):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO {KEY_TABLE} (subject_id, key) VALUES (?, ?)", ks)
        conn.executemany(f"INSERT INTO {table} ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?)", ev)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def floor_postgres(stored: Stored, batches: int) -> float:
    """Seconds to COPY the stored rows, pre-built, into an empty store of the same schema."""
    import psycopg

    with scratch_schema(PG_DSN, "benchfloor") as (schema, env):
        app = GridcoreApp(env)
        table = f"{schema}.{app.recorder.events_table_name}"  # type: ignore[attr-defined]
        app.close()
        events, keys = stored
        with psycopg.connect(PG_DSN) as conn:
            started = time.perf_counter()
            for ev, ks in zip(chunks(events, batches), chunks(keys, batches), strict=True):
                with conn.cursor() as cur:
                    copy_rows(cur, f"{schema}.{KEY_TABLE}", "subject_id, key", KEY_TYPES, ks)
                    copy_rows(cur, table, EVENT_COLUMNS, EVENT_TYPES, ev)
                conn.commit()
            return time.perf_counter() - started


def mean_state_size(app: GridcoreApp) -> float:
    sizes = [len(n.state) for n in app.recorder.select_notifications(start=1, limit=100_000)
             if n.topic.endswith("Household.Registered")]
    return statistics.fmean(sizes)


def bench_sqlite(households: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        app = GridcoreApp(sqlite_env(Path(tmp) / "bench.sqlite"))
        rows = make_rows(households, build_grid(app, households))
        seconds, events, before = timed_registration(app, rows)
        size = mean_state_size(app)
        stored = stored_rows(app, before)
        app.close()
        raw = raw_sqlite(Path(tmp) / "raw.sqlite", households, round(size))
        floor = floor_sqlite(Path(tmp) / "floor.sqlite", stored, -(-households // BATCH))
    return Result("SQLite", households, events, seconds, raw, size, floor, len(stored[1]))


def bench_postgres(households: int) -> Result:
    with scratch_schema(PG_DSN, "bench") as (schema, env):
        app = GridcoreApp(env)
        rows = make_rows(households, build_grid(app, households))
        seconds, events, before = timed_registration(app, rows)
        size = mean_state_size(app)
        stored = stored_rows(app, before)
        app.close()
        raw = raw_postgres(schema, households, round(size))
    floor = floor_postgres(stored, -(-households // BATCH))
    return Result("PostgreSQL", households, events, seconds, raw, size, floor, len(stored[1]))


def table(results: list[Result]) -> str:
    lines = ["| store | households | events | key rows | events/s | baseline: raw insert "
             "| rows/s | ratio | floor | target |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.store} | {r.households:,} | {r.events:,} | {r.key_rows:,} | "
                     f"{r.events_per_s:,.0f} | {r.baseline} | {r.raw_rows_per_s:,.0f} | "
                     f"{r.ratio:.0%} | {r.floor_ratio:.0%} | {r.target} |")
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
