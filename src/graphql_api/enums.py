"""GraphQL enums mirroring gridcore's (copies: the domain's classes stay free of strawberry).

Each is written out as a class so that mypy knows it as an enum type (a class that
`strawberry.enum(Enum(name, values))` builds at run time is not a type to mypy); `_mirrors`
checks at import that every copy still has exactly its domain enum's members and values, so
a member added in gridcore cannot go missing here unnoticed.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from gridcore import (
    alerts,
    assignment,
    delivery,
    enterprise,
    geo,
    grid,
    household,
    referral,
    requests,
    staff,
    status,
    sweep,
)


@strawberry.enum(description="健康状况 a resident's health")
class Health(Enum):
    NORMAL = "normal"
    SYMPTOMATIC = "symptomatic"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    RECOVERED = "recovered"
    DECEASED = "deceased"


@strawberry.enum(description="管控措施 the measure a resident is under")
class Measure(Enum):
    NONE = "none"
    HOME_OBSERVATION = "home_observation"
    HOME_QUARANTINE = "home_quarantine"
    CENTRALIZED_QUARANTINE = "centralized_quarantine"
    HOSPITALIZED = "hospitalized"


@strawberry.enum(description="标记 a resident's tag")
class TagKind(Enum):
    CLOSE_CONTACT = "close_contact"
    SECONDARY_CONTACT = "secondary_contact"
    RISK_AREA_ARRIVAL = "risk_area_arrival"


@strawberry.enum(description="弱势情况 a resident's vulnerability (65岁以上 65+, 独居 "
                             "lives alone, 无智能手机 no smartphone, 慢性病 chronic "
                             "illness, 残疾 disability, 孕妇 pregnancy)")
class Vulnerability(Enum):
    AGE_65_PLUS = "age_65_plus"
    LIVES_ALONE = "lives_alone"
    NO_SMARTPHONE = "no_smartphone"
    CHRONIC_ILLNESS = "chronic_illness"
    DISABILITY = "disability"
    PREGNANCY = "pregnancy"


@strawberry.enum(description="网格层级 the level of a grid node")
class Level(Enum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    MICRO_GRID = "micro_grid"


@strawberry.enum(description="坐标系 the coordinate system coordinates are given in: WGS84 "
                             "(GPS, 天地图), GCJ02 (高德, 腾讯), BD09 (百度)")
class Crs(Enum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@strawberry.enum(description="角色 a staff member's role")
class Role(Enum):
    GRID_WORKER = "grid_worker"
    PARTY_MEMBER = "party_member"
    VOLUNTEER = "volunteer"
    FAMILY_DOCTOR = "family_doctor"
    COMMUNITY_POLICE = "community_police"
    PROPERTY_MANAGER = "property_manager"
    ENTERPRISE_SPECIALIST = "enterprise_specialist"
    DUTY_LEAD = "duty_lead"
    OFFICIAL = "official"


@strawberry.enum(description="排查方式 how a household was checked")
class VisitMethod(Enum):
    DOOR = "door"
    PHONE = "phone"
    CHAT = "chat"


@strawberry.enum(description="排查结果 the outcome of a visit")
class VisitOutcome(Enum):
    SEEN = "seen"
    NO_ANSWER = "no_answer"
    REFUSED = "refused"


@strawberry.enum(description="转介类型 where a resident is referred to")
class ReferralKind(Enum):
    CENTRALIZED_QUARANTINE = "centralized_quarantine"
    FEVER_CLINIC = "fever_clinic"
    HOSPITAL = "hospital"


@strawberry.enum(description="转介阶段 a referral's stage")
class ReferralState(Enum):
    OPENED = "opened"
    ACCEPTED = "accepted"
    IN_TRANSPORT = "in_transport"
    ADMITTED = "admitted"
    DISCHARGED = "discharged"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@strawberry.enum(description="配送类型 a delivery's kind")
class DeliveryKind(Enum):
    ORDER = "order"
    DONATION = "donation"
    SUPPLY = "supply"


@strawberry.enum(description="配送状态 a delivery's state")
class DeliveryState(Enum):
    ORDERED = "ordered"
    READY = "ready"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    FAILED = "failed"


@strawberry.enum(description="复工状态 an enterprise's resumption")
class Resumption(Enum):
    NOT_FILED = "not_filed"
    FILED = "filed"
    APPROVED = "approved"
    REJECTED = "rejected"


@strawberry.enum(description="诉求渠道 how a request came in")
class RequestChannel(Enum):
    ONLINE = "online"
    HOTLINE = "hotline"
    CHAT = "chat"
    OPEN311 = "open311"


@strawberry.enum(description="诉求类别 what a request is about")
class RequestCategory(Enum):
    SUPPLIES = "supplies"
    MEDICAL = "medical"
    QUARANTINE = "quarantine"
    COMPLAINT = "complaint"
    INFORMATION = "information"
    OTHER = "other"


@strawberry.enum(description="紧急程度 a request's urgency")
class RequestGrade(Enum):
    URGENT = "urgent"
    NORMAL = "normal"


@strawberry.enum(description="办理状态 a request's status")
class RequestStatus(Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


@strawberry.enum(description="告警类型 what raised an alert")
class AlertKind(Enum):
    CAMERA = "camera"
    VEHICLE = "vehicle"


@strawberry.enum(description="告警状态 an alert's state")
class AlertState(Enum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@strawberry.enum(description="处置结果 how an alert was resolved")
class AlertOutcome(Enum):
    FALSE_ALARM = "false_alarm"
    BREACH_CONFIRMED = "breach_confirmed"


def _mirrors(copy: type[Enum], source: type[Enum]) -> None:
    """Fail at import when a copy has drifted from its domain enum: same names, and the same
    values where the domain's are strings (an int-valued one, like grid.Level's order, goes
    out under its lower-cased name)."""
    wanted = {m.name: m.value if isinstance(m.value, str) else m.name.lower() for m in source}
    have = {m.name: m.value for m in copy}
    if have != wanted:
        raise TypeError(f"graphql_api.enums.{copy.__name__} must mirror {source.__module__}."
                        f"{source.__qualname__}: it has {have}, the domain has {wanted}")


for _copy, _source in (
    (Health, status.Health),
    (Measure, status.Measure),
    (TagKind, status.TagKind),
    (Vulnerability, household.Vulnerability),
    (Level, grid.Level),
    (Crs, geo.Crs),
    (Role, staff.Role),
    (VisitMethod, assignment.Method),
    (VisitOutcome, sweep.Outcome),
    (ReferralKind, referral.ReferralKind),
    (ReferralState, referral.ReferralState),
    (DeliveryKind, delivery.DeliveryKind),
    (DeliveryState, delivery.DeliveryState),
    (Resumption, enterprise.Resumption),
    (RequestChannel, requests.Channel),
    (RequestCategory, requests.Category),
    (RequestGrade, requests.Grade),
    (RequestStatus, requests.RequestStatus),
    (AlertKind, alerts.AlertKind),
    (AlertState, alerts.AlertState),
    (AlertOutcome, alerts.Outcome),
):
    _mirrors(_copy, _source)
