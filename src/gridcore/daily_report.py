"""Daily reports up the levels (日报 / 信息报送): one report per node and period.

A community's report carries its figures as of the period's end (gathered by the caller from
the read models: gridcore reads none) with fields a person fills and a note; the official
submits it, the street approves it or returns it with a reason, and a correction is a new
version with a reason. A street's report is the sum of its communities' approved reports
(those not approved are listed as missing), and so on up to the city, whose report goes to
nobody above. A zero report (零报告) is all figures zero, explicitly marked: it counts as
reported. A submitted version never changes: every version stays answerable.

Rules here are pure functions given the policy in force and the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import InvalidInput, NotPermitted
from gridcore.grid import Level
from gridcore.policy import Policy, ReportLevelName
from gridcore.text import free_text

Count = int
_COUNT = Field(0, ge=0, le=1_000_000_000)


class ReportFigures(Immutable):
    """统计数 the figures of a report, as of the period's end (each a count, 0 to 10^9)."""

    households: Count = _COUNT
    residents: Count = _COUNT
    home_observation: Count = _COUNT
    home_quarantine: Count = _COUNT
    centralized_quarantine: Count = _COUNT
    hospitalized: Count = _COUNT
    suspected: Count = _COUNT
    confirmed: Count = _COUNT
    close_contacts: Count = _COUNT
    secondary_contacts: Count = _COUNT
    sweep_households: Count = _COUNT
    sweep_covered: Count = _COUNT
    deliveries_open: Count = _COUNT
    requests_open: Count = _COUNT
    alerts_open: Count = _COUNT

    @property
    def is_zero(self) -> bool:
        return not any(self.model_dump().values())

    def plus(self, other: ReportFigures) -> ReportFigures:
        mine, theirs = self.model_dump(), other.model_dump()
        return ReportFigures(**{k: v + theirs[k] for k, v in mine.items()})


FIGURE_LABELS: Mapping[str, str] = {
    "households": "户数 households",
    "residents": "人数 residents",
    "home_observation": "居家观察 home observation",
    "home_quarantine": "居家隔离 home quarantine",
    "centralized_quarantine": "集中隔离 centralized quarantine",
    "hospitalized": "住院 hospitalized",
    "suspected": "疑似 suspected",
    "confirmed": "确诊 confirmed",
    "close_contacts": "密接 close contacts",
    "secondary_contacts": "次密接 secondary contacts",
    "sweep_households": "排查应查户 sweep households",
    "sweep_covered": "排查已查户 sweep covered",
    "deliveries_open": "待配送 deliveries open",
    "requests_open": "待办诉求 requests open",
    "alerts_open": "未处置告警 alerts open",
}
"""Each figure's label as people see it (the export's column headings)."""

ZERO = ReportFigures()
MAX_FILLED = 20


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.value]


STATUS_LABELS: Mapping[str, str] = {
    "submitted": "已报送 submitted",
    "returned": "已退回 returned",
    "approved": "已审核 approved",
    "missing": "未报送 missing",
    "overdue": "逾期未报 overdue",
}

REPORTING_LEVELS: Mapping[Level, ReportLevelName] = {
    Level.COMMUNITY: "community", Level.STREET: "street", Level.DISTRICT: "district",
    Level.CITY: "city",
}


def report_id(code: str, period: date) -> UUID:
    return stable_id("daily-report", f"{code}/{period.isoformat()}")


def check_reporting_level(level: Level, code: str) -> ReportLevelName:
    """The level's name in the policy; a micro-grid reports through its community."""
    name = REPORTING_LEVELS.get(level)
    if name is None:
        raise InvalidInput(f"{code} is a {level.label}: it files no daily report.",
                           "Its community reports for it: give a community, street, district "
                           "or city code.")
    return name


