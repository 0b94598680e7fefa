"""Jurisdiction-scoped reads of the boards' tables that ``projections`` has no query for.

Every query here takes the code of a grid node and returns only what lies in its subtree as
the grid rollup's tree (``gr_nodes``) is now, the same tree ``scope.node_visible`` checks:

- referrals: by their household's current micro-grid (``rp_referral`` x ``gr_households``);
- quarantine sites: by the node that runs them (``rp_site.node_code``);
- deliveries: by their recipient (the household's micro-grid, the enterprise's location) or,
  for neither, the desk's scope (``dlv_deliveries`` x ``dlv_households`` x ``ent_enterprises``);
- enterprises: by location (``ent_enterprises``);
- alert escalations and checkpoints: by the alert's or checkpoint's grid (``alb_*``);
- staff: by jurisdiction (``gr_staff``), and their workload (``staff_workload``) in batches;
- open items (待办) per node: the four boards' open rows counted per subtree, many nodes at once.

These read other projections' internal tables: a change of their shape must change these
queries too (the API tests catch it). Rows carry ids, codes, counts and states: nothing
personal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql_api.readmodel import _chunks, _marks
from gridcore.alerts import AlertState
from gridcore.delivery import DeliveryState
from gridcore.referral import ENDED
from gridcore.requests import AWAITING

SUBTREE = ("WITH RECURSIVE sub(code) AS (SELECT code FROM gr_nodes WHERE code = ? "
           "UNION ALL SELECT n.code FROM gr_nodes n JOIN sub s ON n.parent_code = s.code) ")


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# ---- referrals and quarantine sites ---------------------------------------------------------

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


def referrals_under(views: Any, code: str, states: Sequence[str] | None = None,
                    overdue: bool | None = None, limit: int = 100) -> list[ReferralRow]:
    """Referrals of the households of the subtree of ``code``, oldest first."""
    where, params = "", []
    if states:
        where += f" AND r.state IN ({_marks(len(states))})"
        params += list(states)
    if overdue is not None:
        where += " AND r.overdue = ?"
        params.append(int(overdue))
    rows = views.query(
        f"{SUBTREE}SELECT r.referral_id, r.household_id, r.kind, r.community_code, r.state, "
        "r.opened_at, r.state_since, r.transport_due, r.overdue, r.escalations, "
        "r.escalated_to, r.site_code, r.ended_at FROM rp_referral r "
        "JOIN gr_households h ON h.household_id = r.household_id "
        f"WHERE h.micro_grid IN (SELECT code FROM sub){where} "
        "ORDER BY r.opened_at, r.referral_id LIMIT ?", (code, *params, limit))
    return [_referral(r) for r in rows]


def referral_by_id(views: Any, referral_id: str) -> ReferralRow | None:
    rows = views.query(
        "SELECT referral_id, household_id, kind, community_code, state, opened_at, "
        "state_since, transport_due, overdue, escalations, escalated_to, site_code, ended_at "
        "FROM rp_referral WHERE referral_id = ?", (referral_id,))
    return _referral(rows[0]) if rows else None


def _referral(r: tuple[Any, ...]) -> ReferralRow:
    rid, hid, kind, comm, state, opened, since, due, late, esc, to, site, ended = r
    return ReferralRow(rid, hid, kind, comm, state, _at(opened) or datetime.min,
                       _at(since) or datetime.min, _at(due) or datetime.min, bool(late),
                       int(esc), to, site, _at(ended))


def referral_stages_under(views: Any, code: str) -> dict[str, int]:
    """How many referrals of the subtree's households are in each state."""
    return {s: int(n) for s, n in views.query(
        f"{SUBTREE}SELECT r.state, COUNT(*) FROM rp_referral r "
        "JOIN gr_households h ON h.household_id = r.household_id "
        "WHERE h.micro_grid IN (SELECT code FROM sub) GROUP BY r.state", (code,))}


