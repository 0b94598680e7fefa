"""Reads that combine several read models' tables: the households, referrals, sites,
deliveries, enterprises, alerts and checkpoints of a jurisdiction (the subtree of a node of
the grid rollup's tree, ``gr_nodes``: the same tree ``graphql_api.scope`` checks; or of each
of several nodes, none inside another, as one board: ``support.Under``), the households
filters that join the sweep coverage's targets, the open items (待办) of many nodes, and the
place a watched item lies at.

A read of one read model's own tables lives in that read model's module (its rows and typed
query functions: ``grid_rollup.nodes``, ``household_timeline.timelines``,
``referral_pipeline.referral_by_id``, ...); a read that joins another's lives here, so every
SQL statement the API runs is in ``projections`` next to the tables it reads, and a change of
a table's shape is a change of this package only. Rows carry ids, codes, counts, states and
birth years: nothing personal.

Every batched read takes many keys and runs one statement per ``support.CHUNK`` keys (the
API's DataLoaders call them once per batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gridcore.alerts import AlertState
from gridcore.delivery import DeliveryState
from gridcore.referral import ENDED
from gridcore.requests import AWAITING
from projections.alerts_board import AlertEscalationRow, CheckpointRow
from projections.base import ReadViews
from projections.delivery_board import DeliveryRow, delivery_row
from projections.enterprise_board import EnterpriseRow
from projections.grid_rollup import (
    HOUSEHOLD_COLUMNS,
    HouseholdRow,
    household_row,
    subtree,
    subtree_codes,
    subtree_households,
)
from projections.referral_pipeline import ReferralRow, SiteRow, referral_row
from projections.support import Under, chunks, from_ts, marks

# ---- households of a subtree, filtered, a page at a time --------------------------------------

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
                f"h.household_id AND v.kind IN ({marks(len(self.vulnerabilities))})) <= ?",
                [*self.vulnerabilities, self.the_year])

    def campaign_sql(self) -> tuple[str, list[Any]]:
        if self.campaign is None:
            return "", []
        test = "IS NOT NULL" if self.covered is None else "= ?"
        return (" AND (SELECT t.covered FROM sc_target t WHERE t.campaign_id = ? AND "
                f"t.household_id = h.household_id) {test}",
                [self.campaign, *([] if self.covered is None else [int(self.covered)])])


_COLUMNS = HOUSEHOLD_COLUMNS
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


def _scope(views: ReadViews, under: Under) -> Scope:
    households = subtree_households(views, under)
    if households is not None and households > SMALL_SUBTREE:
        return None
    codes = subtree_codes(views, under)
    return codes if len(codes) <= MAX_CODES else None


def _conditions(where: HouseholdFilter, *parts: str) -> Query:
    sql, params = "", []
    for part in parts:
        extra, more = getattr(where, f"{part}_sql")()
        sql += extra
        params += more
    return sql, params


def _pages(under: Under, where: HouseholdFilter, scope: Scope) -> list[Query]:
    """The page queries (then ``LIMIT ?`` to add), whose pages merged are the page. A small
    subtree: its rows through the micro-grid index, checked and sorted. A large one: one
    index walked in household id order, checking the rest on the rows walked: the
    campaign's households (by coverage) when a campaign is given, else each vulnerability's
    households, else all households (only resident conditions: the subtree's rows, which no
    index narrows)."""
    if scope is not None:
        extra, params = _conditions(where, "resident", "vulnerable", "campaign")
        return [(f"SELECT {_COLUMNS} FROM gr_households h WHERE h.micro_grid IN "
                 f"({marks(len(scope))}) AND h.household_id > ?{extra} "
                 "ORDER BY h.household_id LIMIT ?", [*scope, _AFTER, *params])]
    sub, roots = subtree(under)
    if where.campaign is not None:
        covered = "" if where.covered is None else " AND t.covered = ?"
        extra, params = _conditions(where, "resident", "vulnerable")
        return [(f"{sub}SELECT {_COLUMNS} FROM sc_target t JOIN gr_households h ON "
                 f"h.household_id = t.household_id WHERE t.campaign_id = ?{covered} "
                 f"AND t.household_id > ?{_INSIDE}{extra} ORDER BY t.household_id LIMIT ?",
                 [*roots, where.campaign, *([] if where.covered is None else [int(where.covered)]),
                  _AFTER, *params])]
    extra, params = _conditions(where, "resident")
    if where.vulnerabilities:
        return [(f"{sub}SELECT {_COLUMNS} FROM gr_vulnerable v JOIN gr_households h ON "
                 "h.household_id = v.household_id WHERE v.kind = ? AND v.household_id > ? "
                 f"AND v.since <= ?{_INSIDE}{extra} ORDER BY v.household_id LIMIT ?",
                 [*roots, kind, _AFTER, where.the_year, *params])
                for kind in sorted(set(where.vulnerabilities))]
    if not where.resident_empty:
        return [(f"{sub}SELECT {_COLUMNS} FROM sub CROSS JOIN gr_households h WHERE "
                 f"h.micro_grid = sub.code AND h.household_id > ?{extra} "
                 "ORDER BY h.household_id LIMIT ?", [*roots, _AFTER, *params])]
    return [(f"{sub}SELECT {_COLUMNS} FROM gr_households h WHERE h.household_id > ?"
             f"{_INSIDE} ORDER BY h.household_id LIMIT ?", [*roots, _AFTER])]


def _walk(views: ReadViews, query: Query, after: str, limit: int,
          where: HouseholdFilter) -> list[HouseholdRow]:
    """Up to ``limit`` rows of one query after ``after``, checking ``matches`` (the rows
    the coarse pre-filter lets through are read a chunk at a time)."""
    sql, params = query
    out: list[HouseholdRow] = []
    cursor = after
    chunk = limit if where.resident_empty else max(limit * 4, 200)
    while len(out) < limit:
        rows = views.query(sql, [cursor if p is _AFTER else p for p in params] + [chunk])
        out.extend(h for h in (household_row(*r) for r in rows) if where.matches(h))
        if len(rows) < chunk:
            break
        cursor = rows[-1][0]
        chunk = min(chunk * 2, MAX_CHUNK)  # a rare match: fewer, longer reads
    return out[:limit]


def households_under(views: ReadViews, under: Under, after: str | None, limit: int,
                     where: HouseholdFilter | None = None) -> list[HouseholdRow]:
    """Up to ``limit`` households of the subtree of ``under`` (one node, or each of several:
    one list, as the tree is now) matching ``where``, in id order, after the id ``after``."""
    where = where or HouseholdFilter()
    scope = _scope(views, under)
    if scope == [] or limit <= 0:  # an unknown node
        return []
    found: dict[str, HouseholdRow] = {}
    for query in _pages(under, where, scope):
        for row in _walk(views, query, after or "", limit, where):
            found[row.household_id] = row
    return [found[h] for h in sorted(found)[:limit]]


def _counts(under: Under, where: HouseholdFilter, scope: Scope) -> Query:
    """The rows to count (as ``_pages``: a small subtree's rows, else the campaign's or the
    vulnerabilities' households in the subtree, else the subtree's rows)."""
    if scope is not None:
        extra, params = _conditions(where, "resident", "vulnerable", "campaign")
        return (f"SELECT {{}} FROM gr_households h WHERE h.micro_grid IN "
                f"({marks(len(scope))}){extra}", [*scope, *params])
    sub, roots = subtree(under)
    if where.campaign is not None:
        covered = "" if where.covered is None else " AND t.covered = ?"
        extra, params = _conditions(where, "resident", "vulnerable")
        return (f"{sub}SELECT {{}} FROM sc_target t JOIN gr_households h ON "
                f"h.household_id = t.household_id WHERE t.campaign_id = ?{covered}"
                f"{_INSIDE}{extra}",
                [*roots, where.campaign, *([] if where.covered is None else [int(where.covered)]),
                 *params])
    extra, params = _conditions(where, "resident")
    if where.vulnerabilities:
        kinds = sorted(set(where.vulnerabilities))
        return (f"{sub}SELECT {{}} FROM gr_households h WHERE h.household_id IN (SELECT "
                f"v.household_id FROM gr_vulnerable v WHERE v.kind IN ({marks(len(kinds))}) "
                f"AND v.since <= ?){_INSIDE}{extra}", [*roots, *kinds, where.the_year, *params])
    return (f"{sub}SELECT {{}} FROM sub CROSS JOIN gr_households h WHERE "
            f"h.micro_grid = sub.code{extra}", [*roots, *params])


def count_under(views: ReadViews, under: Under, where: HouseholdFilter) -> int:
    """How many households of the subtree of ``under`` (one node, or each of several) match
    ``where`` (read as a page is), each once."""
    scope = _scope(views, under)
    if scope == []:
        return 0
    sql, params = _counts(under, where, scope)
    if where.resident_empty:
        [(n,)] = views.query(sql.format("COUNT(*)"), params)
        return int(n)
    rows = views.query(sql.format(_COLUMNS), params)
    return sum(1 for r in rows if where.matches(household_row(*r)))


# ---- a staff member's work list of a sweep round ----------------------------------------------

@dataclass(frozen=True)
class WorkItemRow:
    """One household of a round on a staff member's list (``staff_workload``), with what its
    visits found so far and the visit's version (``sweep_coverage``; 0: never visited)."""

    household_id: str
    micro_grid: str | None
    visit_version: int
    attempts: int
    covered: bool
    fevers: int
    close_contacts: int
    arrivals: int
    visitors: int


