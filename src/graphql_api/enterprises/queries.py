"""Top-level queries of enterprises, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enterprises.types import Enterprise, Rectification, ResumptionCount
from graphql_api.enums import Resumption
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, scope_of
from gridcore import enterprise
from projections import enterprise_board, queries


@strawberry.type
class EnterpriseQuery:
    @strawberry.field(description="企业 enterprises located in a subtree, by name.")
    async def enterprises(self, info: Info[Context, None],
                          scope: ScopeArg = None,
                          status: Resumption | None = None, first: int = 50) -> list[Enterprise]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "enterprises")
        return [Enterprise.from_row(r) for r in queries.enterprises_under(
            ctx.views, nodes, status.value if status else None, first)]

    @strawberry.field(description="复工 enterprises of a subtree per resumption status.")
    async def resumption_counts(self, info: Info[Context, None],
                                scope: ScopeArg = None) -> list[ResumptionCount]:
        nodes = await scope_of(info.context, scope)
        counts = (enterprise_board.resumption_counts_in(info.context.views, nodes) if nodes
                  else {})
        return [ResumptionCount(status=Resumption(s.value), label=s.label,
                                count=counts.get(s, 0)) for s in enterprise.Resumption]

    @strawberry.field(description="整改 open rectifications of enterprises in a subtree, "
                                  "earliest deadline first.")
    async def rectifications(self, info: Info[Context, None],
                             scope: ScopeArg = None,
                             overdue_only: bool = False) -> list[Rectification]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        found = enterprise_board.open_rectifications(ctx.views, ctx.app.clock(), nodes)
        return [Rectification(enterprise_id=strawberry.ID(str(r.enterprise_id)),
                              enterprise_name=r.enterprise, location_code=r.location,
                              item=r.item, label=r.label, opened_at=r.opened_at,
                              deadline=r.deadline, overdue=r.overdue)
                for r in found if r.overdue or not overdue_only]
