"""PostgreSQL, for districts and cities: eventsourcing's recorder plus the subject-key table.

The keys of a save are written by the same transaction as its events. Large saves are the
caller's to chunk; the application caps a batch at ``MAX_BATCH``. A save of ``COPY_FROM`` or
more events (a bulk registration) writes its keys and events with binary ``COPY`` instead of
the library's insert over a composite-type array (psycopg escaping it as text, the server
parsing it): in the registration benchmark (40,000 households, 3.5 key rows each, a shared
2-core machine) that took registration from 3,300-4,800 to 7,600-10,600 events/s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import postgres
from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from adapters.kek import RAW_KEY_LENGTH, KeyRing
from adapters.keyed_factory import KeyedFactoryMixin
from adapters.vault import KEY_TABLE, KeyVault

COPY_FROM = 256
"""Saves of at least this many events (or new keys) are written with binary ``COPY``."""


class KeyedPostgresRecorder(postgres.PostgresApplicationRecorder):
    vault: KeyVault

    def __init__(self, datastore: postgres.PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.key_table = SQL("{0}.{1}").format(Identifier(datastore.schema or "public"),
                                               Identifier(KEY_TABLE))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0} (subject_id uuid PRIMARY KEY, key bytea NOT NULL)"
        ).format(self.key_table))
        self.events_table = SQL("{0}.{1}").format(Identifier(datastore.schema or "public"),
                                                  Identifier(self.events_table_name))

    def create_table(self) -> None:
        """The library's, safe when processes start together on a new schema (the server and
        the read models' groups): PostgreSQL's catalogue otherwise makes one of them fail (a
        unique violation on ``pg_type``, "tuple concurrently updated" on the function). Its
        tables and function are made one process at a time (``_create_table``); its type, in
        a transaction of its own, may still meet another process's: then the type exists,
        and the second try passes it by."""
        try:
            super().create_table()
        except IntegrityError:
            super().create_table()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                     (f"gridcore-ddl:{self.datastore.schema or 'public'}",))
        super()._create_table(curs)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Keys and events in one transaction, statement by statement.

        eventsourcing pipelines these statements; with a large batch the client can block
        writing a multi-megabyte insert while the server blocks writing earlier results
        (a pipeline deadlock, as in psycopg issue #685), so this path does not pipeline.
        """
        ids: Sequence[int] | None = None
        try:
            with (self.datastore.get_connection() as conn, conn.transaction(),
                  conn.cursor() as curs):
                self._insert_events(curs, stored_events, **kwargs)
                if len(stored_events) >= COPY_FROM:
                    ids = self._copy_stored_events(curs, stored_events)
                elif stored_events:
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        except BaseException:
            self.vault.rolled_back()
            raise
        self.vault.committed()
        return ids

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        if any(self.vault.has_pending()):
            # Locked before the keys are wrapped (the KEK file looked at): a rotation re-wraps
            # holding a lock that waits for this one, so this save is either re-wrapped by it
            # or sees the KEK it has put first (adapters.key_rotation). Writers do not block
            # each other (ROW EXCLUSIVE is what their inserts take anyway). An erasure may
            # re-wrap a pack.
            curs.execute(SQL("LOCK TABLE {0} IN ROW EXCLUSIVE MODE").format(self.key_table))
        new, erase = self.vault.take_pending_stored()
        if len(new) >= COPY_FROM:
            with curs.copy(SQL("COPY {0} (subject_id, key) FROM STDIN (FORMAT BINARY)").format(
                    self.key_table)) as copy:
                copy.set_types(["uuid", "bytea"])
                for row in new.items():
                    copy.write_row(row)
        elif new:
            # One statement over arrays: a large executemany inside psycopg's pipeline can hang.
            curs.execute(SQL("INSERT INTO {0} (subject_id, key) "
                             "SELECT * FROM unnest(%s::uuid[], %s::bytea[])").format(
                self.key_table), (list(new), list(new.values())))
        if erase:
            curs.execute(SQL("SELECT subject_id, key FROM {0} WHERE subject_id = ANY(%s) "
                             "FOR UPDATE").format(self.key_table),
                         (list(self.vault.erasure_rows()),))
            changes = self.vault.settle_erasure(
                {r["subject_id"]: bytes(r["key"]) for r in curs.fetchall()})
            gone = [sid for sid, after in changes.items() if after is None]
            kept = [(sid, after) for sid, after in changes.items() if after is not None]
            if gone:
                curs.execute(SQL("DELETE FROM {0} WHERE subject_id = ANY(%s)").format(
                    self.key_table), (gone,))
            if kept:
                curs.execute(SQL("UPDATE {0} AS k SET key = v.key FROM unnest(%s::uuid[], "
                                 "%s::bytea[]) AS v(subject_id, key) WHERE k.subject_id = "
                                 "v.subject_id").format(self.key_table),
                             ([sid for sid, _ in kept], [key for _, key in kept]))

    def _copy_stored_events(self, curs: Cursor[DictRow],
                            stored_events: Sequence[StoredEvent]) -> list[int]:
        """The library's insert as a binary ``COPY``: the same table lock (so notification
        ids are issued in commit order) and ``NOTIFY``. Under that lock no other transaction
        draws from the ids' sequence, so the new ids are contiguous; the first event's id,
        read back by its primary key, and the sequence's last value say which they are."""
        self._lock_table(curs)
        self._notify_channel(curs)
        with curs.copy(SQL("COPY {0} (originator_id, originator_version, topic, state) "
                           "FROM STDIN (FORMAT BINARY)").format(self.events_table)) as copy:
            copy.set_types([self.datastore.originator_id_type, "int8", "text", "bytea"])
            for s in stored_events:
                copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
        first = stored_events[0]
        curs.execute(SQL("SELECT notification_id, currval(pg_get_serial_sequence(%s, "
                         "'notification_id')) AS last FROM {0} WHERE originator_id = %s AND "
                         "originator_version = %s").format(self.events_table),
                     (self.events_table.as_string(curs), first.originator_id,
                      first.originator_version))
        row = curs.fetchone()
        assert row is not None
        start, last = row["notification_id"], row["last"]
        if last - start + 1 != len(stored_events):
            msg = f"Notification ids {start}..{last} for {len(stored_events)} copied events"
            raise ProgrammingError(msg)
        return list(range(start, last + 1))

    def load_keys(self, ids: list[UUID]) -> dict[UUID, bytes]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT subject_id, key FROM {0} WHERE subject_id = ANY(%s)").format(
                self.key_table), (ids,))
            return {row["subject_id"]: bytes(row["key"]) for row in curs.fetchall()}

    def bulk_query(self, after: bool) -> Composed:
        """The events of several aggregates (the ids, and with ``after`` a version each to
        read past), by aggregate and version: a probe of the primary key per aggregate, a
        lateral subquery kept apart with ``OFFSET 0``. As a join, or ``= ANY``, the planner of
        a table without statistics (autovacuum off, or not yet run after a bulk load) read
        the whole log in parallel: 25 ms instead of 1.5 ms for a community's 30 micro-grids
        at 60,000 households, and growing with the log."""
        given = ("unnest(%s::{1}[], %s::bigint[]) AS w(id, after)" if after
                 else "unnest(%s::{1}[]) AS w(id)")
        past = " AND x.originator_version > w.after" if after else ""
        return SQL("SELECT e.originator_id, e.originator_version, e.topic, e.state "
                   f"FROM {given} CROSS JOIN LATERAL (SELECT * FROM {{0}} x "
                   f"WHERE x.originator_id = w.id{past} OFFSET 0) e "
                   "ORDER BY e.originator_id, e.originator_version").format(
                       self.events_table, SQL(self.datastore.originator_id_type))

    def select_events_of(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """The events of several aggregates in one query, by aggregate and version (see the
        SQLite recorder's)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.bulk_query(after=False), (list(ids),))
            return [StoredEvent(originator_id=r["originator_id"],
                                originator_version=r["originator_version"], topic=r["topic"],
                                state=bytes(r["state"])) for r in curs.fetchall()]

    def select_events_after(self, after: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """The events of several aggregates, each after a version of its own (0: all of
        them), in one query, by aggregate and version (see the SQLite recorder's)."""
        if not after:
            return []
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.bulk_query(after=True),
                         ([aid for aid, _ in after], [version for _, version in after]))
            return [StoredEvent(originator_id=r["originator_id"],
                                originator_version=r["originator_version"], topic=r["topic"],
                                state=bytes(r["state"])) for r in curs.fetchall()]

    def sample_key(self) -> bytes | None:
        """One stored key (the first), to check the KEKs against."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT key FROM {0} LIMIT 1").format(self.key_table))
            row = curs.fetchone()
            return None if row is None else bytes(row["key"])

    def keys_by_kek(self) -> dict[bytes | None, int]:
        """How many stored key rows (a key, or a pack of keys) each KEK id wraps (None: keys
        stored as they are)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT CASE WHEN octet_length(key) <> %s THEN substring(key from "
                             "2 for 8) END AS kid, count(*) AS n FROM {0} GROUP BY 1").format(
                self.key_table), (RAW_KEY_LENGTH,))
            return {None if r["kid"] is None else bytes(r["kid"]): r["n"]
                    for r in curs.fetchall()}

    def has_raw_keys(self) -> bool:
        """Whether the key table holds keys stored as they are (written before wrapping).
        One row tells: a store is migrated in one transaction, all its keys at once."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT octet_length(key) AS n FROM {0} LIMIT 1").format(
                self.key_table))
            row = curs.fetchone()
            return row is not None and row["n"] == RAW_KEY_LENGTH

    def rewrap_keys(self, ring: KeyRing, batch: int = 5000) -> int:
        """Re-wrap every stored key not wrapped with the ring's newest KEK (raw keys of an
        older store too), in one transaction; returns how many were re-wrapped."""
        done = 0
        after: UUID | None = None
        with (self.datastore.get_connection() as conn, conn.transaction(),
              conn.cursor() as curs):
            # waits for the saves that locked the table before wrapping (see _insert_events)
            # and holds off new ones until committed; readers go on
            curs.execute(SQL("LOCK TABLE {0} IN EXCLUSIVE MODE").format(self.key_table))
            while True:
                curs.execute(SQL("SELECT subject_id, key FROM {0} WHERE %s::uuid IS NULL OR "
                                 "subject_id > %s::uuid ORDER BY subject_id LIMIT %s").format(
                    self.key_table), (after, after, batch))
                rows = curs.fetchall()
                if not rows:
                    break
                after = rows[-1]["subject_id"]
                stale = [(r["subject_id"], ring.rewrap(r["subject_id"], bytes(r["key"])))
                         for r in rows if not ring.is_current(bytes(r["key"]))]
                if stale:
                    curs.execute(SQL("UPDATE {0} AS k SET key = v.key FROM unnest("
                                     "%s::uuid[], %s::bytea[]) AS v(subject_id, key) "
                                     "WHERE k.subject_id = v.subject_id").format(self.key_table),
                                 ([sid for sid, _ in stale], [key for _, key in stale]))
                    done += len(stale)
        return done


class Factory(KeyedFactoryMixin, postgres.PostgresFactory):
    application_recorder_class = KeyedPostgresRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._init_vault()
