"""Grid rollup: per grid node (city, district, street, community, micro-grid), the counts of its
whole subtree: households, residents, staff, and residents by health, by measure and by tag.

Counts are kept per node for the node's own subtree, so a rollup is one row. Each change is
added at the node where it happens and at every ancestor; a node that moves takes its
subtree's counts from its old ancestors to its new ones. Every change is also written to
``grid_rollup_history`` with its event's time (the time-travel queries sum it).

Its own small state tables (never personal data, only ids and statuses): nodes and parents,
each household's micro-grid, each resident's health/measure/tags, each staff member's
jurisdiction. A batch loads the rows it needs once, folds in memory, then writes with
``executemany``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from gridcore.grid import GridNode, Level
from gridcore.household import Household
from gridcore.staff import StaffMember
from gridcore.status import Health, Measure, TagKind
from projections.base import Notified, Projection, ViewCursor

COUNTS = ("households", "residents", "staff")
HEALTH_COLS = tuple(f"health_{h.value}" for h in Health)
MEASURE_COLS = tuple(f"measure_{m.value}" for m in Measure)
TAG_COLS = tuple(f"tag_{t.value}" for t in TagKind)
COLS = COUNTS + HEALTH_COLS + MEASURE_COLS + TAG_COLS
IDX = {c: i for i, c in enumerate(COLS)}
WIDTH = len(COLS)
_COLS_SQL = ", ".join(COLS)
_COLS_DDL = ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in COLS)

Vec = list[int]


def zeros() -> Vec:
    return [0] * WIDTH


def micros(when: datetime) -> int:
    """An instant as microseconds since the epoch (how history rows store time)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def select_in(cur: ViewCursor, sql: str, keys: Iterable[str],
              chunk: int = 500) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (ending in ``IN ({})``) for many keys, in chunks."""
    keys = sorted(set(keys))
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(keys), chunk):
        part = keys[i:i + chunk]
        cur.execute(sql.format(", ".join("?" * len(part))), part)
        out.extend(cur.fetchall())
    return out


class _Resident:
    __slots__ = ("health", "household", "measure", "tags")

    def __init__(self, household: str, health: str, measure: str, tags: set[str]) -> None:
        self.household, self.health, self.measure, self.tags = household, health, measure, tags

    def vector(self, sign: int = 1) -> Vec:
        v = zeros()
        v[IDX["residents"]] = sign
        v[IDX[f"health_{self.health}"]] += sign
        v[IDX[f"measure_{self.measure}"]] += sign
        for t in self.tags:
            v[IDX[f"tag_{t}"]] += sign
        return v


def _new_resident(household: str) -> _Resident:
    return _Resident(household, Health.NORMAL.value, Measure.NONE.value, set())


class GridRollup(Projection):
    name = "grid_rollup"
    follows = (
        GridNode.Established, GridNode.Moved, GridNode.Retired, GridNode.Renamed,
        Household.Registered, Household.Moved, Household.MemberAdded, Household.MemberRemoved,
        Household.HealthChanged, Household.MeasureChanged, Household.Tagged, Household.Untagged,
        StaffMember.Enrolled, StaffMember.JurisdictionChanged,
    )
    tables = ("grid_rollup", "grid_rollup_history", "gr_nodes", "gr_households",
              "gr_residents", "gr_staff")
    ddl = (
        f"CREATE TABLE IF NOT EXISTS grid_rollup (code TEXT PRIMARY KEY, {_COLS_DDL})",
        f"CREATE TABLE IF NOT EXISTS grid_rollup_history (code TEXT NOT NULL, "
        f"seq BIGINT NOT NULL, at BIGINT NOT NULL, {_COLS_DDL}, PRIMARY KEY (code, seq))",
        "CREATE TABLE IF NOT EXISTS gr_nodes (code TEXT PRIMARY KEY, node_id TEXT NOT NULL, "
        "parent_code TEXT, level BIGINT NOT NULL, name TEXT NOT NULL, retired BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS gr_nodes_parent ON gr_nodes (parent_code)",
        "CREATE TABLE IF NOT EXISTS gr_households (household_id TEXT PRIMARY KEY, "
        "micro_grid TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS gr_residents (resident_id TEXT PRIMARY KEY, "
        "household_id TEXT NOT NULL, health TEXT NOT NULL, measure TEXT NOT NULL, "
        "tags TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS gr_residents_household ON gr_residents (household_id)",
        "CREATE TABLE IF NOT EXISTS gr_staff (staff_id TEXT PRIMARY KEY, "
        "jurisdiction TEXT NOT NULL)",
    )

    def apply(self, cur: ViewCursor, events: Sequence[Notified]) -> None:
        _Batch(cur).run(events)


class _Batch:
    """One batch: load the state it touches, fold the events in order, write once."""

    def __init__(self, cur: ViewCursor) -> None:
        self.cur = cur
        self.nodes: dict[str, list[Any]] = {}  # code -> [node_id, parent, level, name, retired]
        self.codes: dict[str, str] = {}  # node id -> code
        self.dirty_nodes: set[str] = set()
        self.households: dict[str, str] = {}
        self.dirty_households: set[str] = set()
        self.residents: dict[str, _Resident] = {}
        self.dirty_residents: set[str] = set()
        self.gone_residents: set[str] = set()
        self.staff: dict[str, str] = {}
        self.dirty_staff: set[str] = set()
        self.base: dict[str, Vec] = {}
        self.pending: dict[str, Vec] = {}
        self.history: dict[tuple[str, int], tuple[int, Vec]] = {}

    # ---- loading -------------------------------------------------------------------------

    def load(self, events: Sequence[Notified]) -> None:
        cur = self.cur
        cur.execute("SELECT code, node_id, parent_code, level, name, retired FROM gr_nodes")
        self.nodes = {c: [i, p, lv, n, r] for c, i, p, lv, n, r in cur.fetchall()}
        self.codes = {row[0]: c for c, row in self.nodes.items()}
        self.codes.update({str(e.originator_id): e.code for _, e in events
                           if isinstance(e, GridNode.Established)})
        hids = {str(e.originator_id) for _, e in events if isinstance(e, _HOUSEHOLD_EVENTS)}
        sids = {str(e.originator_id) for _, e in events
                if isinstance(e, StaffMember.JurisdictionChanged)}
        moved = {self._code_of(e) for _, e in events if isinstance(e, GridNode.Moved)}
        self.households = dict(select_in(
            cur, "SELECT household_id, micro_grid FROM gr_households WHERE household_id IN ({})",
            hids)) if hids else {}
        for rid, hid, health, measure, tags in (select_in(
                cur, "SELECT resident_id, household_id, health, measure, tags FROM gr_residents "
                     "WHERE household_id IN ({})", hids) if hids else []):
            self.residents[rid] = _Resident(hid, health, measure,
                                            set(tags.split(",")) if tags else set())
        self.staff = dict(select_in(
            cur, "SELECT staff_id, jurisdiction FROM gr_staff WHERE staff_id IN ({})",
            sids)) if sids else {}
        if moved:
            for row in select_in(cur, f"SELECT code, {_COLS_SQL} FROM grid_rollup "
                                      "WHERE code IN ({})", moved):
                self.base[row[0]] = list(row[1:])

    def _code_of(self, e: Any) -> str:
        # A node's later events carry only its id; its code is kept with it in gr_nodes.
        return self.codes.get(str(e.originator_id), "")

    # ---- folding -------------------------------------------------------------------------

    def chain(self, code: str) -> list[str]:
        out, seen = [], set()
        node: str | None = code
        while node is not None and node not in seen:
            out.append(node)
            seen.add(node)
            row = self.nodes.get(node)
            node = row[1] if row else None
        return out

    def add(self, code: str, vec: Vec, nid: int, at: int, only: Iterable[str] | None = None
            ) -> None:
        for c in (self.chain(code) if only is None else only):
            p = self.pending.setdefault(c, zeros())
            _, h = self.history.setdefault((c, nid), (at, zeros()))
            for i, x in enumerate(vec):
                if x:
                    p[i] += x
                    h[i] += x

    def run(self, events: Sequence[Notified]) -> None:
        self.load(events)
        for nid, e in events:
            self.fold(nid, e)
        self.write()

    def fold(self, nid: int, e: Any) -> None:
        at = micros(e.timestamp)
        if isinstance(e, GridNode.Established):
            self.nodes[e.code] = [str(e.originator_id), e.parent_code, int(e.level), e.name, 0]
            self.dirty_nodes.add(e.code)
            self.pending.setdefault(e.code, zeros())
        elif isinstance(e, GridNode.Moved | GridNode.Retired | GridNode.Renamed):
            self.fold_node(nid, at, e)
        elif isinstance(e, StaffMember.Enrolled | StaffMember.JurisdictionChanged):
            self.fold_staff(nid, at, e)
        else:
            self.fold_household(nid, at, e)

    def fold_node(self, nid: int, at: int, e: Any) -> None:
        code = self._code_of(e)
        row = self.nodes.get(code)
        if row is None:
            return
        self.dirty_nodes.add(code)
        if isinstance(e, GridNode.Retired):
            row[4] = 1
        elif isinstance(e, GridNode.Renamed):
            row[3] = e.name
        else:
            subtree = list(self.base.get(code, zeros()))
            for i, x in enumerate(self.pending.get(code, ())):
                subtree[i] += x
            old = self.chain(code)[1:]
            row[1] = e.parent_code
            new = self.chain(code)[1:]
            self.add(code, [-x for x in subtree], nid, at, only=old)
            self.add(code, subtree, nid, at, only=new)

    def fold_staff(self, nid: int, at: int, e: Any) -> None:
        sid = str(e.originator_id)
        one = zeros()
        one[IDX["staff"]] = 1
        old = self.staff.get(sid)
        if old is not None:
            self.add(old, [-x for x in one], nid, at)
        self.staff[sid] = e.jurisdiction
        self.dirty_staff.add(sid)
        self.add(e.jurisdiction, one, nid, at)

    def fold_household(self, nid: int, at: int, e: Any) -> None:
        hid = str(e.originator_id)
        if isinstance(e, Household.Registered):
            self.households[hid] = e.micro_grid
            self.dirty_households.add(hid)
            vec = zeros()
            vec[IDX["households"]] = 1
            for m in e.members:
                r = self._join(str(m.resident_id), hid)
                vec = _plus(vec, r.vector())
            self.add(e.micro_grid, vec, nid, at)
            return
        grid = self.households.get(hid)
        if grid is None:
            return
        if isinstance(e, Household.Moved):
            if e.micro_grid != grid:
                vec = zeros()
                vec[IDX["households"]] = 1
                for r in self.residents.values():
                    if r.household == hid:
                        vec = _plus(vec, r.vector())
                self.add(grid, [-x for x in vec], nid, at)
                self.add(e.micro_grid, vec, nid, at)
                self.households[hid] = e.micro_grid
                self.dirty_households.add(hid)
            return
        if isinstance(e, Household.MemberAdded):
            self.add(grid, self._join(str(e.member.resident_id), hid).vector(), nid, at)
            return
        rid = str(e.resident_id)
        r = self.residents.get(rid)
        if r is None:
            return
        before = r.vector(-1)
        if isinstance(e, Household.MemberRemoved):
            del self.residents[rid]
            self.dirty_residents.discard(rid)
            self.gone_residents.add(rid)
            self.add(grid, before, nid, at)
            return
        if isinstance(e, Household.HealthChanged):
            r.health = e.health.value
        elif isinstance(e, Household.MeasureChanged):
            r.measure = e.measure.value
        elif isinstance(e, Household.Tagged):
            r.tags.add(e.tag.kind.value)
        elif isinstance(e, Household.Untagged):
            r.tags.discard(e.kind.value)
        self.dirty_residents.add(rid)
        self.add(grid, _plus(before, r.vector()), nid, at)

    def _join(self, rid: str, hid: str) -> _Resident:
        r = self.residents[rid] = _new_resident(hid)
        self.dirty_residents.add(rid)
        self.gone_residents.discard(rid)
        return r

    # ---- writing -------------------------------------------------------------------------

    def write(self) -> None:
        cur = self.cur
        cur.executemany(
            "INSERT INTO gr_nodes (code, node_id, parent_code, level, name, retired) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
            "parent_code = excluded.parent_code, "
            "level = excluded.level, name = excluded.name, retired = excluded.retired",
            [(c, *self.nodes[c]) for c in sorted(self.dirty_nodes)])
        cur.executemany(
            "INSERT INTO gr_households (household_id, micro_grid) VALUES (?, ?) "
            "ON CONFLICT (household_id) DO UPDATE SET micro_grid = excluded.micro_grid",
            [(h, self.households[h]) for h in sorted(self.dirty_households)])
        cur.executemany("DELETE FROM gr_residents WHERE resident_id = ?",
                        [(r,) for r in sorted(self.gone_residents)])
        cur.executemany(
            "INSERT INTO gr_residents (resident_id, household_id, health, measure, tags) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (resident_id) DO UPDATE SET "
            "household_id = excluded.household_id, health = excluded.health, "
            "measure = excluded.measure, tags = excluded.tags",
            [(rid, r.household, r.health, r.measure, ",".join(sorted(r.tags)))
             for rid in sorted(self.dirty_residents) for r in [self.residents[rid]]])
        cur.executemany(
            "INSERT INTO gr_staff (staff_id, jurisdiction) VALUES (?, ?) "
            "ON CONFLICT (staff_id) DO UPDATE SET jurisdiction = excluded.jurisdiction",
            [(s, self.staff[s]) for s in sorted(self.dirty_staff)])
        marks = ", ".join("?" * (WIDTH + 1))
        adds = ", ".join(f"{c} = grid_rollup.{c} + excluded.{c}" for c in COLS)
        cur.executemany(
            f"INSERT INTO grid_rollup (code, {_COLS_SQL}) VALUES ({marks}) "
            f"ON CONFLICT (code) DO UPDATE SET {adds}",
            [(c, *v) for c, v in sorted(self.pending.items())])
        cur.executemany(
            f"INSERT INTO grid_rollup_history (code, seq, at, {_COLS_SQL}) "
            f"VALUES (?, ?, {marks})",
            [(c, nid, at, *v) for (c, nid), (at, v) in sorted(self.history.items()) if any(v)])


def _plus(a: Vec, b: Vec) -> Vec:
    return [x + y for x, y in zip(a, b, strict=True)]


_HOUSEHOLD_EVENTS = (
    Household.Registered, Household.Moved, Household.MemberAdded, Household.MemberRemoved,
    Household.HealthChanged, Household.MeasureChanged, Household.Tagged, Household.Untagged,
)


# ---- queries -------------------------------------------------------------------------------

def counts_of(row: Sequence[Any]) -> dict[str, Any]:
    """A counts dict from the ``COLS`` values of one row (in ``COLS`` order)."""
    v = [int(x or 0) for x in row] + [0] * (WIDTH - len(row))
    return {
        "households": v[IDX["households"]],
        "residents": v[IDX["residents"]],
        "staff": v[IDX["staff"]],
        "by_health": {h.value: v[IDX[f"health_{h.value}"]] for h in Health},
        "by_measure": {m.value: v[IDX[f"measure_{m.value}"]] for m in Measure},
        "by_tag": {t.value: v[IDX[f"tag_{t.value}"]] for t in TagKind},
    }


def _node_dict(code: str, parent: str | None, level: int, name: str, retired: int,
               counts: Sequence[Any]) -> dict[str, Any]:
    lv = Level(int(level))
    return {"code": code, "name": name, "parent_code": parent, "level": lv.name.lower(),
            "level_label": lv.label, "retired": bool(retired), **counts_of(counts)}


_SELECT = (f"SELECT n.code, n.parent_code, n.level, n.name, n.retired, "
           f"{', '.join(f'r.{c}' for c in COLS)} FROM gr_nodes n "
           f"LEFT JOIN grid_rollup r ON r.code = n.code")


def rollup(views: Any, code: str) -> dict[str, Any] | None:
    """The counts of the subtree of ``code`` (None for an unknown node)."""
    rows = views.query(f"{_SELECT} WHERE n.code = ?", (code,))
    if not rows:
        return None
    return _node_dict(*rows[0][:5], rows[0][5:])


def children_rollups(views: Any, code: str, include_retired: bool = False
                     ) -> list[dict[str, Any]]:
    """The rollups of the node's children (active ones unless ``include_retired``), by code."""
    rows = views.query(f"{_SELECT} WHERE n.parent_code = ? ORDER BY n.code", (code,))
    return [_node_dict(*r[:5], r[5:]) for r in rows if include_retired or not r[4]]


PROJECTIONS: list[Projection] = [GridRollup()]
