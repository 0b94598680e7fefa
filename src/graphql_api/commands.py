"""Running a command for the signed-in staff member on a household of their jurisdiction.

The command runs in a worker thread (it blocks on the store), then the read models are caught
up to its write (``runner.wait``) so the result can be read back at once. A ``GridcoreError``
becomes a typed problem (nothing was written); a household outside the jurisdiction is
answered exactly like one that does not exist.

The same holds for the other targets (a grid node, a staff member, a campaign's scope): one
outside the caller's subtree gets the words the domain says for a missing one. Commands whose
domain method names no actor (the administrative ones) are limited to roles by ``refused``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from pydantic import ValidationError

from graphql_api.context import Context, loaders_for
from graphql_api.errors import (
    InvalidInputProblem,
    NotFoundProblem,
    Problem,
    no_household,
    not_signed_in,
    problem_of,
)
from graphql_api.households.types import Household
from graphql_api.ids import canonical
from graphql_api.scope import household_visible, node_visible
from gridcore import errors
from gridcore.staff import Role

HouseholdCommand = Callable[[Any, UUID, UUID], int | None]
"""(application, household id, acting staff id) -> notification id of the last event"""


@dataclass(frozen=True)
class Done:
    notification_id: int | None
    household: Household | None


def not_an_id(raw: str, what: str) -> InvalidInputProblem:
    return InvalidInputProblem(code=errors.InvalidInput.code,
                               problem=f"{raw[:60]!r} is not a {what} id.",
                               remedy=f"Give the {what}'s id as the API returned it (a UUID).")


async def on_household(ctx: Context, household_id: str,
                       command: HouseholdCommand) -> Done | Problem:
    if ctx.caller is None:
        return not_signed_in()
    hid = canonical(household_id)
    if hid is None:
        return no_household(household_id[:60])
    if not await household_visible(ctx, hid):
        return no_household(hid)
    by = ctx.caller.staff_id

    def work() -> int | None:
        still_active(ctx)
        nid = command(ctx.app, UUID(hid), by)
        # Up to the log's end, not just ``nid``: a command's follow-ups (the findings of a
        # visit) are written after its own events.
        ctx.runner.wait(max(nid or 0, ctx.app.recorder.max_notification_id() or 0))
        return nid

    try:
        nid = await asyncio.to_thread(work)
    except errors.GridcoreError as e:
        return problem_of(e)
    except ValidationError as e:
        return malformed(e)
    ctx.loaders = loaders_for(ctx.views, ctx.app)  # what this request read before is stale now
    row = await ctx.loaders.household.load(hid)
    return Done(nid, Household.from_row(row) if row else None)


# ---- commands on other targets (grid nodes, staff, campaigns, the policy) -------------------

T = TypeVar("T")


async def caught_up(ctx: Context, command: Callable[[], T]) -> T:
    """Run ``command()`` in a worker thread, then catch the read models up to the log's end
    (read your own writes); what it raises propagates."""

    def work() -> T:
        still_active(ctx)
        out = command()
        ctx.runner.wait(ctx.app.recorder.max_notification_id() or 0)
        return out

    return await asyncio.to_thread(work)


def still_active(ctx: Context) -> None:
    """Refuse a command of a caller deactivated since they were resolved (a socket resolves
    its caller once, at connection_init); an event-store read, in the worker thread."""
    if ctx.caller is not None:
        ctx.app.staff(ctx.caller.staff_id).require_active()


async def run_command(ctx: Context, command: Callable[[Any], T]) -> T | Problem:
    """Run ``command(application)`` in a worker thread, catch the read models up to the log's
    end (its follow-ups included) and drop this request's loaders, which may hold what it
    changed; a refusal becomes a typed problem (nothing was written)."""
    try:
        out = await caught_up(ctx, lambda: command(ctx.app))
    except errors.GridcoreError as e:
        return problem_of(e)
    except ValidationError as e:
        return malformed(e)
    ctx.loaders = loaders_for(ctx.views, ctx.app)
    return out


def malformed(error: ValidationError) -> InvalidInputProblem:
    """An input the domain's models refused, naming the fields and the rule, never the value
    (it may be personal)."""
    rules = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                      for e in error.errors(include_input=False, include_url=False)[:5])
    return InvalidInputProblem(code=errors.InvalidInput.code,
                               problem=f"The input is malformed ({rules}).",
                               remedy="Correct the fields named and send it again.")


def refused(ctx: Context, roles: frozenset[Role], doing: str) -> Problem | None:
    """Not signed in, or a role not in ``roles`` (the API's rule for commands whose domain
    method names no actor): the problem to answer; None when the caller may go on."""
    if ctx.caller is None:
        return not_signed_in()
    if ctx.caller.role in roles:
        return None
    who = ", ".join(sorted(r.label for r in roles))
    return problem_of(errors.NotPermitted(f"A {ctx.caller.role.label} may not {doing}.",
                                          f"Ask one of: {who}."))


async def at_top(ctx: Context) -> bool:
    """Whether the caller's jurisdiction is the root of its tree (a whole city)."""
    return ctx.caller is not None and len(await ctx.loaders.chain.load(
        ctx.caller.jurisdiction)) == 1


def no_node(code: str) -> NotFoundProblem:
    """The domain's words for a missing node, also said for one outside the jurisdiction."""
    e = errors.NotFound(f"No grid node with code {code[:60]!r}.",
                        "Check the code, or create the node first.")
    return NotFoundProblem(code=e.code, problem=e.problem, remedy=e.remedy)


def no_staff(raw: str) -> NotFoundProblem:
    """The domain's words for an unknown staff member, also said for one outside the
    jurisdiction."""
    e = errors.NotFound(f"No staff member {raw[:60]}.", "Enrol the staff member first.")
    return NotFoundProblem(code=e.code, problem=e.problem, remedy=e.remedy)


async def nodes_in_reach(ctx: Context, *codes: str) -> NotFoundProblem | None:
    """The answer for the first of ``codes`` outside the caller's subtree (or missing)."""
    for code in codes:
        if not await node_visible(ctx, code):
            return no_node(code)
    return None


async def staff_in_reach(ctx: Context, raw: str) -> UUID | NotFoundProblem:
    """The id of a staff member whose jurisdiction lies in the caller's subtree (as it is
    now), else the answer for an unknown one."""
    sid = canonical(raw)
    member = await ctx.loaders.staff_member.load(sid) if sid else None
    if member is None or not await node_visible(ctx, member.jurisdiction):
        return no_staff(raw)
    return UUID(sid)


def mask_text(value: str) -> str:
    """A personal value as a response may show it: its first character, then stars."""
    return value[:1] + "*" * max(len(value) - 1, 2)


def scrubbed(result: T, personal: Iterable[str | None]) -> T:
    """``result`` with each personal value of the input (a name, an address, a phone) masked
    wherever a problem's words quote it."""
    if not isinstance(result, Problem):
        return result
    text, remedy = result.problem, result.remedy
    for value in sorted((v.strip() for v in personal if v and len(v.strip()) >= 2), key=len,
                        reverse=True):
        text, remedy = text.replace(value, mask_text(value)), remedy.replace(value,
                                                                             mask_text(value))
    if (text, remedy) == (result.problem, result.remedy):
        return result
    return type(result)(code=result.code, problem=text, remedy=remedy)  # type: ignore[return-value]
