"""The embedded default: one SQLite file holding events and subject keys, and a second one
beside it holding the read models (``views_path``).

eventsourcing's SQLite recorder, with the subject-key table written in the events'
transaction, a multi-row insert (``executemany``) instead of one statement per event, and
``synchronous=NORMAL``, the usual setting for WAL mode, a larger page cache and fewer WAL
checkpoints (``tune``).

The file (and its -wal and -shm companions, which SQLite creates with the file's mode) is
owner-only (0600), and its subject keys are stored wrapped with a key-encryption key that is
not in it (``adapters.kek``).

The read models live in a file of their own (``gridcore.views.sqlite`` beside
``gridcore.sqlite``; ``SQLITE_VIEWS_DBNAME`` names another): SQLite has one writer per file,
so in one file a read model's batch (seconds, in a catch-up) held the lock the commands
wait for, and a read-model process could not run beside a writing one. In their own file the
runner writes while the commands write, each on its own core; the views hold no personal
data and can always be rebuilt from the log, so nothing is lost if the file is.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing import sqlite
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteConnection, SQLiteCursor, SQLiteDatastore

from adapters.kek import RAW_KEY_LENGTH, KeyRing
from adapters.keyed_factory import KeyedFactoryMixin
from adapters.vault import KEY_TABLE, KeyVault


class KeyedSQLiteRecorder(sqlite.SQLiteApplicationRecorder):
    vault: KeyVault

    _reshaped = False

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *KEY_TABLE_STATEMENTS]

    def _create_table(self, c: SQLiteCursor) -> None:
        self._reshaped = reshape_key_table(c)
        super()._create_table(c)

    def create_table(self) -> None:
        super().create_table()
        if self._reshaped:  # the old table's pages are zeroed; its WAL copies go now
            self.checkpoint()
            self._reshaped = False

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        erasing = self.vault.has_pending()[1]
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
        if any(self.vault.has_pending()):
            # The write lock before the keys are wrapped (the KEK file looked at): a rotation
            # re-wraps under the same lock, so this save is either re-wrapped by it or sees
            # the KEK it has put first (adapters.key_rotation). An erasure may re-wrap a pack.
            c.execute(f"DELETE FROM {KEY_TABLE} WHERE 0")
        new, erase = self.vault.take_pending_stored()
        if new:
            c.executemany(f"INSERT INTO {KEY_TABLE} (subject_id, key) VALUES (?, ?)",
                          [(sid.hex, key) for sid, key in new.items()])
        if erase:
            c.execute("PRAGMA secure_delete=ON")
            rows = [i.hex for i in self.vault.erasure_rows()]
            c.execute(f"SELECT subject_id, key FROM {KEY_TABLE} WHERE subject_id IN "
                      f"({','.join('?' * len(rows))})", rows)
            changes = self.vault.settle_erasure({UUID(r[0]): bytes(r[1]) for r in c.fetchall()})
            c.executemany(f"DELETE FROM {KEY_TABLE} WHERE subject_id=?",
                          [(sid.hex,) for sid, after in changes.items() if after is None])
            c.executemany(f"UPDATE {KEY_TABLE} SET key = ? WHERE subject_id = ?",
                          [(after, sid.hex) for sid, after in changes.items()
                           if after is not None])
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

    def select_events_of(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """The events of several aggregates in one query, by aggregate and version (a bulk
        read for ``gridcore.app_base.BulkEventReader``: a sweep reading 3,000 households one
        query each spent more in SQLite's statement round trips than in the replays)."""
        out: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit is far above
                chunk = ids[i:i + 500]
                c.execute(f"SELECT * FROM {self.events_table_name} WHERE originator_id IN "
                          f"({','.join('?' * len(chunk))}) "
                          "ORDER BY originator_id, originator_version", [u.hex for u in chunk])
                out.extend(StoredEvent(originator_id=self.convert_originator_id(r["originator_id"]),
                                       originator_version=r["originator_version"],
                                       topic=r["topic"], state=r["state"]) for r in c.fetchall())
        return out

    def select_events_after(self, after: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """The events of several aggregates, each after a version of its own (0: all of
        them), in one query per 400 aggregates, by aggregate and version (a bulk
        fast-forward of cached aggregates, ``gridcore.app_base.ApplicationBase._find_many``)."""
        out: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(after), 400):
                chunk = after[i:i + 400]
                c.execute(f"WITH wanted (id, after) AS (VALUES {','.join(['(?, ?)'] * len(chunk))}"
                          f") SELECT e.* FROM wanted w JOIN {self.events_table_name} e "
                          "ON e.originator_id = w.id AND e.originator_version > w.after "
                          "ORDER BY e.originator_id, e.originator_version",
                          [x for aid, version in chunk for x in (aid.hex, version)])
                out.extend(StoredEvent(originator_id=self.convert_originator_id(r["originator_id"]),
                                       originator_version=r["originator_version"],
                                       topic=r["topic"], state=r["state"]) for r in c.fetchall())
        return out

    def sample_key(self) -> bytes | None:
        """One stored key (the first), to check the KEKs against."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key FROM {KEY_TABLE} LIMIT 1")
            row = c.fetchone()
            return None if row is None else bytes(row[0])

    def keys_by_kek(self) -> dict[bytes | None, int]:
        """How many stored key rows (a key, or a pack of keys) each KEK id wraps (None: keys
        stored as they are)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT CASE WHEN length(key) <> ? THEN substr(key, 2, 8) END, count(*) "
                      f"FROM {KEY_TABLE} GROUP BY 1", [RAW_KEY_LENGTH])
            return {None if kid is None else bytes(kid): n for kid, n in c.fetchall()}

    def has_raw_keys(self) -> bool:
        """Whether the key table holds keys stored as they are (written before wrapping).
        One row tells: a store is migrated in one transaction, all its keys at once."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT length(key) FROM {KEY_TABLE} LIMIT 1")
            row = c.fetchone()
            return row is not None and row[0] == RAW_KEY_LENGTH

    def rewrap_keys(self, ring: KeyRing, batch: int = 5000) -> int:
        """Re-wrap every stored key not wrapped with the ring's newest KEK (raw keys of an
        older store too), in one transaction; returns how many were re-wrapped. Old pages are
        overwritten (secure_delete) and the WAL is checkpointed, so the file keeps no copy."""
        done, after = 0, ""
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete=ON")
            c.execute(f"DELETE FROM {KEY_TABLE} WHERE 0")  # the write lock first (see above)
            while True:
                c.execute(f"SELECT subject_id, key FROM {KEY_TABLE} WHERE subject_id > ? "
                          "ORDER BY subject_id LIMIT ?", [after, batch])
                rows = c.fetchall()
                if not rows:
                    break
                after = rows[-1][0]
                stale = [(ring.rewrap(UUID(sid), bytes(key)), sid)
                         for sid, key in rows if not ring.is_current(bytes(key))]
                if stale:
                    c.executemany(f"UPDATE {KEY_TABLE} SET key = ? WHERE subject_id = ?", stale)
                    done += len(stale)
        if done:
            self.checkpoint()
        return done


KEY_TABLE_STATEMENTS = (
    f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (subject_id TEXT NOT NULL, key BLOB NOT NULL)",
    f"CREATE UNIQUE INDEX IF NOT EXISTS {KEY_TABLE}_subject ON {KEY_TABLE} (subject_id)",
)
"""The subject keys: rows appended in the order they are written (SQLite's rowid), found by
subject through a unique index. Keyed by subject id (random UUIDs) as a clustered table
(``WITHOUT ROWID``), every batch of registrations inserted its key rows (about 200 bytes each)
all over the table, so each commit wrote most of its pages to the WAL again: 100,000
households, keys inserted and committed in 2.2 s against 0.9 s for this shape, where only the
index's small entries land all over (a prototype of the registration's rows, back to back)."""


def reshape_key_table(c: SQLiteCursor) -> bool:
    """Move the keys of a store made before ``KEY_TABLE_STATEMENTS`` (a ``WITHOUT ROWID``
    table keyed by subject) into a table of the current shape, in the caller's transaction;
    True if it did. The old table is dropped under ``secure_delete`` (its freed pages are
    zeroed), so no copy of a key erased later is left in them; the caller checkpoints the WAL
    after the commit."""
    c.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", [KEY_TABLE])
    row = c.fetchone()
    if row is None or "WITHOUT ROWID" not in row[0].upper():
        return False
    c.execute("PRAGMA secure_delete=ON")
    moved = f"{KEY_TABLE}_reshaped"
    c.execute(f"CREATE TABLE {moved} (subject_id TEXT NOT NULL, key BLOB NOT NULL)")
    c.execute(f"INSERT INTO {moved} (subject_id, key) SELECT subject_id, key FROM {KEY_TABLE}")
    c.execute(f"DROP TABLE {KEY_TABLE}")
    c.execute(f"ALTER TABLE {moved} RENAME TO {KEY_TABLE}")
    return True


STORE_CACHE_KIB = 256 * 1024
"""The page cache of each of the store's connections (SQLite's default: 2 MB). A batch of
10,000 registrations or visits inserts into the events' and keys' random-key indexes all over
them; past a few hundred thousand households those pages no longer fit in 2 MB and were
spilled and read back within the transaction. SQLite allocates the cache as pages are used."""
STORE_CHECKPOINT_PAGES = 65_536
"""WAL pages (of 4 KiB) the store's writers let pile up before one checkpoints them into the
database (SQLite's default: 1,000, which at scale copied the same scattered index pages back
into the file at nearly every commit). Generating a 200,000-household city took 76-85 s with
SQLite's defaults and 68 s with both settings, back to back."""


