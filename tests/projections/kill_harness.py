"""The kill test's harness (``test_projection_kill_sqlite`` and ``_postgres``: one module per
store, so the two run side by side). Exactly once under crashes: a projection process killed
with SIGKILL at random points while catching up over a log of more than 100,000 events ends
with every read model equal to a rebuild from zero, and each projection's position at the
log's last notification id.

The log is the 712 demo (every area has events) plus bulk-registered households, built once per
store. ``tests/projection_worker.py`` is the process under test.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters import demo, demo_field
from adapters.settings import store_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from projections.base import Projection
from projections.runner import Runner
from projections.views import PostgresViews, SQLiteViews
from simulations.benchmarks import register
from tests.conftest import PG_DSN, need_postgres
from tests.projection_worker import projection_set, run_forked

HOUSEHOLDS = int(os.environ.get("GRIDCORE_KILL_HOUSEHOLDS", "85000"))
MIN_EVENTS = 100_000
KILLS = 50
MAX_RUNS = 150  # bounds the kill loop (a run that finishes before it is killed is not a kill)
POLLS = 400  # bounds the wait for a run's first committed batch (polls of POLL_EVERY s)
POLL_EVERY = 0.01


def build_log(env: dict[str, str], households: int = HOUSEHOLDS) -> int:
    """The demo's community and field work, then bulk households in batches of 10,000."""
    clock = demo.ScenarioClock()
    app = GridcoreApp(store_env(env), clock=clock)
    try:
        demo.build(app)
        demo_field.run(app, clock)
        rows = register.make_rows(households, register.build_grid(app, households))
        for i in range(0, len(rows), register.BATCH):
            app.register_households(rows[i:i + register.BATCH], by=System.OPERATOR)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def sqlite_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The worker's environment for a SQLite database holding the big log."""
    path = tmp_path_factory.mktemp("kill") / "gridcore.sqlite"
    env = {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path)}
    assert build_log(env) >= MIN_EVENTS
    return env


def postgres_log(households: int = HOUSEHOLDS,
                 minimum: int = MIN_EVENTS) -> Iterator[dict[str, str]]:
    """The worker's environment for a PostgreSQL schema holding the big log (dropped after);
    a smaller one with ``households`` and ``minimum`` (the groups test)."""
    need_postgres()
    import psycopg

    schema = f"kill_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
        c.execute(f"CREATE SCHEMA {schema}_rebuilt")
    try:
        env = {"GRIDCORE_STORE": "postgres", "GRIDCORE_PG_DSN": PG_DSN,
               "GRIDCORE_PG_SCHEMA": schema}
        assert build_log(env, households) >= minimum
        yield env
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            c.execute(f"DROP SCHEMA IF EXISTS {schema}_rebuilt CASCADE")


def rebuild_views(env: dict[str, str], tmp: Path) -> Any:
    """Views in a database (SQLite) or schema (PostgreSQL) of their own, for the rebuild."""
    if env["GRIDCORE_STORE"] == "sqlite":
        return SQLiteViews(SQLiteDatastore(str(tmp / "rebuilt.sqlite")))
    url = urlparse(PG_DSN)
    return PostgresViews(PostgresDatastore(
        dbname=url.path.lstrip("/"), host=url.hostname or "127.0.0.1", port=str(url.port or 5432),
        user=url.username or "postgres", password=url.password or "",
        schema=f"{env['GRIDCORE_PG_SCHEMA']}_rebuilt"))


