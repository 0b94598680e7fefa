"""Running a command for the signed-in staff member on a household of their jurisdiction.

The command runs in a worker thread (it blocks on the store), then the read models are caught
up to its write (``runner.wait``) so the result can be read back at once. A ``GridcoreError``
becomes a typed problem (nothing was written); a household outside the jurisdiction is
answered exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from graphql_api.context import Context, loaders_for
from graphql_api.errors import InvalidInputProblem, Problem, no_household, not_signed_in, problem_of
from graphql_api.households.queries import canonical
from graphql_api.households.types import Household
from graphql_api.scope import household_visible
from gridcore import errors

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
        nid = command(ctx.app, UUID(hid), by)
        # Up to the log's end, not just ``nid``: a command's follow-ups (the findings of a
        # visit) are written after its own events.
        ctx.runner.wait(max(nid or 0, ctx.app.recorder.max_notification_id() or 0))
        return nid

    try:
        nid = await asyncio.to_thread(work)
    except errors.GridcoreError as e:
        return problem_of(e)
    ctx.loaders = loaders_for(ctx.views, ctx.app)  # what this request read before is stale now
    row = await ctx.loaders.household.load(hid)
    return Done(nid, Household.from_row(row) if row else None)
