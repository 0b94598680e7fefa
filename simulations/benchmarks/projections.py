"""Benchmark: every projection catching up together over a big log, against the raw read of the
same rows.

The log is the 712 demo (events in every area) plus bulk-registered households (batches of
10,000, as in ``register``) up to about N events. Measured in one run, same database: the raw
read (``SELECT *`` of the events table, every column fetched, in chunks) in rows/s, then
``Runner(app, all_projections()).catch_up()`` from zero in events/s (log events over the
seconds all projections took); the ratio is the second over the first. The time of each
projection is measured too (the runner catches them up one after another).

Beside the ratio, floors: the final rows inserted into empty tables of today's shape with no
Python work, and the same rows in the shape of the redesign issue 16 names (``widened``: one
wide household row, integer household keys), with the bound any catch-up keeping those rows
could reach (reading and decoding the log, then that floor).

``GRIDCORE_BENCH_EVENTS`` (default 1,000,000) sizes the SQLite log and
``GRIDCORE_BENCH_PG_EVENTS`` (default 300,000) the PostgreSQL one.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import random
import re
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from adapters import demo, demo_field
from adapters.settings import scratch_schema, sqlite_env
from gridcore.app_base import collection_paused
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from projections import all_projections
from projections.base import ReadViews, Row
from projections.decode import LeanDecoder
from projections.groups import DEFAULT_GROUPS
from projections.log import log_reader
from projections.runner import Runner
from projections.views import Views, views_for
from simulations.benchmarks.register import BATCH, PG_DSN, build_grid

FETCH = 10_000
TARGETS = {"SQLite": 0.15, "PostgreSQL": 0.25}
"""Issue 16's targets: the catch-up's rate over the raw read's."""


@dataclass
class Result:
    store: str
    events: int
    raw_seconds: float
    seconds: float
    decode_seconds: float
    per_projection: dict[str, tuple[int, float]] = field(default_factory=dict)
    floor_rows: int = 0
    """Rows the read models hold after the catch-up."""
    floor_seconds: float = 0.0
    """Inserting those rows into empty tables of their shape, with no Python work."""
    group_seconds: float = 0.0
    """The same catch-up by the default groups, one process each, side by side (PostgreSQL;
    0: not measured)."""
    best_rows: int = 0
    """Rows the read models would hold in the best shape (``widened``)."""
    best_seconds: float = 0.0
    """Inserting those rows into empty tables of that shape, with no Python work."""

    @property
    def raw_rows_per_s(self) -> float:
        return self.events / self.raw_seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def decoded_per_s(self) -> float:
        return self.events / self.decode_seconds

    @property
    def ratio(self) -> float:
        return self.events_per_s / self.raw_rows_per_s

    def share(self, seconds: float) -> float:
        """The ratio a catch-up that took ``seconds`` would have (0.0: not measured)."""
        return self.events / seconds / self.raw_rows_per_s if seconds else 0.0

    @property
    def group_ratio(self) -> float:
        return self.share(self.group_seconds)

    @property
    def floor_ratio(self) -> float:
        """The ratio a catch-up that cost only its floor would have."""
        return self.share(self.floor_seconds)

    @property
    def best_ratio(self) -> float:
        """The ratio a catch-up that cost only the floor of the best shape would have."""
        return self.share(self.best_seconds)

    @property
    def bound_ratio(self) -> float:
        """The best ratio any catch-up could have that keeps what the read models keep: it
        reads and decodes the log, and inserts the rows in the best shape, and nothing
        else."""
        return self.share(self.decode_seconds + self.best_seconds) if self.best_seconds \
            else 0.0


