"""Deliveries to the door (配送到户), from the delivery board read model."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_api.enums import DeliveryKind, DeliveryState
from graphql_api.grid.types import decode_cursor, encode_cursor
from graphql_api.households.types import AtHousehold, PageInfo
from graphql_api.relay import Node
from gridcore import delivery
from projections import delivery_board, queries
from projections.base import ReadViews
from projections.support import Under, ts


@strawberry.type(description="配送 a delivery: an order, a donation or a supply, and where it "
                             "stands.")
class Delivery(Node, AtHousehold):
    id: strawberry.ID
    kind: DeliveryKind
    kind_label: str
    ref: str
    desk_code: str
    place_code: str = strawberry.field(
        description="Where the recipient is: the household's micro-grid, the enterprise's "
                    "location, or the desk's scope.")
    state: DeliveryState
    state_label: str
    zone_code: str | None
    attempts: int
    placed_at: datetime
    due: datetime | None
    overdue: bool
    delivered_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    failures: int
    household_id: strawberry.ID | None
    enterprise_id: strawberry.ID | None
    version: int = strawberry.field(
        description="Its version, changed by every step: send it as `baseVersion` with a "
                    "confirmation made offline (syncFieldRecords).")

    @classmethod
    def from_row(cls, r: delivery_board.DeliveryRow) -> Delivery:
        return cls(id=strawberry.ID(r.delivery_id), kind=DeliveryKind(r.kind),
                   kind_label=delivery.DeliveryKind(r.kind).label, ref=r.ref, desk_code=r.desk,
                   place_code=r.place, state=DeliveryState(r.state),
                   state_label=delivery.DeliveryState(r.state).label, zone_code=r.zone,
                   attempts=r.attempts, placed_at=r.placed_at, due=r.due, overdue=r.overdue,
                   delivered_at=r.delivered_at, failed_at=r.failed_at, failure_reason=r.reason,
                   failures=r.failures,
                   household_id=strawberry.ID(r.household_id) if r.household_id else None,
                   enterprise_id=strawberry.ID(r.enterprise_id) if r.enterprise_id else None,
                   version=r.version)


CURSOR_KIND = "delivery"


@strawberry.type
class DeliveryEdge:
    cursor: str
    node: Delivery


@strawberry.type(description="A page of deliveries (Relay cursor connection), oldest placed "
                             "first.")
class DeliveryConnection:
    edges: list[DeliveryEdge]
    page_info: PageInfo

    @strawberry.field(description="The page's deliveries (the edges' nodes).")
    def nodes(self) -> list[Delivery]:
        return [e.node for e in self.edges]

    @classmethod
    def page(cls, views: ReadViews, code: Under | None, states: list[str] | None,
             overdue: bool | None, first: int, after: str | None) -> DeliveryConnection:
        """``first`` deliveries of the subtree of ``code`` (a node or several: one list in
        one order; None: none) after the cursor ``after`` (a cursor not of this connection:
        an empty page)."""
        key = decode_cursor(CURSOR_KIND, after) if after else None
        placed, _, did = (key or "").partition("|")
        if code is None or (after and not did):
            return cls(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None))
        rows = queries.deliveries_under(views, code, states, overdue, first + 1,
                                        after=(placed, did) if did else None)
        edges = [DeliveryEdge(cursor=encode_cursor(CURSOR_KIND,
                                                   f"{ts(r.placed_at)}|{r.delivery_id}"),
                              node=Delivery.from_row(r)) for r in rows[:first]]
        return cls(edges=edges, page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None))


@strawberry.type(description="The deliveries of a subtree in one state.")
class DeliveryStateCount:
    state: DeliveryState
    label: str
    count: int
    overdue: int


# ---- what the mutations take and give back ---------------------------------------------------

@strawberry.input(description="One line of a delivery (大米 5 kg, 爱心菜 1 份).")
class DeliveryItemInput:
    name: str
    quantity: float
    unit: str = "份"

    def item(self) -> delivery.Item:
        return delivery.Item(name=self.name, quantity=self.quantity, unit=self.unit)


@strawberry.type(description="One line of a delivery or of a purchase list.")
class DeliveryLine:
    name: str
    quantity: float
    unit: str

    @classmethod
    def of(cls, item: delivery.Item) -> DeliveryLine:
        return cls(name=item.name, quantity=item.quantity, unit=item.unit)


@strawberry.input(description="团购订单 a household's group-buy order from the platform.")
class PlaceOrderInput:
    household_id: strawberry.ID
    order_no: str = strawberry.field(description="The platform's order number (placed once).")
    items: list[DeliveryItemInput]
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


@strawberry.input(description="爱心菜 a donation: one free delivery to every household of a "
                              "scope.")
class DonateToScopeInput:
    scope: str = strawberry.field(description="A community or zone of your jurisdiction.")
    donation_no: str
    items: list[DeliveryItemInput]
    donor: str = ""
    client_id: str | None = None


@strawberry.input(description="防护物资 protective material for a resuming enterprise.")
class SupplyEnterpriseInput:
    enterprise_id: strawberry.ID
    supply_no: str
    items: list[DeliveryItemInput]
    client_id: str | None = None


@strawberry.input(description="统一采买 the duty lead buys a community's open orders.")
class BatchPurchaseInput:
    community: str = strawberry.field(description="The community (社区) code.")
    order_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The orders to buy (default: every open order).")
    client_id: str | None = None


@strawberry.input(description="封闭管理 declare a community or zone sealed: from then on every "
                              "supply reaches its households by delivery.")
class SealScopeInput:
    scope: str
    since: datetime | None = strawberry.field(default=None, description="Default: now.")
    client_id: str | None = None


@strawberry.type(description="The donation was placed (or had been, under this clientId).")
class DonationPlaced:
    notification_id: int | None
    donation_no: str
    households: int = strawberry.field(
        description="Households of the scope whose donated delivery is still open.")
    deliveries: list[Delivery] = strawberry.field(
        description="Those deliveries (at most a page), by id.")


@strawberry.type(description="统一采买 a central purchase batch: its orders and purchase list.")
class PurchaseBatch:
    notification_id: int | None
    community_code: str
    batch_no: int
    bought_at: datetime
    buyer_id: strawberry.ID
    totals: list[DeliveryLine] = strawberry.field(description="The summed purchase list.")
    orders: list[Delivery] = strawberry.field(description="The orders bought (at most a "
                                                          "page).")


@strawberry.type(description="封闭管理 the scope is sealed from this time on.")
class ScopeSealed:
    notification_id: int | None
    scope_code: str
    sealed_since: datetime | None = strawberry.field(
        description="When it (or a scope enclosing it) was sealed; null if not sealed now "
                    "(a seal from a future time).")
