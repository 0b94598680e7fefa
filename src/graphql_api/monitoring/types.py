"""Health monitoring (健康监测) in the API: counts per grid node and the residents due, missed,
abnormal or due for release, from the monitoring board read model
(``projections.monitoring_board``: ids, times and readings, no name).

A resident's name and household are opened at read time and masked by role, audited, as
everywhere (``Resident.name``, and ``AtHousehold``'s place fields). The readings
(temperatures and symptoms) are health details: whole, and audited, for the medical roles and
officials (``privacy.HEALTH_READING_ROLES``); every other role sees that a reading was
abnormal and when, never the reading (null)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Level, Measure, _mirrors
from graphql_api.households.types import AtHousehold
from graphql_api.privacy import may_see, personal_for
from gridcore import grid, monitoring, status
from gridcore.staff import Role
from projections import monitoring_board as mb

READING = "MonitoringReport.reading"


@strawberry.enum(description="上报来源 where a monitoring report came from")
class MonitoringReportSource(Enum):
    RESIDENT_CHAT = "resident_chat"
    RESIDENT_APP = "resident_app"
    STAFF_VISIT = "staff_visit"
    STAFF_PHONE = "staff_phone"
    SITE_STAFF = "site_staff"


@strawberry.enum(description="协助方式 how a resident who cannot report is followed")
class AssistMethod(Enum):
    VISIT = "visit"
    PHONE = "phone"


@strawberry.enum(description="Which residents under monitoring: the reports due today (DUE), "
                             "missed reports (MISSED), abnormal readings (ABNORMAL), or the "
                             "release list (RELEASE, 解除名单).")
class MonitoringStatus(Enum):
    DUE = "due"
    MISSED = "missed"
    ABNORMAL = "abnormal"
    RELEASE = "release"


for _copy, _source in ((MonitoringReportSource, monitoring.ReportSource),
                       (AssistMethod, monitoring.AssistMethod)):
    _mirrors(_copy, _source)


def reading_visible(info: Info[Context, None], subject: str) -> bool:
    """Whether the caller sees a resident's readings whole (and records that they did)."""
    ctx = info.context
    if ctx.caller is None or not may_see(ctx.caller, READING):
        return False
    ctx.audit.record(ctx.caller, READING, subject)
    return True


@strawberry.type(description="健康上报 a monitoring report as received: when taken, from where, "
                             "and the reading (temperature and symptoms: whole for family "
                             "doctors and officials, audited; null for others, who see only "
                             "whether it was abnormal).")
class MonitoringReport:
    taken_at: datetime
    recorded_at: datetime
    source: MonitoringReportSource
    source_label: str
    abnormal: bool
    for_report_time: datetime | None = strawberry.field(
        description="The report time it counts for (null: after the last deadline).")
    resident_id: strawberry.Private[str]
    row: strawberry.Private[mb.ReportRow]

    @classmethod
    def from_row(cls, r: mb.ReportRow, resident_id: str) -> MonitoringReport:
        source = monitoring.ReportSource(r.source)
        return cls(taken_at=r.taken_at, recorded_at=r.recorded_at,
                   source=MonitoringReportSource(r.source), source_label=source.label,
                   abnormal=bool(r.abnormal), for_report_time=r.slot,
                   resident_id=resident_id, row=r)

    @strawberry.field(description="体温 °C (health detail: family doctors and officials).")
    def temperature(self, info: Info[Context, None]) -> float | None:
        return self.row.temperature if reading_visible(info, self.resident_id) else None

    @strawberry.field(description="症状 symptoms (health detail: family doctors and "
                                  "officials).")
    def symptoms(self, info: Info[Context, None]) -> list[str] | None:
        return list(self.row.symptoms) if reading_visible(info, self.resident_id) else None

    @strawberry.field(description="Why it is abnormal (health detail: family doctors and "
                                  "officials); null when it is not, or for others.")
    def abnormal_reason(self, info: Info[Context, None]) -> str | None:
        if not self.row.abnormal:
            return None
        return self.row.abnormal if reading_visible(info, self.resident_id) else None


