"""The types of daily reports (日报) as the API shows them."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from gridcore.daily_report import (
    FIGURE_LABELS,
    STATUS_LABELS,
    DailyReport,
    ReportFigures,
    ReportVersion,
)
from gridcore.report_commands import ChildReport, Completeness


@strawberry.type(name="ReportFigures", description="统计数 a report's figures as of its "
                                                   "period's end (a parent's: the sum of its "
                                                   "children's approved reports).")
class Figures:
    households: int
    residents: int
    home_observation: int
    home_quarantine: int
    centralized_quarantine: int
    hospitalized: int
    suspected: int
    confirmed: int
    close_contacts: int
    secondary_contacts: int
    sweep_households: int
    sweep_covered: int
    deliveries_open: int
    requests_open: int
    alerts_open: int

    @staticmethod
    def of(f: ReportFigures) -> Figures:
        return Figures(**f.model_dump())


@strawberry.type(description="填报项 a field a person filled.")
class FilledField:
    name: str
    text: str


@strawberry.input(description="填报项 a field a person fills (at most 20; a name of 1-40 "
                              "characters, a text of at most 500).")
class FilledFieldInput:
    name: str
    text: str = ""


@strawberry.type(description="A child's report summed into its parent's: its code and the "
                             "version approved.")
class IncludedReport:
    code: str
    version: int


@strawberry.type(description="版本 one submitted version of a report, as submitted: it never "
                             "changes.")
class ReportVersionType:
    number: int
    figures: Figures
    filled: list[FilledField]
    note: str
    zero: bool = strawberry.field(description="零报告 a zero report")
    reason: str = strawberry.field(description="why it corrects the version before (empty "
                                               "for the first)")
    submitted_by: strawberry.ID | None
    submitted_at: datetime
    included: list[IncludedReport]
    missing: list[str] = strawberry.field(description="children not approved when it was "
                                                      "submitted")

    @staticmethod
    def of(v: ReportVersion) -> ReportVersionType:
        return ReportVersionType(
            number=v.number, figures=Figures.of(v.figures),
            filled=[FilledField(name=k, text=t) for k, t in v.filled.items()], note=v.note,
            zero=v.zero, reason=v.reason,
            submitted_by=strawberry.ID(str(v.submitted_by)) if v.submitted_by else None,
            submitted_at=v.submitted_at,
            included=[IncludedReport(code=c, version=n) for c, n in v.included],
            missing=list(v.missing))


@strawberry.type(description="退回 a version returned, with the reason.")
class ReportReturn:
    version: int
    reason: str
    by: strawberry.ID | None
    at: datetime


@strawberry.type(name="DailyReport", description="日报 a node's report for a period, with every "
                                                 "version submitted.")
class DailyReportType:
    code: str
    period: date
    level: str
    status: str = strawberry.field(description="submitted, returned or approved")
    status_label: str
    current: ReportVersionType
    versions: list[ReportVersionType]
    returns: list[ReportReturn]
    approved_version: int | None
    approved_by: strawberry.ID | None

    @staticmethod
    def of(r: DailyReport) -> DailyReportType:
        approved = r.approved
        return DailyReportType(
            code=r.code, period=r.period, level=r.level.name.lower(), status=r.status.value,
            status_label=STATUS_LABELS[r.status.value],
            current=ReportVersionType.of(r.current),
            versions=[ReportVersionType.of(v) for v in r.versions],
            returns=[ReportReturn(version=n, reason=why,
                                  by=strawberry.ID(str(by)) if by else None, at=at)
                     for n, why, by, at in r.returns],
            approved_version=approved[0] if approved else None,
            approved_by=strawberry.ID(str(approved[1])) if approved and approved[1] else None)


@strawberry.type(description="A child's report for the period, as its parent sees it.")
class ChildReportStatus:
    code: str
    name: str
    status: str = strawberry.field(description="approved, submitted, returned, missing or "
                                               "overdue (missing after its deadline)")
    status_label: str
    version: int | None
    zero: bool
    due: datetime

    @staticmethod
    def of(c: ChildReport) -> ChildReportStatus:
        return ChildReportStatus(code=c.code, name=c.name, status=c.status,
                                 status_label=STATUS_LABELS[c.status], version=c.version,
                                 zero=c.zero, due=c.due)


@strawberry.type(description="完整性 who of a node's children has reported for a period.")
class ReportCompleteness:
    code: str
    period: date
    reported: int
    missing: list[str]
    children: list[ChildReportStatus]

    @staticmethod
    def of(c: Completeness) -> ReportCompleteness:
        return ReportCompleteness(code=c.code, period=c.period, reported=c.reported,
                                  missing=c.missing,
                                  children=[ChildReportStatus.of(x) for x in c.children])


FIGURE_NAMES = tuple(FIGURE_LABELS)
