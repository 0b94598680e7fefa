"""The projection runner: batches with their position in one transaction, exactly once,
rebuild from zero, read your own writes, on SQLite and PostgreSQL views."""

from __future__ import annotations

from typing import Any

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.grid import GridNode
from gridcore.household import Household
from projections.base import Projection, ViewCursor, handles
from projections.runner import Runner
from tests.scenario import given_community


class HouseholdsPerGrid(Projection):
    """A small read model for the runner's tests: households and residents per micro-grid."""

    name = "test_households_per_grid"
    tables = ("t_households_per_grid",)
    ddl = ("CREATE TABLE IF NOT EXISTS t_households_per_grid (grid TEXT PRIMARY KEY, "
           "households BIGINT NOT NULL, residents BIGINT NOT NULL)",)

    @handles(GridNode.Established)
    def established(self, cur: ViewCursor, nid: int, e: Any) -> None:
        cur.execute("INSERT INTO t_households_per_grid VALUES (?, 0, 0) "
                    "ON CONFLICT (grid) DO NOTHING", (e.code,))

    @handles(Household.Registered)
    def registered(self, cur: ViewCursor, nid: int, e: Any) -> None:
        cur.execute("UPDATE t_households_per_grid SET households = households + 1, "
                    "residents = residents + ? WHERE grid = ?", (len(e.members), e.micro_grid))


@pytest.fixture
def sql_store(request, store):
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def rows(runner: Runner) -> dict[str, tuple[int, int]]:
    return {g: (h, r) for g, h, r in runner.views.query(
        "SELECT grid, households, residents FROM t_households_per_grid")}


def test_catch_up_applies_each_event_once_and_tracks_the_last_id(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    given_community(app)
    runner = Runner(app, [HouseholdsPerGrid()], batch=3)
    assert runner.catch_up() > 0
    [status] = runner.status()
    assert status.position == app.recorder.max_notification_id() and status.lag == 0
    first = rows(runner)
    assert first["420102001712-01"] == (3, 6) and first["420102001712-02"] == (3, 6)
    assert runner.catch_up() == 0 and rows(runner) == first
    again = Runner(GridcoreApp(sql_store, clock=clock), [HouseholdsPerGrid()])
    assert again.catch_up() == 0 and rows(again) == first


def test_rebuild_from_zero_gives_the_same_rows(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    given_community(app)
    runner = Runner(app, [HouseholdsPerGrid()])
    runner.catch_up()
    before = rows(runner)
    assert runner.rebuild("test_households_per_grid") > 0
    assert rows(runner) == before
    with pytest.raises(KeyError, match="known"):
        runner.rebuild("nope")


def test_a_background_runner_lets_a_caller_read_its_own_writes(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    given_community(app)
    runner = Runner(app, [HouseholdsPerGrid()]).start()
    try:
        from gridcore.application import new_member

        nid = app.register_household("late", "420102001712-01", "9栋9号",
                                     [new_member("late", 1, "王五")], by=System.OPERATOR)
        runner.wait(nid, timeout=20)
        assert rows(runner)["420102001712-01"] == (4, 7)
    finally:
        runner.stop()


def test_the_embedded_default_keeps_every_read_model_up_in_process(sql_store, clock):
    import projections
    from projections.grid_rollup import rollup

    app = GridcoreApp(sql_store, clock=clock)
    runner = projections.start(app)
    try:
        given_community(app)
        from gridcore.application import new_member

        nid = app.register_household("late", "420102001712-01", "9栋9号",
                                     [new_member("late", 1, "王五")], by=System.OPERATOR)
        runner.wait(nid, timeout=30)
        assert {s.name for s in runner.status()} >= {"grid_rollup", "household_timeline"}
        assert all(s.position >= nid for s in runner.status())
        assert rollup(runner.views, "420102001712")["households"] == 7
    finally:
        runner.stop()


def test_a_batch_read_before_another_runner_moved_the_position_is_not_applied_twice(
        sql_store, clock):
    """Two runners over one log (a restarted process while the old one's last commit is still
    in flight, or two servers): the one whose batch was read from a position the other has
    since moved keeps nothing of it, reads the positions again and ends equal to one run."""
    from projections.views import PositionMoved

    app = GridcoreApp(sql_store, clock=clock)
    given_community(app)
    late = Runner(GridcoreApp(sql_store, clock=clock), [HouseholdsPerGrid()], batch=4)
    early = Runner(app, [HouseholdsPerGrid()], batch=4)
    read = late.reader.read
    moved = []

    def read_then_lose_the_race(after: int, upto: int, batch: int, topics: Any) -> Any:
        rows = read(after, upto, batch, topics)
        if not moved:  # the other runner commits between this read and its commit
            moved.append(early.catch_up())
        return rows

    late.reader.read = read_then_lose_the_race  # type: ignore[method-assign]
    late.catch_up()
    last = app.recorder.max_notification_id()
    assert moved and moved[0] > 0
    assert [s.position for s in late.status()] == [last]
    assert rows(late)["420102001712-01"] == (3, 6) and rows(late)["420102001712-02"] == (3, 6)
    p = HouseholdsPerGrid()
    with pytest.raises(PositionMoved, match="not 0"):
        late.views.apply_batch(p, [], last, since=0)
    assert late.views.position(p) == last
