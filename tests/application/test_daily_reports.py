"""Daily reports up the levels (日报 / 信息报送) through the library: submitted, returned,
corrected (a new version, the first still answerable), approved, summed up to the city with a
zero report (零报告) counted; completeness and escalation at ``tick``; refusals write nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import NotAuthorised, System
from gridcore.daily_report import ReportFigures, ReportStatus, report_deadline
from gridcore.errors import GridcoreError, InvalidInput, NotFound, NotPermitted
from gridcore.grid import Level
from gridcore.policy import DEFAULT_POLICY
from gridcore.report_desk import REPORT_DESK_ID, ReportDesk
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, given_community

OP = System.OPERATOR
OTHER = "420102001713"
DAY = date(2020, 2, 17)
FIGS = ReportFigures(households=6, residents=12, home_quarantine=2, close_contacts=1,
                     sweep_households=6, sweep_covered=5, requests_open=1)


@dataclass
class World:
    app: GridcoreApp
    clock: Clock
    c1: UUID  # community 712's official
    c2: UUID  # community 713's official
    street: UUID
    district: UUID
    city: UUID


@pytest.fixture
def w(clock: Clock) -> World:
    app = bootstrap(memory_env(), clock=clock).app
    given_community(app)
    app.create_node(OTHER, "713社区", STREET, by=OP)
    for no, node in (("OFF2", OTHER), ("OFF-S", STREET), ("OFF-D", DISTRICT),
                     ("OFF-C", CITY)):
        app.enrol_staff(no, f"干部{no}", Role.OFFICIAL, node, 0, by=OP)
    ids = [app.staff_by_no(n).id for n in ("OFF1", "OFF2", "OFF-S", "OFF-D", "OFF-C")]
    clock.now = datetime(2020, 2, 18, 1, 0, tzinfo=UTC)  # 09:00 Beijing, the day after DAY
    return World(app, clock, *ids)


def refused(w: World, error: type[GridcoreError], fn, *args, **kwargs) -> GridcoreError:
    before = w.app.recorder.max_notification_id()
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert w.app.recorder.max_notification_id() == before
    assert info.value.problem and info.value.remedy
    return info.value


def test_a_report_returned_corrected_approved_and_summed_up_to_the_city(w: World) -> None:
    app = w.app
    app.submit_report(COMMUNITY, DAY, FIGS, {"物资储备": "充足"}, "正常", by=w.c1)
    app.return_report(COMMUNITY, DAY, "隔离人数与台账不符", by=w.street)
    assert app.daily_report(COMMUNITY, DAY).status is ReportStatus.RETURNED
    corrected = FIGS.model_copy(update={"home_quarantine": 3})
    app.correct_report(COMMUNITY, DAY, corrected, "补录一人", {"物资储备": "充足"}, by=w.c1)
    first, second = (app.report_version(COMMUNITY, DAY, n) for n in (1, 2))
    assert (first.figures, first.reason) == (FIGS, "")  # as submitted, still answerable
    assert (second.figures.home_quarantine, second.reason) == (3, "补录一人")
    refused(w, NotPermitted, app.approve_report, STREET, DAY, by=w.street)  # not submitted
    refused(w, NotPermitted, app.approve_report, COMMUNITY, DAY, by=w.c1)  # not above
    app.approve_report(COMMUNITY, DAY, by=w.street)
    # the street's report before the other community reported: its missing child listed
    app.submit_report(OTHER, DAY, ReportFigures(), zero=True, by=w.c2)
    done = app.completeness(STREET, DAY)
    assert {c.code: c.status for c in done.children} == {COMMUNITY: "approved",
                                                         OTHER: "submitted"}
    app.approve_report(OTHER, DAY, by=w.street)
    assert app.completeness(STREET, DAY).missing == []
    app.submit_report(STREET, DAY, None, note="街道汇总", by=w.street)
    street = app.daily_report(STREET, DAY).current
    assert street.figures == corrected  # the zero report adds nothing, and counts
    assert street.included == ((COMMUNITY, 2), (OTHER, 1)) and street.missing == ()
    app.approve_report(STREET, DAY, by=w.district)
    app.submit_report(DISTRICT, DAY, None, by=w.district)
    app.approve_report(DISTRICT, DAY, by=w.city)
    app.submit_report(CITY, DAY, None, by=w.city)
    assert app.daily_report(CITY, DAY).current.figures == corrected
    refused(w, NotPermitted, app.approve_report, CITY, DAY, by=w.city)  # nobody above


def test_a_submitted_report_never_changes_and_refusals_say_what_is_right(w: World) -> None:
    app = w.app
    app.submit_report(COMMUNITY, DAY, FIGS, by=w.c1)
    e = refused(w, NotPermitted, app.submit_report, COMMUNITY, DAY, FIGS, by=w.c1)
    assert "correct" in e.remedy.lower()
    refused(w, InvalidInput, app.correct_report, COMMUNITY, DAY, FIGS, "  ", by=w.c1)
    e = refused(w, InvalidInput, app.submit_report, OTHER, DAY, ReportFigures(), by=w.c2)
    assert "零报告" in e.remedy
    refused(w, InvalidInput, app.submit_report, OTHER, DAY, FIGS, zero=True, by=w.c2)
    refused(w, InvalidInput, app.submit_report, OTHER, DAY, None, by=w.c2)
    refused(w, InvalidInput, app.submit_report, STREET, DAY, FIGS, by=w.street)
    refused(w, InvalidInput, app.submit_report, f"{COMMUNITY}-01", DAY, FIGS, by=w.c1)
    refused(w, InvalidInput, app.submit_report, OTHER, DAY + timedelta(days=1), FIGS, by=w.c2)
    refused(w, InvalidInput, app.submit_report, OTHER, DAY, FIGS,
            {"备注": "联系13812341234"}, by=w.c2)
    refused(w, NotAuthorised, app.submit_report, OTHER, DAY, FIGS, by=w.c1)  # not theirs
    refused(w, NotAuthorised, app.return_report, OTHER, DAY, "x", by=w.c2)  # a community's
    refused(w, NotFound, app.return_report, OTHER, DAY, "错", by=w.street)
    with pytest.raises(NotFound):
        app.report_version(COMMUNITY, DAY, 2)
    app.return_report(COMMUNITY, DAY, "错", by=w.street)
    refused(w, NotPermitted, app.approve_report, COMMUNITY, DAY, by=w.street)  # returned


def test_a_street_official_may_not_approve_what_they_submitted_themself(w: World) -> None:
    w.app.submit_report(COMMUNITY, DAY, FIGS, by=w.street)
    e = refused(w, NotPermitted, w.app.approve_report, COMMUNITY, DAY, by=w.street)
    assert "yourself" in e.problem
    w.app.approve_report(COMMUNITY, DAY, by=w.district)


def test_the_parent_sums_only_approved_children_and_lists_the_missing(w: World) -> None:
    w.app.submit_report(COMMUNITY, DAY, FIGS, by=w.c1)
    w.app.approve_report(COMMUNITY, DAY, by=w.street)
    w.app.submit_report(OTHER, DAY, FIGS, by=w.c2)  # not approved: not summed
    w.app.submit_report(STREET, DAY, None, by=w.street)
    street = w.app.daily_report(STREET, DAY).current
    assert street.figures == FIGS and street.missing == (OTHER,)


def test_overdue_reports_escalate_a_level_at_each_deadline_exactly_once(w: World) -> None:
    app, policy = w.app, DEFAULT_POLICY
    app.submit_report(COMMUNITY, DAY, FIGS, by=w.c1)  # reporting for DAY has begun
    assert app.tick()["reports"] == 0  # 09:00: no deadline yet
    community_due = report_deadline(Level.COMMUNITY, DAY, policy)
    assert community_due == datetime(2020, 2, 18, 2, 0, tzinfo=community_due.tzinfo)
    assert {c.code: c.status for c in app.completeness(STREET, DAY).children} == {
        COMMUNITY: "submitted", OTHER: "missing"}
    w.clock.now = community_due
    assert app.tick()["reports"] == 1  # 713 to the street
    assert app.tick()["reports"] == 0  # once
    assert app.completeness(STREET, DAY).missing == [OTHER]
    assert app.completeness(STREET, DAY).children[1].status == "overdue"
    w.clock.now = report_deadline(Level.STREET, DAY, policy)
    # 713 again (to the district), the street (missing) to the district
    assert app.tick()["reports"] == 2
    w.clock.now = report_deadline(Level.CITY, DAY, policy) + timedelta(hours=1)
    # 713: to the city; the street: to the city; the district: to the city; the city: none
    assert app.tick()["reports"] == 3
    assert app.tick()["reports"] == 0
    desk = app._find(ReportDesk, REPORT_DESK_ID)
    assert desk.steps(OTHER, DAY) == [STREET, DISTRICT, CITY]
    assert desk.steps(STREET, DAY) == [DISTRICT, CITY]
    assert desk.steps(DISTRICT, DAY) == [CITY]
    assert desk.steps(COMMUNITY, DAY) == []


def test_once_reporting_has_begun_a_day_nobody_reports_for_escalates_too(w: World) -> None:
    app, policy = w.app, DEFAULT_POLICY
    app.submit_report(COMMUNITY, DAY, FIGS, by=w.c1)  # reporting has begun
    nobody = DAY + timedelta(days=1)  # the next day: nobody reports
    w.clock.now = report_deadline(Level.COMMUNITY, nobody, policy)
    app.tick()
    desk = app._find(ReportDesk, REPORT_DESK_ID)
    assert nobody in desk.periods and DAY + timedelta(days=2) not in desk.periods  # not ended
    assert desk.steps(COMMUNITY, nobody) == [STREET] and desk.steps(OTHER, nobody) == [STREET]
    assert {c.code: c.status for c in app.completeness(STREET, nobody).children} == {
        COMMUNITY: "overdue", OTHER: "overdue"}
    # a tick that did not run for a month chases only the last week
    w.clock.now += timedelta(days=30)
    app.tick()
    desk = app._find(ReportDesk, REPORT_DESK_ID)
    assert min(p for p in desk.periods if p > nobody) == w.clock.now.date() - timedelta(days=7)


def test_report_deadlines_are_policy_with_validation() -> None:
    with pytest.raises(ValueError, match="must not fall earlier"):
        DEFAULT_POLICY.with_changes(report_deadlines={
            "community": "13:00", "street": "12:00", "district": "14:00", "city": "16:00"})
    with pytest.raises(ValueError, match="names no time"):
        DEFAULT_POLICY.with_changes(report_deadlines={"community": "10:00"})
    later = DEFAULT_POLICY.with_changes(report_deadlines={
        "community": "09:00", "street": "09:30", "district": "10:00", "city": "11:00"})
    assert report_deadline(Level.STREET, DAY, later).hour == 1  # 09:30 Beijing
