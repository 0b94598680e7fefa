"""The desk of daily reports (日报): the periods being reported, so ``tick`` finds the reports
overdue, and each overdue report's escalations (exactly once per step)."""

from __future__ import annotations

from datetime import date, datetime

from gridcore.base import Aggregate, Created, Event, stable_id

REPORT_DESK_ID = stable_id("daily-report-desk", "all")


class ReportDesk(Aggregate):
    """The periods reporting has begun for (each with its city), and the escalations made:
    (node code, period) -> the codes escalated to, in order (step 1: the parent, at the
    node's own deadline; step 2: the grandparent, at the parent's deadline...)."""

    periods: dict[date, str]
    escalated: dict[tuple[str, date], list[str]]

    class Started(Created):
        def apply(self, d: ReportDesk) -> None:
            d.periods, d.escalated = {}, {}

    class PeriodOpened(Event):
        period: date
        city: str

        def apply(self, d: ReportDesk) -> None:
            d.periods[self.period] = self.city

    class Escalated(Event):
        """逾期未报 a report not submitted by a deadline, escalated to ``to``."""

        code: str
        period: date
        step: int
        to: str

        def apply(self, d: ReportDesk) -> None:
            d.escalated.setdefault((self.code, self.period), []).append(self.to)

    @classmethod
    def start(cls, at: datetime) -> ReportDesk:
        return cls._create(cls.Started, REPORT_DESK_ID, at)

    def open_period(self, period: date, city: str, at: datetime) -> None:
        """Reporting for ``period`` has begun: ``tick`` watches every node's report of it."""
        if period not in self.periods:
            self._trigger(self.PeriodOpened, at, period=period, city=city)

    def steps(self, code: str, period: date) -> list[str]:
        return list(self.escalated.get((code, period), []))

    def escalate(self, code: str, period: date, step: int, to: str, at: datetime) -> bool:
        """Record step ``step`` of an overdue report's escalation once."""
        if len(self.steps(code, period)) >= step:
            return False
        self._trigger(self.Escalated, at, code=code, period=period, step=step, to=to)
        return True
