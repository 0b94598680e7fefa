"""Referral pipeline (转介流程): referrals by stage and age, overdue ones and their escalations,
and quarantine sites' occupancy and free places.

One row per referral (its stage, when it entered it, transport deadline, overdue flag,
escalations, site), one row per escalation, one row per quarantine site with its occupancy.
No personal data: residents and households appear by id only, and free texts (reasons,
vehicles, outcomes) are not kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.quarantine_site import QuarantineSite
from gridcore.referral import ENDED, Referral, ReferralKind, ReferralState
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.support import chunks, from_ts, marks

CHUNK = 500
AWAITING = (ReferralState.OPENED.value, ReferralState.ACCEPTED.value)
STATE_OF: dict[type, ReferralState] = {
    Referral.Accepted: ReferralState.ACCEPTED,
    Referral.TransportDispatched: ReferralState.IN_TRANSPORT,
    Referral.Admitted: ReferralState.ADMITTED,
    Referral.Discharged: ReferralState.DISCHARGED,
    Referral.Closed: ReferralState.CLOSED,
    Referral.Cancelled: ReferralState.CANCELLED,
}
LATER = (Referral.PersuasionRecorded, *STATE_OF, Referral.BecameOverdue, Referral.Escalated)
_LATER = frozenset(LATER)
COLUMNS = ("household_id", "resident_id", "kind", "community_code", "state", "opened_at",
           "state_since", "transport_due", "overdue", "escalations", "escalated_level",
           "escalated_to", "site_code", "persuasions", "ended_at")


def _load(cur: ViewCursor, sql: str, keys: Sequence[str]) -> list[Row]:
    found: list[Row] = []
    keys = sorted(set(keys))
    for i in range(0, len(keys), CHUNK):
        part = keys[i:i + CHUNK]
        cur.execute(f"{sql} ({','.join('?' * len(part))})", part)
        found.extend(cur.fetchall())
    return found


class _Changes:
    """One batch: the referral rows it touches (loaded once), its escalations, new sites and
    occupancy changes."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self.rows = rows
        self.dirty: set[str] = set()
        self.escalations: list[tuple[Any, ...]] = []
        self.sites: list[tuple[Any, ...]] = []
        self.occupancy: dict[str, int] = {}

    def referral(self, e: LeanEvent) -> dict[str, Any] | None:
        """The referral's row, marked to be written (None: opened before this read model)."""
        rid = str(e.originator_id)
        r = self.rows.get(rid)
        if r is not None:
            self.dirty.add(rid)
        return r


