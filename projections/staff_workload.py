"""Staff workload: per staff member and day, the households on their list, how many of those
are done and how many still open (assigned = done + open), and how many households their own
visits completed that day.

A work item is one household of one round's assignment (``Assignment.Made``; its campaign is
the one of the same scope and round). ``WorkMoved`` gives an item to another member or takes
it off everyone's list. A household is done when a visit of that campaign first accounts for
members (``record.accounted`` not empty): it counts as done for the visit's staff member on the
day of the record's ``at``, and it stops being open for whoever holds it. Days are the local
dates of the times as recorded (the event's own UTC offset).

``staff_workload`` holds per (staff, day) deltas: ``given`` (items received), ``moved_out``
(items taken away), ``done`` (items the member's visits completed that day, on anyone's list),
``open_delta``. The queries turn them into end-of-day figures: ``assigned`` (on their list, of
every round), ``open`` (of those, not done), ``done`` (of those, done: by them, a colleague or
a resident's check-in; ``assigned - open``) and ``completed`` (the day's ``done`` delta). The
list keeps a round's done households, so a member's second round of 70 reads assigned 140,
done 70, open 70, not assigned 140 / done 0 / open 70.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from gridcore.assignment import Assignment
from gridcore.sweep import Visit, campaign_id
from projections.base import LeanEvent, Notified, Projection, ReadViews, ViewCursor, handles
from projections.grid_rollup import select_in
from projections.support import chunks, marks

GIVEN, MOVED_OUT, DONE, OPEN = range(4)


def _day(when: datetime) -> str:
    return when.date().isoformat()


class _Work:
    """One batch: the work items it touches (loaded once), the items and assignments to
    write, and the (staff, day) deltas."""

    def __init__(self, cur: ViewCursor, items: dict[str, list[Any]]) -> None:
        self.cur, self.items = cur, items
        self.dirty: set[str] = set()
        self.made: list[tuple[str, str]] = []
        self.deltas: dict[tuple[str, str], list[int]] = {}

    def bump(self, staff: str | None, day: str, col: int, by: int = 1) -> None:
        if staff is not None:
            self.deltas.setdefault((staff, day), [0, 0, 0, 0])[col] += by


class StaffWorkload(Projection):
    name = "staff_workload"
    tables = ("staff_workload", "wl_items", "wl_assignments")
    ddl = (
        "CREATE TABLE IF NOT EXISTS staff_workload (staff_id TEXT NOT NULL, day TEXT NOT NULL, "
        "given BIGINT NOT NULL, moved_out BIGINT NOT NULL, done BIGINT NOT NULL, "
        "open_delta BIGINT NOT NULL, PRIMARY KEY (staff_id, day))",
        "CREATE INDEX IF NOT EXISTS staff_workload_day ON staff_workload (day)",
        "CREATE TABLE IF NOT EXISTS wl_items (item TEXT PRIMARY KEY, owner TEXT, "
        "done BIGINT NOT NULL)",
        # a member's work list (``queries.work_list``)
        "CREATE INDEX IF NOT EXISTS wl_items_owner ON wl_items (owner)",
        "CREATE TABLE IF NOT EXISTS wl_assignments (assignment_id TEXT PRIMARY KEY, "
        "campaign_id TEXT NOT NULL)",
    )

    def __init__(self) -> None:
        self._campaigns: dict[UUID, UUID] = {}  # assignment id -> campaign id (stable ids)

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Work:
        keys = set()
        for _, e in events:
            t = type(e)
            if t is Assignment.Made:
                self._campaigns[e.originator_id] = campaign_id(e.scope, e.round_no)
            elif t is Visit.Recorded:
                keys.add(_item(e.campaign_id, e.household_id))
            else:
                cid = self._campaign_of(cur, e.originator_id)
                keys.update(_item(cid, m.household_id) for m in [*e.moves, *e.uncovered])
        return _Work(cur, {i: [o, d] for i, o, d in (select_in(
            cur, "SELECT item, owner, done FROM wl_items WHERE item IN ({})", keys)
            if keys else [])})

    @handles(Assignment.Made)
    def made(self, w: _Work, nid: int, e: LeanEvent) -> None:
        cid, day = campaign_id(e.scope, e.round_no), _day(e.timestamp)
        self._campaigns[e.originator_id] = cid
        w.made.append((str(e.originator_id), str(cid)))
        for it in e.items:
            key, staff = _item(cid, it.household_id), str(it.staff_id)
            row = w.items.setdefault(key, [None, 0])
            row[0] = staff
            w.dirty.add(key)
            w.bump(staff, day, GIVEN)
            if not row[1]:
                w.bump(staff, day, OPEN)

    @handles(Assignment.WorkMoved)
    def work_moved(self, w: _Work, nid: int, e: LeanEvent) -> None:
        cid, day = self._campaign_of(w.cur, e.originator_id), _day(e.timestamp)
        changes: list[tuple[str, str | None]] = [(m.household_id, str(m.staff_id))
                                                 for m in e.moves]
        changes += [(u.household_id, None) for u in e.uncovered]
        for hid, to in changes:
            key = _item(cid, hid)
            row = w.items.setdefault(key, [None, 0])
            if row[0] == to:
                continue
            w.bump(row[0], day, MOVED_OUT)
            w.bump(to, day, GIVEN)
            if not row[1]:
                w.bump(row[0], day, OPEN, -1)
                w.bump(to, day, OPEN)
            row[0] = to
            w.dirty.add(key)

    @handles(Visit.Recorded)
    def visited(self, w: _Work, nid: int, e: LeanEvent) -> None:
        key = _item(e.campaign_id, e.household_id)
        row = w.items.setdefault(key, [None, 0])
        if row[1] or not e.record.accounted:
            return
        row[1] = 1
        w.dirty.add(key)
        day = _day(e.record.at)
        w.bump(None if e.record.staff_id is None else str(e.record.staff_id), day, DONE)
        w.bump(row[0], day, OPEN, -1)

    def end(self, cur: ViewCursor, w: _Work) -> None:
        cur.executemany(
            "INSERT INTO wl_assignments (assignment_id, campaign_id) VALUES (?, ?) "
            "ON CONFLICT (assignment_id) DO NOTHING", w.made)
        cur.executemany(
            "INSERT INTO wl_items (item, owner, done) VALUES (?, ?, ?) ON CONFLICT (item) "
            "DO UPDATE SET owner = excluded.owner, done = excluded.done",
            [(k, *w.items[k]) for k in sorted(w.dirty)])
        cur.executemany(
            "INSERT INTO staff_workload (staff_id, day, given, moved_out, done, open_delta) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (staff_id, day) DO UPDATE SET "
            "given = staff_workload.given + excluded.given, "
            "moved_out = staff_workload.moved_out + excluded.moved_out, "
            "done = staff_workload.done + excluded.done, "
            "open_delta = staff_workload.open_delta + excluded.open_delta",
            [(s, d, *v) for (s, d), v in sorted(w.deltas.items())])

    def _campaign_of(self, cur: ViewCursor, assignment: UUID) -> UUID:
        """The campaign of an assignment (the one of the same scope and round)."""
        if assignment not in self._campaigns:
            cur.execute("SELECT campaign_id FROM wl_assignments WHERE assignment_id = ?",
                        (str(assignment),))
            row = cur.fetchone()
            if row is not None:
                self._campaigns[assignment] = UUID(row[0])
        return self._campaigns.get(assignment, assignment)


def _item(cid: UUID | str, hid: UUID | str) -> str:
    return f"{cid}/{hid}"


# ---- queries -------------------------------------------------------------------------------

def _iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else day


def workload(views: ReadViews, staff_id: UUID | str) -> list[dict[str, Any]]:
    """Per day with any change for the member, in day order: ``assigned`` (households on
    their list at the end of the day, of every round), ``done`` and ``open`` (of those, done
    and not done: ``assigned = done + open``), ``completed`` (households their own visits
    completed that day, on anyone's list), ``newly_assigned`` and ``moved_away``."""
    rows = views.query(
        "SELECT day, given, moved_out, done, open_delta FROM staff_workload "
        "WHERE staff_id = ? ORDER BY day", (str(staff_id),))
    out, held, open_ = [], 0, 0
    for day, given, moved_out, done, open_delta in rows:
        held += int(given) - int(moved_out)
        open_ += int(open_delta)
        out.append({"day": day, "assigned": held, "done": held - open_, "open": open_,
                     "completed": int(done), "newly_assigned": int(given),
                     "moved_away": int(moved_out)})
    return out


def workload_on(views: ReadViews, day: date | str) -> dict[str, dict[str, int]]:
    """Every staff member's ``assigned``, ``done`` and ``open`` at the end of ``day``
    (``assigned = done + open``) and ``completed`` (by their visits that day)."""
    d = _iso(day)
    rows = views.query(
        "SELECT staff_id, SUM(given - moved_out) AS assigned, "
        "SUM(CASE WHEN day = ? THEN done ELSE 0 END) AS done_on, SUM(open_delta) AS open_ "
        "FROM staff_workload WHERE day <= ? GROUP BY staff_id ORDER BY staff_id", (d, d))
    return {s: {"assigned": int(a), "done": int(a) - int(o), "open": int(o),
                "completed": int(n)} for s, a, n, o in rows}


PROJECTIONS: list[Projection] = [StaffWorkload()]


@dataclass(frozen=True)
class WorkloadDay:
    """One day of ``workload``: end-of-day figures (``assigned = done + open``), and that
    day's changes (``completed`` by the member's visits, ``newly_assigned``, ``moved_away``)."""

    day: date
    assigned: int
    done: int
    open: int
    newly_assigned: int
    moved_away: int
    completed: int


def workloads(views: ReadViews, ids: Sequence[str]) -> dict[str, list[WorkloadDay]]:
    """``workload`` for many staff members, a statement per ``CHUNK`` (the API's loader)."""
    raw: dict[str, list[tuple[str, int, int, int, int]]] = {i: [] for i in ids}
    for part in chunks(ids):
        for sid, day, given, moved, done, delta in views.query(
                "SELECT staff_id, day, given, moved_out, done, open_delta FROM staff_workload "
                f"WHERE staff_id IN ({marks(len(part))}) ORDER BY staff_id, day", part):
            raw[sid].append((day, int(given), int(moved), int(done), int(delta)))
    out: dict[str, list[WorkloadDay]] = {}
    for sid, days in raw.items():
        held = open_ = 0
        out[sid] = []
        for day, given, moved, done, delta in days:
            held += given - moved
            open_ += delta
            out[sid].append(WorkloadDay(date.fromisoformat(day), held, held - open_, open_,
                                        given, moved, done))
    return out
