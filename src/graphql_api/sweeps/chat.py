"""群内自报 the chat intake: a micro-grid chat group's messages as a bot or a worker forwards
them (``submitChatMessages``), the messages held for the micro-grid's worker (``chatReview``,
``chatReviewCounts``) and the worker's resolution of one (``resolveChatMessage``).

Each message is recorded as a chat visit of its household, held for review with the reason
(quoting the words not understood), or set aside as no report; the same message again is a
duplicate. The reading of the messages is the adapters', handed to the API through its
context (``Context.chat_intake``, from the composition root). The signed-in staff member is
the actor (a worker forwarding the group's messages); the group's own bot in process is
``System.FEED``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import _mirrors
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.privacy import personal_for
from graphql_api.problems import Problem, result
from graphql_api.reach import an_id, household, nodes
from graphql_api.scope import node_visible
from gridcore import chat_review
from gridcore.chat_review import ChatMessage, ChatReview, Fate, IntakeReport
from gridcore.errors import GridcoreError


@strawberry.enum(description="What became of one chat message.")
class ChatMessageFate(Enum):
    RECORDED = "recorded"
    REVIEW = "review"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    MONITORED = "monitored"
    """健康监测 recorded as the monitoring reports of the members under health monitoring
    it names, and no check-in"""
    REJECTED = "rejected"


_mirrors(ChatMessageFate, Fate)


@strawberry.input(description="One message of the group, as the chat gives it.")
class ChatMessageInput:
    message_id: str = strawberry.field(description="The chat's own id of the message: a "
                                                   "message sent again is taken once.")
    sender: str = strawberry.field(description="The sender's display name in the group.")
    sent_at: datetime
    text: str


@strawberry.input(description="A batch of one micro-grid group's messages.")
class SubmitChatMessagesInput:
    micro_grid_code: str
    messages: list[ChatMessageInput]
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The campaign the check-ins count for (default: the open "
                                  "campaign each household is in).")
    client_id: ClientId = None
    """every message is taken once by its own id already"""


@strawberry.type(description="One message's fate, and for one held or set aside the reason "
                             "(quoting the words not understood).")
class ChatMessageOutcome:
    message_id: str
    fate: ChatMessageFate
    reason: str
    household_id: strawberry.ID | None
    monitoring: int = strawberry.field(description="How many monitoring reports (健康监测) "
                                                   "of members under health monitoring the "
                                                   "message was recorded as.")


@strawberry.type(description="The batch was taken in: how many messages were recorded as "
                             "check-ins, held for review, set aside, and already taken.")
class ChatMessagesTaken:
    recorded: int
    review: int
    ignored: int
    duplicates: int
    monitored: int = strawberry.field(description="Recorded as monitoring reports only "
                                                  "(健康监测), no check-in.")
    rejected: int = strawberry.field(description="Not taken in (nothing written): a time "
                                                 "outside the policy's window, an overlong "
                                                 "text; send it again corrected.")
    outcomes: list[ChatMessageOutcome]


ChatIntakeResult = result("ChatIntakeResult", ChatMessagesTaken)


def _take(c: Call, i: SubmitChatMessagesInput) -> IntakeReport:
    take_in = c.ctx.chat_intake
    if take_in is None:
        raise GridcoreError("This server takes no chat messages: it was started without a "
                            "chat intake.", "Serve the API with `gridcore serve`.")
    messages = [ChatMessage(m.message_id, m.sender, m.sent_at, m.text) for m in i.messages]
    return take_in(c.app, c.targets[0], messages, by=c.by, campaign=c.targets[1])


def _taken(c: Call, r: IntakeReport) -> ChatMessagesTaken:
    return ChatMessagesTaken(
        recorded=r.recorded, review=r.review, ignored=r.ignored, duplicates=r.duplicates,
        monitored=r.monitored, rejected=r.rejected,
        outcomes=[ChatMessageOutcome(
            message_id=o.message_id, fate=ChatMessageFate(o.fate.value), reason=o.reason,
            household_id=strawberry.ID(str(o.household_id)) if o.household_id else None,
            monitoring=o.monitoring)
            for o in r.outcomes])


@strawberry.type(description="A micro-grid's chat messages held for review: how many are "
                             "still held, and how many its workers resolved.")
class ChatReviewCounts:
    held: int
    recorded_by_hand: int
    dismissed: int

    @strawberry.field(description="Recorded by hand and dismissed.")
    def resolved(self) -> int:
        return self.recorded_by_hand + self.dismissed


@strawberry.enum(description="How a worker cleared a held chat message.")
class ChatResolution(Enum):
    RECORDED_BY_HAND = "recorded_by_hand"
    """已手工记录"""
    DISMISSED = "dismissed"
    """已排除"""


@strawberry.enum(description="Why a held chat message was dismissed.")
class ChatDismissal(Enum):
    NOT_A_REPORT = "not_a_report"
    """非自报 no check-in after all"""
    DUPLICATE = "duplicate"
    """重复 recorded from another message"""
    UNTRACEABLE = "untraceable"
    """无法核实 no household could be traced"""


_mirrors(ChatResolution, chat_review.Resolution)
_mirrors(ChatDismissal, chat_review.Dismissal)


@strawberry.input(description="Clear a message chatReview lists: recorded by hand (you "
                              "recorded its visit with recordVisit; name the household) or "
                              "dismissed (say why).")
class ResolveChatMessageInput:
    micro_grid_code: str
    message_id: str = strawberry.field(description="The message's id as chatReview lists it.")
    resolution: ChatResolution
    household_id: strawberry.ID | None = strawberry.field(
        default=None, description="With RECORDED_BY_HAND: the household whose visit you "
                                  "recorded (in your jurisdiction).")
    dismissal: ChatDismissal | None = strawberry.field(
        default=None, description="With DISMISSED: why.")
    client_id: ClientId = None


@strawberry.type(description="The message was resolved (or had been, the same way): it left "
                             "the held list, and its sender and text were shredded.")
class ChatMessageResolved:
    notification_id: int | None
    counts: ChatReviewCounts


ResolveChatMessageResult = result("ResolveChatMessageResult", ChatMessageResolved)


def _household_if(raw: strawberry.ID | None) -> Reach:
    """The household of the caller's jurisdiction an optional id names (None: none given)."""
    async def reach(ctx: Context) -> UUID | Problem | None:
        return None if raw is None else await household(raw)(ctx)
    return reach


