"""Jurisdiction: what lies in the caller's subtree.

A staff member sees a grid node when one of their jurisdiction's nodes is the node or one of
its ancestors (as the tree is now), and a household when its current micro-grid is such a node.
A board asked for no node answers for their whole jurisdiction: the subtrees of all their
nodes as one board (one list in one order, each item and count once; the nodes of a
jurisdiction never nest, and the read models' subtree of several nodes takes each node once).
Anything else reads as absent (null or empty), exactly like a record that does not exist, so
an answer never confirms that something outside the subtree exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from graphql_api.context import Context

ScopeArg = Annotated[str | None, strawberry.argument(
    description="A node of your jurisdiction (default: all of it, every one of its nodes); "
                "outside it the answer is empty.")]


async def node_visible(ctx: Context, code: str) -> bool:
    if ctx.caller is None:
        return False
    return inside(ctx.caller.jurisdictions, await ctx.loaders.chain.load(code))


def inside(jurisdictions: Sequence[str], chain: Sequence[str]) -> bool:
    """Whether a node (``chain``: it and its ancestors) lies inside any of ``jurisdictions``."""
    return any(j in chain for j in jurisdictions)


async def all_visible(ctx: Context, codes: Sequence[str]) -> bool:
    """Whether every one of ``codes`` is visible (a staff member whose every node is)."""
    if ctx.caller is None or not codes:
        return False
    chains = await ctx.loaders.chain.load_many(list(codes))
    return all(inside(ctx.caller.jurisdictions, chain) for chain in chains)


async def household_visible(ctx: Context, household_id: str) -> bool:
    if ctx.caller is None:
        return False
    row = await ctx.loaders.household.load(household_id)
    return row is not None and await node_visible(ctx, row.micro_grid)


async def scope_of(ctx: Context, code: str | None) -> tuple[str, ...] | None:
    """The nodes whose subtrees a board query answers for (``projections.support.Under``):
    every node of the caller's jurisdiction when no ``code`` is given, ``code`` when the
    caller may see it, else None (the answer is then empty)."""
    if ctx.caller is None:
        return None
    if code is None:
        return ctx.caller.jurisdictions
    return (code,) if await node_visible(ctx, code) else None
