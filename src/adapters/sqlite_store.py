"""The embedded default: one SQLite file holding events, subject keys and read models.

eventsourcing's SQLite recorder, with the subject-key table written in the events'
transaction, a multi-row insert (``executemany``) instead of one statement per event, and
``synchronous=NORMAL``, the usual setting for WAL mode.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import sqlite
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteConnection, SQLiteCursor, SQLiteDatastore

from adapters.keyed_factory import KeyedFactoryMixin
from adapters.vault import KEY_TABLE, KeyVault


class KeyedSQLiteRecorder(sqlite.SQLiteApplicationRecorder):
    vault: KeyVault

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (subject_id TEXT PRIMARY KEY, "
                "key BLOB NOT NULL) WITHOUT ROWID"]

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        erasing = bool(self.vault.take_pending()[1])
        try:
            ids = super().insert_events(stored_events, **kwargs)
        except BaseException:
            self.vault.rolled_back()
            raise
        self.vault.committed()
        if erasing:
            self.checkpoint()
        return ids

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate it: an erased key's
        page was zeroed (secure_delete), but older copies of it stay in the WAL until then."""
        try:
            with self.datastore.get_connection(commit=True) as conn:
                busy = conn._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except Exception:  # the erasure is committed; do not fail the command after the fact
            busy = 1
        if busy:
            logging.getLogger(__name__).warning(
                "An erased subject key may remain in the SQLite WAL until the next checkpoint.")

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **_: Any) -> Sequence[int] | None:
        new, erase = self.vault.take_pending()
        if new:
            c.executemany(f"INSERT INTO {KEY_TABLE} (subject_id, key) VALUES (?, ?)",
                          [(sid.hex, key) for sid, key in new.items()])
        if erase:
            c.execute("PRAGMA secure_delete=ON")
            c.executemany(f"DELETE FROM {KEY_TABLE} WHERE subject_id=?",
                          [(sid.hex,) for sid in erase])
        if not stored_events:
            return []
        c.executemany(self.insert_events_statement, [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
             s.originator_version, s.topic, s.state) for s in stored_events])
        # Rowids are max+1 per insert and the write lock is held: the new ids are contiguous.
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        last = c.fetchone()[0]
        return list(range(last - len(stored_events) + 1, last + 1))

    def load_keys(self, ids: list[UUID]) -> dict[UUID, bytes]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subject_id, key FROM {KEY_TABLE} WHERE subject_id IN "
                      f"({','.join('?' * len(ids))})", [i.hex for i in ids])
            return {UUID(row[0]): row[1] for row in c.fetchall()}


def _tune(datastore: SQLiteDatastore) -> None:
    pool = datastore.pool
    create = pool._create_connection

    def create_tuned() -> SQLiteConnection:
        conn = create()
        raw: sqlite3.Connection = conn._sqlite_conn
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA secure_delete=ON")
        return conn

    pool._create_connection = create_tuned  # type: ignore[method-assign]


class Factory(KeyedFactoryMixin, sqlite.SQLiteFactory):
    application_recorder_class = KeyedSQLiteRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        _tune(self.datastore)
        self._init_vault()
