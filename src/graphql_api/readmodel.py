"""Batched reads of the read-model tables the API needs and ``projections`` has no query for
(the DataLoaders call these with many keys at once).

They read the grid rollup projection's tables (``gr_nodes``, ``grid_rollup``,
``gr_households``), the household timeline's ``ht_event`` and the sweep coverage's
``sc_campaign``/``sc_grid``: internal tables of those projections, so a change of their shape
must change these queries too (the API tests catch it). Rows carry ids, codes, counts and
statuses only: nothing personal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from projections.grid_rollup import COLS, counts_of

CHUNK = 500


@dataclass(frozen=True)
class NodeRow:
    code: str
    parent_code: str | None
    level: int
    name: str
    retired: bool


@dataclass(frozen=True)
class ResidentRow:
    resident_id: str
    health: str
    measure: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class HouseholdRow:
    household_id: str
    micro_grid: str
    residents: tuple[ResidentRow, ...]


@dataclass(frozen=True)
class TimelineRow:
    notification_id: int
    at: datetime
    kind: str
    label: str
    actor: str | None
    detail: str


def _chunks(keys: Sequence[str]) -> list[list[str]]:
    unique = sorted(set(keys))
    return [unique[i:i + CHUNK] for i in range(0, len(unique), CHUNK)]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def nodes(views: Any, codes: Sequence[str]) -> dict[str, NodeRow]:
    out: dict[str, NodeRow] = {}
    for part in _chunks(codes):
        for code, parent, level, name, retired in views.query(
                "SELECT code, parent_code, level, name, retired FROM gr_nodes "
                f"WHERE code IN ({_marks(len(part))})", part):
            out[code] = NodeRow(code, parent, int(level), name, bool(retired))
    return out


def children(views: Any, parents: Sequence[str]) -> dict[str, list[NodeRow]]:
    """The active children of each node, by code."""
    out: dict[str, list[NodeRow]] = {p: [] for p in parents}
    for part in _chunks(parents):
        for code, parent, level, name, retired in views.query(
                "SELECT code, parent_code, level, name, retired FROM gr_nodes "
                f"WHERE parent_code IN ({_marks(len(part))}) AND retired = 0 ORDER BY code",
                part):
            out[parent].append(NodeRow(code, parent, int(level), name, bool(retired)))
    return out


def chains(views: Any, codes: Sequence[str]) -> dict[str, list[str]]:
    """Each node's code followed by its ancestors' codes up to the root (as the tree is now);
    an unknown code has an empty chain."""
    out: dict[str, list[tuple[int, str]]] = {c: [] for c in codes}
    for part in _chunks(codes):
        for start, code, depth in views.query(
                "WITH RECURSIVE up(start, code, parent, depth) AS ("
                "SELECT code, code, parent_code, 0 FROM gr_nodes "
                f"WHERE code IN ({_marks(len(part))}) "
                "UNION ALL SELECT u.start, n.code, n.parent_code, u.depth + 1 FROM gr_nodes n "
                "JOIN up u ON n.code = u.parent WHERE u.depth < 16) "
                "SELECT start, code, depth FROM up", part):
            out[start].append((int(depth), code))
    return {c: [code for _, code in sorted(found)] for c, found in out.items()}


def rollups(views: Any, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The current counts of each node's subtree (all zero for a node with nothing yet)."""
    out: dict[str, dict[str, Any]] = {c: counts_of(()) for c in codes}
    for part in _chunks(codes):
        for row in views.query(f"SELECT code, {', '.join(COLS)} FROM grid_rollup "
                               f"WHERE code IN ({_marks(len(part))})", part):
            out[row[0]] = counts_of(row[1:])
    return out


def _household(hid: str, grid: str, packed: str | bytes) -> HouseholdRow:
    residents = tuple(ResidentRow(rid, health, measure, tuple(tags))
                      for rid, (health, measure, tags) in sorted(orjson.loads(packed).items()))
    return HouseholdRow(hid, grid, residents)


def households(views: Any, ids: Sequence[str]) -> dict[str, HouseholdRow]:
    out: dict[str, HouseholdRow] = {}
    for part in _chunks(ids):
        for hid, grid, packed in views.query(
                "SELECT household_id, micro_grid, residents FROM gr_households "
                f"WHERE household_id IN ({_marks(len(part))})", part):
            out[hid] = _household(hid, grid, packed)
    return out


