"""How a batch's rows go into a read model's table (``ViewCursor.insert``): an upsert's rows
given as new (``fresh``) are copied straight into the table on PostgreSQL, and when a key is
there after all, the copy is undone and the rows go through the upsert, so the table ends as
the upsert would leave it, on either database; a batch's waiting changes keep the first or
the last per row and go in after its new rows."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.settings import postgres_env, sqlite_env
from gridcore.application import GridcoreApp
from projections.base import STAGE_ROWS, BufferedInserts, ViewCursor
from projections.views import views_for
from tests.conftest import PG_DSN

ADD = "ON CONFLICT (k) DO UPDATE SET v = t.v + excluded.v"
KEEP = "ON CONFLICT (k) DO NOTHING"


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Any) -> dict[str, str]:
    if request.param == "sqlite":
        return sqlite_env(tmp_path / "gridcore.sqlite")
    return postgres_env(PG_DSN, schema=request.getfixturevalue("pg_schema"))


def many(prefix: str, value: int = 1) -> list[tuple[str, int]]:
    """Enough rows to go in as a set on PostgreSQL."""
    return [(f"{prefix}{i}", value) for i in range(STAGE_ROWS)]


def test_fresh_rows_land_as_the_upsert_would_leave_them_even_when_a_key_is_there(
        env: dict[str, str]) -> None:
    app = GridcoreApp(env)
    views = views_for(app)
    try:
        with views.datastore.transaction(commit=True) as c:
            views._enter(c)
            cur = ViewCursor(c, views.dialect)
            cur.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
            cur.insert("t", "k, v", [("old", 1), ("kept", 5)])
            cur.insert("t", "k, v", many("a"), ADD, fresh=True)  # all new: copied straight in
            cur.insert("t", "k, v", many("b"))  # a plain insert: copied straight in
            staged_before = cur._staged
            cur.insert("t", "k, v", [*many("c"), ("old", 10)], ADD, fresh=True)  # one is not
            cur.insert("t", "k, v", [*many("d"), ("kept", 50)], KEEP, fresh=True)
            cur.insert("t", "k, v", many("a", 100), ADD)  # not new: the upsert
            if views.dialect == "postgres":
                # the two whose key was there were staged after their copy was undone
                assert (staged_before, cur._staged) == (0, 3)
            cur.execute("SELECT count(*) FROM t")  # the transaction goes on after the undo
            assert cur.fetchone() == (2 + 4 * STAGE_ROWS,)
        rows = dict(views.query("SELECT k, v FROM t"))
        assert rows["old"] == 11 and rows["kept"] == 5
        assert rows["a0"] == rows[f"a{STAGE_ROWS - 1}"] == 101
        assert rows["b0"] == rows["c0"] == rows["d0"] == 1
    finally:
        app.close()


def test_a_plain_insert_of_a_key_that_is_there_fails_as_before(env: dict[str, str]) -> None:
    app = GridcoreApp(env)
    views = views_for(app)
    try:
        with views.datastore.transaction(commit=True) as c:
            views._enter(c)
            ViewCursor(c, views.dialect).execute(
                "CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
            ViewCursor(c, views.dialect).insert("t", "k, v", [("a0", 7)])
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"), \
                views.datastore.transaction(commit=True) as c:
            views._enter(c)
            ViewCursor(c, views.dialect).insert("t", "k, v", many("a"))
        assert views.query("SELECT k, v FROM t") == [("a0", 7)]  # nothing of it was kept
    finally:
        app.close()


def test_waiting_changes_keep_the_first_or_the_last_per_row_and_follow_the_new_rows(
        env: dict[str, str]) -> None:
    app = GridcoreApp(env)
    views = views_for(app)
    last = "UPDATE t SET v = ? WHERE k = ?"
    once = "UPDATE t SET at = ? WHERE k = ? AND at IS NULL"
    try:
        with views.datastore.transaction(commit=True) as c:
            views._enter(c)
            inner = ViewCursor(c, views.dialect)
            inner.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL, at BIGINT)")
            inner.insert("t", "k, v, at", [("stored", 1, 7)])
            b = BufferedInserts(inner)
            b.insert("t", "k, v", [("new", 0)])
            b.change(last, "new", (2, "new"))  # the row is inserted in the same batch
            b.change(last, "new", (3, "new"))  # the last one decides
            b.change(once, "new", (10, "new"), first=True)  # the first one decides...
            b.change(once, "new", (20, "new"), first=True)
            b.change(once, "stored", (30, "stored"), first=True)  # ...and the stored one's
            b.change(last, "stored", (4, "stored"))
            b.unchange(last, "stored")  # made moot by a later event
            inner.execute("SELECT count(*) FROM t")
            assert inner.fetchone() == (1,)  # nothing written yet
            b.execute("SELECT count(*) FROM t")  # another statement writes what waits first
            assert b.fetchone() == (2,)
            b.change(last, "stored", (5, "stored"))
            b.flush()
        assert sorted(views.query("SELECT k, v, at FROM t")) == [
            ("new", 3, 10), ("stored", 5, 7)]
    finally:
        app.close()
