"""``node(id:)``: any object of the API by its id, within the caller's jurisdiction.

An id outside the jurisdiction answers null, exactly like an unknown one (nothing confirms that
the record exists). UUIDs are tried against each kind in turn (households first: the most
asked for); anything else is taken for a grid node's code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import strawberry
from strawberry.types import Info

from graphql_api.alerts.types import Alert
from graphql_api.context import Context
from graphql_api.deliveries.types import Delivery
from graphql_api.enterprises.types import Enterprise
from graphql_api.grid.types import GridNode
from graphql_api.households.types import Household
from graphql_api.ids import canonical
from graphql_api.referrals.types import Referral
from graphql_api.relay import Node
from graphql_api.scope import all_visible, household_visible, node_visible
from graphql_api.staff.types import StaffMember
from projections import alerts_board, enterprise_board, queries, referral_pipeline

Finder = Callable[[Context, str], Awaitable[Node | None]]


async def _household(ctx: Context, uid: str) -> Node | None:
    if not await household_visible(ctx, uid):
        return None
    row = await ctx.loaders.household.load(uid)
    return Household.from_row(row) if row else None


async def _staff(ctx: Context, uid: str) -> Node | None:
    member = await ctx.loaders.staff_member.load(uid)
    if member is None or not await all_visible(ctx, member.jurisdictions):
        return None
    return StaffMember.of(member)


async def _referral(ctx: Context, uid: str) -> Node | None:
    row = await asyncio.to_thread(referral_pipeline.referral_by_id, ctx.views, uid)
    if row is None or not await household_visible(ctx, row.household_id):
        return None
    return Referral.from_row(row)


async def _delivery(ctx: Context, uid: str) -> Node | None:
    row = await asyncio.to_thread(queries.delivery_by_id, ctx.views, uid)
    if row is None or not await node_visible(ctx, row.place):
        return None
    return Delivery.from_row(row)


async def _enterprise(ctx: Context, uid: str) -> Node | None:
    row = await asyncio.to_thread(enterprise_board.enterprise_by_id, ctx.views, uid)
    if row is None or not await node_visible(ctx, row.location):
        return None
    return Enterprise.from_row(row)


async def _alert(ctx: Context, uid: str) -> Node | None:
    found = await asyncio.to_thread(alerts_board.alert_by_id, ctx.views, ctx.app.clock(), uid)
    if found is None or not await node_visible(ctx, found.grid_code):
        return None
    return Alert.from_open(found)


FINDERS: tuple[Finder, ...] = (_household, _staff, _referral, _delivery, _enterprise, _alert)


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its id (Relay): a household, staff member, "
                                  "referral, delivery, enterprise or alert by its UUID, a grid "
                                  "node by its code; null when unknown or outside your "
                                  "jurisdiction.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        ctx = info.context
        if ctx.caller is None:
            return None
        raw = str(id)
        uid = canonical(raw)
        if uid is None:
            if not raw or not await node_visible(ctx, raw):
                return None
            row = await ctx.loaders.node.load(raw)
            return GridNode.from_row(row) if row else None
        for find in FINDERS:
            found = await find(ctx, uid)
            if found is not None:
                return found
        return None
