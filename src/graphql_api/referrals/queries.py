"""Top-level queries of referrals and quarantine sites, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import ReferralState
from graphql_api.referrals.types import QuarantineSite, Referral, ReferralStageCount
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, scope_of
from gridcore import referral
from projections import queries


@strawberry.type
class ReferralQuery:
    @strawberry.field(description="转介 referrals of the households of a subtree, oldest first.")
    async def referrals(self, info: Info[Context, None],
                        scope: ScopeArg = None,
                        state: list[ReferralState] | None = None, overdue: bool | None = None,
                        first: int = 50) -> list[Referral]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "referrals")
        states = [s.value for s in state] if state else None
        return [Referral.from_row(r)
                for r in queries.referrals_under(ctx.views, nodes, states, overdue, first)]

    @strawberry.field(description="Referrals of a subtree per stage (every stage listed).")
    async def referral_stages(self, info: Info[Context, None],
                              scope: ScopeArg = None) -> list[ReferralStageCount]:
        nodes = await scope_of(info.context, scope)
        counts = queries.referral_stages_under(info.context.views, nodes) if nodes else {}
        return [ReferralStageCount(state=ReferralState(s.value), label=s.label,
                                   open=s not in referral.ENDED, count=counts.get(s.value, 0))
                for s in referral.ReferralState]

    @strawberry.field(description="集中隔离点 quarantine sites run by a node of a subtree.")
    async def quarantine_sites(self, info: Info[Context, None],
                               scope: ScopeArg = None) -> list[QuarantineSite]:
        nodes = await scope_of(info.context, scope)
        return [QuarantineSite.from_row(r)
                for r in queries.sites_under(info.context.views, nodes)] if nodes else []