def report_deadline(level: Level, period: date, policy: Policy) -> datetime:
    """When a level's report for ``period`` is due: the next day at the level's time in the
    policy (local time at UTC+``report_utc_offset_minutes``)."""
    hh, mm = (int(x) for x in policy.report_deadlines[REPORTING_LEVELS[level]].split(":"))
    local = timezone(timedelta(minutes=policy.report_utc_offset_minutes))
    due = datetime.combine(period + timedelta(days=1), time(hh, mm), local)
    return due.astimezone(UTC)


def period_end(period: date, policy: Policy) -> datetime:
    """The end of ``period`` (local midnight after it): the figures are as of then."""
    local = timezone(timedelta(minutes=policy.report_utc_offset_minutes))
    return datetime.combine(period + timedelta(days=1), time(0, 0), local).astimezone(UTC)


def check_period(period: object, now: datetime, policy: Policy) -> date:
    """A period is a day that has ended (its figures are as of its end), not before the
    epidemic's earliest year."""
    if not isinstance(period, date) or isinstance(period, datetime):
        raise InvalidInput("The period is not a date.", "Give the day reported, e.g. 2020-02-17.")
    if period.year < policy.earliest_year:
        raise InvalidInput(f"The period {period.isoformat()} is before {policy.earliest_year}.",
                           f"Give a day from {policy.earliest_year} on.")
    if period.year > 9998 or period_end(period, policy) > now:
        raise InvalidInput(f"The period {period.isoformat()} has not ended yet.",
                           "Report a day once it has ended (the figures are as of its end), "
                           "e.g. yesterday.")
    return period


def checked_filled(filled: Mapping[str, str] | None) -> dict[str, str]:
    """填报项 the fields a person fills: at most 20, each named in 1-40 characters, its text
    at most 500 characters with no phone or ID number."""
    if filled is None:
        return {}
    if not isinstance(filled, Mapping):
        raise InvalidInput("The filled fields are not a mapping.",
                           "Give them as name -> text, e.g. {'物资储备': '充足'}.")
    if len(filled) > MAX_FILLED:
        raise InvalidInput(f"{len(filled)} filled fields were given.",
                           f"Give at most {MAX_FILLED}.")
    out: dict[str, str] = {}
    for name, text in filled.items():
        key = free_text(name, "filled field's name", 40, required=True, example="物资储备")
        out[key] = free_text(text, f"filled field {key[:20]!r}", 500)
    return out


def sum_figures(figures: Iterable[ReportFigures]) -> ReportFigures:
    total = ZERO
    for f in figures:
        total = total.plus(f)
    return total


def check_zero(figures: ReportFigures, zero: bool) -> None:
    """零报告: a zero report is all figures zero, and all figures zero is a zero report, so
    that nothing reads as reported by accident."""
    if zero and not figures.is_zero:
        raise InvalidInput("A zero report (零报告) was marked but some figures are not zero.",
                           "Submit it as an ordinary report, or check the figures.")
    if not zero and figures.is_zero:
        raise InvalidInput("Every figure is zero but the report is not marked a zero report.",
                           "Mark it a zero report (零报告, zero=True) to report that there "
                           "is nothing to report.")


class ReportVersion(Immutable):
    """One submitted version, as submitted: it never changes."""

    number: int
    figures: ReportFigures
    filled: dict[str, str]
    note: str
    zero: bool
    reason: str
    """why this version corrects the one before ("" for the first)"""
    submitted_by: UUID | None
    submitted_at: datetime
    included: tuple[tuple[str, int], ...] = ()
    """the children's approved reports summed into it (code, version number)"""
    missing: tuple[str, ...] = ()
    """the children whose report was not approved when it was submitted"""


