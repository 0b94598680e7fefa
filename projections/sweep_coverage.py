"""Sweep coverage (排查覆盖): per campaign, which households are covered, how, and what the
visits found; rolled up per grid node at query time; and covered households over time.

One row per (campaign, household) holds what the visits accounted for; a household is covered
when every current member is accounted for across its visits (as ``gridcore.sweep``). Member
changes re-evaluate the household's rows in open campaigns; a closed campaign's rows are frozen
at its closing, so they agree with the summary recorded in ``Campaign.Closed``. The grid tree
is kept as (code, parent) rows so that a node's rollup (``coverage(views, cid, code)``) walks
the current tree with a recursive query that SQLite and PostgreSQL both run.

The coverage series holds +1/-1 per hour (UTC) in which a household became covered (timed by
when the visit happened) or lost its coverage (a member joined; timed by that event).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from gridcore.grid import GridNode
from gridcore.household import Household
from gridcore.sweep import FEVER_CELSIUS, Campaign, Outcome, Visit, fevers
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles

CHUNK = 500
HOUSEHOLD_EVENTS = (Household.Registered, Household.Moved, Household.MemberAdded,
                    Household.MemberRemoved)
_HOUSEHOLD_EVENTS = frozenset(HOUSEHOLD_EVENTS)
_CAMPAIGN_EVENTS = frozenset((Campaign.Launched, Campaign.Closed))


def _ids(text: str | None) -> set[str]:
    return set(text.split(",")) if text else set()


def _text(ids: Iterable[str]) -> str:
    return ",".join(sorted(ids))


def hour_of(ts: datetime) -> str:
    """The UTC hour a time falls in, as sortable text ('2020-02-17T00')."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H")


def load(cur: ViewCursor, sql: str, keys: Sequence[Any]) -> list[Row]:
    """Rows of ``sql`` (ending in ``IN``) for keys, a chunk of keys per statement."""
    found: list[Row] = []
    keys = sorted(set(keys))
    for i in range(0, len(keys), CHUNK):
        part = keys[i:i + CHUNK]
        cur.execute(f"{sql} ({','.join('?' * len(part))})", part)
        found.extend(cur.fetchall())
    return found


@dataclass
class Target:
    """One household of one campaign."""

    micro_grid: str | None
    accounted: set[str] = field(default_factory=set)
    attempts: int = 0
    seen: int = 0
    refused: int = 0
    method: str | None = None
    covered: int = 0
    reason: str = "not_visited"
    fevers: int = 0
    close_contacts: int = 0
    arrivals: int = 0
    visitors: int = 0
    version: int = 0
    """The visit's version (0: never visited): what an offline visit is based on."""

    def evaluate(self, members: set[str]) -> None:
        """``gridcore.sweep.not_covered_reason`` over the kept counts."""
        if not self.attempts:
            reason = "not_visited"
        elif not self.accounted:
            reason = ("members_missing" if self.seen else
                      "refused" if self.refused else "no_answer")
        else:
            reason = "members_missing" if members - self.accounted else "covered"
        self.reason = reason
        self.covered = int(reason == "covered" and bool(members))


TARGET_COLUMNS = ("micro_grid, accounted, attempts, seen, refused, method, covered, reason, "
                  "fevers, close_contacts, arrivals, visitors, version")


class _Batch:
    """One batch: the households and campaign rows its events touch (loaded once), the
    closed campaigns among them, and what to write."""

    def __init__(self, cur: ViewCursor, households: dict[str, list[Any]]) -> None:
        self.cur, self.households = cur, households
        self.grid: dict[str, str | None] = {}
        self.targets: dict[tuple[str, str], Target] = {}
        self.by_household: dict[str, set[str]] = {}
        self.closed: set[str] = set()
        self.campaigns: list[tuple[Any, ...]] = []
        self.closings: list[tuple[str, str]] = []
        self.dirty_h: set[str] = set()
        self.registered: set[str] = set()  # registered in this batch: no stored rows yet
        self.dirty_t: set[tuple[str, str]] = set()
        self.series: dict[tuple[str, str], int] = {}

    def members_of(self, hid: str) -> set[str]:
        return _ids(self.households[hid][2]) if hid in self.households else set()

    def evaluate(self, key: tuple[str, str], at: datetime) -> None:
        t = self.targets[key]
        before = t.covered
        t.evaluate(self.members_of(key[1]))
        self.dirty_t.add(key)
        if t.covered != before:
            skey = (key[0], hour_of(at))
            self.series[skey] = self.series.get(skey, 0) + t.covered - before


