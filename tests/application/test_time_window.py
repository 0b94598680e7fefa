"""Times given from outside are checked at the edge (``gridcore.clock``): aware, not before the
policy's earliest year, not more than the allowed skew ahead of the application's clock (a
schedule up to its horizon). A refused time names the field, what was wrong and the window,
and writes nothing, through every command that takes a caller's time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.clock import check_day, check_instant, window
from gridcore.errors import InvalidInput
from gridcore.policy import DEFAULT_POLICY
from gridcore.status import Measure, Tag, TagKind
from gridcore.sweep import campaign_id
from gridcore.sweep_commands import VisitRow
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, Community, given_community

NOW = datetime(2020, 2, 17, 10, 0, tzinfo=UTC)
OVERFLOW_LATE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
OVERFLOW_EARLY = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
TEN_YEARS = NOW.replace(year=2030)
NAIVE = datetime(2020, 2, 17, 9, 0)


# ---- the pure rule -----------------------------------------------------------------------------

def test_a_time_inside_the_window_is_returned_as_given() -> None:
    beijing = timezone(timedelta(hours=8))
    for ok in (NOW, NOW + timedelta(minutes=5), datetime(2019, 1, 1, tzinfo=UTC),
               NOW.astimezone(beijing), datetime(2019, 1, 1, 8, tzinfo=beijing)):
        assert check_instant(ok, NOW, DEFAULT_POLICY, "detection time") == ok


@pytest.mark.parametrize(("value", "says"), [
    (NAIVE, "has no time zone"),
    (NOW + timedelta(minutes=5, seconds=1), "is in the future"),
    (TEN_YEARS, "is in the future"),
    (OVERFLOW_LATE, "is in the future"),
    (datetime(2018, 12, 31, 23, 59, tzinfo=UTC), "is before 2019"),
    (datetime(2019, 1, 1, 7, 59, tzinfo=timezone(timedelta(hours=8))), "is before 2019"),
    (OVERFLOW_EARLY, "is before 2019"),
    ("2020-02-17T09:00:00+08:00", "is not a time"),
])
def test_a_time_outside_the_window_is_refused_naming_the_field_and_the_window(
        value: Any, says: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check_instant(value, NOW, DEFAULT_POLICY, "pass time")
    assert e.value.problem.startswith("The pass time") and says in e.value.problem
    assert "between 2019-01-01T00:00Z" in e.value.remedy
    assert "2020-02-17T10:05Z" in e.value.remedy and "5 minutes" in e.value.remedy


def test_a_schedule_may_lie_ahead_up_to_the_horizon() -> None:
    horizon = NOW + timedelta(days=DEFAULT_POLICY.schedule_horizon_days)
    assert check_instant(horizon, NOW, DEFAULT_POLICY, "end", scheduled=True) == horizon
    for late in (horizon + timedelta(seconds=1), OVERFLOW_LATE):
        with pytest.raises(InvalidInput, match="366 days"):
            check_instant(late, NOW, DEFAULT_POLICY, "end", scheduled=True)
    with pytest.raises(InvalidInput, match="before 2019"):
        check_instant(OVERFLOW_EARLY, NOW, DEFAULT_POLICY, "end", scheduled=True)


def test_the_window_is_the_policys() -> None:
    policy = DEFAULT_POLICY.with_changes(earliest_year=2020, clock_skew_minutes=30)
    assert window(NOW, policy) == (datetime(2020, 1, 1, tzinfo=UTC),
                                   NOW + timedelta(minutes=30))
    assert check_instant(NOW + timedelta(minutes=20), NOW, policy, "t")
    with pytest.raises(InvalidInput, match="before 2020"):
        check_instant(datetime(2019, 6, 1, tzinfo=UTC), NOW, policy, "t")


# ---- through the application: every command taking a caller's time ----------------------------

class World:
    def __init__(self) -> None:
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        self.c: Community = given_community(self.app)
        app, c = self.app, self.c
        app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
        self.hid = c.households[0]
        self.rid = sorted(app.household(self.hid).residents)[0]
        app.register_camera("CAM-1", ZONES[0], household_id=self.hid, by=System.OPERATOR)
        app.register_checkpoint("KK-1", COMMUNITY, "卡口", by=System.OPERATOR)
        app.change_measure(self.hid, self.rid, Measure.HOME_QUARANTINE, c.worker, "密接")
        app.declare_risk_area("R-0", "鄂A", "high", self.clock.now - timedelta(days=20),
                              by=System.FEED)
        self.clock.advance(hours=1)

    def last(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest.fixture
def world() -> World:
    return World()


def commands(w: World) -> dict[str, Callable[[datetime], Any]]:
    """Each command with the caller's time as its one variable argument."""
    app = w.app
    return {
        "detection time": lambda t: app.record_camera_detection("D-1", "CAM-1", t, "out", 0.95,
                                                                by=System.FEED),
        "pass time": lambda t: app.record_vehicle_pass("P-1", "KK-1", "鄂A12345", t,
                                                       by=System.FEED),
        "pass time ": lambda t: app.raise_vehicle_alert("P-2", "KK-1", "鄂A12345", t, "武汉",
                                                        by=System.FEED),
        "pass hour": lambda t: app.count_vehicle_passes(
            {("KK-1", t.replace(minute=0, second=0, microsecond=0)): 1}, "src-1",
            by=System.FEED),
        "travel time": lambda t: app.record_travel("T-1", "浙A12345", "武汉市", t, by=System.FEED),
        "risk period's start": lambda t: app.declare_risk_area("R-1", "孝感市", "high", t,
                                                               by=System.FEED),
        "risk period's end": lambda t: app.declare_risk_area(
            "R-2", "孝感市", "high", w.clock.now - timedelta(days=40), t, by=System.FEED),
        "lift time": lambda t: app.lift_risk_area("R-0", "鄂A", t, by=System.FEED),
        "test time": lambda t: app.record_test(w.hid, w.rid, True, t, by=System.OPERATOR),
    }


