"""Health monitoring board (健康监测看板): per grid node who is under monitoring, the reports
due on a day (reported, missed, to come), the missed reports (open ones with their escalation
level), the abnormal readings and the release list (解除名单) with what the policy still
requires; per resident the monitoring record (each report's time, source, temperature and
symptoms), now or as it was at a past time.

A monitoring counts at its household's micro-grid (a household's move takes it along) and at
every node above it, as the tree is now (the projection keeps its own copy, ``mb_nodes``); a
board of a node answers for the node and every node under it, as
``MonitoringCommands.monitoring_due`` and its siblings do.

``mb_monitorings`` holds each monitoring as it is now; every change of one is appended, whole,
to ``mb_history`` with the event's time (a missed report is dated when its deadline passed,
an escalation when it fell due), so the same questions are answered ``at`` a past time (the
last row of each at or before it, in log order). Reports (``mb_reports``), abnormal readings
(``mb_abnormal``) and missed flags (``mb_flags``) are appended with the time they were
recorded. The report times themselves are not stored: they follow from the schedule
(``gridcore.monitoring.report_times``), as in the aggregate.

No name, phone or address: residents and households appear by id; readings and symptom words
are kept (the aggregate holds them unsealed too), and the API shows them only to those
allowed to see health details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from gridcore.grid import GridNode, Level
from gridcore.household import Household
from gridcore.monitoring import Monitoring, local_day, report_times
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.grid_rollup import micros
from projections.support import Under, apply_nodes, chunks, marks, node_ddl, roots, subtree_cte

NODES = "mb_nodes"
COLUMNS = ("resident_id", "household_id", "grid", "measure", "measure_start", "starts",
           "ends", "report_times", "utc_offset", "assist_method", "overdue_since",
           "owner_code", "owner_level", "escalations", "escalates_at", "release",
           "listed_at", "ended_at")
_DDL = ("resident_id TEXT NOT NULL, household_id TEXT NOT NULL, grid TEXT NOT NULL, "
        "measure TEXT NOT NULL, measure_start BIGINT NOT NULL, starts BIGINT NOT NULL, "
        "ends BIGINT, report_times TEXT NOT NULL, utc_offset BIGINT NOT NULL, "
        "assist_method TEXT, overdue_since BIGINT, owner_code TEXT, owner_level BIGINT, "
        "escalations BIGINT NOT NULL, escalates_at BIGINT, release TEXT, listed_at BIGINT, "
        "ended_at BIGINT")
_MONITORING_EVENTS = frozenset({Monitoring.Assisted, Monitoring.Extended,
                                Monitoring.ReportReceived, Monitoring.AbnormalReading,
                                Monitoring.ReportMissed, Monitoring.Escalated,
                                Monitoring.DueForRelease, Monitoring.Ended})


class _Changes:
    """One batch: the monitorings it touches (loaded once), households' micro-grids, and the
    rows it appends."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        self.history: list[tuple[Any, ...]] = []
        self.grids: dict[str, str] = {}
        self.new_grids: dict[str, str] = {}
        self.registered: set[str] = set()  # registered in this batch: no stored rows yet
        self.reports: list[tuple[Any, ...]] = []
        self.abnormal: list[tuple[Any, ...]] = []
        self.flags: list[tuple[Any, ...]] = []
        self.nodes: list[Any] = []

    def touch(self, mid: str, nid: int, at: datetime) -> None:
        self.dirty.add(mid)
        row = self.rows[mid]
        self.history.append((mid, nid, micros(at), *(row[c] for c in COLUMNS)))

    def change(self, e: LeanEvent, nid: int, **columns: Any) -> None:
        mid = str(e.originator_id)
        if mid not in self.rows:  # started before this read model began (cannot happen)
            return
        self.rows[mid].update(columns)
        self.touch(mid, nid, e.timestamp)


def _load(cur: ViewCursor, sql: str, keys: Sequence[str]) -> list[Row]:
    found: list[Row] = []
    for part in chunks(keys):
        cur.execute(f"{sql} ({marks(len(part))})", part)
        found.extend(cur.fetchall())
    return found


