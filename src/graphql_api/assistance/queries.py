"""Top-level queries of assistance lists (协查名单), within the caller's jurisdiction, now or as
they were at a past time (``asOf``): a list by its reference, and the persons to be located in
a subtree (a community's to-locate list, 待排查)."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from graphql_api.assistance.types import (
    AssistanceItemStatus,
    AssistanceList,
    ListedPerson,
    load_lists,
)
from graphql_api.context import Context
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, node_visible, scope_of
from graphql_api.tracing.queries import AsOf, checked
from projections import assistance_board as ab


@strawberry.type
class AssistanceQuery:
    @strawberry.field(description="协查名单 a list by its reference (协查函编号), as it was "
                                  "at asOf (null when it is unknown, not received by then, or "
                                  "neither "
                                  "its scope nor any of its persons lies in your "
                                  "jurisdiction).")
    async def assistance_list(self, info: Info[Context, None], reference: str,
                              as_of: AsOf = None) -> AssistanceList | None:
        ctx = info.context
        when = checked(as_of)
        if ctx.caller is None:
            return None
        row = await asyncio.to_thread(ab.list_by_reference, ctx.views, reference, when)
        if row is None:
            return None
        if not await node_visible(ctx, row.scope):
            items = await asyncio.to_thread(ab.items_of_list, ctx.views, row.list_id,
                                            ctx.app.clock(), when)
            if not any([await node_visible(ctx, i.place) for i in items]):
                return None
        return AssistanceList.from_row(row, when)

    @strawberry.field(description="协查名单 the lists with a person to be located in a subtree "
                                  "(default: your jurisdiction) at asOf, the latest received "
                                  "first.")
    async def assistance_lists(self, info: Info[Context, None], scope: ScopeArg = None,
                               as_of: AsOf = None, first: int = 100) -> list[AssistanceList]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "lists")
        rows = await asyncio.to_thread(ab.lists_under, ctx.views, nodes, when, first)
        return [AssistanceList.from_row(r, when) for r in rows]

    @strawberry.field(description="待排查 the persons to be located in a subtree (of one status "
                                  "when given, e.g. PENDING for a community's to-locate list) "
                                  "at asOf: overdue first, then by deadline.")
    async def assistance_items(self, info: Info[Context, None], scope: ScopeArg = None,
                               status: AssistanceItemStatus | None = None,
                               as_of: AsOf = None, first: int = 100) -> list[ListedPerson]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "persons")
        rows = await asyncio.to_thread(ab.items_under, ctx.views, nodes, ctx.app.clock(),
                                       status=status.value if status else None, as_of=when,
                                       limit=first)
        lists = await load_lists(ctx, [r.list_id for r in rows])
        return [ListedPerson.from_row(r, lists) for r in rows]