SCHEDULED = {"risk period's start", "risk period's end", "lift time"}


@pytest.mark.parametrize("what", [
    "detection time", "pass time", "pass time ", "pass hour", "travel time",
    "risk period's start", "risk period's end", "lift time", "test time"])
def test_every_command_refuses_a_time_outside_the_window_and_writes_nothing(
        world: World, what: str) -> None:
    give = commands(world)[what]
    ahead = (timedelta(days=DEFAULT_POLICY.schedule_horizon_days + 1) if what in SCHEDULED
             else timedelta(days=3650))
    written = world.last()
    for bad, says in ((OVERFLOW_LATE, "in the future"), (world.clock.now + ahead, "future"),
                      (OVERFLOW_EARLY, "before 2019"), (NAIVE, "no time zone")):
        if what == "pass hour" and bad is OVERFLOW_LATE:
            bad = bad.replace(minute=0, second=0)
        with pytest.raises(InvalidInput) as e:
            give(bad)
        assert what.strip() in e.value.problem and says in e.value.problem, e.value
        assert "between 2019-01-01T00:00Z" in e.value.remedy
        assert world.last() == written
    give(world.clock.now - timedelta(minutes=30))  # and a sane time goes through
    assert world.last() > written


def test_a_detection_a_few_minutes_ahead_is_a_fast_clock_not_an_error(world: World) -> None:
    app = world.app
    aid = app.record_camera_detection("D-1", "CAM-1", world.clock.now + timedelta(minutes=4),
                                      "out", 0.95, by=System.FEED)
    assert aid is not None
    with pytest.raises(InvalidInput, match="in the future"):
        app.record_camera_detection("D-2", "CAM-1", world.clock.now + timedelta(minutes=6),
                                    "out", 0.95, by=System.FEED)


def test_an_adopted_policy_widens_the_window(world: World) -> None:
    app, clock = world.app, world.clock
    app.adopt_policy(DEFAULT_POLICY.with_changes(clock_skew_minutes=60), clock.now, "设备时钟偏快",
                     by=System.OPERATOR)
    assert app.record_camera_detection("D-1", "CAM-1", clock.now + timedelta(minutes=50),
                                       "out", 0.95, by=System.FEED) is not None


