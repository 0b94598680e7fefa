"""GraphQL enums mirroring gridcore's (copies: the domain's classes stay free of strawberry)."""

from __future__ import annotations

from enum import Enum

import strawberry

from gridcore import (
    alerts,
    assignment,
    delivery,
    enterprise,
    grid,
    household,
    referral,
    requests,
    staff,
    status,
    sweep,
)


def _mirror(source: type[Enum], name: str, description: str) -> type[Enum]:
    values = {m.name: m.value if isinstance(m.value, str) else m.name.lower() for m in source}
    return strawberry.enum(Enum(name, values), description=description)  # type: ignore[return-value]


Health = _mirror(status.Health, "Health", "健康状况 a resident's health")
Measure = _mirror(status.Measure, "Measure", "管控措施 the measure a resident is under")
TagKind = _mirror(status.TagKind, "TagKind", "标记 a resident's tag")
Vulnerability = _mirror(household.Vulnerability, "Vulnerability", "弱势情况 a resident's "
                        "vulnerability (65岁以上 65+, 独居 lives alone, 无智能手机 no smartphone, "
                        "慢性病 chronic illness, 残疾 disability, 孕妇 pregnancy)")
Level = _mirror(grid.Level, "Level", "网格层级 the level of a grid node")
Role = _mirror(staff.Role, "Role", "角色 a staff member's role")
VisitMethod = _mirror(assignment.Method, "VisitMethod", "排查方式 how a household was checked")
VisitOutcome = _mirror(sweep.Outcome, "VisitOutcome", "排查结果 the outcome of a visit")
ReferralKind = _mirror(referral.ReferralKind, "ReferralKind", "转介类型 where a resident is "
                       "referred to")
ReferralState = _mirror(referral.ReferralState, "ReferralState", "转介阶段 a referral's stage")
DeliveryKind = _mirror(delivery.DeliveryKind, "DeliveryKind", "配送类型 a delivery's kind")
DeliveryState = _mirror(delivery.DeliveryState, "DeliveryState", "配送状态 a delivery's state")
Resumption = _mirror(enterprise.Resumption, "Resumption", "复工状态 an enterprise's resumption")
RequestChannel = _mirror(requests.Channel, "RequestChannel", "诉求渠道 how a request came in")
RequestCategory = _mirror(requests.Category, "RequestCategory", "诉求类别 what a request is "
                          "about")
RequestGrade = _mirror(requests.Grade, "RequestGrade", "紧急程度 a request's urgency")
RequestStatus = _mirror(requests.RequestStatus, "RequestStatus", "办理状态 a request's status")
AlertKind = _mirror(alerts.AlertKind, "AlertKind", "告警类型 what raised an alert")
AlertState = _mirror(alerts.AlertState, "AlertState", "告警状态 an alert's state")
AlertOutcome = _mirror(alerts.Outcome, "AlertOutcome", "处置结果 how an alert was resolved")
