"""The requests board (群众诉求看板): requests awaiting action by owning level, grade and deadline,
the escalated ones, and the public statistics of the supervision channel (督办).

No personal data: neither what the resident wrote, their contact, the replies, nor the public
reference (which lets its holder follow the request) is kept, so erasure changes nothing here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.errors import InvalidInput, NotFound
from gridcore.grid import GridNode, Level
from gridcore.requests import (
    AWAITING,
    Category,
    Channel,
    Grade,
    RequestStatistics,
    RequestStatus,
    ResidentRequest,
)
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.support import (
    Expr,
    Patches,
    Under,
    apply_nodes,
    from_ts,
    node_ddl,
    roots,
    subtree_cte,
    ts,
)

NODES = "req_nodes"
RQ = ResidentRequest
_REOPENED_STATUS = Expr(f"CASE WHEN assignee IS NULL THEN '{RequestStatus.OPEN.value}' "
                        f"ELSE '{RequestStatus.IN_PROGRESS.value}' END")


class RequestsBoard(Projection):
    name = "requests_board"
    tables = ("req_requests", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS req_requests (request_id TEXT PRIMARY KEY, "
        "number TEXT NOT NULL, community TEXT NOT NULL, channel TEXT NOT NULL, "
        "category TEXT NOT NULL, grade TEXT NOT NULL, status TEXT NOT NULL, "
        "owner_code TEXT NOT NULL, level BIGINT NOT NULL, filed_at TEXT NOT NULL, "
        "since TEXT NOT NULL, deadline TEXT, assignee TEXT, escalations BIGINT NOT NULL, "
        "missed BIGINT NOT NULL, on_time BIGINT, ratings BIGINT NOT NULL, "
        "rating_sum BIGINT NOT NULL, last_rating BIGINT)",
        "CREATE INDEX IF NOT EXISTS req_requests_board ON req_requests (status, deadline)",
        "CREATE INDEX IF NOT EXISTS req_requests_community ON req_requests (community)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        return _Changes(Patches("req_requests", "request_id"), [])

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        c.rows.flush(cur)

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(RQ.Filed)
    def filed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.rows.insert(str(e.originator_id), dict(
            number=e.number, community=e.community, channel=e.channel.value,
            category=e.category.value, grade=e.grade.value,
            status=RequestStatus.OPEN.value, owner_code=e.community,
            level=int(Level.COMMUNITY), filed_at=ts(e.timestamp),
            since=ts(e.timestamp), deadline=ts(e.deadline), assignee=None,
            escalations=0, missed=0, on_time=None, ratings=0, rating_sum=0,
            last_rating=None))

    @handles(RQ.Reclassified)
    def reclassified(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.rows.set(str(e.originator_id), category=e.category.value, grade=e.grade.value,
                   deadline=ts(e.deadline))

    @handles(RQ.Assigned)
    def assigned(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.rows.set(str(e.originator_id), assignee=str(e.staff_id),
                   status=RequestStatus.IN_PROGRESS.value)

    @handles(RQ.Escalated)
    def escalated(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.rows.set(key, owner_code=e.to_code, level=int(e.to_level), deadline=ts(e.deadline),
                   since=ts(e.timestamp), assignee=None, status=RequestStatus.OPEN.value)
        c.rows.add(key, missed=1, escalations=1)

    @handles(RQ.DeadlineMissed)
    def deadline_missed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.rows.set(key, deadline=None)
        c.rows.add(key, missed=1)

    @handles(RQ.Resolved)
    def resolved(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.rows.set(str(e.originator_id), status=RequestStatus.RESOLVED.value,
                   on_time=int(e.on_time))

    @handles(RQ.Rated)
    def rated(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.rows.set(key, status=RequestStatus.CLOSED.value, last_rating=e.rating)
        c.rows.add(key, ratings=1, rating_sum=e.rating)

    @handles(RQ.Reopened)
    def reopened(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        known, assignee = c.rows.known(key, "assignee")
        status: Expr | str = _REOPENED_STATUS
        if known:
            status = (RequestStatus.OPEN if assignee is None
                      else RequestStatus.IN_PROGRESS).value
        c.rows.set(key, status=status, deadline=ts(e.deadline), missed=0,
                   since=ts(e.timestamp), on_time=None)


@dataclass
class _Changes:
    """One batch: the requests' rows folded (``Patches``) and the grid's node events."""

    rows: Patches
    nodes: list[Any]


# ---- queries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BoardRow:
    request_id: UUID
    number: str
    community: str
    owner_code: str
    level: Level
    channel: Channel
    category: Category
    grade: Grade
    status: RequestStatus
    filed_at: datetime
    deadline: datetime | None  # None: the city missed its deadline, none runs after
    escalations: int
    assignee: UUID | None

    @property
    def label(self) -> str:
        return (f"{self.number} {self.category.label} · {self.grade.label} · "
                f"{self.status.label} · {self.level.label}")


_COLUMNS = ("r.request_id, r.number, r.community, r.owner_code, r.level, r.channel, r.category, "
            "r.grade, r.status, r.filed_at, r.deadline, r.escalations, r.assignee")
# Deadline-less ones (the city missed its deadline) first, then by deadline, as the
# application's open_requests orders them.
_ORDER = (" ORDER BY CASE WHEN r.deadline IS NULL THEN 0 ELSE 1 END, "
          "COALESCE(r.deadline, r.filed_at), r.number")
_AWAITING = tuple(sorted(s.value for s in AWAITING))


def _row(r: Row) -> BoardRow:
    rid, number, community, owner, level, channel, category, grade, status, filed, deadline, \
        escalations, assignee = r
    return BoardRow(UUID(rid), number, community, owner, Level(int(level)), Channel(channel),
                    Category(category), Grade(grade), RequestStatus(status),
                    from_ts(filed) or datetime.min, from_ts(deadline), int(escalations),
                    UUID(assignee) if assignee else None)


def _level(level: Level | int | str) -> int:
    if isinstance(level, str) and not level.isdigit():
        return int(Level[level.upper()])
    return int(Level(int(level)))


def board(views: ReadViews, level: Level | int | str | None = None,
          grade: Grade | str | None = None, scope_code: Under | None = None,
          awaiting_only: bool = True) -> list[BoardRow]:
    """Requests awaiting action (or every request, answered too, unless ``awaiting_only``),
    optionally of one owning level and grade and filed under ``scope_code`` (a node, or any
    of several),
    overdue-at-the-city first, then by deadline."""
    where = [f"r.status IN ({', '.join('?' * len(_AWAITING))})"] if awaiting_only else ["1 = 1"]
    params: list[Any] = list(_AWAITING) if awaiting_only else []
    if level is not None:
        where.append("r.level = ?")
        params.append(_level(level))
    if grade is not None:
        where.append("r.grade = ?")
        params.append(Grade(grade).value)
    return _select(views, " AND ".join(where), params, scope_code)


def escalated(views: ReadViews, awaiting_only: bool = True,
              scope_code: Under | None = None) -> list[BoardRow]:
    """Requests escalated at least once (still awaiting action, unless told otherwise)."""
    where, params = "r.escalations > 0", []
    if awaiting_only:
        where += f" AND r.status IN ({', '.join('?' * len(_AWAITING))})"
        params = list(_AWAITING)
    return _select(views, where, params, scope_code)


def _select(views: ReadViews, where: str, params: list[Any],
            scope: Under | None) -> list[BoardRow]:
    if scope is None:
        return [_row(r) for r in views.query(
            f"SELECT {_COLUMNS} FROM req_requests r WHERE {where}{_ORDER}", params)]
    codes = roots(scope)
    return [_row(r) for r in views.query(
        subtree_cte(NODES, len(codes)) + f"SELECT {_COLUMNS} FROM req_requests r "
        f"JOIN sub ON sub.code = r.community WHERE {where}{_ORDER}", [*codes, *params])]


def public_statistics(views: ReadViews, scope_code: str) -> RequestStatistics:
    """The supervision channel's counts over every request filed in the communities under
    ``scope_code`` (a community or above): the application's ``request_statistics``."""
    found = views.query(f"SELECT level FROM {NODES} WHERE code = ?", (scope_code,))
    if not found:
        raise NotFound(f"Grid node {scope_code} does not exist.", "Check the grid code.")
    if int(found[0][0]) == Level.MICRO_GRID:
        raise InvalidInput(f"{scope_code} is a micro-grid; requests are kept per community.",
                           "Give a community (社区) or a level above it.")
    rows = views.query(
        subtree_cte(NODES) + "SELECT r.category, r.grade, r.status, r.level, COUNT(*) AS n, "
        "SUM(CASE WHEN r.escalations > 0 THEN 1 ELSE 0 END) AS escalated, "
        "SUM(CASE WHEN r.on_time = 1 THEN 1 ELSE 0 END) AS in_time, "
        "SUM(r.ratings) AS ratings, SUM(r.rating_sum) AS rating_sum "
        "FROM req_requests r JOIN sub ON sub.code = r.community "
        "GROUP BY r.category, r.grade, r.status, r.level", (scope_code,))
    by_category = dict.fromkeys(Category, 0)
    by_grade = dict.fromkeys(Grade, 0)
    by_status = dict.fromkeys(RequestStatus, 0)
    by_level = {lv.name.lower(): 0 for lv in Level if lv is not Level.MICRO_GRID}
    total = escalations = resolved = on_time = ratings = rating_sum = 0
    for category, grade, status, level, n, esc, in_time, rated, summed in rows:
        n = int(n)
        total += n
        by_category[Category(category)] += n
        by_grade[Grade(grade)] += n
        by_status[RequestStatus(status)] += n
        by_level[Level(int(level)).name.lower()] += n
        escalations += int(esc)
        ratings, rating_sum = ratings + int(rated), rating_sum + int(summed)
        if RequestStatus(status) not in AWAITING:
            resolved += n
            on_time += int(in_time)
    return RequestStatistics(
        total=total, by_category=by_category, by_grade=by_grade, by_status=by_status,
        by_level=by_level, escalated=escalations, resolved=resolved, resolved_on_time=on_time,
        on_time_share=on_time / resolved if resolved else None, ratings=ratings,
        average_rating=rating_sum / ratings if ratings else None)


PROJECTIONS: list[Projection] = [RequestsBoard()]


def request_community(views: ReadViews, request_id: str) -> str | None:
    """The community a request was filed in (None for one unknown here)."""
    found = views.query("SELECT community FROM req_requests WHERE request_id = ?",
                        (request_id,))
    return str(found[0][0]) if found and found[0][0] is not None else None