def test_visits_deliveries_campaigns_and_policies_check_their_times(world: World) -> None:
    app, clock, c = world.app, world.clock, world.c
    with pytest.raises(InvalidInput, match=r"policy's effective time .* before 2019"):
        app.adopt_policy(DEFAULT_POLICY, OVERFLOW_EARLY, "x", by=System.OPERATOR)
    with pytest.raises(InvalidInput, match=r"campaign start .* in the future"):
        app.launch_campaign(COMMUNITY, 1, 3, starts=OVERFLOW_LATE, by=System.OPERATOR)
    written = world.last()
    app.launch_campaign(COMMUNITY, 1, 3, starts=clock.now, by=System.OPERATOR)
    assert world.last() > written
    cid = campaign_id(COMMUNITY, 1)
    written = world.last()
    for bad, says in ((OVERFLOW_LATE, "in the future"), (NAIVE, "no time zone"),
                      (OVERFLOW_EARLY, "before 2019")):
        with pytest.raises(InvalidInput, match=rf"visit time .* {says}"):
            app.record_visit(cid, world.hid, "door", by=c.worker, visited_at=bad)
        with pytest.raises(InvalidInput, match=rf"seal time .* {says}"):
            app.seal_scope(ZONES[0], bad, by=c.official)
    assert world.last() == written


def test_a_day_is_checked_like_a_time() -> None:
    assert check_day(date(2020, 2, 10), NOW, DEFAULT_POLICY, "arrival date") == date(2020, 2, 10)
    assert check_day(date(2020, 2, 18), NOW, DEFAULT_POLICY, "d")  # east of UTC: tomorrow
    for bad, says in ((date(2020, 2, 19), "in the future"), (date(9999, 12, 31), "future"),
                      (date(2018, 12, 31), "before 2019"), (NOW, "not a date"),
                      ("2020-02-10", "not a date")):
        with pytest.raises(InvalidInput, match=says) as e:
            check_day(bad, NOW, DEFAULT_POLICY, "arrival date")
        assert "from 2019-01-01 to 2020-02-18" in e.value.remedy


def test_batches_of_visits_and_arrival_dates_are_checked(world: World) -> None:
    app, clock, c = world.app, world.clock, world.c
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    cid = campaign_id(COMMUNITY, 1)
    written = world.last()
    with pytest.raises(InvalidInput, match=r"Visit 2 of the batch: The visit time .* future"):
        app.record_visits(cid, [
            VisitRow(world.hid, Method.DOOR, by=c.worker, visited_at=clock.now),
            VisitRow(world.hid, Method.DOOR, by=c.worker, visited_at=OVERFLOW_LATE)],
            by=System.OPERATOR)
    far = [{"resident_id": world.rid, "origin": "武汉", "arrived_on": date(9999, 12, 31)}]
    with pytest.raises(InvalidInput, match="arrival date 9999-12-31 is in the future"):
        app.record_visit(cid, world.hid, Method.DOOR, by=c.worker, arrivals=far)
    with pytest.raises(InvalidInput, match="Visit 1 of the batch: The arrival date"):
        app.record_visits(cid, [VisitRow(world.hid, Method.DOOR, by=c.worker,
                                         details={"arrivals": far})], by=System.OPERATOR)
    with pytest.raises(InvalidInput, match="arrival date 2001-01-01 is before 2019"):
        app.tag_resident(world.hid, world.rid, Tag(kind=TagKind.RISK_AREA_ARRIVAL,
                                                   origin="武汉", arrived_on=date(2001, 1, 1)),
                         c.worker)
    assert world.last() == written
    near = [{"resident_id": world.rid, "origin": "武汉", "arrived_on": clock.now.date()}]
    app.record_visit(cid, world.hid, Method.DOOR, by=c.worker, arrivals=near)
    assert world.last() > written
