"""Health monitoring (健康监测) by chat (issue 18: "reports come from the resident by chat"): a
message of the micro-grid's group from a household with a member under monitoring, carrying a
temperature, symptoms or a plain 平安, is recorded as that member's monitoring report (source
resident_chat, taken when sent), whether or not a sweep campaign is open (with one open, as the
check-in too); a fever is followed up; the same batch again writes nothing; a reading naming
nobody in a household with two monitored members is held for the worker (kind ``who``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from adapters.chat_intake import take_in
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.chat_review import ChatMessage, Fate, IntakeReport
from gridcore.household import household_id, new_member, resident_id
from gridcore.monitoring import Monitoring, ReportSource
from gridcore.referral import ReferralKind
from gridcore.staff import Role
from gridcore.status import Health, Measure
from gridcore.sweep import Method
from tests.conftest import Clock

OP = System.OPERATOR
CITY, DISTRICT, STREET = "4201", "420102", "420102001"
C712 = f"{STREET}712"
Z1 = f"{C712}-01"
H = timedelta(hours=1)
IMPOSED = datetime(2020, 2, 9, 23, 0, tzinfo=UTC)  # 07:00 on 10 February in Wuhan
DAY1 = date(2020, 2, 10)
HID, ZHANG, LI = household_id("712-1-0"), resident_id("712-1-0", 1), resident_id("712-1-0", 2)


def wuhan(day: date, hour: int, minute: int = 0) -> datetime:
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
        new_member("712-1-0", 1, "张三", None, None, 1985),
        new_member("712-1-0", 2, "李四", None, None, 1986)], by=OP)
    app.enrol_staff("GW1", "GW1", Role.GRID_WORKER, C712, 10, by=OP)
    app.assign_responsible_worker(Z1, app.staff_by_no("GW1").id, by=OP)
    return app


def quarantine(app: GridcoreApp, clock: Clock, *rids: UUID) -> None:
    """Home quarantine at 07:00 on day 1; the tick starts the monitoring."""
    clock.now = IMPOSED
    for rid in rids:
        app.change_measure(HID, rid, Measure.HOME_QUARANTINE, app.staff_by_no("GW1").id,
                           "密接")
    app.tick()


def chat(app: GridcoreApp, clock: Clock, *texts: tuple[str, str], at: datetime,
         sender: str = "张三") -> IntakeReport:
    """The group's bot delivers the messages (id, text) sent at ``at``, a minute later."""
    clock.now = at + timedelta(minutes=1)
    return take_in(app, Z1, [ChatMessage(mid, sender, at, text) for mid, text in texts],
                   by=System.FEED)


def reports(app: GridcoreApp, rid: UUID) -> list[Monitoring.Report]:
    m = app.monitoring_of(rid)
    assert m is not None
    return list(m.reports)


def test_a_quarantined_resident_reporting_by_chat_is_recorded_and_the_slot_counts(
        city: GridcoreApp, clock: Clock) -> None:
    app = city
    quarantine(app, clock, ZHANG)
    sent = wuhan(DAY1, 7, 50)
    batch = (("m-1", "1栋101 张三36.5"),)  # no campaign open, no member count
    out = chat(app, clock, *batch, at=sent)
    [o] = out.outcomes
    assert (o.fate, o.household_id, o.monitoring, out.monitored) == (Fate.MONITORED, HID, 1, 1)
    assert "健康监测" in o.reason
    [r] = reports(app, ZHANG)
    assert (r.source, r.taken_at, r.temperature, r.by) == (ReportSource.RESIDENT_CHAT, sent,
                                                          36.5, None)
    assert [d.reported for d in app.monitoring_due(C712, DAY1)] == [True, False]
    assert app.chat_reviews(Z1) == []  # nothing held

    before = app.recorder.max_notification_id()  # the same batch again writes nothing
    again = chat(app, clock, *batch, at=sent)
    assert [o.fate for o in again.outcomes] == [Fate.DUPLICATE]
    assert app.recorder.max_notification_id() == before

    # the evening: a plain 平安 naming nobody, with a member count, is the one monitored
    # member's report (no reading); 李四 is not monitored
    evening = wuhan(DAY1, 19, 50)
    out = chat(app, clock, ("m-2", "1栋101，2人，平安"), at=evening, sender="李四")
    assert [(o.fate, o.monitoring) for o in out.outcomes] == [(Fate.MONITORED, 1)]
    assert [(r.taken_at, r.temperature) for r in reports(app, ZHANG)] == [
        (sent, 36.5), (evening, None)]
    assert [d.reported for d in app.monitoring_due(C712, DAY1)] == [True, True]


