"""Health monitoring during a measure (健康监测) on every store: the journey of issue 18 (a
resident under home quarantine reports on day 1, misses day 2's evening report, which is
flagged to the micro-grid's worker and then escalated by ``tick``, reports a fever on day 3,
which is followed up as a sweep's finding, and is listed for release at the end and released
through the measure rules), an assisted resident on the worker's visit list, the process's
idempotency, a measure change ending one period's monitoring, and refusals that write
nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import NotAuthorised, System
from gridcore.errors import ForbiddenTransition, InvalidInput, NotFound
from gridcore.grid import Level
from gridcore.household import household_id, new_member, resident_id
from gridcore.monitoring import AssistMethod, Monitoring, RequirementKind, monitoring_id
from gridcore.referral import ReferralKind
from gridcore.staff import Role
from gridcore.status import Health, Measure
from tests.conftest import Clock

OP = System.OPERATOR
CITY, DISTRICT, STREET = "4201", "420102", "420102001"
C712 = f"{STREET}712"
Z1 = f"{C712}-01"
H = timedelta(hours=1)
IMPOSED = datetime(2020, 2, 9, 23, 0, tzinfo=UTC)  # 07:00 on 10 February in Wuhan
DAY1 = date(2020, 2, 10)


def wuhan(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in Wuhan (UTC+8), as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - 8 * H


@pytest.fixture
def city(app: GridcoreApp, clock: Clock) -> GridcoreApp:
    clock.now = IMPOSED - 2 * H
    app.establish_city(CITY, "武汉市", by=OP)
    app.create_node(DISTRICT, "江岸区", CITY, by=OP)
    app.create_node(STREET, "后湖街道", DISTRICT, by=OP)
    app.create_node(C712, "712社区", STREET, by=OP)
    app.create_node(Z1, "第1片区", C712, by=OP)
    app.register_household("712-1-0", Z1, "1栋101", [
        new_member("712-1-0", 1, "张三", "13812341234", None, 1985),
        new_member("712-1-0", 2, "李四", None, None, 1986)], by=OP)
    app.register_household("712-2-0", Z1, "2栋201", [
        new_member("712-2-0", 1, "王奶奶", None, None, 1940)], by=OP)  # 80, alone
    for no, role in (("GW1", Role.GRID_WORKER), ("DOC1", Role.FAMILY_DOCTOR),
                     ("VOL1", Role.VOLUNTEER)):
        app.enrol_staff(no, no, role, C712, 10, by=OP)
    app.assign_responsible_worker(Z1, staff(app, "GW1"), by=OP)
    return app


def staff(app: GridcoreApp, no: str) -> UUID:
    return app.staff_by_no(no).id


HID, RID = household_id("712-1-0"), resident_id("712-1-0", 1)
OTHER = resident_id("712-1-0", 2)
GRANNY_HID, GRANNY = household_id("712-2-0"), resident_id("712-2-0", 1)


def quarantined(app: GridcoreApp, clock: Clock, hid: UUID = HID, rid: UUID = RID) -> Monitoring:
    """Home quarantine imposed by the grid worker at 07:00 on day 1; a tick starts the
    monitoring (the process follows the measure change)."""
    clock.now = IMPOSED
    app.change_measure(hid, rid, Measure.HOME_QUARANTINE, staff(app, "GW1"), "密接")
    app.tick()
    m = app.monitoring_of(rid)
    assert m is not None
    return m


def report(app: GridcoreApp, clock: Clock, at: datetime, by: UUID | System = System.FEED,
           source: str = "resident_chat", temperature: float | None = 36.5,
           symptoms: tuple[str, ...] = ()) -> None:
    clock.now = at
    app.record_monitoring_report(HID, RID, source, by=by, temperature=temperature,
                                 symptoms=list(symptoms))


def test_the_journey_of_a_resident_under_home_quarantine(city: GridcoreApp,
                                                         clock: Clock) -> None:
    app, gw, doc = city, staff(city, "GW1"), staff(city, "DOC1")
    m = quarantined(app, clock)
    ends = IMPOSED + timedelta(days=14)
    assert (m.measure, m.starts, m.ends) == (Measure.HOME_QUARANTINE, IMPOSED, ends)
    assert m.id == monitoring_id(RID, IMPOSED) and m.assist_method is None
    due = app.monitoring_due(C712, DAY1)
    assert [(r.resident_id, r.due) for r in due] == [(RID, wuhan(DAY1, 8)),
                                                     (RID, wuhan(DAY1, 20))]

    # day 1: the resident reports in the chat group, then the worker calls in the evening
    report(app, clock, wuhan(DAY1, 7, 50))
    report(app, clock, wuhan(DAY1, 19, 55), by=gw, source="staff_phone", temperature=36.7)
    assert [r.reported for r in app.monitoring_due(C712, DAY1)] == [True, True]

    # day 2: the morning report by the app, the evening one missed
    day2 = DAY1 + timedelta(days=1)
    report(app, clock, wuhan(day2, 8, 10), by=System.PUBLIC, source="resident_app")
    deadline = wuhan(day2, 20) + timedelta(minutes=120)
    assert app.tick(deadline - timedelta(minutes=1))["monitoring"] == 0
    assert app.monitoring_missed(C712) == []
    assert app.tick(deadline + timedelta(minutes=1))["monitoring"] == 1
    [missed] = app.monitoring_missed(C712)
    assert (missed.due, missed.open, missed.owner_code, missed.level, missed.worker_id) == (
        wuhan(day2, 20), True, Z1, Level.MICRO_GRID, gw)
    assert app.tick(deadline + timedelta(minutes=2))["monitoring"] == 0  # flagged once

    # not heard from for the policy's hours: escalated to the community, once
    step = deadline + timedelta(hours=4)
    assert app.tick(step - timedelta(minutes=1))["monitoring"] == 0
    assert app.tick(step + timedelta(minutes=1))["monitoring"] == 1
    assert app.tick(step + timedelta(minutes=2))["monitoring"] == 0
    [missed] = app.monitoring_missed(C712, open_only=True)
    assert (missed.owner_code, missed.level, missed.escalations) == (C712, Level.COMMUNITY, 1)
    events = list(app.events.get(m.id))
    assert [type(e).__name__ for e in events].count("ReportMissed") == 1
    [up] = [e for e in events if isinstance(e, Monitoring.Escalated)]
    assert (up.from_code, up.to_code, up.timestamp) == (Z1, C712, step)

    # day 3: a volunteer's visit finds a fever: the findings follow-up
    day3 = day2 + timedelta(days=1)
    report(app, clock, wuhan(day3, 8, 30), by=staff(app, "VOL1"), source="staff_visit",
           temperature=38.2, symptoms=("咳嗽",))
    assert app.household(HID).residents[RID].health is Health.SYMPTOMATIC
    [referral] = app.referrals_of(RID)
    assert referral.kind is ReferralKind.FEVER_CLINIC
    [abnormal] = app.monitoring_abnormal(C712)
    assert (abnormal.temperature, abnormal.symptoms) == (38.2, ("咳嗽",))
    assert "38.2" in abnormal.reason
    assert app.monitoring_missed(C712, open_only=True) == []  # heard from: no more steps
    app.process_monitoring(restart_from=0, by=OP)  # read again: nothing applied twice
    assert len(app.referrals_of(RID)) == 1

    # every report time to the end of the period reported
    t = wuhan(day3, 20)
    while t < ends:
        report(app, clock, t - timedelta(minutes=5))
        t += 12 * H
    assert app.monitoring_release_list(C712) == []
    clock.now = ends + H
    assert app.tick()["monitoring"] == 1
    [entry] = app.monitoring_release_list(C712)
    assert (entry.resident_id, entry.ends, entry.test_ok) == (RID, ends, False)
    assert [r.kind for r in entry.requirements] == [RequirementKind.NEGATIVE_TEST,
                                                    RequirementKind.DECISION]
    assert entry.requirements[0].hours == 48
    assert set(entry.requirements[1].roles) == {Role.FAMILY_DOCTOR, Role.OFFICIAL}
    with pytest.raises(ForbiddenTransition):  # the measure rules still ask for the test
        app.change_measure(HID, RID, Measure.NONE, doc, "期满解除")

    app.record_test(HID, RID, True, clock.now - H, by=doc)
    assert app.monitoring_release_list(C712)[0].test_ok
    app.change_measure(HID, RID, Measure.NONE, doc, "期满解除 released")
    app.tick()
    assert app.monitoring_of(RID) is None and app.monitoring_release_list(C712) == []
    [ended] = [e for e in app.events.get(m.id) if isinstance(e, Monitoring.Ended)]
    assert (ended.measure, ended.by) == (Measure.NONE, doc)
    assert app.monitoring(m.id).reports[-1].temperature == 36.5
    assert not any(r.missed for r in app.monitoring_due(C712, DAY1))


def test_a_resident_who_cannot_report_is_on_the_workers_visit_list(city: GridcoreApp,
                                                                   clock: Clock) -> None:
    app = city
    m = quarantined(app, clock, GRANNY_HID, GRANNY)
    assert m.assist_method is AssistMethod.VISIT
    visits = app.monitoring_due(C712, DAY1, assisted_only=True)
    assert {r.resident_id for r in visits} == {GRANNY}
    assert all(r.method is AssistMethod.VISIT for r in visits)
    quarantined(app, clock)  # a resident who reports themself is on no visit list
    assert {r.resident_id for r in app.monitoring_due(C712, DAY1, assisted_only=True)} == {
        GRANNY}
    app.assist_monitored_resident(HID, RID, "phone", "手机坏了 phone broken",
                                  by=staff(app, "GW1"))
    assert app.monitoring_of(RID).assist_method is AssistMethod.PHONE  # type: ignore[union-attr]
    assert len(app.monitoring_due(C712, DAY1, assisted_only=True)) == 4


def test_monitoring_starts_once_by_the_worker_or_the_process(city: GridcoreApp,
                                                             clock: Clock) -> None:
    app, gw = city, staff(city, "GW1")
    clock.now = IMPOSED
    app.change_measure(HID, RID, Measure.HOME_QUARANTINE, gw, "密接")
    app.start_monitoring(HID, RID, by=gw)  # the worker need not wait for the tick
    before = app.recorder.max_notification_id()
    assert app.start_monitoring(HID, RID, by=gw) is None
    assert app.recorder.max_notification_id() == before
    app.tick()
    app.process_monitoring(restart_from=0, by=OP)
    started = [n for n in app.recorder.select_notifications(start=1, limit=10_000)
               if n.topic.endswith("Monitoring.Started")]
    assert len(started) == 1
    with pytest.raises(ForbiddenTransition):  # no monitored measure
        app.start_monitoring(HID, OTHER, by=gw)


def test_another_measure_ends_the_period_and_an_extension_moves_the_end(
        city: GridcoreApp, clock: Clock) -> None:
    app, doc = city, staff(city, "DOC1")
    first = quarantined(app, clock)
    clock.now = IMPOSED + 30 * H
    app.change_measure(HID, RID, Measure.CENTRALIZED_QUARANTINE, doc, "转集中隔离")
    app.tick()
    now = app.monitoring_of(RID)
    assert now is not None and now.id != first.id
    assert (now.measure, now.starts) == (Measure.CENTRALIZED_QUARANTINE, clock.now)
    assert not app.monitoring(first.id).active
    clock.now += H
    app.change_measure(HID, RID, Measure.HOSPITALIZED, doc, "确诊住院")
    app.tick()
    assert app.monitoring_of(RID) is None and not app.monitoring(now.id).active
    assert app.monitored(C712) == []


def test_refusals_write_nothing(city: GridcoreApp, clock: Clock) -> None:
    app, gw = city, staff(city, "GW1")
    quarantined(app, clock)
    clock.now = wuhan(DAY1, 8)
    before = app.recorder.max_notification_id()
    cases = [
        (NotFound, dict(rid=OTHER, source="resident_chat", by=System.FEED)),  # not monitored
        (NotFound, dict(hid=GRANNY_HID, rid=GRANNY, source="staff_visit", by=gw)),
        (InvalidInput, dict(source="staff_visit", by=gw, temperature=45.0)),  # out of range
        (InvalidInput, dict(source="resident_chat", by=System.FEED,
                            taken_at=clock.now + H)),  # in the future
        (InvalidInput, dict(source="staff_visit", by=System.FEED)),  # a visit by nobody
        (InvalidInput, dict(source="by pigeon", by=gw)),
        (InvalidInput, dict(source="resident_chat", by=System.FEED,
                            symptoms=["请回电 13812341234"])),  # a phone number in free text
        (NotAuthorised, dict(source="resident_chat", by=System.AUTOMATION)),
    ]
    for error, given in cases:
        arguments = {"hid": HID, "rid": RID, **given}
        with pytest.raises(error):
            app.record_monitoring_report(**arguments)  # type: ignore[arg-type]
        assert app.recorder.max_notification_id() == before, given


def test_report_times_before_monitoring_began_are_owed_by_nobody(city: GridcoreApp,
                                                                 clock: Clock) -> None:
    app, gw = city, staff(city, "GW1")
    clock.now = IMPOSED
    app.change_measure(HID, RID, Measure.HOME_QUARANTINE, gw, "密接")
    clock.now = IMPOSED + 30 * H  # the first tick comes a day later
    assert app.tick()["monitoring"] == 0
    m = app.monitoring_of(RID)
    assert m is not None and (m.measure_start, m.starts) == (IMPOSED, clock.now)
    assert app.monitoring_missed(C712) == []
    # a visit of the first morning, entered now, is on the record all the same
    app.record_monitoring_report(HID, RID, "staff_visit", by=gw, taken_at=IMPOSED + 2 * H,
                                 temperature=36.5)
    assert app.monitoring(m.id).reports[0].taken_at == IMPOSED + 2 * H


def test_a_member_who_leaves_the_household_is_followed_no_more(city: GridcoreApp,
                                                              clock: Clock) -> None:
    app = city
    m = quarantined(app, clock)
    clock.now += H
    app.remove_member(HID, RID, "迁出 moved out", by=OP)
    app.tick()
    assert app.monitoring_of(RID) is None and not app.monitoring(m.id).active
    assert app.tick(IMPOSED + timedelta(days=3))["monitoring"] == 0  # nothing flagged