def household_rows(households: int, zones: list[str], seed: int = 7
                   ) -> Iterator[list[HouseholdRow]]:
    """The register benchmark's households, a batch at a time (a million at once is GBs)."""
    rng = random.Random(seed)
    for start in range(0, households, BATCH):
        rows = []
        for i in range(start, min(households, start + BATCH)):
            no = f"B{i:07d}"
            size = rng.choices((1, 2, 3, 4, 5), weights=(18, 38, 22, 15, 7))[0]
            members = [new_member(no, m, "张" + "伟芳秀英明"[m % 5],
                                  f"138{rng.randrange(10**8):08d}", None,
                                  rng.randint(1935, 2015)) for m in range(1, size + 1)]
            rows.append(HouseholdRow(no, zones[i % len(zones)], f"{i // 400}栋{i % 400}号",
                                     members))
        yield rows


def build_log(app: GridcoreApp, clock: demo.ScenarioClock, events: int) -> int:
    demo.build(app)
    demo_field.run(app, clock)
    remaining = max(0, events - (app.recorder.max_notification_id() or 0))
    # At most 1,000 micro-grids: each batch also writes one grid event per micro-grid it touches.
    zones = build_grid(app, min(remaining, 100_000))
    households = max(0, int((events - (app.recorder.max_notification_id() or 0))
                            / (1 + len(zones) / BATCH)))
    for rows in household_rows(households, zones):
        app.register_households(rows, by=System.OPERATOR)
    return app.recorder.max_notification_id() or 0


def timed_catch_up(app: GridcoreApp) -> tuple[float, dict[str, tuple[int, float]]]:
    """All projections from zero in one pass; each one's events applied and seconds (and the
    seconds of reading and decoding the log, which they share)."""
    runner = Runner(app, all_projections())
    for p in runner.projections.values():
        runner.views.reset(p)
    gc.collect()
    started = time.perf_counter()
    runner.catch_up()
    seconds = time.perf_counter() - started
    return seconds, {n: (runner.applied.get(n, 0), s) for n, s in runner.spent.items()}


def _group_process(env: dict[str, str], names: tuple[str, ...], ready: Any, done: Any) -> None:
    """One group's process (as ``gridcore projections run --group NAME`` runs it): set up,
    wait for the others, catch up, report."""
    app = GridcoreApp(env)
    runner = Runner(app, [p for p in all_projections() if p.name in names])
    ready.wait()
    runner.catch_up()
    done.put(sum(runner.applied.values()))
    app.close()


def timed_group_catch_up(app: GridcoreApp, env: dict[str, str],
                         groups: Mapping[str, tuple[str, ...]] = DEFAULT_GROUPS
                         ) -> tuple[float, int]:
    """All projections from zero, each group in its own process (``env``'s store), all
    started together: the seconds until the last group has caught up (the processes' start-up
    and set-up left out), and the events the groups applied, summed over the read models."""
    runner = Runner(app, all_projections())
    for p in runner.projections.values():
        runner.views.reset(p)
    context = multiprocessing.get_context("spawn")  # no connection of this one inherited
    ready, done = context.Barrier(len(groups) + 1), context.Queue()
    processes = [context.Process(target=_group_process, args=(env, names, ready, done),
                                 name=f"group-{name}") for name, names in groups.items()]
    for process in processes:
        process.start()
    ready.wait()
    started, finished, applied = time.perf_counter(), 0, 0
    while finished < len(processes):
        try:
            applied += done.get(timeout=1)
        except queue.Empty:
            dead = [p.name for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"the group processes {', '.join(dead)} failed") from None
            continue
        finished += 1
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    return seconds, applied


def decode_all(app: GridcoreApp) -> float:
    """Reading and decoding every event once, as the runner does (its floor)."""
    reader, decoder = log_reader(app.recorder), LeanDecoder(app.mapper)
    topics = sorted({t for p in all_projections() for t in p.topics()})
    last = app.recorder.max_notification_id() or 0
    started, position = time.perf_counter(), 0
    with collection_paused():
        while rows := reader.read(position, last, 20_000, topics):
            decoder.decode_all(rows)
            position = rows[-1][0]
    return time.perf_counter() - started


def final_rows(views: ReadViews) -> dict[str, list[Row]]:
    """Every row of every read model's tables after the catch-up, by table."""
    return {t: views.query(f"SELECT * FROM {t}") for p in all_projections() for t in p.tables}