def tune(raw: sqlite3.Connection) -> None:
    """The store's settings on one connection (the benchmarks' raw baselines use them too)."""
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("PRAGMA secure_delete=ON")
    raw.execute(f"PRAGMA cache_size=-{STORE_CACHE_KIB}")
    raw.execute(f"PRAGMA wal_autocheckpoint={STORE_CHECKPOINT_PAGES}")


def tune_views(raw: sqlite3.Connection) -> None:
    """The read models' file: ``synchronous=NORMAL`` as the store's (their page cache and WAL
    checkpoints are set per transaction, ``projections.views.SQLiteViews``); no
    ``secure_delete``: they hold no personal data to erase."""
    raw.execute("PRAGMA synchronous=NORMAL")


def _tune(datastore: SQLiteDatastore,
          settings: Callable[[sqlite3.Connection], None] = tune) -> None:
    pool = datastore.pool
    create = pool._create_connection

    def create_tuned() -> SQLiteConnection:
        conn = create()
        settings(conn._sqlite_conn)
        return conn

    pool._create_connection = create_tuned  # type: ignore[method-assign]


def owner_only(db_name: str | None) -> None:
    """Create the database file owner-only (0600) before SQLite opens it, or make an existing
    one (and its -wal and -shm files) owner-only; SQLite gives new -wal and -shm files the
    database file's mode."""
    if (not db_name or db_name.startswith("file:")
            or sqlite.SQLiteConnectionPool.detect_memory_mode(db_name)):
        return
    try:
        fd = os.open(db_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for path in (db_name, f"{db_name}-wal", f"{db_name}-shm"):
            try:
                if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                    os.chmod(path, 0o600)
            except OSError:  # absent, or not ours to change
                pass
    except OSError:  # a directory that does not exist yet: SQLite reports it when opening
        return
    else:
        os.close(fd)  # an empty file is an empty SQLite database


VIEWS_DBNAME = "SQLITE_VIEWS_DBNAME"
"""The environment key of the read models' file (default: ``views_path`` of the events')."""


def views_path(db_name: str) -> str | None:
    """The read models' file beside the events' ``db_name`` (``gridcore.sqlite``:
    ``gridcore.views.sqlite``); None for an in-memory database (its views share it)."""
    if db_name.startswith("file:") or sqlite.SQLiteConnectionPool.detect_memory_mode(db_name):
        return None
    path = Path(db_name)
    return str(path.with_name(f"{path.stem}.views{path.suffix}"))


class Factory(KeyedFactoryMixin, sqlite.SQLiteFactory):
    application_recorder_class = KeyedSQLiteRecorder

    def __init__(self, env: Any) -> None:
        owner_only(env.get(self.SQLITE_DBNAME))
        super().__init__(env)
        _tune(self.datastore)
        self._init_vault()
        self._views: SQLiteDatastore | None = None
        self._views_lock = threading.Lock()  # one datastore, whichever thread asks first

    def views_datastore(self) -> SQLiteDatastore:
        """The read models' database (``projections.views.views_for``): their own file, made
        owner-only like the events' (the views hold no personal data, but health statuses by
        household id), with the events' lock timeout; the events' own datastore when they are
        in memory."""
        with self._views_lock:
            return self._views_datastore()

    def _views_datastore(self) -> SQLiteDatastore:
        if self._views is None:
            ds, events = self.datastore, self.datastore.pool.db_name
            name = self.env.get(VIEWS_DBNAME) or views_path(events)
            if name is None or name == events:
                self._views = ds
            else:
                Path(name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                owner_only(name)
                self._views = SQLiteDatastore(name, lock_timeout=ds.pool.lock_timeout,
                                              single_row_tracking=ds.single_row_tracking)
                _tune(self._views, tune_views)
        return self._views

    def close(self) -> None:
        if self._views is not None and self._views is not self.datastore:
            self._views.close()
        super().close()
