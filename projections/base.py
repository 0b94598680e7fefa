"""What a projection is: its tables, its event handlers (registered per event class with
``@handles``; the topics it follows are derived from them), how a batch of events changes the
tables, and, in its module, the typed queries the API and the commands' callers read it with.
It never calls commands; it reads event classes and topics only.

A batch is applied in three steps: ``begin`` prepares the batch's state (the rows it loads,
the changes it folds), each event goes to its class's handler with that state (one dict
look-up per event: the runner hands over only events of the followed topics, decoded as
their own classes), and ``end`` writes what was folded, with one ``executemany`` per
statement shape. A read model that must see the whole batch first (the grid rollup loads the
rows its events touch) does that in ``begin``.

SQL is written once for SQLite and PostgreSQL: ``?`` placeholders (translated for psycopg),
``TEXT``/``BIGINT``/``DOUBLE PRECISION`` columns, and ``INSERT ... ON CONFLICT`` upserts, which
both databases accept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast

from eventsourcing.utils import get_topic

from gridcore.base import event_id

if TYPE_CHECKING:
    from psycopg import Cursor

Row = tuple[Any, ...]
"""A row as a query reads it (its columns' types are the query's: the typed queries of each
read model turn rows into their dataclasses)."""


class DBCursor(Protocol):
    """What is used of the cursor of a views' transaction: eventsourcing's ``SQLiteCursor``
    or psycopg's ``Cursor``."""

    def execute(self, query: str, params: Any = ..., /) -> object: ...
    def executemany(self, query: str, params: Any, /) -> object: ...
    def fetchall(self) -> Sequence[Any]: ...
    def fetchone(self) -> Any: ...