@dataclass(frozen=True)
class ResidentFilter:
    """Households with at least one resident matching every given value (health, measure and
    tag, as stored: ``"confirmed"``, ``"home_quarantine"``, ``"close_contact"``)."""

    health: str | None = None
    measure: str | None = None
    tag: str | None = None

    @property
    def empty(self) -> bool:
        return self.health is None and self.measure is None and self.tag is None

    def matches(self, row: HouseholdRow) -> bool:
        return any((self.health is None or r.health == self.health)
                   and (self.measure is None or r.measure == self.measure)
                   and (self.tag is None or self.tag in r.tags) for r in row.residents)

    def sql(self) -> tuple[str, list[str]]:
        """A coarse SQL pre-filter on the packed JSON (never drops a match; ``matches`` is
        exact): every wanted value appears quoted in the row."""
        wanted = [v for v in (self.health, self.measure, self.tag) if v is not None]
        return "".join(" AND h.residents LIKE ?" for _ in wanted), [f'%"{v}"%' for v in wanted]


_SUBTREE = ("WITH RECURSIVE sub(code) AS (SELECT code FROM gr_nodes WHERE code = ? "
            "UNION ALL SELECT n.code FROM gr_nodes n JOIN sub s ON n.parent_code = s.code) ")


def households_under(views: Any, code: str, after: str | None, limit: int,
                     where: ResidentFilter | None = None) -> list[HouseholdRow]:
    """Up to ``limit`` households of the subtree of ``code`` (as the tree is now) matching
    ``where``, in id order, after the id ``after``."""
    where = where or ResidentFilter()
    extra, params = where.sql()
    out: list[HouseholdRow] = []
    cursor = after or ""
    chunk = limit if where.empty else max(limit * 4, 200)
    while len(out) < limit:
        rows = views.query(
            f"{_SUBTREE}SELECT h.household_id, h.micro_grid, h.residents FROM gr_households h "
            f"WHERE h.micro_grid IN (SELECT code FROM sub) AND h.household_id > ?{extra} "
            "ORDER BY h.household_id LIMIT ?", (code, cursor, *params, chunk))
        out.extend(h for h in (_household(*r) for r in rows) if where.matches(h))
        if len(rows) < chunk:
            break
        cursor = rows[-1][0]
    return out[:limit]


def count_under(views: Any, code: str, where: ResidentFilter) -> int:
    """How many households of the subtree of ``code`` match ``where`` (a scan of the
    subtree's pre-filtered rows)."""
    extra, params = where.sql()
    rows = views.query(
        f"{_SUBTREE}SELECT h.household_id, h.micro_grid, h.residents FROM gr_households h "
        f"WHERE h.micro_grid IN (SELECT code FROM sub){extra}", (code, *params))
    return sum(1 for r in rows if where.matches(_household(*r)))


def timelines(views: Any, ids: Sequence[str]) -> dict[str, list[TimelineRow]]:
    out: dict[str, list[TimelineRow]] = {h: [] for h in ids}
    for part in _chunks(ids):
        for hid, nid, at, kind, label, actor, detail in views.query(
                "SELECT household_id, notification_id, timestamp, kind, label, actor, detail "
                f"FROM ht_event WHERE household_id IN ({_marks(len(part))}) "
                "ORDER BY household_id, notification_id", part):
            out[hid].append(TimelineRow(int(nid), datetime.fromisoformat(at), kind, label,
                                        actor, detail))
    return out


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: str
    scope: str
    round_no: int
    name: str
    starts: datetime
    ends: datetime
    closed_at: datetime | None


def campaigns_touching(views: Any, code: str, chain: Sequence[str]) -> list[CampaignRow]:
    """Sweep campaigns whose scope holds households of the subtree of ``code``: scoped at the
    node, at one of its ancestors (``chain``) or inside its subtree; by launch time."""
    marks = _marks(len(chain)) if chain else "NULL"
    rows = views.query(
        "WITH RECURSIVE sub(code) AS (SELECT ? UNION SELECT g.code FROM sc_grid g "
        "JOIN sub ON g.parent_code = sub.code) "
        "SELECT campaign_id, scope, round_no, name, starts, ends, closed_at FROM sc_campaign "
        f"WHERE scope IN ({marks}) OR scope IN (SELECT code FROM sub) "
        "ORDER BY launched_at, campaign_id", (code, *chain))
    return [CampaignRow(c, s, int(r), n, datetime.fromisoformat(st), datetime.fromisoformat(en),
                        datetime.fromisoformat(cl) if cl else None)
            for c, s, r, n, st, en, cl in rows]
