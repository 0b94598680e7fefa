"""What a mutation acts on, found in the caller's jurisdiction (the ``on=`` of
``graphql_api.pipeline.run_mutation``): a household, grid nodes, a staff member, any record
located at a node; and the ids a mutation parses.

Each is a ``Reach``: the value the command is given, or the problem to answer. A record outside
the caller's subtree (as the tree is now) gets the domain's words for a missing one, so an
answer never confirms that it exists.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from graphql_api.context import Context
from graphql_api.ids import canonical
from graphql_api.pipeline import Reach
from graphql_api.problems import (
    InvalidInputProblem,
    NotFoundProblem,
    Problem,
    invalid,
    no_household,
    not_found,
    problem_of,
)
from graphql_api.scope import all_visible, household_visible, node_visible
from gridcore import errors


def not_an_id(raw: str, what: str) -> InvalidInputProblem:
    return invalid(f"{raw[:60]!r} is not a {what} id.",
                   f"Give the {what}'s id as the API returned it (a UUID).")


def an_id(raw: str | None, what: str) -> Reach:
    """An id the command needs, well formed (it names no record to look for here); None when
    an optional one is not given."""
    async def reach(ctx: Context) -> UUID | Problem | None:
        if raw is None:
            return None
        key = canonical(raw)
        return UUID(key) if key else not_an_id(raw, what)
    return reach


def ids(raw: Sequence[str], what: str) -> list[UUID] | InvalidInputProblem:
    """Each of ``raw`` parsed, or the problem for the first malformed one."""
    out = []
    for value in raw:
        key = canonical(value)
        if key is None:
            return not_an_id(value, what)
        out.append(UUID(key))
    return out


def household(raw: str) -> Reach:
    """A household of the caller's jurisdiction, by id."""
    async def reach(ctx: Context) -> UUID | Problem:
        hid = canonical(raw)
        if hid is None or not await household_visible(ctx, hid):
            return no_household(hid or raw[:60])
        return UUID(hid)
    return reach


def no_node(code: str) -> NotFoundProblem:
    """The domain's words for a missing node, also said for one outside the jurisdiction."""
    return not_found(f"No grid node with code {code[:60]!r}.", errors.NODE_HINT)


def nodes(*codes: str) -> Reach:
    """Grid nodes of the caller's subtree; gives the first code."""
    async def reach(ctx: Context) -> str | Problem:
        for code in codes:
            if not await node_visible(ctx, code):
                return no_node(code)
        return codes[0] if codes else ""
    return reach


def listed_once(codes: list[str], what: str) -> Reach:
    """The codes, when none is listed twice (a mapping of them would drop one silently)."""
    async def reach(ctx: Context) -> list[str] | Problem:
        seen: set[str] = set()
        for code in codes:
            if code in seen:
                return invalid(f"{what} {code[:60]} is listed twice.",
                               f"List each {what.lower()} once.")
            seen.add(code)
        return codes
    return reach


def staff(raw: str, missing: Callable[[str], Problem] | None = None) -> Reach:
    """A staff member whose jurisdiction (each of its nodes) lies in the caller's (as it is
    now: read from the event store, so one moved a moment ago is where the move put them)."""
    async def reach(ctx: Context) -> UUID | Problem:
        sid = canonical(raw)
        member = await ctx.loaders.staff_member.load(sid) if sid else None
        if sid is None or member is None or not await all_visible(ctx, member.jurisdictions):
            return missing(raw) if missing else not_found(
                f"No staff member {raw[:60]}.", "Enrol the staff member first.")
        return UUID(sid)
    return reach


def staff_list(raw: Sequence[str] | None, missing: Callable[[str], Problem] | None = None) -> Reach:
    """Staff members of the caller's subtree, each as ``staff`` finds them."""
    async def reach(ctx: Context) -> list[UUID] | Problem:
        out = []
        for value in raw or []:
            sid = await staff(value, missing)(ctx)
            if isinstance(sid, Problem):
                return sid
            out.append(sid)
        return out
    return reach


async def at_top(ctx: Context) -> bool:
    """Whether the caller's jurisdiction holds the root of its tree (a whole city)."""
    return ctx.caller is not None and any(
        len(chain) == 1
        for chain in await ctx.loaders.chain.load_many(list(ctx.caller.jurisdictions)))


def whole_city(problem: str, remedy: str) -> Reach:
    """Only a caller whose jurisdiction is a whole city goes on (what holds for every tree)."""
    async def reach(ctx: Context) -> bool | Problem:
        return True if await at_top(ctx) else problem_of(errors.NotPermitted(problem, remedy))
    return reach


Place = Callable[[Context, str], "str | Awaitable[str | None] | None"]


def located(raw: str, missing: Problem, place: Place, *,
            visible: Callable[[Context, str], Awaitable[bool]] = node_visible,
            key: Callable[[str], str | None] = canonical, as_id: Callable[[str], Any] = UUID
            ) -> Reach:
    """A record whose ``place`` (the node it lies at, or its household for ``visible =
    household_visible``) is in the caller's jurisdiction; ``missing`` otherwise."""
    async def reach(ctx: Context) -> Any:
        k = key(raw)
        where = place(ctx, k) if k is not None else None
        if inspect.isawaitable(where):
            where = await where
        if k is None or where is None or not await visible(ctx, where):
            return missing
        return as_id(k)
    return reach


async def stored(get: Callable[[Any], Any], key: Any, attr: str) -> str | None:
    """An aggregate's ``attr`` (where it lies), read off the loop; None when none exists."""
    try:
        found = await asyncio.to_thread(get, key)
    except errors.NotFound:
        return None
    return str(getattr(found, attr))
