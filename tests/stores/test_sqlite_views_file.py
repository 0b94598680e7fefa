"""The SQLite store keeps its read models in a file of their own beside the events' (one
writer per SQLite file: in one file a read model's batch held the lock every command waits
for). The file is owner-only, can be named, and a store made when the read models lived in
the events' file gets them rebuilt in the new one, the old tables dropped, once."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking

from adapters.bootstrap import bootstrap
from adapters.settings import sqlite_env, store_env
from adapters.tracking import tracking_recorder
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from projections import all_projections
from projections.base import ViewCursor
from projections.grid_rollup import GridRollup, rollup
from projections.runner import Runner
from projections.views import VERSIONS, SQLiteViews, views_for
from tests.scenario import ZONES, given_community


def tables(path: Path) -> set[str]:
    raw = sqlite3.connect(path)
    try:
        return {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        raw.close()


VIEW_TABLES = {t for p in all_projections() for t in p.tables}


def test_the_read_models_live_beside_the_events_in_an_owner_only_file(tmp_path):
    app = bootstrap(sqlite_env(tmp_path / "g.sqlite")).app
    try:
        given_community(app, households_per_zone=2)
        runner = Runner(app, all_projections())
        runner.catch_up()
        assert rollup(runner.views, ZONES[0])["households"] == 2
    finally:
        app.close()
    views = tmp_path / "g.views.sqlite"
    assert stat.S_IMODE(os.stat(views).st_mode) == 0o600
    assert tables(views) >= VIEW_TABLES
    assert not VIEW_TABLES & tables(tmp_path / "g.sqlite")
    assert "stored_events" not in tables(views)


def test_the_views_file_can_be_named(tmp_path):
    named = tmp_path / "elsewhere" / "read-models.sqlite"
    env = store_env({"GRIDCORE_SQLITE_PATH": str(tmp_path / "g.sqlite"),
                     "GRIDCORE_SQLITE_VIEWS_PATH": str(named)})
    app = bootstrap(env).app
    try:
        given_community(app, households_per_zone=1)
        Runner(app, [GridRollup()]).catch_up()
    finally:
        app.close()
    assert "grid_rollup" in tables(named)
    assert not (tmp_path / "g.views.sqlite").exists()


def test_a_command_commits_while_a_read_models_batch_holds_its_write_lock(tmp_path):
    """The reason for the second file: with a lock timeout of one second, a command waiting
    for the read models' write lock would fail ('database is locked')."""
    env = {**sqlite_env(tmp_path / "g.sqlite"), "SQLITE_LOCK_TIMEOUT": "1"}
    app = bootstrap(env).app
    try:
        given_community(app, households_per_zone=1)
        views = views_for(app)
        before = app.recorder.max_notification_id()
        with views.datastore.transaction(commit=True) as c:
            # the runner's fence: the write lock, held
            views._lock(ViewCursor(c, "sqlite"), ["projection:x"])
            app.register_households([HouseholdRow(f"L-{i}", ZONES[0], f"L栋{i}号", [
                new_member(f"L-{i}", 1, "王芳", None, None, 1980)]) for i in range(3)],
                by=System.OPERATOR)
        assert app.recorder.max_notification_id() > before
    finally:
        app.close()


def test_a_store_with_its_read_models_in_the_events_file_moves_them_once(tmp_path):
    path = tmp_path / "g.sqlite"
    app = bootstrap(sqlite_env(path)).app
    try:
        given_community(app, households_per_zone=2)
        # the layout before: the views in the events' own file, caught up there
        old = SQLiteViews(app.factory.datastore)  # type: ignore[attr-defined]
        Runner(app, all_projections(), views=old).catch_up()
        feed = tracking_recorder(app)  # another reader's position in the same table stays
        feed.insert_tracking(Tracking("event-feed", 5))
        households = rollup(old, ZONES[0])["households"]
        assert tables(path) >= VIEW_TABLES
    finally:
        app.close()

    app = bootstrap(sqlite_env(path)).app
    try:
        runner = Runner(app, all_projections())
        assert not VIEW_TABLES & tables(path)
        assert VERSIONS not in tables(path)
        assert tracking_recorder(app).max_tracking_id("event-feed") == 5
        runner.catch_up()  # rebuilt from the log in the views' own file
        assert rollup(runner.views, ZONES[0])["households"] == households == 2
        assert runner.views.position(GridRollup()) == app.recorder.max_notification_id()
        views_for(app)  # once: nothing left to drop, nothing dropped from the new file
        assert rollup(runner.views, ZONES[0])["households"] == 2
    finally:
        app.close()


@pytest.mark.parametrize("name", [":memory:", "file:m?mode=memory&cache=shared"])
def test_an_in_memory_sqlite_store_keeps_its_views_with_it(name):
    app = GridcoreApp(sqlite_env_in_memory(name))
    try:
        views = views_for(app)
        assert views.datastore is app.factory.datastore  # type: ignore[attr-defined]
    finally:
        app.close()


def sqlite_env_in_memory(name: str) -> dict[str, str]:
    env = sqlite_env(Path(os.devnull))  # its codec and module; the name replaced
    env["SQLITE_DBNAME"] = name
    return env
