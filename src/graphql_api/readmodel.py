"""Batched reads of the read-model tables the API needs and ``projections`` has no query for
(the DataLoaders call these with many keys at once).

They read the grid rollup projection's tables (``gr_nodes``, ``grid_rollup``,
``gr_households``, ``gr_vulnerable``), the household timeline's ``ht_event`` and the sweep
coverage's ``sc_campaign``/``sc_grid``/``sc_target``: internal tables of those projections, so a
change of their shape must change these queries too (the API tests catch it). Rows carry ids,
codes, counts, statuses and birth years only: nothing personal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from gridcore.household import Vulnerability, derived_vulnerabilities
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
    residents = tuple(ResidentRow(rid, health, measure, tuple(tags), tuple(declared), born)
                      for rid, (health, measure, tags, declared, born)
                      in sorted(orjson.loads(packed).items()))
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
class HouseholdFilter:
    """Which households a page holds: those with one resident matching every given health,
    measure and tag (as stored: ``"confirmed"``, ``"home_quarantine"``, ``"close_contact"``);
    with any of ``vulnerabilities`` in ``year`` (this year when None); and among the
    households of sweep ``campaign``, covered or not yet covered by it when ``covered`` is
    given."""

    health: str | None = None
    measure: str | None = None
    tag: str | None = None
    vulnerabilities: tuple[str, ...] = ()
    year: int | None = None
    campaign: str | None = None
    covered: bool | None = None

    @property
    def empty(self) -> bool:
        return self.resident_empty and not self.vulnerabilities and self.campaign is None

    @property
    def resident_empty(self) -> bool:
        return self.health is None and self.measure is None and self.tag is None

    def matches(self, row: HouseholdRow) -> bool:
        """The resident conditions (the others are exact in SQL)."""
        return self.resident_empty or any(
            (self.health is None or r.health == self.health)
            and (self.measure is None or r.measure == self.measure)
            and (self.tag is None or self.tag in r.tags) for r in row.residents)

    def resident_sql(self) -> tuple[str, list[Any]]:
        """A coarse SQL pre-filter on the packed JSON (never drops a match; ``matches`` is
        exact): every wanted value appears quoted in the row."""
        wanted = [v for v in (self.health, self.measure, self.tag) if v is not None]
        return "".join(" AND h.residents LIKE ?" for _ in wanted), [f'%"{v}"%' for v in wanted]

    @property
    def the_year(self) -> int:
        return self.year if self.year is not None else datetime.now(UTC).year

    # The checks of a row ``h`` are scalar subqueries, looked up by the row's id in an index:
    # as semi-joins, PostgreSQL would rather hash a whole table than probe a subtree's rows.

    def vulnerable_sql(self) -> tuple[str, list[Any]]:
        if not self.vulnerabilities:
            return "", []
        return (" AND (SELECT MIN(v.since) FROM gr_vulnerable v WHERE v.household_id = "
                f"h.household_id AND v.kind IN ({_marks(len(self.vulnerabilities))})) <= ?",
                [*self.vulnerabilities, self.the_year])

    def campaign_sql(self) -> tuple[str, list[Any]]:
        if self.campaign is None:
            return "", []
        test = "IS NOT NULL" if self.covered is None else "= ?"
        return (" AND (SELECT t.covered FROM sc_target t WHERE t.campaign_id = ? AND "
                f"t.household_id = h.household_id) {test}",
                [self.campaign, *([] if self.covered is None else [int(self.covered)])])



_SUBTREE = ("WITH RECURSIVE sub(code) AS (SELECT code FROM gr_nodes WHERE code = ? "
            "UNION ALL SELECT n.code FROM gr_nodes n JOIN sub s ON n.parent_code = s.code) ")
_COLUMNS = "h.household_id, h.micro_grid, h.residents"
_AFTER = object()
"""Where a query's parameters take the id the page starts after."""
_INSIDE = " AND h.micro_grid || '' IN (SELECT code FROM sub)"
"""The subtree as a check on rows walked in id order (the ``|| ''`` keeps the planner from
walking the micro-grid index instead, which needs every row of the subtree sorted)."""
SMALL_SUBTREE = 20_000
"""Households up to which a subtree's rows are all read and sorted for a page (cheaper than
walking an index in id order past the households of the rest of the city)."""
MAX_CODES = 5_000
MAX_CHUNK = 20_000
Query = tuple[str, list[Any]]
Scope = list[str] | None
"""A small subtree's node codes (named in its queries, so that either database's planner
reads the subtree through the micro-grid index), or None for a large subtree."""


def _scope(views: Any, code: str) -> Scope:
    rows = views.query("SELECT households FROM grid_rollup WHERE code = ?", (code,))
    if rows and int(rows[0][0] or 0) > SMALL_SUBTREE:
        return None
    codes = [c for (c,) in views.query(f"{_SUBTREE}SELECT code FROM sub", (code,))]
    return codes if len(codes) <= MAX_CODES else None


def _conditions(where: HouseholdFilter, *parts: str) -> Query:
    sql, params = "", []
    for part in parts:
        extra, more = getattr(where, f"{part}_sql")()
        sql += extra
        params += more
    return sql, params


