"""The alerts board (告警看板): open camera and vehicle alerts by grid and age, their
escalations, and vehicle passes and alerts per checkpoint per hour (卡口每小时通行与告警).

Passes come from the counted tallies (``PassTally.Counted``: every pass, alerting or not);
vehicle alerts are counted in the UTC hour of their pass. No personal data is kept: no plate,
no name, only ids and codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.alerts import Alert, AlertKind, AlertState, Outcome
from gridcore.checkpoint import Checkpoint
from gridcore.grid import GridNode, Level
from gridcore.vehicle import PassTally, hour_start
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.support import (
    Patches,
    Under,
    apply_nodes,
    chunks,
    from_ts,
    marks,
    node_ddl,
    roots,
    subtree_cte,
    ts,
)

NODES = "alb_nodes"


class AlertsBoard(Projection):
    name = "alerts_board"
    tables = ("alb_alerts", "alb_escalations", "alb_passes", "alb_checkpoints", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS alb_alerts (alert_id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
        "source TEXT NOT NULL, grid_code TEXT NOT NULL, owner_code TEXT NOT NULL, "
        "level BIGINT NOT NULL, assignee TEXT, state TEXT NOT NULL, first_at TEXT NOT NULL, "
        "hour TEXT NOT NULL, raised_at TEXT NOT NULL, deadline TEXT, "
        "escalations BIGINT NOT NULL, detections BIGINT NOT NULL, acknowledged_at TEXT, "
        "acknowledged_by TEXT, resolved_at TEXT, outcome TEXT)",
        "CREATE INDEX IF NOT EXISTS alb_alerts_open ON alb_alerts (state, grid_code)",
        "CREATE INDEX IF NOT EXISTS alb_alerts_source ON alb_alerts (kind, source, hour)",
        "CREATE TABLE IF NOT EXISTS alb_escalations (alert_id TEXT NOT NULL, "
        "version BIGINT NOT NULL, from_code TEXT NOT NULL, to_code TEXT NOT NULL, "
        "to_level BIGINT NOT NULL, escalated_at TEXT NOT NULL, missed_deadline TEXT NOT NULL, "
        "PRIMARY KEY (alert_id, version))",
        "CREATE TABLE IF NOT EXISTS alb_passes (checkpoint_id TEXT NOT NULL, hour TEXT NOT NULL, "
        "passes BIGINT NOT NULL, PRIMARY KEY (checkpoint_id, hour))",
        "CREATE TABLE IF NOT EXISTS alb_checkpoints (checkpoint_id TEXT PRIMARY KEY, "
        "grid_code TEXT NOT NULL, name TEXT NOT NULL)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        return _Changes(Patches("alb_alerts", "alert_id"))

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        c.alerts.flush(cur)
        cur.executemany(
            "INSERT INTO alb_escalations (alert_id, version, from_code, to_code, to_level, "
            "escalated_at, missed_deadline) VALUES (?, ?, ?, ?, ?, ?, ?)", c.escalations)
        cur.executemany(
            "INSERT INTO alb_passes (checkpoint_id, hour, passes) VALUES (?, ?, ?) "
            "ON CONFLICT (checkpoint_id, hour) DO UPDATE SET "
            "passes = alb_passes.passes + excluded.passes",
            [(cp, h, n) for (cp, h), n in c.passes.items()])
        cur.executemany("INSERT INTO alb_checkpoints (checkpoint_id, grid_code, name) "
                        "VALUES (?, ?, ?) ON CONFLICT (checkpoint_id) DO NOTHING",
                        c.checkpoints)

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(Alert.Raised)
    def raised(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.alerts.insert(str(e.originator_id), dict(
            kind=e.kind.value, source=e.source, grid_code=e.grid_code,
            owner_code=e.grid_code, level=int(e.level), assignee=_str(e.assignee),
            state=AlertState.RAISED.value, first_at=ts(e.first_at),
            hour=ts(hour_start(e.first_at)), raised_at=ts(e.timestamp),
            deadline=ts(e.deadline), escalations=0, detections=1,
            acknowledged_at=None, acknowledged_by=None, resolved_at=None, outcome=None))

    @handles(Alert.DetectionAttached)
    def detection_attached(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.alerts.add(str(e.originator_id), detections=1)

    @handles(Alert.Escalated)
    def escalated(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = str(e.originator_id)
        c.alerts.set(key, owner_code=e.to_code, level=int(e.to_level), deadline=ts(e.deadline))
        c.alerts.add(key, escalations=1)
        c.escalations.append((key, e.originator_version, e.from_code, e.to_code,
                              int(e.to_level), ts(e.timestamp), ts(e.missed_deadline)))

    @handles(Alert.DeadlineMissed)
    def deadline_missed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.alerts.set(str(e.originator_id), deadline=None)

    @handles(Alert.Acknowledged)
    def acknowledged(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.alerts.set(str(e.originator_id), state=AlertState.ACKNOWLEDGED.value, deadline=None,
                     acknowledged_at=ts(e.timestamp), acknowledged_by=str(e.by))

    @handles(Alert.Resolved)
    def resolved(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.alerts.set(str(e.originator_id), state=AlertState.RESOLVED.value, deadline=None,
                     resolved_at=ts(e.timestamp), outcome=e.outcome.value)

    @handles(Checkpoint.Registered)
    def checkpoint_registered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.checkpoints.append((e.code, e.grid_code, e.name))

    @handles(PassTally.Counted)
    def passes_counted(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        for count in e.counts:
            hour = ts(count.hour)
            assert hour is not None
            key = (count.checkpoint_id, hour)
            c.passes[key] = c.passes.get(key, 0) + count.passes


@dataclass
class _Changes:
    """One batch: the alerts' rows folded (``Patches``), escalation steps, passes per
    checkpoint and hour, new checkpoints and the grid's node events."""

    alerts: Patches
    escalations: list[tuple[Any, ...]] = field(default_factory=list)
    passes: dict[tuple[str, str], int] = field(default_factory=dict)
    checkpoints: list[tuple[str, str, str]] = field(default_factory=list)
    nodes: list[Any] = field(default_factory=list)


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


