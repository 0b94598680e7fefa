"""Top-level queries of the households area."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.households.types import Household
from graphql_api.scope import household_visible


def canonical(raw: str) -> str | None:
    """A household or resident id in the form the read models store (None if malformed)."""
    try:
        return str(UUID(raw))
    except ValueError:
        return None


@strawberry.type
class HouseholdQuery:
    @strawberry.field(description="A household by id; null when it does not exist or lies "
                                  "outside your jurisdiction.")
    async def household(self, info: Info[Context, None], id: strawberry.ID) -> Household | None:
        ctx, hid = info.context, canonical(id)
        if hid is None or not await household_visible(ctx, hid):
            return None
        row = await ctx.loaders.household.load(hid)
        return Household.from_row(row) if row else None
