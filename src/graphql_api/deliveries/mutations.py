"""Deliveries to the door (配送到户): place a group-buy order, a donation to a scope or a supply
for an enterprise, buy a community's orders centrally, dispatch a scope's ready deliveries to
its squads, confirm one at the door, report a failure, send a failed one out again, seal a
scope. Each acts as the signed-in staff member within their jurisdiction (a household,
enterprise, delivery or scope elsewhere is answered as if it did not exist), is applied once
per ``clientId`` and returns what it changed as the board shows it, or typed problems."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graphql_api import boards
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
from graphql_api.enterprises.mutations import enterprise
from graphql_api.pipeline import Call, ClientId, Reach, run_mutation
from graphql_api.problems import NotFoundProblem, Problem, not_found, result
from graphql_api.reach import household, located, staff_list
from graphql_api.watch.feed import Subject, place_of
from gridcore import delivery

StaffIds = Annotated[list[strawberry.ID] | None, strawberry.field(
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


DeliveryResult = result("DeliveryResult", DeliveryUpdated)
DispatchResult = result("DispatchResult", DeliveriesDispatched)
DonationResult = result("DonationResult", DonationPlaced)
PurchaseResult = result("PurchaseResult", PurchaseBatch)
SealResult = result("SealResult", ScopeSealed)


@strawberry.input(description="派送 a scope's ready deliveries to send out.")
class DispatchDeliveriesInput:
    scope: str
    limit: int | None = None
    staff_ids: StaffIds = None
    client_id: ClientId = None


@strawberry.input(description="送达 a delivery handed over at the door.")
class ConfirmDeliveryInput:
    id: strawberry.ID
    delivered_at: datetime | None = None
    client_id: ClientId = None


@strawberry.input(description="配送失败 why a delivery could not be handed over.")
class ReportFailedDeliveryInput:
    id: strawberry.ID
    reason: str
    client_id: ClientId = None


@strawberry.input(description="重新配送 a failed delivery to send out again.")
class RedeliverInput:
    id: strawberry.ID
    staff_ids: StaffIds = None
    client_id: ClientId = None


def _missing(what: str) -> NotFoundProblem:
    return not_found(f"No {what}.", "Check it on the board (deliveries) of your jurisdiction.")


def _delivery(raw: str) -> Reach:
    """A delivery whose recipient lies in the caller's jurisdiction (its id)."""
    return located(raw, _missing(f"delivery {raw[:60]}"),
                   lambda ctx, k: place_of(ctx.views, Subject.DELIVERY, k, None))


def _deliveries(raw: list[strawberry.ID] | None) -> Reach:
    """Deliveries of the caller's jurisdiction (None when none are named)."""
    async def reach(ctx: Context) -> list[Any] | Problem | None:
        if raw is None:
            return None
        out = []
        for value in raw:
            did = await _delivery(value)(ctx)
            if isinstance(did, Problem):
                return did
            out.append(did)
        return out
    return reach


def _scope(code: str) -> Reach:
    """A community or zone of the caller's jurisdiction (its code)."""
    return located(code, _missing(f"grid node {code[:40]}"), lambda ctx, k: k,
                   key=lambda k: k, as_id=str)


def _named_staff(raw: list[strawberry.ID] | None) -> Reach:
    """The staff named, each of the caller's jurisdiction (anyone else reads as unknown)."""
    def missing(value: str) -> NotFoundProblem:
        return not_found(f"No staff member {value[:60]} in your jurisdiction.",
                         "Name colleagues from `staff`, or leave it to the zone's squad.")
    return staff_list(raw, missing)


def _items(lines: list[DeliveryItemInput]) -> list[delivery.Item]:
    return [line.item() for line in lines]


def _updated(c: Call, nid: int | None, did: object = None) -> DeliveryUpdated:
    row = boards.delivery_by_id(c.ctx.views, str(did or c.target))
    return DeliveryUpdated(notification_id=nid, delivery=Delivery.from_row(row) if row else None)


def _donated(app: Any, scope: str, donation_no: str) -> list[str]:
    """The open deliveries of a donation in a scope, by id."""
    return sorted(str(d.id) for d in app.open_deliveries(scope)
                  if d.kind is delivery.DeliveryKind.DONATION
                  and d.ref.startswith(f"{donation_no}/"))


