"""The SQLite store's connections: a page cache of ``STORE_CACHE_KIB`` and a WAL checkpointed
every ``STORE_CHECKPOINT_PAGES`` pages, not SQLite's 2 MB and 1,000 pages (at scale, the
default checkpoint copied the same scattered index pages back into the file at nearly every
commit). An erasure still empties the WAL at once (``test_erasure``)."""

from __future__ import annotations

import sqlite3

from adapters.bootstrap import bootstrap
from adapters.settings import sqlite_env
from adapters.sqlite_store import STORE_CACHE_KIB, STORE_CHECKPOINT_PAGES
from gridcore.application import HouseholdRow, new_member
from gridcore.authority import System
from tests.scenario import ZONES, given_community

SQLITE_DEFAULT_CHECKPOINT = 1_000


def test_every_connection_of_the_store_carries_the_settings(tmp_path):
    app = bootstrap(sqlite_env(tmp_path / "s.sqlite")).app
    try:
        with app.recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute("PRAGMA cache_size")
            assert c.fetchone()[0] == -STORE_CACHE_KIB
            c.execute("PRAGMA wal_autocheckpoint")
            assert c.fetchone()[0] == STORE_CHECKPOINT_PAGES
            c.execute("PRAGMA synchronous")
            assert c.fetchone()[0] == 1  # NORMAL
    finally:
        app.close()


def test_commits_past_a_thousand_wal_pages_are_not_checkpointed_each_time(tmp_path):
    path = tmp_path / "s.sqlite"
    app = bootstrap(sqlite_env(path)).app
    try:
        given_community(app, households_per_zone=1)
        for batch in range(16):  # 16 commits of 300 households: several thousand WAL pages
            rows = []
            for i in range(300):
                no = f"W{batch}-{i}"
                rows.append(HouseholdRow(no, ZONES[i % len(ZONES)], f"{batch}栋{i}号", [
                    new_member(no, m, "王芳", f"139{batch:02d}{i:04d}{m:02d}", None, 1980)
                    for m in range(1, 4)]))
            app.register_households(rows, by=System.OPERATOR)
        raw = sqlite3.connect(path)
        try:  # the frames in the WAL now, before this checkpoint copies them
            _, frames, _ = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            raw.close()
    finally:
        app.close()
    # At SQLite's default the first commit past 1,000 pages checkpoints and the next one
    # starts the WAL again from its beginning.
    assert frames > 2 * SQLITE_DEFAULT_CHECKPOINT
