"""Commands and queries of daily reports up the levels (日报 / 信息报送, ``gridcore.daily_report``).

Decisions made here:

- ``submit_report``: an official of the node submits its report for a period that has ended.
  A community gives its figures (gathered by the caller from the read models as of the
  period's end: gridcore reads none); a street, district or city gives none: its figures are
  the sum of its children's approved reports, and the children not approved then are listed
  as missing. A zero report (零报告) is all figures zero, marked so. A node reports once per
  period; after that only a correction makes a new version.
- ``correct_report``: a new version with a reason (returned or not); every version stays.
- ``return_report`` / ``approve_report``: an official of the level above (the node's parent
  or above, a street's at least) returns the current version with a reason, or approves it;
  nobody approves a version they submitted themself. The city's report is final.
- ``completeness``: each child of a node for a period: approved, submitted, returned,
  missing, or overdue (missing after its deadline).
- ``tick``: once reporting for a period has begun (a first report submitted), each node not
  reported by its level's deadline is escalated to its parent, and again to the level above
  at each deadline above while still missing; each step once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gridcore.app_base import ApplicationBase, command
from gridcore.authority import Actor, System, staff_of
from gridcore.daily_report import (
    DailyReport,
    ReportFigures,
    ReportStatus,
    ReportVersion,
    check_period,
    check_reporting_level,
    checked_filled,
    period_end,
    report_deadline,
    report_id,
    sum_figures,
)
from gridcore.errors import InvalidInput, NotFound, NotPermitted
from gridcore.grid import GridNode, Level
from gridcore.report_desk import REPORT_DESK_ID, ReportDesk
from gridcore.text import free_text

WATCH_BACK_DAYS = 7
"""How far back ``tick`` opens ended days nobody reported for."""


@dataclass(frozen=True)
class ChildReport:
    """One child's report for a period, as its parent sees it (``completeness``)."""

    code: str
    name: str
    status: str
    """approved, submitted, returned, missing or overdue"""
    version: int | None
    zero: bool
    due: datetime


@dataclass(frozen=True)
class Completeness:
    code: str
    period: date
    children: list[ChildReport]

    @property
    def reported(self) -> int:
        """Children whose report is in (a zero report counts)."""
        return sum(1 for c in self.children if c.status not in ("missing", "overdue"))

    @property
    def missing(self) -> list[str]:
        return [c.code for c in self.children if c.status in ("missing", "overdue")]


