"""The outbox over the three stores: the notifier queues what stored events call for, once;
the sender drains it through real local receivers with retries and backoff; quiet hours,
the rate limit, opt-out, the call list and erasure hold end to end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from adapters.notify.outbox import Directory, Notifier, Sender, channels_from
from adapters.notify.settings import NotifySettings
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.errors import ForbiddenTransition, NotPermitted
from gridcore.household import Vulnerability, household_id, resident_id
from gridcore.notification import (
    BEIJING,
    DEFAULT_NOTIFY_POLICY,
    Category,
    Channel,
    Message,
    MessageStatus,
    RecipientKind,
    Template,
    backoff,
)
from gridcore.staff import Role
from gridcore.status import Measure
from tests.conftest import Clock
from tests.notify.servers import Receiver, http_receiver

COMMUNITY = "420102001712"
Z1, Z2 = f"{COMMUNITY}-01", f"{COMMUNITY}-02"
OP = System.OPERATOR
NAMES = ("张三", "李四", "王五", "赵六")
PHONES = {"H1": "13812340001", "H2": "13812340002", "H4": "13812340004"}
NOTICE = "明日8时起全员核酸检测，请携带身份证，全程佩戴口罩。"


@dataclass
class World:
    app: GridcoreApp
    clock: Clock
    official: UUID
    worker: UUID
    doctor: UUID
    webhook: Receiver
    sms: Receiver
    notifier: Notifier
    sender: Sender

    def hid(self, no: str) -> UUID:
        return household_id(no)

    def rid(self, no: str) -> UUID:
        return resident_id(no, 1)

    def queued(self) -> list[Message]:
        self.sender.follow()
        return self.app.messages(sorted(self.sender.open))

    def all_messages(self, event_count: int = 100_000) -> list[Message]:
        ids = {n.originator_id for n in self.app.recorder.select_notifications(
            start=1, limit=event_count, topics=["gridcore.notification:Message.Queued"])}
        return self.app.messages(sorted(ids))


def build(app: GridcoreApp) -> tuple[UUID, UUID, UUID]:
    app.establish_city("4201", "武汉市", by=OP)
    app.create_node("420102", "江岸区", "4201", by=OP)
    app.create_node("420102001", "后湖街道", "420102", by=OP)
    app.create_node(COMMUNITY, "712社区", "420102001", by=OP)
    app.create_node(Z1, "第1片区", COMMUNITY, by=OP)
    app.create_node(Z2, "第2片区", COMMUNITY, by=OP)
    rows = [("H1", Z1, "张三", PHONES["H1"], 1980, []),
            ("H2", Z1, "李四", PHONES["H2"], 1985, [Vulnerability.NO_SMARTPHONE]),
            ("H3", Z2, "王五", None, 1970, []),
            ("H4", Z2, "赵六", PHONES["H4"], 1990, [])]
    for no, grid, name, phone, born, vulns in rows:
        app.register_household(no, grid, f"{no}栋101",
                               [new_member(no, 1, name, phone, None, born, vulns)], by=OP)
    app.enrol_staff("OFF1", "钱主任", Role.OFFICIAL, COMMUNITY, by=OP)
    app.enrol_staff("GW1", "孙网格", Role.GRID_WORKER, COMMUNITY, by=OP)
    app.enrol_staff("DOC1", "周医生", Role.FAMILY_DOCTOR, COMMUNITY, by=OP)
    return (app.staff_by_no("OFF1").id, app.staff_by_no("GW1").id,
            app.staff_by_no("DOC1").id)


@pytest.fixture
def world(app: GridcoreApp, clock: Clock) -> Iterator[World]:
    official, worker, doctor = build(app)
    with http_receiver("wecom") as webhook, http_receiver("sms") as sms:
        settings = NotifySettings(wecom_url=webhook.url, sms_url=sms.url, sms_key="k")
        sender = Sender(app, channels_from(settings), Directory(app, settings))
        yield World(app, clock, official, worker, doctor, webhook, sms, Notifier(app), sender)


def test_a_notice_reaches_every_group_and_household_once_each(world: World) -> None:
    w = world
    w.app.post_notice(COMMUNITY, NOTICE, by=w.official)
    assert w.notifier.catch_up() == 6  # 2 groups, 2 texts, 2 calls
    assert w.notifier.catch_up() == 0
    notice = w.app.mapper.to_domain_event(w.app.recorder.select_notifications(
        start=1, limit=10, topics=["gridcore.notice:Notice.Posted"])[0])
    assert w.app.notify_of(notice, by=System.AUTOMATION) == 0  # read again after a crash

    messages = w.queued()
    by_channel = {c: sorted(str(m.recipient.group or m.recipient.household_id)
                            for m in messages if m.channel is c) for c in Channel}
    assert by_channel[Channel.WECOM_GROUP] == [Z1, Z2]
    assert by_channel[Channel.SMS] == sorted(str(w.hid(n)) for n in ("H1", "H4"))
    assert by_channel[Channel.CALL_LIST] == sorted(str(w.hid(n)) for n in ("H2", "H3"))
    for m in messages:
        assert m.text == f"【712社区公告】{NOTICE}"
        assert not any(name in m.text for name in NAMES)
        assert not any(phone in m.text for phone in PHONES.values())

    assert w.sender.drain() == 4
    assert w.sender.drain() == 0
    assert sorted(r.body["text"]["content"] for r in w.webhook.requests) == [m.text] * 2
    assert sorted(r.body["to"] for r in w.sms.requests) == [PHONES["H1"], PHONES["H4"]]
    statuses = {m.id: m.status for m in w.all_messages()}
    for m in messages:
        expected = {Channel.WECOM_GROUP: MessageStatus.DELIVERED, Channel.SMS: MessageStatus.SENT,
                    Channel.CALL_LIST: MessageStatus.QUEUED}[m.channel]
        assert statuses[m.id] is expected

    [call] = w.app.call_list(Z1)
    assert call.recipient.household_id == w.hid("H2")
    w.app.record_call(call.id, w.hid("H2"), by=w.worker)
    assert w.app.call_list(Z1) == []
    assert w.app.message(call.id).status is MessageStatus.DELIVERED
    with pytest.raises(ForbiddenTransition):
        w.app.record_call(call.id, w.hid("H2"), by=w.worker)


def test_a_receiver_failing_with_500_is_retried_with_growing_waits_until_it_takes_it(
        world: World) -> None:
    w = world
    w.sms.script += [500, 503]
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.notifier.catch_up()
    [text] = [m for m in w.queued() if m.channel is Channel.SMS]
    waits = []
    for attempt, reason in ((1, "HTTP 500"), (2, "HTTP 503")):
        assert w.sender.drain() >= 1
        m = w.app.message(text.id)
        assert (m.status, m.attempts, m.reason) == (MessageStatus.RETRYING, attempt, reason)
        assert m.next_try == w.clock.now + backoff(attempt, DEFAULT_NOTIFY_POLICY)
        waits.append(m.next_try - w.clock.now)
        assert w.sender.drain() == 0  # not before its time
        w.clock.now = m.next_try
    assert w.sender.drain() == 1
    m = w.app.message(text.id)
    assert (m.status, m.attempts) == (MessageStatus.SENT, 3)
    assert waits == sorted(waits) and waits[0] < waits[1]
    assert w.sms.counts()[str(text.id)] == 3  # the same id every time
    assert w.sms.accepted == [str(text.id)]


def test_a_permanent_refusal_fails_the_message_with_its_reason_and_it_is_not_tried_again(
        world: World) -> None:
    w = world
    w.sms.script.append(400)
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.notifier.catch_up()
    w.sender.drain()
    [text] = [m for m in w.all_messages() if m.channel is Channel.SMS]
    assert (text.status, text.reason) == (MessageStatus.FAILED, "HTTP 400")
    w.clock.advance(days=1)
    assert w.sender.drain() == 0
    assert w.sms.counts()[str(text.id)] == 1


def test_a_notice_posted_at_night_waits_for_the_morning_and_an_urgent_message_does_not(
        world: World) -> None:
    w = world
    w.clock.now = datetime(2020, 2, 17, 23, 30, tzinfo=BEIJING).astimezone(UTC)
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.notifier.catch_up()
    morning = datetime(2020, 2, 18, 7, 0, tzinfo=BEIJING)
    assert {m.not_before for m in w.queued() if m.channel is not Channel.CALL_LIST} == {morning}
    assert w.sender.drain() == 0
    w.clock.now = morning - timedelta(seconds=1)
    assert w.sender.drain() == 0
    w.clock.now = morning
    assert w.sender.drain() == 2  # the group and the text
    assert len(w.webhook.requests) == len(w.sms.requests) == 1


def test_no_recipient_gets_more_than_the_rate_limit_in_an_hour(world: World) -> None:
    w = world
    limit = DEFAULT_NOTIFY_POLICY.rate_limit
    for i in range(limit + 2):
        w.app.post_notice(Z2, f"第{i + 1}号通知：{NOTICE}", by=w.official)
    w.notifier.catch_up()
    texts = sorted((m for m in w.queued() if m.channel is Channel.SMS),
                   key=lambda m: m.not_before)
    assert len(texts) == limit + 2
    assert [m.not_before for m in texts] == [w.clock.now] * limit + \
        [w.clock.now + DEFAULT_NOTIFY_POLICY.rate_window] * 2
    assert w.sender.drain() == 2 * limit  # the group's and the household's first five
    assert len(w.sms.requests) == limit
    w.clock.advance(hours=1)
    assert w.sender.drain() == 4
    assert len(w.sms.requests) == limit + 2


def test_a_resident_who_opted_out_of_education_gets_none_but_still_gets_notices(
        world: World) -> None:
    w = world
    h4, r4 = w.hid("H4"), w.rid("H4")
    with pytest.raises(ForbiddenTransition):
        w.app.set_opt_out(h4, r4, Category.NOTICE, True, by=w.worker)
    with pytest.raises(NotPermitted):  # not a registrar's decision for a doctor
        w.app.set_opt_out(h4, r4, Category.EDUCATION, True, by=w.doctor)
    w.app.set_opt_out(h4, r4, Category.EDUCATION, True, by=w.worker)
    w.app.post_notice(Z2, "勤洗手、常通风、少聚集。", by=w.official, category=Category.EDUCATION)
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.notifier.catch_up()
    texts = [m for m in w.queued() if m.recipient.household_id == h4]
    assert [(m.category, m.channel) for m in texts] == [(Category.NOTICE, Channel.SMS)]
    groups = sorted(m.category for m in w.queued() if m.recipient.kind is RecipientKind.GROUP)
    assert groups == sorted([Category.EDUCATION, Category.NOTICE])


def test_a_resident_released_from_quarantine_is_told_by_text(world: World) -> None:
    w = world
    h1, r1 = w.hid("H1"), w.rid("H1")
    w.app.change_measure(h1, r1, Measure.HOME_QUARANTINE, w.doctor, "密接")
    w.clock.advance(days=14, minutes=1)
    w.app.record_test(h1, r1, True, w.clock.now - timedelta(hours=1), by=w.doctor)
    w.app.change_measure(h1, r1, Measure.NONE, w.doctor, "期满解除")
    assert w.notifier.catch_up() == 1
    [m] = w.queued()
    assert (m.template, m.channel, m.recipient.id) == (Template.QUARANTINE_ENDS, Channel.SMS, r1)
    assert m.text.startswith("【解除居家隔离】您的居家隔离已于")
    w.sender.drain()
    assert [r.body["to"] for r in w.sms.requests] == [PHONES["H1"]]


def test_a_resident_erased_before_the_send_is_not_texted(world: World) -> None:
    """The message holds ids only: the phone number goes with the resident's key."""
    w = world
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.notifier.catch_up()
    w.app.erase_resident(w.hid("H4"), w.rid("H4"), "期满", by=OP)
    w.sender.drain()
    [text] = [m for m in w.all_messages() if m.channel is Channel.SMS]
    assert text.status is MessageStatus.FAILED and "no address" in text.reason
    assert w.sms.requests == []


