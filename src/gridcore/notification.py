"""Notifications (通知与宣传): messages to residents, staff and the micro-grids' chat groups.

A ``Message`` is one text to one recipient through one channel, made from a built-in Chinese
template (``TEMPLATES``) or an official's notice (``Notice``, 公告). Its id is derived from its
cause (the causing event's id, or the notice's id), its recipient and its channel, so the same
cause never queues two messages however often the notifier reads it again. It holds the
recipient's ids only: the sender resolves a phone number or an e-mail address when it sends,
so an erased resident's number is gone from every pending message with their key, and no
message event carries personal data. The text is what the recipient may see: templates take
no names, phone numbers or addresses, a notice's text refuses phone and ID numbers
(``gridcore.text``), and a group robot's message (a micro-grid's chat group) carries only the
notice itself.

The rules are pure functions with the time and the ``NotifyPolicy`` passed in: quiet hours
(no resident message between 22:00 and 07:00 Beijing time, deferred to their end, except
urgent ones), a per-recipient rate limit (``rate_slot``), opt-out for the categories the law
lets a resident refuse (``may_opt_out``: education and service reminders, never a measure
imposed on them), the call list for residents without a smartphone (``resident_channel``) and
the backoff between retries (``backoff``). Per recipient, a ``Mailbox`` (``gridcore.mailbox``)
keeps the opt-outs and the recent send slots the rate limit counts; a notice is a ``Notice``
(``gridcore.notice``), a micro-grid's call list a ``CallList`` (``gridcore.call_list``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum
from string import Formatter
from uuid import UUID

from pydantic import Field

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.household import Vulnerability
from gridcore.text import free_text


class Channel(StrEnum):
    WECOM_GROUP = "wecom_group"
    SMS = "sms"
    EMAIL = "email"
    CALL_LIST = "call_list"

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    Channel.WECOM_GROUP: "企业微信群机器人 WeCom group robot",
    Channel.SMS: "短信 SMS",
    Channel.EMAIL: "电子邮件 e-mail",
    Channel.CALL_LIST: "电话通知名单 call list",
}


class Category(StrEnum):
    """What a message is, which decides whether its recipient may refuse it."""

    MEASURE = "measure"
    """措施通知: about a measure imposed on the person (a report due, a test, a quarantine's
    end): the person must be told, no opt-out."""
    NOTICE = "notice"
    """公告: an official notice to everyone of a scope (知情权): no opt-out."""
    DUTY = "duty"
    """工作提醒: work for a staff member (an alert escalated to them): no opt-out."""
    SERVICE = "service"
    """服务提醒: a service the resident asked for (a delivery coming, a request answered)."""
    EDUCATION = "education"
    """宣传教育: prevention advice, promotion: the resident may opt out."""

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.MEASURE: "措施通知 measure", Category.NOTICE: "公告 notice",
    Category.DUTY: "工作提醒 duty", Category.SERVICE: "服务提醒 service",
    Category.EDUCATION: "宣传教育 education",
}


def may_opt_out(category: Category) -> bool:
    """A resident may refuse service reminders and education (宣传), never what they must be
    told: a measure imposed on them, an official notice, or (staff) their duty."""
    return category in (Category.SERVICE, Category.EDUCATION)


class Template(StrEnum):
    REPORT_DUE = "report_due"
    DELIVERY_COMING = "delivery_coming"
    TEST_SLOT_BOOKED = "test_slot_booked"
    QUARANTINE_ENDS = "quarantine_ends"
    REQUEST_ANSWERED = "request_answered"
    ALERT_ESCALATED = "alert_escalated"
    REPORT_MISSED = "report_missed"
    MONITORING_ESCALATED = "monitoring_escalated"
    NOTICE = "notice"
    URGENT_NOTICE = "urgent_notice"


@dataclass(frozen=True)
class TemplateSpec:
    text: str
    category: Category
    urgent: bool = False


TEMPLATES: dict[Template, TemplateSpec] = {
    Template.REPORT_DUE: TemplateSpec(
        "【健康监测】请于{due}前报告体温和症状；如有发热、咳嗽等不适，请立即告知网格员。",
        Category.MEASURE),
    Template.DELIVERY_COMING: TemplateSpec(
        "【配送到户】您家的物资已出发，预计{due}前送到门口，请留意敲门，无需下楼。",
        Category.SERVICE),
    Template.TEST_SLOT_BOOKED: TemplateSpec(
        "【核酸检测】已为您家预约{site}，时间{slot}，请按时前往，全程佩戴口罩、保持一米间距。",
        Category.MEASURE),
    Template.QUARANTINE_ENDS: TemplateSpec(
        "【解除{measure}】您的{measure}已于{at}解除，感谢您的理解与配合。", Category.MEASURE),
    Template.REQUEST_ANSWERED: TemplateSpec(
        "【诉求回复】您反映的诉求（编号{number}）已有答复，请凭受理编号查询，如不满意可申请重办。",
        Category.SERVICE),
    Template.ALERT_ESCALATED: TemplateSpec(
        "【预警升级】{kind}预警（{place}）已升级至您处（{level}），请于{deadline}前处置。",
        Category.DUTY, urgent=True),
    Template.REPORT_MISSED: TemplateSpec(
        "【健康监测漏报】{place}居民{name}未按时报告{due}的体温和症状，请电话或上门随访。",
        Category.DUTY),
    Template.MONITORING_ESCALATED: TemplateSpec(
        "【健康监测升级】{place}居民{name}自{since}起未报告体温和症状，已升级至您处（{level}），"
        "请于{deadline}前核实处置。", Category.DUTY, urgent=True),
    Template.NOTICE: TemplateSpec("【{scope_name}公告】{text}", Category.NOTICE),
    Template.URGENT_NOTICE: TemplateSpec("【{scope_name}紧急公告】{text}", Category.NOTICE,
                                         urgent=True),
}


def render(template: Template, variables: dict[str, str]) -> str:
    """The template's text with its variables: every variable it names, no other, each
    free of phone and ID numbers (``gridcore.text``: a message outlives an erasure)."""
    wanted = {f for _, f, _, _ in Formatter().parse(TEMPLATES[template].text) if f}
    if set(variables) != wanted:
        raise InvalidInput(f"The template {template.value} takes {sorted(wanted)}, "
                           f"not {sorted(variables)}.", "Give exactly the template's variables.")
    clean = {k: free_text(v, f"variable {k}", longest=1000) for k, v in variables.items()}
    return TEMPLATES[template].text.format_map(clean)


class RecipientKind(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    GROUP = "group"
    """a micro-grid's chat group (户户都入群), reached through its group robot"""