class Rebuild(threading.Thread):
    """A rebuild from zero into separate views, alongside the kill loop (the machine has two
    cores: the worker process uses one, this thread the other)."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        super().__init__(name="rebuild", daemon=True)
        self.app = GridcoreApp(store_env(env))
        self.views = rebuild_views(env, tmp)
        self.runner = Runner(self.app, projection_set(), views=self.views)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.runner.catch_up()
        except BaseException as e:  # reported by the test after join
            self.error = e

    def close(self) -> None:
        self.views.datastore.close()
        self.app.close()


def counted(views: Any, p: Projection) -> dict[str, Counter[Any]]:
    """Every row of the projection's tables, counted (a multiset: no sort needed to compare);
    a row with an unhashable value (a PostgreSQL array or JSON) by its repr."""
    tables: dict[str, Counter[Any]] = {}
    for t in p.tables:
        rows = views.query(f"SELECT * FROM {t}")
        try:
            tables[t] = Counter(rows)
        except TypeError:
            tables[t] = Counter(map(repr, rows))
    return tables


def differences(before: dict[str, Counter[Any]],
                after: dict[str, Counter[Any]]) -> list[str]:
    """Tables whose rows differ (``counted``), with a few rows of each side."""
    found = []
    for table in before:
        old, new = set(before[table]), set(after[table])
        if before[table] != after[table]:
            found.append(f"{table}: {before[table].total()} rows vs {after[table].total()} "
                         "rebuilt; "
                         f"only before: {sorted(old - new, key=repr)[:3]}; "
                         f"only rebuilt: {sorted(new - old, key=repr)[:3]}")
    return found


FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["tests.projection_worker", "projections.runner",
                              "eventsourcing.sqlite", "eventsourcing.postgres"])
"""The worker's processes: forked from a server that imported the worker once (a run starts in
milliseconds, not the second an interpreter takes to import it), each a process of its own that
opens its own connections and is killed with a real SIGKILL."""


class Worker:
    """Starts the projection process and kills it; positions are read on our own connection."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.app = GridcoreApp(store_env(env))
        self.projections = projection_set()
        self.runner = Runner(self.app, self.projections)

    def progress(self) -> int:
        return sum(self.runner.views.position(p) for p in self.projections)

    def start(self, batch: int = 500) -> Any:
        """A run in batches of ``batch`` events (small, so a kill often lands mid-batch)."""
        env = {**self.env, "GRIDCORE_PROJECTION_BATCH": str(batch)}
        proc = FORKS.Process(target=run_forked, args=(env, str(self.log)), daemon=True)
        proc.start()
        return proc

    def finished(self, proc: Any) -> int:
        proc.join(timeout=300)
        code = proc.exitcode
        assert code in (0, -signal.SIGKILL), (
            f"the worker failed ({code}):\n{self.log.read_text(errors='replace')[-3000:]}")
        return int(code)

    def run_and_kill(self, rng: random.Random) -> bool:
        """One run killed at a random point; True if it was killed while still working."""
        before = self.progress()
        proc = self.start()
        if rng.random() < 0.8:  # mostly mid-catch-up, after the run has committed something
            for _ in range(POLLS):
                if not proc.is_alive() or self.progress() > before:
                    break
                time.sleep(POLL_EVERY)
        time.sleep(rng.uniform(0.0, 0.15))  # the fault: a kill at a random point
        proc.kill()
        return self.finished(proc) == -signal.SIGKILL

    def close(self) -> None:
        self.app.close()


def killed_projection_process_equals_a_rebuild_from_zero(big_log: dict[str, str],
                                                         tmp_path: Path) -> None:
    """Kill the worker KILLS times mid-catch-up, then let it finish: every read model equals
    a rebuild from zero and each position is the log's last id."""
    rng = random.Random(int(os.environ.get("GRIDCORE_KILL_SEED", "20200217")))
    worker = Worker(big_log, tmp_path / "worker.stderr")
    rebuild = Rebuild(big_log, tmp_path)
    rebuild.start()
    try:
        last = worker.app.recorder.max_notification_id() or 0
        kills = runs = 0
        while kills < KILLS and runs < MAX_RUNS:
            runs += 1
            if worker.run_and_kill(rng):
                kills += 1
            elif all(worker.runner.views.position(p) == last for p in worker.projections):
                for p in worker.projections:  # it got to the end: start over and keep killing
                    worker.runner.views.reset(p)
        assert kills >= KILLS, f"only {kills} of {runs} runs were killed while working"
        # the last run, not killed, goes on from where the kills left it in larger batches
        assert worker.finished(worker.start(batch=5000)) == 0
        rebuild.join(timeout=600)
        assert not rebuild.is_alive() and rebuild.error is None, rebuild.error

        views, rebuilt = worker.runner.views, rebuild.views
        for p in worker.projections:
            assert (p.name, views.position(p)) == (p.name, last), views.failures()
            assert (p.name, rebuilt.position(p)) == (p.name, last)
            found = differences(counted(views, p), counted(rebuilt, p))
            assert not found, (p.name, found)
    finally:
        rebuild.join(timeout=600)
        rebuild.close()
        worker.close()