class ReportCommands(ApplicationBase):
    """Daily reports (日报): submitted, returned, corrected, approved and summed up the tree."""

    # ---- queries -----------------------------------------------------------------------

    def daily_report(self, code: str, period: date) -> DailyReport | None:
        return self._find(DailyReport, report_id(self.node(code).code, period),
                          for_reading=True)

    def report_version(self, code: str, period: date, number: int) -> ReportVersion:
        """Version ``number`` of a report, exactly as submitted."""
        r = self.daily_report(code, period)
        found = r.numbered(number) if r is not None else None
        if r is None or found is None:
            have = f"it has {len(r.versions)} version(s)" if r is not None else "none was submitted"
            raise NotFound(f"No version {number} of the report of {code} for "
                           f"{period.isoformat()}: {have}.",
                           "Give a version number from 1 to the latest.")
        return found

    def reporting_children(self, code: str) -> list[GridNode]:
        """The children that report to ``code`` (none for a community: its micro-grids report
        through it)."""
        node = self.node(code)
        if node.level >= Level.COMMUNITY:
            return []
        return [c for c in (self.node(x) for x in node.children) if not c.retired]

    def completeness(self, code: str, period: date,
                     now: datetime | None = None) -> Completeness:
        """每个下级 each child of ``code`` for ``period``: its report's status, or missing
        (overdue once its level's deadline has passed at ``now``)."""
        at = now or self.clock()
        node = self.node(code)
        if node.level >= Level.COMMUNITY:
            raise InvalidInput(
                f"{code} ({node.name}) is a {node.level.label}: its report is one of its "
                f"parent's ({node.parent_code}) children, and it has no reporting children.",
                f"Ask the completeness of {node.parent_code or 'its parent'}; the report "
                "itself is `daily_report(code, period)` (GraphQL `dailyReport`).")
        policy = self.policy_at(at)
        out = []
        for child in self.reporting_children(code):
            r = self._find(DailyReport, report_id(child.code, period), for_reading=True)
            due = report_deadline(child.level, period, policy)
            if r is None:
                status = "overdue" if at >= due else "missing"
                out.append(ChildReport(child.code, child.name, status, None, False, due))
            else:
                out.append(ChildReport(child.code, child.name, r.status.value,
                                       r.current.number, r.current.zero, due))
        return Completeness(self.node(code).code, period, out)

    def _sum_of_children(self, node: GridNode, period: date
                         ) -> tuple[ReportFigures, tuple[tuple[str, int], ...], tuple[str, ...]]:
        included, missing, figures = [], [], []
        for child in self.reporting_children(node.code):
            r = self._find(DailyReport, report_id(child.code, period), for_reading=True)
            approved = r.approved_version if r is not None else None
            if approved is None:
                missing.append(child.code)
            else:
                included.append((child.code, approved.number))
                figures.append(approved.figures)
        return sum_figures(figures), tuple(included), tuple(missing)

    # ---- commands ----------------------------------------------------------------------

    def _prepared(self, code: str, period: date, figures: ReportFigures | None
                  ) -> tuple[GridNode, date, ReportFigures, tuple[tuple[str, int], ...],
                             tuple[str, ...]]:
        node = self.node(code)
        check_reporting_level(node.level, node.code)
        now = self.clock()
        period = check_period(period, now, self.policy_at(now))
        if node.level is Level.COMMUNITY:
            if figures is None:
                raise InvalidInput(f"The report of community {node.code} gives no figures.",
                                   "Give its figures as of the period's end (the API and the "
                                   "CLI gather them from the read models).")
            if not isinstance(figures, ReportFigures):
                raise InvalidInput("The figures are not report figures.",
                                   "Give a gridcore.daily_report.ReportFigures.")
            return node, period, figures, (), ()
        if figures is not None:
            raise InvalidInput(f"{node.code} is a {node.level.label}: its figures are the sum "
                               "of its children's approved reports, not given.",
                               "Submit it without figures.")
        return node, period, *self._sum_of_children(node, period)

    def _open_period(self, node: GridNode, period: date, at: datetime) -> ReportDesk:
        desk = self._find(ReportDesk, REPORT_DESK_ID) or ReportDesk.start(at)
        desk.open_period(period, self.ancestry(node.code)[-1], at)
        return desk

    @command
    def submit_report(self, code: str, period: date, figures: ReportFigures | None,
                      filled: dict[str, str] | None = None, note: str = "",
                      zero: bool = False, *, by: Actor) -> int | None:
        """报送 the node's report for ``period`` (see the module's docstring)."""
        node, period, sums, included, missing = self._prepared(code, period, figures)
        values, text = checked_filled(filled), free_text(note, "note", 1000)
        if self._find(DailyReport, report_id(node.code, period)) is not None:
            raise NotPermitted(f"The report of {node.code} for {period.isoformat()} was "
                               "submitted already; a submitted version never changes.",
                               "Correct it (correct_report): a new version with a reason.")
        at = self.clock()
        report = DailyReport.open(node.code, period, node.level, at)
        report.submit(sums, values, text, bool(zero), staff_of(by), at, included=included,
                      missing=missing)
        return self._save(report, self._open_period(node, period, at))

    @command
    def correct_report(self, code: str, period: date, figures: ReportFigures | None,
                       reason: str, filled: dict[str, str] | None = None, note: str = "",
                       zero: bool = False, *, by: Actor) -> int | None:
        """更正 a new version of the report, with the reason for the correction."""
        node, period, sums, included, missing = self._prepared(code, period, figures)
        why = free_text(reason, "reason for the correction", 500, required=True,
                        example="户数填错")
        values, text = checked_filled(filled), free_text(note, "note", 1000)
        report = self._report(node.code, period)
        report.submit(sums, values, text, bool(zero), staff_of(by), self.clock(), reason=why,
                      included=included, missing=missing)
        return self._save(report)

    @command
    def return_report(self, code: str, period: date, reason: str, *, by: Actor) -> int | None:
        """退回 the level above returns the report's current version, with a reason."""
        why = free_text(reason, "reason for returning it", 500, required=True,
                        example="隔离人数与台账不符")
        report = self._report(self.node(code).code, period)
        report.return_(why, staff_of(by), self.clock())
        return self._save(report)

    @command
    def approve_report(self, code: str, period: date, *, by: Actor) -> int | None:
        """审核通过 the level above approves the report's current version."""
        report = self._report(self.node(code).code, period)
        report.approve(staff_of(by), self.clock())
        return self._save(report)

    def _report(self, code: str, period: date) -> DailyReport:
        if not isinstance(period, date) or isinstance(period, datetime):
            raise InvalidInput("The period is not a date.", "Give the day, e.g. 2020-02-17.")
        return self._get(DailyReport, report_id(code, period),
                         f"report of {code} for {period.isoformat()}",
                         "Submit it first (submit_report).")

    # ---- the clock ---------------------------------------------------------------------

    def tick_reports(self, now: datetime) -> int:
        """Escalate each report not submitted by a deadline one level up, once per step;
        returns how many steps were recorded."""
        desk = self._find(ReportDesk, REPORT_DESK_ID, for_reading=True)
        if desk is None:
            return 0
        self._open_ended_periods(now, by=System.AUTOMATION)
        desk = self._get(ReportDesk, REPORT_DESK_ID, "report desk", "Submit a report first.")
        return sum(self._tick_reports(period, now, by=System.AUTOMATION)
                   for period in sorted(desk.periods))

    @command
    def _open_ended_periods(self, now: datetime, *, by: Actor) -> int | None:
        """Once reporting has begun (a first report submitted), every day that has ended is
        watched, whether anyone reported for it or not: a day nobody reports for escalates
        like any other. Days further back than ``WATCH_BACK_DAYS`` before ``now`` (a tick
        that did not run for weeks) are not chased."""
        desk = self._get(ReportDesk, REPORT_DESK_ID, "report desk", "Submit a report first.")
        if not desk.periods:
            return None
        last = max(desk.periods)
        city, policy = desk.periods[last], self.policy_at(now)
        day = max(last + timedelta(days=1), now.date() - timedelta(days=WATCH_BACK_DAYS))
        opened = False
        while period_end(day, policy) <= now:
            desk.open_period(day, city, now)
            opened, day = True, day + timedelta(days=1)
        return self._save(desk) if opened else None

    @command
    def _tick_reports(self, period: date, now: datetime, *, by: Actor) -> int:
        desk = self._get(ReportDesk, REPORT_DESK_ID, "report desk", "Submit a report first.")
        policy = self.policy_at(now)
        steps = 0
        for node in self.subtree(desk.periods[period]):
            if node.level > Level.COMMUNITY or node.retired \
                    or self._find(DailyReport, report_id(node.code, period),
                                  for_reading=True) is not None:
                continue
            chain = self.ancestry(node.code)  # the node, then its parents up to the city
            for step, to in enumerate(chain[1:], start=1):
                # step 1 at the node's own deadline; each next at the deadline of the
                # level it went to
                at_level = self.node(chain[step - 1]).level
                if now < report_deadline(at_level, period, policy):
                    break
                steps += int(desk.escalate(node.code, period, step, to, now))
        if steps:
            self._save(desk)
        return steps


__all__ = ["ChildReport", "Completeness", "ReportCommands", "ReportStatus"]
