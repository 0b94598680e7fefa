"""Top-level queries of alerts and checkpoints, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.alerts.types import Alert, AlertEscalation, Checkpoint
from graphql_api.context import Context
from graphql_api.enums import AlertKind
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, scope_of
from projections import alerts_board, queries


@strawberry.type
class AlertQuery:
    @strawberry.field(description="告警 alerts not resolved yet whose camera or checkpoint lies "
                                  "in a subtree, oldest raised first.")
    async def alerts(self, info: Info[Context, None],
                     scope: ScopeArg = None,
                     kind: AlertKind | None = None, first: int = 50) -> list[Alert]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "alerts")
        found = alerts_board.open_alerts(ctx.views, ctx.app.clock(), nodes,
                                         kind.value if kind else None)
        return [Alert.from_open(a) for a in found[:first]]

    @strawberry.field(description="升级 escalations of the alerts of a subtree (by default only "
                                  "of those still awaiting acknowledgement), in time order.")
    async def alert_escalations(self, info: Info[Context, None],
                                scope: ScopeArg = None,
                                awaiting_only: bool = True) -> list[AlertEscalation]:
        nodes = await scope_of(info.context, scope)
        if nodes is None:
            return []
        return [AlertEscalation.from_row(r) for r in queries.alert_escalations_under(
            info.context.views, nodes, awaiting_only)]

    @strawberry.field(description="卡口 vehicle checkpoints in a subtree, with hourly statistics.")
    async def checkpoints(self, info: Info[Context, None],
                          scope: ScopeArg = None
                          ) -> list[Checkpoint]:
        nodes = await scope_of(info.context, scope)
        if nodes is None:
            return []
        return [Checkpoint(id=r.checkpoint_id, name=r.name, grid_code=r.grid_code)
                for r in queries.checkpoints_under(info.context.views, nodes)]