def work_list(views: ReadViews, staff_id: str, campaign_id: str) -> list[WorkItemRow]:
    """The households of campaign ``campaign_id`` assigned to ``staff_id`` now, by id."""
    prefix = f"{campaign_id}/"
    rows = views.query(
        "SELECT SUBSTR(w.item, ?) AS hid, t.micro_grid, t.version, t.attempts, t.covered, "
        "t.fevers, t.close_contacts, t.arrivals, t.visitors FROM wl_items w "
        "LEFT JOIN sc_target t ON t.campaign_id = ? AND t.household_id = SUBSTR(w.item, ?) "
        "WHERE w.owner = ? AND SUBSTR(w.item, 1, ?) = ? ORDER BY w.item",
        (len(prefix) + 1, campaign_id, len(prefix) + 1, staff_id, len(prefix), prefix))
    return [WorkItemRow(h, g, int(v or 0), int(a or 0), bool(c), int(f or 0), int(cc or 0),
                        int(ar or 0), int(vi or 0)) for h, g, v, a, c, f, cc, ar, vi in rows]


# ---- referrals and quarantine sites ---------------------------------------------------------

def state_filter(alias: str, states: Sequence[str] | None,
                 overdue: bool | None) -> tuple[str, list[Any]]:
    """`` AND alias.state IN (...) AND alias.overdue = ?`` and its parameters, for the boards
    that filter their items by state and overdue."""
    where = ""
    params: list[Any] = []
    if states:
        where += f" AND {alias}.state IN ({marks(len(states))})"
        params += list(states)
    if overdue is not None:
        where += f" AND {alias}.overdue = ?"
        params.append(int(overdue))
    return where, params


