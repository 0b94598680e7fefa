"""One projection's failure never stops the others: a projection that cannot apply an event
stops just before it (its rows and position kept), its failure (event, error) is kept beside
the positions and shown by ``status`` and ``gridcore projections status``, the other
projections go on, ``wait`` does not wait for it, and ``retry``/``rebuild`` start it again.

The failures are provoked without the commands' checks: a test projection that raises on
chosen events, an event stored directly through the recorder with a far-future time (the real
``alerts_board`` cannot turn it into UTC text), and a stored event whose bytes are not JSON.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import scratch_schema, sqlite_env
from gridcore.alerts import Alert, AlertKind
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.grid import GridNode, Level
from gridcore.household import Household
from projections import all_projections
from projections.base import Projection, ViewCursor, handles
from projections.runner import Runner
from tests.conftest import PG_DSN, need_postgres
from tests.projections.test_projection_runner import HouseholdsPerGrid, rows
from tests.scenario import ZONES, given_community

FAR_FUTURE = "9999-12-31T23:30:00-08:00"
"""A time whose UTC is past year 9999: ``datetime.astimezone(UTC)`` overflows."""


class Picky(Projection):
    """Keeps the households registered, and raises on those whose number is in ``poison``
    (the cause a fix removes: empty the set)."""

    name = "test_picky"
    tables = ("t_picky",)
    ddl = ("CREATE TABLE IF NOT EXISTS t_picky (household_id TEXT PRIMARY KEY, "
           "micro_grid TEXT NOT NULL)",)

    def __init__(self) -> None:
        self.poison: set[str] = set()

    @handles(Household.Registered)
    def registered(self, cur: ViewCursor, nid: int, e: Any) -> None:
        if e.household_no in self.poison:
            raise ValueError(f"cannot take household {e.originator_id}")
        cur.execute("INSERT INTO t_picky VALUES (?, ?)", (str(e.originator_id), e.micro_grid))


class Nodes(Projection):
    """Follows grid nodes only: an undecodable household event is none of its business."""

    name = "test_nodes"
    tables = ("t_nodes",)
    ddl = ("CREATE TABLE IF NOT EXISTS t_nodes (code TEXT PRIMARY KEY)",)

    @handles(GridNode.Established)
    def established(self, cur: ViewCursor, nid: int, e: Any) -> None:
        cur.execute("INSERT INTO t_nodes VALUES (?)", (e.code,))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """(the application's environment, the ``gridcore`` command's environment) of one fresh
    SQLite file or PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "gridcore.sqlite"
        yield sqlite_env(path), {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path)}
        return
    need_postgres()
    with scratch_schema(PG_DSN, "iso") as (schema, env):
        yield env, {"GRIDCORE_STORE": "postgres", "GRIDCORE_PG_DSN": PG_DSN,
                    "GRIDCORE_PG_SCHEMA": schema}


@pytest.fixture
def env(stores: tuple[dict[str, str], dict[str, str]]) -> dict[str, str]:
    return stores[0]


def register(app: GridcoreApp, no: str, zone: str = ZONES[0]) -> tuple[UUID, int]:
    """Register a household: its id and the notification id of its ``Registered`` event (the
    command writes more after it)."""
    app.register_household(no, zone, f"{no}号", [new_member(no, 1, "王五")], by=System.OPERATOR)
    hid = app.household_by_no(no).id
    [nid] = [n.id for n in app.recorder.select_notifications(start=1, limit=10**6)
             if str(n.originator_id) == str(hid) and n.originator_version == 1]
    return hid, nid


def picked(runner: Runner) -> set[str]:
    return {r[0] for r in runner.views.query("SELECT household_id FROM t_picky")}


def positions(runner: Runner) -> dict[str, int]:
    return {s.name: s.position for s in runner.status()}


def store_raw(app: GridcoreApp, topic: str, state: bytes, originator: UUID | None = None,
              version: int = 1) -> int:
    """Write one stored event straight through the recorder (no command, no check)."""
    app.recorder.insert_events([StoredEvent(originator_id=originator or uuid4(),
                                            originator_version=version, topic=topic,
                                            state=state)])
    return app.recorder.max_notification_id() or 0


def store_far_future_alert(app: GridcoreApp) -> tuple[UUID, int]:
    """A camera alert whose first detection is in year 9999, stored as it is (as if an edge
    had let the time through): the alerts board cannot apply it."""
    now = datetime(2020, 2, 17, 8, tzinfo=UTC)
    alert = Alert.raise_alert(uuid4(), AlertKind.CAMERA, "cam-9", "det-9", ZONES[0],
                              Level.MICRO_GRID, None, "test", now, app.policy_at(now), now)
    [raised] = alert.collect_events()
    stored = app.mapper.to_stored_event(raised)
    state = orjson.loads(stored.state)
    state["first_at"] = FAR_FUTURE
    return alert.id, store_raw(app, stored.topic, orjson.dumps(state), alert.id)


