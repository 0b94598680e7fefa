"""View backends: the projections' tables and their tracking, in the events' own schema on
PostgreSQL and in a file of their own beside the events' on SQLite (``views_for``).

Each backend is eventsourcing's tracking recorder for that database (so the library's
``TrackingRecorderTestCase`` holds for it) plus ``apply_batch``: a batch's rows and the
position it reached are committed in one transaction, so a crash never applies an event twice
or loses one. Each such transaction is fenced: it first takes the write lock of each read
model it advances (a transaction-scoped advisory lock per read model on PostgreSQL, so the
groups' processes commit side by side; SQLite's own write lock, one per file) and checks that
every projection it advances is still at the position the batch was read from. Another runner, or a
killed process whose last commit was still in flight on the server, that moved a position in
the meantime makes the batch fail with ``PositionMoved`` and nothing of it is kept: the runner
reads the positions again and goes on from there. ``projection_failure`` beside the positions
says which projections are stuck, at which event and why (written in the transaction that
keeps the rows before that event).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from time import perf_counter
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from uuid import uuid4

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from projections.base import DBCursor, Failure, Notified, Projection, ReadViews, Row, ViewCursor

if TYPE_CHECKING:
    from eventsourcing.application import Application


class PositionMoved(Exception):
    """A batch was read from a position that another writer has since moved: nothing of it
    was kept (read the positions again)."""

    def __init__(self, name: str, expected: int, found: int) -> None:
        super().__init__(f"the position of {name} is {found}, not {expected}: another runner "
                         "moved it")
        self.name, self.expected, self.found = name, expected, found


class Views(ReadViews, Protocol):
    def apply_batch(self, projection: Projection, events: Sequence[Notified],
                    position: int | None, failure: Failure | None = None,
                    since: int | None = None) -> None: ...
    def attempt(self, projection: Projection, events: Sequence[Notified]) -> Exception | None: ...
    def failures(self) -> dict[str, Failure]: ...
    def clear_failures(self, names: Sequence[str] | None = None) -> None: ...
    def apply_batches(self, batches: Sequence[tuple[Projection, Sequence[Notified]]],
                      position: int, spent: dict[str, float] | None = None,
                      since: dict[str, int] | None = None) -> None: ...
    def position(self, projection: Projection) -> int: ...
    def positions(self) -> dict[str, int]: ...
    def setup(self, projection: Projection) -> None: ...
    def reset(self, projection: Projection) -> None: ...


VIEW_CACHE_KIB = 256 * 1024
VIEW_CHECKPOINT_PAGES = 65_536
"""WAL pages (of 4 KiB) the views' writer lets pile up before it checkpoints them into the
database (SQLite's default: 1,000). A page a batch rewrites is copied back once per
checkpoint, not once per thousand pages."""
VERSIONS = "projection_version"
"""Each projection's table version (``Projection.version``), beside the tracking table."""
FAILURES = "projection_failure"
"""The stuck projections: the event each could not apply and the error (see ``Failure``)."""
FAILURE_COLUMNS = ("name", "notification_id", "originator_id", "originator_version", "topic",
                   "error", "failed_at")


class _Rollback(Exception):
    """Ends a trial transaction: nothing it did is kept."""


class _Datastore(Protocol):
    """Either library datastore: a transaction yields its cursor."""

    def transaction(self, *, commit: bool) -> AbstractContextManager[DBCursor]: ...


D = TypeVar("D", bound=_Datastore)


class _ViewsMixin(Generic[D]):
    """The view operations both backends share; ``_enter`` prepares a transaction's cursor.
    ``_insert_tracking`` and ``max_tracking_id`` come from the library's tracking recorder
    (``D`` is its datastore's class)."""

    dialect: str
    tracking_table: str
    datastore: D

    if TYPE_CHECKING:  # the tracking recorder's, declared for the type checker only
        def _insert_tracking(self, c: Any, tracking: Tracking) -> None: ...
        def max_tracking_id(self, application_name: str) -> int | None: ...

    def _enter(self, c: DBCursor) -> None:
        """Nothing to prepare by default."""

    def _creating(self, cur: ViewCursor) -> None:
        """Nothing by default: SQLite makes one writer at a time already."""

    def _create_failures(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._enter(c)
            cur = ViewCursor(c, self.dialect)
            self._creating(cur)
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {FAILURES} (name TEXT PRIMARY KEY, "
                "notification_id BIGINT NOT NULL, originator_id TEXT NOT NULL, "
                "originator_version BIGINT NOT NULL, topic TEXT NOT NULL, error TEXT NOT NULL, "
                "failed_at TEXT NOT NULL)")

    def _fence(self, cur: ViewCursor, since: dict[str, int]) -> None:
        """Take the write lock of each projection named in ``since`` for the transaction, then
        check that each is still at that position (``PositionMoved`` when it is not)."""
        self._lock(cur, list(since))
        for name, expected in since.items():
            cur.execute(f"SELECT MAX(notification_id) FROM {self.tracking_table} "
                        "WHERE application_name = ?", (name,))
            row = cur.fetchone()
            found = int(row[0]) if row and row[0] is not None else 0
            if found != expected:
                raise PositionMoved(name, expected, found)

    def _lock(self, cur: ViewCursor, names: Sequence[str]) -> None:
        """SQLite: a write lock now, not at the first write (a transaction that only read
        must not find its snapshot stale when it starts writing); the whole file's, whatever
        the projections ``names``."""
        cur.execute(f"DELETE FROM {FAILURES} WHERE 0")

    def apply_batch(self, projection: Projection, events: Sequence[Notified],
                    position: int | None, failure: Failure | None = None,
                    since: int | None = None) -> None:
        """One projection's events and its new position (None: it stays) in one transaction,
        with the failure that stops it there when there is one; fenced when the position the
        events were read from (``since``) is given."""
        with self.datastore.transaction(commit=True) as c:
            self._enter(c)
            cur = ViewCursor(c, self.dialect)
            if since is not None:
                self._fence(cur, {projection.tracking_name: since})
            if events:
                projection.apply(cur, events)
            if position is not None:
                self._insert_tracking(c, Tracking(projection.tracking_name, position))
            if failure is not None:
                cur.execute(f"INSERT INTO {FAILURES} ({', '.join(FAILURE_COLUMNS)}) VALUES "
                            f"({', '.join('?' * len(FAILURE_COLUMNS))}) ON CONFLICT (name) DO "
                            "UPDATE SET " + ", ".join(f"{col} = excluded.{col}"
                                                      for col in FAILURE_COLUMNS[1:]),
                            tuple(getattr(failure, col) for col in FAILURE_COLUMNS))

    def attempt(self, projection: Projection, events: Sequence[Notified]) -> Exception | None:
        """Apply ``events`` in a transaction that is always rolled back: what the projection
        raised, or None when they apply (finding the event a projection cannot apply)."""
        try:
            with self.datastore.transaction(commit=True) as c:
                self._enter(c)
                projection.apply(ViewCursor(c, self.dialect), events)
                raise _Rollback
        except _Rollback:
            return None
        except Exception as e:  # the projection's own error, whatever it is
            return e

    def failures(self) -> dict[str, Failure]:
        """The stuck projections by name."""
        return {r[0]: Failure(r[0], int(r[1]), str(r[2]), int(r[3]), *r[4:])
                for r in self.query(f"SELECT {', '.join(FAILURE_COLUMNS)} FROM {FAILURES}")}

    def clear_failures(self, names: Sequence[str] | None = None) -> None:
        """Forget why ``names`` (every projection when None) were stuck: the runner tries
        them again from their positions."""
        with self.datastore.transaction(commit=True) as c:
            self._enter(c)
            cur = ViewCursor(c, self.dialect)
            if names is None:
                cur.execute(f"DELETE FROM {FAILURES}")
            for name in names or ():
                cur.execute(f"DELETE FROM {FAILURES} WHERE name = ?", (name,))

    def apply_batches(self, batches: Sequence[tuple[Projection, Sequence[Notified]]],
                      position: int, spent: dict[str, float] | None = None,
                      since: dict[str, int] | None = None) -> None:
        """Several projections' batches and their new position in one transaction (seconds
        each took added to ``spent``); fenced when the positions the batches were read from
        (``since``, by projection name) are given."""
        with self.datastore.transaction(commit=True) as c:
            self._enter(c)
            cur = ViewCursor(c, self.dialect)
            if since is not None:
                self._fence(cur, {p.tracking_name: since[p.name] for p, _ in batches})
            for projection, events in batches:
                started = perf_counter()
                if events:
                    projection.apply(cur, events)
                self._insert_tracking(c, Tracking(projection.tracking_name, position))
                if spent is not None:
                    spent[projection.name] += perf_counter() - started

    def position(self, projection: Projection) -> int:
        return self.max_tracking_id(projection.tracking_name) or 0

    def positions(self) -> dict[str, int]:
        """Every tracked position by tracking name (``Projection.tracking_name``), in one
        query: what a wait on read models run by other processes polls."""
        return {str(name): int(nid) for name, nid in self.query(
            f"SELECT application_name, MAX(notification_id) FROM {self.tracking_table} "
            "GROUP BY application_name") if nid is not None}

    def setup(self, projection: Projection) -> None:
        """Create the projection's tables; tables of another version (a view from before a
        change of its shape; no recorded version is version 1) are dropped and created
        empty with the position, so the runner builds them again from the first event."""
        with self.datastore.transaction(commit=True) as c:
            self._enter(c)
            cur = ViewCursor(c, self.dialect)
            self._creating(cur)
            cur.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS} (name TEXT PRIMARY KEY, "
                        "version BIGINT NOT NULL)")
            cur.execute(f"SELECT version FROM {VERSIONS} WHERE name = ?", (projection.name,))
            row = cur.fetchone()
            if (int(row[0]) if row else 1) != projection.version:
                self._reset(cur, projection)
            else:
                projection.create(cur)
            if row is None or int(row[0]) != projection.version:
                cur.execute(f"INSERT INTO {VERSIONS} (name, version) VALUES (?, ?) ON CONFLICT "
                            "(name) DO UPDATE SET version = excluded.version",
                            (projection.name, projection.version))

    def reset(self, projection: Projection) -> None:
        """Drop the projection's tables and its position, and create them empty."""
        with self.datastore.transaction(commit=True) as c:
            self._enter(c)
            self._reset(ViewCursor(c, self.dialect), projection)

    def _reset(self, cur: ViewCursor, projection: Projection) -> None:
        projection.drop(cur)
        cur.execute(f"DELETE FROM {self.tracking_table} WHERE application_name=?",
                    (projection.tracking_name,))
        cur.execute(f"DELETE FROM {FAILURES} WHERE name = ?", (projection.name,))
        projection.create(cur)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.datastore.transaction(commit=False) as c:
            self._enter(c)
            cur = ViewCursor(c, self.dialect)
            cur.execute(sql, params)
            return cur.fetchall()


class SQLiteViews(_ViewsMixin[SQLiteDatastore], SQLiteTrackingRecorder):
    dialect = "sqlite"
    tracking_table = "tracking"

    def _enter(self, c: DBCursor) -> None:
        # A batch touches many pages of the views' indexes: with SQLite's default 2 MB page
        # cache they are spilled and read back within the transaction.
        c.execute(f"PRAGMA cache_size=-{VIEW_CACHE_KIB}")
        c.execute(f"PRAGMA wal_autocheckpoint={VIEW_CHECKPOINT_PAGES}")

    def __init__(self, datastore: SQLiteDatastore) -> None:
        super().__init__(datastore)
        self.create_table()
        self._create_failures()


class PostgresViews(_ViewsMixin[PostgresDatastore], PostgresTrackingRecorder):
    dialect = "postgres"
    tracking_table = "gridcore_tracking"

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(datastore, tracking_table_name=self.tracking_table)
        try:
            self.create_table()
        except IntegrityError:  # another process made the table, and its mark, since the
            self.create_table()  # library looked (before the lock): it sees them now
        self._create_failures()

    def _create_table(self, c: Any) -> None:
        """The library's tracking table, in its transaction: one process at a time."""
        self._creating(ViewCursor(c, self.dialect))
        super()._create_table(c)

    def _creating(self, cur: ViewCursor) -> None:
        """One process at a time creates or changes this schema's tables, until the
        transaction ends: processes started together (a group's runner each, the server)
        otherwise race on PostgreSQL's catalogue (``CREATE TABLE IF NOT EXISTS`` of the same
        table: a unique violation on ``pg_type``) and one of them fails to start. The key is
        the one the application's recorder takes for its tables (``adapters.postgres_store``)."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))",
                    (f"gridcore-ddl:{self.datastore.schema or 'public'}",))

    def _enter(self, c: DBCursor) -> None:
        c.execute(f"SET LOCAL search_path TO {self.datastore.schema or 'public'}")

    def _lock(self, cur: ViewCursor, names: Sequence[str]) -> None:
        """One writer at a time of each of the projections ``names`` (tracking names, taken
        in sorted order, so two writers never wait on each other crosswise), until the
        transaction ends: a killed runner's commit still in flight holds its locks until the
        server has finished it. Runners of disjoint projections (the groups' processes) write
        side by side; each projection's tables are its own."""
        schema = self.datastore.schema or "public"
        for name in sorted(names):
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))",
                        (f"gridcore-views:{schema}:{name}",))


