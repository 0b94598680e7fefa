"""Household timeline (户档案时间线): every event of one household across the areas — household
changes, sweep visits, referrals, deliveries, residents' requests — in log order, with who did
it and a Chinese+English label.

Rows never carry personal data: no names, phones, addresses, request texts or other free text
(reasons, notes, replies); only labels of enums, codes, counts and staff ids. So an erasure
(``Household.ResidentErased``) leaves nothing to blank out; it adds its own row.

Referrals, deliveries, requests and health monitorings (who reported when and how, missed
reports, release; never a reading or a symptom) name their household in their first event
only; the projection keeps entity → household links to place their later events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.alerts import Alert
from gridcore.delivery import Delivery
from gridcore.findings import symptomatic
from gridcore.household import Household
from gridcore.monitoring import Monitoring
from gridcore.referral import Referral
from gridcore.requests import ResidentRequest
from gridcore.sweep import Visit, fevers
from projections.base import LeanEvent, Notified, Projection, ReadViews, ViewCursor, handles
from projections.support import chunks, marks

CHUNK = 500

Row = tuple[str, str, str | None, str]
"""kind, label, actor, detail"""


H = Household
HOUSEHOLD_ROWS: dict[type, Callable[[LeanEvent], Row]] = {
    H.Registered: lambda e: ("household.registered", "登记入户 registered", None,
                             f"{len(e.members)} members, micro-grid {e.micro_grid}"),
    H.Moved: lambda e: ("household.moved", "迁移网格 moved", None, f"micro-grid {e.micro_grid}"),
    H.MemberAdded: lambda e: ("household.member_added", "新增成员 member added", None,
                              "1 member"),
    H.MemberRemoved: lambda e: ("household.member_removed", "成员迁出 member removed", None,
                                "1 member"),
    H.VulnerabilityMarked: lambda e: (
        "household.vulnerability", "重点人群标记 vulnerability marked", None,
        f"{e.vulnerability.label}: {'是 yes' if e.present else '否 no'}"),
    H.HealthChanged: lambda e: ("household.health", "健康状况变更 health changed", _id(e.by),
                                f"{e.previous.label} → {e.health.label}"),
    H.MeasureChanged: lambda e: ("household.measure", "管控措施变更 measure changed", _id(e.by),
                                 f"{e.previous.label} → {e.measure.label}"
                                 + (f"，至 {e.until:%Y-%m-%d}" if e.until else "")),
    H.MeasureExtended: lambda e: ("household.measure_extended", "管控延期 measure extended",
                                  _id(e.by), f"{e.measure.label}，至 {e.until:%Y-%m-%d}"),
    H.Tagged: lambda e: ("household.tagged", "标记 tagged", _id(e.by), e.tag.kind.label),
    H.Untagged: lambda e: ("household.untagged", "取消标记 untagged", _id(e.by), e.kind.label),
    H.TestRecorded: lambda e: ("household.test", "核酸检测 test recorded", None,
                               "阴性 negative" if e.negative else "阳性 positive"),
    H.StaffLinked: lambda e: ("household.staff_linked", "关联工作人员 staff linked", None, ""),
    H.ResidentErased: lambda e: ("household.erased", "个人信息已删除 personal data erased", None,
                                 ""),
}
"""Each household event's row (kind, label, actor, detail), by its class."""


def _visit(e: Visit.Recorded) -> Row:
    a = e.record
    return ("visit.recorded", "排查走访 sweep visit", _id(a.staff_id),
            f"{a.method.label}, {a.outcome.label}, {len(a.accounted)} accounted, "
            f"{len(fevers(a))} fever, {len(symptomatic(a))} symptomatic, "
            f"{len(a.close_contacts)} close contacts, {len(a.arrivals)} arrivals, "
            f"{len(a.visitors)} visitors from elsewhere")


