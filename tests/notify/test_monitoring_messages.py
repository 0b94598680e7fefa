"""Health monitoring's messages (健康监测通知): a missed report reminds the resident (a text,
or their worker's call list) and tells the responsible worker; an overdue report escalated a
level reaches that level's staff at once. Read again, the log queues nothing new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridcore.authority import System
from gridcore.monitoring import Monitoring
from gridcore.notification import BEIJING, Category, Channel, Message, RecipientKind, Template
from gridcore.staff import Role
from gridcore.status import Measure
from tests.notify.test_outbox import COMMUNITY, NAMES, OP, PHONES, Z1, World, world

__all__ = ["world"]  # the fixture, shared with the outbox's tests

STREET = "420102001"
DAY = datetime(2020, 2, 18, tzinfo=BEIJING)


def wuhan(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return (DAY + timedelta(days=days, hours=hour, minutes=minute)).astimezone(UTC)


def quarantine(w: World, *nos: str) -> None:
    """Home quarantine for the first resident of each household at 07:00 on the day, by the
    micro-grid's responsible worker; a tick starts the monitoring."""
    w.app.assign_responsible_worker(Z1, w.worker, by=OP)
    w.clock.now = wuhan(7)
    for no in nos:
        w.app.change_measure(w.hid(no), w.rid(no), Measure.HOME_QUARANTINE, w.worker, "密接")
    w.app.tick()
    assert w.notifier.catch_up() == 0  # a measure imposed is told in person


def tick(w: World, at: datetime) -> None:
    w.clock.now = at
    w.app.tick(at)


def report(w: World, at: datetime) -> None:
    w.clock.now = at
    w.app.record_monitoring_report(w.hid("H1"), w.rid("H1"), "resident_chat",
                                   by=System.FEED, temperature=36.5, symptoms=[])


def of(messages: list[Message], template: Template) -> list[Message]:
    return [m for m in messages if m.template is template]


def test_a_missed_report_texts_the_resident_once_and_tells_the_worker_once(
        world: World) -> None:
    w = world
    w.app.enrol_staff("GW2", "钱网格", Role.GRID_WORKER, COMMUNITY, phone="13900003333",
                      by=OP)
    w.worker = w.app.staff_by_no("GW2").id
    quarantine(w, "H1")
    tick(w, wuhan(10, 1))  # the 08:00 report's deadline (2 hours' grace) passed
    assert w.notifier.catch_up() == 2
    assert w.notifier.catch_up() == 0
    [missed] = [e for e in w.app.events.get(w.app.monitoring_of(w.rid("H1")).id)
                if isinstance(e, Monitoring.ReportMissed)]
    assert w.app.notify_of(missed, by=System.AUTOMATION) == 0  # read again after a crash

    messages = w.queued()
    [reminder] = of(messages, Template.REPORT_DUE)
    [duty] = of(messages, Template.REPORT_MISSED)
    assert (reminder.recipient.kind, reminder.recipient.id, reminder.channel) == (
        RecipientKind.RESIDENT, w.rid("H1"), Channel.SMS)
    assert reminder.category is Category.MEASURE and not reminder.urgent
    assert reminder.text.startswith("【健康监测】请于02月18日22:00前报告")  # the next deadline
    assert (duty.recipient.kind, duty.recipient.id, duty.channel) == (
        RecipientKind.STAFF, w.worker, Channel.SMS)
    assert duty.category is Category.DUTY
    assert duty.text == ("【健康监测漏报】第1片区居民张*未按时报告02月18日08:00的体温和症状，"
                         "请电话或上门随访。")
    for m in messages:
        assert not any(name in m.text for name in NAMES)
        assert not any(phone in m.text for phone in PHONES.values())

    assert w.sender.drain() == 2
    assert w.sender.drain() == 0
    assert sorted(r.body["to"] for r in w.sms.requests) == sorted([PHONES["H1"], "13900003333"])


def test_an_evening_reminder_waits_for_the_quiet_hours_end(
        world: World) -> None:
    w = world
    quarantine(w, "H1")
    report(w, wuhan(8, 5))
    tick(w, wuhan(22, 1))  # the 20:00 report missed: its deadline is in the quiet hours
    assert w.notifier.catch_up() == 2
    [reminder] = of(w.queued(), Template.REPORT_DUE)
    assert reminder.not_before == wuhan(7, days=1)  # the quiet hours' end, 07:00
    [duty] = of(w.queued(), Template.REPORT_MISSED)
    assert duty.channel is Channel.EMAIL  # the worker has no phone on record


def test_the_escalation_reaches_the_staff_of_each_level_above_at_once(world: World) -> None:
    w = world
    w.app.enrol_staff("DL1", "吴值班", Role.DUTY_LEAD, STREET, phone="13900001111", by=OP)
    w.app.enrol_staff("OFF2", "郑书记", Role.OFFICIAL, STREET, by=OP)
    w.app.enrol_staff("VOL9", "王志愿", Role.VOLUNTEER, STREET, phone="13900002222", by=OP)
    quarantine(w, "H1")
    report(w, wuhan(8, 5))
    tick(w, wuhan(22, 1))  # the 20:00 report missed: an overdue item
    w.notifier.catch_up()
    before = {m.id for m in w.all_messages()}

    tick(w, wuhan(2, 1, days=1))  # 4 hours on: to the community
    assert w.notifier.catch_up() == 2  # its official and grid worker, not the doctor
    up = [m for m in w.all_messages() if m.id not in before]
    assert {m.recipient.id for m in up} == {w.official, w.worker}
    before |= {m.id for m in up}

    tick(w, wuhan(6, 1, days=1))  # 4 hours more: to the street, in the quiet hours
    assert w.notifier.catch_up() == 2  # the duty lead and the official; not the volunteer
    assert w.notifier.catch_up() == 0
    street = {m.recipient.id: m for m in w.all_messages() if m.id not in before}
    lead, official = w.app.staff_by_no("DL1").id, w.app.staff_by_no("OFF2").id
    assert set(street) == {lead, official}
    assert (street[lead].channel, street[official].channel) == (Channel.SMS, Channel.EMAIL)
    for m in street.values():
        assert m.template is Template.MONITORING_ESCALATED and m.urgent
        assert m.not_before == wuhan(6, 1, days=1)  # at once, quiet hours or not
        assert m.text == ("【健康监测升级】第1片区居民张*自02月18日20:00起未报告体温和症状，"
                          "已升级至您处（街道），请于02月19日10:00前核实处置。")
        assert "张三" not in m.text and PHONES["H1"] not in m.text


def test_a_resident_without_a_smartphone_goes_on_the_call_list(world: World) -> None:
    w = world
    quarantine(w, "H2")  # 李四: no smartphone declared
    tick(w, wuhan(10, 1))
    assert w.notifier.catch_up() == 2
    assert w.notifier.catch_up() == 0
    [call] = w.app.call_list(Z1)
    assert (call.template, call.recipient.id, call.channel) == (
        Template.REPORT_DUE, w.rid("H2"), Channel.CALL_LIST)
    w.app.record_call(call.id, w.hid("H2"), by=w.worker)
    assert w.app.call_list(Z1) == []
    tick(w, wuhan(10, 2))
    assert w.notifier.catch_up() == 0



def test_a_report_come_in_before_the_reminder_is_queued_silences_it(world: World) -> None:
    w = world
    quarantine(w, "H1")
    tick(w, wuhan(10, 1))
    report(w, wuhan(10, 30))  # the notifier was behind: the resident reported meanwhile
    assert w.notifier.catch_up() == 1
    assert [m.template for m in w.queued()] == [Template.REPORT_MISSED]