def referrals_under(views: ReadViews, under: Under, states: Sequence[str] | None = None,
                    overdue: bool | None = None, limit: int = 100) -> list[ReferralRow]:
    """Referrals of the households of the subtree of ``under`` (one node, or each of
    several), oldest first."""
    where, params = state_filter("r", states, overdue)
    sub, roots = subtree(under)
    rows = views.query(
        f"{sub}SELECT r.referral_id, r.household_id, r.kind, r.community_code, r.state, "
        "r.opened_at, r.state_since, r.transport_due, r.overdue, r.escalations, "
        "r.escalated_to, r.site_code, r.ended_at FROM rp_referral r "
        "JOIN gr_households h ON h.household_id = r.household_id "
        f"WHERE h.micro_grid IN (SELECT code FROM sub){where} "
        "ORDER BY r.opened_at, r.referral_id LIMIT ?", (*roots, *params, limit))
    return [referral_row(r) for r in rows]


def referral_stages_under(views: ReadViews, under: Under) -> dict[str, int]:
    """How many referrals of the subtree's households are in each state (each once)."""
    sub, roots = subtree(under)
    return {s: int(n) for s, n in views.query(
        f"{sub}SELECT r.state, COUNT(*) FROM rp_referral r "
        "JOIN gr_households h ON h.household_id = r.household_id "
        "WHERE h.micro_grid IN (SELECT code FROM sub) GROUP BY r.state", roots)}


def sites_under(views: ReadViews, under: Under) -> list[SiteRow]:
    """The quarantine sites run by a node of the subtree of ``under``, by code."""
    sub, roots = subtree(under)
    return [SiteRow(c, n, node, int(cap), int(occ)) for c, n, node, cap, occ in views.query(
        f"{sub}SELECT code, name, node_code, capacity, occupancy FROM rp_site "
        "WHERE node_code IN (SELECT code FROM sub) ORDER BY code", roots)]


# ---- deliveries -----------------------------------------------------------------------------

