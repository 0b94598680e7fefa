"""Commands and queries of deliveries to the door (配送到户).

An order from the group-buy platform waits for the duty lead's central purchase (统一采买); a
donation (爱心菜) or protective material for an enterprise is ready at once. Dispatch sends the
ready ones, highest priority first, to the squad of each zone; the squad confirms or reports a
failure, and a failed delivery is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from gridcore.app_base import MAX_ATTEMPTS, ApplicationBase, command
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate
from gridcore.delivery import (
    Batch,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Item,
    Waiting,
    check_items,
    check_redelivery,
    check_ref,
    delivery_due,
    delivery_id,
    dispatch_order,
    purchase_totals,
    sealed_since,
    without_delivery,
)
from gridcore.delivery_desk import DIRECTORY_ID, DeliveryDesk, DeliveryDirectory, desk_id
from gridcore.enterprise import Enterprise
from gridcore.errors import ConcurrencyConflict, DuplicateCode, InvalidInput
from gridcore.grid import GridNode, Level, node_id
from gridcore.household import Household
from gridcore.staff import StaffMember
from gridcore.text import free_text


class DeliveryCommands(ApplicationBase):
    # ---- look-ups --------------------------------------------------------------------------

    def delivery(self, did: UUID) -> Delivery:
        return self._get(Delivery, did, f"delivery {did}",
                         "Check the delivery id (place the order or donation first).")

    def delivery_desk(self, code: str) -> DeliveryDesk | None:
        return self._find(DeliveryDesk, desk_id(code))

    def _delivery_community(self, code: str) -> str:
        """The community (社区) a node lies in; a node above community level is its own desk."""
        node = self.node(code)
        while node.level > Level.COMMUNITY and node.parent_code is not None:
            node = self.node(node.parent_code)
        return node.code

    def _delivery_chain(self, code: str) -> list[str]:
        """The code and its ancestors' codes up to and including its community."""
        chain, node = [code], self.node(code)
        while node.level > Level.COMMUNITY and node.parent_code is not None:
            node = self.node(node.parent_code)
            chain.append(node.code)
        return chain

    def _delivery_desk_for(self, code: str,
                           at: datetime) -> tuple[DeliveryDesk, DeliveryDirectory | None]:
        desk = self.delivery_desk(code)
        if desk is not None:
            return desk, None
        directory = self._find(DeliveryDirectory, DIRECTORY_ID) or DeliveryDirectory.open(at)
        directory.add(code, at)
        return DeliveryDesk.open_for(code, at), directory

    def _delivery_desk_of(self, d: Delivery) -> DeliveryDesk:
        return self._get(DeliveryDesk, desk_id(d.desk), f"delivery desk of {d.desk}",
                         "Deliveries are placed through their community's desk.")

    def _delivery_desks_within(self, scope: str) -> list[DeliveryDesk]:
        node = self.node(scope)
        if node.level >= Level.COMMUNITY:
            codes = [self._delivery_community(scope)]
        else:
            codes, stack = [], [node]
            while stack:
                n = stack.pop()
                codes.append(n.code)
                if n.level < Level.COMMUNITY:
                    stack.extend(self.node(c) for c in n.children)
        return [d for c in codes if (d := self.delivery_desk(c)) is not None]

    def _delivery_households(self, scope: str) -> list[Household]:
        found: list[Household] = []
        stack = [self.node(scope)]
        while stack:
            n = stack.pop()
            if n.level is Level.MICRO_GRID:
                found.extend(self.household(h) for h in n.households)
            else:
                stack.extend(self.node(c) for c in n.children)
        return sorted(found, key=lambda h: h.household_no)

    def _delivery_zone(self, d: Delivery) -> tuple[str, Household | None]:
        """Where a delivery goes: the household's micro-grid, or the enterprise's location."""
        if d.household_id is not None:
            h = self.household(d.household_id)
            return h.micro_grid, h
        e = self._get(Enterprise, d.enterprise_id, f"enterprise {d.enterprise_id}",
                      "Register the enterprise first.") if d.enterprise_id else None
        return (e.location if e else d.desk), None

    def _delivery_team(self, zone: str, named: list[StaffMember]) -> list[UUID]:
        """The named staff, or else the available members of the zone's squad (服务小分队)."""
        if named:
            return [s.id for s in named]
        node = self._find(GridNode, node_id(zone))
        return [s for s in (node.squad if node else []) if self.staff(s).available]

    def _delivery_staff(self, staff: Sequence[UUID] | None) -> list[StaffMember]:
        named = [self.staff(s) for s in staff or ()]
        for s in named:
            if not s.available:
                raise InvalidInput(f"{s.name} is unavailable ({s.unavailable_reason}).",
                                   "Name staff who are available, or leave it to the squad.")
        return named

    def _open_deliveries_of(self, desk: DeliveryDesk) -> list[Delivery]:
        return [self.delivery(d) for d in sorted(desk.open, key=str)]

    # ---- placing deliveries ----------------------------------------------------------------

    @command
    def place_order(self, household: UUID, order_no: str, items: Sequence[Item],
                    *, by: Actor) -> int | None:
        """A household's group-buy order (团购订单), bought with the duty lead's next batch."""
        at = self.clock()
        h = self.household(household)
        check_ref(order_no, "order")
        check_items(items)
        if self._find(Delivery, delivery_id(DeliveryKind.ORDER, order_no)) is not None:
            raise DuplicateCode(f"Order {order_no} is already placed.",
                                "Each platform order is placed once; check its number.")
        desk, directory = self._delivery_desk_for(self._delivery_community(h.micro_grid), at)
        d = Delivery.place(DeliveryKind.ORDER, order_no, desk.code, items, at, household_id=h.id)
        desk.add([d.id], at)
        return self._save(d, desk, directory)

    @command
    def donate_to_scope(self, scope: str, donation_no: str, items: Sequence[Item],
                        donor: str = "", *, by: Actor) -> int | None:
        """A donation (爱心菜) to every household of a scope: one free delivery each."""
        at = self.clock()
        check_ref(donation_no, "donation")
        check_items(items)
        donor = free_text(donor, "donor", longest=200)
        households = self._delivery_households(scope)
        if not households:
            raise InvalidInput(f"{scope} has no households.",
                               "Donate to a community or zone where households are registered.")
        changed: list[Aggregate | None] = []
        desks: dict[str, DeliveryDesk] = {}
        communities: dict[str, str] = {}
        for h in households:
            ref = f"{donation_no}/{h.household_no}"
            if self._find(Delivery, delivery_id(DeliveryKind.DONATION, ref)) is not None:
                raise DuplicateCode(f"Donation {donation_no} already reached {h.household_no}.",
                                    "Give a new donation number for a new donation.")
            if h.micro_grid not in communities:
                communities[h.micro_grid] = self._delivery_community(h.micro_grid)
            code = communities[h.micro_grid]
            if code not in desks:
                desks[code], directory = self._delivery_desk_for(code, at)
                changed.append(directory)
            d = Delivery.place(DeliveryKind.DONATION, ref, code, items, at, household_id=h.id,
                               donor=donor.strip())
            desks[code].add([d.id], at)
            changed.append(d)
        return self._save(*changed, *desks.values())

    @command
    def supply_enterprise(self, enterprise: UUID, supply_no: str,
                          items: Sequence[Item], *, by: Actor) -> int | None:
        """Protective material (防护物资) for a resuming enterprise, ready to dispatch."""
        at = self.clock()
        e = self._get(Enterprise, enterprise, f"enterprise {enterprise}",
                      "Register the enterprise first.")
        check_ref(supply_no, "supply")
        check_items(items)
        if self._find(Delivery, delivery_id(DeliveryKind.SUPPLY, supply_no)) is not None:
            raise DuplicateCode(f"Supply {supply_no} is already placed.",
                                "Give a new supply number.")
        desk, directory = self._delivery_desk_for(self._delivery_community(e.location), at)
        d = Delivery.place(DeliveryKind.SUPPLY, supply_no, desk.code, items, at,
                           enterprise_id=e.id)
        desk.add([d.id], at)
        return self._save(d, desk, directory)

    # ---- purchase and dispatch -------------------------------------------------------------

    @command
    def batch_purchase(self, community: str, by: UUID,
                       order_ids: Sequence[UUID] | None = None) -> int | None:
        """The duty lead buys the community's open orders (or the ones named) in one batch."""
        at = self.clock()
        if self.node(community).level is not Level.COMMUNITY:
            raise InvalidInput(f"{community} is not a community.",
                               "Buy centrally for a community (社区).")
        desk = self.delivery_desk(community)
        if order_ids is None:
            chosen = [d for d in (self._open_deliveries_of(desk) if desk else [])
                      if d.state is DeliveryState.ORDERED]
        else:
            if len(set(order_ids)) != len(order_ids):
                raise InvalidInput("An order is listed twice.", "List each order once.")
            chosen = [self.delivery(o) for o in order_ids]
            for d in chosen:
                if d.kind is not DeliveryKind.ORDER or d.desk != community:
                    raise InvalidInput(f"{d.ref} is not an order of {community}.",
                                       "Name group-buy orders of this community only.")
        if desk is None or not chosen:
            raise InvalidInput(f"{community} has no open orders to buy.",
                               "Wait for orders from the group-buy platform (团购平台).")
        batch_no = len(desk.batches) + 1
        for d in chosen:
            d.purchase(batch_no, by, at)
        desk.record_batch(Batch(batch_no=batch_no, order_ids=[d.id for d in chosen], by=by,
                                bought_at=at, totals=purchase_totals(d.items for d in chosen)),
                          at)
        return self._save(*chosen, desk)

    @command
    def dispatch_deliveries(self, scope: str, staff: Sequence[UUID] | None = None,
                            limit: int | None = None, *, by: Actor) -> int | None:
        """Send the ready deliveries of a scope out, in dispatch order (quarantined or in a
        sealed zone, then vulnerable households first), to each zone's squad or to the staff
        named."""
        at = self.clock()
        if limit is not None and limit < 1:
            raise InvalidInput(f"Limit {limit} dispatches nothing.", "Give a limit of 1 or more.")
        named = self._delivery_staff(staff)
        micro = self.node(scope).level is Level.MICRO_GRID
        ready: dict[UUID, tuple[Delivery, str, Household | None]] = {}
        desks = {desk.code: desk for desk in self._delivery_desks_within(scope)}
        for desk in desks.values():
            for d in self._open_deliveries_of(desk):
                if d.state is DeliveryState.READY:
                    zone, h = self._delivery_zone(d)
                    if not micro or zone == scope:
                        ready[d.id] = (d, zone, h)
        if not ready:
            raise InvalidInput(f"No delivery is ready to dispatch in {scope}.",
                               "Buy the open orders first (统一采买): the batchPurchase mutation.")
        sealed = set().union(*(self.sealed_households(c) for c in desks))
        waiting = [Waiting(d.id, d.ready_since or d.created_on, h,
                           h is not None and h.id in sealed) for d, _, h in ready.values()]
        due = delivery_due(at, self.policy_at(at))
        teams: dict[str, list[UUID]] = {}
        chosen: list[tuple[Delivery, str]] = []
        for did in dispatch_order(waiting, at):
            d, zone, _ = ready[did]
            if zone not in teams:
                teams[zone] = self._delivery_team(zone, named)
            if teams[zone]:
                chosen.append((d, zone))
            if limit is not None and len(chosen) == limit:
                break
        if not chosen:
            raise InvalidInput(f"No squad serves {', '.join(sorted(teams))}.",
                               "Form the zone's squad (the formSquad mutation) or name the staff.")
        runs = {code: desk.runs + 1 for code, desk in desks.items()}
        for position, (d, zone) in enumerate(chosen, start=1):
            d.dispatch(teams[zone], zone, due, at, runs[d.desk], position)
        used = {d.desk for d, _ in chosen}
        for code in sorted(used):
            desks[code].track({d.id: due for d, _ in chosen if d.desk == code}, at, runs[code])
        return self._save(*(d for d, _ in chosen), *(desks[c] for c in sorted(used)))

    @command
    def confirm_delivery(self, delivery: UUID, by: UUID,
                         delivered_at: datetime | None = None) -> int | None:
        """The squad member confirms the delivery at the door (default: now)."""
        at = self.clock()
        when = self.check_time(delivered_at, "delivery time") if delivered_at else at
        d = self.delivery(delivery)
        self.staff(by)
        d.confirm(when, by, at)
        desk = self._delivery_desk_of(d)
        desk.close(d, at)
        return self._save(d, desk)

    @command
    def report_failed_delivery(self, delivery: UUID, reason: str,
                               *, by: Actor) -> int | None:
        """A delivery could not be handed over; it waits for a redelivery."""
        at = self.clock()
        d = self.delivery(delivery)
        d.fail(reason, staff_of(by), at)
        desk = self._delivery_desk_of(d)
        desk.untrack([d.id], at)
        return self._save(d, desk)

    @command
    def redeliver(self, delivery: UUID, staff: Sequence[UUID] | None = None,
                  *, by: Actor) -> int | None:
        """Send a failed delivery out again, to the staff named or the zone's squad."""
        at = self.clock()
        d = self.delivery(delivery)
        check_redelivery(d.state)
        named = self._delivery_staff(staff)
        zone, _ = self._delivery_zone(d)
        team = self._delivery_team(zone, named)
        if not team:
            raise InvalidInput(f"No squad serves {zone}.",
                               "Form the zone's squad (the formSquad mutation) or name the staff.")
        due = delivery_due(at, self.policy_at(at))
        d.dispatch(team, zone, due, at)
        desk = self._delivery_desk_of(d)
        desk.track({d.id: due}, at)
        return self._save(d, desk)

    # ---- sealed scopes -----------------------------------------------------------------------

    @command
    def seal_scope(self, code: str, since: datetime | None = None, *,
                   by: Actor) -> int | None:
        """Declare a community or zone sealed (封闭管理) from ``since`` (default: now): from
        then on every supply reaches its households by delivery."""
        at = self.clock()
        if self.node(code).level < Level.COMMUNITY:
            raise InvalidInput(f"{code} is above community level.",
                               "Seal a community (社区) or one of its zones.")
        desk, directory = self._delivery_desk_for(self._delivery_community(code), at)
        desk.seal(code, self.check_time(since, "seal time", scheduled=True) if since else at,
                  at)
        return self._save(desk, directory)

    def scope_sealed_since(self, code: str, at: datetime | None = None) -> datetime | None:
        """When the scope (or a scope enclosing it) was sealed, if it is sealed at ``at``."""
        desk = self.delivery_desk(self._delivery_community(code))
        if desk is None:
            return None
        return sealed_since(desk.sealed, self._delivery_chain(code), at or self.clock())

    def households_without_delivery(self, scope: str, days: int,
                                    now: datetime | None = None) -> list[UUID]:
        """Households of a sealed scope with no delivery for ``days`` days since the seal."""
        at = now or self.clock()
        since = self.scope_sealed_since(scope, at)
        if since is None:
            raise InvalidInput(f"{scope} is not sealed at {at.isoformat()}.",
                               "Ask this of a sealed scope (the sealScope mutation seals one).")
        desk = self.delivery_desk(self._delivery_community(scope))
        last = desk.last_delivered if desk else {}
        return without_delivery({h.id: last.get(h.id) for h in self._delivery_households(scope)},
                                since, days, at)

    # ---- queries -------------------------------------------------------------------------------

    def open_deliveries(self, scope: str) -> list[Delivery]:
        """Deliveries of a scope not delivered yet (a zone's: those going to that zone)."""
        micro = self.node(scope).level is Level.MICRO_GRID
        found = [d for desk in self._delivery_desks_within(scope)
                 for d in self._open_deliveries_of(desk)]
        return [d for d in found if not micro or self._delivery_zone(d)[0] == scope]

    def purchase_batch(self, community: str, batch_no: int) -> Batch:
        desk = self.delivery_desk(community)
        if desk is None or batch_no not in desk.batches:
            raise InvalidInput(f"{community} has no purchase batch {batch_no}.",
                               "Check the batch number (the batchPurchase mutation numbers "
                               "them in order).")
        return desk.batches[batch_no]

    # ---- overdue -------------------------------------------------------------------------------

    def tick_deliveries(self, now: datetime) -> int:
        """Record, once, each dispatched delivery not delivered by its due time; returns how
        many newly became overdue."""
        directory = self._find(DeliveryDirectory, DIRECTORY_ID)
        return sum(self._tick_delivery_desk(c, now) for c in (directory.codes if directory else []))

    def _tick_delivery_desk(self, code: str, now: datetime) -> int:
        for _ in range(MAX_ATTEMPTS):
            desk = self.delivery_desk(code)
            late = sorted((d for d, due in desk.due.items() if due <= now), key=str) if desk else []
            if desk is None or not late:
                return 0
            marked = [d for d in map(self.delivery, late) if d.mark_overdue(now)]
            desk.untrack(late, now)
            try:
                self._save(*marked, desk)
            except IntegrityError:
                continue
            return len(marked)
        raise ConcurrencyConflict(f"The delivery desk of {code} kept changing during the tick.",
                                  "Run the tick again; nothing was lost.")