def _batch_of(app: Any, community: str, orders: list[Any] | None) -> delivery.Batch:
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
        items = _items(input.items)
        did = delivery.delivery_id(delivery.DeliveryKind.ORDER, input.order_no)
        return await run_mutation(info, lambda c: c.app.place_order(
            c.target, input.order_no, items, client_id=input.client_id),
            lambda c, nid: _updated(c, nid, did), on=[household(input.household_id)])

    @strawberry.mutation(description="爱心菜 donate to every household of a community or zone: "
                                     "one free delivery each, ready to dispatch.")
    async def donate_to_scope(self, info: Info[Context, None],
                              input: DonateToScopeInput) -> DonationResult:
        items = _items(input.items)
        return await run_mutation(info, lambda c: (c.app.donate_to_scope(
            input.scope, input.donation_no, items, input.donor, client_id=input.client_id),
            _donated(c.app, input.scope, input.donation_no)),
            lambda c, done: DonationPlaced(
                notification_id=done[0], donation_no=input.donation_no,
                households=len(done[1]), deliveries=_rows(c.ctx, done[1])),
            on=[_scope(input.scope)])

    @strawberry.mutation(description="防护物资 protective material for a resuming enterprise of "
                                     "your jurisdiction, ready to dispatch.")
    async def supply_enterprise(self, info: Info[Context, None],
                                input: SupplyEnterpriseInput) -> DeliveryResult:
        items = _items(input.items)
        did = delivery.delivery_id(delivery.DeliveryKind.SUPPLY, input.supply_no)
        return await run_mutation(info, lambda c: c.app.supply_enterprise(
            c.target, input.supply_no, items, client_id=input.client_id),
            lambda c, nid: _updated(c, nid, did), on=[enterprise(input.enterprise_id)])

    @strawberry.mutation(description="统一采买 buy a community's open group-buy orders (or the "
                                     "ones named) in one batch: the duty lead (总值班) only.")
    async def batch_purchase(self, info: Info[Context, None],
                             input: BatchPurchaseInput) -> PurchaseResult:
        def bought(c: Call, done: tuple[int | None, delivery.Batch]) -> PurchaseBatch:
            nid, batch = done
            return PurchaseBatch(notification_id=nid, community_code=input.community,
                                 batch_no=batch.batch_no, bought_at=batch.bought_at,
                                 buyer_id=strawberry.ID(str(batch.by)),
                                 totals=[DeliveryLine.of(i) for i in batch.totals],
                                 orders=_rows(c.ctx, [str(o) for o in batch.order_ids]))

        return await run_mutation(info, lambda c: (c.app.batch_purchase(
            input.community, c.by, c.targets[1], client_id=input.client_id),
            _batch_of(c.app, input.community, c.targets[1])), bought,
            on=[_scope(input.community), _deliveries(input.order_ids)])

    @strawberry.mutation(description="封闭管理 seal a community or zone (default: from now): from "
                                     "then on its households are supplied by delivery.")
    async def seal_scope(self, info: Info[Context, None], input: SealScopeInput) -> SealResult:
        return await run_mutation(info, lambda c: (c.app.seal_scope(
            input.scope, input.since, by=c.by, client_id=input.client_id),
            c.app.scope_sealed_since(input.scope)),
            lambda c, done: ScopeSealed(notification_id=done[0], scope_code=input.scope,
                                        sealed_since=done[1]),
            on=[_scope(input.scope)])

    @strawberry.mutation(description="派送 send a scope's ready deliveries out to each zone's "
                                     "squad (quarantined, then vulnerable households first).")
    async def dispatch_deliveries(self, info: Info[Context, None],
                                  input: DispatchDeliveriesInput) -> DispatchResult:
        def dispatched(c: Call, nid: int | None) -> DeliveriesDispatched:
            out = boards.deliveries_under(c.ctx.views, input.scope, ["dispatched"], None,
                                          c.ctx.settings.page_max)
            return DeliveriesDispatched(notification_id=nid,
                                        deliveries=[Delivery.from_row(r) for r in out])

        return await run_mutation(info, lambda c: c.app.dispatch_deliveries(
            input.scope, c.targets[1] or None, input.limit, client_id=input.client_id),
            dispatched, on=[_scope(input.scope), _named_staff(input.staff_ids)])

    @strawberry.mutation(description="送达 confirm a delivery handed over at the door.")
    async def confirm_delivery(self, info: Info[Context, None],
                               input: ConfirmDeliveryInput) -> DeliveryResult:
        return await run_mutation(info, lambda c: c.app.confirm_delivery(
            c.target, c.by, input.delivered_at, client_id=input.client_id), _updated,
            on=[_delivery(input.id)])

    @strawberry.mutation(description="配送失败 report that a delivery could not be handed over "
                                     "(无人应答 no answer...); it waits for a redelivery.")
    async def report_failed_delivery(self, info: Info[Context, None],
                                     input: ReportFailedDeliveryInput) -> DeliveryResult:
        return await run_mutation(info, lambda c: c.app.report_failed_delivery(
            c.target, input.reason, c.by, client_id=input.client_id), _updated,
            on=[_delivery(input.id)])

    @strawberry.mutation(description="重新配送 send a failed delivery out again to its zone's "
                                     "squad (or the staff named).")
    async def redeliver(self, info: Info[Context, None],
                        input: RedeliverInput) -> DeliveryResult:
        return await run_mutation(info, lambda c: c.app.redeliver(
            c.targets[1], c.target or None, client_id=input.client_id),
            lambda c, nid: _updated(c, nid, c.targets[1]),
            on=[_named_staff(input.staff_ids), _delivery(input.id)])
