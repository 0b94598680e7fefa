"""Types of notifications (通知与宣传): a micro-grid's call list (电话通知名单) and the
messages of a node with their sending outcome.

A message names its recipient by id only (``gridcore.notification``); what the API adds about
a resident is personal and masked by the caller's role as everywhere else
(``graphql_api.privacy``): the name as ``Resident.name`` (whole for the roles that deal with
the resident as a person, each such read audited; ``张*`` for others). On the call list the
phone is the worker's means of telling the resident and reads as ``Resident.phone`` (whole
and audited, or ``138****1234``); in the list of messages it is given only to the roles that
may see it whole (audited), else null.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from graphql_api.context import Context
from graphql_api.enums import _mirrors
from graphql_api.households.types import PageInfo
from graphql_api.privacy import may_see_phone, personal_for, phone_for
from gridcore import notification as n

NAME, PHONE, HOUSEHOLD_NO = "Resident.name", "Resident.phone", "Household.householdNo"


@strawberry.enum(description="通道 how a message reaches its recipient")
class MessageChannel(Enum):
    WECOM_GROUP = "wecom_group"
    SMS = "sms"
    EMAIL = "email"
    CALL_LIST = "call_list"


@strawberry.enum(description="发送状态 where a message is: queued (待发送), attempted (发送中), "
                             "retrying after a failed attempt (待重试), sent (已发送), delivered "
                             "(已送达; a call-list message once the worker called), failed "
                             "(失败, with the reason)")
class MessageStatus(Enum):
    QUEUED = "queued"
    ATTEMPTED = "attempted"
    RETRYING = "retrying"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


@strawberry.enum(description="类别 what a message is (which decides whether a resident may "
                             "refuse it)")
class MessageCategory(Enum):
    MEASURE = "measure"
    NOTICE = "notice"
    DUTY = "duty"
    SERVICE = "service"
    EDUCATION = "education"


@strawberry.enum(description="收件方 a resident, a staff member or a micro-grid's chat group")
class RecipientKind(Enum):
    RESIDENT = "resident"
    STAFF = "staff"
    GROUP = "group"


for _copy, _source in ((MessageChannel, n.Channel), (MessageStatus, n.MessageStatus),
                       (MessageCategory, n.Category), (RecipientKind, n.RecipientKind)):
    _mirrors(_copy, _source)


@strawberry.type(description="Who a message is for. A resident's name is masked by your role "
                             "(姓名: whole for officials, duty leads, grid workers, family "
                             "doctors and community police, audited; 张* for others); the "
                             "phone is given only to the roles that may see it whole "
                             "(audited), else null.")
class MessageRecipient:
    kind: RecipientKind
    household_id: strawberry.ID | None = None
    resident_id: strawberry.ID | None = None
    staff_id: strawberry.ID | None = None
    group_code: str | None = strawberry.field(
        default=None, description="the micro-grid whose chat group it is")
    name: str | None = None
    phone: str | None = None


@strawberry.type(description="一条通知 one message to one recipient through one channel, with "
                             "its sending outcome.")
class NotifyMessage:
    id: strawberry.ID
    cause: str = strawberry.field(description="what caused it (an event's id, a notice's)")
    channel: MessageChannel
    channel_label: str
    category: MessageCategory
    category_label: str
    text: str = strawberry.field(description="the text the recipient is told (templates and "
                                             "notices carry no phone or ID numbers)")
    urgent: bool
    status: MessageStatus
    status_label: str
    attempts: int = strawberry.field(description="sending attempts so far")
    reason: str | None = strawberry.field(description="the last failure's reason (retrying, "
                                                      "failed), else null")
    next_try: datetime | None = strawberry.field(description="when a retry is due")
    queued_at: datetime
    not_before: datetime = strawberry.field(
        description="when it may first be sent: after the quiet hours (22:00-07:00 Beijing "
                    "time) unless urgent, and the recipient's rate limit")
    called_by: strawberry.ID | None = strawberry.field(
        description="the worker who called the resident (a call-list message, delivered)")
    recipient: MessageRecipient


@strawberry.type
class NotifyMessageEdge:
    cursor: str
    node: NotifyMessage


@strawberry.type(description="A page of a node's messages (Relay cursor connection), oldest "
                             "queued first.")
class NotifyMessageConnection:
    edges: list[NotifyMessageEdge]
    page_info: PageInfo

    @strawberry.field(description="The page's messages (the edges' nodes).")
    def nodes(self) -> list[NotifyMessage]:
        return [e.node for e in self.edges]


@strawberry.type(description="电话通知名单 one resident to call: their message (the text to "
                             "tell them), its cause and status, and the resident as your role "
                             "may see them (name 张* and phone 138****1234 masked below the "
                             "roles that call residents; whole reads audited).")
class CallListEntry:
    message_id: strawberry.ID
    cause: str
    category: MessageCategory
    category_label: str
    text: str
    status: MessageStatus
    status_label: str
    queued_at: datetime
    household_id: strawberry.ID
    household_no: str | None = strawberry.field(
        description="户号: whole for the roles sent to a household's door, **** for others")
    resident_id: strawberry.ID | None
    name: str | None
    phone: str | None


@strawberry.type(description="电话通知名单 a micro-grid's residents to call rather than text "
                             "(no smartphone, 65+ living alone, no phone on record), oldest "
                             "first.")
class CallList:
    code: str
    entries: list[CallListEntry]


async def resident_identity(ctx: Context, hid: str, rid: str | None) -> object | None:
    if rid is None:
        return None
    found = await ctx.loaders.identities.load(hid)
    return found.get(rid)


async def recipient_of(ctx: Context, m: n.Message) -> MessageRecipient:
    r = m.recipient
    kind = RecipientKind(r.kind.value)
    if r.kind is n.RecipientKind.GROUP:
        return MessageRecipient(kind=kind, group_code=r.group)
    if r.kind is n.RecipientKind.STAFF:
        return MessageRecipient(kind=kind, staff_id=strawberry.ID(str(r.id)))
    hid, rid = str(r.household_id), str(r.id) if r.id else None
    identity = await resident_identity(ctx, hid, rid)
    name = phone = None
    if identity is not None and rid is not None:
        erased = bool(getattr(identity, "erased", False))
        name = personal_for(ctx.caller, ctx.audit, getattr(identity, "name", None), NAME, rid,
                            erased=erased)
        if may_see_phone(ctx.caller) and not erased:
            phone = phone_for(ctx.caller, ctx.audit, getattr(identity, "phone", None), PHONE,
                              rid)
    return MessageRecipient(kind=kind, household_id=strawberry.ID(hid),
                            resident_id=strawberry.ID(rid) if rid else None, name=name,
                            phone=phone)


async def message_of(ctx: Context, m: n.Message) -> NotifyMessage:
    open_reason = m.status in (n.MessageStatus.RETRYING, n.MessageStatus.FAILED)
    return NotifyMessage(
        id=strawberry.ID(str(m.id)), cause=m.cause, channel=MessageChannel(m.channel.value),
        channel_label=m.channel.label, category=MessageCategory(m.category.value),
        category_label=m.category.label, text=m.text, urgent=m.urgent,
        status=MessageStatus(m.status.value), status_label=m.status.label,
        attempts=m.attempts, reason=m.reason or None if open_reason else None,
        next_try=m.next_try if m.status is n.MessageStatus.RETRYING else None,
        queued_at=m.created_on, not_before=m.not_before,
        called_by=strawberry.ID(str(m.delivered_by)) if m.delivered_by else None,
        recipient=await recipient_of(ctx, m))


async def call_entry_of(ctx: Context, m: n.Message) -> CallListEntry:
    hid = str(m.recipient.household_id)
    rid = str(m.recipient.id) if m.recipient.id else None
    identity = await resident_identity(ctx, hid, rid)
    name = phone = None
    if identity is not None and rid is not None:
        erased = bool(getattr(identity, "erased", False))
        name = personal_for(ctx.caller, ctx.audit, getattr(identity, "name", None), NAME, rid,
                            erased=erased)
        phone = None if erased else phone_for(ctx.caller, ctx.audit,
                                              getattr(identity, "phone", None), PHONE, rid)
    kept = await ctx.loaders.household_kept.load(hid)
    return CallListEntry(
        message_id=strawberry.ID(str(m.id)), cause=m.cause,
        category=MessageCategory(m.category.value), category_label=m.category.label,
        text=m.text, status=MessageStatus(m.status.value), status_label=m.status.label,
        queued_at=m.created_on, household_id=strawberry.ID(hid),
        household_no=personal_for(ctx.caller, ctx.audit,
                                  kept.household_no if kept else None, HOUSEHOLD_NO, hid),
        resident_id=strawberry.ID(rid) if rid else None, name=name, phone=phone)
