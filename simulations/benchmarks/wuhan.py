"""The headline benchmark: a Wuhan-scale city on the SQLite default, end to end.

One run, three phases through the public application, each timed:

1. **generate**: the city generator builds the city (districts, streets, communities of about
   3,000 households in 30 micro-grids, buildings, households with their residents, the staff of
   each community in the 712 community's proportions) with ``build_city``;
2. **sweep**: every community launches its sweep campaign (the plan) and records one visit per
   household, the plan's owner and method, in batches with ``record_visits``;
3. **projections**: every read model catches up from zero (``Runner.catch_up``).

And, in the same run and database engine, the baseline: raw-inserting as many rows as the log
holds events, of the log's mean event size, with ``sqlite3.executemany`` (psycopg's
``executemany`` on PostgreSQL) in transactions of 10,000 rows. Target: the three phases in no
more than 4x the raw time.

Sizes: ``GRIDCORE_BENCH_WUHAN_HOUSEHOLDS`` (default 4,000,000, SQLite) and
``GRIDCORE_BENCH_WUHAN_PG_HOUSEHOLDS`` (default a tenth of it, PostgreSQL; 0 skips it).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.bootstrap import bootstrap
from adapters.settings import scratch_schema, sqlite_env
from gridcore.application import GridcoreApp
from projections import all_projections
from projections.runner import Runner
from simulations.benchmarks.register import PG_DSN, raw_events_table
from simulations.city import CitySpec, build_city
from simulations.citywide import city_spec, sweep_city
from simulations.sweep import SimClock

RAW_BATCH = 10_000
TARGET = 4.0
WUHAN = 4_000_000


@dataclass
class Result:
    store: str
    households: int
    events: int
    phases: dict[str, float] = field(default_factory=dict)
    raw_seconds: float = 0.0
    event_bytes: float = 0.0
    visits: int = 0
    lag_after: int = -1

    @property
    def total(self) -> float:
        return sum(self.phases.values())

    @property
    def ratio(self) -> float:
        return self.total / self.raw_seconds if self.raw_seconds else math.inf


def mean_event_size(app: GridcoreApp, sample: int = 20_000) -> float:
    last = app.recorder.max_notification_id() or 0
    notes = app.recorder.select_notifications(start=max(1, last // 2), limit=sample)
    notes += app.recorder.select_notifications(start=1, limit=sample)
    return statistics.fmean(len(n.state) for n in notes)


def raw_rows(n: int, size: int) -> Iterator[list[tuple[str, int, str, bytes]]]:
    """Batches of event-shaped rows (made outside the timed inserts)."""
    topic = "gridcore.sweep:Visit.Recorded"
    for i in range(0, n, RAW_BATCH):
        yield [(uuid.uuid4().hex, 1, topic, os.urandom(size))
               for _ in range(min(RAW_BATCH, n - i))]


def raw_sqlite(path: Path, n: int, size: int) -> float:
    """Seconds to insert ``n`` rows with executemany, same pragmas as the store."""
    conn = raw_events_table(path)
    spent = 0.0
    for rows in raw_rows(n, size):
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw_events VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        spent += time.perf_counter() - started
    conn.close()
    return spent


def raw_postgres(schema: str, n: int, size: int) -> float:
    import psycopg

    spent = 0.0
    with psycopg.connect(PG_DSN) as conn:
        conn.execute(f"CREATE TABLE {schema}.raw_events (originator_id uuid, "
                     "originator_version bigint, topic text, state bytea, "
                     "PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        for rows in raw_rows(n, size):
            typed = [(uuid.UUID(r[0]), r[1], r[2], r[3]) for r in rows]
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {schema}.raw_events VALUES (%s, %s, %s, %s)",
                                typed)
            conn.commit()
            spent += time.perf_counter() - started
    return spent


Say = Callable[[str], None]


def _phases(app: GridcoreApp, clock: SimClock, spec: CitySpec, result: Result,
            say: Say) -> None:
    def timed(name: str, step: Callable[[], Any]) -> Any:
        gc.collect()
        started = time.perf_counter()
        out = step()
        result.phases[name] = time.perf_counter() - started
        say(f"{result.store} {name}: {result.phases[name]:.1f} s")
        return out

    timed("generate", lambda: build_city(app, spec))
    result.visits = timed("sweep", lambda: sweep_city(app, clock, spec))
    runner = Runner(app, all_projections())
    timed("projections", runner.catch_up)
    result.lag_after = max(s.lag for s in runner.status())
    result.events = app.recorder.max_notification_id() or 0
    result.event_bytes = mean_event_size(app)


def bench_sqlite(households: int, say: Say = print) -> Result:
    spec = city_spec(households)
    result = Result("SQLite", spec.total_households, 0)
    with tempfile.TemporaryDirectory(prefix="gridcore-wuhan-") as tmp:
        clock = SimClock()
        app = bootstrap(sqlite_env(Path(tmp) / "wuhan.sqlite"), clock=clock).app
        try:
            _phases(app, clock, spec, result, say)
        finally:
            app.close()
        result.raw_seconds = raw_sqlite(Path(tmp) / "raw.sqlite", result.events,
                                        round(result.event_bytes))
    say(f"SQLite raw insert: {result.raw_seconds:.1f} s")
    return result


def bench_postgres(households: int, say: Say = print) -> Result:
    spec = city_spec(households)
    result = Result("PostgreSQL", spec.total_households, 0)
    with scratch_schema(PG_DSN, "wuhan") as (schema, env):
        clock = SimClock()
        app = bootstrap(env, clock=clock).app
        try:
            _phases(app, clock, spec, result, say)
        finally:
            app.close()
        result.raw_seconds = raw_postgres(schema, result.events, round(result.event_bytes))
    say(f"PostgreSQL raw insert: {result.raw_seconds:.1f} s")
    return result


def table(results: list[Result]) -> str:
    lines = ["| store | households | events | generate | sweep (one visit each) | "
             "projections | total | raw insert of as many rows | ratio | target |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        p = r.phases
        lines.append(
            f"| {r.store} | {r.households:,} | {r.events:,} | {p['generate']:,.0f} s | "
            f"{p['sweep']:,.0f} s | {p['projections']:,.0f} s | {r.total:,.0f} s | "
            f"{r.raw_seconds:,.1f} s ({r.events / r.raw_seconds:,.0f} rows/s) | "
            f"{r.ratio:,.1f}x | ≤ {TARGET:g}x |")
    return "\n".join(lines)


def extrapolated(result: Result, households: int = WUHAN) -> str:
    """A line scaling a smaller run linearly (per household) to ``households``: the phases
    are per-household work (the log and the read models grow by a fixed number of events and
    rows per household), so linear is the honest first estimate, not a measurement."""
    k = households / result.households
    phases = ", ".join(f"{name} {seconds * k / 60:,.0f} min"
                       for name, seconds in result.phases.items())
    return (f"{result.store} at {result.households:,} households scaled linearly to "
            f"{households:,}: {phases}; total {result.total * k / 3600:,.1f} h against "
            f"{result.raw_seconds * k / 60:,.1f} min of raw inserts (an estimate, not a run).")


def run(households: int, store: str = "sqlite", say: Say = print) -> tuple[Result, str]:
    """One size on one store ('sqlite' or 'postgres'): the result and its markdown row."""
    bench = bench_sqlite if store == "sqlite" else bench_postgres
    result = bench(households, say)
    return result, table([result])


def sizes() -> tuple[int, int]:
    n = int(os.environ.get("GRIDCORE_BENCH_WUHAN_HOUSEHOLDS", "4000000"))
    return n, int(os.environ.get("GRIDCORE_BENCH_WUHAN_PG_HOUSEHOLDS", str(n // 10)))


def main_table() -> str:
    """Both stores at the sizes of the environment (``make bench BENCH=wuhan``)."""
    n, pg = sizes()
    results = [bench_sqlite(n)]
    if pg:
        results.append(bench_postgres(pg))
    goal = {"SQLite": WUHAN, "PostgreSQL": WUHAN // 10}
    notes = [extrapolated(r, goal[r.store]) for r in results if r.households < goal[r.store]]
    return "\n".join([table(results), *(["", *notes] if notes else [])])


if __name__ == "__main__":
    print(main_table())
