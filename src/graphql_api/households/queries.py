"""Top-level queries of the households area."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Health, Measure, TagKind, Vulnerability
from graphql_api.households.types import Household, HouseholdConnection, households_filter
from graphql_api.ids import canonical
from graphql_api.scope import household_visible, scope_of


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

    @strawberry.field(description="户 the households of your jurisdiction (every node of it), "
                                  "or of the subtree of `under` within it (Relay cursor pages, "
                                  "in id order); the "
                                  "filters given must all hold. Null when `under` is unknown or "
                                  "outside your jurisdiction.")
    async def households(
        self, info: Info[Context, None], first: int = 20, after: str | None = None,
        under: Annotated[str | None, strawberry.argument(
            description="a grid node's code (default: your jurisdiction, all its nodes)")] = None,
        health: Annotated[Health | None, strawberry.argument(
            description="only households with a resident in this health state")] = None,
        measure: Annotated[Measure | None, strawberry.argument(
            description="only households with a resident under this measure")] = None,
        tag: Annotated[TagKind | None, strawberry.argument(
            description="only households with a resident carrying this tag (health, measure "
                        "and tag must hold for the same resident)")] = None,
        vulnerability: Annotated[list[Vulnerability] | None, strawberry.argument(
            description="弱势 only households with a resident having any of these "
                        "vulnerabilities today")] = None,
        campaign: Annotated[strawberry.ID | None, strawberry.argument(
            description="排查 only households of this sweep campaign")] = None,
        covered: Annotated[bool | None, strawberry.argument(
            description="with `campaign`: only households it has covered (true) or not yet "
                        "covered (false)")] = None,
    ) -> HouseholdConnection | None:
        ctx = info.context
        nodes = await scope_of(ctx, under)
        if nodes is None:
            return None
        found = await ctx.loaders.node.load_many(list(nodes))
        nodes = tuple(c for c, row in zip(nodes, found, strict=True) if row is not None)
        if not nodes:
            return None
        where = households_filter(info, health, measure, tag, vulnerability, campaign, covered)
        return await HouseholdConnection.under(ctx, nodes, first, after, where)
