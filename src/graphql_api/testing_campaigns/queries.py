"""Top-level queries of mass-testing campaigns (全员核酸检测), within the caller's
jurisdiction: a campaign by its scope and round (its sites, coverage per node now or at a
past time, tubes and retests), and a campaign's tubes pending and retests due. A campaign
whose scope lies outside the jurisdiction reads as missing (null, or empty lists)."""

from __future__ import annotations

import asyncio
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.ids import canonical
from graphql_api.scope import ScopeArg, household_visible, node_visible
from graphql_api.testing_campaigns.types import Retest, TestingCampaign, TestingSlot, Tube
from graphql_api.tracing.queries import AsOf, checked
from gridcore import errors
from gridcore.mass_testing import TestingCampaign as DomainCampaign
from projections import testing_coverage as tc


async def campaign_of(ctx: Context, scope: str, round_no: int) -> DomainCampaign | None:
    """The campaign of ``round_no`` over ``scope`` when the caller may see its scope (read from
    the event store, off the loop); None otherwise."""
    if ctx.caller is None or not await node_visible(ctx, scope.strip()):
        return None

    def read() -> DomainCampaign | None:
        try:
            return ctx.app.testing_campaign_of(scope.strip(), round_no)
        except errors.GridcoreError:
            return None
    return await asyncio.to_thread(read)


async def campaigns_over(ctx: Context, scope: str | None) -> list[DomainCampaign]:
    """The campaigns over ``scope`` or a node above it (every node of the jurisdiction when
    none is given) whose scope the caller may see, by scope and round."""
    if ctx.caller is None:
        return []
    starts = ctx.caller.jurisdictions if scope is None else (scope.strip(),)
    chains = await ctx.loaders.chain.load_many(list(starts))
    if scope is not None and not await node_visible(ctx, scope.strip()):
        return []
    codes = [code for chain in chains for code in chain]
    seen = [code for code in dict.fromkeys(codes) if await node_visible(ctx, code)]
    rows = await asyncio.to_thread(tc.campaigns_of, ctx.views, seen)

    def read() -> list[DomainCampaign]:
        out: list[DomainCampaign] = []
        for r in rows:
            try:
                out.append(ctx.app.testing_campaign(UUID(r.campaign_id)))
            except errors.GridcoreError:
                continue
        return out
    return await asyncio.to_thread(read)


@strawberry.type
class TestingCampaignQuery:
    @strawberry.field(description="全员核酸检测 the campaigns over a node of your jurisdiction "
                                  "or a node above it that lies in it (every round, the "
                                  "second rounds with followUpOf), by scope and round.")
    async def testing_campaigns(self, info: Info[Context, None],
                                scope: ScopeArg = None) -> list[TestingCampaign]:
        return [TestingCampaign.of(c) for c in await campaigns_over(info.context, scope)]

    @strawberry.field(description="全员核酸检测 the campaign of a round over a scope of your "
                                  "jurisdiction, its coverage as it was at asOf (null when "
                                  "there is none, it was not launched by then, or it lies "
                                  "outside); its tubes, retests and cases are as they are now.")
    async def testing_campaign(self, info: Info[Context, None], scope: str, round: int,
                               as_of: AsOf = None) -> TestingCampaign | None:
        ctx = info.context
        when = checked(as_of)
        c = await campaign_of(ctx, scope, round)
        if c is None:
            return None
        if when is not None and await asyncio.to_thread(
                tc.campaign, ctx.views, c.scope, c.round_no, when) is None:
            return None
        return TestingCampaign.of(c, when)

    @strawberry.field(description="采样安排 where and when a household of your jurisdiction is "
                                  "sampled in a campaign (null when it is not in it).")
    async def testing_slot(self, info: Info[Context, None], scope: str, round: int,
                           household_id: strawberry.ID) -> TestingSlot | None:
        ctx = info.context
        hid = canonical(household_id)
        if hid is None or not await household_visible(ctx, hid):
            return None
        c = await campaign_of(ctx, scope, round)
        a = c.assignments.get(UUID(hid)) if c is not None else None
        if c is None or a is None:
            return None
        site = c.sites.get(a.site_id) if a.site_id else None
        return TestingSlot(household_id=strawberry.ID(hid), site_id=a.site_id,
                           site_name=site.name if site else None, slot=a.slot,
                           door_to_door=a.door_to_door)

    @strawberry.field(description="待出结果 the tubes of a campaign of your jurisdiction "
                                  "without a result yet, by code.")
    async def tubes_pending(self, info: Info[Context, None], scope: str,
                            round: int) -> list[Tube]:
        c = await campaign_of(info.context, scope, round)
        return [] if c is None else [Tube.of(t) for t in sorted(c.tubes_pending(),
                                                                key=lambda t: t.code)]

    @strawberry.field(description="单采单检 the retests due (scheduled, not yet sampled) in a "
                                  "campaign of your jurisdiction, soonest first.")
    async def retests_due(self, info: Info[Context, None], scope: str,
                          round: int) -> list[Retest]:
        c = await campaign_of(info.context, scope, round)
        return [] if c is None else [Retest.of(r) for r in sorted(
            c.retests_due(), key=lambda r: (r.due, str(r.resident_id)))]
