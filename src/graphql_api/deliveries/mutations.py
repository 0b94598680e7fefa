"""Deliveries to the door (配送到户): place a group-buy order, a donation to a scope or a supply
for an enterprise, buy a community's orders centrally, dispatch a scope's ready deliveries to
its squads, confirm one at the door, report a failure, send a failed one out again, seal a
scope. Each acts as the signed-in staff member within their jurisdiction (a household,
enterprise, delivery or scope elsewhere is answered as if it did not exist), is applied once
per ``clientId`` and returns what it changed as the board shows it, or typed problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry

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
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import NotFoundProblem, Problem, not_found, result
from graphql_api.reach import household, located, staff_list
from graphql_api.watch.feed import Subject, place_of
from gridcore import delivery
from gridcore.application import GridcoreApp
from projections.queries import deliveries_under, delivery_by_id

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
    row = delivery_by_id(c.ctx.views, str(did or c.target))
    return DeliveryUpdated(notification_id=nid, delivery=Delivery.from_row(row) if row else None)


def _donated(app: GridcoreApp, scope: str, donation_no: str) -> list[str]:
    """The open deliveries of a donation in a scope, by id."""
    return sorted(str(d.id) for d in app.open_deliveries(scope)
                  if d.kind is delivery.DeliveryKind.DONATION
                  and d.ref.startswith(f"{donation_no}/"))


def _batch_of(app: GridcoreApp, community: str, orders: list[Any] | None) -> delivery.Batch:
    """The batch that bought ``orders`` (default: the community's newest batch)."""
    if orders:
        number = app.delivery(orders[0]).batch_no
    else:
        desk = app.delivery_desk(community)
        number = max(desk.batches) if desk and desk.batches else None
    return app.purchase_batch(community, number or 0)


def _rows(ctx: Context, ids: list[str]) -> list[Delivery]:
    return [Delivery.from_row(r) for did in ids[:ctx.settings.page_max]
            if (r := delivery_by_id(ctx.views, did)) is not None]


def _placed(kind: delivery.DeliveryKind, number: Callable[[Any], str]
            ) -> Callable[[Call, int | None], DeliveryUpdated]:
    """The success of placing a delivery: the one ``kind`` and the input's number name."""
    return lambda c, nid: _updated(c, nid, delivery.delivery_id(kind, number(c.input)))


def _donation(c: Call, done: tuple[int | None, list[str]]) -> DonationPlaced:
    return DonationPlaced(notification_id=done[0], donation_no=c.input.donation_no,
                          households=len(done[1]), deliveries=_rows(c.ctx, done[1]))


def _bought(c: Call, done: tuple[int | None, delivery.Batch]) -> PurchaseBatch:
    nid, batch = done
    return PurchaseBatch(notification_id=nid, community_code=c.input.community,
                         batch_no=batch.batch_no, bought_at=batch.bought_at,
                         buyer_id=strawberry.ID(str(batch.by)),
                         totals=[DeliveryLine.of(i) for i in batch.totals],
                         orders=_rows(c.ctx, [str(o) for o in batch.order_ids]))


def _dispatched(c: Call, nid: int | None) -> DeliveriesDispatched:
    out = deliveries_under(c.ctx.views, c.input.scope, ["dispatched"], None,
                                  c.ctx.settings.page_max)
    return DeliveriesDispatched(notification_id=nid,
                                deliveries=[Delivery.from_row(r) for r in out])


_on_delivery = partial(mutation, result=DeliveryResult, success=_updated,
                       on=lambda i: [_delivery(i.id)])
"""A command on a delivery of the caller's jurisdiction, answering it as the board shows."""


@strawberry.type
class DeliveryMutation:
    place_order = mutation(
        "团购订单 place a household's group-buy order; it waits for the duty lead's next "
        "central purchase (统一采买).", PlaceOrderInput, lambda c, i: c.app.place_order(
            c.target, i.order_no, _items(i.items), client_id=i.client_id, by=c.by),
        result=DeliveryResult, success=_placed(delivery.DeliveryKind.ORDER, lambda i: i.order_no),
        on=lambda i: [household(i.household_id)])

    donate_to_scope = mutation(
        "爱心菜 donate to every household of a community or zone: one free delivery each, "
        "ready to dispatch.", DonateToScopeInput, lambda c, i: (c.app.donate_to_scope(
            i.scope, i.donation_no, _items(i.items), i.donor, client_id=i.client_id, by=c.by),
            _donated(c.app, i.scope, i.donation_no)),
        result=DonationResult, success=_donation, on=lambda i: [_scope(i.scope)])

    supply_enterprise = mutation(
        "防护物资 protective material for a resuming enterprise of your jurisdiction, ready to "
        "dispatch.", SupplyEnterpriseInput, lambda c, i: c.app.supply_enterprise(
            c.target, i.supply_no, _items(i.items), client_id=i.client_id, by=c.by),
        result=DeliveryResult,
        success=_placed(delivery.DeliveryKind.SUPPLY, lambda i: i.supply_no),
        on=lambda i: [enterprise(i.enterprise_id)])

    batch_purchase = mutation(
        "统一采买 buy a community's open group-buy orders (or the ones named) in one batch: "
        "the duty lead (总值班) only.", BatchPurchaseInput, lambda c, i: (c.app.batch_purchase(
            i.community, c.by, c.targets[1], client_id=i.client_id),
            _batch_of(c.app, i.community, c.targets[1])),
        result=PurchaseResult, success=_bought,
        on=lambda i: [_scope(i.community), _deliveries(i.order_ids)])

    seal_scope = mutation(
        "封闭管理 seal a community or zone (default: from now): from then on its households "
        "are supplied by delivery.", SealScopeInput, lambda c, i: (c.app.seal_scope(
            i.scope, i.since, by=c.by, client_id=i.client_id),
            c.app.scope_sealed_since(i.scope)),
        result=SealResult, success=lambda c, done: ScopeSealed(
            notification_id=done[0], scope_code=c.input.scope, sealed_since=done[1]),
        on=lambda i: [_scope(i.scope)])

    dispatch_deliveries = mutation(
        "派送 send a scope's ready deliveries out to each zone's squad (quarantined, then "
        "vulnerable households first).", DispatchDeliveriesInput,
        lambda c, i: c.app.dispatch_deliveries(i.scope, c.targets[1] or None, i.limit,
                                               client_id=i.client_id, by=c.by),
        result=DispatchResult, success=_dispatched,
        on=lambda i: [_scope(i.scope), _named_staff(i.staff_ids)])

    confirm_delivery = _on_delivery(
        "送达 confirm a delivery handed over at the door.", ConfirmDeliveryInput,
        lambda c, i: c.app.confirm_delivery(c.target, c.by, i.delivered_at,
                                            client_id=i.client_id))

    report_failed_delivery = _on_delivery(
        "配送失败 report that a delivery could not be handed over (无人应答 no answer...); it "
        "waits for a redelivery.", ReportFailedDeliveryInput,
        lambda c, i: c.app.report_failed_delivery(c.target, i.reason, by=c.by,
                                                  client_id=i.client_id))

    redeliver = _on_delivery(
        "重新配送 send a failed delivery out again to its zone's squad (or the staff named).",
        RedeliverInput, lambda c, i: c.app.redeliver(c.target, c.targets[1] or None,
                                                     client_id=i.client_id, by=c.by),
        on=lambda i: [_delivery(i.id), _named_staff(i.staff_ids)])
