"""Notifications (通知与宣传): record that a worker called a resident of the call list
(``markCalled``, as ``gridcore notify called``) and post a notice (公告) to every household of
a node (``postNotice``, as ``gridcore notify notice``). Each acts as the signed-in staff member
(who may is the domain's rule, ``gridcore.authority``: a call by field staff and officials of
the household's jurisdiction, a notice by an official of the scope's), is applied once per
``clientId`` and answers typed problems when refused."""

from __future__ import annotations

import asyncio
from uuid import UUID

import strawberry

from graphql_api.context import Context
from graphql_api.ids import canonical
from graphql_api.notify.types import NotifyMessage, message_of
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import Problem, not_found, result
from graphql_api.reach import nodes, not_an_id
from graphql_api.scope import household_visible
from gridcore.errors import NotFound
from gridcore.notification import Category, Message


@strawberry.type(description="The call was recorded (or had been, under this clientId): the "
                             "message, now delivered (已送达) with who called.")
class CallRecorded:
    notification_id: int | None
    message: NotifyMessage | None


@strawberry.type(description="The notice was posted (公告已发布), or had been under the same "
                             "reference (postedNow false); the notifier queues its messages "
                             "(chat groups, a text to each household, the call list for those "
                             "without a smartphone).")
class NoticePosted:
    notification_id: int | None
    posted_now: bool
    scope: str


MarkCalledResult = result("MarkCalledResult", CallRecorded)
PostNoticeResult = result("PostNoticeResult", NoticePosted)


@strawberry.input(description="电话已通知 the worker called the resident of a call-list "
                              "message (the message id callList gave).")
class MarkCalledInput:
    message_id: strawberry.ID
    client_id: ClientId = None


@strawberry.input(description="公告 a notice to every household of a node of your "
                              "jurisdiction: no phone or ID numbers, no resident's name (a "
                              "chat group reads it).")
class PostNoticeInput:
    scope: str
    text: str
    education: bool = strawberry.field(
        default=False, description="宣传教育 (residents may opt out) rather than 公告")
    urgent: bool = strawberry.field(
        default=False, description="紧急公告 sent at once, in the quiet hours (22:00-07:00) too "
                                   "(a notice only, not education)")
    reference: str | None = strawberry.field(
        default=None, description="posts it once however often sent (default: the same text "
                                  "at the same scope and minute)")
    client_id: ClientId = None


def no_message(raw: str) -> Problem:
    return not_found(f"No message {raw[:60]}.", "Give a message id of a call list of your "
                                                "jurisdiction (callList).")


def call_list_message(raw: str) -> Reach:
    """A message of a household of the caller's jurisdiction: (message id, household id)."""
    async def reach(ctx: Context) -> tuple[UUID, UUID] | Problem:
        key = canonical(raw)
        if key is None:
            return not_an_id(raw, "message")
        try:
            m: Message = await asyncio.to_thread(ctx.app.message, UUID(key))
        except NotFound:
            return no_message(raw)
        hid = m.recipient.household_id
        if hid is None or not await household_visible(ctx, str(hid)):
            return no_message(raw)
        return m.id, hid
    return reach


async def _called(c: Call, nid: int | None) -> CallRecorded:
    mid = c.target[0]
    m = await asyncio.to_thread(c.app.message, mid)
    return CallRecorded(notification_id=nid, message=await message_of(c.ctx, m))


@strawberry.type
class NotifyMutation:
    mark_called = mutation(
        "电话已通知 record that you called the resident of a call-list message of your "
        "jurisdiction (field staff, officials): the message is delivered and leaves the list.",
        MarkCalledInput, lambda c, i: c.app.record_call(
            c.target[0], c.target[1], by=c.by, client_id=i.client_id),
        result=MarkCalledResult, success=_called,
        on=lambda i: [call_list_message(str(i.message_id))])

    post_notice = mutation(
        "公告 post a notice to every household of a node of your jurisdiction (officials): "
        "its chat groups' robots, a text to each household, a call by the worker for those "
        "without a smartphone.",
        PostNoticeInput, lambda c, i: c.app.post_notice(
            c.target, i.text, by=c.by, reference=i.reference,
            category=Category.EDUCATION if i.education else Category.NOTICE,
            urgent=i.urgent, client_id=i.client_id),
        result=PostNoticeResult,
        success=lambda c, nid: NoticePosted(notification_id=nid, posted_now=nid is not None,
                                            scope=c.target),
        on=lambda i: [nodes(i.scope)])