def same_rows(a: dict[str, list[Row]], b: dict[str, list[Row]]) -> bool:
    """Whether two sets of read-model tables hold the same rows (in any order)."""
    return a.keys() == b.keys() and all(Counter(a[t]) == Counter(b[t]) for t in a)


def insert_floor(app: GridcoreApp, rows: dict[str, list[Row]],
                 ddl: Sequence[str] | None = None) -> float:
    """Seconds to insert ``rows`` into the empty tables of ``app``'s views (made by the
    projections' own DDL, indexes included, or by ``ddl``) in one transaction:
    ``executemany`` on SQLite, ``COPY`` on PostgreSQL (the cheapest way to land rows from a
    client on each)."""
    views = views_for(app)
    if ddl is None:
        for p in all_projections():
            views.setup(p)
    else:
        with views.datastore.transaction(commit=True) as c:
            views._enter(c)
            for statement in ddl:
                c.execute(statement)
    gc.collect()
    with collection_paused():
        started = time.perf_counter()
        with views.datastore.transaction(commit=True) as c:
            views._enter(c)
            for t, its in rows.items():
                if not its:
                    continue
                if views.dialect == "postgres":
                    with cast("Any", c).copy(f"COPY {t} FROM STDIN") as copy:
                        for r in its:
                            copy.write_row(r)
                else:
                    c.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(its[0]))})",
                                  its)
        return time.perf_counter() - started


HOUSEHOLD_TABLES = ("gr_households", "sc_household", "cf_households", "mb_households",
                    "dlv_households", "pl_households")
"""The read models' tables with one row per household, keyed by ``household_id`` (grid rollup,
sweep coverage, contact follow-up, monitoring board, delivery board, places)."""
WIDE = "households_wide"
_NAMED = re.compile(r"^CREATE (?:TABLE IF NOT EXISTS (\w+)|(?:UNIQUE )?INDEX IF NOT EXISTS \w+ "
                    r"ON (\w+))")
_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX IF NOT EXISTS \w+ ON (\w+) \(([^)]*)\)$")


def table_of(statement: str) -> str:
    """The table a read model's ``CREATE TABLE`` or ``CREATE INDEX`` statement is about."""
    found = _NAMED.match(statement)
    if found is None:
        raise ValueError(f"not a CREATE TABLE or CREATE INDEX statement: {statement[:80]}")
    return found.group(1) or found.group(2)


Column = tuple[str, str]
"""A column's name and type."""


