"""Top-level query of staff, within the caller's jurisdiction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.scope import ScopeArg, node_visible, scope_of
from graphql_api.staff.types import StaffMember
from projections import grid_rollup


@strawberry.type
class StaffQuery:
    @strawberry.field(description="工作人员 staff whose jurisdiction lies in a subtree, by id.")
    async def staff(self, info: Info[Context, None],
                    scope: ScopeArg = None,
                    role: Role | None = None) -> list[StaffMember]:
        ctx = info.context
        code = await scope_of(ctx, scope)
        if code is None or ctx.caller is None:
            return []
        ids = [sid for sid, _ in grid_rollup.staff_under(ctx.views, code)]
        members = [m for m in await ctx.loaders.staff_member.load_many(ids) if m is not None
                   and (role is None or m.role.value == role.value)]
        # their jurisdiction now (the read model may lag a move), in one batch
        chains = await ctx.loaders.chain.load_many([m.jurisdiction for m in members])
        return [StaffMember.of(m) for m, chain in zip(members, chains, strict=True)
                if ctx.caller.jurisdiction in chain]

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
        return StaffMember.of(member) if member is not None else None