class Recipient(Immutable):
    """Who a message is for, by id only: a resident (with their household), a staff member,
    or a micro-grid's chat group (by the micro-grid's code)."""

    kind: RecipientKind
    id: UUID | None = None
    household_id: UUID | None = None
    group: str | None = None

    @property
    def key(self) -> str:
        return (self.group or "") if self.kind is RecipientKind.GROUP else f"{self.id}"

    @property
    def faces_residents(self) -> bool:
        return self.kind is not RecipientKind.STAFF


def resident(household: UUID, rid: UUID) -> Recipient:
    return Recipient(kind=RecipientKind.RESIDENT, id=rid, household_id=household)


def staff_recipient(sid: UUID) -> Recipient:
    return Recipient(kind=RecipientKind.STAFF, id=sid)


def group(micro_grid: str) -> Recipient:
    return Recipient(kind=RecipientKind.GROUP, group=micro_grid)


def message_id(cause: str, recipient: Recipient, channel: Channel) -> UUID:
    """One message per cause, recipient and channel: the notifier may read a cause again
    (after a crash) and finds the message it queued the first time."""
    return stable_id("message", f"{cause}|{recipient.kind.value}:{recipient.key}|{channel.value}")


def resident_channel(vulnerabilities: set[Vulnerability], has_phone: bool) -> Channel:
    """A resident who has no smartphone (declared), lives alone (65+ or declared) or has no
    phone on record is called by their worker (the call list) rather than texted."""
    if (Vulnerability.NO_SMARTPHONE in vulnerabilities
            or Vulnerability.LIVES_ALONE in vulnerabilities or not has_phone):
        return Channel.CALL_LIST
    return Channel.SMS


BEIJING = timezone(timedelta(hours=8))


class NotifyPolicy(Immutable):
    """How messages are paced: quiet hours in local time, a rate limit per recipient, the
    backoff between attempts and how many attempts a message gets."""

    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 0)
    utc_offset_hours: int = 8
    rate_limit: int = Field(5, ge=1, le=1000)
    rate_window: timedelta = timedelta(hours=1)
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_factor: float = Field(2.0, ge=1.0)
    backoff_max: timedelta = timedelta(hours=1)
    max_attempts: int = Field(8, ge=1, le=100)


