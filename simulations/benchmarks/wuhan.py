"""The headline benchmark: a Wuhan-scale city on the SQLite default, end to end, resumable.

One run, three phases through the public application, each timed:

1. **generate**: the city generator builds the city (districts, streets, communities of about
   3,000 households in 30 micro-grids, buildings, households with their residents, the staff of
   each community in the 712 community's proportions) with ``build_city``. The time the
   generator spends drawing its input (the households' rows and the rosters a caller would
   hand the application) is left out of this phase and shown beside it, as the baseline's
   rows are made before its clock starts;
2. **sweep**: every community launches its sweep campaign (the plan) and records one visit per
   household, the plan's owner and method, in batches with ``record_visits``;
3. **projections**: every read model brought up to date. By default they follow the log in a
   process of their own (``gridcore projections run``, as deployed) from the start of the run,
   on the second core, while the application generates and sweeps, and this phase is the time
   they still need after the sweep (their tail); with ``GRIDCORE_BENCH_WUHAN_READ_MODELS=after``
   they catch up from zero once the sweep is done (``Runner.catch_up``), as earlier runs did.
   Either way the run's total is its wall time, less the input drawn.

And, in the same run and database engine, the baseline: raw-inserting as many rows as the log
holds events, of the log's mean event size, in transactions of 10,000 rows
(``sqlite3.executemany`` on SQLite, a binary ``COPY`` on PostgreSQL: the fastest raw insert
each offers). Target (issue 16): the three phases in no more than 8x the raw time.

Beside it, the floor: what no implementation of the same workload can beat without storing
less, the sum of (a) the log's events and key rows, read back and inserted pre-built into an
empty store of the same schema, batch by batch, and (b) the read models' final rows inserted
into empty tables of their shape (with their indexes), both with the same statements as the
baseline; printed as a multiple of the raw insert.

A run at full size takes hours, so it is **resumable**: it works in ``var/bench/wuhan-<store>-
<households>/`` (``GRIDCORE_BENCH_DIR`` moves it; PostgreSQL also keeps a schema
``wuhan_<households>``), records after every batch what is done, the seconds spent in each
phase (summed over attempts) and the simulation's clock in ``state.json``, and a run of the
same size started again goes on from there. Each phase shows a progress bar (a line every
half minute when the output is not a terminal). A finished run deletes its database and keeps
``result.json``.

Sizes: ``GRIDCORE_BENCH_WUHAN_HOUSEHOLDS`` (default 4,000,000, SQLite) and
``GRIDCORE_BENCH_WUHAN_PG_HOUSEHOLDS`` (default 1,000,000, PostgreSQL; 0 skips it).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.bootstrap import bootstrap
from adapters.settings import postgres_env, scratch_schema, sqlite_env
from adapters.sqlite_store import tune, tune_views, views_path
from adapters.vault import KEY_TABLE
from gridcore.application import GridcoreApp
from projections import all_projections
from projections.runner import Runner
from projections.views import VIEW_CACHE_KIB, VIEW_CHECKPOINT_PAGES, views_for
from simulations.benchmarks.register import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    PG_DSN,
    copy_rows,
    raw_events_table,
)
from simulations.city import BuildReport, CitySpec, build_city
from simulations.citywide import city_spec, sweep_city
from simulations.sweep import SimClock

RAW_BATCH = 10_000
TARGET = 8.0
WUHAN = 4_000_000
PG_WUHAN = 1_000_000
ROOT = Path(__file__).resolve().parents[2]
PHASES = ("generate", "sweep", "projections")


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
    floors: dict[str, float] = field(default_factory=dict)
    attempts: int = 1
    drawing: float = 0.0
    """Seconds the generator spent drawing the city's input (households' rows, rosters), left
    out of ``generate`` as the raw baseline leaves out making its rows."""
    read_models: str = "after"
    """``follow``: the read models followed the log in a process of their own during the run;
    ``after``: they caught up from zero after the sweep."""

    @property
    def total(self) -> float:
        return sum(self.phases.values())

    @property
    def ratio(self) -> float:
        return self.total / self.raw_seconds if self.raw_seconds else math.inf

    @property
    def floor_ratio(self) -> float:
        return sum(self.floors.values()) / self.raw_seconds if self.raw_seconds else math.inf


Say = Callable[[str], None]
Stop = Callable[[str, int], None]


class Checkpoint:
    """The run's state in ``state.json``: the result so far (phases done and their seconds
    summed over attempts), how far the sweep got, the simulation clock. Written atomically
    (a new file renamed over the old), so an interrupted run never leaves half a state."""

    def __init__(self, folder: Path, result: Result) -> None:
        self.path = folder / "state.json"
        self.result = result
        self.done: list[str] = []
        self.swept = 0
        self.clock: str | None = None
        if self.path.exists():
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            for k, v in saved["result"].items():
                setattr(result, k, v)
            result.attempts += 1
            self.done, self.swept, self.clock = saved["done"], saved["swept"], saved["clock"]

    def save(self, clock: SimClock | None = None) -> None:
        if clock is not None:
            self.clock = clock.now.isoformat()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"result": asdict(self.result), "done": self.done,
                                   "swept": self.swept, "clock": self.clock}),
                       encoding="utf-8")
        tmp.replace(self.path)

    def sim_clock(self) -> SimClock:
        return SimClock(datetime.fromisoformat(self.clock)) if self.clock else SimClock()


class Bar:
    """A progress bar (rich) on a terminal; elsewhere (a log file) a line every half minute."""

    def __init__(self, say: Say, live: bool | None = None) -> None:
        self.say = say
        self.live = sys.stdout.isatty() if live is None else live

    @contextmanager
    def task(self, what: str, total: int, done: int = 0) -> Iterator[Callable[[int], None]]:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress("[progress.description]{task.description}", BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(),
                          TimeRemainingColumn()) as bar:
                t = bar.add_task(what, total=total, completed=done)
                yield lambda n: bar.update(t, completed=n)
            return
        started, last = time.monotonic(), [time.monotonic()]

        def update(n: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 30 or n >= total:
                last[0] = now
                rate = (n - done) / (now - started) if n > done else 0.0
                left = (total - n) / rate / 60 if rate and n < total else None
                eta = f", about {left:,.0f} min left" if left is not None else ""
                self.say(f"{what}: {n:,}/{total:,} ({n / total:.0%}){eta}")
        yield update


def mean_event_size(app: GridcoreApp, sample: int = 20_000) -> float:
    last = app.recorder.max_notification_id() or 0
    notes = [*app.recorder.select_notifications(start=max(1, last // 2), limit=sample),
             *app.recorder.select_notifications(start=1, limit=sample)]
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
    path.unlink(missing_ok=True)
    return spent


def raw_postgres(schema: str, n: int, size: int) -> float:
    """Seconds to binary-COPY ``n`` rows, in transactions of ``RAW_BATCH``."""
    import psycopg

    spent = 0.0
    with psycopg.connect(PG_DSN) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {schema}.raw_events")
        conn.execute(f"CREATE TABLE {schema}.raw_events (originator_id uuid, "
                     "originator_version bigint, topic text, state bytea, "
                     "PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        for rows in raw_rows(n, size):
            typed = [(uuid.UUID(r[0]), r[1], r[2], r[3]) for r in rows]
            started = time.perf_counter()
            with conn.cursor() as cur:
                copy_rows(cur, f"{schema}.raw_events", EVENT_COLUMNS, EVENT_TYPES, typed)
            conn.commit()
            spent += time.perf_counter() - started
        conn.execute(f"DROP TABLE {schema}.raw_events")
        conn.commit()
    return spent


def read_model_tables() -> list[str]:
    return [t for p in all_projections() for t in p.tables]


def floors_sqlite(built: Path, fresh: Path) -> dict[str, float]:
    """Seconds to insert the built store's rows, pre-built, into an empty store of the same
    schema: (a) events and key rows, (b) every read model's final rows, each into its own file
    as the store keeps them (timed: the inserts and commits only, not the reads of the built
    store)."""
    app = GridcoreApp(sqlite_env(fresh))
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    views = views_for(app)
    for p in all_projections():
        views.setup(p)
    app.close()
    built_views, fresh_views = views_path(str(built)), views_path(str(fresh))
    assert built_views is not None and fresh_views is not None

    def copy(src: sqlite3.Connection, dst: sqlite3.Connection, select: str,
             insert: str) -> float:
        spent = 0.0
        cur = src.execute(select)
        while rows := cur.fetchmany(RAW_BATCH):
            started = time.perf_counter()
            dst.execute("BEGIN IMMEDIATE")
            dst.executemany(insert, rows)
            dst.execute("COMMIT")
            spent += time.perf_counter() - started
        return spent

    src, dst = sqlite3.connect(built), sqlite3.connect(fresh, isolation_level=None)
    tune(dst)
    log = copy(src, dst, f"SELECT subject_id, key FROM {KEY_TABLE}",
               f"INSERT INTO {KEY_TABLE} (subject_id, key) VALUES (?, ?)")
    log += copy(src, dst, f"SELECT {EVENT_COLUMNS} FROM {table} ORDER BY rowid",
                f"INSERT INTO {table} ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?)")
    src.close()
    dst.close()
    src, dst = sqlite3.connect(built_views), sqlite3.connect(fresh_views, isolation_level=None)
    tune_views(dst)  # and the runner's page cache and checkpoints (SQLiteViews)
    dst.execute(f"PRAGMA cache_size=-{VIEW_CACHE_KIB}")
    dst.execute(f"PRAGMA wal_autocheckpoint={VIEW_CHECKPOINT_PAGES}")
    models = 0.0
    for t in read_model_tables():
        width = len(src.execute(f"SELECT * FROM {t} LIMIT 0").description)
        models += copy(src, dst, f"SELECT * FROM {t}",
                       f"INSERT INTO {t} VALUES ({','.join('?' * width)})")
    src.close()
    dst.close()
    for name in (str(fresh), fresh_views):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    return {"events and keys": log, "read models": models}


def floors_postgres(schema: str) -> dict[str, float]:
    """As ``floors_sqlite`` on PostgreSQL: binary ``COPY`` into a scratch schema."""
    import psycopg

    with scratch_schema(PG_DSN, "wuhanfloor") as (fresh, env):
        app = GridcoreApp(env)
        table = app.recorder.events_table_name  # type: ignore[attr-defined]
        views = views_for(app)
        for p in all_projections():
            views.setup(p)
        app.close()
        with psycopg.connect(PG_DSN) as src, psycopg.connect(PG_DSN) as dst:

            def copy(select: str, target: str) -> float:
                spent = 0.0
                with src.cursor(name=f"floor_{uuid.uuid4().hex[:8]}") as cur:
                    cur.execute(select)
                    while rows := cur.fetchmany(RAW_BATCH):
                        started = time.perf_counter()
                        with dst.cursor() as out, out.copy(
                                f"COPY {target} FROM STDIN") as cp:
                            for r in rows:
                                cp.write_row(r)
                        dst.commit()
                        spent += time.perf_counter() - started
                src.commit()
                return spent

            log = copy(f"SELECT subject_id, key FROM {schema}.{KEY_TABLE}",
                       f"{fresh}.{KEY_TABLE} (subject_id, key)")
            log += copy(f"SELECT {EVENT_COLUMNS} FROM {schema}.{table} "
                        "ORDER BY notification_id", f"{fresh}.{table} ({EVENT_COLUMNS})")
            models = sum(copy(f"SELECT * FROM {schema}.{t}", f"{fresh}.{t}")
                         for t in read_model_tables())
    return {"events and keys": log, "read models": models}


MODES = {"follow": "followed the log in their own process (the tail after the sweep)",
         "after": "caught up from zero after the sweep"}


def read_models_mode() -> str:
    """How the read models are brought up to date (``GRIDCORE_BENCH_WUHAN_READ_MODELS``)."""
    mode = os.environ.get("GRIDCORE_BENCH_WUHAN_READ_MODELS", "follow")
    if mode not in ("follow", "after"):
        raise SystemExit(f"GRIDCORE_BENCH_WUHAN_READ_MODELS={mode!r}: use follow or after")
    return mode


def _die_with_parent() -> None:
    """In the follower, before it runs: a SIGTERM when the benchmark's process ends, however
    it ends (a ``kill -9`` of the benchmark would otherwise leave it following for ever).
    Linux only (``prctl``); elsewhere the benchmark's own stop is the only one."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Follower:
    """The read models following the log in a process of their own, as deployed: ``gridcore
    projections run`` over the run's store (``environ``: its ``GRIDCORE_*`` variables), its
    output in ``log``. Its positions are in the database, so a resumed run's follower goes on
    from where the last one committed."""

    def __init__(self, environ: dict[str, str], log: Path) -> None:
        self.environ, self.log = environ, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from adapters.cli import main; main()",
                 "projections", "run", "--batch", "20000"],
                env={**os.environ, **self.environ}, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)

    def check(self) -> None:
        """Raise when the process has ended (it runs until stopped)."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the read models' process ended ({self.process.returncode}); "
                               f"see {self.log}")

    def stop(self) -> None:
        """Interrupt it (a batch in flight is committed whole or not at all) and wait."""
        p, self.process = self.process, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _phases(app: GridcoreApp, clock: SimClock, spec: CitySpec, state: Checkpoint, say: Say,
            bar: Bar, stop: Stop | None, follower: Follower | None = None) -> None:
    """The three phases, each skipped when done, each timed across attempts (the seconds
    spent are saved with every batch, so an interrupted phase keeps what it had spent). With
    a ``follower`` (and the run's mode ``follow``) the read models follow in it meanwhile."""
    result = state.result
    if not state.done and not state.clock:  # a new run: its mode, kept when it resumes
        result.read_models = read_models_mode()
    if result.read_models != "follow" or "projections" in state.done:
        follower = None
    if follower is not None:
        follower.start()
    try:
        _run_phases(app, clock, spec, state, say, bar, stop, follower)
    finally:
        if follower is not None:
            follower.stop()


def _run_phases(app: GridcoreApp, clock: SimClock, spec: CitySpec, state: Checkpoint, say: Say,
                bar: Bar, stop: Stop | None, follower: Follower | None) -> None:
    result = state.result

    def phase(name: str, step: Callable[[Callable[[], None]], Any],
              untimed: Callable[[], float] = lambda: 0.0) -> None:
        """``untimed()``: the seconds of this attempt spent outside the application (drawing
        the input), left out of the phase's time."""
        if name in state.done:
            say(f"{result.store} {name}: done before ({result.phases[name]:,.1f} s)")
            return
        gc.collect()
        spent, started = result.phases.get(name, 0.0), time.perf_counter()

        def tick() -> None:
            result.phases[name] = spent + time.perf_counter() - started - untimed()
            state.save(clock)

        try:
            step(tick)
        finally:  # interrupted (Ctrl-C, an error) or not, the seconds spent are kept
            tick()
        state.done.append(name)
        state.save(clock)
        say(f"{result.store} {name}: {result.phases[name]:,.1f} s")

    communities = spec.communities()
    built, drawn_before = BuildReport(), result.drawing

    def drawing() -> float:
        result.drawing = drawn_before + built.drawing
        return built.drawing

    def generate(tick: Callable[[], None]) -> None:
        with bar.task("生成城市 generate (communities)", len(communities)) as show:
            def batch(n: int) -> None:
                tick()
                show(min(n, len(communities)))
                if stop is not None:
                    stop("generate", n)
            build_city(app, spec, on_batch=batch, report=built)

    def sweep(tick: Callable[[], None]) -> None:
        with bar.task("入户排查 sweep (communities)", len(communities), state.swept) as show:
            def community(done: int, visits: int) -> None:
                state.swept = done
                result.visits = done_before + visits
                tick()
                show(done)
                if stop is not None:
                    stop("sweep", done)
            done_before = result.visits
            sweep_city(app, clock, spec, start=state.swept, on_community=community)

    runner = Runner(app, all_projections())

    def followed(tick: Callable[[], None]) -> None:
        """Until the follower's positions reach the end of the log: read from the database
        (its commits), so nothing here guesses how long it takes."""
        assert follower is not None
        upto = app.recorder.max_notification_id() or 0
        low = min((st.position for st in runner.status()), default=0)
        with bar.task("读模型 projections (following: events)", upto, low) as show:
            while True:  # a look at least once: the follower may have kept up all along
                follower.check()
                with contextlib.suppress(TimeoutError):  # a look at the progress
                    runner.wait(upto, timeout=5)
                status = runner.status()
                stuck = [st.stuck for st in status if st.stuck is not None]
                if stuck:
                    raise RuntimeError(stuck[0].describe())
                low = min(st.position for st in status)
                tick()
                show(min(low, upto))
                if stop is not None:
                    stop("projections", low)
                if low >= upto:
                    break

    def catch_up(tick: Callable[[], None]) -> None:
        upto = app.recorder.max_notification_id() or 0
        low = min((st.position for st in runner.status()), default=0)
        with bar.task("读模型 projections (events)", upto, low) as show:
            last = [time.monotonic()]

            def progress(_: str, position: int, __: int) -> None:
                if time.monotonic() - last[0] >= 5:
                    last[0] = time.monotonic()
                    tick()
                    show(position)
                if stop is not None:
                    stop("projections", position)
            runner.catch_up(progress=progress)
            show(upto)

    phase("generate", generate, drawing)
    phase("sweep", sweep)
    phase("projections", followed if follower is not None else catch_up)
    result.lag_after = max(s.lag for s in runner.status())
    result.events = app.recorder.max_notification_id() or 0
    result.event_bytes = mean_event_size(app)
    state.save(clock)


def workdir(store: str, households: int, base: Path | None = None) -> Path:
    root = base or Path(os.environ.get("GRIDCORE_BENCH_DIR") or ROOT / "var" / "bench")
    folder = root / f"wuhan-{store}-{households}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _env(folder: Path, env: dict[str, str]) -> dict[str, str]:
    # the run's own key-encryption key, kept beside its database so a resumed run unseals
    return {**env, "GRIDCORE_KEK_FILE": str(folder / "gridcore.kek")}


def _finish(folder: Path, state: Checkpoint, say: Say) -> None:
    (folder / "result.json").write_text(json.dumps(asdict(state.result)), encoding="utf-8")
    state.path.unlink(missing_ok=True)
    for f in folder.iterdir():
        if f.name != "result.json":
            f.unlink()
    say(f"{state.result.store}: finished; the figures are in {folder / 'result.json'}")


def bench_sqlite(households: int, say: Say = print, base: Path | None = None,
                 stop: Stop | None = None, bar: Bar | None = None) -> Result:
    spec = city_spec(households)
    folder = workdir("sqlite", spec.total_households, base)
    state = Checkpoint(folder, Result("SQLite", spec.total_households, 0))
    result = state.result
    if state.done:
        say(f"SQLite: resuming the run in {folder} (done: {', '.join(state.done)})")
    db = folder / "wuhan.sqlite"
    clock = state.sim_clock()
    app = bootstrap(_env(folder, sqlite_env(db)), clock=clock).app
    follower = Follower({"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(db),
                         "GRIDCORE_KEK_FILE": str(folder / "gridcore.kek")},
                        folder / "read-models.log")
    try:
        _phases(app, clock, spec, state, say, bar or Bar(say), stop, follower)
    finally:
        app.close()
    if not result.raw_seconds:
        result.raw_seconds = raw_sqlite(folder / "raw.sqlite", result.events,
                                        round(result.event_bytes))
        state.save()
    say(f"SQLite raw insert: {result.raw_seconds:,.1f} s")
    if not result.floors:
        result.floors = floors_sqlite(db, folder / "floor.sqlite")
        state.save()
    say(f"SQLite floor: {sum(result.floors.values()):,.1f} s")
    _finish(folder, state, say)
    return result


def bench_postgres(households: int, say: Say = print, base: Path | None = None,
                   stop: Stop | None = None, bar: Bar | None = None) -> Result:
    import psycopg

    spec = city_spec(households)
    folder = workdir("postgres", spec.total_households, base)
    state = Checkpoint(folder, Result("PostgreSQL", spec.total_households, 0))
    result = state.result
    schema = f"wuhan_{spec.total_households}"
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        if not state.done and not state.clock:  # a new run: nothing of an older one is kept
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        c.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    if state.done:
        say(f"PostgreSQL: resuming the run in schema {schema} (done: {', '.join(state.done)})")
    clock = state.sim_clock()
    app = bootstrap(_env(folder, postgres_env(PG_DSN, schema=schema)), clock=clock).app
    follower = Follower({"GRIDCORE_STORE": "postgres", "GRIDCORE_PG_DSN": PG_DSN,
                         "GRIDCORE_PG_SCHEMA": schema,
                         "GRIDCORE_KEK_FILE": str(folder / "gridcore.kek")},
                        folder / "read-models.log")
    try:
        _phases(app, clock, spec, state, say, bar or Bar(say), stop, follower)
    finally:
        app.close()
    if not result.raw_seconds:
        result.raw_seconds = raw_postgres(schema, result.events, round(result.event_bytes))
        state.save()
    say(f"PostgreSQL raw insert: {result.raw_seconds:,.1f} s")
    if not result.floors:
        result.floors = floors_postgres(schema)
        state.save()
    say(f"PostgreSQL floor: {sum(result.floors.values()):,.1f} s")
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    _finish(folder, state, say)
    return result


def table(results: list[Result]) -> str:
    lines = ["| store | households | events | generate | input drawn (not timed) | "
             "sweep (one visit each) | projections | read models | total (wall less input) | "
             "raw insert of as many rows | ratio | target | "
             "floor (events and keys + read-model rows, pre-built) | floor ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        p, f = r.phases, r.floors
        met = "met" if r.ratio <= TARGET else "not met"
        lines.append(
            f"| {r.store} | {r.households:,} | {r.events:,} | {p['generate']:,.0f} s | "
            f"{r.drawing:,.0f} s | {p['sweep']:,.0f} s | {p['projections']:,.0f} s | "
            f"{MODES[r.read_models]} | "
            f"{r.total:,.0f} s | "
            f"{r.raw_seconds:,.1f} s ({r.events / r.raw_seconds:,.0f} rows/s) | "
            f"{r.ratio:,.1f}x | ≤ {TARGET:g}x ({met}) | "
            f"{f.get('events and keys', 0):,.0f} s + {f.get('read models', 0):,.0f} s | "
            f"{r.floor_ratio:,.1f}x |")
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


def run(households: int, store: str = "sqlite", say: Say = print, base: Path | None = None,
        stop: Stop | None = None) -> tuple[Result, str]:
    """One size on one store ('sqlite' or 'postgres'): the result and its markdown row."""
    bench = bench_sqlite if store == "sqlite" else bench_postgres
    result = bench(households, say, base, stop)
    return result, table([result])


def sizes() -> tuple[int, int]:
    n = int(os.environ.get("GRIDCORE_BENCH_WUHAN_HOUSEHOLDS", str(WUHAN)))
    return n, int(os.environ.get("GRIDCORE_BENCH_WUHAN_PG_HOUSEHOLDS", str(PG_WUHAN)))


def _interrupt(signum: int, _: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main_table() -> str:
    """Both stores at the sizes of the environment (``make bench BENCH=wuhan``). A
    ``SIGTERM`` stops it as Ctrl-C does, keeping the seconds spent (a process in the
    background ignores Ctrl-C's signal)."""
    signal.signal(signal.SIGTERM, _interrupt)
    n, pg = sizes()
    results = [bench_sqlite(n)] if n else []
    if pg:
        results.append(bench_postgres(pg))
    goal = {"SQLite": WUHAN, "PostgreSQL": PG_WUHAN}
    notes = [extrapolated(r, goal[r.store]) for r in results  # not a city of the goal's size
             if r.households < 0.99 * goal[r.store]]
    return "\n".join([table(results), *(["", *notes] if notes else [])])


if __name__ == "__main__":
    print(main_table())