def referral_escalations(views: Any, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each referral's escalation steps, in log order."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for part in _chunks(ids):
        for rid, level, node, due, at in views.query(
                "SELECT referral_id, level, node_code, due, at FROM rp_escalation "
                f"WHERE referral_id IN ({_marks(len(part))}) ORDER BY referral_id, "
                "notification_id", part):
            out[rid].append({"level": int(level), "node_code": node, "due": _at(due),
                             "at": _at(at)})
    return out


@dataclass(frozen=True)
class SiteRow:
    code: str
    name: str
    node_code: str
    capacity: int
    occupancy: int


def sites_under(views: Any, code: str) -> list[SiteRow]:
    """The quarantine sites run by a node of the subtree of ``code``, by code."""
    return [SiteRow(c, n, node, int(cap), int(occ)) for c, n, node, cap, occ in views.query(
        f"{SUBTREE}SELECT code, name, node_code, capacity, occupancy FROM rp_site "
        "WHERE node_code IN (SELECT code FROM sub) ORDER BY code", (code,))]


# ---- deliveries -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: str
    kind: str
    ref: str
    desk: str
    place: str
    household_id: str | None
    enterprise_id: str | None
    state: str
    zone: str | None
    attempts: int
    placed_at: datetime
    due: datetime | None
    overdue: bool
    delivered_at: datetime | None
    failed_at: datetime | None
    reason: str | None
    failures: int


_PLACE = "COALESCE(h.micro_grid, e.location, d.desk)"


def deliveries_under(views: Any, code: str, states: Sequence[str] | None = None,
                     overdue: bool | None = None, limit: int = 100) -> list[DeliveryRow]:
    """Deliveries whose recipient lies in the subtree of ``code``, oldest placed first."""
    where, params = "", []
    if states:
        where += f" AND d.state IN ({_marks(len(states))})"
        params += list(states)
    if overdue is not None:
        where += " AND d.overdue = ?"
        params.append(int(overdue))
    rows = views.query(
        f"{SUBTREE}SELECT d.delivery_id, d.kind, d.ref, d.desk, {_PLACE}, d.household_id, "
        "d.enterprise_id, d.state, d.zone, d.attempts, d.placed_at, d.due, d.overdue, "
        "d.delivered_at, d.failed_at, d.reason, d.failures FROM dlv_deliveries d "
        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
        f"WHERE {_PLACE} IN (SELECT code FROM sub){where} "
        "ORDER BY d.placed_at, d.delivery_id LIMIT ?", (code, *params, limit))
    return [_delivery(r) for r in rows]


def delivery_by_id(views: Any, delivery_id: str) -> DeliveryRow | None:
    rows = views.query(
        f"SELECT d.delivery_id, d.kind, d.ref, d.desk, {_PLACE}, d.household_id, "
        "d.enterprise_id, d.state, d.zone, d.attempts, d.placed_at, d.due, d.overdue, "
        "d.delivered_at, d.failed_at, d.reason, d.failures FROM dlv_deliveries d "
        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
        "WHERE d.delivery_id = ?", (delivery_id,))
    return _delivery(rows[0]) if rows else None


def _delivery(r: tuple[Any, ...]) -> DeliveryRow:
    did, kind, ref, desk, place, hid, eid, state, zone, att, placed, due, late, done, failed, \
        reason, fails = r
    return DeliveryRow(did, kind, ref, desk, place, hid, eid, state, zone, int(att),
                       _at(placed) or datetime.min, _at(due), bool(late), _at(done),
                       _at(failed), reason, int(fails))


def delivery_states_under(views: Any, code: str) -> dict[str, tuple[int, int]]:
    """Per state: how many deliveries of the subtree, and how many of those are overdue."""
    return {s: (int(n), int(late or 0)) for s, n, late in views.query(
        f"{SUBTREE}SELECT d.state, COUNT(*), SUM(d.overdue) FROM dlv_deliveries d "
        "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
        "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
        f"WHERE {_PLACE} IN (SELECT code FROM sub) GROUP BY d.state", (code,))}


# ---- enterprises ----------------------------------------------------------------------------

@dataclass(frozen=True)
class EnterpriseRow:
    enterprise_id: str
    credit_code: str
    name: str
    department: str
    location: str
    specialist: str | None
    status: str
    employees: int
    inspections: int
    rectified: int


def enterprises_under(views: Any, code: str, status: str | None = None,
                      limit: int = 100) -> list[EnterpriseRow]:
    """Enterprises located in the subtree of ``code``, by name."""
    where, params = ("AND status = ? ", [status]) if status else ("", [])
    rows = views.query(
        f"{SUBTREE}SELECT enterprise_id, credit_code, name, department, location, specialist, "
        "status, employees, inspections, rectified FROM ent_enterprises "
        f"WHERE location IN (SELECT code FROM sub) {where}ORDER BY name, enterprise_id "
        "LIMIT ?", (code, *params, limit))
    return [EnterpriseRow(e, cc, n, d, loc, spec, st, int(emp), int(ins), int(rec))
            for e, cc, n, d, loc, spec, st, emp, ins, rec in rows]


def enterprise_by_id(views: Any, enterprise_id: str) -> EnterpriseRow | None:
    rows = views.query(
        "SELECT enterprise_id, credit_code, name, department, location, specialist, status, "
        "employees, inspections, rectified FROM ent_enterprises WHERE enterprise_id = ?",
        (enterprise_id,))
    if not rows:
        return None
    e, cc, n, d, loc, spec, st, emp, ins, rec = rows[0]
    return EnterpriseRow(e, cc, n, d, loc, spec, st, int(emp), int(ins), int(rec))


# ---- alerts and checkpoints -----------------------------------------------------------------

@dataclass(frozen=True)
class AlertEscalationRow:
    alert_id: str
    from_code: str
    to_code: str
    to_level: int
    escalated_at: datetime
    missed_deadline: datetime
    state: str


def alert_escalations_under(views: Any, code: str,
                            awaiting_only: bool = True) -> list[AlertEscalationRow]:
    """The escalation steps of the alerts whose grid lies in the subtree of ``code`` (by
    default only of those still awaiting acknowledgement), in time order."""
    where, params = ("AND a.state = 'raised' ", []) if awaiting_only else ("", [])
    rows = views.query(
        f"{SUBTREE}SELECT e.alert_id, e.from_code, e.to_code, e.to_level, e.escalated_at, "
        "e.missed_deadline, a.state FROM alb_escalations e "
        "JOIN alb_alerts a ON a.alert_id = e.alert_id "
        f"WHERE a.grid_code IN (SELECT code FROM sub) {where}"
        "ORDER BY e.escalated_at, e.alert_id, e.version", (code, *params))
    return [AlertEscalationRow(a, f, t, int(lv), _at(at) or datetime.min,
                               _at(missed) or datetime.min, s)
            for a, f, t, lv, at, missed, s in rows]


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint_id: str
    grid_code: str
    name: str


def checkpoints_under(views: Any, code: str) -> list[CheckpointRow]:
    return [CheckpointRow(c, g, n) for c, g, n in views.query(
        f"{SUBTREE}SELECT checkpoint_id, grid_code, name FROM alb_checkpoints "
        "WHERE grid_code IN (SELECT code FROM sub) ORDER BY checkpoint_id", (code,))]


def checkpoint_hours(views: Any, ids: Sequence[str]) -> dict[str, list[tuple[datetime, int, int]]]:
    """Per checkpoint, its (UTC hour, passes, vehicle alerts) in hour order, for many
    checkpoints in two queries (``alerts_board.checkpoint_hours`` answers one at a time)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for part in _chunks(ids):
        for c, h, n in views.query("SELECT checkpoint_id, hour, passes FROM alb_passes "
                                   f"WHERE checkpoint_id IN ({_marks(len(part))})", part):
            counts.setdefault((c, h), [0, 0])[0] += int(n)
        for c, h, n in views.query(
                "SELECT source, hour, COUNT(*) FROM alb_alerts WHERE kind = 'vehicle' "
                f"AND source IN ({_marks(len(part))}) GROUP BY source, hour", part):
            counts.setdefault((c, h), [0, 0])[1] += int(n)
    out: dict[str, list[tuple[datetime, int, int]]] = {i: [] for i in ids}
    for (c, h), (p, a) in sorted(counts.items()):
        out[c].append((_at(h) or datetime.min, p, a))
    return out


# ---- staff ----------------------------------------------------------------------------------

def staff_under(views: Any, code: str, limit: int = 500) -> list[tuple[str, str]]:
    """(staff id, jurisdiction) of the staff whose jurisdiction lies in the subtree of
    ``code``, by id."""
    return [(s, j) for s, j in views.query(
        f"{SUBTREE}SELECT staff_id, jurisdiction FROM gr_staff "
        "WHERE jurisdiction IN (SELECT code FROM sub) ORDER BY staff_id LIMIT ?",
        (code, limit))]


def staff_jurisdictions(views: Any, ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _chunks(ids):
        out.update(views.query("SELECT staff_id, jurisdiction FROM gr_staff "
                               f"WHERE staff_id IN ({_marks(len(part))})", part))
    return out


def workloads(views: Any, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """``staff_workload.workload`` for many staff members in one query."""
    raw: dict[str, list[tuple[str, int, int, int, int]]] = {i: [] for i in ids}
    for part in _chunks(ids):
        for sid, day, given, moved, done, delta in views.query(
                "SELECT staff_id, day, given, moved_out, done, open_delta FROM staff_workload "
                f"WHERE staff_id IN ({_marks(len(part))}) ORDER BY staff_id, day", part):
            raw[sid].append((day, int(given), int(moved), int(done), int(delta)))
    out: dict[str, list[dict[str, Any]]] = {}
    for sid, days in raw.items():
        held = open_ = 0
        out[sid] = []
        for day, given, moved, done, delta in days:
            held += given - moved
            open_ += delta
            out[sid].append({"day": day, "assigned": held, "done": done, "open": open_,
                             "newly_assigned": given, "moved_away": moved})
    return out


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
    f"WHERE r.state NOT IN ({_marks(len(_ENDED_REFERRALS))}) GROUP BY s.root "
    "UNION ALL "
    "SELECT 'deliveries', s.root, COUNT(*) FROM dlv_deliveries d "
    "LEFT JOIN dlv_households h ON h.household_id = d.household_id "
    "LEFT JOIN ent_enterprises e ON e.enterprise_id = d.enterprise_id "
    f"JOIN sub s ON s.code = {_PLACE} WHERE d.state <> ? GROUP BY s.root "
    "UNION ALL "
    "SELECT 'requests', s.root, COUNT(*) FROM req_requests q JOIN sub s ON s.code = q.community "
    f"WHERE q.status IN ({_marks(len(_AWAITING_REQUESTS))}) GROUP BY s.root "
    "UNION ALL "
    "SELECT 'alerts', s.root, COUNT(*) FROM alb_alerts a JOIN sub s ON s.code = a.grid_code "
    "WHERE a.state <> ? GROUP BY s.root")


def open_items(views: Any, codes: Sequence[str]) -> dict[str, OpenItemsRow]:
    """待办 per node: open referrals, deliveries, requests and alerts of each node's subtree
    (as the tree is now), for many nodes in one query per 500 (all zero for an unknown
    node). The caller checks that each node lies in the jurisdiction."""
    counts: dict[str, dict[str, int]] = {c: {} for c in codes}
    for part in _chunks(codes):
        params = [*part, *_ENDED_REFERRALS, DeliveryState.DELIVERED.value,
                  *_AWAITING_REQUESTS, AlertState.RESOLVED.value]
        for board, root, n in views.query(
                _SUBTREES.format(roots=_marks(len(part))) + _OPEN_COUNTS, params):
            counts[root][str(board)] = int(n)
    return {c: OpenItemsRow(**found) for c, found in counts.items()}
