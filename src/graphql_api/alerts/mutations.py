"""Handling alerts: acknowledge (签收) and resolve (处置) an alert of your jurisdiction, as the
signed-in staff member, applied once per ``clientId``. An alert outside the jurisdiction is
answered exactly like one that does not exist."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import AlertOutcome, AlertState
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    not_signed_in,
    problem_of,
)
from graphql_api.households.queries import canonical
from graphql_api.scope import node_visible
from gridcore import errors


@strawberry.type(description="The alert's new state (or the state a retried clientId left).")
class AlertUpdated:
    notification_id: int | None
    id: strawberry.ID
    state: AlertState
    state_label: str


AlertResult = Annotated[
    AlertUpdated | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("AlertResult"),
]


def _missing(raw: str) -> NotFoundProblem:
    return NotFoundProblem(code=errors.NotFound.code, problem=f"No alert {raw[:60]}.",
                           remedy="Check the alert id on the board (alerts).")


async def _on_alert(ctx: Context, raw: str,
                    command: Callable[[Any, UUID, UUID], int | None]) -> AlertUpdated | Problem:
    if ctx.caller is None:
        return not_signed_in()
    aid = canonical(raw)
    if aid is None:
        return _missing(raw)
    try:
        alert = await asyncio.to_thread(ctx.app.alert, UUID(aid))
    except errors.NotFound:
        return _missing(raw)
    if not await node_visible(ctx, alert.grid_code):
        return _missing(raw)
    by = ctx.caller.staff_id

    def work() -> tuple[int | None, Any]:
        nid = command(ctx.app, UUID(aid), by)
        ctx.runner.wait(ctx.app.recorder.max_notification_id() or 0)
        return nid, ctx.app.alert(UUID(aid))

    try:
        nid, alert = await asyncio.to_thread(work)
    except errors.GridcoreError as e:
        return problem_of(e)
    return AlertUpdated(notification_id=nid, id=strawberry.ID(aid),
                        state=AlertState(alert.state.value), state_label=alert.state.label)


@strawberry.type
class AlertMutation:
    @strawberry.mutation(description="签收 acknowledge an alert: it stops escalating.")
    async def acknowledge_alert(self, info: Info[Context, None], id: strawberry.ID,
                                client_id: str | None = None) -> AlertResult:
        return await _on_alert(info.context, id, lambda app, aid, by: app.acknowledge_alert(
            aid, by, client_id=client_id))

    @strawberry.mutation(description="处置 resolve an alert: a false alarm, or a breach confirmed "
                                     "with the action taken (劝返, 通知社区民警...).")
    async def resolve_alert(self, info: Info[Context, None], id: strawberry.ID,
                            outcome: AlertOutcome, action: str = "",
                            client_id: str | None = None) -> AlertResult:
        return await _on_alert(info.context, id, lambda app, aid, by: app.resolve_alert(
            aid, by, outcome.value, action, client_id=client_id))
