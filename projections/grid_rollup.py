"""Grid rollup: per grid node (city, district, street, community, micro-grid), the counts of its
whole subtree: households, residents, staff, and residents by health, by measure and by tag.

Counts are kept per node for the node's own subtree, so a rollup is one row. Each change is
added at the node where it happens and at every ancestor; a node that moves takes its
subtree's counts from its old ancestors to its new ones. Staff are the exception: a member
counts once at every node whose subtree holds any node of their jurisdiction (a grid worker of
three zones: once at each zone, once at their community), so theirs are recounted per member
when their jurisdiction or a node above it moves. Every change is also added to
``grid_rollup_history`` under its node and its event's time (one row per node and instant:
what changed at that instant; the time-travel queries sum the rows up to a time).

Its own small state tables (never personal data, only ids and statuses): nodes and parents,
each household's micro-grid with its residents' health/measure/tags, declared vulnerabilities
and birth year (one row per household), each staff member's jurisdiction (its first node,
and every node in ``gr_staff_nodes``).

``gr_vulnerable`` answers "which households are vulnerable in this way" from an index: one row
per household and vulnerability with the first year it holds (0 for a declared one; the year a
member turns 65 for 65+ and, in a one-person household, living alone), so the rule of
``gridcore.household.derived_vulnerabilities`` for any year is ``since <= year``.

A batch loads the rows it needs once (``begin``), folds each event in memory with its
class's handler (sparse deltas: (column, change) pairs),
then writes with ``executemany``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from gridcore.grid import GridNode, Level
from gridcore.household import Household, Vulnerability, derived_vulnerabilities
from gridcore.staff import StaffMember
from gridcore.status import Health, Measure, TagKind
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.support import Under, chunks, marks, roots, subtree_cte
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
              chunk: int = 500) -> list[Row]:
    """Rows of ``sql`` (ending in ``IN ({})``) for many keys, in chunks."""
    keys = sorted(set(keys))
    out: list[Row] = []
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
    version = 3  # 2: vulnerabilities and birth years in gr_households, gr_vulnerable;
    # 3: gr_staff_nodes, a member counted at each node of their jurisdiction
    tables = ("grid_rollup", "grid_rollup_history", "gr_nodes", "gr_households", "gr_staff",
              "gr_staff_nodes", "gr_vulnerable")
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
        "CREATE INDEX IF NOT EXISTS gr_staff_jurisdiction ON gr_staff (jurisdiction, staff_id)",
        # every node of each member's jurisdiction: the staff of a subtree (the staff board)
        "CREATE TABLE IF NOT EXISTS gr_staff_nodes (code TEXT NOT NULL, staff_id TEXT NOT NULL, "
        "PRIMARY KEY (code, staff_id))",
        "CREATE INDEX IF NOT EXISTS gr_staff_nodes_staff ON gr_staff_nodes (staff_id)",
        # a vulnerability's households a page at a time, in id order (the households filter)
        "CREATE TABLE IF NOT EXISTS gr_vulnerable (kind TEXT NOT NULL, household_id TEXT NOT "
        "NULL, since BIGINT NOT NULL, PRIMARY KEY (kind, household_id))",
        "CREATE INDEX IF NOT EXISTS gr_vulnerable_household ON gr_vulnerable (household_id)",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Batch:
        b = _Batch(cur)
        b.load(events)
        return b

    def end(self, cur: ViewCursor, b: _Batch) -> None:
        b.carry()
        b.write()

    # ---- the tree ----------------------------------------------------------------------

    @handles(GridNode.Established)
    def node_established(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        b.carry()  # the tree changes: what was added so far goes up the old chains
        b.nodes[e.code] = [str(e.originator_id), e.parent_code, int(e.level), e.name, 0]
        b.chains.clear()
        b.dirty_nodes.add(e.code)
        b.pending.setdefault(e.code, zeros())

    @handles(GridNode.Moved)
    def node_moved(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        b.carry()  # the tree changes: what was added so far goes up the old chains
        code = b._code_of(e)
        row = b.nodes.get(code)
        if row is None:
            return
        b.dirty_nodes.add(code)
        at = micros(e.timestamp)
        subtree = list(b.base.get(code, zeros()))
        for i, x in enumerate(b.pending.get(code, ())):
            subtree[i] += x
        subtree[STAFF] = 0  # not additive over nodes: recounted from the members below
        under = [s for s, nodes in b.staff.items() if any(code in b.chain(n) for n in nodes)]
        staff_before = {s: b.reach(b.staff[s]) for s in under}
        old = b.chain(code)[1:]
        row[1] = e.parent_code
        b.chains.clear()
        new = b.chain(code)[1:]
        b.add(code, [(i, -x) for i, x in enumerate(subtree) if x], at, only=old)
        b.add(code, [(i, x) for i, x in enumerate(subtree) if x], at, only=new)
        for s in under:
            b.recount(staff_before[s], b.reach(b.staff[s]), at)

    @handles(GridNode.Retired)
    def node_retired(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        row = b.node(e)
        if row is not None:
            row[4] = 1

    @handles(GridNode.Renamed)
    def node_renamed(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        row = b.node(e)
        if row is not None:
            row[3] = e.name

    # ---- staff -------------------------------------------------------------------------

    @handles(StaffMember.Enrolled, StaffMember.JurisdictionChanged)
    def staff(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        # A member counts once at every node holding any of their nodes (a grid worker's
        # zones, and once at the community above them).
        sid = str(e.originator_id)
        before = b.reach(b.staff.get(sid, ()))
        b.staff[sid] = tuple(dict.fromkeys(e.jurisdictions))
        b.dirty_staff.add(sid)
        b.recount(before, b.reach(b.staff[sid]), micros(e.timestamp))

    # ---- households --------------------------------------------------------------------

    @handles(Household.Registered)
    def registered(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        b.households[hid] = e.micro_grid
        b.dirty_households.add(hid)
        b.fresh[hid] = [fresh_member(m) for m in e.members]
        b.registered.add(hid)
        b.dirty_vulnerable.add(hid)
        b.members.pop(hid, None)
        n = len(e.members)
        b.add(e.micro_grid, [(HOUSEHOLDS, 1), *((i, n) for i, _ in NEW_RESIDENT)],
              micros(e.timestamp))

    @handles(Household.Moved)
    def household_moved(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.household(e)
        if found is None:
            return
        grid, members = found
        if e.micro_grid != grid:
            at = micros(e.timestamp)
            delta: Delta = [(HOUSEHOLDS, 1)]
            for r in members.values():
                delta += r.vector()
            b.add(grid, [(i, -x) for i, x in delta], at)
            b.add(e.micro_grid, delta, at)
            b.households[str(e.originator_id)] = e.micro_grid

    @handles(Household.MemberAdded)
    def member_added(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.household(e, vulnerable=True)
        if found is None:
            return
        grid, members = found
        hid = str(e.originator_id)
        r = members[str(e.member.resident_id)] = _new_resident(hid, fresh_member(e.member))
        b.add(grid, r.vector(), micros(e.timestamp))

    @handles(Household.VulnerabilityMarked)
    def vulnerability_marked(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.resident(e, vulnerable=True)
        if found is not None:  # no count changes
            r = found[1]
            (r.declared.add if e.present else r.declared.discard)(e.vulnerability.value)

    @handles(Household.MemberRemoved)
    def member_removed(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.resident(e, vulnerable=True)
        if found is not None:
            grid, r = found
            del b.members[str(e.originator_id)][str(e.resident_id)]
            b.add(grid, r.vector(-1), micros(e.timestamp))

    @handles(Household.HealthChanged)
    def health_changed(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.resident(e)
        if found is not None:
            grid, r = found
            before = r.vector(-1)
            r.health = e.health.value
            b.add(grid, before + r.vector(), micros(e.timestamp))

    @handles(Household.MeasureChanged)
    def measure_changed(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.resident(e)
        if found is not None:
            grid, r = found
            before = r.vector(-1)
            r.measure = e.measure.value
            b.add(grid, before + r.vector(), micros(e.timestamp))

    @handles(Household.Tagged)
    def tagged(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.resident(e)
        if found is not None:
            grid, r = found
            before = r.vector(-1)
            r.tags.add(e.tag.kind.value)
            b.add(grid, before + r.vector(), micros(e.timestamp))

    @handles(Household.Untagged)
    def untagged(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        found = b.resident(e)
        if found is not None:
            grid, r = found
            before = r.vector(-1)
            r.tags.discard(e.kind.value)
            b.add(grid, before + r.vector(), micros(e.timestamp))


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
        self.staff: dict[str, tuple[str, ...]] = {}  # staff id -> their nodes, home first
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
                           if type(e) is GridNode.Established})
        # Registrations create their rows; only later events need a household's stored row.
        hids = {str(e.originator_id) for _, e in events if type(e) in _LATER_EVENTS}
        sids = {str(e.originator_id) for _, e in events
                if type(e) is StaffMember.JurisdictionChanged}
        moved = {self._code_of(e) for _, e in events if type(e) is GridNode.Moved}
        for hid, grid, packed in (select_in(
                cur, "SELECT household_id, micro_grid, residents FROM gr_households "
                     "WHERE household_id IN ({})", hids) if hids else []):
            self.households[hid] = grid
            self.members[hid] = {rid: _unpacked(hid, r)
                                 for rid, r in orjson.loads(packed).items()}
        if moved:  # a moved node takes along the members of its subtree: every member
            cur.execute("SELECT staff_id FROM gr_staff")
            sids = {s for (s,) in cur.fetchall()}
        self.staff = {s: (home,) for s, home in select_in(
            cur, "SELECT staff_id, jurisdiction FROM gr_staff WHERE staff_id IN ({})", sids)}
        for s, code in sorted(select_in(
                cur, "SELECT staff_id, code FROM gr_staff_nodes WHERE staff_id IN ({})", sids)):
            if s in self.staff and code not in self.staff[s]:
                self.staff[s] += (code,)
        if moved:
            for row in select_in(cur, f"SELECT code, {_COLS_SQL} FROM grid_rollup "
                                      "WHERE code IN ({})", moved):
                self.base[row[0]] = list(row[1:])

    def _code_of(self, e: LeanEvent) -> str:
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

    def reach(self, nodes: Iterable[str]) -> set[str]:
        """The nodes whose subtree holds any of ``nodes``: where one member counts, once."""
        return {c for n in nodes for c in self.chain(n)}

    def recount(self, before: set[str], after: set[str], at: int) -> None:
        """A member counted at the nodes ``after`` instead of ``before``."""
        self._add(sorted(before - after), [(STAFF, -1)], at)
        self._add(sorted(after - before), [(STAFF, 1)], at)

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

    def node(self, e: LeanEvent) -> list[Any] | None:
        """The row of the node of a later grid event (its code kept with its id), marked to
        be written (None for a node unknown here)."""
        code = self._code_of(e)
        row = self.nodes.get(code)
        if row is not None:
            self.dirty_nodes.add(code)
        return row

    def household(self, e: LeanEvent, vulnerable: bool = False
                  ) -> tuple[str, dict[str, _Resident]] | None:
        """The micro-grid and residents of the household of a later event, marked to be
        written (and its vulnerabilities to be derived again when ``vulnerable``); None for a
        household unknown here."""
        hid = str(e.originator_id)
        grid = self.households.get(hid)
        if grid is None:
            return None
        fresh = self.fresh.pop(hid, None)
        if fresh is not None:
            self.members[hid] = {f[0]: _new_resident(hid, f) for f in fresh}
        self.dirty_households.add(hid)
        if vulnerable:
            self.dirty_vulnerable.add(hid)
        return grid, self.members.setdefault(hid, {})

    def resident(self, e: LeanEvent, vulnerable: bool = False) -> tuple[str, _Resident] | None:
        """The micro-grid and the resident (``resident_id``) of a later household event."""
        found = self.household(e, vulnerable)
        if found is None:
            return None
        r = found[1].get(str(e.resident_id))
        return None if r is None else (found[0], r)

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
        # (one row per key: they come from sets and dicts, as ``insert`` needs)
        cur.upsert(
            "gr_households", "household_id, micro_grid, residents",
            [(h, self.households[h], self._packed(h)) for h in sorted(self.dirty_households)],
            "ON CONFLICT (household_id) DO UPDATE SET micro_grid = excluded.micro_grid, "
            "residents = excluded.residents", self.registered)
        changed = sorted(self.dirty_vulnerable)
        cur.executemany("DELETE FROM gr_vulnerable WHERE household_id = ?",
                        [(h,) for h in changed if h not in self.registered])
        cur.insert("gr_vulnerable", "kind, household_id, since",
                   [(kind, h, since) for h in changed
                    for kind, since in sorted(self._vulnerable(h).items())])
        staff = sorted(self.dirty_staff)
        cur.executemany(
            "INSERT INTO gr_staff (staff_id, jurisdiction) VALUES (?, ?) "
            "ON CONFLICT (staff_id) DO UPDATE SET jurisdiction = excluded.jurisdiction",
            [(s, self.staff[s][0]) for s in staff])
        cur.executemany("DELETE FROM gr_staff_nodes WHERE staff_id = ?", [(s,) for s in staff])
        cur.executemany("INSERT INTO gr_staff_nodes (code, staff_id) VALUES (?, ?)",
                        [(c, s) for s in staff for c in self.staff[s]])
        adds = ", ".join(f"{c} = grid_rollup.{c} + excluded.{c}" for c in COLS)
        cur.insert("grid_rollup", f"code, {_COLS_SQL}",
                   [(c, *v) for c, v in sorted(self.pending.items())],
                   f"ON CONFLICT (code) DO UPDATE SET {adds}")
        # One row per node and instant, whatever the batches were (a rebuild writes the same).
        history_adds = ", ".join(f"{c} = grid_rollup_history.{c} + excluded.{c}" for c in COLS)
        cur.insert("grid_rollup_history", f"code, at, {_COLS_SQL}",
                   [(c, at, *v) for (c, at), v in sorted(self.history.items())],
                   f"ON CONFLICT (code, at) DO UPDATE SET {history_adds}")


_LATER_EVENTS = frozenset((
    Household.Moved, Household.MemberAdded, Household.MemberRemoved,
    Household.HealthChanged, Household.MeasureChanged, Household.Tagged, Household.Untagged,
    Household.VulnerabilityMarked,
))


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


def _node_dict(row: Row) -> dict[str, Any]:
    """A row of ``_SELECT``: the node's columns, then its counts."""
    code, parent, level, name, retired = row[:5]
    counts = row[5:]
    lv = Level(int(level))
    return {"code": code, "name": name, "parent_code": parent, "level": lv.name.lower(),
            "level_label": lv.label, "retired": bool(retired), **counts_of(counts)}


