"""Time travel: a household's status (its residents' health, measure and tags, and its
micro-grid) and a grid node's rollup, as they were at a past time.

``household_status_history`` is an append-only log of each household's changes with the
event's time (who joined or left, each health/measure change, each tag added or removed, each
move); ``household_status_at`` folds it up to a time. ``rollup_at`` sums the rollup deltas that
the grid rollup projection writes to ``grid_rollup_history``. Only ids and statuses are kept:
nothing personal.

Changes are read in log order among those whose event time is at or before ``when``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.household import Household
from projections.base import LeanEvent, Notified, Projection, ReadViews, ViewCursor, handles
from projections.grid_rollup import COLS, counts_of, micros

JOINED, LEFT, HEALTH, MEASURE, TAG_ADDED, TAG_REMOVED, GRID, REGISTERED = (
    "joined", "left", "health", "measure", "tag+", "tag-", "grid", "registered")
"""A registration is one row: ``value`` is the micro-grid, ``|``, the comma-joined ids of the
members (a bulk import writes one row per household, not one per resident)."""


H = Household


class HouseholdStatusHistory(Projection):
    name = "household_status_history"
    tables = ("household_status_history",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS household_status_history (household_id TEXT NOT NULL, "
        "seq BIGINT NOT NULL, part BIGINT NOT NULL, at BIGINT NOT NULL, "
        "resident_id TEXT NOT NULL, change TEXT NOT NULL, value TEXT NOT NULL, "
        "PRIMARY KEY (household_id, seq, part))",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> list[tuple[Any, ...]]:
        return []

    def end(self, cur: ViewCursor, rows: list[tuple[Any, ...]]) -> None:
        cur.insert("household_status_history",
                   "household_id, seq, part, at, resident_id, change, value", rows)

    # Every event is one change (part 0) of its household.

    @handles(H.Registered)
    def registered(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        members = ",".join([str(m.resident_id) for m in e.members])
        rows.append((str(e.originator_id), nid, 0, micros(e.timestamp), "", REGISTERED,
                     f"{e.micro_grid}|{members}"))

    @handles(H.Moved)
    def moved(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        rows.append((str(e.originator_id), nid, 0, micros(e.timestamp), "", GRID, e.micro_grid))

    @handles(H.MemberAdded)
    def member_added(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        rows.append((str(e.originator_id), nid, 0, micros(e.timestamp),
                     str(e.member.resident_id), JOINED, ""))

    @handles(H.MemberRemoved)
    def member_removed(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        _change(rows, nid, e, LEFT, "")

    @handles(H.HealthChanged)
    def health_changed(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        _change(rows, nid, e, HEALTH, e.health.value)

    @handles(H.MeasureChanged)
    def measure_changed(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        _change(rows, nid, e, MEASURE, e.measure.value)

    @handles(H.Tagged)
    def tagged(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        _change(rows, nid, e, TAG_ADDED, e.tag.kind.value)

    @handles(H.Untagged)
    def untagged(self, rows: Rows, nid: int, e: LeanEvent) -> None:
        _change(rows, nid, e, TAG_REMOVED, e.kind.value)


Rows = list[tuple[Any, ...]]


def _change(rows: Rows, nid: int, e: LeanEvent, change: str, value: str) -> None:
    """A change of one resident (the event's ``resident_id``)."""
    rows.append((str(e.originator_id), nid, 0, micros(e.timestamp), str(e.resident_id), change,
                 value))


# ---- queries -------------------------------------------------------------------------------

def household_status_at(views: ReadViews, household_id: UUID | str,
                        when: datetime) -> dict[str, Any] | None:
    """The household at ``when``: its micro-grid and each current member's health, measure
    and sorted tags (None when it was not registered yet)."""
    rows = views.query(
        "SELECT resident_id, change, value FROM household_status_history "
        "WHERE household_id = ? AND at <= ? ORDER BY seq, part",
        (str(household_id), micros(when)))
    if not rows:
        return None
    grid: str | None = None
    residents: dict[str, dict[str, Any]] = {}
    for rid, change, value in rows:
        if change == REGISTERED:
            grid, _, members = value.partition("|")
            for joined in filter(None, members.split(",")):
                residents[joined] = {"health": "normal", "measure": "none", "tags": set()}
        elif change == GRID:
            grid = value
        elif change == JOINED:
            residents[rid] = {"health": "normal", "measure": "none", "tags": set()}
        elif change == LEFT:
            residents.pop(rid, None)
        elif rid in residents:
            r = residents[rid]
            if change == HEALTH:
                r["health"] = value
            elif change == MEASURE:
                r["measure"] = value
            elif change == TAG_ADDED:
                r["tags"].add(value)
            elif change == TAG_REMOVED:
                r["tags"].discard(value)
    return {"household_id": str(household_id), "micro_grid": grid,
            "residents": {rid: {**r, "tags": sorted(r["tags"])}
                          for rid, r in sorted(residents.items())}}


def rollup_at(views: ReadViews, code: str, when: datetime) -> dict[str, Any]:
    """The counts of the subtree of ``code`` as they were at ``when`` (the grid rollup
    projection's history; all zero before the node had anything)."""
    sums = ", ".join(f"SUM({c}) AS {c}" for c in COLS)  # named: PG rows are dicts
    rows = views.query(f"SELECT {sums} FROM grid_rollup_history WHERE code = ? AND at <= ?",
                       (code, micros(when)))
    return {"code": code, **counts_of(rows[0] if rows else ())}


PROJECTIONS: list[Projection] = [HouseholdStatusHistory()]
