"""Line lists (台账导出): every row of a jurisdiction, streamed a page at a time, for exports.

Each function is a generator over keyset pages (``PAGE`` rows per statement, each statement
its own short read transaction), so an export of a whole city holds one page in memory and
never a long read lock. Rows carry what the read models hold (ids, codes, counts, states,
birth years, and the household number, which the writer masks by role): names, phones and
addresses are sealed in the event store and are added by the writer, per page of households.

Households and residents come from ``gr_households`` (one row per household, its residents
packed), with the household number from ``sc_household``; contacts under follow-up from
``cf_contacts``. A subtree is walked micro-grid by micro-grid through ``gr_households_grid``
(rows in micro-grid, then id order) when it is small, else the whole table in id order with
the subtree checked on each row (the subtree's codes held as a set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from gridcore.grid import Level
from projections.base import ReadViews
from projections.contact_followup import _CONTACT_SELECT, NODES, FollowUpRow, _follow_up_row
from projections.grid_rollup import chains, micros, nodes, subtree_households
from projections.queries import SMALL_SUBTREE, HouseholdFilter
from projections.support import Under, roots, subtree_cte

PAGE = 5_000
"""Rows per statement."""

_HOUSEHOLD_SELECT = ("SELECT h.household_id, h.micro_grid, h.residents, (SELECT s.household_no "
                     "FROM sc_household s WHERE s.household_id = h.household_id) FROM "
                     "gr_households h")
"""A household's line as the read models hold it (id, micro-grid, packed residents,
household number)."""


@dataclass(frozen=True)
class GridIndex:
    """The nodes of a subtree: each micro-grid's community (its level-3 ancestor)."""

    codes: frozenset[str]
    community: dict[str, str]


def grid_index(views: ReadViews, under: Under) -> GridIndex:
    codes = roots(under)
    rows = views.query(f"{subtree_cte('gr_nodes', len(codes), 'parent_code')}SELECT n.code, "
                       "n.parent_code, n.level FROM gr_nodes n JOIN sub ON sub.code = n.code",
                       codes)
    parent = {c: (p, int(level)) for c, p, level in rows}
    above = chains(views, codes)  # a root's ancestors (a grid worker's zone's community)
    for found in nodes(views, [a for chain in above.values() for a in chain[1:]]).values():
        parent.setdefault(found.code, (found.parent_code, found.level))
    community: dict[str, str] = {}
    for code in list(parent):
        node: str | None = code
        while node is not None and node in parent and parent[node][1] > Level.COMMUNITY:
            node = parent[node][0]
        if node is not None and node in parent and parent[node][1] == Level.COMMUNITY:
            community[code] = node
    inside = {c for c, *_ in rows}
    return GridIndex(frozenset(inside), community)


def household_sql() -> str:
    """The statement a whole-table walk runs (page after page): what the benchmark's raw
    ``SELECT`` reads in one statement."""
    return f"{_HOUSEHOLD_SELECT} WHERE h.household_id > ?{{extra}} ORDER BY h.household_id LIMIT ?"


def household_rows(views: ReadViews, under: Under, where: HouseholdFilter | None = None,
                   page: int = PAGE) -> Iterator[tuple[Any, ...]]:
    """(household id, micro-grid, packed residents, household number or None) of every
    household of the subtree of ``under`` matching ``where``'s resident conditions (health,
    measure, tag; the others are not applied to line lists)."""
    for rows in household_pages(views, under, where, page):
        yield from rows


def household_pages(views: ReadViews, under: Under, where: HouseholdFilter | None = None,
                    page: int = PAGE) -> Iterator[list[tuple[Any, ...]]]:
    """``household_rows`` a page (at most ``page`` rows, none empty) at a time."""
    where = where or HouseholdFilter()
    extra, params = where.resident_sql()
    grids = grid_index(views, under)
    size = subtree_households(views, under)
    exact = None if where.resident_empty else where
    if size is not None and size <= SMALL_SUBTREE:
        sql = (f"{_HOUSEHOLD_SELECT} WHERE h.micro_grid = ? AND h.household_id > ?{extra} "
               "ORDER BY h.household_id LIMIT ?")
        for code in sorted(grids.codes):
            yield from _pages(views, sql, [code], params, page, None, exact)
        return
    sql = household_sql().replace("{extra}", extra)
    yield from _pages(views, sql, [], params, page, grids.codes, exact)