def test_a_fever_by_chat_is_followed_up(city: GridcoreApp, clock: Clock) -> None:
    app = city
    quarantine(app, clock, ZHANG)
    out = chat(app, clock, ("m-f", "1栋101 体温37.9 咳嗽"), at=wuhan(DAY1, 8))
    assert [o.fate for o in out.outcomes] == [Fate.MONITORED]
    [r] = reports(app, ZHANG)
    assert (r.temperature, r.symptoms, r.source) == (37.9, ("发热", "咳嗽"),
                                                    ReportSource.RESIDENT_CHAT)
    [abnormal] = app.monitoring_abnormal(C712)
    assert (abnormal.resident_id, abnormal.temperature) == (ZHANG, 37.9)
    h = app.household(HID)
    assert (h.residents[ZHANG].health, h.residents[LI].health) == (Health.SYMPTOMATIC,
                                                                   Health.NORMAL)
    assert [x.kind for x in app.referrals_of(ZHANG)] == [ReferralKind.FEVER_CLINIC]


def test_with_a_campaign_open_the_message_is_the_check_in_and_the_monitoring_report(
        city: GridcoreApp, clock: Clock) -> None:
    app = city
    quarantine(app, clock, ZHANG)
    app.launch_campaign(C712, 1, 3, by=OP)
    sent = wuhan(DAY1, 8, 5)
    out = chat(app, clock, ("m-c", "1栋101，2人，体温37.9"), at=sent)
    [o] = out.outcomes
    assert (o.fate, o.monitoring, out.recorded, out.monitored) == (Fate.RECORDED, 1, 1, 0)
    [r] = reports(app, ZHANG)
    assert (r.taken_at, r.temperature) == (sent, 37.9)
    visit = app.visit(app.campaign_of(C712, 1).id, HID)
    assert visit is not None and [a.method for a in visit.attempts] == [Method.CHAT]
    assert app.household(HID).residents[ZHANG].health is Health.SYMPTOMATIC
    assert len(app.referrals_of(ZHANG)) == 1  # one referral for the one fever
    before = app.recorder.max_notification_id()
    assert [o.fate for o in chat(app, clock, ("m-c", "1栋101，2人，体温37.9"),
                                 at=sent).outcomes] == [Fate.DUPLICATE]
    assert app.recorder.max_notification_id() == before


def test_two_monitored_members_and_an_unnamed_reading_is_held(city: GridcoreApp,
                                                              clock: Clock) -> None:
    app = city
    quarantine(app, clock, ZHANG, LI)
    out = chat(app, clock, ("m-w", "1栋101 体温36.5"), ("m-p", "1栋101，2人，平安"),
               at=wuhan(DAY1, 7, 55))
    assert [o.fate for o in out.outcomes] == [Fate.REVIEW, Fate.REVIEW]
    assert "2 under health monitoring" in out.outcomes[0].reason
    assert "find who" in out.outcomes[0].reason and "36.5" in out.outcomes[0].reason
    held = app.chat_reviews(Z1)
    assert [(h.message_id, h.kind) for h in held] == [("m-w", "who"), ("m-p", "who")]
    assert reports(app, ZHANG) == reports(app, LI) == []
    assert app.monitoring_due(C712, DAY1)[0].reported is False

    # the member named is theirs
    out = chat(app, clock, ("m-n", "1栋101 李四36.8"), at=wuhan(DAY1, 7, 58))
    assert [(o.fate, o.monitoring) for o in out.outcomes] == [(Fate.MONITORED, 1)]
    assert [r.temperature for r in reports(app, LI)] == [36.8] and reports(app, ZHANG) == []


def test_without_a_monitored_member_or_a_campaign_nothing_changes(city: GridcoreApp,
                                                                  clock: Clock) -> None:
    app = city
    out = chat(app, clock, ("m-a", "1栋101 体温36.5"), ("m-b", "1栋101，2人，平安"),
               at=IMPOSED)
    assert [(o.fate, app.chat_review(Z1, o.message_id).kind) for o in out.outcomes] == [
        (Fate.REVIEW, "members"), (Fate.REVIEW, "household")]
