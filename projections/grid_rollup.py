"""Grid rollup: per grid node (city, district, street, community, micro-grid), the counts of its
whole subtree: households, residents, staff, and residents by health, by measure and by tag.

Counts are kept per node for the node's own subtree, so a rollup is one row. Each change is
added at the node where it happens and at every ancestor; a node that moves takes its
subtree's counts from its old ancestors to its new ones. Every change is also added to
``grid_rollup_history`` under its node and its event's time (one row per node and instant:
what changed at that instant; the time-travel queries sum the rows up to a time).

Its own small state tables (never personal data, only ids and statuses): nodes and parents,
each household's micro-grid with its residents' health/measure/tags, declared vulnerabilities
and birth year (one row per household), each staff member's jurisdiction.

``gr_vulnerable`` answers "which households are vulnerable in this way" from an index: one row
per household and vulnerability with the first year it holds (0 for a declared one; the year a
member turns 65 for 65+ and, in a one-person household, living alone), so the rule of
``gridcore.household.derived_vulnerabilities`` for any year is ``since <= year``.

A batch loads the rows it needs once, folds in memory (sparse deltas: (column, change) pairs),
then writes with ``executemany``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from gridcore.grid import GridNode, Level
from gridcore.household import Household
from gridcore.staff import StaffMember
from gridcore.status import Health, Measure, TagKind
from projections.base import Notified, Projection, ViewCursor
from projections.vulnerable import Fresh, fresh_member, vulnerable_since

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
Delta = list[tuple[int, int]]
"""A sparse change: (column index, amount) pairs; an index may appear more than once."""


def zeros() -> Vec:
    return [0] * WIDTH


_MICROS: dict[datetime, int] = {}


def micros(when: datetime) -> int:
    """An instant as microseconds since the epoch (how history rows store time). Events of
    one command share their time: the last few thousand conversions are remembered."""
    found = _MICROS.get(when)
    if found is None:
        if len(_MICROS) > 4096:
            _MICROS.clear()
        found = _MICROS[when] = _micros(when)
    return found


def _micros(when: datetime) -> int:
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
    __slots__ = ("born", "declared", "health", "household", "measure", "tags")

    def __init__(self, household: str, health: str, measure: str, tags: set[str],
                 declared: set[str] | None = None, born: int | None = None) -> None:
        self.household, self.health, self.measure, self.tags = household, health, measure, tags
        self.declared, self.born = declared or set(), born

    def vector(self, sign: int = 1) -> Delta:
        d = [(RESIDENTS, sign), (IDX[f"health_{self.health}"], sign),
             (IDX[f"measure_{self.measure}"], sign)]
        d.extend((IDX[f"tag_{t}"], sign) for t in self.tags)
        return d

    def packed(self) -> list[Any]:
        return [self.health, self.measure, sorted(self.tags), sorted(self.declared), self.born]


_NORMAL, _NONE = Health.NORMAL.value, Measure.NONE.value
def _new_resident(household: str, fresh: Fresh) -> _Resident:
    return _Resident(household, _NORMAL, _NONE, set(), set(fresh[1]), fresh[2])


HOUSEHOLDS, RESIDENTS, STAFF = IDX["households"], IDX["residents"], IDX["staff"]
NEW_RESIDENT = [(RESIDENTS, 1), (IDX[f"health_{Health.NORMAL.value}"], 1),
                (IDX[f"measure_{Measure.NONE.value}"], 1)]


class GridRollup(Projection):
    name = "grid_rollup"
    follows = (
        GridNode.Established, GridNode.Moved, GridNode.Retired, GridNode.Renamed,
        Household.Registered, Household.Moved, Household.MemberAdded, Household.MemberRemoved,
        Household.HealthChanged, Household.MeasureChanged, Household.Tagged, Household.Untagged,
        Household.VulnerabilityMarked, StaffMember.Enrolled, StaffMember.JurisdictionChanged,
    )
    version = 2  # 2: vulnerabilities and birth years in gr_households, gr_vulnerable
    tables = ("grid_rollup", "grid_rollup_history", "gr_nodes", "gr_households", "gr_staff",
              "gr_vulnerable")
    ddl = (
        f"CREATE TABLE IF NOT EXISTS grid_rollup (code TEXT PRIMARY KEY, {_COLS_DDL})",
        f"CREATE TABLE IF NOT EXISTS grid_rollup_history (code TEXT NOT NULL, "
        f"at BIGINT NOT NULL, {_COLS_DDL}, PRIMARY KEY (code, at))",
        "CREATE TABLE IF NOT EXISTS gr_nodes (code TEXT PRIMARY KEY, node_id TEXT NOT NULL, "
        "parent_code TEXT, level BIGINT NOT NULL, name TEXT NOT NULL, retired BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS gr_nodes_parent ON gr_nodes (parent_code)",
        "CREATE TABLE IF NOT EXISTS gr_households (household_id TEXT PRIMARY KEY, "
        "micro_grid TEXT NOT NULL, residents TEXT NOT NULL)",
        # the households of a subtree, a page at a time (the API's households connection)
        "CREATE INDEX IF NOT EXISTS gr_households_grid ON gr_households (micro_grid, "
        "household_id)",
        "CREATE TABLE IF NOT EXISTS gr_staff (staff_id TEXT PRIMARY KEY, "
        "jurisdiction TEXT NOT NULL)",
        # the staff of a subtree (the staff board, each household's grid workers)
        "CREATE INDEX IF NOT EXISTS gr_staff_jurisdiction ON gr_staff (jurisdiction, staff_id)",
        # a vulnerability's households a page at a time, in id order (the households filter)
        "CREATE TABLE IF NOT EXISTS gr_vulnerable (kind TEXT NOT NULL, household_id TEXT NOT "
        "NULL, since BIGINT NOT NULL, PRIMARY KEY (kind, household_id))",
        "CREATE INDEX IF NOT EXISTS gr_vulnerable_household ON gr_vulnerable (household_id)",
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
        self.households: dict[str, str] = {}  # household id -> micro-grid
        self.members: dict[str, dict[str, _Resident]] = {}  # household id -> its residents
        self.fresh: dict[str, list[Fresh]] = {}  # registered in this batch, unchanged since
        self.dirty_households: set[str] = set()
        self.registered: set[str] = set()  # registered in this batch: no stored rows yet
        self.dirty_vulnerable: set[str] = set()
        self.staff: dict[str, str] = {}
        self.dirty_staff: set[str] = set()
        self.base: dict[str, Vec] = {}
        self.pending: dict[str, Vec] = {}
        self.history: dict[tuple[str, int], Vec] = {}
        self.chains: dict[str, list[str]] = {}
        self.leaves: dict[tuple[str, int], Vec] = {}
        """Changes at a node and instant not yet carried up its chain (see ``add``)."""

    # ---- loading -------------------------------------------------------------------------

    def load(self, events: Sequence[Notified]) -> None:
        cur = self.cur
        cur.execute("SELECT code, node_id, parent_code, level, name, retired FROM gr_nodes")
        self.nodes = {c: [i, p, lv, n, r] for c, i, p, lv, n, r in cur.fetchall()}
        self.codes = {row[0]: c for c, row in self.nodes.items()}
        self.codes.update({str(e.originator_id): e.code for _, e in events
                           if isinstance(e, GridNode.Established)})
        # Registrations create their rows; only later events need a household's stored row.
        hids = {str(e.originator_id) for _, e in events if isinstance(e, _LATER_EVENTS)}
        sids = {str(e.originator_id) for _, e in events
                if isinstance(e, StaffMember.JurisdictionChanged)}
        moved = {self._code_of(e) for _, e in events if isinstance(e, GridNode.Moved)}
        for hid, grid, packed in (select_in(
                cur, "SELECT household_id, micro_grid, residents FROM gr_households "
                     "WHERE household_id IN ({})", hids) if hids else []):
            self.households[hid] = grid
            self.members[hid] = {rid: _unpacked(hid, r)
                                 for rid, r in orjson.loads(packed).items()}
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
        found = self.chains.get(code)
        if found is not None:
            return found
        out, seen = [], set()
        node: str | None = code
        while node is not None and node not in seen:
            out.append(node)
            seen.add(node)
            row = self.nodes.get(node)
            node = row[1] if row else None
        self.chains[code] = out
        return out

    def add(self, code: str, delta: Delta, at: int, only: Iterable[str] | None = None) -> None:
        """Add ``delta`` at ``code`` and its ancestors (or at the nodes ``only``). Changes up
        the whole chain are summed per node and instant first and carried up by ``carry``
        before the tree changes and before writing: a bulk import adds thousands of
        households to the same few micro-grids at one instant."""
        if only is None:
            v = self.leaves.get((code, at))
            if v is None:
                v = self.leaves[(code, at)] = zeros()
            for i, x in delta:
                v[i] += x
            return
        self._add(only, delta, at)

    def carry(self) -> None:
        leaves, self.leaves = self.leaves, {}
        for (code, at), v in leaves.items():
            self._add(self.chain(code), [(i, x) for i, x in enumerate(v) if x], at)

    def _add(self, codes: Iterable[str], delta: Delta, at: int) -> None:
        pending, history = self.pending, self.history
        for c in codes:
            p = pending.get(c)
            if p is None:
                p = pending[c] = zeros()
            h = history.get((c, at))
            if h is None:
                h = history[(c, at)] = zeros()
            for i, x in delta:
                p[i] += x
                h[i] += x

    def run(self, events: Sequence[Notified]) -> None:
        self.load(events)
        for nid, e in events:
            self.fold(nid, e)
        self.carry()
        self.write()

    def fold(self, nid: int, e: Any) -> None:
        at = micros(e.timestamp)
        if isinstance(e, Household.Registered):
            self.fold_registered(at, e)
            return
        if isinstance(e, GridNode.Established | GridNode.Moved):
            self.carry()  # the tree changes: what was added so far goes up the old chains
        if isinstance(e, GridNode.Established):
            self.nodes[e.code] = [str(e.originator_id), e.parent_code, int(e.level), e.name, 0]
            self.chains.clear()
            self.dirty_nodes.add(e.code)
            self.pending.setdefault(e.code, zeros())
        elif isinstance(e, GridNode.Moved | GridNode.Retired | GridNode.Renamed):
            self.fold_node(at, e)
        elif isinstance(e, StaffMember.Enrolled | StaffMember.JurisdictionChanged):
            self.fold_staff(at, e)
        else:
            self.fold_household(at, e)

    def fold_node(self, at: int, e: Any) -> None:
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
            self.chains.clear()
            new = self.chain(code)[1:]
            self.add(code, [(i, -x) for i, x in enumerate(subtree) if x], at, only=old)
            self.add(code, [(i, x) for i, x in enumerate(subtree) if x], at, only=new)

    def fold_staff(self, at: int, e: Any) -> None:
        sid = str(e.originator_id)
        old = self.staff.get(sid)
        if old is not None:
            self.add(old, [(STAFF, -1)], at)
        self.staff[sid] = e.jurisdiction
        self.dirty_staff.add(sid)
        self.add(e.jurisdiction, [(STAFF, 1)], at)

    def fold_registered(self, at: int, e: Any) -> None:
        hid = str(e.originator_id)
        self.households[hid] = e.micro_grid
        self.dirty_households.add(hid)
        self.fresh[hid] = [fresh_member(m) for m in e.members]
        self.registered.add(hid)
        self.dirty_vulnerable.add(hid)
        self.members.pop(hid, None)
        n = len(e.members)
        self.add(e.micro_grid, [(HOUSEHOLDS, 1), *((i, n) for i, _ in NEW_RESIDENT)], at)

    def fold_household(self, at: int, e: Any) -> None:
        hid = str(e.originator_id)
        grid = self.households.get(hid)
        if grid is None:
            return
        fresh = self.fresh.pop(hid, None)
        if fresh is not None:
            self.members[hid] = {f[0]: _new_resident(hid, f) for f in fresh}
        members = self.members.setdefault(hid, {})
        self.dirty_households.add(hid)
        if isinstance(e, Household.MemberAdded | Household.MemberRemoved
                      | Household.VulnerabilityMarked):
            self.dirty_vulnerable.add(hid)
        if isinstance(e, Household.Moved):
            if e.micro_grid != grid:
                delta: Delta = [(HOUSEHOLDS, 1)]
                for r in members.values():
                    delta += r.vector()
                self.add(grid, [(i, -x) for i, x in delta], at)
                self.add(e.micro_grid, delta, at)
                self.households[hid] = e.micro_grid
            return
        if isinstance(e, Household.MemberAdded):
            r = members[str(e.member.resident_id)] = _new_resident(hid, fresh_member(e.member))
            self.add(grid, r.vector(), at)
            return
        rid = str(e.resident_id)
        r = members.get(rid)
        if r is None:
            return
        if isinstance(e, Household.VulnerabilityMarked):  # no count changes
            (r.declared.add if e.present else r.declared.discard)(e.vulnerability.value)
            return
        before = r.vector(-1)
        if isinstance(e, Household.MemberRemoved):
            del members[rid]
            self.add(grid, before, at)
            return
        if isinstance(e, Household.HealthChanged):
            r.health = e.health.value
        elif isinstance(e, Household.MeasureChanged):
            r.measure = e.measure.value
        elif isinstance(e, Household.Tagged):
            r.tags.add(e.tag.kind.value)
        elif isinstance(e, Household.Untagged):
            r.tags.discard(e.kind.value)
        self.add(grid, before + r.vector(), at)

    # ---- writing -------------------------------------------------------------------------

    def _packed(self, hid: str) -> str:
        fresh = self.fresh.get(hid)
        if fresh is not None:  # the common case of a bulk import: every member as new
            return orjson.dumps({rid: (_NORMAL, _NONE, (), declared, born)
                                 for rid, declared, born in sorted(fresh)}).decode()
        return orjson.dumps({rid: r.packed()
                             for rid, r in sorted(self.members.get(hid, {}).items())}).decode()

    def _vulnerable(self, hid: str) -> dict[str, int]:
        fresh = self.fresh.get(hid)
        if fresh is not None:
            return vulnerable_since((declared, born) for _, declared, born in fresh)
        return vulnerable_since((r.declared, r.born) for r in self.members.get(hid, {}).values())

    def write(self) -> None:
        cur = self.cur
        cur.executemany(
            "INSERT INTO gr_nodes (code, node_id, parent_code, level, name, retired) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
            "parent_code = excluded.parent_code, "
            "level = excluded.level, name = excluded.name, retired = excluded.retired",
            [(c, *self.nodes[c]) for c in sorted(self.dirty_nodes)])
        cur.executemany(
            "INSERT INTO gr_households (household_id, micro_grid, residents) VALUES (?, ?, ?) "
            "ON CONFLICT (household_id) DO UPDATE SET micro_grid = excluded.micro_grid, "
            "residents = excluded.residents",
            [(h, self.households[h], self._packed(h)) for h in sorted(self.dirty_households)])
        changed = sorted(self.dirty_vulnerable)
        cur.executemany("DELETE FROM gr_vulnerable WHERE household_id = ?",
                        [(h,) for h in changed if h not in self.registered])
        cur.executemany("INSERT INTO gr_vulnerable (kind, household_id, since) VALUES (?, ?, ?)",
                        [(kind, h, since) for h in changed
                         for kind, since in sorted(self._vulnerable(h).items())])
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
        # One row per node and instant, whatever the batches were (a rebuild writes the same).
        history_adds = ", ".join(f"{c} = grid_rollup_history.{c} + excluded.{c}" for c in COLS)
        cur.executemany(
            f"INSERT INTO grid_rollup_history (code, at, {_COLS_SQL}) VALUES (?, {marks}) "
            f"ON CONFLICT (code, at) DO UPDATE SET {history_adds}",
            [(c, at, *v) for (c, at), v in sorted(self.history.items())])


_LATER_EVENTS = (
    Household.Moved, Household.MemberAdded, Household.MemberRemoved,
    Household.HealthChanged, Household.MeasureChanged, Household.Tagged, Household.Untagged,
    Household.VulnerabilityMarked,
)


def _unpacked(hid: str, packed: Sequence[Any]) -> _Resident:
    """A stored resident: [health, measure, tags, declared vulnerabilities, birth year]."""
    health, measure, tags, declared, born = packed
    return _Resident(hid, health, measure, set(tags), set(declared), born)


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