def _pages(views: ReadViews, sql: str, before: list[Any], after: list[Any], page: int,
           codes: frozenset[str] | None, exact: HouseholdFilter | None) -> Iterator[list[Any]]:
    cursor = ""
    while True:
        rows = views.query(sql, [*before, cursor, *after, page])
        kept = rows
        if codes is not None:
            kept = [r for r in kept if r[1] in codes]
        if exact is not None:
            kept = [r for r in kept if _matches(exact, r[2])]
        if kept:
            yield kept
        if len(rows) < page:
            return
        cursor = rows[-1][0]


def _keyset_pages(views: ReadViews, sql: str, before: list[Any], key: tuple[int, int],
                  page: int) -> Iterator[list[tuple[Any, ...]]]:
    """The pages of ``sql``, ordered by two columns and ending ``(a > ? OR (a = ? AND b > ?))
    ORDER BY a, b LIMIT ?``: each page starts after the last row of the one before, whose
    ``key`` (the row indexes of a and b) is bound with ``before``'s parameters."""
    a: Any = ""
    b: Any = ""
    while True:
        rows = views.query(sql, [*before, a, a, b, page])
        if rows:
            yield rows
        if len(rows) < page:
            return
        a, b = rows[-1][key[0]], rows[-1][key[1]]


def _matches(where: HouseholdFilter, packed: str | bytes) -> bool:
    return any(resident_matches(where, r) for r in orjson.loads(packed).values())


def resident_matches(where: HouseholdFilter, packed: Sequence[Any]) -> bool:
    """Whether a packed resident (health, measure, tags, declared, born) matches ``where``."""
    health, measure, tags = packed[0], packed[1], packed[2]
    return ((where.health is None or health == where.health)
            and (where.measure is None or measure == where.measure)
            and (where.tag is None or where.tag in tags))


def packed_counts(packed: str | bytes) -> tuple[int, ...]:
    """(members, confirmed, suspected, symptomatic, under a measure, home quarantine,
    centralized quarantine) of a household's packed residents, without decoding them: the
    packing is orjson's compact JSON (``{"rid":["health","measure",[tags],[declared],born]}``),
    so each resident's key is followed by ``":[`` and each of its health and measure values
    is a quoted word no tag, vulnerability or id can be (a line list of a city counts them
    for millions of households: five times faster than decoding)."""
    text = packed.decode() if isinstance(packed, bytes) else packed
    members = text.count('":[')
    return (members, text.count('"confirmed"'), text.count('"suspected"'),
            text.count('"symptomatic"'), members - text.count('"none"'),
            text.count('"home_quarantine"'), text.count('"centralized_quarantine"'))


def resident_rows(views: ReadViews, under: Under, where: HouseholdFilter | None = None,
                  page: int = PAGE) -> Iterator[tuple[Any, ...]]:
    """(household id, micro-grid, household number, resident id, health, measure, tags,
    born) of every resident of the subtree matching ``where`` (health, measure, tag), by
    household."""
    where = where or HouseholdFilter()
    for hid, grid, packed, no in household_rows(views, under, where, page):
        for rid, r in sorted(orjson.loads(packed).items()):
            if resident_matches(where, r):
                yield (hid, grid, no, rid, r[0], r[1], tuple(r[2]), r[4] if len(r) > 4 else None)


def contact_rows(views: ReadViews, under: Under, now: datetime, following_only: bool = True,
                 page: int = PAGE) -> Iterator[FollowUpRow]:
    """Every contact followed up in the subtree of ``under`` (those under follow-up at
    ``now``, or every contact), by case id and person id."""
    codes = roots(under)
    at = micros(now)
    live = " AND k.released = 0 AND k.until > ?" if following_only else ""
    sql = (f"{subtree_cte(NODES, len(codes))}SELECT {_CONTACT_SELECT} FROM cf_contacts k "
           "JOIN cf_cases c ON c.case_id = k.case_id WHERE k.grid IN (SELECT code FROM sub)"
           f"{live} AND (k.case_id > ? OR (k.case_id = ? AND k.person_id > ?)) "
           "ORDER BY k.case_id, k.person_id LIMIT ?")
    for rows in _keyset_pages(views, sql, [*codes, *([at] if following_only else [])],
                              (0, 2), page):
        for r in rows:
            yield _follow_up_row(r, at)





# ---- testing, deliveries, requests ---------------------------------------------------------