def test_an_event_older_than_a_day_when_read_queues_nothing(world: World) -> None:
    w = world
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.clock.advance(days=1, seconds=1)
    assert w.notifier.catch_up() == 0
    assert w.notifier.position() > 0


def test_two_households_of_one_micro_grid_on_the_call_list_share_its_list_in_one_save(
        world: World) -> None:
    """An elderly resident living alone (65+, derived from the birth year) is called, like
    one who declared no smartphone; both land on the one call list of their micro-grid."""
    w = world
    w.app.register_household("H5", Z1, "H5栋101", [new_member("H5", 1, "郑奶奶", "13812340005",
                                                             None, 1940)], by=OP)
    w.app.post_notice(Z1, NOTICE, by=w.official)
    assert w.notifier.catch_up() == 4  # the group, H1's text, H2's and H5's calls
    assert sorted(m.recipient.household_id for m in w.app.call_list(Z1)) == sorted(
        [w.hid("H2"), w.hid("H5")])


def test_an_alert_escalated_reaches_the_staff_above_by_text_or_mail_at_night_too(
        world: World) -> None:
    """Duty messages are urgent: no quiet hours, no rate slot. A member with a phone is
    texted; one without is mailed at the address the deployment lists (SMTP)."""
    from adapters.notify.channels import SmtpMail
    from tests.notify.servers import smtp_server

    w = world
    street = "420102001"
    w.app.enrol_staff("DL1", "吴值班", Role.DUTY_LEAD, street, phone="13900001111", by=OP)
    w.app.enrol_staff("OFF2", "郑书记", Role.OFFICIAL, street, by=OP)
    w.app.enrol_staff("VOL9", "王志愿", Role.VOLUNTEER, street, phone="13900002222", by=OP)
    w.clock.now = datetime(2020, 2, 17, 23, 0, tzinfo=BEIJING).astimezone(UTC)
    w.app.register_checkpoint("KK-1", COMMUNITY, "卡口", by=OP)
    w.app.record_vehicle_pass("P-1", "KK-1", "鄂A12345", w.clock.now, by=System.FEED)
    w.app.raise_vehicle_alert("P-1", "KK-1", "鄂A12345", w.clock.now, "来自高风险地区",
                              by=System.FEED)
    w.app.tick(w.clock.advance(minutes=16))
    assert w.notifier.catch_up() == 2  # the duty lead and the official; not the volunteer
    texts = {m.recipient.id: m for m in w.queued()}
    lead, official = w.app.staff_by_no("DL1").id, w.app.staff_by_no("OFF2").id
    assert (texts[lead].channel, texts[official].channel) == (Channel.SMS, Channel.EMAIL)
    assert {m.not_before for m in texts.values()} == {w.clock.now}  # 23:16, at once
    assert texts[lead].text.startswith("【预警升级】车辆疫查预警（712社区）已升级至您处（街道")
    with smtp_server() as (host, port, box):
        w.sender.channels[Channel.EMAIL] = SmtpMail(host, port, "gridcore@712.example")
        w.sender.directory.settings.emails["OFF2"] = "zheng@712.example"
        assert w.sender.drain() == 2
        [mail] = box.mails
        assert mail["To"] == "zheng@712.example"
        assert mail.get_content().strip() == texts[official].text
    assert [r.body["to"] for r in w.sms.requests] == ["13900001111"]
    assert {w.app.message(m.id).status for m in texts.values()} == {MessageStatus.SENT}