class DailyReport(Aggregate):
    """One node's report for one period (日报), with every version submitted."""

    code: str
    period: date
    level: Level
    versions: list[ReportVersion]
    status: ReportStatus
    returns: list[tuple[int, str, UUID | None, datetime]]
    approved: tuple[int, UUID | None, datetime] | None

    class Opened(Created):
        code: str
        period: date
        level: Level

        def apply(self, r: DailyReport) -> None:
            r.code, r.period, r.level = self.code, self.period, self.level
            r.versions, r.returns, r.approved = [], [], None
            r.status = ReportStatus.SUBMITTED

    class Submitted(Event):
        version: ReportVersion

        def apply(self, r: DailyReport) -> None:
            r.versions.append(self.version)
            r.status, r.approved = ReportStatus.SUBMITTED, None

    class Returned(Event):
        version: int
        reason: str
        by: UUID | None

        def apply(self, r: DailyReport) -> None:
            r.returns.append((self.version, self.reason, self.by, self.timestamp))
            r.status = ReportStatus.RETURNED

    class Approved(Event):
        version: int
        by: UUID | None

        def apply(self, r: DailyReport) -> None:
            r.approved = (self.version, self.by, self.timestamp)
            r.status = ReportStatus.APPROVED

    @classmethod
    def open(cls, code: str, period: date, level: Level, at: datetime) -> DailyReport:
        return cls._create(cls.Opened, report_id(code, period), at, code=code, period=period,
                           level=level)

    @property
    def current(self) -> ReportVersion:
        return self.versions[-1]

    def numbered(self, number: int) -> ReportVersion | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None

    def _what(self) -> str:
        return f"The report of {self.code} for {self.period.isoformat()}"

    def submit(self, figures: ReportFigures, filled: dict[str, str], note: str, zero: bool,
               by: UUID | None, at: datetime, *, reason: str = "",
               included: tuple[tuple[str, int], ...] = (),
               missing: tuple[str, ...] = ()) -> ReportVersion:
        """The first version (no ``reason``), or a correction (a new version with one)."""
        if self.versions and not reason:
            raise NotPermitted(f"{self._what()} was submitted already (version "
                               f"{len(self.versions)}); a submitted version never changes.",
                               "Correct it: a new version with the reason for the correction.")
        check_zero(figures, zero)
        version = ReportVersion(number=len(self.versions) + 1, figures=figures, filled=filled,
                                note=note, zero=zero, reason=reason, submitted_by=by,
                                submitted_at=at, included=included, missing=missing)
        self._trigger(self.Submitted, at, version=version)
        return version

    def _check_awaiting(self, doing: str) -> None:
        if self.level is Level.CITY:
            raise NotPermitted(f"{self._what()} goes to nobody above the city: nobody may "
                               f"{doing} it.", "The city's report is final once submitted.")
        if self.status is not ReportStatus.SUBMITTED:
            raise NotPermitted(f"{self._what()} is {self.status.label}, not awaiting review: "
                               f"you may not {doing} it.",
                               "Review a report once it is submitted (or corrected).")

    def return_(self, reason: str, by: UUID | None, at: datetime) -> None:
        """退回 the level above returns the current version, with a reason."""
        self._check_awaiting("return")
        self._trigger(self.Returned, at, version=self.current.number, reason=reason, by=by)

    def approve(self, by: UUID | None, at: datetime) -> None:
        """审核通过 the level above approves the current version; its submitter may not."""
        self._check_awaiting("approve")
        if by is not None and by == self.current.submitted_by:
            raise NotPermitted(f"You submitted version {self.current.number} of "
                               f"{self._what().lower()}: you may not approve it yourself.",
                               "An official of the level above approves it.")
        self._trigger(self.Approved, at, version=self.current.number, by=by)

    @property
    def approved_version(self) -> ReportVersion | None:
        return self.numbered(self.approved[0]) if self.approved is not None else None


__all__ = [
    "FIGURE_LABELS", "REPORTING_LEVELS", "STATUS_LABELS", "ZERO", "DailyReport",
    "ReportFigures", "ReportStatus", "ReportVersion", "check_period", "check_reporting_level",
    "check_zero", "checked_filled", "period_end", "report_deadline", "report_id",
    "sum_figures",
]