_TESTING_SELECT = (
    "SELECT r.campaign_id, r.resident_id, c.scope, c.round_no, r.household_id, "
    "(SELECT s.household_no FROM sc_household s WHERE s.household_id = r.household_id), "
    "r.micro_grid, r.community, r.door_to_door, r.sampled_at, "
    "(SELECT m.code FROM tc_tube_members m WHERE m.campaign_id = r.campaign_id AND "
    "m.resident_id = r.resident_id ORDER BY m.at DESC, m.code DESC LIMIT 1) AS tube, "
    "r.positive_at, r.controlled_at, r.released_at FROM tc_residents r "
    "JOIN tc_campaigns c ON c.campaign_id = r.campaign_id")


def testing_rows(views: ReadViews, under: Under,
                 page: int = PAGE) -> Iterator[tuple[Any, ...]]:
    """One row per resident of each mass-testing campaign (``testing_coverage``) scheduled to
    a micro-grid of the subtree of ``under``, by campaign and resident: (campaign id,
    resident id, campaign scope, round, household id, household number or None, micro-grid,
    community, door-to-door 0/1, sampled at (micros or None), latest tube code or None, that
    tube's result or None, positive at, controlled at, released at)."""
    codes = roots(under)
    sql = (f"{subtree_cte('gr_nodes', len(codes), 'parent_code')}{_TESTING_SELECT} "
           "WHERE r.micro_grid IN (SELECT code FROM sub) AND (r.campaign_id > ? OR "
           "(r.campaign_id = ? AND r.resident_id > ?)) ORDER BY r.campaign_id, r.resident_id "
           "LIMIT ?")
    for rows in _keyset_pages(views, sql, codes, (0, 1), page):
        results = _tube_results(views, {(r[0], r[10]) for r in rows if r[10] is not None})
        for r in rows:
            yield (*r[:11], results.get((r[0], r[10])), *r[11:])


def _tube_results(views: ReadViews, tubes: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    if not tubes:
        return {}
    out: dict[tuple[str, str], Any] = {}
    for campaign in {c for c, _ in tubes}:
        codes = sorted(code for c, code in tubes if c == campaign)
        for i in range(0, len(codes), 500):
            part = codes[i:i + 500]
            for code, result in views.query(
                    "SELECT code, result FROM tc_tubes WHERE campaign_id = ? AND code IN "
                    f"({', '.join('?' * len(part))})", [campaign, *part]):
                out[(campaign, code)] = result
    return out


_DELIVERY_PLACE = "COALESCE(h.micro_grid, e.location, d.desk)"


def delivery_rows(views: ReadViews, under: Under,
                  page: int = PAGE) -> Iterator[tuple[Any, ...]]:
    """Every delivery whose recipient lies in the subtree of ``under`` (as
    ``queries.deliveries_under`` scopes them), oldest placed first: (delivery id, kind, ref,
    household id, household number or None, place, zone, state, placed at, dispatched at,
    delivered at, failed at, reason, attempts), times as the board's ISO text."""
    codes = roots(under)
    sql = (f"{subtree_cte('gr_nodes', len(codes), 'parent_code')}SELECT d.delivery_id, "
           "d.kind, d.ref, d.household_id, h.household_no, "
           f"{_DELIVERY_PLACE}, d.zone, d.state, d.placed_at, d.dispatched_at, d.delivered_at, "
           "d.failed_at, d.reason, d.attempts FROM dlv_deliveries d "
           "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
           "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
           f"WHERE {_DELIVERY_PLACE} IN (SELECT code FROM sub) AND (d.placed_at > ? OR "
           "(d.placed_at = ? AND d.delivery_id > ?)) ORDER BY d.placed_at, d.delivery_id "
           "LIMIT ?")
    for rows in _keyset_pages(views, sql, codes, (8, 0), page):
        yield from rows


def request_rows(views: ReadViews, under: Under,
                 page: int = PAGE) -> Iterator[tuple[Any, ...]]:
    """Every resident request filed in a community of the subtree of ``under`` (as the
    requests board scopes them), by number: (request id, number, category, grade, status,
    channel, community, owning node, level, filed at, deadline, escalations, on time)."""
    codes = roots(under)
    sql = (f"{subtree_cte('req_nodes', len(codes))}SELECT r.request_id, r.number, r.category, "
           "r.grade, r.status, r.channel, r.community, r.owner_code, r.level, r.filed_at, "
           "r.deadline, r.escalations, r.on_time FROM req_requests r "
           "WHERE r.community IN (SELECT code FROM sub) AND (r.number > ? OR (r.number = ? AND "
           "r.request_id > ?)) ORDER BY r.number, r.request_id LIMIT ?")
    for rows in _keyset_pages(views, sql, codes, (1, 0), page):
        yield from rows