def _pages(code: str, where: HouseholdFilter, scope: Scope) -> list[Query]:
    """The page queries (then ``LIMIT ?`` to add), whose pages merged are the page. A small
    subtree: its rows through the micro-grid index, checked and sorted. A large one: one
    index walked in household id order, checking the rest on the rows walked: the
    campaign's households (by coverage) when a campaign is given, else each vulnerability's
    households, else all households (only resident conditions: the subtree's rows, which no
    index narrows)."""
    if scope is not None:
        extra, params = _conditions(where, "resident", "vulnerable", "campaign")
        return [(f"SELECT {_COLUMNS} FROM gr_households h WHERE h.micro_grid IN "
                 f"({_marks(len(scope))}) AND h.household_id > ?{extra} "
                 "ORDER BY h.household_id LIMIT ?", [*scope, _AFTER, *params])]
    if where.campaign is not None:
        covered = "" if where.covered is None else " AND t.covered = ?"
        extra, params = _conditions(where, "resident", "vulnerable")
        return [(f"{_SUBTREE}SELECT {_COLUMNS} FROM sc_target t JOIN gr_households h ON "
                 f"h.household_id = t.household_id WHERE t.campaign_id = ?{covered} "
                 f"AND t.household_id > ?{_INSIDE}{extra} ORDER BY t.household_id LIMIT ?",
                 [code, where.campaign, *([] if where.covered is None else [int(where.covered)]),
                  _AFTER, *params])]
    extra, params = _conditions(where, "resident")
    if where.vulnerabilities:
        return [(f"{_SUBTREE}SELECT {_COLUMNS} FROM gr_vulnerable v JOIN gr_households h ON "
                 "h.household_id = v.household_id WHERE v.kind = ? AND v.household_id > ? "
                 f"AND v.since <= ?{_INSIDE}{extra} ORDER BY v.household_id LIMIT ?",
                 [code, kind, _AFTER, where.the_year, *params])
                for kind in sorted(set(where.vulnerabilities))]
    if not where.resident_empty:
        return [(f"{_SUBTREE}SELECT {_COLUMNS} FROM sub CROSS JOIN gr_households h WHERE "
                 f"h.micro_grid = sub.code AND h.household_id > ?{extra} "
                 "ORDER BY h.household_id LIMIT ?", [code, _AFTER, *params])]
    return [(f"{_SUBTREE}SELECT {_COLUMNS} FROM gr_households h WHERE h.household_id > ?"
             f"{_INSIDE} ORDER BY h.household_id LIMIT ?", [code, _AFTER])]


def _walk(views: Any, query: Query, after: str, limit: int,
          where: HouseholdFilter) -> list[HouseholdRow]:
    """Up to ``limit`` rows of one query after ``after``, checking ``matches`` (the rows
    the coarse pre-filter lets through are read a chunk at a time)."""
    sql, params = query
    out: list[HouseholdRow] = []
    cursor = after
    chunk = limit if where.resident_empty else max(limit * 4, 200)
    while len(out) < limit:
        rows = views.query(sql, [cursor if p is _AFTER else p for p in params] + [chunk])
        out.extend(h for h in (_household(*r) for r in rows) if where.matches(h))
        if len(rows) < chunk:
            break
        cursor = rows[-1][0]
        chunk = min(chunk * 2, MAX_CHUNK)  # a rare match: fewer, longer reads
    return out[:limit]


def households_under(views: Any, code: str, after: str | None, limit: int,
                     where: HouseholdFilter | None = None) -> list[HouseholdRow]:
    """Up to ``limit`` households of the subtree of ``code`` (as the tree is now) matching
    ``where``, in id order, after the id ``after``."""
    where = where or HouseholdFilter()
    scope = _scope(views, code)
    if scope == [] or limit <= 0:  # an unknown node
        return []
    found: dict[str, HouseholdRow] = {}
    for query in _pages(code, where, scope):
        for row in _walk(views, query, after or "", limit, where):
            found[row.household_id] = row
    return [found[h] for h in sorted(found)[:limit]]


def _counts(code: str, where: HouseholdFilter, scope: Scope) -> Query:
    """The rows to count (as ``_pages``: a small subtree's rows, else the campaign's or the
    vulnerabilities' households in the subtree, else the subtree's rows)."""
    if scope is not None:
        extra, params = _conditions(where, "resident", "vulnerable", "campaign")
        return (f"SELECT {{}} FROM gr_households h WHERE h.micro_grid IN "
                f"({_marks(len(scope))}){extra}", [*scope, *params])
    if where.campaign is not None:
        covered = "" if where.covered is None else " AND t.covered = ?"
        extra, params = _conditions(where, "resident", "vulnerable")
        return (f"{_SUBTREE}SELECT {{}} FROM sc_target t JOIN gr_households h ON "
                f"h.household_id = t.household_id WHERE t.campaign_id = ?{covered}"
                f"{_INSIDE}{extra}",
                [code, where.campaign, *([] if where.covered is None else [int(where.covered)]),
                 *params])
    extra, params = _conditions(where, "resident")
    if where.vulnerabilities:
        kinds = sorted(set(where.vulnerabilities))
        return (f"{_SUBTREE}SELECT {{}} FROM gr_households h WHERE h.household_id IN (SELECT "
                f"v.household_id FROM gr_vulnerable v WHERE v.kind IN ({_marks(len(kinds))}) "
                f"AND v.since <= ?){_INSIDE}{extra}", [code, *kinds, where.the_year, *params])
    return (f"{_SUBTREE}SELECT {{}} FROM sub CROSS JOIN gr_households h WHERE "
            f"h.micro_grid = sub.code{extra}", [code, *params])


def count_under(views: Any, code: str, where: HouseholdFilter) -> int:
    """How many households of the subtree of ``code`` match ``where`` (read as a page is)."""
    scope = _scope(views, code)
    if scope == []:
        return 0
    sql, params = _counts(code, where, scope)
    if where.resident_empty:
        [(n,)] = views.query(sql.format("COUNT(*)"), params)
        return int(n)
    rows = views.query(sql.format(_COLUMNS), params)
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