_PLACE = "COALESCE(h.micro_grid, e.location, d.desk)"


def deliveries_under(views: ReadViews, under: Under, states: Sequence[str] | None = None,
                     overdue: bool | None = None, limit: int = 100, *,
                     after: tuple[str, str] | None = None) -> list[DeliveryRow]:
    """Deliveries whose recipient lies in the subtree of ``under`` (one node, or each of
    several: one list), oldest placed first (then by id); ``after``: only those after this
    (placed-at text, delivery id), a page's last."""
    where, params = state_filter("d", states, overdue)
    if after is not None:
        where += " AND (d.placed_at > ? OR (d.placed_at = ? AND d.delivery_id > ?))"
        params += [after[0], after[0], after[1]]
    sub, roots = subtree(under)
    rows = views.query(
        f"{sub}SELECT d.delivery_id, d.kind, d.ref, d.desk, {_PLACE}, d.household_id, "
        "d.enterprise_id, d.state, d.zone, d.attempts, d.placed_at, d.due, d.overdue, "
        "d.delivered_at, d.failed_at, d.reason, d.failures, d.version FROM dlv_deliveries d "
        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
        f"WHERE {_PLACE} IN (SELECT code FROM sub){where} "
        "ORDER BY d.placed_at, d.delivery_id LIMIT ?", (*roots, *params, limit))
    return [delivery_row(r) for r in rows]


def delivery_by_id(views: ReadViews, delivery_id: str) -> DeliveryRow | None:
    rows = views.query(
        f"SELECT d.delivery_id, d.kind, d.ref, d.desk, {_PLACE}, d.household_id, "
        "d.enterprise_id, d.state, d.zone, d.attempts, d.placed_at, d.due, d.overdue, "
        "d.delivered_at, d.failed_at, d.reason, d.failures, d.version FROM dlv_deliveries d "
        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
        "WHERE d.delivery_id = ?", (delivery_id,))
    return delivery_row(rows[0]) if rows else None


def delivery_states_under(views: ReadViews, under: Under) -> dict[str, tuple[int, int]]:
    """Per state: how many deliveries of the subtree (each once), and how many of those are
    overdue."""
    sub, roots = subtree(under)
    return {s: (int(n), int(late or 0)) for s, n, late in views.query(
        f"{sub}SELECT d.state, COUNT(*), SUM(d.overdue) FROM dlv_deliveries d "
        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
        f"WHERE {_PLACE} IN (SELECT code FROM sub) GROUP BY d.state", roots)}


# ---- enterprises ----------------------------------------------------------------------------

def enterprises_under(views: ReadViews, under: Under, status: str | None = None,
                      limit: int = 100) -> list[EnterpriseRow]:
    """Enterprises located in the subtree of ``under``, by name."""
    where, params = ("AND status = ? ", [status]) if status else ("", [])
    sub, roots = subtree(under)
    rows = views.query(
        f"{sub}SELECT enterprise_id, credit_code, name, department, location, specialist, "
        "status, employees, inspections, rectified FROM ent_enterprises "
        f"WHERE location IN (SELECT code FROM sub) {where}ORDER BY name, enterprise_id "
        "LIMIT ?", (*roots, *params, limit))
    return [EnterpriseRow(e, cc, n, d, loc, spec, st, int(emp), int(ins), int(rec))
            for e, cc, n, d, loc, spec, st, emp, ins, rec in rows]


# ---- alerts and checkpoints -----------------------------------------------------------------

def alert_escalations_under(views: ReadViews, under: Under,
                            awaiting_only: bool = True) -> list[AlertEscalationRow]:
    """The escalation steps of the alerts whose grid lies in the subtree of ``under`` (by
    default only of those still awaiting acknowledgement), in time order."""
    where = "AND a.state = 'raised' " if awaiting_only else ""
    sub, roots = subtree(under)
    rows = views.query(
        f"{sub}SELECT e.alert_id, e.from_code, e.to_code, e.to_level, e.escalated_at, "
        "e.missed_deadline, a.state FROM alb_escalations e "
        "JOIN alb_alerts a ON a.alert_id = e.alert_id "
        f"WHERE a.grid_code IN (SELECT code FROM sub) {where}"
        "ORDER BY e.escalated_at, e.alert_id, e.version", roots)
    return [AlertEscalationRow(a, f, t, int(lv), from_ts(at) or datetime.min,
                               from_ts(missed) or datetime.min, s)
            for a, f, t, lv, at, missed, s in rows]