REFERRAL_LABELS: dict[type, tuple[str, str]] = {
    Referral.Opened: ("referral.opened", "转介 referral opened"),
    Referral.PersuasionRecorded: ("referral.persuasion", "劝导 persuasion"),
    Referral.Accepted: ("referral.accepted", "同意转介 referral accepted"),
    Referral.TransportDispatched: ("referral.dispatched", "转运 transport dispatched"),
    Referral.Admitted: ("referral.admitted", "收治 admitted"),
    Referral.Discharged: ("referral.discharged", "解除 discharged"),
    Referral.Closed: ("referral.closed", "办结 referral closed"),
    Referral.Cancelled: ("referral.cancelled", "撤销 referral cancelled"),
    Referral.BecameOverdue: ("referral.overdue", "转运超时 transport overdue"),
    Referral.Escalated: ("referral.escalated", "上报 escalated"),
}
DELIVERY_LABELS: dict[type, tuple[str, str]] = {
    Delivery.Placed: ("delivery.placed", "配送下单 delivery placed"),
    Delivery.Purchased: ("delivery.purchased", "统一采买 purchased"),
    Delivery.Dispatched: ("delivery.dispatched", "配送中 out for delivery"),
    Delivery.Delivered: ("delivery.delivered", "已送达 delivered"),
    Delivery.Failed: ("delivery.failed", "配送失败 delivery failed"),
    Delivery.Overdue: ("delivery.overdue", "配送超时 delivery overdue"),
}
R = ResidentRequest
REQUEST_LABELS: dict[type, tuple[str, str]] = {
    R.Filed: ("request.filed", "群众诉求 request filed"),
    R.Reclassified: ("request.reclassified", "重新分类 reclassified"),
    R.Assigned: ("request.assigned", "分派 assigned"),
    R.Escalated: ("request.escalated", "上报 escalated"),
    R.DeadlineMissed: ("request.deadline_missed", "超期 deadline missed"),
    R.Resolved: ("request.resolved", "已答复 answered"),
    R.Rated: ("request.rated", "评价 rated"),
    R.Reopened: ("request.reopened", "重新办理 reopened"),
    R.DetailsErased: ("request.erased", "诉求内容已删除 details erased"),
}
ALERT_LABELS: dict[type, tuple[str, str]] = {
    Alert.Raised: ("alert.raised", "门禁告警 camera alert"),
    Alert.DetectionAttached: ("alert.detection", "再次检测 detection attached"),
    Alert.Escalated: ("alert.escalated", "告警上报 alert escalated"),
    Alert.Acknowledged: ("alert.acknowledged", "告警签收 alert acknowledged"),
    Alert.Resolved: ("alert.resolved", "告警处置 alert resolved"),
}
M = Monitoring
MONITORING_LABELS: dict[type, tuple[str, str]] = {
    M.Started: ("monitoring.started", "健康监测开始 monitoring started"),
    M.Assisted: ("monitoring.assisted", "协助上报 assisted reporting"),
    M.Extended: ("monitoring.extended", "监测延长 monitoring extended"),
    M.ReportReceived: ("monitoring.report", "健康上报 monitoring report"),
    M.AbnormalReading: ("monitoring.abnormal", "监测异常 abnormal reading"),
    M.ReportMissed: ("monitoring.missed", "漏报 report missed"),
    M.Escalated: ("monitoring.escalated", "漏报上报 missed report escalated"),
    M.DueForRelease: ("monitoring.due_for_release", "待解除 due for release"),
    M.Ended: ("monitoring.ended", "监测结束 monitoring ended"),
}
HOUSEHOLD_EVENTS = tuple(HOUSEHOLD_ROWS)
FIRST = (Referral.Opened, Delivery.Placed, R.Filed, Alert.Raised, M.Started)
LABELS: dict[type, tuple[str, str]] = {**REFERRAL_LABELS, **DELIVERY_LABELS, **REQUEST_LABELS,
                                       **ALERT_LABELS, **MONITORING_LABELS}
"""(kind, label) of the events of referrals, deliveries, requests, alerts and health
monitoring."""
LATER = tuple(c for c in LABELS if c not in FIRST)
"""Events that name their household only through the first event of their entity."""
_LATER = frozenset(LATER)