@strawberry.type(description="解除条件 what a release still needs: a negative test within "
                             "hours, or the decision of one of the roles.")
class ReleaseRequirement:
    kind: str
    hours: int | None
    roles: list[str]
    label: str


def release_requirement(r: mb.Requirement) -> ReleaseRequirement:
    domain = monitoring.ReleaseRequirement(kind=monitoring.RequirementKind(r.kind),
                                           hours=r.hours, roles=tuple(Role(x) for x in r.roles))
    return ReleaseRequirement(kind=r.kind, hours=r.hours, roles=list(r.roles),
                              label=domain.label)


@strawberry.type(description="健康监测 a resident under monitoring as the board showed them at "
                             "the time asked, with what the status asked for adds: the report "
                             "time (DUE, MISSED), the overdue item (MISSED), the abnormal "
                             "report (ABNORMAL), the requirements (RELEASE).")
class MonitoredResident(AtHousehold):
    monitoring_id: strawberry.ID
    resident_id: strawberry.ID
    grid_code: str
    measure: Measure
    measure_label: str
    starts: datetime
    ends: datetime | None
    assisted: AssistMethod | None = strawberry.field(
        description="上门/电话 a resident who cannot report themself is visited or called.")
    report_time: datetime | None = None
    reported: bool | None = None
    missed: bool | None = None
    open: bool | None = strawberry.field(
        default=None, description="MISSED: not heard from since (an open overdue item).")
    owner_code: str | None = None
    owner_level: Level | None = None
    escalations: int | None = None
    abnormal_report: MonitoringReport | None = None
    release_requirements: list[ReleaseRequirement] | None = None
    household_id: strawberry.Private[str | None] = None
    as_of: strawberry.Private[datetime | None] = None

    @classmethod
    def of(cls, m: mb.MonitoredRow, as_of: datetime | None, **extra: object
           ) -> MonitoredResident:
        return cls(monitoring_id=strawberry.ID(m.monitoring_id),
                   resident_id=strawberry.ID(m.resident_id), grid_code=m.grid,
                   measure=Measure(m.measure), measure_label=status.Measure(m.measure).label,
                   starts=m.starts, ends=m.ends,
                   assisted=AssistMethod(m.assist_method) if m.assist_method else None,
                   household_id=m.household_id, as_of=as_of, **extra)  # type: ignore[arg-type]

    @strawberry.field(description="姓名 the resident's name as the register has it (whole for "
                                  "roles that deal with residents as people, audited; masked "
                                  "for others).")
    async def name(self, info: Info[Context, None]) -> str | None:
        ctx = info.context
        if ctx.caller is None or self.household_id is None:
            return None
        identities = await ctx.loaders.identities.load(self.household_id)
        identity = identities.get(str(self.resident_id))
        if identity is None:
            return None
        return personal_for(ctx.caller, ctx.audit, identity.name, "Resident.name",
                            str(self.resident_id), erased=bool(identity.erased))

    @strawberry.field(description="健康监测记录 the resident's reports of this monitoring, in "
                                  "the order recorded (as of the time asked).")
    async def reports(self, info: Info[Context, None]) -> list[MonitoringReport]:
        rows = await asyncio.to_thread(mb.reports_of, info.context.views,
                                       str(self.monitoring_id), as_of=self.as_of)
        return [MonitoringReport.from_row(r, str(self.resident_id)) for r in rows]


def level_of(value: int) -> Level:
    return Level[grid.Level(value).name]


@strawberry.type(description="健康监测 a grid node's monitoring at the time asked, of residents "
                             "at or under it: under monitoring, assisted, the day's reports "
                             "(due, reported, missed), open missed items, residents with an "
                             "abnormal reading, and due for release.")
class MonitoringNode:
    code: str
    monitored: int
    assisted: int
    due_today: int
    reported_today: int
    missed_today: int
    overdue: int
    abnormal: int
    release: int
