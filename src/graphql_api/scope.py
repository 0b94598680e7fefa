"""Jurisdiction: what lies in the caller's subtree.

A staff member sees a grid node when their jurisdiction node is the node or one of its
ancestors (as the tree is now), and a household when its current micro-grid is such a node.
Anything else reads as absent (null or empty), exactly like a record that does not exist, so
an answer never confirms that something outside the subtree exists.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.context import Context

ScopeArg = Annotated[str | None, strawberry.argument(
    description="A node of your jurisdiction (default: all of it); outside it the answer is "
                "empty.")]


async def node_visible(ctx: Context, code: str) -> bool:
    if ctx.caller is None:
        return False
    return ctx.caller.jurisdiction in await ctx.loaders.chain.load(code)


async def household_visible(ctx: Context, household_id: str) -> bool:
    if ctx.caller is None:
        return False
    row = await ctx.loaders.household.load(household_id)
    return row is not None and await node_visible(ctx, row.micro_grid)


async def scope_of(ctx: Context, code: str | None) -> str | None:
    """The subtree a board query answers for: the caller's jurisdiction when no ``code`` is
    given, ``code`` when the caller may see it, else None (the answer is then empty)."""
    if ctx.caller is None:
        return None
    if code is None:
        return ctx.caller.jurisdiction
    return code if await node_visible(ctx, code) else None
