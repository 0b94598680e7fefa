"""Top-level queries of deliveries, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.deliveries.types import DeliveryConnection, DeliveryStateCount
from graphql_api.enums import DeliveryState
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, scope_of
from gridcore import delivery
from projections import queries


@strawberry.type
class DeliveryQuery:
    @strawberry.field(description="配送 deliveries whose recipient lies in a subtree, oldest "
                                  "placed first (Relay cursor pages: `first` up to the largest "
                                  "page, then `after:` pageInfo.endCursor).")
    async def deliveries(self, info: Info[Context, None],
                         scope: ScopeArg = None,
                         state: list[DeliveryState] | None = None, overdue: bool | None = None,
                         first: int = 50, after: str | None = None) -> DeliveryConnection:
        ctx = info.context
        first = page_size(first, ctx.settings.page_max, "deliveries", cursor=True)
        nodes = await scope_of(ctx, scope)
        states = [s.value for s in state] if state else None
        return DeliveryConnection.page(ctx.views, nodes, states, overdue, first, after)

    @strawberry.field(description="Deliveries of a subtree per state (every state listed).")
    async def delivery_counts(self, info: Info[Context, None],
                              scope: ScopeArg = None) -> list[DeliveryStateCount]:
        nodes = await scope_of(info.context, scope)
        counts = queries.delivery_states_under(info.context.views, nodes) if nodes else {}
        return [DeliveryStateCount(state=DeliveryState(s.value), label=s.label,
                                   count=counts.get(s.value, (0, 0))[0],
                                   overdue=counts.get(s.value, (0, 0))[1])
                for s in delivery.DeliveryState]
