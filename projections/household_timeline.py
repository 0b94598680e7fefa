"""Household timeline (户档案时间线): every event of one household across the areas — household
changes, sweep visits, referrals, deliveries, residents' requests — in log order, with who did
it and a Chinese+English label.

Rows never carry personal data: no names, phones, addresses, request texts or other free text
(reasons, notes, replies); only labels of enums, codes, counts and staff ids. So an erasure
(``Household.ResidentErased``) leaves nothing to blank out; it adds its own row.

Referrals, deliveries and requests name their household in their first event only; the
projection keeps entity → household links to place their later events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.alerts import Alert
from gridcore.delivery import Delivery
from gridcore.household import Household
from gridcore.referral import Referral
from gridcore.requests import ResidentRequest
from gridcore.sweep import Visit, fevers
from projections.base import Notified, Projection, ViewCursor

CHUNK = 500

Row = tuple[str, str, str | None, str]
"""kind, label, actor, detail"""


def _household(e: Any) -> Row:
    H = Household
    if isinstance(e, H.Registered):
        return ("household.registered", "登记入户 registered", None,
                f"{len(e.members)} members, micro-grid {e.micro_grid}")
    if isinstance(e, H.Moved):
        return ("household.moved", "迁移网格 moved", None, f"micro-grid {e.micro_grid}")
    if isinstance(e, H.MemberAdded):
        return ("household.member_added", "新增成员 member added", None, "1 member")
    if isinstance(e, H.MemberRemoved):
        return ("household.member_removed", "成员迁出 member removed", None, "1 member")
    if isinstance(e, H.VulnerabilityMarked):
        return ("household.vulnerability", "重点人群标记 vulnerability marked", None,
                f"{e.vulnerability.label}: {'是 yes' if e.present else '否 no'}")
    if isinstance(e, H.HealthChanged):
        return ("household.health", "健康状况变更 health changed", _id(e.by),
                f"{e.previous.label} → {e.health.label}")
    if isinstance(e, H.MeasureChanged):
        return ("household.measure", "管控措施变更 measure changed", _id(e.by),
                f"{e.previous.label} → {e.measure.label}")
    if isinstance(e, H.Tagged):
        return ("household.tagged", "标记 tagged", _id(e.by), e.tag.kind.label)
    if isinstance(e, H.Untagged):
        return ("household.untagged", "取消标记 untagged", _id(e.by), e.kind.label)
    if isinstance(e, H.TestRecorded):
        return ("household.test", "核酸检测 test recorded", None,
                "阴性 negative" if e.negative else "阳性 positive")
    if isinstance(e, H.StaffLinked):
        return ("household.staff_linked", "关联工作人员 staff linked", None, "")
    return ("household.erased", "个人信息已删除 personal data erased", None, "")


def _visit(e: Visit.Recorded) -> Row:
    a = e.record
    return ("visit.recorded", "排查走访 sweep visit", _id(a.staff_id),
            f"{a.method.label}, {a.outcome.label}, {len(a.accounted)} accounted, "
            f"{len(fevers(a))} fever, {len(a.close_contacts)} close contacts")


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
HOUSEHOLD_EVENTS = (Household.Registered, Household.Moved, Household.MemberAdded,
                    Household.MemberRemoved, Household.VulnerabilityMarked,
                    Household.HealthChanged, Household.MeasureChanged, Household.Tagged,
                    Household.Untagged, Household.TestRecorded, Household.StaffLinked,
                    Household.ResidentErased)
FIRST = (Referral.Opened, Delivery.Placed, R.Filed, Alert.Raised)


def _id(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _detail(e: Any) -> tuple[str | None, str]:
    """Who acted and a short detail of a referral, delivery or request event (no texts)."""
    if isinstance(e, Referral.Opened):
        return _id(e.by), e.kind.label
    if isinstance(e, Referral.PersuasionRecorded | Referral.Accepted):
        return _id(e.by), f"{e.minutes} min"
    if isinstance(e, Referral.Admitted):
        return _id(e.by), f"site {e.site_code}" if e.site_code else ""
    if isinstance(e, Referral.Escalated):
        return None, f"{e.level.label} {e.node_code}"
    if isinstance(e, Delivery.Placed):
        return None, f"{e.kind.label}, {len(e.items)} items"
    if isinstance(e, Delivery.Purchased):
        return _id(e.by), f"batch {e.batch_no}"
    if isinstance(e, Delivery.Dispatched):
        return (_id(e.staff[0]) if e.staff else None), f"zone {e.zone}"
    if isinstance(e, R.Filed):
        return None, f"{e.channel.label}, {e.category.label}, {e.grade.label}"
    if isinstance(e, R.Reclassified):
        return None, f"{e.category.label}, {e.grade.label}"
    if isinstance(e, R.Assigned):
        return _id(e.staff_id), ""
    if isinstance(e, R.Escalated):
        return None, f"{e.to_level.label} {e.to_code}"
    if isinstance(e, R.Rated):
        return None, f"{e.rating}/5"
    if isinstance(e, Alert.Raised):
        return _id(e.assignee), f"{e.source}, {e.direction.label if e.direction else ''}"
    if isinstance(e, Alert.DetectionAttached):
        return None, e.direction.label
    if isinstance(e, Alert.Escalated):
        return None, f"{e.to_level.label} {e.to_code}"
    if isinstance(e, Alert.Resolved):
        return _id(e.by), e.outcome.label  # never the action's free text
    return _id(getattr(e, "by", None)), ""


def _labels(e: Any) -> tuple[str, str]:
    t = type(e)
    return (REFERRAL_LABELS.get(t) or DELIVERY_LABELS.get(t) or ALERT_LABELS.get(t)
            or REQUEST_LABELS[t])


class HouseholdTimeline(Projection):
    name = "household_timeline"
    follows = (*HOUSEHOLD_EVENTS, Visit.Recorded, *REFERRAL_LABELS, *DELIVERY_LABELS,
               *REQUEST_LABELS, *ALERT_LABELS)
    tables = ("ht_event", "ht_link")
    ddl = (
        "CREATE TABLE IF NOT EXISTS ht_event (household_id TEXT NOT NULL, notification_id "
        "BIGINT NOT NULL, timestamp TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, "
        "actor TEXT, detail TEXT NOT NULL, PRIMARY KEY (household_id, notification_id))",
        "CREATE TABLE IF NOT EXISTS ht_link (entity_id TEXT PRIMARY KEY, household_id TEXT "
        "NOT NULL)",
    )

    def apply(self, cur: ViewCursor, events: Sequence[Notified]) -> None:
        later = sorted({str(e.originator_id) for _, e in events
                        if isinstance(e, tuple(REFERRAL_LABELS) + tuple(DELIVERY_LABELS)
                                      + tuple(REQUEST_LABELS) + tuple(ALERT_LABELS))
                        and not isinstance(e, FIRST)})
        links: dict[str, str] = {}
        for i in range(0, len(later), CHUNK):
            part = later[i:i + CHUNK]
            cur.execute(f"SELECT entity_id, household_id FROM ht_link WHERE entity_id IN "
                        f"({','.join('?' * len(part))})", part)
            links.update({str(k): str(v) for k, v in cur.fetchall()})
        new_links: list[tuple[str, str]] = []
        rows: list[tuple[Any, ...]] = []
        for nid, e in events:
            if isinstance(e, HOUSEHOLD_EVENTS):
                hid: str | None = str(e.originator_id)
                kind, label, actor, detail = _household(e)
            elif isinstance(e, Visit.Recorded):
                hid = str(e.household_id)
                kind, label, actor, detail = _visit(e)
            else:
                if isinstance(e, FIRST):
                    owner = e.household_id
                    if owner is not None:
                        links[str(e.originator_id)] = str(owner)
                        new_links.append((str(e.originator_id), str(owner)))
                hid = links.get(str(e.originator_id))
                if hid is None:
                    continue  # an enterprise's delivery, or a request of no household
                kind, label = _labels(e)
                actor, detail = _detail(e)
            rows.append((hid, nid, _ts(e.timestamp), kind, label, actor, detail))
        cur.executemany("INSERT INTO ht_link VALUES (?, ?) ON CONFLICT (entity_id) DO NOTHING",
                        new_links)
        cur.executemany("INSERT INTO ht_event VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                        "(household_id, notification_id) DO NOTHING", rows)


def _ts(at: datetime) -> str:
    return at.isoformat()


PROJECTIONS: list[Projection] = [HouseholdTimeline()]


def timeline(views: Any, household_id: UUID | str) -> list[dict[str, Any]]:
    """The household's events in log order: when, what (kind and label), who, and a detail."""
    return [{"notification_id": int(n), "timestamp": datetime.fromisoformat(t), "kind": k,
             "label": lb, "actor": UUID(a) if a else None, "detail": d}
            for n, t, k, lb, a, d in views.query(
                "SELECT notification_id, timestamp, kind, label, actor, detail FROM ht_event "
                "WHERE household_id = ? ORDER BY notification_id", [str(household_id)])]
