"""The enterprise board (复工复产看板): resumption status counts per industry department and per
grid node (an enterprise counts at its location and every node above it, as the tree is now),
and the open rectifications (整改) with their deadlines and whether they are overdue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from gridcore.enterprise import Enterprise, Resumption, check_label
from gridcore.grid import GridNode
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.support import (
    Patches,
    Under,
    apply_nodes,
    from_ts,
    node_ddl,
    roots,
    subtree_cte,
    ts,
)

NODES = "ent_nodes"


class EnterpriseBoard(Projection):
    name = "enterprise_board"
    tables = ("ent_enterprises", "ent_rectifications", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS ent_enterprises (enterprise_id TEXT PRIMARY KEY, "
        "credit_code TEXT NOT NULL, name TEXT NOT NULL, department TEXT NOT NULL, "
        "location TEXT NOT NULL, specialist TEXT, status TEXT NOT NULL, "
        "employees BIGINT NOT NULL, inspections BIGINT NOT NULL, rectified BIGINT NOT NULL, "
        "registered_at TEXT NOT NULL, changed_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ent_enterprises_dept ON ent_enterprises (department)",
        "CREATE INDEX IF NOT EXISTS ent_enterprises_loc ON ent_enterprises (location)",
        "CREATE TABLE IF NOT EXISTS ent_rectifications (enterprise_id TEXT NOT NULL, "
        "item TEXT NOT NULL, opened_at TEXT NOT NULL, deadline TEXT NOT NULL, "
        "overdue BIGINT NOT NULL, PRIMARY KEY (enterprise_id, item))",
        "CREATE INDEX IF NOT EXISTS ent_rectifications_deadline "
        "ON ent_rectifications (deadline)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        return _Changes(Patches("ent_enterprises", "enterprise_id"))

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        c.enterprises.flush(cur)
        cur.executemany("DELETE FROM ent_rectifications WHERE enterprise_id = ? AND item = ?",
                        [k for k, row in c.rect.items() if row is None])
        cur.executemany(
            "INSERT INTO ent_rectifications (enterprise_id, item, opened_at, deadline, overdue) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (enterprise_id, item) DO UPDATE SET "
            "opened_at = excluded.opened_at, deadline = excluded.deadline, "
            "overdue = excluded.overdue", [row for row in c.rect.values() if row is not None])
        cur.executemany("UPDATE ent_rectifications SET overdue = 1 "
                        "WHERE enterprise_id = ? AND item = ?", sorted(c.late))

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(Enterprise.Registered)
    def registered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.enterprises.insert(str(e.originator_id), dict(
            credit_code=e.credit_code, name=e.name, department=e.department,
            location=e.location, specialist=str(e.specialist),
            status=Resumption.NOT_FILED.value, employees=0, inspections=0, rectified=0,
            registered_at=ts(e.timestamp), changed_at=ts(e.timestamp)))

    @handles(Enterprise.SpecialistAssigned)
    def specialist_assigned(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.enterprises.set(str(e.originator_id), specialist=str(e.specialist))

    @handles(Enterprise.ResumptionFiled)
    def filed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.enterprises.set(str(e.originator_id), status=Resumption.FILED.value,
                          employees=e.employees, changed_at=ts(e.timestamp))

    @handles(Enterprise.ResumptionReviewed)
    def reviewed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        status = Resumption.APPROVED if e.approved else Resumption.REJECTED
        c.enterprises.set(str(e.originator_id), status=status.value,
                          changed_at=ts(e.timestamp))

    @handles(Enterprise.Inspected)
    def inspected(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.enterprises.set(str(e.originator_id), inspections=e.inspection_no)

    @handles(Enterprise.RectificationOpened)
    def rectification_opened(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.rect[(key, e.item)] = [key, e.item, ts(e.timestamp), ts(e.deadline), 0]
        c.late.discard((key, e.item))

    @handles(Enterprise.RectificationClosed)
    def rectification_closed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.rect[(key, e.item)] = None
        c.late.discard((key, e.item))
        c.enterprises.add(key, rectified=1)

    @handles(Enterprise.RectificationOverdue)
    def rectification_overdue(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = (str(e.originator_id), e.item)
        row = c.rect.get(key)
        if row is not None:
            row[4] = 1
        else:
            c.late.add(key)


@dataclass
class _Changes:
    """One batch: the enterprises' rows folded (``Patches``); per (enterprise, item) the
    rectification open at the batch's end, or None when closed in it; the rows opened before
    the batch that only became overdue in it (``late``); the grid's node events."""

    enterprises: Patches
    rect: dict[tuple[str, str], list[Any] | None] = field(default_factory=dict)
    late: set[tuple[str, str]] = field(default_factory=set)
    nodes: list[Any] = field(default_factory=list)


# ---- queries ---------------------------------------------------------------------------------

Counts = dict[str, dict[Resumption, int]]


def _counts(rows: list[Row]) -> Counts:
    out: Counts = {}
    for key, status, n in rows:
        out.setdefault(key, dict.fromkeys(Resumption, 0))[Resumption(status)] += int(n)
    return out