# ---- queries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenAlert:
    alert_id: UUID
    kind: AlertKind
    source: str
    grid_code: str
    owner_code: str
    level: Level
    assignee: UUID | None
    state: AlertState
    first_at: datetime
    raised_at: datetime
    deadline: datetime | None
    escalations: int
    detections: int
    age_minutes: float

    @property
    def label(self) -> str:
        return (f"{self.kind.label} 告警 {self.state.label} · {self.grid_code} · "
                f"{self.age_minutes:.0f} 分钟 minutes")


_OPEN = ("SELECT a.alert_id, a.kind, a.source, a.grid_code, a.owner_code, a.level, a.assignee, "
         "a.state, a.first_at, a.raised_at, a.deadline, a.escalations, a.detections "
         "FROM alb_alerts a")


def open_alerts(views: ReadViews, now: datetime, scope_code: Under | None = None,
                kind: AlertKind | str | None = None) -> list[OpenAlert]:
    """Alerts not resolved yet, oldest raised first, with their age at ``now``; within a
    scope: the alerts whose camera or checkpoint lies in the scope's subtree (of one node, or
    of each of several)."""
    sql, params = _OPEN + " WHERE a.state <> ?", [AlertState.RESOLVED.value]
    if scope_code is not None:
        codes = roots(scope_code)
        sql = (subtree_cte(NODES, len(codes)) + _OPEN + " JOIN sub ON sub.code = a.grid_code "
               "WHERE a.state <> ?")
        params = [*codes, *params]
    if kind is not None:
        sql, params = sql + " AND a.kind = ?", [*params, AlertKind(kind).value]
    return _alerts(views.query(sql + " ORDER BY a.raised_at, a.alert_id", params), now)


def alert_by_id(views: ReadViews, now: datetime, alert_id: str) -> OpenAlert | None:
    """One alert by id, whatever its state (None when the board has no such alert)."""
    found = _alerts(views.query(_OPEN + " WHERE a.alert_id = ?", [alert_id]), now)
    return found[0] if found else None


def _alerts(rows: list[Row], now: datetime) -> list[OpenAlert]:
    out = []
    for aid, k, src, grid, owner, level, who, state, first, raised, due, esc, det in rows:
        raised_at = from_ts(raised) or now
        out.append(OpenAlert(UUID(aid), AlertKind(k), src, grid, owner, Level(int(level)),
                             UUID(who) if who else None, AlertState(state),
                             from_ts(first) or raised_at, raised_at, from_ts(due), int(esc),
                             int(det), (now - raised_at).total_seconds() / 60))
    return out


@dataclass(frozen=True)
class GridCount:
    """One grid's open alerts: how many, how many still unacknowledged, the oldest."""

    grid_code: str
    open: int
    unacknowledged: int
    oldest_raised_at: datetime


def open_by_grid(views: ReadViews) -> dict[str, GridCount]:
    rows = views.query(
        "SELECT grid_code, COUNT(*) AS n, SUM(CASE WHEN state = ? THEN 1 ELSE 0 END) AS raised, "
        "MIN(raised_at) AS oldest FROM alb_alerts WHERE state <> ? GROUP BY grid_code "
        "ORDER BY grid_code", (AlertState.RAISED.value, AlertState.RESOLVED.value))
    return {g: GridCount(g, int(n), int(r), from_ts(o) or datetime.min)
            for g, n, r, o in rows}


