"""Queries of notifications (通知与宣传) for staff: a micro-grid's call list (电话通知名单) and the
messages of a node with their outcome, within the caller's jurisdiction.

Unlike the boards, whose empty answer outside the jurisdiction reads like an empty node, these
answer a problem: no staff member signed in (``NotPermittedProblem``), or a node that does not
exist or lies outside the caller's subtree (``NotFoundProblem``, the same words for both, so
an answer never confirms that the node exists).

The messages of a node are read off the event log (the ``Message.Queued`` notifications after
the cursor, in log order), each kept when its recipient lies in the node's subtree: a resident
by their household's micro-grid, a chat group by its micro-grid, a staff member by one of
their jurisdiction's nodes. There is no read model of messages yet: a page reads the log from
its cursor until it is full.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterator
from typing import Annotated, Any, TypeAlias

import strawberry
from eventsourcing.utils import get_topic
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.grid.types import decode_cursor, encode_cursor
from graphql_api.households.types import PageInfo
from graphql_api.notify.types import (
    CallList,
    MessageStatus,
    NotifyMessageConnection,
    NotifyMessageEdge,
    call_entry_of,
    message_of,
)
from graphql_api.problems import (
    PROBLEM_TYPES,
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    invalid,
    not_signed_in,
)
from graphql_api.reach import no_node
from graphql_api.relay import page_size
from graphql_api.scope import node_visible
from gridcore import notification as n
from gridcore.grid import Level
from projections import grid_rollup

CURSOR_KIND = "message"
BATCH = 500
QUEUED = get_topic(n.Message.Queued)

_PROBLEMS = (NotFoundProblem | NotPermittedProblem | InvalidInputProblem
             | ForbiddenTransitionProblem | ConflictProblem | CommandRejected)
"""the problems of every result union (``graphql_api.problems.result``), written out so
that mypy knows the union as a type"""
CallListResult: TypeAlias = Annotated[CallList | _PROBLEMS,
                                      strawberry.union("CallListResult")]
MessagesResult: TypeAlias = Annotated[NotifyMessageConnection | _PROBLEMS,
                                      strawberry.union("MessagesResult")]
assert set(PROBLEM_TYPES) <= set(typing.get_args(_PROBLEMS))


async def reach_node(ctx: Context, code: str) -> str | NotFoundProblem | NotPermittedProblem:
    """``code`` when the signed-in caller's subtree holds it, else the problem to answer."""
    if ctx.caller is None:
        return not_signed_in()
    if not await node_visible(ctx, code):
        return no_node(code)
    return code


def _queued(app: Any, after: int) -> Iterator[tuple[int, n.Message.Queued]]:
    """The ``Message.Queued`` events of the log after notification ``after``, in order."""
    start = after + 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=BATCH, topics=[QUEUED])
        if not notes:
            return
        for note in notes:
            yield note.id, app.mapper.to_domain_event(note)
        start = notes[-1].id + 1


def _messages_under(app: Any, views: Any, code: str, status: n.MessageStatus | None,
                    after: int, wanted: int) -> list[tuple[int, n.Message]]:
    """Up to ``wanted`` messages (with their Queued notification id) of the subtree of
    ``code`` after ``after``, of ``status`` if given (read off the loop)."""
    grids: dict[str, str | None] = {}  # household id -> micro-grid
    staff: dict[str, tuple[str, ...]] = {}  # staff id -> jurisdiction
    chains: dict[str, list[str]] = {}

    def under(codes: tuple[str, ...]) -> bool:
        missing = [c for c in codes if c not in chains]
        if missing:
            chains.update(grid_rollup.chains(views, missing))
        return any(code in chains.get(c, ()) for c in codes)

    def place(r: n.Recipient) -> tuple[str, ...]:
        if r.kind is n.RecipientKind.GROUP:
            return (r.group,) if r.group else ()
        if r.kind is n.RecipientKind.STAFF:
            sid = str(r.id)
            if sid not in staff:
                staff[sid] = tuple(app.staff(r.id).jurisdictions)
            return staff[sid]
        hid = str(r.household_id)
        if hid not in grids:
            row = grid_rollup.households(views, [hid]).get(hid)
            grids[hid] = row.micro_grid if row is not None else None
        grid = grids[hid]
        return (grid,) if grid else ()

    out: list[tuple[int, n.Message]] = []
    for nid, event in _queued(app, after):
        if not under(place(event.recipient)):
            continue
        found = app.messages([event.originator_id])
        if found and (status is None or found[0].status is status):
            out.append((nid, found[0]))
            if len(out) >= wanted:
                break
    return out


Code = Annotated[str, strawberry.argument(description="A node of your jurisdiction.")]


@strawberry.type
class NotifyQuery:
    @strawberry.field(description="电话通知名单 the call list of a micro-grid of your "
                                  "jurisdiction: its residents to call rather than text (no "
                                  "smartphone, 65+ living alone, no phone on record) with the "
                                  "message to tell them, its cause and status; name and phone "
                                  "masked by your role (whole reads audited). Record each call "
                                  "with markCalled.")
    async def call_list(self, info: Info[Context, None], code: Code) -> CallListResult:
        ctx = info.context
        reached = await reach_node(ctx, code)
        if isinstance(reached, Problem):
            return reached
        node = await asyncio.to_thread(ctx.app.node, code)
        if node.level is not Level.MICRO_GRID:
            return invalid(f"{code} ({node.name}) is a {node.level.label}, not a micro-grid.",
                           "A call list (电话通知名单) belongs to a micro-grid (微网格): give the "
                           "code of one of its micro-grids.")
        found = await asyncio.to_thread(ctx.app.call_list, code)
        return CallList(code=code, entries=[await call_entry_of(ctx, m) for m in found])

    @strawberry.field(description="通知 the messages of a node of your jurisdiction (its "
                                  "residents', chat groups' and staff's), oldest queued first, "
                                  "with status, attempts and the last failure's reason; a "
                                  "resident recipient's name masked by your role, the phone "
                                  "only for the roles that may see it (audited).")
    async def messages(self, info: Info[Context, None], code: Code,
                       status: MessageStatus | None = None, first: int = 50,
                       after: str | None = None) -> MessagesResult:
        ctx = info.context
        reached = await reach_node(ctx, code)
        if isinstance(reached, Problem):
            return reached
        first = page_size(first, ctx.settings.page_max, "messages", cursor=True)
        key = decode_cursor(CURSOR_KIND, after) if after else "0"
        start = int(key) if key and key.isdigit() else None
        if start is None:  # a cursor not of this connection: an empty page
            return NotifyMessageConnection(edges=[], page_info=PageInfo(
                has_next_page=False, end_cursor=None))
        wanted = n.MessageStatus(status.value) if status else None
        found = await asyncio.to_thread(_messages_under, ctx.app, ctx.views, code, wanted,
                                        start, first + 1)
        edges = [NotifyMessageEdge(cursor=encode_cursor(CURSOR_KIND, str(nid)),
                                   node=await message_of(ctx, m)) for nid, m in found[:first]]
        return NotifyMessageConnection(edges=edges, page_info=PageInfo(
            has_next_page=len(found) > first, end_cursor=edges[-1].cursor if edges else None))