def resumption_counts(views: ReadViews, by: Literal["department", "node"] = "department") -> Counts:
    """Enterprises per resumption status (every status present, zeros included), per industry
    department, or per grid node: at its location and each node above it."""
    if by == "department":
        return _counts(views.query(
            "SELECT department, status, COUNT(*) AS n FROM ent_enterprises "
            "GROUP BY department, status ORDER BY department, status"))
    if by == "node":
        return _counts(views.query(
            "WITH RECURSIVE up(location, code) AS (SELECT DISTINCT location, location "
            f"FROM ent_enterprises UNION ALL SELECT u.location, n.parent FROM {NODES} n "
            "JOIN up u ON n.code = u.code WHERE n.parent IS NOT NULL) "
            "SELECT up.code, e.status, COUNT(*) AS n FROM ent_enterprises e "
            "JOIN up ON up.location = e.location GROUP BY up.code, e.status "
            "ORDER BY up.code, e.status"))
    raise ValueError(f"count by 'department' or 'node', not {by!r}")


def resumption_counts_in(views: ReadViews, scope_code: Under) -> dict[Resumption, int]:
    """The status counts of the enterprises located in the subtree of ``scope_code`` (of
    one node, or of each of several: each enterprise once)."""
    counts = dict.fromkeys(Resumption, 0)
    codes = roots(scope_code)
    for status, n in views.query(
            subtree_cte(NODES, len(codes)) + "SELECT e.status, COUNT(*) AS n FROM "
            "ent_enterprises e JOIN sub ON sub.code = e.location GROUP BY e.status", codes):
        counts[Resumption(status)] = int(n)
    return counts


@dataclass(frozen=True)
class OpenRectification:
    enterprise_id: UUID
    enterprise: str
    department: str
    location: str
    specialist: UUID | None
    item: str
    opened_at: datetime
    deadline: datetime
    recorded_overdue: bool  # the overdue tick recorded it
    overdue: bool  # recorded, or past its deadline at the time asked

    @property
    def label(self) -> str:
        return f"{self.enterprise}: {check_label(self.item)}"


def open_rectifications(views: ReadViews, now: datetime | None = None,
                        scope_code: Under | None = None) -> list[OpenRectification]:
    """Open rectifications, earliest deadline first; ``overdue`` when the tick recorded it or
    (given ``now``) the deadline has passed; ``scope_code`` keeps those located under it."""
    select = ("SELECT r.enterprise_id, e.name, e.department, e.location, e.specialist, r.item, "
              "r.opened_at, r.deadline, r.overdue FROM ent_rectifications r "
              "JOIN ent_enterprises e ON e.enterprise_id = r.enterprise_id ")
    order = " ORDER BY r.deadline, e.name, r.item"
    if scope_code is None:
        rows = views.query(select + order)
    else:
        codes = roots(scope_code)
        rows = views.query(subtree_cte(NODES, len(codes)) + select
                           + "JOIN sub ON sub.code = e.location" + order, codes)
    out = []
    for eid, name, dept, loc, spec, item, opened, deadline, flag in rows:
        due = from_ts(deadline)
        assert due is not None
        recorded = bool(flag)
        out.append(OpenRectification(UUID(eid), name, dept, loc, UUID(spec) if spec else None,
                                     item, from_ts(opened) or due, due, recorded,
                                     recorded or (now is not None and due <= now)))
    return out


PROJECTIONS: list[Projection] = [EnterpriseBoard()]


# ---- rows the API reads (``projections.queries`` scopes them to a jurisdiction) ----------------

@dataclass(frozen=True)
class EnterpriseRow:
    enterprise_id: str
    credit_code: str
    name: str
    department: str
    location: str
    specialist: str | None
    status: str
    employees: int
    inspections: int
    rectified: int


ENTERPRISE_COLUMNS = ("enterprise_id, credit_code, name, department, location, specialist, "
                      "status, employees, inspections, rectified")
"""An ``ent_enterprises`` row as ``enterprise_row`` reads it."""


def enterprise_row(r: Sequence[Any]) -> EnterpriseRow:
    e, cc, n, d, loc, spec, st, emp, ins, rec = r
    return EnterpriseRow(e, cc, n, d, loc, spec, st, int(emp), int(ins), int(rec))


def enterprise_by_id(views: ReadViews, enterprise_id: str) -> EnterpriseRow | None:
    rows = views.query(f"SELECT {ENTERPRISE_COLUMNS} FROM ent_enterprises "
                       "WHERE enterprise_id = ?", (enterprise_id,))
    return enterprise_row(rows[0]) if rows else None


def enterprise_location(views: ReadViews, enterprise_id: str) -> str | None:
    """The grid node an enterprise is located at (None for one unknown here)."""
    found = views.query("SELECT location FROM ent_enterprises WHERE enterprise_id = ?",
                        (enterprise_id,))
    return str(found[0][0]) if found and found[0][0] is not None else None