_SELECT = (f"SELECT n.code, n.parent_code, n.level, n.name, n.retired, "
           f"{', '.join(f'r.{c}' for c in COLS)} FROM gr_nodes n "
           f"LEFT JOIN grid_rollup r ON r.code = n.code")


def rollup(views: ReadViews, code: str) -> dict[str, Any] | None:
    """The counts of the subtree of ``code`` (None for an unknown node)."""
    rows = views.query(f"{_SELECT} WHERE n.code = ?", (code,))
    if not rows:
        return None
    return _node_dict(rows[0])


def children_rollups(views: ReadViews, code: str, include_retired: bool = False
                     ) -> list[dict[str, Any]]:
    """The rollups of the node's children (active ones unless ``include_retired``), by code."""
    rows = views.query(f"{_SELECT} WHERE n.parent_code = ? ORDER BY n.code", (code,))
    return [_node_dict(r) for r in rows if include_retired or not r[4]]


# ---- the API's batched reads (its DataLoaders ask for many keys at once: one statement per
# ---- CHUNK keys) -----------------------------------------------------------------------------

SUBTREE = subtree_cte("gr_nodes", parent="parent_code")
"""``sub(code)``: the node ``?`` and every node under it, as the tree is now: the tree every
jurisdiction check and every board's scope reads (``projections.queries``)."""


