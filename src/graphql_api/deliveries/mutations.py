"""Deliveries to the door (配送到户): place a group-buy order, a donation to a scope or a supply
for an enterprise, buy a community's orders centrally, dispatch a scope's ready deliveries to
its squads, confirm one at the door, report a failure, send a failed one out again, seal a
scope. Each acts as the signed-in staff member within their jurisdiction (a household,
enterprise, delivery or scope elsewhere is answered as if it did not exist), is applied once
per ``clientId`` and returns what it changed as the board shows it, or typed problems."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.commands import Done, caught_up, on_household
from graphql_api.context import Context
from graphql_api.deliveries.types import (
    BatchPurchaseInput,
    Delivery,
    DeliveryItemInput,
    DeliveryLine,
    DonateToScopeInput,
    DonationPlaced,
    PlaceOrderInput,
    PurchaseBatch,
    ScopeSealed,
    SealScopeInput,
    SupplyEnterpriseInput,
)
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
from graphql_api.ids import canonical
from graphql_api.scope import node_visible
from graphql_api.watch.feed import Subject, place_of
from gridcore import delivery, errors

Problems = (NotFoundProblem | NotPermittedProblem | InvalidInputProblem
            | ForbiddenTransitionProblem | ConflictProblem | CommandRejected)
ClientId = Annotated[str | None, strawberry.argument(
    description="The device's id for this command: a retry is applied once.")]
StaffIds = Annotated[list[strawberry.ID] | None, strawberry.argument(
    description="Staff of your jurisdiction to send (default: the zone's squad).")]


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
DonationResult = Annotated[DonationPlaced | Problems, strawberry.union("DonationResult")]
PurchaseResult = Annotated[PurchaseBatch | Problems, strawberry.union("PurchaseResult")]
SealResult = Annotated[ScopeSealed | Problems, strawberry.union("SealResult")]


def _missing(what: str) -> NotFoundProblem:
    return NotFoundProblem(code=errors.NotFound.code, problem=f"No {what}.",
                           remedy="Check it on the board (deliveries) of your jurisdiction.")


def _items(lines: list[DeliveryItemInput]) -> list[delivery.Item]:
    return [line.item() for line in lines]


def _updated(ctx: Context, nid: int | None, did: str) -> DeliveryUpdated:
    row = boards.delivery_by_id(ctx.views, did)
    return DeliveryUpdated(notification_id=nid, delivery=Delivery.from_row(row) if row else None)


async def _visible_delivery(ctx: Context, raw: str) -> str | None:
    """The delivery's canonical id when its recipient lies in the caller's jurisdiction."""
    did = canonical(raw)
    place = place_of(ctx.views, Subject.DELIVERY, did, None) if did else None
    if did is None or place is None or not await node_visible(ctx, place):
        return None
    return did


async def _on_delivery(ctx: Context, raw: str,
                       command: Callable[[Any, UUID, UUID], int | None]) -> Any:
    if ctx.caller is None:
        return not_signed_in()
    did = await _visible_delivery(ctx, raw)
    if did is None:
        return _missing(f"delivery {raw[:60]}")
    by = ctx.caller.staff_id
    try:
        nid = await caught_up(ctx, lambda: command(ctx.app, UUID(did), by))
    except errors.GridcoreError as e:
        return problem_of(e)
    return _updated(ctx, nid, did)


async def _named_staff(ctx: Context,
                       raw: list[strawberry.ID] | None) -> list[UUID] | NotFoundProblem:
    """The staff named, each of the caller's jurisdiction (anyone else reads as unknown)."""
    named: list[UUID] = []
    for value in raw or []:
        sid = canonical(value)
        where = await ctx.loaders.staff_jurisdiction.load(sid) if sid else None
        if sid is None or where is None or not await node_visible(ctx, where):
            return NotFoundProblem(code=errors.NotFound.code,
                                   problem=f"No staff member {value[:60]} in your "
                                           "jurisdiction.",
                                   remedy="Name colleagues from `staff`, or leave it to the "
                                          "zone's squad.")
        named.append(UUID(sid))
    return named


def _enterprise_place(ctx: Context, eid: str | None) -> str | None:
    row = boards.enterprise_by_id(ctx.views, eid) if eid else None
    return row.location if row else None


def _donated(app: Any, scope: str, donation_no: str) -> list[str]:
    """The open deliveries of a donation in a scope, by id."""
    return sorted(str(d.id) for d in app.open_deliveries(scope)
                  if d.kind is delivery.DeliveryKind.DONATION
                  and d.ref.startswith(f"{donation_no}/"))


def _batch_of(app: Any, community: str, orders: list[UUID] | None) -> delivery.Batch:
    """The batch that bought ``orders`` (default: the community's newest batch)."""
    if orders:
        number = app.delivery(orders[0]).batch_no
    else:
        desk = app.delivery_desk(community)
        number = max(desk.batches) if desk and desk.batches else None
    return app.purchase_batch(community, number or 0)


def _rows(ctx: Context, ids: list[str]) -> list[Delivery]:
    return [Delivery.from_row(r) for did in ids[:ctx.settings.page_max]
            if (r := boards.delivery_by_id(ctx.views, did)) is not None]