def _id(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _by(e: LeanEvent) -> tuple[str | None, str]:
    return _id(getattr(e, "by", None)), ""


DETAILS: dict[type, Callable[[LeanEvent], tuple[str | None, str]]] = {
    Referral.Opened: lambda e: (_id(e.by), e.kind.label),
    Referral.PersuasionRecorded: lambda e: (_id(e.by), f"{e.minutes} min"),
    Referral.Accepted: lambda e: (_id(e.by), f"{e.minutes} min"),
    Referral.Admitted: lambda e: (_id(e.by), f"site {e.site_code}" if e.site_code else ""),
    Referral.Escalated: lambda e: (None, f"{e.level.label} {e.node_code}"),
    Delivery.Placed: lambda e: (None, f"{e.kind.label}, {len(e.items)} items"),
    Delivery.Purchased: lambda e: (_id(e.by), f"batch {e.batch_no}"),
    Delivery.Dispatched: lambda e: ((_id(e.staff[0]) if e.staff else None), f"zone {e.zone}"),
    R.Filed: lambda e: (None, f"{e.channel.label}, {e.category.label}, {e.grade.label}"),
    R.Reclassified: lambda e: (None, f"{e.category.label}, {e.grade.label}"),
    R.Assigned: lambda e: (_id(e.staff_id), ""),
    R.Escalated: lambda e: (None, f"{e.to_level.label} {e.to_code}"),
    R.Rated: lambda e: (None, f"{e.rating}/5"),
    Alert.Raised: lambda e: (_id(e.assignee),
                             f"{e.source}, {e.direction.label if e.direction else ''}"),
    Alert.DetectionAttached: lambda e: (None, e.direction.label),
    Alert.Escalated: lambda e: (None, f"{e.to_level.label} {e.to_code}"),
    Alert.Resolved: lambda e: (_id(e.by), e.outcome.label),  # never the action's free text
    # health monitoring: which resident, the source and times; never a reading or a symptom
    M.Started: lambda e: (_id(e.by), f"resident {e.resident_id}, {e.measure.label}"),
    M.Assisted: lambda e: (_id(e.by), e.method.label),
    M.ReportReceived: lambda e: (_id(e.by), e.source.label),
    M.AbnormalReading: lambda e: (_id(e.by), ""),
    M.ReportMissed: lambda e: (None, f"due {e.due.isoformat()}, {e.owner_code}"),
    M.Escalated: lambda e: (None, f"{e.to_level.label} {e.to_code}" if e.to_code
                            else "recorded at the city"),
    M.DueForRelease: lambda e: (None, "; ".join(r.label for r in e.requirements)),
    M.Ended: lambda e: (_id(e.by), e.measure.label),
}
"""Who acted and a short detail (no texts) of a referral, delivery, request or alert event,
by its class; the others: who acted (``by``) and no detail."""


@dataclass
class _Changes:
    """One batch: entity -> household links (those its events need, loaded once, and the new
    ones) and the timeline's rows."""

    links: dict[str, str]
    new_links: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class HouseholdTimeline(Projection):
    name = "household_timeline"
    version = 2  # 2: health monitoring's events
    tables = ("ht_event", "ht_link")
    ddl = (
        "CREATE TABLE IF NOT EXISTS ht_event (household_id TEXT NOT NULL, notification_id "
        "BIGINT NOT NULL, timestamp TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, "
        "actor TEXT, detail TEXT NOT NULL, PRIMARY KEY (household_id, notification_id))",
        "CREATE TABLE IF NOT EXISTS ht_link (entity_id TEXT PRIMARY KEY, household_id TEXT "
        "NOT NULL)",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        later = sorted({str(e.originator_id) for _, e in events if type(e) in _LATER})
        links: dict[str, str] = {}
        for i in range(0, len(later), CHUNK):
            part = later[i:i + CHUNK]
            cur.execute(f"SELECT entity_id, household_id FROM ht_link WHERE entity_id IN "
                        f"({','.join('?' * len(part))})", part)
            links.update({str(k): str(v) for k, v in cur.fetchall()})
        return _Changes(links)

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        # (each event is one row: its entity's link, or its household's line; both are new
        # as a rule, so they are copied straight in: ``ViewCursor.insert``)
        cur.insert("ht_link", "entity_id, household_id", c.new_links,
                   "ON CONFLICT (entity_id) DO NOTHING", fresh=True)
        cur.insert("ht_event", "household_id, notification_id, timestamp, kind, label, actor, "
                   "detail", c.rows, "ON CONFLICT (household_id, notification_id) DO NOTHING",
                   fresh=True)

    @handles(*HOUSEHOLD_EVENTS)
    def household(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.rows.append((str(e.originator_id), nid, _ts(e.timestamp),
                       *HOUSEHOLD_ROWS[type(e)](e)))

    @handles(Visit.Recorded)
    def visit(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.rows.append((str(e.household_id), nid, _ts(e.timestamp), *_visit(e)))

    @handles(*FIRST)
    def first(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        owner = e.household_id
        if owner is not None:
            c.links[str(e.originator_id)] = str(owner)
            c.new_links.append((str(e.originator_id), str(owner)))
        self.later(c, nid, e)

    @handles(*LATER)
    def later(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        hid = c.links.get(str(e.originator_id))
        if hid is None:
            return  # an enterprise's delivery, or a request of no household
        t = type(e)
        kind, label = LABELS[t]
        actor, detail = DETAILS.get(t, _by)(e)
        c.rows.append((hid, nid, _ts(e.timestamp), kind, label, actor, detail))


def _ts(at: datetime) -> str:
    return at.isoformat()


PROJECTIONS: list[Projection] = [HouseholdTimeline()]


@dataclass(frozen=True)
class TimelineRow:
    notification_id: int
    at: datetime
    kind: str
    label: str
    actor: str | None
    detail: str


def timelines(views: ReadViews, ids: Sequence[str]) -> dict[str, list[TimelineRow]]:
    """Many households' timelines (the API's DataLoader), a statement per ``CHUNK`` ids."""
    out: dict[str, list[TimelineRow]] = {h: [] for h in ids}
    for part in chunks(ids):
        for hid, nid, at, kind, label, actor, detail in views.query(
                "SELECT household_id, notification_id, timestamp, kind, label, actor, detail "
                f"FROM ht_event WHERE household_id IN ({marks(len(part))}) "
                "ORDER BY household_id, notification_id", part):
            out[hid].append(TimelineRow(int(nid), datetime.fromisoformat(at), kind, label,
                                        actor, detail))
    return out


def timeline(views: ReadViews, household_id: UUID | str) -> list[dict[str, Any]]:
    """The household's events in log order: when, what (kind and label), who, and a detail."""
    return [{"notification_id": int(n), "timestamp": datetime.fromisoformat(t), "kind": k,
             "label": lb, "actor": UUID(a) if a else None, "detail": d}
            for n, t, k, lb, a, d in views.query(
                "SELECT notification_id, timestamp, kind, label, actor, detail FROM ht_event "
                "WHERE household_id = ? ORDER BY notification_id", [str(household_id)])]