def views_for(app: Application[Any]) -> SQLiteViews | PostgresViews:
    """The view backend of the application's store: on PostgreSQL the events' own schema; on
    SQLite the read models' own file beside the events' (the store's ``views_datastore``: one
    writer per SQLite file, so the runner and the commands each write their own), its old
    read-model tables in the events' file dropped the first time; an in-memory application
    gets an in-memory SQLite database of its own."""
    datastore = getattr(app.factory, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        return PostgresViews(datastore)
    if isinstance(datastore, SQLiteDatastore):
        own = getattr(app.factory, "views_datastore", None)
        views = SQLiteViews(own() if own is not None else datastore)
        if views.datastore is not datastore:
            retire_views_in(datastore)
        return views
    return SQLiteViews(SQLiteDatastore(f"file:views-{uuid4().hex}?mode=memory&cache=shared"))


def retire_views_in(events: SQLiteDatastore) -> None:
    """Drop the read models' tables from an events file that held them (a store made before
    the read models had a file of their own): their rows are rebuilt from the log in the
    new file, and the events' file stops carrying pages nobody reads. Once: the versions
    table goes last, in the same transaction, and its absence says there is nothing to do."""
    with events.transaction(commit=False) as c:
        c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {str(r[0]) for r in c.fetchall()}
    if VERSIONS not in tables:
        return
    from projections import all_projections  # the registry imports every read model

    with events.transaction(commit=True) as c:
        for p in all_projections():
            for table in p.tables:
                c.execute(f"DROP TABLE IF EXISTS {table}")
        if SQLiteViews.tracking_table in tables:  # the event feed's position stays
            c.execute(f"DELETE FROM {SQLiteViews.tracking_table} "
                      "WHERE application_name LIKE 'projection:%'")
        c.execute(f"DROP TABLE IF EXISTS {FAILURES}")
        c.execute(f"DROP TABLE IF EXISTS {VERSIONS}")
