"""Top-level queries of the grid area: a node by code, and who the caller is."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.grid.types import GridNode
from graphql_api.scope import household_visible, node_visible
from graphql_api.sweeps.types import WorkItem
from gridcore import staff as staff_domain
from gridcore import sweep
from projections import queries, staff_workload


@strawberry.type(description="工作量 one day of a staff member's sweep work: their list at the "
                             "day's end (assigned = done + open) and the day's changes.")
class WorkloadDay:
    day: date
    assigned: int = strawberry.field(description="已分配 households on their list at the day's "
                                                 "end, of every round (done or not).")
    done: int = strawberry.field(description="已完成 of those, the households done by the "
                                             "day's end (by them, a colleague or a resident's "
                                             "check-in): assigned - open.")
    open: int = strawberry.field(description="待完成 of those, the households not done yet.")
    completed: int = strawberry.field(description="当日完成 households their own visits "
                                                  "completed that day (on anyone's list).")
    newly_assigned: int = strawberry.field(description="Households given to them that day.")
    moved_away: int = strawberry.field(description="Households taken off their list that "
                                                   "day.")

    @classmethod
    def from_row(cls, d: staff_workload.WorkloadDay) -> WorkloadDay:
        return cls(day=d.day, assigned=d.assigned, done=d.done, open=d.open,
                   completed=d.completed, newly_assigned=d.newly_assigned,
                   moved_away=d.moved_away)


@strawberry.type(description="工作人员 the staff member the token names.")
class Me:
    id: strawberry.ID
    role: Role
    role_label: str
    jurisdiction_code: str = strawberry.field(
        description="The first node of your jurisdiction (where you are listed).")
    jurisdiction_codes: list[str] = strawberry.field(
        description="辖区 every node of your jurisdiction (a grid worker's zones): what boards "
                    "asked with no scope answer for.")

    @strawberry.field(description="The root of what you may see (the first, when several: "
                                  "see `jurisdictions`).")
    async def jurisdiction(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.jurisdiction_code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="辖区 every node of your jurisdiction, in order: the roots of "
                                  "what you may see (a grid worker's zones).")
    async def jurisdictions(self, info: Info[Context, None]) -> list[GridNode]:
        rows = await info.context.loaders.node.load_many(self.jurisdiction_codes)
        return [GridNode.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Your sweep workload per day with any change, by day.")
    def workload(self, info: Info[Context, None]) -> list[WorkloadDay]:
        sid = str(self.id)
        return [WorkloadDay.from_row(d)
                for d in staff_workload.workloads(info.context.views, [sid])[sid]]

    @strawberry.field(description="派单 your work list of a sweep round: the households "
                                  "assigned to you now (of your jurisdiction), by id, each with "
                                  "what its visits found and the visit's version (what a "
                                  "device sends back as baseVersion from offline).")
    async def work_list(self, info: Info[Context, None], campaign_scope: str,
                        round: int) -> list[WorkItem]:
        ctx = info.context
        rows = queries.work_list(ctx.views, str(self.id),
                                 str(sweep.campaign_id(campaign_scope, round)))
        return [WorkItem.from_row(r) for r in rows
                if await household_visible(ctx, r.household_id)]


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
                  jurisdiction_code=caller.home,
                  jurisdiction_codes=list(caller.jurisdictions))
