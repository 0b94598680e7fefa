"""Shared fixtures: a ``store`` parametrised over memory, SQLite and PostgreSQL, and a clock.

PostgreSQL tests skip locally when the server is down (with how to start it) and fail on CI
(``CI=true``) or when ``GRIDCORE_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env, postgres_env, sqlite_env
from gridcore.application import GridcoreApp

PG_DSN = os.environ.get("GRIDCORE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_START = ("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")


def postgres_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("GRIDCORE_REQUIRE_POSTGRES") == "1"


def postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=2):
            return None
    except Exception as e:  # any failure means: not usable here
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def need_postgres() -> None:
    problem = postgres_reachable()
    if problem is None:
        return
    msg = f"PostgreSQL at {PG_DSN} is not reachable ({problem}); start it with: {PG_START}"
    if postgres_required():
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    need_postgres()
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@dataclass
class Clock:
    """A clock the tests move by hand; the application reads time only through it."""

    now: datetime = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path) -> dict[str, str]:
    """The eventsourcing environment of one of the three stores."""
    kind = request.param
    if kind == "memory":
        return memory_env()
    if kind == "sqlite":
        return sqlite_env(tmp_path / "gridcore.sqlite")
    schema = request.getfixturevalue("pg_schema")
    return postgres_env(PG_DSN, schema=schema)


@pytest.fixture
def make_app(store: dict[str, str], clock: Clock) -> Iterator[Callable[[], GridcoreApp]]:
    """Builds applications over the same store (a second one reads what the first wrote)."""
    apps: list[GridcoreApp] = []

    def build() -> GridcoreApp:
        if apps and store["PERSISTENCE_MODULE"] == "adapters.memory_store":
            return apps[0]  # an in-memory store lives inside its one application
        app = bootstrap(store, clock=clock).app  # the composition root every entry point uses
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close()


@pytest.fixture
def app(make_app: Callable[[], GridcoreApp]) -> GridcoreApp:
    return make_app()


def cli_store(path: os.PathLike[str] | str, given: Callable[[GridcoreApp], object],
              monkeypatch: pytest.MonkeyPatch, columns: int = 160) -> None:
    """A SQLite store at ``path`` holding what ``given`` builds, made the store of the
    ``gridcore`` commands a test invokes (``GRIDCORE_STORE``, ``GRIDCORE_SQLITE_PATH``), with
    a terminal ``columns`` wide so their tables are not cut."""
    app = GridcoreApp(sqlite_env(path))
    try:
        given(app)
    finally:
        app.close()
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("COLUMNS", str(columns))


HEAVIEST = (
    "projections/test_projection_kill_postgres.py",
    "projections/test_projection_groups_postgres.py", "streams/test_stream_worker.py",
    "projections/test_projection_kill_sqlite.py",
    "api/test_api_fuzz.py", "web/test_web_dashboard.py", "simulations/test_sim_replay_dearer.py",
    "application/test_extreme_inputs.py", "streams/test_stream_scale_out.py",
    "web/test_web_monitoring.py", "projections/test_projection_field.py",
    "projections/test_projection_grid.py", "api/test_readme_walkthrough.py",
    "api/test_api_cli.py", "notify/test_outbox.py", "application/test_planning_withheld.py",
)
"""The modules that took longest (2026-12-05, a 2-core machine: 40 s to 210 s each, a third of
the suite), longest first."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The heaviest modules run first, longest first, then the others marked ``slow``:
    ``make test`` hands whole modules to its workers (``--dist loadfile
    --no-loadscope-reorder``, which keeps this order) as they free up, so the longest ones
    start at once on every core instead of one of them finishing alone at the end (xdist's
    own order, by number of tests, put the one-test kill tests last). The order within a
    module stays."""
    rank = {name: i for i, name in enumerate(HEAVIEST)}

    def order(item: pytest.Item) -> tuple[int, bool]:
        module = item.nodeid.split("::", 1)[0].removeprefix("tests/")
        return rank.get(module, len(rank)), item.get_closest_marker("slow") is None

    items.sort(key=order)