@strawberry.type
class DeliveryMutation:
    @strawberry.mutation(description="团购订单 place a household's group-buy order; it waits for "
                                     "the duty lead's next central purchase (统一采买).")
    async def place_order(self, info: Info[Context, None],
                          input: PlaceOrderInput) -> DeliveryResult:
        ctx, items = info.context, _items(input.items)
        done = await on_household(ctx, input.household_id, lambda app, hid, by: (
            app.place_order(hid, input.order_no, items, client_id=input.client_id)))
        if not isinstance(done, Done):
            return done
        did = delivery.delivery_id(delivery.DeliveryKind.ORDER, input.order_no)
        return _updated(ctx, done.notification_id, str(did))

    @strawberry.mutation(description="爱心菜 donate to every household of a community or zone: "
                                     "one free delivery each, ready to dispatch.")
    async def donate_to_scope(self, info: Info[Context, None],
                              input: DonateToScopeInput) -> DonationResult:
        ctx, items = info.context, _items(input.items)
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, input.scope):
            return _missing(f"grid node {input.scope[:40]}")
        try:
            nid = await caught_up(ctx, lambda: ctx.app.donate_to_scope(
                input.scope, input.donation_no, items, input.donor, client_id=input.client_id))
            ids = await asyncio.to_thread(_donated, ctx.app, input.scope, input.donation_no)
        except errors.GridcoreError as e:
            return problem_of(e)
        return DonationPlaced(notification_id=nid, donation_no=input.donation_no,
                              households=len(ids), deliveries=_rows(ctx, ids))

    @strawberry.mutation(description="防护物资 protective material for a resuming enterprise of "
                                     "your jurisdiction, ready to dispatch.")
    async def supply_enterprise(self, info: Info[Context, None],
                                input: SupplyEnterpriseInput) -> DeliveryResult:
        ctx, items = info.context, _items(input.items)
        if ctx.caller is None:
            return not_signed_in()
        eid = canonical(input.enterprise_id)
        place = _enterprise_place(ctx, eid)
        if eid is None or place is None or not await node_visible(ctx, place):
            return NotFoundProblem(code=errors.NotFound.code,
                                   problem=f"No enterprise {input.enterprise_id[:60]}.",
                                   remedy="Check it on the board (enterprises).")
        try:
            nid = await caught_up(ctx, lambda: ctx.app.supply_enterprise(
                UUID(eid), input.supply_no, items, client_id=input.client_id))
        except errors.GridcoreError as e:
            return problem_of(e)
        did = delivery.delivery_id(delivery.DeliveryKind.SUPPLY, input.supply_no)
        return _updated(ctx, nid, str(did))

    @strawberry.mutation(description="统一采买 buy a community's open group-buy orders (or the "
                                     "ones named) in one batch: the duty lead (总值班) only.")
    async def batch_purchase(self, info: Info[Context, None],
                             input: BatchPurchaseInput) -> PurchaseResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, input.community):
            return _missing(f"grid node {input.community[:40]}")
        orders: list[UUID] | None = None
        if input.order_ids is not None:
            orders = []
            for raw in input.order_ids:
                did = await _visible_delivery(ctx, raw)
                if did is None:
                    return _missing(f"delivery {raw[:60]}")
                orders.append(UUID(did))
        by = ctx.caller.staff_id
        try:
            nid = await caught_up(ctx, lambda: ctx.app.batch_purchase(
                input.community, by, orders, client_id=input.client_id))
            batch = await asyncio.to_thread(_batch_of, ctx.app, input.community, orders)
        except errors.GridcoreError as e:
            return problem_of(e)
        return PurchaseBatch(notification_id=nid, community_code=input.community,
                             batch_no=batch.batch_no, bought_at=batch.bought_at,
                             buyer_id=strawberry.ID(str(batch.by)),
                             totals=[DeliveryLine.of(i) for i in batch.totals],
                             orders=_rows(ctx, [str(o) for o in batch.order_ids]))

    @strawberry.mutation(description="封闭管理 seal a community or zone (default: from now): from "
                                     "then on its households are supplied by delivery.")
    async def seal_scope(self, info: Info[Context, None], input: SealScopeInput) -> SealResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, input.scope):
            return _missing(f"grid node {input.scope[:40]}")
        try:
            nid = await caught_up(ctx, lambda: ctx.app.seal_scope(
                input.scope, input.since, by=ctx.caller.staff_id, client_id=input.client_id))
            since = await asyncio.to_thread(ctx.app.scope_sealed_since, input.scope)
        except errors.GridcoreError as e:
            return problem_of(e)
        return ScopeSealed(notification_id=nid, scope_code=input.scope, sealed_since=since)

    @strawberry.mutation(description="派送 send a scope's ready deliveries out to each zone's "
                                     "squad (quarantined, then vulnerable households first).")
    async def dispatch_deliveries(self, info: Info[Context, None], scope: str,
                                  limit: int | None = None, staff_ids: StaffIds = None,
                                  client_id: ClientId = None) -> DispatchResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, scope):
            return _missing(f"grid node {scope[:40]}")
        named = await _named_staff(ctx, staff_ids)
        if isinstance(named, NotFoundProblem):
            return named
        try:
            nid = await caught_up(ctx, lambda: ctx.app.dispatch_deliveries(
                scope, named or None, limit, client_id=client_id))
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
                                     "squad (or the staff named).")
    async def redeliver(self, info: Info[Context, None], id: strawberry.ID,
                        staff_ids: StaffIds = None,
                        client_id: ClientId = None) -> DeliveryResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        named = await _named_staff(ctx, staff_ids)
        if isinstance(named, NotFoundProblem):
            return named
        return await _on_delivery(ctx, id, lambda app, did, by: app.redeliver(
            did, named or None, client_id=client_id))