def _requirements(found: Sequence[Any]) -> str:
    return orjson.dumps([{"kind": str(r.kind), "hours": r.hours,
                          "roles": [str(x) for x in r.roles]} for r in found]).decode()


class MonitoringBoard(Projection):
    name = "monitoring_board"
    tables = ("mb_monitorings", "mb_history", "mb_reports", "mb_abnormal", "mb_flags",
              "mb_households", NODES)
    ddl = (
        f"CREATE TABLE IF NOT EXISTS mb_monitorings (monitoring_id TEXT PRIMARY KEY, {_DDL})",
        "CREATE INDEX IF NOT EXISTS mb_monitorings_grid ON mb_monitorings (grid)",
        "CREATE INDEX IF NOT EXISTS mb_monitorings_household ON mb_monitorings "
        "(household_id)",
        "CREATE INDEX IF NOT EXISTS mb_monitorings_resident ON mb_monitorings (resident_id)",
        "CREATE TABLE IF NOT EXISTS mb_history (monitoring_id TEXT NOT NULL, seq BIGINT NOT "
        f"NULL, at BIGINT NOT NULL, {_DDL}, PRIMARY KEY (monitoring_id, seq))",
        "CREATE INDEX IF NOT EXISTS mb_history_grid ON mb_history (grid)",
        "CREATE TABLE IF NOT EXISTS mb_reports (monitoring_id TEXT NOT NULL, seq BIGINT NOT "
        "NULL, at BIGINT NOT NULL, taken_at BIGINT NOT NULL, source TEXT NOT NULL, "
        "temperature DOUBLE PRECISION, symptoms TEXT NOT NULL, slot BIGINT, by_staff TEXT, "
        "PRIMARY KEY (monitoring_id, seq))",
        "CREATE TABLE IF NOT EXISTS mb_abnormal (monitoring_id TEXT NOT NULL, seq BIGINT NOT "
        "NULL, at BIGINT NOT NULL, taken_at BIGINT NOT NULL, reason TEXT NOT NULL, "
        "PRIMARY KEY (monitoring_id, seq))",
        "CREATE TABLE IF NOT EXISTS mb_flags (monitoring_id TEXT NOT NULL, due BIGINT NOT "
        "NULL, at BIGINT NOT NULL, owner_code TEXT NOT NULL, worker_id TEXT, "
        "PRIMARY KEY (monitoring_id, due))",
        "CREATE TABLE IF NOT EXISTS mb_households (household_id TEXT PRIMARY KEY, "
        "micro_grid TEXT NOT NULL)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        c = _Changes()
        mids: set[str] = set()
        households: set[str] = set()
        moved: set[str] = set()
        for _, e in events:
            kind = type(e)
            if kind in _MONITORING_EVENTS:
                mids.add(str(e.originator_id))
            elif kind is Monitoring.Started:
                households.add(str(e.household_id))
            elif kind is Household.Moved:
                moved.add(str(e.originator_id))
        columns = f"monitoring_id, {', '.join(COLUMNS)}"
        for r in [*_load(cur, f"SELECT {columns} FROM mb_monitorings WHERE monitoring_id IN",
                         sorted(mids)),
                  *_load(cur, f"SELECT {columns} FROM mb_monitorings WHERE household_id IN",
                         sorted(moved))]:
            c.rows[r[0]] = dict(zip(COLUMNS, r[1:], strict=True))
        for hid, grid in _load(cur, "SELECT household_id, micro_grid FROM mb_households "
                                    "WHERE household_id IN", sorted(households)):
            c.grids[hid] = grid
        return c

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        cur.upsert("mb_households", "household_id, micro_grid", list(c.new_grids.items()),
                   "ON CONFLICT (household_id) DO UPDATE SET micro_grid = excluded.micro_grid",
                   c.registered)
        updates = ", ".join(f"{col} = excluded.{col}" for col in COLUMNS)
        cur.insert("mb_monitorings", f"monitoring_id, {', '.join(COLUMNS)}",
                   [(k, *(c.rows[k][col] for col in COLUMNS)) for k in sorted(c.dirty)],
                   f"ON CONFLICT (monitoring_id) DO UPDATE SET {updates}")
        cur.insert("mb_history", f"monitoring_id, seq, at, {', '.join(COLUMNS)}", c.history,
                   "ON CONFLICT (monitoring_id, seq) DO NOTHING")
        cur.insert("mb_reports", "monitoring_id, seq, at, taken_at, source, temperature, "
                   "symptoms, slot, by_staff", c.reports,
                   "ON CONFLICT (monitoring_id, seq) DO NOTHING")
        cur.insert("mb_abnormal", "monitoring_id, seq, at, taken_at, reason", c.abnormal,
                   "ON CONFLICT (monitoring_id, seq) DO NOTHING")
        cur.insert("mb_flags", "monitoring_id, due, at, owner_code, worker_id", c.flags,
                   "ON CONFLICT (monitoring_id, due) DO NOTHING")

    # ---- the grid and households ---------------------------------------------------------

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(Household.Registered)
    def household_registered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        c.grids[hid] = c.new_grids[hid] = e.micro_grid
        c.registered.add(hid)

    @handles(Household.Moved)
    def household_moved(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        c.grids[hid] = c.new_grids[hid] = e.micro_grid
        for mid, row in c.rows.items():
            if row["household_id"] == hid and row["grid"] != e.micro_grid:
                row["grid"] = e.micro_grid
                c.touch(mid, nid, e.timestamp)

    # ---- monitoring ----------------------------------------------------------------------

    @handles(Monitoring.Started)
    def started(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        mid, hid = str(e.originator_id), str(e.household_id)
        c.rows[mid] = {
            "resident_id": str(e.resident_id), "household_id": hid,
            "grid": c.grids.get(hid, ""), "measure": str(e.measure),
            "measure_start": micros(e.measure_start), "starts": micros(e.starts),
            "ends": micros(e.ends) if e.ends is not None else None,
            "report_times": ",".join(e.report_times), "utc_offset": int(e.utc_offset_minutes),
            "assist_method": None, "overdue_since": None, "owner_code": None,
            "owner_level": None, "escalations": 0, "escalates_at": None, "release": None,
            "listed_at": None, "ended_at": None}
        c.touch(mid, nid, e.timestamp)

    @handles(Monitoring.Assisted)
    def assisted(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.change(e, nid, assist_method=str(e.method))

    @handles(Monitoring.Extended)
    def extended(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        row = c.rows.get(str(e.originator_id))
        if row is None:
            return
        ends = micros(e.ends)
        columns: dict[str, Any] = {"ends": ends}
        if row["release"] is not None and ends > micros(e.timestamp):  # off the release list
            columns.update(release=None, listed_at=None)
        c.change(e, nid, **columns)

    @handles(Monitoring.ReportReceived)
    def report(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        mid = str(e.originator_id)
        c.reports.append((mid, nid, micros(e.timestamp), micros(e.taken_at), str(e.source),
                          e.temperature, orjson.dumps(list(e.symptoms)).decode(),
                          micros(e.slot) if e.slot is not None else None,
                          None if e.by is None else str(e.by)))
        row = c.rows.get(mid)
        if row is not None and row["overdue_since"] is not None:  # heard from: closed
            c.change(e, nid, overdue_since=None, owner_code=None, owner_level=None,
                     escalations=0, escalates_at=None)

    @handles(Monitoring.AbnormalReading)
    def abnormal(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.abnormal.append((str(e.originator_id), nid, micros(e.timestamp),
                           micros(e.taken_at), e.reason))

    @handles(Monitoring.ReportMissed)
    def missed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        mid = str(e.originator_id)
        c.flags.append((mid, micros(e.due), micros(e.timestamp), e.owner_code,
                        None if e.worker_id is None else str(e.worker_id)))
        if e.escalates_at is not None:
            c.change(e, nid, overdue_since=micros(e.due), owner_code=e.owner_code,
                     owner_level=int(Level.MICRO_GRID), escalations=0,
                     escalates_at=micros(e.escalates_at))

    @handles(Monitoring.Escalated)
    def escalated(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        row = c.rows.get(str(e.originator_id))
        if row is None:
            return
        c.change(e, nid, owner_code=e.to_code or row["owner_code"],
                 owner_level=int(e.to_level) if e.to_level is not None else row["owner_level"],
                 escalations=int(row["escalations"]) + 1,
                 escalates_at=micros(e.escalates_at) if e.escalates_at is not None else None)

    @handles(Monitoring.DueForRelease)
    def due_for_release(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.change(e, nid, release=_requirements(e.requirements), listed_at=micros(e.timestamp))

    @handles(Monitoring.Ended)
    def ended(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.change(e, nid, ended_at=micros(e.timestamp))


PROJECTIONS: list[Projection] = [MonitoringBoard()]


# ---- queries ---------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO_GRID_LEVEL = int(Level.MICRO_GRID)


def _time(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=int(value))


def _at(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


@dataclass(frozen=True)
class Requirement:
    """What a release still needs: ``negative_test`` within ``hours``, or the ``decision`` of
    one of ``roles``."""

    kind: str
    hours: int | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class MonitoredRow:
    """A monitoring in progress as it stood at the time asked."""

    monitoring_id: str
    resident_id: str
    household_id: str
    grid: str
    measure: str
    measure_start: datetime
    starts: datetime
    ends: datetime | None
    report_times: tuple[str, ...]
    utc_offset: int
    assist_method: str | None
    overdue_since: datetime | None
    owner_code: str | None
    owner_level: int | None
    escalations: int
    escalates_at: datetime | None
    release: tuple[Requirement, ...] | None
    listed_at: datetime | None

    @property
    def due(self) -> list[datetime]:
        """Every report time of the schedule (UTC), as the aggregate derives them."""
        return report_times(self.report_times, self.utc_offset, self.starts, self.ends)


def _monitored_row(r: Row) -> MonitoredRow:
    (mid, rid, hid, grid, measure, mstart, starts, ends, times, offset, method, since, owner,
     level, escalations, escalates_at, release, listed_at) = r
    reqs = None if release is None else tuple(
        Requirement(x["kind"], x["hours"], tuple(x["roles"])) for x in orjson.loads(release))
    return MonitoredRow(mid, rid, hid, grid, measure, _at(mstart), _at(starts), _time(ends),
                        tuple(t for t in str(times).split(",") if t), int(offset), method,
                        _time(since), owner, None if level is None else int(level),
                        int(escalations), _time(escalates_at), reqs, _time(listed_at))


def _rows_at(as_of: datetime | None) -> tuple[str, list[Any]]:
    """The monitorings' rows ``k`` (now, or the last of each at or before ``as_of``)."""
    if as_of is None:
        return "mb_monitorings k", []
    return ("(SELECT h.* FROM mb_history h WHERE h.at <= ? AND h.seq = (SELECT MAX(l.seq) "
            "FROM mb_history l WHERE l.monitoring_id = h.monitoring_id AND l.at <= ?)) k",
            [micros(as_of), micros(as_of)])


def monitored_under(views: ReadViews, under: Under, *,
                    as_of: datetime | None = None) -> list[MonitoredRow]:
    """The monitorings in progress (not ended) of residents at or below ``under``, now or as
    they were at ``as_of``, by resident."""
    codes = roots(under)
    source, params = _rows_at(as_of)
    rows = views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT k.monitoring_id, "
        f"{', '.join('k.' + c for c in COLUMNS[:-1])} FROM {source} WHERE k.ended_at IS NULL "
        "AND k.grid IN (SELECT code FROM sub) ORDER BY k.resident_id", (*codes, *params))
    return [_monitored_row(r) for r in rows]


def monitoring_of_resident(views: ReadViews, resident_id: str, *,
                           as_of: datetime | None = None) -> MonitoredRow | None:
    """The resident's monitoring in progress (None: not monitored then)."""
    source, params = _rows_at(as_of)
    rows = views.query(f"SELECT k.monitoring_id, {', '.join('k.' + c for c in COLUMNS[:-1])} "
                       f"FROM {source} WHERE k.ended_at IS NULL AND k.resident_id = ?",
                       (*params, resident_id))
    return _monitored_row(rows[0]) if rows else None


@dataclass(frozen=True)
class ReportRow:
    """A report as received: when taken and recorded, from where, the reading, the report
    time it counts for, who recorded it, and why it is abnormal ('' when it is not)."""

    monitoring_id: str
    taken_at: datetime
    recorded_at: datetime
    source: str
    temperature: float | None
    symptoms: tuple[str, ...]
    slot: datetime | None
    by: str | None
    abnormal: str


def _reports(views: ReadViews, mids: Sequence[str], as_of: datetime | None) -> list[ReportRow]:
    if not mids:
        return []
    at = micros(as_of) if as_of is not None else None
    cut = " AND r.at <= ?" if at is not None else ""
    out: list[ReportRow] = []
    for part in chunks(mids):
        for mid, taken, rec, source, temp, symptoms, slot, by, why in views.query(
                "SELECT r.monitoring_id, r.taken_at, r.at, r.source, r.temperature, "
                "r.symptoms, r.slot, r.by_staff, (SELECT MIN(a.reason) FROM mb_abnormal a "
                "WHERE a.monitoring_id = r.monitoring_id AND a.taken_at = r.taken_at"
                f"{' AND a.at <= ?' if at is not None else ''}) FROM mb_reports r WHERE "
                f"r.monitoring_id IN ({marks(len(part))}){cut} ORDER BY r.seq",
                (*([at] if at is not None else []), *part, *([at] if at is not None else []))):
            out.append(ReportRow(mid, _at(taken), _at(rec), source,
                                 None if temp is None else float(temp),
                                 tuple(orjson.loads(symptoms)), _time(slot), by, why or ""))
    return out


def reports_of(views: ReadViews, monitoring_id: str, *,
               as_of: datetime | None = None) -> list[ReportRow]:
    """A monitoring's reports in the order recorded (a resident's monitoring record)."""
    return _reports(views, [monitoring_id], as_of)


def _flags(views: ReadViews, mids: Sequence[str],
           as_of: datetime | None) -> dict[str, dict[datetime, tuple[str, str | None]]]:
    out: dict[str, dict[datetime, tuple[str, str | None]]] = {}
    cut = " AND at <= ?" if as_of is not None else ""
    for part in chunks(mids):
        for mid, due, owner, worker in views.query(
                "SELECT monitoring_id, due, owner_code, worker_id FROM mb_flags WHERE "
                f"monitoring_id IN ({marks(len(part))}){cut}",
                (*part, *([micros(as_of)] if as_of is not None else []))):
            out.setdefault(mid, {})[_at(due)] = (owner, worker)
    return out


@dataclass(frozen=True)
class DueRow:
    """A report time of a day: reported, flagged missed, or still to come."""

    monitoring: MonitoredRow
    due: datetime
    reported: bool
    missed: bool


def due_on(views: ReadViews, under: Under, now: datetime, day: date | None = None, *,
           as_of: datetime | None = None) -> list[DueRow]:
    """The reports due on ``day`` (local; default the day of ``as_of`` or ``now``) at or
    below ``under``, by time (as ``monitoring_due``)."""
    ms = monitored_under(views, under, as_of=as_of)
    ids = [m.monitoring_id for m in ms]
    met: dict[str, set[datetime]] = {}
    for r in _reports(views, ids, as_of):
        if r.slot is not None:
            met.setdefault(r.monitoring_id, set()).add(r.slot)
    flags = _flags(views, ids, as_of)
    out: list[DueRow] = []
    for m in ms:
        wanted = day or local_day(as_of or now, m.utc_offset)
        out.extend(DueRow(m, d, d in met.get(m.monitoring_id, set()),
                          d in flags.get(m.monitoring_id, {}))
                   for d in m.due if local_day(d, m.utc_offset) == wanted)
    return sorted(out, key=lambda r: (r.due, r.monitoring.resident_id))


@dataclass(frozen=True)
class MissedRow:
    """A report flagged missed; ``open`` while the resident was not heard from since, owned
    by ``owner_code`` at ``level`` after ``escalations`` steps up."""

    monitoring: MonitoredRow
    due: datetime
    open: bool
    owner_code: str
    level: int
    escalations: int
    worker_id: str | None


def missed_under(views: ReadViews, under: Under, *, open_only: bool = False,
                 as_of: datetime | None = None) -> list[MissedRow]:
    """The reports flagged missed at or below ``under`` (``open_only``: of residents not
    heard from since), oldest first (as ``monitoring_missed``)."""
    ms = monitored_under(views, under, as_of=as_of)
    flags = _flags(views, [m.monitoring_id for m in ms], as_of)
    out = []
    for m in ms:
        for due, (owner, worker) in sorted(flags.get(m.monitoring_id, {}).items()):
            is_open = m.overdue_since is not None and due >= m.overdue_since
            if open_only and not is_open:
                continue
            out.append(MissedRow(
                m, due, is_open, (m.owner_code or owner) if is_open else owner,
                (MICRO_GRID_LEVEL if m.owner_level is None else m.owner_level) if is_open
                else MICRO_GRID_LEVEL,
                m.escalations if is_open else 0, worker))
    return sorted(out, key=lambda r: (r.due, r.monitoring.resident_id))


def abnormal_under(views: ReadViews, under: Under, *,
                   as_of: datetime | None = None) -> list[tuple[MonitoredRow, ReportRow]]:
    """The abnormal readings of residents under monitoring at or below ``under``, newest
    first (as ``monitoring_abnormal``)."""
    ms = {m.monitoring_id: m for m in monitored_under(views, under, as_of=as_of)}
    found = [(ms[r.monitoring_id], r) for r in _reports(views, list(ms), as_of) if r.abnormal]
    return sorted(found, key=lambda x: x[1].taken_at, reverse=True)


def release_under(views: ReadViews, under: Under, *,
                  as_of: datetime | None = None) -> list[MonitoredRow]:
    """The residents at or below ``under`` whose period ended (解除名单), with what the
    policy still requires, by end (as ``monitoring_release_list``; whether a negative test is
    on record is the household's, not the board's)."""
    found = [m for m in monitored_under(views, under, as_of=as_of) if m.release is not None]
    return sorted(found, key=lambda m: (m.ends or EPOCH, m.resident_id))


@dataclass
class NodeMonitoring:
    """A node's monitoring at a time, of residents at or below it: under monitoring, the
    reports due that day (reported, missed), open missed items (residents not heard from),
    residents with an abnormal reading, and residents due for release."""

    code: str
    parent: str | None
    monitored: int = 0
    assisted: int = 0
    due_today: int = 0
    reported_today: int = 0
    missed_today: int = 0
    overdue: int = 0
    abnormal: int = 0
    release: int = 0


def board_by_node(views: ReadViews, under: Under, now: datetime, *,
                  as_of: datetime | None = None) -> dict[str, NodeMonitoring]:
    """Counts per node of the subtree of ``under`` that has a monitoring at or below it,
    each counted at its micro-grid and every node above it, now or at ``as_of``; by code."""
    codes = roots(under)
    tree = {code: parent for code, parent in views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT n.code, n.parent FROM {NODES} n "
        "WHERE n.code IN (SELECT code FROM sub)", codes)}
    ms = monitored_under(views, under, as_of=as_of)
    due = due_on(views, under, now, as_of=as_of)
    sick = {m.monitoring_id for m, _ in abnormal_under(views, under, as_of=as_of)}
    out: dict[str, NodeMonitoring] = {}

    def add(grid: str, **deltas: int) -> None:
        code: str | None = grid
        seen: set[str] = set()
        while code is not None and code in tree and code not in seen:
            seen.add(code)
            g = out.get(code) or out.setdefault(code, NodeMonitoring(code, tree[code]))
            for k, v in deltas.items():
                setattr(g, k, getattr(g, k) + v)
            code = tree[code]

    for m in ms:
        add(m.grid, monitored=1, assisted=int(m.assist_method is not None),
            overdue=int(m.overdue_since is not None),
            abnormal=int(m.monitoring_id in sick), release=int(m.release is not None))
    for d in due:
        add(d.monitoring.grid, due_today=1, reported_today=int(d.reported),
            missed_today=int(d.missed))
    return dict(sorted(out.items()))
