"""Top-level query of staff, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.scope import ScopeArg, all_visible, inside, node_visible, scope_of
from graphql_api.staff.types import StaffMember
from projections import grid_rollup


@strawberry.type
class StaffQuery:
    @strawberry.field(description="工作人员 staff with a node of their jurisdiction in a subtree "
                                  "(each once), by id; only those whose every node is in yours.")
    async def staff(self, info: Info[Context, None],
                    scope: ScopeArg = None,
                    role: Role | None = None) -> list[StaffMember]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None or ctx.caller is None:
            return []
        ids = [sid for sid, _ in grid_rollup.staff_under(ctx.views, nodes)]
        members = [m for m in await ctx.loaders.staff_member.load_many(ids) if m is not None
                   and (role is None or m.role.value == role.value)]
        # their jurisdiction now (the read model may lag a move), in one batch: each node
        # of theirs inside the caller's
        codes = sorted({c for m in members for c in m.jurisdictions})
        chains = dict(zip(codes, await ctx.loaders.chain.load_many(codes), strict=True))
        mine = ctx.caller.jurisdictions
        return [StaffMember.of(m) for m in members
                if all(inside(mine, chains[c]) for c in m.jurisdictions)]

    @strawberry.field(description="A staff member by id; null when unknown or outside your "
                                  "jurisdiction.")
    async def staff_member(self, info: Info[Context, None],
                           id: strawberry.ID) -> StaffMember | None:
        ctx = info.context
        if ctx.caller is None:
            return None
        jurisdiction = await ctx.loaders.staff_jurisdiction.load(str(id))
        if jurisdiction is None or not await node_visible(ctx, jurisdiction):
            return None
        member = await ctx.loaders.staff_member.load(str(id))
        if member is None or not await all_visible(ctx, member.jurisdictions):
            return None
        return StaffMember.of(member)