def subtree(under: Under) -> tuple[str, list[str]]:
    """``SUBTREE`` of the nodes ``under`` names (one, or each of a jurisdiction's several:
    every node under any of them, once) and its parameters, to begin a query's own."""
    codes = roots(under)
    return subtree_cte("gr_nodes", len(codes), "parent_code"), codes


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
    declared: tuple[str, ...] = ()
    """Vulnerabilities marked for the resident (not the ones derived from age or size)."""
    born: int | None = None


@dataclass(frozen=True)
class HouseholdRow:
    household_id: str
    micro_grid: str
    residents: tuple[ResidentRow, ...]

    def vulnerabilities_of(self, r: ResidentRow, today: date) -> list[str]:
        """A resident's vulnerabilities on ``today``: marked or derived (65+, lives alone)."""
        found = derived_vulnerabilities(r.born, {Vulnerability(v) for v in r.declared},
                                        len(self.residents), today)
        return [v.value for v in Vulnerability if v in found]

    def vulnerabilities(self, today: date) -> list[str]:
        """Every vulnerability of any of its residents on ``today``, in declaration order."""
        found = {v for r in self.residents for v in self.vulnerabilities_of(r, today)}
        return [v.value for v in Vulnerability if v.value in found]


HOUSEHOLD_COLUMNS = "h.household_id, h.micro_grid, h.residents"
"""A ``gr_households h`` row as ``household_row`` reads it."""


