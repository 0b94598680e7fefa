"""Deliveries to the door (配送到户): group-buy orders, donations and protective material.

From day 6 every supply of the 712 community was delivered to the door: a group-buy platform
collected the orders, the duty lead (总值班) bought centrally (统一采买), each zone's squad
distributed, and donated vegetables (爱心菜) went free to every household.

A ``Delivery`` is one parcel for one household (or enterprise). Its community's desk, in
``delivery_desk``, is the index that needs no read model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.household import Household
from gridcore.policy import Policy
from gridcore.status import Measure
from gridcore.text import free_text


class DeliveryKind(StrEnum):
    ORDER = "order"
    DONATION = "donation"
    SUPPLY = "supply"

    @property
    def label(self) -> str:
        return {"order": "团购订单 group-buy order", "donation": "爱心捐赠 donation",
                "supply": "防护物资 protective material"}[self.value]


class DeliveryState(StrEnum):
    ORDERED = "ordered"
    READY = "ready"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"ordered": "已下单 ordered", "ready": "待配送 ready to dispatch",
                "dispatched": "配送中 out for delivery", "delivered": "已送达 delivered",
                "failed": "配送失败 failed"}[self.value]


S = DeliveryState
DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.ORDERED: frozenset({S.READY}),
    S.READY: frozenset({S.DISPATCHED}),
    S.DISPATCHED: frozenset({S.DELIVERED, S.FAILED}),
    S.FAILED: frozenset({S.DISPATCHED}),
    S.DELIVERED: frozenset(),
}
HOME_MEASURES = frozenset({Measure.HOME_QUARANTINE, Measure.HOME_OBSERVATION})
MAX_ITEMS = 100


class Item(Immutable):
    """One line of a delivery, e.g. 大米 5 kg or 爱心菜 1 份."""

    name: str
    quantity: float
    unit: str = "份"


class Batch(Immutable):
    """A central purchase (统一采买): the orders it groups and the summed purchase list."""

    batch_no: int
    order_ids: list[UUID]
    by: UUID
    bought_at: datetime
    totals: list[Item]


def delivery_id(kind: DeliveryKind, ref: str) -> UUID:
    return stable_id("delivery", f"{kind.value}:{ref}")


# ---- rules -------------------------------------------------------------------------------------

def check_ref(ref: str, what: str) -> None:
    """An order, donation or supply number is 1-60 characters (the platform's number)."""
    if not 1 <= len(ref.strip()) <= 60 or ref != ref.strip():
        raise InvalidInput(f"The {what} number {ref!r} is empty, padded or too long.",
                           f"Give the {what} number as issued, e.g. 'TG-20200222-0001'.")


def check_items(items: Sequence[Item]) -> None:
    """A delivery lists 1-100 items, each named once with a positive, finite quantity."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidInput(f"A delivery lists {len(items)} items.",
                           f"List between 1 and {MAX_ITEMS} items, e.g. 大米 5 kg.")
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, Item) or not item.name.strip() or not item.unit.strip():
            raise InvalidInput(f"Item {item!r} has no name or unit.",
                               "Build items as Item(name='大米', quantity=5, unit='kg').")
        if not (math.isfinite(item.quantity) and item.quantity > 0):
            raise InvalidInput(f"Item {item.name} has quantity {item.quantity}.",
                               "Give a positive quantity.")
        if (item.name, item.unit) in seen:
            raise InvalidInput(f"Item {item.name} ({item.unit}) is listed twice.",
                               "List each item once with its total quantity.")
        seen.add((item.name, item.unit))


def check_transition(current: DeliveryState, target: DeliveryState) -> None:
    """A delivery goes ordered → ready (bought) → dispatched → delivered or failed; a failed
    one may be dispatched again (redelivery); donations and supplies start ready."""
    if target not in DELIVERY_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in DELIVERY_TRANSITIONS[current])) or "none"
        raise ForbiddenTransition(
            f"A delivery cannot go from {current.value} to {target.value}.",
            f"From {current.value} the allowed next states are: {allowed}.")


def check_redelivery(state: DeliveryState) -> None:
    """Only a failed delivery is sent again; ready ones go out with the next dispatch."""
    if state is not S.FAILED:
        raise ForbiddenTransition(f"The delivery is {state.label}, not failed.",
                                  "Redeliver failed deliveries only; dispatch ready ones.")


def household_priority(household: Household | None, today: date, sealed: bool = False) -> int:
    """0 when anyone in the household is under home quarantine or observation, or it lies in
    a sealed zone (封控区) (they cannot go out), 1 for a vulnerable household (aged 65+,
    living alone...), 2 otherwise (and for enterprises): the 712 community served first those
    who could not shop."""
    if household is None:
        return 2
    if sealed or any(r.measure in HOME_MEASURES for r in household.residents.values()):
        return 0
    return 1 if household.is_vulnerable(today) else 2


@dataclass(frozen=True)
class Waiting:
    """A delivery ready to dispatch, with its household (None for an enterprise)."""

    delivery_id: UUID
    ready_since: datetime
    household: Household | None = None
    sealed: bool = False
    """the household lies in a sealed zone (封控区) in force"""


def dispatch_order(waiting: Iterable[Waiting], now: datetime) -> list[UUID]:
    """Ready deliveries in dispatch order: by ``household_priority`` at ``now``, then the
    longest waiting first, then by id so that the order is deterministic."""
    today = now.date()
    ranked = sorted(waiting, key=lambda w: (household_priority(w.household, today, w.sealed),
                                            w.ready_since, str(w.delivery_id)))
    return [w.delivery_id for w in ranked]


def purchase_totals(orders: Iterable[Sequence[Item]]) -> list[Item]:
    """The central purchase list (统一采买清单): each item's quantities summed per unit over
    the batch's orders, sorted by name and unit."""
    sums: dict[tuple[str, str], float] = {}
    for items in orders:
        for item in items:
            key = (item.name, item.unit)
            sums[key] = sums.get(key, 0.0) + item.quantity
    return [Item(name=n, unit=u, quantity=q) for (n, u), q in sorted(sums.items())]


def delivery_due(dispatched_at: datetime, policy: Policy) -> datetime:
    """A dispatched delivery is due within the policy's delivery_overdue_hours."""
    return dispatched_at + timedelta(hours=policy.delivery_overdue_hours)


def check_delivered_at(delivered_at: datetime, dispatched_at: datetime | None,
                       now: datetime) -> None:
    """A delivery is confirmed as delivered at a time between its dispatch and now."""
    if delivered_at > now or (dispatched_at is not None and delivered_at < dispatched_at):
        raise InvalidInput(
            f"Delivered at {delivered_at.isoformat()} is outside its dispatch window.",
            "Give a time between the dispatch and now (or leave it out for now).")


def check_reason(reason: str) -> None:
    """A failed delivery says why, so the squad can try again sensibly (free text: no phone
    or ID number, see ``gridcore.text``)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("A failed delivery needs a reason.",
                           "Say why, e.g. '无人应答 nobody answered' or '地址有误 wrong address'.")
    free_text(reason, "reason the delivery failed")


def sealed_since(seals: Mapping[str, datetime], chain: Sequence[str],
                 at: datetime) -> datetime | None:
    """A scope is sealed from the earliest seal, begun by ``at``, on itself or on a scope
    enclosing it (``chain``: the scope's code and its ancestors' codes)."""
    begun = [seals[c] for c in chain if c in seals and seals[c] <= at]
    return min(begun) if begun else None


def without_delivery(last: Mapping[UUID, datetime | None], since: datetime, days: int,
                     now: datetime) -> list[UUID]:
    """Households of a scope sealed ``since`` that have gone ``days`` days or more without a
    delivery (time before the seal does not count), longest gap first."""
    if days < 1:
        raise InvalidInput(f"{days} days is not a period.", "Give a whole number of days >= 1.")
    cutoff = now - timedelta(days=days)
    gaps = [(start, str(hid), hid) for hid, when in last.items()
            if (start := max(since, when) if when else since) <= cutoff]
    return [hid for _, _, hid in sorted(gaps)]


# ---- the delivery ------------------------------------------------------------------------------

class Delivery(Aggregate):
    kind: DeliveryKind
    ref: str
    household_id: UUID | None
    enterprise_id: UUID | None
    desk: str
    items: list[Item]
    donor: str
    state: DeliveryState
    ready_since: datetime | None
    batch_no: int | None
    attempts: int
    staff: list[UUID]
    zone: str | None
    dispatched_at: datetime | None
    due: datetime | None
    overdue: bool
    delivered_at: datetime | None
    delivered_by: UUID | None
    failures: list[str]

    class Placed(Created):
        kind: DeliveryKind
        ref: str
        household_id: UUID | None
        enterprise_id: UUID | None
        desk: str
        items: list[Item]
        donor: str = ""

        def apply(self, d: Delivery) -> None:
            d.kind, d.ref, d.desk, d.items, d.donor = (
                self.kind, self.ref, self.desk, list(self.items), self.donor)
            d.household_id, d.enterprise_id = self.household_id, self.enterprise_id
            ordered = self.kind is DeliveryKind.ORDER
            d.state = S.ORDERED if ordered else S.READY
            d.ready_since = None if ordered else self.timestamp
            d.batch_no, d.attempts, d.staff, d.zone = None, 0, [], None
            d.dispatched_at, d.due, d.overdue = None, None, False
            d.delivered_at, d.delivered_by, d.failures = None, None, []

    class Purchased(Event):
        batch_no: int
        by: UUID

        def apply(self, d: Delivery) -> None:
            d.state, d.ready_since, d.batch_no = S.READY, self.timestamp, self.batch_no

    class Dispatched(Event):
        staff: list[UUID]
        zone: str
        due: datetime
        run_no: int | None = None
        position: int | None = None

        def apply(self, d: Delivery) -> None:
            d.state, d.staff, d.zone, d.due = S.DISPATCHED, list(self.staff), self.zone, self.due
            d.dispatched_at, d.overdue = self.timestamp, False
            d.attempts += 1

    class Delivered(Event):
        delivered_at: datetime
        by: UUID

        def apply(self, d: Delivery) -> None:
            d.state, d.delivered_at, d.delivered_by = S.DELIVERED, self.delivered_at, self.by

    class Failed(Event):
        reason: str
        by: UUID | None = None

        def apply(self, d: Delivery) -> None:
            d.state = S.FAILED
            d.failures.append(self.reason)

    class Overdue(Event):
        due: datetime

        def apply(self, d: Delivery) -> None:
            d.overdue = True

    @classmethod
    def place(cls, kind: DeliveryKind, ref: str, desk: str, items: Sequence[Item], at: datetime,
              household_id: UUID | None = None, enterprise_id: UUID | None = None,
              donor: str = "") -> Delivery:
        check_ref(ref, kind.label)
        check_items(items)
        return cls._create(cls.Placed, delivery_id(kind, ref), at, kind=kind, ref=ref, desk=desk,
                           items=list(items), household_id=household_id,
                           enterprise_id=enterprise_id, donor=donor)

    def purchase(self, batch_no: int, by: UUID, at: datetime) -> None:
        check_transition(self.state, S.READY)
        self._trigger(self.Purchased, at, batch_no=batch_no, by=by)

    def dispatch(self, staff: list[UUID], zone: str, due: datetime, at: datetime,
                 run_no: int | None = None, position: int | None = None) -> None:
        check_transition(self.state, S.DISPATCHED)
        self._trigger(self.Dispatched, at, staff=staff, zone=zone, due=due, run_no=run_no,
                      position=position)

    def confirm(self, delivered_at: datetime, by: UUID, at: datetime) -> None:
        check_transition(self.state, S.DELIVERED)
        check_delivered_at(delivered_at, self.dispatched_at, at)
        self._trigger(self.Delivered, at, delivered_at=delivered_at, by=by)

    def fail(self, reason: str, by: UUID | None, at: datetime) -> None:
        check_transition(self.state, S.FAILED)
        check_reason(reason)
        self._trigger(self.Failed, at, reason=reason.strip(), by=by)

    def mark_overdue(self, at: datetime) -> bool:
        """Record once that the current dispatch is overdue; False when it is not (or was)."""
        if self.state is not S.DISPATCHED or self.overdue or self.due is None or self.due > at:
            return False
        self._trigger(self.Overdue, at, due=self.due)
        return True

    def __repr__(self) -> str:
        return f"Delivery(kind={self.kind.value}, ref={self.ref!r}, state={self.state.value})"
