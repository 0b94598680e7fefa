"""Assistance board (协查看板): the persons of every assistance list (协查名单) by where they
are to be located, with their status, owner, deadline and outcome time, and completion per
grid node (pending, overdue, found, not found, moved away, wrong data), now or as it was at a
past time.

An item counts at the node it is to be located in (``place``: a micro-grid, a community, or
the district or scope it could not be routed below) and at every node above it, as the tree
is now (the projection keeps its own copy of the tree, ``ab_nodes``); a board of a node
answers for the node and every node under it, as ``gridcore.assistance.completion`` does.

``ab_items`` holds each item as it is now; every change of one is also appended, whole, to
``ab_item_history`` with the event's time (an escalation is dated when the deadline passed),
so the same questions are answered ``at`` a past time (the last row of each item at or before
it, in log order). An item is overdue at a time when it is pending then and either missed a
deadline before or its deadline is at or before that time.

No personal data: lists appear by id, reference (the sender's 协查函 number), source and
format; items by list and number, node codes, statuses, times and the ids of a matched
household and resident. What the list says of a person (name, phone, ID number, address,
reason) stays sealed in the list, as does the measure and note a community reported; the API
opens them at read time for those allowed to see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gridcore.assistance import AssistanceList, ItemStatus, RouteBasis
from gridcore.grid import GridNode
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.grid_rollup import micros
from projections.support import Under, apply_nodes, chunks, marks, node_ddl, roots, subtree_cte

NODES = "ab_nodes"
STATUSES = tuple(s.value for s in ItemStatus)

ITEM_COLUMNS = ("place", "owner", "owner_level", "basis", "unrouted", "status", "since",
                "deadline", "missed", "escalations", "forwards", "household_id",
                "resident_id", "match_basis", "reported_by", "reported_at", "on_time")
_ITEM_DDL = ("place TEXT NOT NULL, owner TEXT NOT NULL, owner_level BIGINT NOT NULL, "
             "basis TEXT NOT NULL, unrouted BIGINT NOT NULL, status TEXT NOT NULL, "
             "since BIGINT NOT NULL, deadline BIGINT, missed BIGINT NOT NULL, "
             "escalations BIGINT NOT NULL, forwards BIGINT NOT NULL, household_id TEXT, "
             "resident_id TEXT, match_basis TEXT, reported_by TEXT, reported_at BIGINT, "
             "on_time BIGINT")
LIST_COLUMNS = ("reference", "source", "list_format", "scope", "received_by", "received_at",
                "items")


class _Changes:
    """One batch: the items of the lists it touches (loaded once), the history rows it
    appends, the lists it receives and the grid's node events."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, int], dict[str, Any]] = {}
        self.dirty: set[tuple[str, int]] = set()
        self.history: list[tuple[Any, ...]] = []
        self.lists: list[tuple[Any, ...]] = []
        self.nodes: list[Any] = []

    def change(self, e: LeanEvent, nid: int, **columns: Any) -> None:
        key = (str(e.originator_id), int(e.no))
        row = self.items.get(key)
        if row is None:  # not received before this read model began (cannot happen)
            return
        row.update(columns)
        self.touch(key, nid, e.timestamp)

    def touch(self, key: tuple[str, int], nid: int, at: datetime) -> None:
        """The item changed: written at the end, and appended whole to the history."""
        self.dirty.add(key)
        row = self.items[key]
        self.history.append((*key, nid, micros(at), *(row[c] for c in ITEM_COLUMNS)))


