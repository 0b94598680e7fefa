"""Top-level query of risk zoning (三区划分): a community's zonings in force now or at a past
time (see the package's notes for who sees what)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.scope import inside, node_visible
from graphql_api.tracing.queries import AsOf, checked
from graphql_api.zoning.types import RiskZoning
from gridcore import errors
from gridcore.grid import Level

if TYPE_CHECKING:
    from gridcore.application import GridcoreApp

IN_FORCE = datetime.max.replace(tzinfo=UTC)
"""The time the zonings in force now are read at: every one drawn and not lifted (one drawn
at this very moment of a fixed scenario clock included)."""


async def community_visible(ctx: Context, code: str) -> bool:
    """Whether the caller may read a community's zonings: it lies in their jurisdiction, or
    their jurisdiction lies in it (a micro-grid's worker)."""
    if ctx.caller is None or not code:
        return False
    if await node_visible(ctx, code):
        return True
    chains = await ctx.loaders.chain.load_many(list(ctx.caller.jurisdictions))
    return any(inside([code], chain) for chain in chains)


def zonings_at(app: GridcoreApp, code: str, when: datetime | None) -> list[RiskZoning]:
    """The zonings of a community in force at ``when`` (None: now), oldest first; none for a
    code that is not a community (read from the event store: call off the loop)."""
    try:
        node = app.node(code)
        if node.level is not Level.COMMUNITY:
            return []
        found = app.risk_zones_at(node.code, when or IN_FORCE)
    except errors.GridcoreError:
        return []
    policy = app.policy_at(app.clock())
    return [RiskZoning.of(z, z.lift_due(policy)) for z in found]


@strawberry.type
class ZoningQuery:
    @strawberry.field(description="三区划分 the risk zonings of a community in force at asOf "
                                  "(default now: those not lifted), oldest first: each zone's "
                                  "area and households as drawn; empty outside your "
                                  "jurisdiction.")
    async def risk_zones(self, info: Info[Context, None], scope: str,
                         as_of: AsOf = None) -> list[RiskZoning]:
        ctx = info.context
        when = checked(as_of)
        code = scope.strip()
        if not await community_visible(ctx, code):
            return []
        return await asyncio.to_thread(zonings_at, ctx.app, code, when)