def checkpoints_under(views: ReadViews, under: Under) -> list[CheckpointRow]:
    sub, roots = subtree(under)
    return [CheckpointRow(c, g, n) for c, g, n in views.query(
        f"{sub}SELECT checkpoint_id, grid_code, name FROM alb_checkpoints "
        "WHERE grid_code IN (SELECT code FROM sub) ORDER BY checkpoint_id", roots)]


# ---- open items per node --------------------------------------------------------------------

@dataclass(frozen=True)
class OpenItemsRow:
    """待办 what is still open in one node's subtree."""

    referrals: int = 0
    deliveries: int = 0
    requests: int = 0
    alerts: int = 0

    @property
    def total(self) -> int:
        return self.referrals + self.deliveries + self.requests + self.alerts


_ENDED_REFERRALS = tuple(sorted(s.value for s in ENDED))
_AWAITING_REQUESTS = tuple(sorted(s.value for s in AWAITING))
_SUBTREES = ("WITH RECURSIVE sub(root, code) AS (SELECT code, code FROM gr_nodes WHERE code IN "
             "({roots}) UNION ALL SELECT s.root, n.code FROM gr_nodes n "
             "JOIN sub s ON n.parent_code = s.code) ")
# One count per board and root, in one statement. What is open: a referral not ended
# (discharged, closed, cancelled); a delivery not delivered (a failed one waits for its
# redelivery); a request awaiting action (open, in progress); an alert not resolved.
# Requests are kept per community, so a micro-grid's subtree holds none.
_OPEN_COUNTS = (
    "SELECT 'referrals', s.root, COUNT(*) FROM rp_referral r "
    "JOIN gr_households h ON h.household_id = r.household_id "
    "JOIN sub s ON s.code = h.micro_grid "
    f"WHERE r.state NOT IN ({marks(len(_ENDED_REFERRALS))}) GROUP BY s.root "
    "UNION ALL "
    "SELECT 'deliveries', s.root, COUNT(*) FROM dlv_deliveries d "
    "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
    "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
    f"JOIN sub s ON s.code = {_PLACE} WHERE d.state <> ? GROUP BY s.root "
    "UNION ALL "
    "SELECT 'requests', s.root, COUNT(*) FROM req_requests q JOIN sub s ON s.code = q.community "
    f"WHERE q.status IN ({marks(len(_AWAITING_REQUESTS))}) GROUP BY s.root "
    "UNION ALL "
    "SELECT 'alerts', s.root, COUNT(*) FROM alb_alerts a JOIN sub s ON s.code = a.grid_code "
    "WHERE a.state <> ? GROUP BY s.root")


def open_items(views: ReadViews, codes: Sequence[str]) -> dict[str, OpenItemsRow]:
    """待办 per node: open referrals, deliveries, requests and alerts of each node's subtree
    (as the tree is now), for many nodes in one query per 500 (all zero for an unknown
    node). The caller checks that each node lies in the jurisdiction."""
    counts: dict[str, dict[str, int]] = {c: {} for c in codes}
    for part in chunks(codes):
        params = [*part, *_ENDED_REFERRALS, DeliveryState.DELIVERED.value,
                  *_AWAITING_REQUESTS, AlertState.RESOLVED.value]
        for board, root, n in views.query(
                _SUBTREES.format(roots=marks(len(part))) + _OPEN_COUNTS, params):
            counts[root][str(board)] = int(n)
    return {c: OpenItemsRow(**found) for c, found in counts.items()}


# ---- where a watched item lies --------------------------------------------------------------

def referral_place(views: ReadViews, referral_id: str) -> str | None:
    """The current micro-grid of a referral's household (None for one unknown here)."""
    found = views.query("SELECT h.micro_grid FROM rp_referral r JOIN gr_households h "
                        "ON h.household_id = r.household_id WHERE r.referral_id = ?",
                        (referral_id,))
    return str(found[0][0]) if found and found[0][0] is not None else None


def delivery_place(views: ReadViews, delivery_id: str) -> str | None:
    """Where a delivery's recipient lies: the household's micro-grid, the enterprise's
    location, else the desk's scope (None for a delivery unknown here)."""
    found = views.query(f"SELECT {_PLACE} FROM dlv_deliveries d "
                        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
                        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
                        "WHERE d.delivery_id = ?", (delivery_id,))
    return str(found[0][0]) if found and found[0][0] is not None else None