class SweepCoverage(Projection):
    name = "sweep_coverage"
    version = 2  # 2: each visit's version in sc_target
    tables = ("sc_grid", "sc_household", "sc_campaign", "sc_target", "sc_series")
    ddl = (
        "CREATE TABLE IF NOT EXISTS sc_grid (code TEXT PRIMARY KEY, parent_code TEXT)",
        "CREATE TABLE IF NOT EXISTS sc_household (household_id TEXT PRIMARY KEY, "
        "household_no TEXT NOT NULL, micro_grid TEXT NOT NULL, members TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sc_campaign (campaign_id TEXT PRIMARY KEY, scope TEXT NOT "
        "NULL, round_no BIGINT NOT NULL, name TEXT NOT NULL, starts TEXT NOT NULL, ends TEXT "
        "NOT NULL, launched_at TEXT NOT NULL, closed_at TEXT)",
        "CREATE TABLE IF NOT EXISTS sc_target (campaign_id TEXT NOT NULL, household_id TEXT "
        "NOT NULL, micro_grid TEXT, accounted TEXT NOT NULL, attempts BIGINT NOT NULL, seen "
        "BIGINT NOT NULL, refused BIGINT NOT NULL, method TEXT, covered BIGINT NOT NULL, "
        "reason TEXT NOT NULL, fevers BIGINT NOT NULL, close_contacts BIGINT NOT NULL, "
        "arrivals BIGINT NOT NULL, visitors BIGINT NOT NULL, version BIGINT NOT NULL, "
        "PRIMARY KEY (campaign_id, household_id))",
        "CREATE INDEX IF NOT EXISTS sc_target_household ON sc_target (household_id)",
        # a campaign's covered (or not yet covered) households a page at a time, in id order
        "CREATE INDEX IF NOT EXISTS sc_target_covered ON sc_target (campaign_id, covered, "
        "household_id)",
        "CREATE TABLE IF NOT EXISTS sc_series (campaign_id TEXT NOT NULL, hour TEXT NOT NULL, "
        "delta BIGINT NOT NULL, PRIMARY KEY (campaign_id, hour))",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Batch:
        hids = {str(e.household_id) for _, e in events if type(e) is Visit.Recorded}
        hids |= {str(e.originator_id) for _, e in events if type(e) in _HOUSEHOLD_EVENTS}
        hids |= {str(h) for _, e in events if type(e) is Campaign.Launched
                 for h in e.households}
        # A household registered in this batch has no stored rows yet (its registration is
        # its first event, and no campaign before it can have named it): what the batch
        # knows of it, it keeps in memory, so only the others are looked up.
        hids -= {str(e.originator_id) for _, e in events if type(e) is Household.Registered}
        b = _Batch(cur, {r[0]: list(r[1:]) for r in load(
            cur, "SELECT household_id, household_no, micro_grid, members FROM sc_household "
                 "WHERE household_id IN", list(hids))})
        for r in load(cur, f"SELECT campaign_id, household_id, {TARGET_COLUMNS} FROM sc_target "
                           "WHERE household_id IN", list(hids)):
            b.targets[(r[0], r[1])] = Target(r[2], _ids(r[3]), *r[4:])
            b.by_household.setdefault(r[1], set()).add(r[0])
        cids = {c for c, _ in b.targets} | {str(e.originator_id) for _, e in events
                                            if type(e) in _CAMPAIGN_EVENTS}
        b.closed = {r[0] for r in load(cur, "SELECT campaign_id FROM sc_campaign WHERE "
                                            "closed_at IS NOT NULL AND campaign_id IN",
                                       list(cids))}
        return b

    def end(self, cur: ViewCursor, b: _Batch) -> None:
        self._write(cur, b.grid, b.households, b.dirty_h, b.registered, b.targets, b.dirty_t,
                    b.campaigns, b.closings, b.series)

    @handles(GridNode.Established)
    def node_established(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        b.grid[e.code] = e.parent_code

    @handles(GridNode.Moved)
    def node_moved(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        # A move names the node by id only: keep the code from its establishment.
        code = self._code_of(b.cur, b.grid, e.originator_id)
        if code is not None:
            b.grid[code] = e.parent_code

    @handles(Household.Registered)
    def household_registered(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        b.households[hid] = [e.household_no, e.micro_grid,
                             _text(str(m.resident_id) for m in e.members)]
        b.dirty_h.add(hid)
        b.registered.add(hid)

    @handles(Household.Moved)
    def household_moved(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        if hid not in b.households:
            return
        b.households[hid][1] = e.micro_grid
        for c in b.by_household.get(hid, ()):
            if c not in b.closed:
                b.targets[(c, hid)].micro_grid = e.micro_grid
                b.dirty_t.add((c, hid))
        b.dirty_h.add(hid)

    @handles(Household.MemberAdded, Household.MemberRemoved)
    def members_changed(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        if hid not in b.households:
            return
        ms = b.members_of(hid)
        if type(e) is Household.MemberAdded:
            ms.add(str(e.member.resident_id))
        else:
            ms.discard(str(e.resident_id))
        b.households[hid][2] = _text(ms)
        for c in b.by_household.get(hid, ()):
            if c not in b.closed:
                b.evaluate((c, hid), e.timestamp)
        b.dirty_h.add(hid)

    @handles(Campaign.Launched)
    def launched(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid = str(e.originator_id)
        b.campaigns.append((cid, e.scope, e.round_no, e.name, e.starts.isoformat(),
                            e.ends.isoformat(), e.timestamp.isoformat()))
        for h in e.households:
            hid = str(h)
            home = b.households.get(hid)
            b.targets[(cid, hid)] = Target(home[1] if home else None)
            b.by_household.setdefault(hid, set()).add(cid)
            b.dirty_t.add((cid, hid))

    @handles(Campaign.Closed)
    def closed(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        b.closed.add(str(e.originator_id))
        b.closings.append((e.timestamp.isoformat(), str(e.originator_id)))

    @handles(Visit.Recorded)
    def visited(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        key = (str(e.campaign_id), str(e.household_id))
        if key not in b.targets or key[0] in b.closed:
            return
        self._record(b.targets[key], e)
        b.targets[key].version = e.originator_version
        b.evaluate(key, e.record.at)

    @staticmethod
    def _record(t: Target, e: Visit.Recorded) -> None:
        a = e.record
        t.attempts += 1
        t.accounted |= {str(r) for r in a.accounted}
        if a.outcome is Outcome.SEEN:
            t.seen += 1
            t.method = a.method.value
        elif a.outcome is Outcome.REFUSED:
            t.refused += 1
        t.fevers += len(fevers(a)) or int((a.household_temperature or 0) >= FEVER_CELSIUS)
        t.close_contacts += len(a.close_contacts)
        t.arrivals += len(a.arrivals)
        t.visitors += len(a.visitors)

    @staticmethod
    def _code_of(cur: ViewCursor, grid: dict[str, str | None], node_id: UUID | str
                 ) -> str | None:
        from gridcore.grid import node_id as id_of

        target = str(node_id)  # a lean event's id is text
        for code in grid:
            if str(id_of(code)) == target:
                return code
        cur.execute("SELECT code FROM sc_grid")
        for (code,) in cur.fetchall():
            if str(id_of(code)) == target:
                return str(code)
        return None

    @staticmethod
    def _write(cur: ViewCursor, grid: dict[str, str | None], households: dict[str, list[Any]],
               dirty_h: set[str], registered: set[str], targets: dict[tuple[str, str], Target],
               dirty_t: set[tuple[str, str]], campaigns: list[tuple[Any, ...]],
               closings: list[tuple[str, str]], series: dict[tuple[str, str], int]) -> None:
        cur.executemany("INSERT INTO sc_grid VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET "
                        "parent_code = excluded.parent_code", sorted(grid.items()))
        # (one row per key: they come from sets and dicts, as ``insert`` needs)
        cur.upsert("sc_household", "household_id, household_no, micro_grid, members",
                   [(h, *households[h]) for h in sorted(dirty_h)],
                   "ON CONFLICT (household_id) DO UPDATE SET micro_grid = excluded.micro_grid, "
                   "members = excluded.members", registered)
        cur.executemany("INSERT INTO sc_campaign VALUES (?, ?, ?, ?, ?, ?, ?, NULL) "
                        "ON CONFLICT (campaign_id) DO NOTHING", campaigns)
        cur.executemany("UPDATE sc_campaign SET closed_at = ? WHERE campaign_id = ?", closings)
        names = TARGET_COLUMNS.split(", ")
        updates = ", ".join(f"{n} = excluded.{n}" for n in names)
        rows = []
        for key in sorted(dirty_t):
            t = targets[key]
            rows.append((*key, t.micro_grid, _text(t.accounted), t.attempts, t.seen, t.refused,
                         t.method, t.covered, t.reason, t.fevers, t.close_contacts, t.arrivals,
                         t.visitors, t.version))
        cur.insert("sc_target", f"campaign_id, household_id, {TARGET_COLUMNS}", rows,
                   f"ON CONFLICT (campaign_id, household_id) DO UPDATE SET {updates}")
        cur.executemany("INSERT INTO sc_series VALUES (?, ?, ?) ON CONFLICT (campaign_id, hour) "
                        "DO UPDATE SET delta = sc_series.delta + excluded.delta",
                        [(c, h, d) for (c, h), d in sorted(series.items()) if d])


PROJECTIONS: list[Projection] = [SweepCoverage()]


# ---- queries ---------------------------------------------------------------------------------

_SUBTREE = ("WITH RECURSIVE sub(code) AS (SELECT ? UNION SELECT g.code FROM sc_grid g "
            "JOIN sub ON g.parent_code = sub.code) ")


def _select(views: ReadViews, cols: str, campaign_id: UUID | str, code: str | None,
            tail: str = "") -> list[Row]:
    """``cols`` over the campaign's rows, or those whose micro-grid lies under ``code``."""
    if code is None:
        sql, params = f"SELECT {cols} FROM sc_target t WHERE t.campaign_id = ?", [str(campaign_id)]
    else:
        sql = (f"{_SUBTREE}SELECT {cols} FROM sc_target t WHERE t.campaign_id = ? "
               "AND t.micro_grid IN (SELECT code FROM sub)")
        params = [code, str(campaign_id)]
    rows: list[Row] = views.query(f"{sql} {tail}", params)
    return rows


def coverage(views: ReadViews, campaign_id: UUID | str, code: str | None = None) -> dict[str, Any]:
    """Households in scope (or under ``code``), covered, by method, not covered by reason,
    and findings (fevers, close contacts, arrivals, visitors)."""
    [(n, covered, fev, cc, arr, vis)] = _select(
        views, "COUNT(*) AS n, COALESCE(SUM(t.covered), 0) AS c, COALESCE(SUM(t.fevers), 0) "
        "AS f, COALESCE(SUM(t.close_contacts), 0) AS cc, COALESCE(SUM(t.arrivals), 0) AS a, "
        "COALESCE(SUM(t.visitors), 0) AS v", campaign_id, code)
    by_method = {m: int(k) for m, k in _select(
        views, "t.method, COUNT(*) AS n", campaign_id, code,
        "AND t.covered = 1 AND t.method IS NOT NULL GROUP BY t.method")}
    not_covered = {r: int(k) for r, k in _select(
        views, "t.reason, COUNT(*) AS n", campaign_id, code, "AND t.covered = 0 GROUP BY t.reason")}
    return {"households": int(n), "covered": int(covered), "uncovered": int(n) - int(covered),
            "share": int(covered) / int(n) if n else 1.0, "by_method": by_method,
            "not_covered": not_covered, "fevers": int(fev), "close_contacts": int(cc),
            "arrivals": int(arr), "visitors": int(vis)}


def uncovered_households(views: ReadViews, campaign_id: UUID | str,
                         code: str | None = None) -> list[dict[str, Any]]:
    """Households not yet covered, with their micro-grid, number and why (not visited, no
    answer, refused, members missing), ordered by micro-grid and household number."""
    rows = _select(views, "t.household_id, t.micro_grid, t.reason, t.attempts, "
                          "(SELECT h.household_no FROM sc_household h "
                          "WHERE h.household_id = t.household_id) AS household_no",
                   campaign_id, code, "AND t.covered = 0")
    found = [{"household_id": UUID(h), "micro_grid": g, "reason": r, "attempts": int(a),
              "household_no": no} for h, g, r, a, no in rows]
    return sorted(found, key=lambda d: (d["micro_grid"] or "", d["household_no"] or "",
                                        str(d["household_id"])))


def coverage_by_node(views: ReadViews, campaign_id: UUID | str) -> dict[str, tuple[int, int]]:
    """(households, covered) for every node from the micro-grids up to the campaign's scope."""
    scope = views.query("SELECT scope FROM sc_campaign WHERE campaign_id = ?",
                        [str(campaign_id)])
    if not scope:
        return {}
    rows = views.query(
        "WITH RECURSIVE up(micro, code) AS (SELECT DISTINCT micro_grid, micro_grid FROM "
        "sc_target WHERE campaign_id = ? AND micro_grid IS NOT NULL UNION SELECT up.micro, "
        "g.parent_code FROM up JOIN sc_grid g ON g.code = up.code WHERE up.code <> ? AND "
        "g.parent_code IS NOT NULL) SELECT up.code, COUNT(*) AS n, SUM(t.covered) AS c "
        "FROM up JOIN sc_target t ON t.micro_grid = up.micro WHERE t.campaign_id = ? "
        "GROUP BY up.code",
        [str(campaign_id), scope[0][0], str(campaign_id)])
    return {c: (int(n), int(k)) for c, n, k in rows}


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: str
    scope: str
    round_no: int
    name: str
    starts: datetime
    ends: datetime
    closed_at: datetime | None


def campaigns_touching(views: ReadViews, code: str, chain: Sequence[str]) -> list[CampaignRow]:
    """Sweep campaigns whose scope holds households of the subtree of ``code``: scoped at the
    node, at one of its ancestors (``chain``) or inside its subtree; by launch time."""
    marks = ", ".join("?" * len(chain)) if chain else "NULL"
    rows = views.query(
        "WITH RECURSIVE sub(code) AS (SELECT ? UNION SELECT g.code FROM sc_grid g "
        "JOIN sub ON g.parent_code = sub.code) "
        "SELECT campaign_id, scope, round_no, name, starts, ends, closed_at FROM sc_campaign "
        f"WHERE scope IN ({marks}) OR scope IN (SELECT code FROM sub) "
        "ORDER BY launched_at, campaign_id", (code, *chain))
    return [CampaignRow(c, s, int(r), n, datetime.fromisoformat(st), datetime.fromisoformat(en),
                        datetime.fromisoformat(cl) if cl else None)
            for c, s, r, n, st, en, cl in rows]


def coverage_series(views: ReadViews, campaign_id: UUID | str) -> list[dict[str, Any]]:
    """Covered households at the end of each hour (UTC) in which coverage changed, with the
    hours since the campaign's launch."""
    launched = views.query("SELECT launched_at FROM sc_campaign WHERE campaign_id = ?",
                           [str(campaign_id)])
    if not launched:
        return []
    start = datetime.fromisoformat(launched[0][0]).astimezone(UTC).replace(
        minute=0, second=0, microsecond=0)
    out, total = [], 0
    for hour, delta in views.query("SELECT hour, delta FROM sc_series WHERE campaign_id = ? "
                                   "ORDER BY hour", [str(campaign_id)]):
        total += int(delta)
        at = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        out.append({"hour": at, "since_launch_hours": int((at - start).total_seconds() // 3600),
                    "covered": total})
    return out
