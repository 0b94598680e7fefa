"""Top-level queries of contact tracing (流调), within the caller's jurisdiction, now or as
they were at a past time (``asOf``): a case by its number, the cases of a subtree, and the
contacts under follow-up per grid node."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, node_visible, scope_of
from graphql_api.tracing.types import NodeFollowUp, TracedContact, TracingCase
from projections import contact_followup

AsOf = Annotated[datetime | None, strawberry.argument(
    description="A past time, with a time zone (default now, the application's clock).")]


def checked(as_of: datetime | None) -> datetime | None:
    if as_of is not None and (as_of.tzinfo is None or as_of.utcoffset() is None):
        raise GraphQLError("`asOf` has no time zone: give one, e.g. 2020-02-17T00:00:00+08:00.",
                           extensions={"code": "INVALID_INPUT"})
    return as_of


@strawberry.type
class TracingQuery:
    @strawberry.field(description="病例 a case by its number, as it was at asOf (null when it "
                                  "is unknown, not opened by then, or followed up outside "
                                  "your jurisdiction).")
    async def case(self, info: Info[Context, None], case_no: str,
                   as_of: AsOf = None) -> TracingCase | None:
        ctx = info.context
        when = checked(as_of)
        if ctx.caller is None:
            return None
        ids = await asyncio.to_thread(contact_followup.case_ids, ctx.views, [case_no.strip()])
        if not ids:
            return None
        rows = await asyncio.to_thread(contact_followup.cases_by_id, ctx.views,
                                       [str(i) for i in ids.values()], ctx.app.clock(),
                                       as_of=when)
        if not rows or not await node_visible(ctx, rows[0].scope):
            return None
        return TracingCase.from_row(rows[0], when)

    @strawberry.field(description="病例 the cases followed up by the nodes of a subtree and "
                                  "opened by asOf, oldest first.")
    async def tracing_cases(self, info: Info[Context, None], scope: ScopeArg = None,
                            as_of: AsOf = None, first: int = 50) -> list[TracingCase]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "cases")
        rows = await asyncio.to_thread(contact_followup.cases_under, ctx.views, nodes,
                                       ctx.app.clock(), as_of=when, limit=first)
        return [TracingCase.from_row(r, when) for r in rows]

    @strawberry.field(description="密接随访 the contacts under follow-up at asOf in a subtree "
                                  "(at their household's micro-grid, or the case's node while "
                                  "to be located), soonest end first.")
    async def contacts_under_follow_up(self, info: Info[Context, None], scope: ScopeArg = None,
                                       as_of: AsOf = None,
                                       first: int = 100) -> list[TracedContact]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "contacts")
        rows = await asyncio.to_thread(contact_followup.contacts_under, ctx.views, nodes,
                                       ctx.app.clock(), as_of=when, limit=first)
        return [TracedContact.from_row(r) for r in rows]

    @strawberry.field(description="密接随访 per node of a subtree, the contacts under follow-up "
                                  "at asOf at it and under it, by code.")
    async def contact_follow_up_by_node(self, info: Info[Context, None],
                                        scope: ScopeArg = None,
                                        as_of: AsOf = None) -> list[NodeFollowUp]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        found = await asyncio.to_thread(contact_followup.follow_up_by_node, ctx.views, nodes,
                                        ctx.app.clock(), as_of=when)
        return [NodeFollowUp(code=g.code, close_contacts=g.close,
                             secondary_contacts=g.secondary, to_locate=g.to_locate,
                             cases=len(g.cases)) for g in found.values()]
