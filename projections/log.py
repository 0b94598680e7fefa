"""Reading the application's event log as plain rows, for the projections.

The library's ``select_notifications`` builds a ``Notification`` object per row (and a UUID
per originator id); on a catch-up over a million events that costs several times the read.
Here the same rows come back as plain tuples straight from the database driver (SQLite,
PostgreSQL), or, for any other recorder (the in-memory one), from ``select_notifications``.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from projections.decode import RawRow


class LogReader:
    """``read(after, upto, limit, topics)``: the log's rows with ids in ``(after, upto]`` whose
    topic is one of ``topics``, in order, at most ``limit``."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def read(self, after: int, upto: int, limit: int, topics: Sequence[str]) -> list[RawRow]:
        notes = self.recorder.select_notifications(start=after + 1, limit=limit, stop=upto,
                                                   topics=list(topics))
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notes]


class SQLiteLogReader(LogReader):
    recorder: SQLiteApplicationRecorder

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.recorder = recorder

    def read(self, after: int, upto: int, limit: int, topics: Sequence[str]) -> list[RawRow]:
        table = self.recorder.events_table_name
        sql = (f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
               f"WHERE rowid > ? AND rowid <= ? AND topic IN ({','.join('?' * len(topics))}) "
               "ORDER BY rowid LIMIT ?")
        with self.recorder.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor.connection.cursor()
            cursor.row_factory = None  # plain tuples
            try:
                cursor.execute(sql, (after, upto, *topics, limit))
                return cursor.fetchall()
            finally:
                cursor.close()


class PostgresLogReader(LogReader):
    recorder: PostgresApplicationRecorder

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.recorder = recorder

    def read(self, after: int, upto: int, limit: int, topics: Sequence[str]) -> list[RawRow]:
        from psycopg.rows import tuple_row

        datastore = self.recorder.datastore
        sql = (f"SELECT notification_id, originator_id::text, originator_version, topic, state "
               f"FROM {datastore.schema or 'public'}.{self.recorder.events_table_name} "
               "WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s) "
               "ORDER BY notification_id LIMIT %s")
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(sql, (after, upto, list(topics), limit), prepare=True)
            return cur.fetchall()


def log_reader(recorder: ApplicationRecorder) -> LogReader:
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteLogReader(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresLogReader(recorder)
    return LogReader(recorder)