@pytest.mark.parametrize("batch", [3, 5000])
def test_the_failing_projection_stops_before_its_event_and_the_others_reach_the_end(
        env: dict[str, str], clock: Any, batch: int) -> None:
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    before, _ = register(app, "before")
    bad, bad_nid = register(app, "bad")
    after, _ = register(app, "after")
    picky = Picky()
    picky.poison = {"bad"}
    runner = Runner(app, [HouseholdsPerGrid(), picky], batch=batch)

    runner.catch_up()
    end = app.recorder.max_notification_id()
    assert positions(runner) == {"test_households_per_grid": end, "test_picky": bad_nid - 1}
    assert rows(runner)[ZONES[0]] == (6, 9)  # every household, the bad one's too
    kept = picked(runner)
    assert str(before) in kept and str(bad) not in kept and str(after) not in kept
    status = {s.name: s for s in runner.status()}
    assert status["test_households_per_grid"].stuck is None
    failure = status["test_picky"].stuck
    assert failure is not None
    assert (failure.notification_id, failure.originator_id, failure.originator_version) == (
        bad_nid, str(bad), 1)
    assert failure.topic.endswith("Household.Registered")
    assert failure.error == f"ValueError: cannot take household {bad}"
    assert runner.stuck == {"test_picky": failure}

    # Later writes: the healthy one goes on, the stuck one is skipped where it stopped.
    register(app, "later", ZONES[1])
    assert runner.catch_up() == 1
    assert positions(runner) == {"test_households_per_grid": app.recorder.max_notification_id(),
                                 "test_picky": bad_nid - 1}


def test_another_process_sees_the_failure_and_skips_the_stuck_projection(
        env: dict[str, str], clock: Any) -> None:
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    _, bad_nid = register(app, "bad")
    picky = Picky()
    picky.poison = {"bad"}
    Runner(app, [HouseholdsPerGrid(), picky]).catch_up()

    other = Runner(GridcoreApp(env, clock=clock), [HouseholdsPerGrid(), Picky()])
    assert set(other.stuck) == {"test_picky"}
    assert other.stuck["test_picky"].notification_id == bad_nid
    assert other.catch_up() == 0  # its Picky would take the event: still skipped
    assert positions(other)["test_picky"] == bad_nid - 1


def test_retry_fails_again_until_the_cause_is_fixed_then_goes_on_from_where_it_stopped(
        env: dict[str, str], clock: Any) -> None:
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    bad, _ = register(app, "bad")
    later, _ = register(app, "later")
    picky = Picky()
    picky.poison = {"bad"}
    runner = Runner(app, [HouseholdsPerGrid(), picky])
    runner.catch_up()
    first = runner.stuck["test_picky"]

    runner.retry("test_picky")
    again = runner.status()[1].stuck
    assert again is not None and again.notification_id == first.notification_id

    picky.poison.clear()  # the fix
    assert runner.retry("test_picky") == 2  # the bad event and the one after it
    status = {s.name: s for s in runner.status()}
    assert status["test_picky"].stuck is None and runner.stuck == {}
    assert status["test_picky"].position == app.recorder.max_notification_id()
    assert {str(bad), str(later)} <= picked(runner)
    with pytest.raises(KeyError, match="known"):
        runner.retry("nope")


def test_rebuild_clears_the_failure_and_builds_from_zero(env: dict[str, str],
                                                         clock: Any) -> None:
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    register(app, "bad")
    picky = Picky()
    picky.poison = {"bad"}
    runner = Runner(app, [picky])
    runner.catch_up()
    assert runner.status()[0].stuck is not None
    picky.poison.clear()
    runner.rebuild("test_picky")
    [status] = runner.status()
    assert status.stuck is None and status.lag == 0
    assert len(picked(runner)) == 7


def test_wait_does_not_wait_for_a_stuck_projection(env: dict[str, str], clock: Any) -> None:
    """A background runner meets the bad event while following: a caller waiting for a later
    write gets its answer once the healthy projections have it."""
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    picky = Picky()
    picky.poison = {"bad"}
    runner = Runner(app, [HouseholdsPerGrid(), picky]).start()
    try:
        _, bad_nid = register(app, "bad")
        register(app, "next")
        end = app.recorder.max_notification_id()
        runner.wait(end, timeout=30)  # returns: a TimeoutError would fail the test
        assert positions(runner) == {"test_households_per_grid": end, "test_picky": bad_nid - 1}
        assert runner.stuck["test_picky"].notification_id == bad_nid
        assert runner.error is None
    finally:
        runner.stop()