def household_row(hid: str, grid: str, packed: str | bytes) -> HouseholdRow:
    """A stored household (its residents packed as JSON, see ``_Resident.packed``)."""
    residents = tuple(ResidentRow(rid, health, measure, tuple(tags), tuple(declared), born)
                      for rid, (health, measure, tags, declared, born)
                      in sorted(orjson.loads(packed).items()))
    return HouseholdRow(hid, grid, residents)


def cities(views: ReadViews) -> list[str]:
    """The codes of the active roots of the grid (a deployment's cities), in order."""
    return [str(r[0]) for r in views.query(
        "SELECT code FROM gr_nodes WHERE parent_code IS NULL AND retired = 0 ORDER BY code")]


def nodes(views: ReadViews, codes: Sequence[str]) -> dict[str, NodeRow]:
    out: dict[str, NodeRow] = {}
    for part in chunks(codes):
        for code, parent, level, name, retired in views.query(
                "SELECT code, parent_code, level, name, retired FROM gr_nodes "
                f"WHERE code IN ({marks(len(part))})", part):
            out[code] = NodeRow(code, parent, int(level), name, bool(retired))
    return out


def children(views: ReadViews, parents: Sequence[str]) -> dict[str, list[NodeRow]]:
    """The active children of each node, by code."""
    out: dict[str, list[NodeRow]] = {p: [] for p in parents}
    for part in chunks(parents):
        for code, parent, level, name, retired in views.query(
                "SELECT code, parent_code, level, name, retired FROM gr_nodes "
                f"WHERE parent_code IN ({marks(len(part))}) AND retired = 0 ORDER BY code",
                part):
            out[parent].append(NodeRow(code, parent, int(level), name, bool(retired)))
    return out


