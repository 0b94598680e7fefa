"""Top-level queries of the grid area: a node by code, and who the caller is."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.grid.types import GridNode
from graphql_api.scope import node_visible
from gridcore import staff as staff_domain
from projections import staff_workload


@strawberry.type(description="工作量 one day of a staff member's sweep work.")
class WorkloadDay:
    day: date
    assigned: int = strawberry.field(description="Households on the list at the day's end.")
    done: int
    open: int
    newly_assigned: int
    moved_away: int

    @classmethod
    def from_row(cls, d: staff_workload.WorkloadDay) -> WorkloadDay:
        return cls(day=d.day, assigned=d.assigned, done=d.done, open=d.open,
                   newly_assigned=d.newly_assigned, moved_away=d.moved_away)


@strawberry.type(description="工作人员 the staff member the token names.")
class Me:
    id: strawberry.ID
    role: Role
    role_label: str
    jurisdiction_code: str

    @strawberry.field(description="The root of what you may see.")
    async def jurisdiction(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.jurisdiction_code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="Your sweep workload per day with any change, by day.")
    def workload(self, info: Info[Context, None]) -> list[WorkloadDay]:
        sid = str(self.id)
        return [WorkloadDay.from_row(d)
                for d in staff_workload.workloads(info.context.views, [sid])[sid]]


@strawberry.type
class GridQuery:
    @strawberry.field(description="A grid node by its code; null when it does not exist or "
                                  "lies outside your jurisdiction.")
    async def grid_node(self, info: Info[Context, None], code: str) -> GridNode | None:
        ctx = info.context
        if not await node_visible(ctx, code):
            return None
        row = await ctx.loaders.node.load(code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="The staff member your token names (null without a token).")
    def me(self, info: Info[Context, None]) -> Me | None:
        caller = info.context.caller
        if caller is None:
            return None
        return Me(id=strawberry.ID(str(caller.staff_id)), role=Role(caller.role.value),
                  role_label=staff_domain.Role(caller.role).label,
                  jurisdiction_code=caller.jurisdiction)