DEFAULT_NOTIFY_POLICY = NotifyPolicy()


def quiet_end(at: datetime, policy: NotifyPolicy) -> datetime | None:
    """When the quiet hours ``at`` falls in end (None: ``at`` is outside them)."""
    zone = timezone(timedelta(hours=policy.utc_offset_hours))
    local = at.astimezone(zone)
    t, start, end = local.timetz().replace(tzinfo=None), policy.quiet_start, policy.quiet_end
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(at.tzinfo)


def earliest_send(at: datetime, urgent: bool, recipient: Recipient,
                  policy: NotifyPolicy) -> datetime:
    """No message reaches a resident or a chat group in the quiet hours unless urgent: it
    waits for their end. Staff are reached at once (their duty messages are urgent)."""
    if urgent or not recipient.faces_residents:
        return at
    return quiet_end(at, policy) or at


def rate_slot(at: datetime, slots: list[datetime], policy: NotifyPolicy) -> datetime:
    """The earliest time from ``at`` at which one more message to a recipient keeps at most
    ``rate_limit`` of them in any ``rate_window``, given its earlier ``slots`` (ascending).
    A recipient's messages keep their order: a new slot is never before the last one, so
    counting the slots in the window that ends at the new slot is enough."""
    t = max([at, *slots[-1:]])
    recent = [s for s in slots if s > t - policy.rate_window]
    if len(recent) >= policy.rate_limit:
        t = max(t, recent[-policy.rate_limit] + policy.rate_window)
    return t


def backoff(attempt: int, policy: NotifyPolicy) -> timedelta:
    """The wait after failed attempt ``attempt`` (1, 2, ...): doubling from the base, capped;
    never shorter than the wait before it."""
    cap = policy.backoff_max.total_seconds()
    seconds = policy.backoff_base.total_seconds() * policy.backoff_factor ** min(attempt - 1, 60)
    return timedelta(seconds=min(seconds, cap))


class MessageStatus(StrEnum):
    QUEUED = "queued"
    ATTEMPTED = "attempted"
    RETRYING = "retrying"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    MessageStatus.QUEUED: "待发送 queued", MessageStatus.ATTEMPTED: "发送中 attempted",
    MessageStatus.RETRYING: "待重试 retrying", MessageStatus.SENT: "已发送 sent",
    MessageStatus.DELIVERED: "已送达 delivered", MessageStatus.FAILED: "失败 failed",
}
DONE = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED})