@dataclass(frozen=True)
class EscalationRow:
    alert_id: UUID
    from_code: str
    to_code: str
    to_level: Level
    escalated_at: datetime
    missed_deadline: datetime
    state: AlertState


def escalations(views: ReadViews, awaiting_only: bool = True) -> list[EscalationRow]:
    """Every escalation step (or, by default, those of alerts still awaiting acknowledgement),
    in time order."""
    sql = ("SELECT e.alert_id, e.from_code, e.to_code, e.to_level, e.escalated_at, "
           "e.missed_deadline, a.state FROM alb_escalations e "
           "JOIN alb_alerts a ON a.alert_id = e.alert_id")
    params: list[Any] = []
    if awaiting_only:
        sql, params = sql + " WHERE a.state = ?", [AlertState.RAISED.value]
    rows = views.query(sql + " ORDER BY e.escalated_at, e.alert_id, e.version", params)
    return [EscalationRow(UUID(a), f, t, Level(int(lv)), from_ts(at) or datetime.min,
                          from_ts(missed) or datetime.min, AlertState(s))
            for a, f, t, lv, at, missed, s in rows]


@dataclass(frozen=True)
class CheckpointHour:
    """Passes counted and vehicle alerts raised at one checkpoint in one UTC hour."""

    checkpoint_id: str
    hour: datetime
    passes: int
    alerts: int


def checkpoint_hours(views: ReadViews, checkpoint_id: str | None = None) -> list[CheckpointHour]:
    """Per checkpoint and hour, in order: the counted passes and the vehicle alerts."""
    counts: dict[tuple[str, str], list[int]] = {}
    where, params = "", []
    if checkpoint_id is not None:
        where, params = " AND checkpoint_id = ?", [checkpoint_id]
    for c, h, n in views.query("SELECT checkpoint_id, hour, passes FROM alb_passes WHERE 1 = 1"
                               + where, params):
        counts.setdefault((c, h), [0, 0])[0] += int(n)
    alert_where = " AND source = ?" if checkpoint_id is not None else ""
    for c, h, n in views.query(
            "SELECT source, hour, COUNT(*) AS n FROM alb_alerts WHERE kind = ?" + alert_where
            + " GROUP BY source, hour", [AlertKind.VEHICLE.value, *params]):
        counts.setdefault((c, h), [0, 0])[1] += int(n)
    return [CheckpointHour(c, from_ts(h) or datetime.min, p, a)
            for (c, h), (p, a) in sorted(counts.items())]


def outcomes(views: ReadViews) -> dict[Outcome, int]:
    """Resolved alerts by outcome (误报 / 确认违规)."""
    rows = views.query("SELECT outcome, COUNT(*) AS n FROM alb_alerts WHERE state = ? "
                       "GROUP BY outcome", (AlertState.RESOLVED.value,))
    return {Outcome(o): int(n) for o, n in rows}


PROJECTIONS: list[Projection] = [AlertsBoard()]


# ---- rows the API reads (``projections.queries`` scopes them to a jurisdiction) ----------------

def alert_grid(views: ReadViews, alert_id: str) -> str | None:
    """The grid of an alert's camera or checkpoint (None for an alert unknown here)."""
    found = views.query("SELECT grid_code FROM alb_alerts WHERE alert_id = ?", (alert_id,))
    return str(found[0][0]) if found and found[0][0] is not None else None


@dataclass(frozen=True)
class AlertEscalationRow:
    alert_id: str
    from_code: str
    to_code: str
    to_level: int
    escalated_at: datetime
    missed_deadline: datetime
    state: str


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint_id: str
    grid_code: str
    name: str


def checkpoint_hours_of(views: ReadViews, ids: Sequence[str]
                        ) -> dict[str, list[tuple[datetime, int, int]]]:
    """Per checkpoint, its (UTC hour, passes, vehicle alerts) in hour order, for many
    checkpoints in two statements per ``CHUNK`` (``checkpoint_hours`` answers one at a
    time)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for part in chunks(ids):
        for c, h, n in views.query("SELECT checkpoint_id, hour, passes FROM alb_passes "
                                   f"WHERE checkpoint_id IN ({marks(len(part))})", part):
            counts.setdefault((c, h), [0, 0])[0] += int(n)
        for c, h, n in views.query(
                "SELECT source, hour, COUNT(*) FROM alb_alerts WHERE kind = 'vehicle' "
                f"AND source IN ({marks(len(part))}) GROUP BY source, hour", part):
            counts.setdefault((c, h), [0, 0])[1] += int(n)
    out: dict[str, list[tuple[datetime, int, int]]] = {i: [] for i in ids}
    for (c, h), (p, a) in sorted(counts.items()):
        out[c].append((from_ts(h) or datetime.min, p, a))
    return out