def test_an_event_that_cannot_be_decoded_stops_only_the_projections_following_it(
        env: dict[str, str], clock: Any) -> None:
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    topic = f"{Household.Registered.__module__}:{Household.Registered.__qualname__}"
    hid = uuid4()
    bad_nid = store_raw(app, topic, b"{not json", hid)
    app.create_node(f"{ZONES[0][:-3]}-09", "第9片区", ZONES[0][:-3], by=System.OPERATOR)
    runner = Runner(app, [HouseholdsPerGrid(), Nodes()])
    runner.catch_up()
    end = app.recorder.max_notification_id()
    status = {s.name: s for s in runner.status()}
    assert status["test_nodes"].position == end and status["test_nodes"].stuck is None
    assert len(runner.views.query("SELECT code FROM t_nodes")) == 7  # the one after too
    failure = status["test_households_per_grid"].stuck
    assert failure is not None and status["test_households_per_grid"].position == bad_nid - 1
    assert (failure.notification_id, failure.originator_id) == (bad_nid, str(hid))
    assert failure.error.startswith("cannot decode it: ")
    assert rows(runner)[ZONES[0]] == (3, 6)  # everything before it


def test_a_far_future_alert_stops_the_alerts_board_only_and_the_command_reports_it(
        stores: tuple[dict[str, str], dict[str, str]], clock: Any) -> None:
    """The issue's case with the real read models: an alert stored with a year-9999 time.
    Every other read model reaches the end; ``gridcore projections status`` names the stuck
    one, the event and the error (exit code 1); retry and rebuild meet it again."""
    env, cli_env = stores
    app = GridcoreApp(env, clock=clock)
    given_community(app)
    alert_id, bad_nid = store_far_future_alert(app)
    register(app, "after")
    runner = Runner(app, all_projections())
    runner.catch_up()
    end = app.recorder.max_notification_id()
    status = {s.name: s for s in runner.status()}
    assert status["alerts_board"].position == bad_nid - 1
    failure = status["alerts_board"].stuck
    assert failure is not None and failure.notification_id == bad_nid
    assert failure.originator_id == str(alert_id)
    assert failure.error.startswith("OverflowError")
    others = {n: s for n, s in status.items() if n != "alerts_board"}
    assert len(others) >= 5
    assert all(s.position == end and s.stuck is None for s in others.values()), others

    cli_runner = CliRunner()
    shown = cli_runner.invoke(cli, ["projections", "status"], env=cli_env)
    assert shown.exit_code == 1, shown.output
    stuck_lines = [line for line in shown.output.splitlines() if line.startswith("STUCK")]
    assert len(stuck_lines) == 1
    line = stuck_lines[0]
    assert "alerts_board" in line and f"notification {bad_nid}" in line
    assert failure.event_id in line and str(alert_id) in line and "OverflowError" in line
    assert "gridcore projections retry alerts_board" in shown.output

    retried = cli_runner.invoke(cli, ["projections", "retry", "alerts_board"], env=cli_env)
    assert retried.exit_code == 1 and "STUCK alerts_board" in retried.output
    rebuilt = cli_runner.invoke(cli, ["projections", "rebuild", "alerts_board"], env=cli_env)
    assert rebuilt.exit_code == 1 and "STUCK alerts_board" in rebuilt.output
    unknown = cli_runner.invoke(cli, ["projections", "retry", "nope"], env=cli_env)
    assert unknown.exit_code == 2
    ran = cli_runner.invoke(cli, ["projections", "run", "--once"], env=cli_env)
    assert ran.exit_code == 0 and "STUCK alerts_board" in ran.output
    after = {s.name: s for s in Runner(app, all_projections()).status()}
    assert after["alerts_board"].position == bad_nid - 1
    assert after["alerts_board"].stuck is not None


def test_the_command_shows_no_failure_when_every_projection_is_healthy(
        stores: tuple[dict[str, str], dict[str, str]], clock: Any) -> None:
    env, cli_env = stores
    given_community(GridcoreApp(env, clock=clock))
    result = CliRunner().invoke(cli, ["projections", "run", "--once"], env=cli_env)
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(cli, ["projections", "status"], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert "STUCK" not in shown.output and "alerts_board" in shown.output