class Message(Aggregate):
    cause: str
    recipient: Recipient
    channel: Channel
    template: Template
    category: Category
    text: str
    urgent: bool
    not_before: datetime
    status: MessageStatus
    attempts: int
    next_try: datetime | None
    reason: str
    delivered_by: UUID | None
    """the worker who called the resident (a call-list message), once delivered"""

    class Queued(Created):
        cause: str
        recipient: Recipient
        channel: Channel
        template: Template
        category: Category
        text: str
        urgent: bool
        not_before: datetime

        def apply(self, m: Message) -> None:
            m.cause, m.recipient, m.channel = self.cause, self.recipient, self.channel
            m.template, m.category, m.text = self.template, self.category, self.text
            m.urgent, m.not_before = self.urgent, self.not_before
            m.status, m.attempts, m.next_try, m.reason = MessageStatus.QUEUED, 0, None, ""
            m.delivered_by = None

    class Attempted(Event):
        """Recorded before the network call: a sender that dies after it resends with the
        same message id, which the receiving side dedupes by."""

        attempt: int

        def apply(self, m: Message) -> None:
            m.status, m.attempts = MessageStatus.ATTEMPTED, self.attempt

    class Sent(Event):
        """The channel accepted it (a gateway's 200, an SMTP server's 250)."""

        attempt: int
        receipt: str = ""

        def apply(self, m: Message) -> None:
            m.status = MessageStatus.SENT

    class Delivered(Event):
        """It reached the recipient: the group robot posted it, a delivery receipt came, or
        (the call list) the worker called the resident."""

        receipt: str = ""
        by: UUID | None = None

        def apply(self, m: Message) -> None:
            m.status, m.delivered_by = MessageStatus.DELIVERED, self.by

    class Retried(Event):
        attempt: int
        reason: str
        next_try: datetime

        def apply(self, m: Message) -> None:
            m.status, m.next_try, m.reason = MessageStatus.RETRYING, self.next_try, self.reason

    class Failed(Event):
        attempt: int
        reason: str

        def apply(self, m: Message) -> None:
            m.status, m.reason = MessageStatus.FAILED, self.reason

    @classmethod
    def queue(cls, cause: str, recipient: Recipient, channel: Channel, template: Template,
              text: str, category: Category, not_before: datetime, at: datetime) -> Message:
        return cls._create(cls.Queued, message_id(cause, recipient, channel), at, cause=cause,
                           recipient=recipient, channel=channel, template=template,
                           category=category, text=text, urgent=TEMPLATES[template].urgent,
                           not_before=not_before)

    def due(self, at: datetime) -> bool:
        """Whether a sender should try it now: queued and past its slot, waiting for a retry
        that is due, or attempted by a sender that did not finish (it died: resend)."""
        if self.channel is Channel.CALL_LIST:
            return False
        match self.status:
            case MessageStatus.QUEUED:
                return self.not_before <= at
            case MessageStatus.RETRYING:
                return self.next_try is not None and self.next_try <= at
            case MessageStatus.ATTEMPTED:
                return True
        return False

    def attempt(self, at: datetime) -> int:
        if self.status in DONE or self.channel is Channel.CALL_LIST:
            raise ForbiddenTransition(f"The message is {self.status.value}.",
                                      "Only a queued or retrying message is sent.")
        self._trigger(self.Attempted, at, attempt=self.attempts + 1)
        return self.attempts

    def sent(self, at: datetime, receipt: str = "", delivered: bool = False) -> None:
        self._require(MessageStatus.ATTEMPTED)
        self._trigger(self.Sent, at, attempt=self.attempts, receipt=receipt)
        if delivered:
            self._trigger(self.Delivered, at, receipt=receipt)

    def failed(self, at: datetime, reason: str, permanent: bool, policy: NotifyPolicy) -> None:
        """A permanent refusal (the receiver's 4xx) or the last attempt fails the message;
        otherwise it waits ``backoff`` and is tried again."""
        self._require(MessageStatus.ATTEMPTED)
        reason = reason[:300]
        if permanent or self.attempts >= policy.max_attempts:
            self._trigger(self.Failed, at, attempt=self.attempts, reason=reason)
        else:
            self._trigger(self.Retried, at, attempt=self.attempts, reason=reason,
                          next_try=at + backoff(self.attempts, policy))

    def receipt(self, at: datetime, delivered: bool, receipt: str = "",
                reason: str = "") -> bool:
        """The gateway's final word on a sent text (its delivery receipt, 回执): delivered, or
        failed for ``reason``; returns whether it changed anything (the same receipt again
        does not)."""
        if self.channel is not Channel.SMS:
            raise InvalidInput(f"The message went by {self.channel.value}, not SMS.",
                               "Send receipts only for text messages (their message_id).")
        done = MessageStatus.DELIVERED if delivered else MessageStatus.FAILED
        if self.status is done:
            return False
        if self.status is not MessageStatus.SENT:
            raise ForbiddenTransition(
                f"The message is {self.status.value}; a receipt says it was "
                f"{done.value}.", "A receipt follows a sent text: give the same final status "
                "again, or send it once the text is recorded sent.")
        if delivered:
            self._trigger(self.Delivered, at, receipt=receipt)
        else:
            self._trigger(self.Failed, at, attempt=self.attempts,
                          reason=f"回执 receipt: {reason}"[:300])
        return True

    def called(self, by: UUID, at: datetime) -> None:
        """The worker called the resident on the call list (电话通知)."""
        if self.channel is not Channel.CALL_LIST or self.status is not MessageStatus.QUEUED:
            raise ForbiddenTransition("The message is not open on a call list.",
                                      "Record a call for a message of the call list once.")
        self._trigger(self.Delivered, at, receipt="电话已通知 called", by=by)

    def _require(self, status: MessageStatus) -> None:
        if self.status is not status:
            raise ForbiddenTransition(f"The message is {self.status.value}, not {status.value}.",
                                      "Record an attempt before its outcome.")