def test_a_testing_round_tells_each_household_its_site_and_slot(world: World) -> None:
    from gridcore.mass_testing import SamplingSite

    w = world
    w.app.launch_testing_campaign(
        COMMUNITY, 1, [SamplingSite(site_id="CY-1", name="社区广场采样点", place=COMMUNITY)],
        by=w.official)
    assert w.notifier.catch_up() == 4
    booked = [m for m in w.queued() if m.template is Template.TEST_SLOT_BOOKED]
    assert sorted(m.recipient.household_id for m in booked) == sorted(
        w.hid(n) for n in ("H1", "H2", "H3", "H4"))
    for m in booked:
        assert m.text.startswith("【核酸检测】已为您家预约社区广场采样点，时间")
        assert m.category is Category.MEASURE


def test_a_notice_naming_a_resident_of_its_scope_is_refused(world: World) -> None:
    from gridcore.errors import InvalidInput

    w = world
    with pytest.raises(InvalidInput, match="names a resident"):
        w.app.post_notice(COMMUNITY, "赵六家已解除隔离，请大家放心。", by=w.official)
    w.app.post_notice(Z1, "赵六家已解除隔离。", by=w.official)  # not a resident of Z1
    assert w.notifier.catch_up() == 3  # Z1's group, H1's text, H2's call


