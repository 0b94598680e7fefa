"""What a projection is: the event topics it follows, its tables, and how a batch of events
changes them. It never calls commands; it reads event classes and topics only.

SQL is written once for SQLite and PostgreSQL: ``?`` placeholders (translated for psycopg),
``TEXT``/``BIGINT``/``DOUBLE PRECISION`` columns, and ``INSERT ... ON CONFLICT`` upserts, which
both databases accept.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.utils import get_topic

from gridcore.base import event_id


class ViewCursor:
    """A DB-API cursor of either database, with ``?`` placeholders."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        if dialect == "postgres":  # plain tuples: dict rows would merge same-named columns
            from psycopg.rows import tuple_row

            cursor = cursor.connection.cursor(row_factory=tuple_row)
        self.cursor, self.dialect = cursor, dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r)
                for r in self.cursor.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self.cursor.fetchone()
        if row is None:
            return None
        return tuple(row.values()) if isinstance(row, dict) else tuple(row)


Notified = tuple[int, Any]
"""A decoded event with its notification id (its position in the application's log)."""


class Projection(ABC):
    """A read model: ``name``, ``version``, the event classes it follows, its tables, and
    ``apply``."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    """The shape of its tables: a view stored at another version is rebuilt from zero."""
    follows: ClassVar[tuple[type, ...]]
    tables: ClassVar[tuple[str, ...]]
    ddl: ClassVar[tuple[str, ...]]

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

    @abstractmethod
    def apply(self, cur: ViewCursor, events: Sequence[Notified]) -> None:
        """Change the tables for a batch of events, in log order, inside one transaction."""


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
