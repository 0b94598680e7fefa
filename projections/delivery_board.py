"""The delivery board (配送看板): each squad's backlog, failed deliveries with their reason, and
the households of sealed scopes gone N days without a delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from gridcore.delivery import Delivery, DeliveryKind, DeliveryState
from gridcore.delivery_desk import DeliveryDesk
from gridcore.errors import InvalidInput
from gridcore.grid import GridNode
from gridcore.household import Household
from projections.base import LeanEvent, Notified, Projection, ReadViews, ViewCursor, handles
from projections.support import (
    Patches,
    apply_nodes,
    chain_cte,
    from_ts,
    node_ddl,
    subtree_cte,
    ts,
)

# ---- the delivery board ----------------------------------------------------------------------

NODES = "dlv_nodes"


class DeliveryBoard(Projection):
    name = "delivery_board"
    version = 2  # 2: the delivery's version (what an offline confirmation is based on)
    tables = ("dlv_deliveries", "dlv_staff", "dlv_households", "dlv_last", "dlv_seals", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS dlv_deliveries (delivery_id TEXT PRIMARY KEY, "
        "kind TEXT NOT NULL, ref TEXT NOT NULL, desk TEXT NOT NULL, household_id TEXT, "
        "enterprise_id TEXT, state TEXT NOT NULL, zone TEXT, attempts BIGINT NOT NULL, "
        "placed_at TEXT NOT NULL, dispatched_at TEXT, due TEXT, overdue BIGINT NOT NULL, "
        "delivered_at TEXT, failed_at TEXT, reason TEXT, failed_by TEXT, "
        "failures BIGINT NOT NULL, version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dlv_deliveries_state ON dlv_deliveries (state, zone)",
        "CREATE TABLE IF NOT EXISTS dlv_staff (delivery_id TEXT NOT NULL, staff_id TEXT NOT NULL, "
        "zone TEXT NOT NULL, PRIMARY KEY (delivery_id, staff_id))",
        "CREATE TABLE IF NOT EXISTS dlv_households (household_id TEXT PRIMARY KEY, "
        "household_no TEXT NOT NULL, micro_grid TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dlv_households_grid ON dlv_households (micro_grid)",
        "CREATE TABLE IF NOT EXISTS dlv_last (household_id TEXT PRIMARY KEY, "
        "last_delivered TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS dlv_seals (code TEXT PRIMARY KEY, since TEXT NOT NULL, "
        "desk TEXT NOT NULL)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        return _Changes(Patches("dlv_deliveries", "delivery_id"),
                        Patches("dlv_households", "household_id"))

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        c.deliveries.flush(cur)
        c.households.flush(cur)
        cur.executemany("DELETE FROM dlv_staff WHERE delivery_id = ?", [(d,) for d in c.staff])
        cur.executemany("INSERT INTO dlv_staff (delivery_id, staff_id, zone) VALUES (?, ?, ?)",
                        [(d, s, zone) for d, (zone, members) in c.staff.items()
                         for s in members])
        cur.insert(  # one row per household (a dict's items, as ``insert`` needs)
            "dlv_last", "household_id, last_delivered", list(c.last.items()),
            "ON CONFLICT (household_id) DO UPDATE SET last_delivered = CASE WHEN "
            "excluded.last_delivered > dlv_last.last_delivered THEN excluded.last_delivered "
            "ELSE dlv_last.last_delivered END")
        cur.executemany("INSERT INTO dlv_seals (code, since, desk) VALUES (?, ?, ?) "
                        "ON CONFLICT (code) DO NOTHING", c.seals)

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(Delivery.Placed)
    def placed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        ordered = e.kind is DeliveryKind.ORDER
        c.deliveries.insert(str(e.originator_id), dict(
            kind=e.kind.value, ref=e.ref, desk=e.desk,
            household_id=_str(e.household_id), enterprise_id=_str(e.enterprise_id),
            state=(DeliveryState.ORDERED if ordered else DeliveryState.READY).value,
            zone=None, attempts=0, placed_at=ts(e.timestamp), dispatched_at=None,
            due=None, overdue=0, delivered_at=None, failed_at=None, reason=None,
            failed_by=None, failures=0, version=e.originator_version))

    @handles(Delivery.Purchased)
    def purchased(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.deliveries.set(str(e.originator_id), state=DeliveryState.READY.value,
                         version=e.originator_version)

    @handles(Delivery.Dispatched)
    def dispatched(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.deliveries.set(key, state=DeliveryState.DISPATCHED.value, zone=e.zone,
                         dispatched_at=ts(e.timestamp), due=ts(e.due), overdue=0,
                         version=e.originator_version)
        c.deliveries.add(key, attempts=1)
        c.staff[key] = (e.zone, list(dict.fromkeys(str(s) for s in e.staff)))

    @handles(Delivery.Delivered)
    def delivered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.deliveries.set(key, state=DeliveryState.DELIVERED.value,
                         delivered_at=ts(e.delivered_at), version=e.originator_version)
        c.staff[key] = ("", [])

    @handles(Delivery.Failed)
    def failed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.deliveries.set(key, state=DeliveryState.FAILED.value, failed_at=ts(e.timestamp),
                         reason=e.reason, failed_by=_str(e.by), version=e.originator_version)
        c.deliveries.add(key, failures=1)
        c.staff[key] = ("", [])

    @handles(Delivery.Overdue)
    def overdue(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.deliveries.set(str(e.originator_id), overdue=1, version=e.originator_version)

    @handles(DeliveryDesk.Closed)
    def desk_closed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        if e.household_id is not None:
            hid, when = str(e.household_id), ts(e.delivered_at)
            assert when is not None
            c.last[hid] = max(c.last.get(hid, when), when)

    @handles(DeliveryDesk.Sealed)
    def sealed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.seals.append((e.code, ts(e.since), str(e.originator_id)))

    @handles(Household.Registered)
    def household_registered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.households.insert(str(e.originator_id), dict(household_no=e.household_no,
                                                       micro_grid=e.micro_grid))

    @handles(Household.Moved)
    def household_moved(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.households.set(str(e.originator_id), micro_grid=e.micro_grid)


@dataclass
class _Changes:
    """One batch: deliveries' and households' rows folded (``Patches``), each delivery's
    (zone, staff now), each household's last delivery, seals and the grid's node events."""

    deliveries: Patches
    households: Patches
    staff: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)
    seals: list[tuple[str, str | None, str]] = field(default_factory=list)
    nodes: list[Any] = field(default_factory=list)


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


# ---- queries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    """Deliveries out with the squads and not delivered yet: per staff member (a delivery sent
    to a team counts for each member) and per zone, with how many of those are overdue."""

    by_staff: dict[str, int]
    by_zone: dict[str, int]
    overdue_by_zone: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_zone.values())


def backlog(views: ReadViews) -> Backlog:
    by_staff = {s: int(n) for s, n in views.query(
        "SELECT staff_id, COUNT(*) AS n FROM dlv_staff GROUP BY staff_id ORDER BY staff_id")}
    zones = views.query(
        "SELECT zone, COUNT(*) AS n, SUM(CASE WHEN overdue = 1 THEN 1 ELSE 0 END) AS late "
        "FROM dlv_deliveries WHERE state = ? GROUP BY zone ORDER BY zone",
        (DeliveryState.DISPATCHED.value,))
    return Backlog(by_staff, {z: int(n) for z, n, _ in zones},
                   {z: int(o) for z, _, o in zones if o})


@dataclass(frozen=True)
class FailedDelivery:
    delivery_id: UUID
    kind: DeliveryKind
    ref: str
    desk: str
    zone: str | None
    household_id: UUID | None
    enterprise_id: UUID | None
    reason: str
    failed_at: datetime
    failed_by: UUID | None
    failures: int
    attempts: int

    @property
    def label(self) -> str:
        return f"{self.kind.label} {self.ref}: {DeliveryState.FAILED.label} ({self.reason})"


def failed(views: ReadViews, desk: str | None = None) -> list[FailedDelivery]:
    """Deliveries whose last attempt failed and that wait for a redelivery, oldest first."""
    sql = ("SELECT delivery_id, kind, ref, desk, zone, household_id, enterprise_id, reason, "
           "failed_at, failed_by, failures, attempts FROM dlv_deliveries WHERE state = ?")
    params: list[Any] = [DeliveryState.FAILED.value]
    if desk is not None:
        sql, params = sql + " AND desk = ?", [*params, desk]
    rows = views.query(sql + " ORDER BY failed_at, delivery_id", params)
    return [FailedDelivery(UUID(d), DeliveryKind(k), ref, dk, z, _uuid(h), _uuid(en), reason,
                           from_ts(at) or datetime.min, _uuid(by), int(n), int(a))
            for d, k, ref, dk, z, h, en, reason, at, by, n, a in rows]


def _uuid(text: str | None) -> UUID | None:
    return None if text is None else UUID(text)


def scope_sealed_since(views: ReadViews, scope_code: str, at: datetime) -> datetime | None:
    """When the scope, or a scope enclosing it, was sealed, if it is sealed at ``at``."""
    [(since,)] = views.query(
        chain_cte(NODES) + "SELECT MIN(s.since) AS since FROM up "
        "JOIN dlv_seals s ON s.code = up.code WHERE s.since <= ?", (scope_code, ts(at)))
    return from_ts(since)


@dataclass(frozen=True)
class Gap:
    """A household of a sealed scope without a delivery since ``since`` (the later of the seal
    and its last delivery)."""

    household_id: UUID
    household_no: str
    micro_grid: str
    last_delivered: datetime | None
    since: datetime


def household_gaps(views: ReadViews, scope_code: str, days: int, now: datetime) -> list[Gap]:
    """The households of a sealed scope gone ``days`` days or more without a delivery (time
    before the seal does not count), longest gap first."""
    if days < 1:
        raise InvalidInput(f"{days} days is not a period.", "Give a whole number of days >= 1.")
    since = scope_sealed_since(views, scope_code, now)
    if since is None:
        raise InvalidInput(f"{scope_code} is not sealed at {now.isoformat()}.",
                           "Ask this of a sealed scope (seal_scope).")
    start = "CASE WHEN l.last_delivered > ? THEN l.last_delivered ELSE ? END"
    rows = views.query(
        subtree_cte(NODES) + f"SELECT h.household_id, h.household_no, h.micro_grid, "
        f"l.last_delivered, {start} AS gap_start FROM dlv_households h "
        "JOIN sub ON sub.code = h.micro_grid "
        "LEFT JOIN dlv_last l ON l.household_id = h.household_id "
        f"WHERE {start} <= ? ORDER BY gap_start, h.household_id",
        (scope_code, ts(since), ts(since), ts(since), ts(since),
         ts(now - timedelta(days=days))))
    return [Gap(UUID(h), no, grid, from_ts(last), from_ts(begun) or since)
            for h, no, grid, last, begun in rows]


def households_without_delivery(views: ReadViews, scope_code: str, days: int,
                                now: datetime) -> list[UUID]:
    """The ids of ``household_gaps``, as the application's query of the same name gives them."""
    return [g.household_id for g in household_gaps(views, scope_code, days, now)]


PROJECTIONS: list[Projection] = [DeliveryBoard()]


# ---- rows the API reads (``projections.queries`` scopes them to a jurisdiction) ----------------

@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: str
    kind: str
    ref: str
    desk: str
    place: str
    household_id: str | None
    enterprise_id: str | None
    state: str
    zone: str | None
    attempts: int
    placed_at: datetime
    due: datetime | None
    overdue: bool
    delivered_at: datetime | None
    failed_at: datetime | None
    reason: str | None
    failures: int
    version: int
    """The delivery's version (its aggregate's): what an offline confirmation is based on."""


def delivery_row(r: Sequence[Any]) -> DeliveryRow:
    """A delivery as ``projections.queries`` reads it: its row with its place (the
    recipient's micro-grid or location, else its desk's scope) after ``desk``."""
    did, kind, ref, desk, place, hid, eid, state, zone, att, placed, due, late, done, failed_at, \
        reason, fails, version = r
    return DeliveryRow(did, kind, ref, desk, place, hid, eid, state, zone, int(att),
                       from_ts(placed) or datetime.min, from_ts(due), bool(late), from_ts(done),
                       from_ts(failed_at), reason, int(fails), int(version))