class AssistanceBoard(Projection):
    name = "assistance_board"
    tables = ("ab_lists", "ab_items", "ab_item_history", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS ab_lists (list_id TEXT PRIMARY KEY, reference TEXT NOT "
        "NULL, source TEXT NOT NULL, list_format TEXT NOT NULL, scope TEXT NOT NULL, "
        "received_by TEXT, received_at BIGINT NOT NULL, items BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS ab_lists_reference ON ab_lists (reference)",
        "CREATE TABLE IF NOT EXISTS ab_items (list_id TEXT NOT NULL, no BIGINT NOT NULL, "
        f"{_ITEM_DDL}, PRIMARY KEY (list_id, no))",
        "CREATE INDEX IF NOT EXISTS ab_items_place ON ab_items (place)",
        "CREATE TABLE IF NOT EXISTS ab_item_history (list_id TEXT NOT NULL, no BIGINT NOT "
        f"NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL, {_ITEM_DDL}, "
        "PRIMARY KEY (list_id, no, seq))",
        "CREATE INDEX IF NOT EXISTS ab_item_history_place ON ab_item_history (place)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        c = _Changes()
        lists = sorted({str(e.originator_id) for _, e in events
                        if type(e) is not AssistanceList.Received
                        and type(e) is not GridNode.Established
                        and type(e) is not GridNode.Moved})
        columns = f"list_id, no, {', '.join(ITEM_COLUMNS)}"
        for part in chunks(lists):
            cur.execute(f"SELECT {columns} FROM ab_items WHERE list_id IN "
                        f"({marks(len(part))})", part)
            for r in cur.fetchall():
                c.items[(r[0], int(r[1]))] = dict(zip(ITEM_COLUMNS, r[2:], strict=True))
        return c

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        cur.insert("ab_lists", f"list_id, {', '.join(LIST_COLUMNS)}", c.lists,
                   "ON CONFLICT (list_id) DO NOTHING")
        updates = ", ".join(f"{col} = excluded.{col}" for col in ITEM_COLUMNS)
        cur.insert("ab_items", f"list_id, no, {', '.join(ITEM_COLUMNS)}",
                   [(*k, *(c.items[k][col] for col in ITEM_COLUMNS)) for k in sorted(c.dirty)],
                   f"ON CONFLICT (list_id, no) DO UPDATE SET {updates}")
        cur.insert("ab_item_history", f"list_id, no, seq, at, {', '.join(ITEM_COLUMNS)}",
                   c.history, "ON CONFLICT (list_id, no, seq) DO NOTHING")

    # ---- the grid ------------------------------------------------------------------------

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    # ---- lists ---------------------------------------------------------------------------

    @handles(AssistanceList.Received)
    def received(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        lid, at = str(e.originator_id), micros(e.timestamp)
        c.lists.append((lid, e.reference, e.source.value, e.list_format.value, e.scope,
                        e.by, at, len(e.items)))
        for i in e.items:
            key = (lid, int(i.no))
            c.items[key] = {
                "place": i.place, "owner": i.owner, "owner_level": int(i.owner_level),
                "basis": i.basis.value, "unrouted": int(i.unrouted is not None),
                "status": ItemStatus.PENDING.value, "since": at, "deadline": micros(i.deadline),
                "missed": 0, "escalations": 0, "forwards": 0, "household_id": i.household_id,
                "resident_id": i.resident_id,
                "match_basis": i.match_basis.value if i.match_basis is not None else None,
                "reported_by": None, "reported_at": None, "on_time": None}
            c.touch(key, nid, e.timestamp)

    @handles(AssistanceList.Reported)
    def reported(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.change(e, nid, status=e.status.value, reported_by=e.by,
                 reported_at=micros(e.timestamp), on_time=int(e.on_time), deadline=None)

    @handles(AssistanceList.Forwarded)
    def forwarded(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        row = c.items.get((str(e.originator_id), int(e.no)))
        if row is None:
            return
        forwards = int(row["forwards"]) + 1
        if e.to_code is None:  # moved to another city: done here
            c.change(e, nid, status=ItemStatus.MOVED_AWAY.value, reported_by=e.by,
                     reported_at=micros(e.timestamp), on_time=int(int(row["missed"]) == 0),
                     deadline=None, forwards=forwards)
            return
        c.change(e, nid, status=ItemStatus.PENDING.value, place=e.to_place or e.to_code,
                 owner=e.to_code, owner_level=int(e.to_level),
                 basis=RouteBasis.FORWARDED.value, unrouted=0, since=micros(e.timestamp),
                 deadline=micros(e.deadline) if e.deadline is not None else None, missed=0,
                 forwards=forwards, reported_by=None, reported_at=None, on_time=None)

    @handles(AssistanceList.Escalated)
    def escalated(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        row = c.items.get((str(e.originator_id), int(e.no)))
        if row is None:
            return
        c.change(e, nid, owner=e.to_code, owner_level=int(e.to_level),
                 since=micros(e.timestamp), deadline=micros(e.deadline),
                 missed=int(row["missed"]) + 1, escalations=int(row["escalations"]) + 1)

    @handles(AssistanceList.DeadlineMissed)
    def deadline_missed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        row = c.items.get((str(e.originator_id), int(e.no)))
        if row is None:
            return
        c.change(e, nid, deadline=None, missed=int(row["missed"]) + 1)


PROJECTIONS: list[Projection] = [AssistanceBoard()]


# ---- queries ---------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=int(value))


@dataclass(frozen=True)
class ListRow:
    """A list as received: its id, reference, source, format, receiving scope, who received
    it and when, and how many persons it lists."""

    list_id: str
    reference: str
    source: str
    list_format: str
    scope: str
    received_by: str | None
    received_at: datetime
    items: int


_LIST_SELECT = f"list_id, {', '.join(LIST_COLUMNS)}"


def _list_row(r: Row) -> ListRow:
    lid, ref, source, fmt, scope, by, at, n = r
    received = _time(at)
    assert received is not None
    return ListRow(lid, ref, source, fmt, scope, by, received, int(n))


def list_by_reference(views: ReadViews, reference: str,
                      as_of: datetime | None = None) -> ListRow | None:
    """The list of a reference (received by ``as_of`` when given), or None."""
    rows = views.query(f"SELECT {_LIST_SELECT} FROM ab_lists WHERE reference = ?",
                       (reference.strip(),))
    if not rows:
        return None
    found = _list_row(rows[0])
    return None if as_of is not None and found.received_at > as_of else found


def lists_under(views: ReadViews, under: Under, as_of: datetime | None = None,
                limit: int = 500) -> list[ListRow]:
    """The lists with a person to be located in the subtree of ``under`` (received by
    ``as_of`` when given), the latest received first."""
    codes = roots(under)
    source, params = _items_at(as_of)
    rows = views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT {_LIST_SELECT} FROM ab_lists WHERE list_id "
        f"IN (SELECT k.list_id FROM {source} WHERE k.place IN (SELECT code FROM sub)) "
        "ORDER BY received_at DESC, reference LIMIT ?", (*codes, *params, limit))
    return [_list_row(r) for r in rows]


@dataclass(frozen=True)
class ItemRow:
    """A listed person as they stood at the time asked: where they are to be located
    (``place``), who owns the check (``owner`` and its level), how it was routed (``basis``,
    ``unrouted``: left at a district or the scope, 无法落地), its status, when the owner took
    it over and its deadline, missed deadlines, escalations and forwardings, the household and
    resident matched, and when and by whom it was reported (on time or not)."""

    list_id: str
    reference: str
    no: int
    place: str
    owner: str
    owner_level: int
    basis: str
    unrouted: bool
    status: str
    since: datetime
    deadline: datetime | None
    missed: int
    escalations: int
    forwards: int
    household_id: str | None
    resident_id: str | None
    match_basis: str | None
    reported_by: str | None
    reported_at: datetime | None
    on_time: bool | None
    overdue: bool


_ITEM_SELECT = "k.list_id, l.reference, k.no, " + ", ".join(f"k.{c}" for c in ITEM_COLUMNS)


def _items_at(as_of: datetime | None) -> tuple[str, list[Any]]:
    """The items' rows ``k`` (now, or the last of each at or before ``as_of``)."""
    if as_of is None:
        return "ab_items k", []
    return ("(SELECT h.* FROM ab_item_history h WHERE h.at <= ? AND h.seq = (SELECT "
            "MAX(l.seq) FROM ab_item_history l WHERE l.list_id = h.list_id AND l.no = h.no "
            "AND l.at <= ?)) k", [micros(as_of), micros(as_of)])


def is_overdue(status: str, deadline: int | None, missed: int, at: int) -> bool:
    """Pending, and a deadline missed before or the current one passed at ``at`` (as
    ``AssistanceItem.overdue``)."""
    return status == ItemStatus.PENDING.value and (
        missed > 0 or (deadline is not None and deadline <= at))


def _item_row(r: Row, at: int) -> ItemRow:
    (lid, ref, no, place, owner, level, basis, unrouted, status, since, deadline, missed,
     escalations, forwards, hid, rid, match, by, reported, on_time) = r
    start = _time(since)
    assert start is not None
    return ItemRow(lid, ref, int(no), place, owner, int(level), basis, bool(unrouted), status,
                   start, _time(deadline), int(missed), int(escalations), int(forwards), hid,
                   rid, match, by, _time(reported), None if on_time is None else bool(on_time),
                   is_overdue(status, deadline, int(missed), at))


def items_of_list(views: ReadViews, list_id: str, now: datetime,
                  as_of: datetime | None = None) -> list[ItemRow]:
    """A list's items (every status) by number, now or as they were at ``as_of``."""
    at = micros(as_of or now)
    source, params = _items_at(as_of)
    rows = views.query(f"SELECT {_ITEM_SELECT} FROM {source} JOIN ab_lists l ON "
                       "l.list_id = k.list_id WHERE k.list_id = ? ORDER BY k.no",
                       (*params, list_id))
    return [_item_row(r, at) for r in rows]


def items_under(views: ReadViews, under: Under, now: datetime, *,
                status: str | None = None, as_of: datetime | None = None,
                limit: int = 500, list_id: str | None = None) -> list[ItemRow]:
    """The items to be located in the subtree of ``under`` (one node, or each of several),
    of one status when given, now or as they were at ``as_of``: overdue first, then by
    deadline (pending), or when reported, then by list and number (a community's to-locate
    list, 待排查)."""
    at = micros(as_of or now)
    codes = roots(under)
    source, params = _items_at(as_of)
    where = " AND k.status = ?" if status is not None else ""
    where += " AND k.list_id = ?" if list_id is not None else ""
    rows = views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT {_ITEM_SELECT} FROM {source} JOIN ab_lists l "
        "ON l.list_id = k.list_id WHERE k.place IN (SELECT code FROM sub)"
        f"{where} ORDER BY CASE WHEN k.status = ? AND (k.missed > 0 OR k.deadline <= ?) "
        "THEN 0 ELSE 1 END, COALESCE(k.deadline, k.reported_at, k.since), l.reference, k.no "
        "LIMIT ?",
        (*codes, *params, *([status] if status is not None else []),
         *([list_id] if list_id is not None else []), ItemStatus.PENDING.value, at, limit))
    return [_item_row(r, at) for r in rows]


@dataclass
class NodeCompletion:
    """A node's items (every item to be located at it or under it), by status; ``overdue``
    are among the pending."""

    code: str
    parent: str | None
    total: int = 0
    pending: int = 0
    overdue: int = 0
    found: int = 0
    not_found: int = 0
    moved_away: int = 0
    wrong_data: int = 0

    @property
    def done(self) -> int:
        return self.total - self.pending

    @property
    def rate(self) -> float | None:
        return self.done / self.total if self.total else None


def completion_by_node(views: ReadViews, under: Under, now: datetime, *,
                       list_id: str | None = None,
                       as_of: datetime | None = None) -> dict[str, NodeCompletion]:
    """Completion per node of the subtree of ``under`` that has items at or below it (of one
    list, or of every list), each item counted at its place and every node above it up to
    the roots, now or as it was at ``as_of``; by code."""
    at = micros(as_of or now)
    codes = roots(under)
    tree = {code: parent for code, parent in views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT n.code, n.parent FROM {NODES} n "
        "WHERE n.code IN (SELECT code FROM sub)", codes)}
    source, params = _items_at(as_of)
    where = " AND k.list_id = ?" if list_id is not None else ""
    out: dict[str, NodeCompletion] = {}
    for place, status, deadline, missed, n in views.query(
            f"{subtree_cte(NODES, len(codes))}SELECT k.place, k.status, k.deadline, k.missed, "
            f"COUNT(*) FROM {source} WHERE k.place IN (SELECT code FROM sub){where} "
            "GROUP BY k.place, k.status, k.deadline, k.missed",
            (*codes, *params, *([list_id] if list_id is not None else []))):
        late = is_overdue(status, deadline, int(missed), at)
        code: str | None = place
        seen: set[str] = set()
        while code is not None and code in tree and code not in seen:
            seen.add(code)
            g = out.get(code) or out.setdefault(code, NodeCompletion(code, tree[code]))
            g.total += int(n)
            setattr(g, status, getattr(g, status) + int(n))
            if late:
                g.overdue += int(n)
            code = tree[code]
    return dict(sorted(out.items()))