def test_an_answered_request_and_a_delivery_on_its_way_are_texted_to_the_household(
        world: World) -> None:
    from gridcore.delivery import Item
    from gridcore.requests import Category as RequestCategory
    from gridcore.requests import Channel as RequestChannel
    from gridcore.requests import Grade

    w = world
    h1, r1, h4 = w.hid("H1"), w.rid("H1"), w.hid("H4")
    filing = w.app.file_request(RequestChannel.ONLINE, RequestCategory.SUPPLIES, Grade.URGENT,
                                "需要买菜", household=h1, resident=r1, by=System.PUBLIC)
    w.app.resolve_request(filing.request_id, w.worker, "已安排志愿者代购")
    w.app.enrol_staff("DL0", "冯值班", Role.DUTY_LEAD, COMMUNITY, by=OP)
    w.app.seal_scope(COMMUNITY, by=OP)
    w.app.place_order(h4, "TG-1", [Item(name="大米", quantity=5, unit="kg")], by=OP)
    w.app.batch_purchase(COMMUNITY, by=w.app.staff_by_no("DL0").id)
    w.app.dispatch_deliveries(COMMUNITY, [w.worker], by=OP)
    assert w.notifier.catch_up() == 2
    told = {m.template: m for m in w.queued()}
    answered, coming = told[Template.REQUEST_ANSWERED], told[Template.DELIVERY_COMING]
    assert answered.recipient.id == r1 and w.app.request(filing.request_id).number in \
        answered.text and "已安排志愿者代购" not in answered.text  # the reply is sealed
    assert filing.reference not in answered.text  # the reference is a secret
    assert coming.recipient.household_id == h4 and coming.text.startswith("【配送到户】")
    w.sender.drain()
    assert sorted(r.body["to"] for r in w.sms.requests) == [PHONES["H1"], PHONES["H4"]]


def test_a_channel_that_raises_leaves_the_message_to_retry_rather_than_stopping_the_sender(
        world: World) -> None:
    class Broken:
        def send(self, message: object) -> object:
            raise RuntimeError("bug")

    w = world
    w.sender.channels[Channel.SMS] = Broken()  # type: ignore[assignment]
    w.app.post_notice(Z2, NOTICE, by=w.official)
    w.notifier.catch_up()
    assert w.sender.drain() == 2  # the group's message still went
    [text] = [m for m in w.all_messages() if m.channel is Channel.SMS]
    assert (text.status, text.reason) == (MessageStatus.RETRYING, "channel error: RuntimeError")
    assert len(w.webhook.requests) == 1