class ReferralPipeline(Projection):
    name = "referral_pipeline"
    tables = ("rp_referral", "rp_escalation", "rp_site")
    ddl = (
        "CREATE TABLE IF NOT EXISTS rp_referral (referral_id TEXT PRIMARY KEY, household_id "
        "TEXT NOT NULL, resident_id TEXT NOT NULL, kind TEXT NOT NULL, community_code TEXT NOT "
        "NULL, state TEXT NOT NULL, opened_at TEXT NOT NULL, state_since TEXT NOT NULL, "
        "transport_due TEXT NOT NULL, overdue BIGINT NOT NULL, escalations BIGINT NOT NULL, "
        "escalated_level BIGINT, escalated_to TEXT, site_code TEXT, persuasions BIGINT NOT "
        "NULL, ended_at TEXT)",
        "CREATE INDEX IF NOT EXISTS rp_referral_state ON rp_referral (community_code, state)",
        "CREATE TABLE IF NOT EXISTS rp_escalation (referral_id TEXT NOT NULL, notification_id "
        "BIGINT NOT NULL, level BIGINT NOT NULL, node_code TEXT NOT NULL, due TEXT NOT NULL, "
        "at TEXT NOT NULL, PRIMARY KEY (referral_id, notification_id))",
        "CREATE TABLE IF NOT EXISTS rp_site (site_id TEXT PRIMARY KEY, code TEXT NOT NULL, "
        "name TEXT NOT NULL, node_code TEXT NOT NULL, capacity BIGINT NOT NULL, "
        "occupancy BIGINT NOT NULL)",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        ids = {str(e.originator_id) for _, e in events if type(e) in _LATER}
        return _Changes({
            r[0]: dict(zip(COLUMNS, r[1:], strict=True))
            for r in _load(cur, f"SELECT referral_id, {', '.join(COLUMNS)} FROM rp_referral "
                                "WHERE referral_id IN", list(ids))})

    @handles(QuarantineSite.Registered)
    def site_registered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.sites.append((str(e.originator_id), e.code, e.name, e.node_code, e.capacity))

    @handles(QuarantineSite.ResidentAdmitted)
    def site_admitted(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        sid = str(e.originator_id)
        c.occupancy[sid] = c.occupancy.get(sid, 0) + 1

    @handles(QuarantineSite.ResidentDischarged)
    def site_discharged(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        sid = str(e.originator_id)
        c.occupancy[sid] = c.occupancy.get(sid, 0) - 1

    @handles(Referral.Opened)
    def opened(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        rid, at = str(e.originator_id), e.timestamp.isoformat()
        c.rows[rid] = {
            "household_id": str(e.household_id), "resident_id": str(e.resident_id),
            "kind": e.kind.value, "community_code": e.community_code,
            "state": ReferralState.OPENED.value, "opened_at": at, "state_since": at,
            "transport_due": e.transport_due.isoformat(), "overdue": 0,
            "escalations": 0, "escalated_level": None, "escalated_to": None,
            "site_code": None, "persuasions": 0, "ended_at": None}
        c.dirty.add(rid)

    @handles(*STATE_OF)
    def stage(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        r = c.referral(e)
        if r is None:
            return
        at, state = e.timestamp.isoformat(), STATE_OF[type(e)]
        r["state"], r["state_since"] = state.value, at
        if state in ENDED:
            r["ended_at"] = at
        if state is ReferralState.ADMITTED:
            r["site_code"] = e.site_code
        if state is ReferralState.ACCEPTED and e.minutes:
            r["persuasions"] += 1

    @handles(Referral.PersuasionRecorded)
    def persuaded(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        r = c.referral(e)
        if r is not None:
            r["persuasions"] += 1

    @handles(Referral.BecameOverdue)
    def became_overdue(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        r = c.referral(e)
        if r is not None:
            r["overdue"] = 1

    @handles(Referral.Escalated)
    def escalated(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        r = c.referral(e)
        if r is None:
            return
        r["escalations"] += 1
        r["escalated_level"], r["escalated_to"] = int(e.level), e.node_code
        c.escalations.append((str(e.originator_id), nid, int(e.level), e.node_code,
                              e.due.isoformat(), e.timestamp.isoformat()))

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        cur.executemany("INSERT INTO rp_site VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (site_id) "
                        "DO UPDATE SET capacity = excluded.capacity", c.sites)
        cur.executemany("UPDATE rp_site SET occupancy = occupancy + ? WHERE site_id = ?",
                        [(d, s) for s, d in sorted(c.occupancy.items()) if d])
        updates = ", ".join(f"{col} = excluded.{col}" for col in COLUMNS)
        cur.executemany(
            f"INSERT INTO rp_referral (referral_id, {', '.join(COLUMNS)}) VALUES "
            f"({', '.join('?' * (len(COLUMNS) + 1))}) ON CONFLICT (referral_id) DO UPDATE SET "
            f"{updates}", [(rid, *(c.rows[rid][col] for col in COLUMNS))
                           for rid in sorted(c.dirty)])
        cur.executemany("INSERT INTO rp_escalation VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                        "(referral_id, notification_id) DO NOTHING", c.escalations)


PROJECTIONS: list[Projection] = [ReferralPipeline()]


# ---- queries ---------------------------------------------------------------------------------

def pipeline(views: ReadViews, community: str | None = None) -> dict[str, dict[str, Any]]:
    """Referrals per stage (every stage listed, with its label), optionally of one community."""
    where, params = ("WHERE community_code = ?", [community]) if community else ("", [])
    counts: dict[str, int] = dict(views.query(f"SELECT state, COUNT(*) FROM rp_referral {where} "
                              "GROUP BY state", params))
    return {s.value: {"label": s.label, "count": int(counts.get(s.value, 0)),
                      "open": s not in ENDED} for s in ReferralState}


def _hours(since: str, now: datetime) -> float:
    return (now - datetime.fromisoformat(since)).total_seconds() / 3600


def open_referrals(views: ReadViews, now: datetime,
                   community: str | None = None) -> list[dict[str, Any]]:
    """Referrals not yet ended, oldest first, with their age and time in the current stage
    (hours at ``now``)."""
    ended = [s.value for s in ENDED]
    sql = ("SELECT referral_id, household_id, kind, community_code, state, opened_at, "
           "state_since, transport_due, overdue, escalations, escalated_to FROM rp_referral "
           f"WHERE state NOT IN ({', '.join('?' * len(ended))})")
    params: list[Any] = list(ended)
    if community:
        sql, params = sql + " AND community_code = ?", [*params, community]
    out = []
    for (rid, hid, kind, code, state, opened, since, due, overdue, esc,
         esc_to) in views.query(sql + " ORDER BY opened_at, referral_id", params):
        out.append({"referral_id": UUID(rid), "household_id": UUID(hid), "kind": kind,
                    "kind_label": ReferralKind(kind).label, "community": code, "state": state,
                    "state_label": ReferralState(state).label,
                    "age_hours": _hours(opened, now), "stage_hours": _hours(since, now),
                    "transport_due": datetime.fromisoformat(due), "overdue": bool(overdue),
                    "escalations": int(esc), "escalated_to": esc_to})
    return out


def overdue(views: ReadViews, community: str | None = None) -> list[dict[str, Any]]:
    """Referrals recorded overdue and still awaiting transport, with how far they escalated."""
    sql = ("SELECT referral_id, community_code, state, transport_due, escalations, "
           "escalated_level, escalated_to FROM rp_referral WHERE overdue = 1 AND state IN (?, ?)")
    params: list[Any] = list(AWAITING)
    if community:
        sql, params = sql + " AND community_code = ?", [*params, community]
    return [{"referral_id": UUID(r), "community": c, "state": s,
             "transport_due": datetime.fromisoformat(d), "escalations": int(n),
             "escalated_level": lv, "escalated_to": to}
            for r, c, s, d, n, lv, to in views.query(sql + " ORDER BY transport_due, "
                                                     "referral_id", params)]


def escalations(views: ReadViews, node_code: str | None = None) -> list[dict[str, Any]]:
    """Every escalation step in log order, optionally those that reached ``node_code``."""
    where, params = ("WHERE node_code = ?", [node_code]) if node_code else ("", [])
    return [{"referral_id": UUID(r), "level": int(lv), "node_code": n,
             "due": datetime.fromisoformat(d), "at": datetime.fromisoformat(a)}
            for r, lv, n, d, a in views.query(
                "SELECT referral_id, level, node_code, due, at FROM rp_escalation "
                f"{where} ORDER BY notification_id", params)]


def site_occupancy(views: ReadViews) -> list[dict[str, Any]]:
    """Each quarantine site's capacity, occupancy and free places, by code."""
    return [{"code": c, "name": n, "node_code": node, "capacity": int(cap),
             "occupancy": int(occ), "free": max(0, int(cap) - int(occ))}
            for c, n, node, cap, occ in views.query(
                "SELECT code, name, node_code, capacity, occupancy FROM rp_site ORDER BY code")]


# ---- rows the API reads (``projections.queries`` scopes them to a jurisdiction) ----------------

@dataclass(frozen=True)
class ReferralRow:
    referral_id: str
    household_id: str
    kind: str
    community: str
    state: str
    opened_at: datetime
    state_since: datetime
    transport_due: datetime
    overdue: bool
    escalations: int
    escalated_to: str | None
    site_code: str | None
    ended_at: datetime | None


REFERRAL_COLUMNS = ("r.referral_id, r.household_id, r.kind, r.community_code, r.state, "
                    "r.opened_at, r.state_since, r.transport_due, r.overdue, r.escalations, "
                    "r.escalated_to, r.site_code, r.ended_at")
"""An ``rp_referral r`` row as ``referral_row`` reads it."""


def referral_row(r: Sequence[Any]) -> ReferralRow:
    rid, hid, kind, comm, state, opened, since, due, late, esc, to, site, ended = r
    return ReferralRow(rid, hid, kind, comm, state, from_ts(opened) or datetime.min,
                       from_ts(since) or datetime.min, from_ts(due) or datetime.min, bool(late),
                       int(esc), to, site, from_ts(ended))


def referral_by_id(views: ReadViews, referral_id: str) -> ReferralRow | None:
    rows = views.query(f"SELECT {REFERRAL_COLUMNS} FROM rp_referral r WHERE r.referral_id = ?",
                       (referral_id,))
    return referral_row(rows[0]) if rows else None


@dataclass(frozen=True)
class EscalationStep:
    level: int
    node_code: str
    due: datetime
    at: datetime


def escalations_of(views: ReadViews, ids: Sequence[str]) -> dict[str, list[EscalationStep]]:
    """Each referral's escalation steps, in log order (many referrals at once)."""
    out: dict[str, list[EscalationStep]] = {i: [] for i in ids}
    for part in chunks(ids):
        for rid, level, node, due, at in views.query(
                "SELECT referral_id, level, node_code, due, at FROM rp_escalation "
                f"WHERE referral_id IN ({marks(len(part))}) ORDER BY referral_id, "
                "notification_id", part):
            out[rid].append(EscalationStep(int(level), node, from_ts(due) or datetime.min,
                                           from_ts(at) or datetime.min))
    return out


@dataclass(frozen=True)
class SiteRow:
    code: str
    name: str
    node_code: str
    capacity: int
    occupancy: int
