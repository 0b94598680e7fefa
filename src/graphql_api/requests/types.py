"""Residents' requests (群众诉求): the board staff work from, what a resident sees of their own
request (by its secret reference), and the public statistics of the supervision channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import (
    Level,
    RequestCategory,
    RequestChannel,
    RequestGrade,
    RequestStatus,
)
from graphql_api.grid.types import GridNode
from graphql_api.privacy import personal_for
from gridcore import grid, requests
from projections.requests_board import BoardRow


def _level(lv: grid.Level) -> Level:
    return Level(lv.name.lower())


@strawberry.type(description="诉求 a request awaiting action, as the board shows it (what the "
                             "resident wrote and the reply are read by the roles that handle "
                             "requests; their contact is not shown).")
class RequestSummary:
    id: strawberry.ID
    number: str
    community_code: str
    owner_code: str
    level: Level
    level_label: str
    channel: RequestChannel
    category: RequestCategory
    category_label: str
    grade: RequestGrade
    grade_label: str
    status: RequestStatus
    status_label: str
    filed_at: datetime
    deadline: datetime | None = strawberry.field(
        description="Null once the city missed its deadline (none runs after).")
    escalations: int
    assignee_id: strawberry.ID | None

    @classmethod
    def from_row(cls, r: BoardRow) -> RequestSummary:
        return cls(id=strawberry.ID(str(r.request_id)), number=r.number,
                   community_code=r.community, owner_code=r.owner_code, level=_level(r.level),
                   level_label=r.level.label, channel=RequestChannel(r.channel.value),
                   category=RequestCategory(r.category.value), category_label=r.category.label,
                   grade=RequestGrade(r.grade.value), grade_label=r.grade.label,
                   status=RequestStatus(r.status.value), status_label=r.status.label,
                   filed_at=r.filed_at, deadline=r.deadline, escalations=r.escalations,
                   assignee_id=strawberry.ID(str(r.assignee)) if r.assignee else None)

    @strawberry.field(description="The level that owns it now.")
    async def owner(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.owner_code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="诉求内容 what the resident asked: whole for the roles that "
                                  "handle requests (field staff, police, officials, the duty "
                                  "lead, property managers; each such read is audited), '****' "
                                  "for others; '已删除 erased' once erased.")
    async def text(self, info: Info[Context, None]) -> str | None:
        ctx = info.context
        kept = await ctx.loaders.request_kept.load(str(self.id))
        if kept is None:
            return None
        return personal_for(ctx.caller, ctx.audit, kept.details.text, "Request.text",
                            str(self.id), erased=kept.details.erased)

    @strawberry.field(description="答复 the reply it was resolved with (null before; read as "
                                  "`text` is).")
    async def reply(self, info: Info[Context, None]) -> str | None:
        ctx = info.context
        kept = await ctx.loaders.request_kept.load(str(self.id))
        if kept is None or kept.reply is None:
            return None
        return personal_for(ctx.caller, ctx.audit, kept.reply.text, "Request.reply",
                            str(self.id), erased=kept.reply.erased)


@strawberry.type(description="One answer to the request: the reply, the rating it got and "
                             "the reopening that followed it, if any.")
class RequestAnswer:
    answered_at: datetime
    reply: str | None = strawberry.field(description="Null once erased.")
    answered_on_time: bool
    rating: int | None = strawberry.field(description="Null until rated.")
    rated_at: datetime | None
    reopened_at: datetime | None = strawberry.field(
        description="When the resident reopened the request after this answer, if they did.")

    @classmethod
    def of(cls, a: requests.Answer) -> RequestAnswer:
        return cls(answered_at=a.answered_at,
                   reply=None if a.reply.erased else a.reply.text,
                   answered_on_time=a.on_time, rating=a.rating, rated_at=a.rated_at,
                   reopened_at=a.reopened_at)


@strawberry.type(description="我的诉求 your request as you follow it with its reference: where "
                             "it stands and the reply (no other person's data).")
class MyRequest:
    reference: str | None = strawberry.field(
        description="The reference it was asked with (normalized); null on staff screens, "
                    "which never show it.")
    number: str
    category: RequestCategory
    category_label: str
    grade: RequestGrade
    grade_label: str
    status: RequestStatus
    status_label: str
    level_label: str = strawberry.field(description="Who handles it now (社区/街道/区/市).")
    filed_at: datetime
    deadline: datetime | None
    escalations: int
    reply: str | None = strawberry.field(description="The answer, once resolved.")
    answered_on_time: bool | None
    rating: int | None
    history: list[RequestAnswer] = strawberry.field(
        description="Every answer so far, oldest first, with its rating: a reopening starts a "
                    "new round (reply and rating above are the current round's) and keeps "
                    "the earlier ones here.")

    @classmethod
    def of(cls, r: requests.ResidentRequest, reference: str | None = None) -> MyRequest:
        """The request as its holder sees it; ``reference`` is what they presented (it
        matched: the request was found by it)."""
        reply = r.reply.text if r.reply is not None and not r.reply.erased else None
        held = requests.normalize_reference(reference) if reference is not None else None
        return cls(reference=held, number=r.number,
                   category=RequestCategory(r.category.value), category_label=r.category.label,
                   grade=RequestGrade(r.grade.value), grade_label=r.grade.label,
                   status=RequestStatus(r.status.value), status_label=r.status.label,
                   level_label=r.level.label, filed_at=r.created_on, deadline=r.deadline,
                   escalations=r.escalations, reply=reply, answered_on_time=r.on_time,
                   rating=r.rating, history=[RequestAnswer.of(a) for a in r.answers])


@strawberry.type(description="A count under one key (a category, grade, status or level).")
class KeyCount:
    key: str
    label: str
    count: int


K = TypeVar("K", bound=Enum | str)  # a statistic counts by a domain enum or by a level's name


def _counts(counts: Mapping[K, int]) -> list[KeyCount]:
    out = []
    for key, n in counts.items():
        if isinstance(key, Enum):
            out.append(KeyCount(key=str(key.value), label=getattr(key, "label", str(key.value)),
                                count=n))
        else:
            out.append(KeyCount(key=key, label=grid.Level[key.upper()].label, count=n))
    return out


@strawberry.type(description="督办 public statistics of the requests filed under a node: counts "
                             "only, no names, phones, addresses or texts.")
class RequestStatistics:
    scope_code: str
    total: int
    by_category: list[KeyCount]
    by_grade: list[KeyCount]
    by_status: list[KeyCount]
    by_level: list[KeyCount]
    escalated: int
    resolved: int
    resolved_on_time: int
    on_time_share: float | None
    ratings: int
    average_rating: float | None

    @classmethod
    def of(cls, scope: str, s: requests.RequestStatistics) -> RequestStatistics:
        return cls(scope_code=scope, total=s.total, by_category=_counts(s.by_category),
                   by_grade=_counts(s.by_grade), by_status=_counts(s.by_status),
                   by_level=_counts(s.by_level), escalated=s.escalated, resolved=s.resolved,
                   resolved_on_time=s.resolved_on_time, on_time_share=s.on_time_share,
                   ratings=s.ratings, average_rating=s.average_rating)