def table_columns(views: Views, table: str) -> list[Column]:
    """A table's columns, in order, as the database describes them."""
    if views.dialect == "postgres":
        return [(str(r[0]), str(r[1])) for r in views.query(
            "SELECT column_name, data_type FROM information_schema.columns WHERE "
            "table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,))]
    return [(str(r[0]), str(r[1])) for r in views.query(
        f"SELECT name, type FROM pragma_table_info('{table}')")]


@dataclass
class Shape:
    """Read-model rows in another shape: the statements that make its empty tables, and the
    rows by table."""

    ddl: list[str]
    rows: dict[str, list[Row]]
    moved: dict[tuple[str, str], str] = field(default_factory=dict)
    """(table, column) -> the column of the wide table that holds its values."""


def widened(rows: dict[str, list[Row]], columns: Mapping[str, Sequence[Column]],
            ddl: Sequence[str], tables: Sequence[str] = HOUSEHOLD_TABLES) -> Shape:
    """The same rows in the smallest shape their contents allow (the redesign issue 16 names:
    one wide household row, integer keys, append-only):

    - the tables with one row per household (``tables``, key first) become one wide row per
      household, numbered in the order the rows come (the order of registration): its number
      (``household_n``) is the table's integer key, its id a unique column. A column of the
      same name in several of them (the micro-grid, the household number) is one column where every
      household has the same value in all of them; every other column keeps its own, as
      ``table_column``. Their secondary indexes move onto the wide table (the same columns
      indexed twice: once), with its number for the household id;
    - every other table keeps its rows and statements, except that a ``household_id`` column
      holds the household's number instead of its id, so rows of new households go at the
      end of their indexes instead of all over them.

    ``columns``: every table's (name, type), in order."""
    merged: dict[str, dict[str, Any]] = {}  # household id -> wide column -> value, in order
    owner: dict[str, str] = {}  # wide column -> its type
    renamed: dict[tuple[str, str], str] = {}  # (table, column) -> wide column, in order
    for table in tables:
        (key, _), *rest = columns[table]
        renamed[(table, key)] = "household_id"
        for row in rows[table]:
            merged.setdefault(row[0], {})
        for i, (name, kind) in enumerate(rest, start=1):
            values = {row[0]: row[i] for row in rows[table]}
            shared = name in owner and all(merged[h].get(name) == v for h, v in values.items())
            wide = name if name not in owner or shared else f"{table}_{name}"
            owner.setdefault(wide, kind)
            renamed[(table, name)] = wide
            for h, v in values.items():
                merged[h][wide] = v
    number = {h: n for n, h in enumerate(merged, start=1)}

    def numbered(hid: Any) -> Any:
        if hid is None:
            return None
        found = number.get(hid)
        if found is None:
            found = number[hid] = len(number) + 1
        return found

    out = Shape([f"CREATE TABLE {WIDE} (household_n INTEGER PRIMARY KEY, household_id TEXT "
                 "NOT NULL UNIQUE, " + ", ".join(f"{c} {kind}" for c, kind in owner.items()) + ")"],
                {}, renamed)
    for table, its in rows.items():
        if table in tables:
            continue
        at = [i for i, (name, _) in enumerate(columns[table]) if name == "household_id"]
        out.rows[table] = [tuple(numbered(v) if i in at else v for i, v in enumerate(row))
                           for row in its] if at else its
    indexed: set[tuple[str, ...]] = set()
    for statement in ddl:
        table = table_of(statement)
        if table not in tables:
            out.ddl.append(_NUMBERED.sub("household_id BIGINT", statement)
                           if statement.startswith("CREATE TABLE") else statement)
            continue
        index = _INDEX.match(statement)
        if index is None:
            continue  # the table itself: in the wide one
        cols = tuple(renamed[(table, c.strip())] for c in index.group(3).split(","))
        cols = tuple("household_n" if c == "household_id" else c for c in cols)
        if cols not in indexed:
            indexed.add(cols)
            out.ddl.append(f"CREATE {index.group(1) or ''}INDEX {WIDE}_{len(indexed)} ON "
                           f"{WIDE} ({', '.join(cols)})")
    out.rows[WIDE] = [(number[h], h, *(v.get(c) for c in owner)) for h, v in merged.items()]
    return out


_NUMBERED = re.compile(r"\bhousehold_id TEXT\b")


def best_shape(views: Views, rows: dict[str, list[Row]]) -> Shape:
    """``widened`` with the columns ``views`` holds and the read models' own DDL."""
    return widened(rows, {t: table_columns(views, t) for t in rows},
                   [s for p in all_projections() for s in p.ddl])


def raw_read_sqlite(path: Path, table: str) -> float:
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
    while cur.fetchmany(FETCH):
        pass
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def raw_read_postgres(schema: str, table: str) -> float:
    import psycopg

    with psycopg.connect(PG_DSN) as conn:
        started = time.perf_counter()
        with conn.cursor(name="raw") as cur:
            cur.itersize = FETCH
            cur.execute(f"SELECT * FROM {schema}.{table} ORDER BY notification_id")
            while cur.fetchmany(FETCH):
                pass
        return time.perf_counter() - started


def bench_sqlite(events: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        clock = demo.ScenarioClock()
        app = GridcoreApp(sqlite_env(path), clock=clock)
        n = build_log(app, clock, events)
        raw = raw_read_sqlite(path, cast("Any", app.recorder).events_table_name)
        decode = decode_all(app)
        seconds, per = timed_catch_up(app)
        views = views_for(app)
        rows = final_rows(views)
        best = best_shape(views, rows)
        app.close()
        fresh = GridcoreApp(sqlite_env(Path(tmp) / "floor.sqlite"), clock=clock)
        floor = insert_floor(fresh, rows)
        fresh.close()
        fresh = GridcoreApp(sqlite_env(Path(tmp) / "best.sqlite"), clock=clock)
        best_floor = insert_floor(fresh, best.rows, best.ddl)
        fresh.close()
    return Result("SQLite", n, raw, seconds, decode, per, sum(map(len, rows.values())), floor,
                  best_rows=sum(map(len, best.rows.values())), best_seconds=best_floor)


def bench_postgres(events: int) -> Result:
    with scratch_schema(PG_DSN, "bench") as (schema, env):
        clock = demo.ScenarioClock()
        app = GridcoreApp(env, clock=clock)
        n = build_log(app, clock, events)
        raw = raw_read_postgres(schema, cast("Any", app.recorder).events_table_name)
        decode = decode_all(app)
        seconds, per = timed_catch_up(app)
        views = views_for(app)
        rows = final_rows(views)
        best = best_shape(views, rows)
        groups, applied = timed_group_catch_up(app, env)
        if applied != sum(n for n, _ in per.values()) or not same_rows(
                final_rows(views_for(app)), rows):
            raise AssertionError("the groups' catch-up differs from the one process's")
        app.close()
    with scratch_schema(PG_DSN, "floor") as (_, env):
        fresh = GridcoreApp(env, clock=clock)
        floor = insert_floor(fresh, rows)
        fresh.close()
    with scratch_schema(PG_DSN, "best") as (_, env):
        fresh = GridcoreApp(env, clock=clock)
        best_floor = insert_floor(fresh, best.rows, best.ddl)
        fresh.close()
    return Result("PostgreSQL", n, raw, seconds, decode, per, sum(map(len, rows.values())),
                  floor, groups, sum(map(len, best.rows.values())), best_floor)


def table(results: list[Result]) -> str:
    lines = ["| store | events | raw read rows/s | read + decode events/s | "
             "catch-up events/s | ratio | target | floor: final rows | floor s | catch-up s "
             "| ratio at the floor | groups side by side: catch-up s | ratio | best shape: "
             "rows | floor s | ratio at it | bound: read + decode + that floor |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
             "---:|"]
    for r in results:
        lines.append(f"| {r.store} | {r.events:,} | {r.raw_rows_per_s:,.0f} | "
                     f"{r.decoded_per_s:,.0f} | {r.events_per_s:,.0f} | {r.ratio:.1%} | "
                     f"≥ {TARGETS[r.store]:.0%} | {r.floor_rows:,} | {r.floor_seconds:,.1f} | "
                     f"{r.seconds:,.1f} | {r.floor_ratio:.1%} | "
                     + (f"{r.group_seconds:,.1f} | {r.group_ratio:.1%} |" if r.group_seconds
                        else "one writer per file | - |")
                     + f" {r.best_rows:,} | {r.best_seconds:,.1f} | {r.best_ratio:.1%} | "
                       f"{r.bound_ratio:.1%} |")
    lines += ["", "| store | projection | events applied | seconds | share of the time |",
              "|---|---|---:|---:|---:|"]
    for r in results:
        for name, (applied, s) in sorted(r.per_projection.items(), key=lambda x: -x[1][1]):
            lines.append(f"| {r.store} | {name} | {applied:,} | {s:,.1f} | "
                         f"{s / r.seconds:.0%} |")
    return "\n".join(lines)


def run(events: int = 1_000_000, pg_events: int | None = 300_000,
        postgres: bool = True) -> tuple[list[Result], str]:
    results = [bench_sqlite(events)]
    if postgres:
        results.append(bench_postgres(pg_events or events))
    return results, table(results)


def sizes() -> tuple[int, int]:
    return (int(os.environ.get("GRIDCORE_BENCH_EVENTS", "1000000")),
            int(os.environ.get("GRIDCORE_BENCH_PG_EVENTS", "300000")))


if __name__ == "__main__":
    print(run(*sizes())[1])