def _resolve(c: Call, i: ResolveChatMessageInput) -> int | None:
    return c.app.resolve_chat_message(
        c.targets[0], i.message_id, chat_review.Resolution(i.resolution.value), c.targets[1],
        None if i.dismissal is None else chat_review.Dismissal(i.dismissal.value),
        by=c.by, client_id=i.client_id)


async def _resolved(c: Call, nid: int | None) -> ChatMessageResolved:
    counts = await asyncio.to_thread(c.app.chat_review_counts, c.targets[0])
    return ChatMessageResolved(notification_id=nid, counts=ChatReviewCounts(**counts))


@strawberry.type
class ChatMutation:
    submit_chat_messages = mutation(
        "群内自报 take in a micro-grid chat group's messages (a bot's or an export's batch): "
        "each recorded as a chat visit of its household (found by address in the micro-grid; "
        "findings followed up as on a visit), held for the micro-grid's worker with the reason, "
        "or set aside as no report (a thank-you, a question, [图片]); a message taken before "
        "is a duplicate.", SubmitChatMessagesInput, _take, result=ChatIntakeResult,
        success=_taken,
        on=lambda i: [nodes(i.micro_grid_code), an_id(i.campaign_id, "campaign")])
    resolve_chat_message = mutation(
        "待核实 clear a chat message held for review in a micro-grid of your jurisdiction: "
        "recorded by hand (you recorded its visit with recordVisit; name the household) or "
        "dismissed (not a report after all, a duplicate, cannot be traced). It leaves "
        "chatReview and its sender and text are shredded; the same resolution again changes "
        "nothing, another one is refused.", ResolveChatMessageInput, _resolve,
        result=ResolveChatMessageResult, success=_resolved,
        on=lambda i: [nodes(i.micro_grid_code), _household_if(i.household_id)])


@strawberry.type(description="待核实 a chat message held for the micro-grid's worker.")
class ChatReviewItem:
    id: strawberry.ID
    message_id: str
    sent_at: datetime
    kind: str = strawberry.field(description="What was not understood: address, members, "
                                             "phone, status, temperature, visitor, place, "
                                             "text, household (no such door), visit, who (a "
                                             "fever or symptom no member could be named for: "
                                             "call and record the visit).")
    _sender: strawberry.Private[str | None]
    _text: strawberry.Private[str | None]
    _reason: strawberry.Private[str | None]
    _erased: strawberry.Private[bool]

    @strawberry.field(description="The sender's name in the group (masked as 张* for roles "
                                  "that do not deal with residents in person; audited).")
    def sender(self, info: Info[Context, None]) -> str | None:
        return self._personal(info, self._sender, "ChatReview.sender")

    @strawberry.field(description="The message as sent ('****' for roles that do not deal "
                                  "with residents in person; audited).")
    def text(self, info: Info[Context, None]) -> str | None:
        return self._personal(info, self._text, "ChatReview.text")

    @strawberry.field(description="Why it was not recorded, quoting its words (read as "
                                  "`text` is).")
    def reason(self, info: Info[Context, None]) -> str | None:
        return self._personal(info, self._reason, "ChatReview.reason")

    def _personal(self, info: Info[Context, None], value: str | None, field: str) -> str | None:
        ctx = info.context
        return personal_for(ctx.caller, ctx.audit, value, field, str(self.id),
                            erased=self._erased)


def _item(r: ChatReview) -> ChatReviewItem:
    c = r.content
    return ChatReviewItem(id=strawberry.ID(str(r.id)), message_id=r.message_id,
                          sent_at=r.sent_at, kind=r.kind,
                          _sender=c.sender if c else None, _text=c.text if c else None,
                          _reason=c.reason if c else None, _erased=bool(c and c.erased))


@strawberry.type
class ChatQuery:
    @strawberry.field(description="待核实 the chat messages of a micro-grid of your "
                                  "jurisdiction held for review, oldest first.")
    async def chat_review(self, info: Info[Context, None],
                          micro_grid_code: str) -> list[ChatReviewItem] | None:
        ctx = info.context
        if not await node_visible(ctx, micro_grid_code):
            return None  # outside the jurisdiction reads like a missing node
        held = await asyncio.to_thread(ctx.app.chat_reviews, micro_grid_code)
        return [_item(r) for r in held]

    @strawberry.field(description="待核实 how many chat messages of a micro-grid of your "
                                  "jurisdiction are held for review, and how many were "
                                  "resolved.")
    async def chat_review_counts(self, info: Info[Context, None],
                                 micro_grid_code: str) -> ChatReviewCounts | None:
        if not await node_visible(info.context, micro_grid_code):
            return None
        counts = await asyncio.to_thread(info.context.app.chat_review_counts, micro_grid_code)
        return ChatReviewCounts(**counts)

