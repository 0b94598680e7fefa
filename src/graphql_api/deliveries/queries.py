"""Top-level queries of deliveries, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.deliveries.types import Delivery, DeliveryStateCount
from graphql_api.enums import DeliveryState
from graphql_api.scope import ScopeArg, scope_of
from gridcore import delivery
from projections import queries


@strawberry.type
class DeliveryQuery:
    @strawberry.field(description="配送 deliveries whose recipient lies in a subtree, oldest "
                                  "placed first.")
    async def deliveries(self, info: Info[Context, None],
                         scope: ScopeArg = None,
                         state: list[DeliveryState] | None = None, overdue: bool | None = None,
                         first: int = 50) -> list[Delivery]:
        ctx = info.context
        code = await scope_of(ctx, scope)
        if code is None:
            return []
        first = max(0, min(first, ctx.settings.page_max))
        states = [s.value for s in state] if state else None
        return [Delivery.from_row(r)
                for r in queries.deliveries_under(ctx.views, code, states, overdue, first)]

    @strawberry.field(description="Deliveries of a subtree per state (every state listed).")
    async def delivery_counts(self, info: Info[Context, None],
                              scope: ScopeArg = None) -> list[DeliveryStateCount]:
        code = await scope_of(info.context, scope)
        counts = queries.delivery_states_under(info.context.views, code) if code else {}
        return [DeliveryStateCount(state=DeliveryState(s.value), label=s.label,
                                   count=counts.get(s.value, (0, 0))[0],
                                   overdue=counts.get(s.value, (0, 0))[1])
                for s in delivery.DeliveryState]
