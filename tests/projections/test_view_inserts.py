"""How a batch's rows go into a read model's table (``ViewCursor.insert``): an upsert's rows
given as new (``fresh``) are copied straight into the table on PostgreSQL, and when a key is
there after all, the copy is undone and the rows go through the upsert, so the table ends as
the upsert would leave it, on either database."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.settings import postgres_env, sqlite_env
from gridcore.application import GridcoreApp
from projections.base import STAGE_ROWS, ViewCursor
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
