"""Jurisdiction: what lies in the caller's subtree.

A staff member sees a grid node when their jurisdiction node is the node or one of its
ancestors (as the tree is now), and a household when its current micro-grid is such a node.
Anything else reads as absent (null or empty), exactly like a record that does not exist, so
an answer never confirms that something outside the subtree exists.
"""

from __future__ import annotations

from graphql_api.context import Context


async def node_visible(ctx: Context, code: str) -> bool:
    if ctx.caller is None:
        return False
    return ctx.caller.jurisdiction in await ctx.loaders.chain.load(code)


async def household_visible(ctx: Context, household_id: str) -> bool:
    if ctx.caller is None:
        return False
    row = await ctx.loaders.household.load(household_id)
    return row is not None and await node_visible(ctx, row.micro_grid)
