"""Deliveries to the door (配送到户): dispatch a scope's ready deliveries to its squads, confirm
one at the door, report a failure, send a failed one out again. Each acts as the signed-in
staff member within their jurisdiction (a delivery or scope elsewhere is answered as if it
did not exist), is applied once per ``clientId`` and returns the delivery as the board shows
it, or typed problems."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.context import Context
from graphql_api.deliveries.types import Delivery
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    not_signed_in,
    problem_of,
)
from graphql_api.households.queries import canonical
from graphql_api.scope import node_visible
from graphql_api.watch.feed import Subject, place_of
from gridcore import errors

Problems = (NotFoundProblem | NotPermittedProblem | InvalidInputProblem
            | ForbiddenTransitionProblem | ConflictProblem | CommandRejected)
ClientId = Annotated[str | None, strawberry.argument(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.type(description="The delivery's new state (or the state a retried clientId left).")
class DeliveryUpdated:
    notification_id: int | None
    delivery: Delivery | None


@strawberry.type(description="派送 the scope's ready deliveries went out to its squads.")
class DeliveriesDispatched:
    notification_id: int | None
    deliveries: list[Delivery] = strawberry.field(
        description="The scope's deliveries out now (dispatched), oldest placed first.")


DeliveryResult = Annotated[DeliveryUpdated | Problems, strawberry.union("DeliveryResult")]
DispatchResult = Annotated[DeliveriesDispatched | Problems, strawberry.union("DispatchResult")]


def _missing(what: str) -> NotFoundProblem:
    return NotFoundProblem(code=errors.NotFound.code, problem=f"No {what}.",
                           remedy="Check it on the board (deliveries) of your jurisdiction.")


async def _run(ctx: Context, command: Callable[[], int | None]) -> int | None:
    def work() -> int | None:
        nid = command()
        ctx.runner.wait(ctx.app.recorder.max_notification_id() or 0)
        return nid
    return await asyncio.to_thread(work)


async def _on_delivery(ctx: Context, raw: str,
                       command: Callable[[Any, UUID, UUID], int | None]) -> Any:
    if ctx.caller is None:
        return not_signed_in()
    did = canonical(raw)
    place = place_of(ctx.views, Subject.DELIVERY, did, None) if did else None
    if did is None or place is None or not await node_visible(ctx, place):
        return _missing(f"delivery {raw[:60]}")
    by = ctx.caller.staff_id
    try:
        nid = await _run(ctx, lambda: command(ctx.app, UUID(did), by))
    except errors.GridcoreError as e:
        return problem_of(e)
    row = boards.delivery_by_id(ctx.views, did)
    return DeliveryUpdated(notification_id=nid, delivery=Delivery.from_row(row) if row else None)


@strawberry.type
class DeliveryMutation:
    @strawberry.mutation(description="派送 send a scope's ready deliveries out to each zone's "
                                     "squad (quarantined, then vulnerable households first).")
    async def dispatch_deliveries(self, info: Info[Context, None], scope: str,
                                  limit: int | None = None,
                                  client_id: ClientId = None) -> DispatchResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, scope):
            return _missing(f"grid node {scope[:40]}")
        try:
            nid = await _run(ctx, lambda: ctx.app.dispatch_deliveries(
                scope, None, limit, client_id=client_id))
        except errors.GridcoreError as e:
            return problem_of(e)
        out = boards.deliveries_under(ctx.views, scope, ["dispatched"], None,
                                      ctx.settings.page_max)
        return DeliveriesDispatched(notification_id=nid,
                                    deliveries=[Delivery.from_row(r) for r in out])

    @strawberry.mutation(description="送达 confirm a delivery handed over at the door.")
    async def confirm_delivery(self, info: Info[Context, None], id: strawberry.ID,
                               delivered_at: datetime | None = None,
                               client_id: ClientId = None) -> DeliveryResult:
        return await _on_delivery(info.context, id, lambda app, did, by: app.confirm_delivery(
            did, by, delivered_at, client_id=client_id))

    @strawberry.mutation(description="配送失败 report that a delivery could not be handed over "
                                     "(无人应答 no answer...); it waits for a redelivery.")
    async def report_failed_delivery(self, info: Info[Context, None], id: strawberry.ID,
                                     reason: str, client_id: ClientId = None) -> DeliveryResult:
        return await _on_delivery(info.context, id, lambda app, did, by: (
            app.report_failed_delivery(did, reason, by, client_id=client_id)))

    @strawberry.mutation(description="重新配送 send a failed delivery out again to its zone's "
                                     "squad.")
    async def redeliver(self, info: Info[Context, None], id: strawberry.ID,
                        client_id: ClientId = None) -> DeliveryResult:
        return await _on_delivery(info.context, id, lambda app, did, by: app.redeliver(
            did, client_id=client_id))