def chains(views: ReadViews, codes: Sequence[str]) -> dict[str, list[str]]:
    """Each node's code followed by its ancestors' codes up to the root (as the tree is now);
    an unknown code has an empty chain."""
    out: dict[str, list[tuple[int, str]]] = {c: [] for c in codes}
    for part in chunks(codes):
        for start, code, depth in views.query(
                "WITH RECURSIVE up(start, code, parent, depth) AS ("
                "SELECT code, code, parent_code, 0 FROM gr_nodes "
                f"WHERE code IN ({marks(len(part))}) "
                "UNION ALL SELECT u.start, n.code, n.parent_code, u.depth + 1 FROM gr_nodes n "
                "JOIN up u ON n.code = u.parent WHERE u.depth < 16) "
                "SELECT start, code, depth FROM up", part):
            out[start].append((int(depth), code))
    return {c: [code for _, code in sorted(found)] for c, found in out.items()}


def rollups(views: ReadViews, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The current counts of each node's subtree (all zero for a node with nothing yet)."""
    out: dict[str, dict[str, Any]] = {c: counts_of(()) for c in codes}
    for part in chunks(codes):
        for row in views.query(f"SELECT code, {_COLS_SQL} FROM grid_rollup "
                               f"WHERE code IN ({marks(len(part))})", part):
            out[row[0]] = counts_of(row[1:])
    return out


def subtree_households(views: ReadViews, under: Under) -> int | None:
    """How many households the subtree of ``under`` (one node, or each of several, none
    inside another) holds now (None when no node has a rollup row: unknown, or known to no
    event that counts yet)."""
    codes = roots(under)
    rows = views.query(f"SELECT households FROM grid_rollup WHERE code IN ({marks(len(codes))})",
                       codes) if codes else []
    return sum(int(n or 0) for (n,) in rows) if rows else None


def subtree_codes(views: ReadViews, under: Under) -> list[str]:
    """The codes of the node (or nodes) and every node under it, each once (empty for an
    unknown node)."""
    sql, params = subtree(under)
    return [c for (c,) in views.query(f"{sql}SELECT code FROM sub", params)]


def households(views: ReadViews, ids: Sequence[str]) -> dict[str, HouseholdRow]:
    out: dict[str, HouseholdRow] = {}
    for part in chunks(ids):
        for hid, grid, packed in views.query(
                f"SELECT {HOUSEHOLD_COLUMNS} FROM gr_households h "
                f"WHERE h.household_id IN ({marks(len(part))})", part):
            out[hid] = household_row(hid, grid, packed)
    return out


def staff_under(views: ReadViews, under: Under, limit: int = 500) -> list[tuple[str, str]]:
    """(staff id, first node of their jurisdiction) of the staff with any node of their
    jurisdiction in the subtree of ``under`` (one node, or each of several), each once, by
    id."""
    sql, params = subtree(under)
    return [(s, j) for s, j in views.query(
        f"{sql}SELECT g.staff_id, g.jurisdiction FROM gr_staff g WHERE g.staff_id IN "
        "(SELECT n.staff_id FROM gr_staff_nodes n WHERE n.code IN (SELECT code FROM sub)) "
        "ORDER BY g.staff_id LIMIT ?", (*params, limit))]


def staff_jurisdictions(views: ReadViews, ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in chunks(ids):
        out.update(views.query("SELECT staff_id, jurisdiction FROM gr_staff "
                               f"WHERE staff_id IN ({marks(len(part))})", part))
    return out


PROJECTIONS: list[Projection] = [GridRollup()]