class ReadViews(Protocol):
    """What the typed queries read the views through (``projections.views.Views`` and
    anything else that answers SQL with rows)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class ViewCursor:
    """A DB-API cursor of either database, with ``?`` placeholders."""

    def __init__(self, cursor: DBCursor, dialect: str) -> None:
        if dialect == "postgres":  # plain tuples: dict rows would merge same-named columns
            from psycopg.rows import tuple_row

            # (on PostgreSQL the transaction's cursor is psycopg's, which has a connection)
            cursor = cast("Cursor[Any]", cursor).connection.cursor(row_factory=tuple_row)
        self.cursor, self.dialect = cursor, dialect
        self._staged = 0

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def insert(self, table: str, columns: str, rows: Sequence[Sequence[Any]],
               conflict: str = "", fresh: bool = False) -> None:
        """``INSERT INTO table (columns) VALUES (...) conflict`` for each row, as one set on
        PostgreSQL (on SQLite, and for a few rows, ``executemany``). An upsert's rows must
        have distinct keys (PostgreSQL refuses to update a row twice in one statement); rows
        a ``DO NOTHING`` passes over must be the same rows.

        On PostgreSQL a plain insert's rows are copied straight into the table. An upsert's
        are copied into a staging table of those columns and inserted from there in one
        statement, unless the caller knows their keys are new (``fresh``: a household's row
        made by its registration): then they are copied straight in too, which costs the
        server a fraction of the upsert, and if a key is there after all (a unique
        violation), that copy is undone (a savepoint) and the rows go through the upsert."""
        if not rows:
            return
        if self.dialect != "postgres" or len(rows) < STAGE_ROWS:
            marks = ", ".join("?" * len(rows[0]))
            self.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}",
                             rows)
            return
        if not conflict:
            self._copy(table, columns, rows)
            return
        if fresh:
            from psycopg.errors import UniqueViolation

            try:
                with cast("Cursor[Any]", self.cursor).connection.transaction():  # a savepoint
                    self._copy(table, columns, rows)
                return
            except UniqueViolation:
                pass  # a key was there: the copy is undone, the upsert decides
        self._staged += 1
        stage = f"_stage_{self._staged}_{table}"  # temporary: gone with the transaction
        self.cursor.execute(f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
                            f"SELECT {columns} FROM {table} WITH NO DATA")
        self._copy(stage, columns, rows)
        self.cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM {stage} {conflict}")
        self.cursor.execute(f"DROP TABLE {stage}")

    def upsert(self, table: str, columns: str, rows: Sequence[Sequence[Any]], conflict: str,
               new: Collection[Any]) -> None:
        """``insert`` of ``rows``, those whose key (their first column) is in ``new`` (made in
        this batch, so no row of theirs is stored) as ``fresh``."""
        self.insert(table, columns, [r for r in rows if r[0] in new], conflict, fresh=True)
        self.insert(table, columns, [r for r in rows if r[0] not in new], conflict)

    def _copy(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        with cast("Cursor[Any]", self.cursor).copy(f"COPY {table} ({columns}) FROM STDIN") \
                as copy:
            for row in rows:
                copy.write_row(row)

    def fetchall(self) -> list[Row]:
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r)
                for r in self.cursor.fetchall()]

    def fetchone(self) -> Row | None:
        row = self.cursor.fetchone()
        if row is None:
            return None
        return tuple(row.values()) if isinstance(row, dict) else tuple(row)


class BufferedInserts(ViewCursor):
    """A batch's cursor (a projection's ``begin`` returns it, its ``end`` calls ``flush``)
    whose ``insert`` rows wait and go in as one set per table and statement: on PostgreSQL a
    read model that inserts a row per event otherwise pays a round trip per event (the places
    read model: 57% of a catch-up of bulk registrations). Its ``change`` updates wait too,
    the first or the last per row, and go in after the new rows, one statement each. Every
    other statement writes what waits first, so the handlers see the rows of earlier events as
    before."""

    def __init__(self, inner: ViewCursor) -> None:  # shares ``inner``'s database cursor
        self.inner, self.cursor, self.dialect = inner, inner.cursor, inner.dialect
        self._waiting: dict[tuple[str, str, str, bool], list[Sequence[Any]]] = {}
        self._changes: dict[str, dict[Hashable, Sequence[Any]]] = {}

    def insert(self, table: str, columns: str, rows: Sequence[Sequence[Any]],
               conflict: str = "", fresh: bool = False) -> None:
        self._waiting.setdefault((table, columns, conflict, fresh), []).extend(rows)

    def change(self, sql: str, row: Hashable, params: Sequence[Any], first: bool = False
               ) -> None:
        """``sql`` (an ``UPDATE`` of one row) with ``params`` for the row ``row``, where the
        last such change of the batch decides, or the first (``first``: a value set once,
        which the statement's own guard keeps, such as ``... AND at IS NULL``). One statement
        per ``sql`` instead of one per event, after the batch's new rows."""
        rows = self._changes.setdefault(sql, {})
        if first:
            rows.setdefault(row, params)
        else:
            rows.pop(row, None)
            rows[row] = params

    def unchange(self, sql: str, row: Hashable) -> None:
        """Forget the waiting change ``sql`` of ``row`` (a later event made it moot)."""
        self._changes.get(sql, {}).pop(row, None)

    def flush(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for (table, columns, conflict, fresh), rows in waiting.items():
            self.inner.insert(table, columns, rows, conflict, fresh)
        changes, self._changes = self._changes, {}
        for sql, params in changes.items():
            self.inner.executemany(sql, list(params.values()))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.flush()
        self.inner.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.flush()
        self.inner.executemany(sql, rows)

    def fetchall(self) -> list[Row]:
        return self.inner.fetchall()

    def fetchone(self) -> Row | None:
        return self.inner.fetchone()


STAGE_ROWS = 64
"""Rows from which ``ViewCursor.insert`` stages them on PostgreSQL (fewer: one by one)."""


LeanEvent = Any
"""A stored event as the handlers get it: an instance of its own class, built leanly
(``projections.decode``: ids are canonical text, personal values ``None``), so not what its
class's annotations say; typed as ``Any`` for that reason only."""

Notified = tuple[int, LeanEvent]
"""A decoded event with its notification id (its position in the application's log)."""


Handler = Callable[[Any, Any, int, LeanEvent], None]
"""A projection's handler of one event class: (projection, batch state, notification id,
event)."""
F = TypeVar("F", bound=Callable[..., Any])


def handles(*classes: type) -> Callable[[F], F]:
    """Register the decorated method of a ``Projection`` as the handler of the events of
    ``classes`` (their exact classes: the runner decodes each stored event as its own class).
    The projection follows exactly the topics of the classes its handlers are registered
    for."""
    if not classes:
        raise TypeError("@handles needs at least one event class")

    def register(method: F) -> F:
        method.__handles__ = (*getattr(method, "__handles__", ()), *classes)  # type: ignore[attr-defined]
        return method
    return register


class Projection:
    """A read model: ``name``, ``version``, its tables, its handlers (``@handles``) and
    ``apply``. ``follows`` (the event classes) and ``topics()`` are derived from the
    handlers, so they cannot drift from what ``apply`` does."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    """The shape of its tables: a view stored at another version is rebuilt from zero."""
    handlers: ClassVar[Mapping[type, Handler]] = {}
    """Event class -> its handler, collected from the ``@handles`` methods (those of base
    classes too; a subclass may override a handler by name)."""
    follows: ClassVar[tuple[type, ...]] = ()
    """The event classes of ``handlers`` (derived: never written by hand)."""
    tables: ClassVar[tuple[str, ...]]
    ddl: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "follows" in vars(cls) or "handlers" in vars(cls):
            raise TypeError(f"{cls.__name__}: register handlers with @handles; the events "
                            "followed are derived from them")
        names: dict[type, str] = {}
        for base in reversed(cls.__mro__[1:]):
            names.update(getattr(base, "_handler_names", {}))
        own: dict[type, str] = {}
        for attr, value in vars(cls).items():
            for event_class in getattr(value, "__handles__", ()):
                if event_class in own:
                    raise TypeError(f"{cls.__name__}: {event_class.__qualname__} is handled "
                                    f"by both {own[event_class]} and {attr}")
                own[event_class] = attr
        names.update(own)
        cls._handler_names = names
        cls.handlers = {c: getattr(cls, attr) for c, attr in names.items()}
        cls.follows = tuple(names)

    _handler_names: ClassVar[dict[type, str]] = {}

    @classmethod
    def topics(cls) -> list[str]:
        return [get_topic(c) for c in cls.follows]

    @property
    def tracking_name(self) -> str:
        return f"projection:{self.name}"

    def create(self, cur: ViewCursor) -> None:
        for statement in self.ddl:
            cur.execute(statement)

    def drop(self, cur: ViewCursor) -> None:
        for table in self.tables:
            cur.execute(f"DROP TABLE IF EXISTS {table}")

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> Any:
        """The batch's state the handlers fold into (by default the cursor itself)."""
        return cur

    def end(self, cur: ViewCursor, state: Any) -> None:
        """Write what the handlers folded into ``state`` (nothing by default)."""

    def apply(self, cur: ViewCursor, events: Sequence[Notified]) -> None:
        """Change the tables for a batch of events, in log order, inside one transaction:
        ``begin``, each event to its class's handler, ``end``."""
        state = self.begin(cur, events)
        handlers = self.handlers
        for nid, e in events:
            handlers[type(e)](self, state, nid, e)
        self.end(cur, state)


@dataclass(frozen=True)
class Failure:
    """Why a projection is stuck: the first event it could not apply (its position stays just
    before it) and the error. Kept in ``projection_failure`` beside the positions, so every
    process (``gridcore projections status``, the API's ``/healthz``) sees it."""

    name: str
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    error: str
    failed_at: str
    """When it was found (UTC, ISO text)."""

    @property
    def event_id(self) -> str:
        """The event's id as the outbound feed carries it (uuid5 of aggregate id and
        version), so a stuck read model and the feed name the same event."""
        return str(event_id(self.originator_id, self.originator_version))

    @property
    def error_type(self) -> str:
        """The error's class name only (what the API shows in production)."""
        return self.error.split(":", 1)[0]

    def describe(self) -> str:
        return (f"{self.name} is stuck (卡住) at notification {self.notification_id}: event "
                f"{self.event_id} ({self.originator_id} v{self.originator_version}, "
                f"{self.topic}): {self.error}")
