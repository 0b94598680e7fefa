"""Mutations of daily reports (日报): submit (a community's figures gathered here from the read
models as of the period's end; a parent's summed by the domain from its children's approved
reports), correct (a new version with a reason), return (with a reason) and approve. Each acts
as the signed-in staff member on a node of their jurisdiction (one outside reads as missing),
is applied once per ``clientId`` and answers the report as ``dailyReport`` shows it."""

from __future__ import annotations

import asyncio
from datetime import date
from functools import partial
from typing import Any

import strawberry

from graphql_api.pipeline import Call, ClientId, mutation
from graphql_api.problems import result
from graphql_api.reach import nodes
from graphql_api.reports.types import DailyReportType, FilledFieldInput
from gridcore.daily_report import ReportFigures, check_period, period_end
from gridcore.grid import Level
from projections.reports import figures_for


@strawberry.type(description="The report as it is after the change (or had been, under this "
                             "clientId).")
class DailyReportChanged:
    notification_id: int | None
    report: DailyReportType


DailyReportResult = result("DailyReportResult", DailyReportChanged)


@strawberry.input(description="报送 a node's report for a period that has ended: a "
                              "community's figures are read from the read models as of the "
                              "period's end; a street's, district's or city's are the sum of "
                              "its children's approved reports. `zero`: 零报告, all figures "
                              "zero.")
class SubmitDailyReportInput:
    code: str
    period: date
    filled: list[FilledFieldInput] = strawberry.field(default_factory=list)
    note: str = ""
    zero: bool = False
    client_id: ClientId = None


@strawberry.input(description="更正 a new version of a report, with the reason (its figures "
                              "gathered again).")
class CorrectDailyReportInput:
    code: str
    period: date
    reason: str
    filled: list[FilledFieldInput] = strawberry.field(default_factory=list)
    note: str = ""
    zero: bool = False
    client_id: ClientId = None


@strawberry.input(description="退回 return a report's current version, with the reason.")
class ReturnDailyReportInput:
    code: str
    period: date
    reason: str
    client_id: ClientId = None


@strawberry.input(description="审核通过 approve a report's current version.")
class ApproveDailyReportInput:
    code: str
    period: date
    client_id: ClientId = None


def gathered(c: Call, period: date) -> ReportFigures | None:
    """A community's figures from the read models as of the period's end (caught up with the
    log first); None for a parent (the domain sums its children's)."""
    app = c.app
    node = app.node(c.target)
    if node.level is not Level.COMMUNITY:
        return None
    c.ctx.runner.wait(app.recorder.max_notification_id() or 0)
    now = app.clock()
    policy = app.policy_at(now)
    return figures_for(c.ctx.views, node.code,
                       period_end(check_period(period, now, policy), policy), now)


def _filled(fields: list[FilledFieldInput]) -> dict[str, str]:
    return {f.name: f.text for f in fields}


async def _changed(c: Call, out: Any) -> DailyReportChanged:
    def read() -> DailyReportChanged:
        r = c.app.daily_report(c.target, c.input.period)
        assert r is not None
        return DailyReportChanged(notification_id=out if isinstance(out, int) else None,
                                  report=DailyReportType.of(r))
    return await asyncio.to_thread(read)


_on_report = partial(mutation, result=DailyReportResult, success=_changed,
                     on=lambda i: [nodes(i.code.strip())])


@strawberry.type
class ReportMutation:
    submit_daily_report = _on_report(
        "报送 submit a node's daily report for a period that has ended (its officials).",
        SubmitDailyReportInput,
        lambda c, i: c.app.submit_report(c.target, i.period, gathered(c, i.period),
                                         _filled(i.filled), i.note, i.zero, by=c.by,
                                         client_id=i.client_id))

    correct_daily_report = _on_report(
        "更正 correct a report: a new version with the reason; every version stays.",
        CorrectDailyReportInput,
        lambda c, i: c.app.correct_report(c.target, i.period, gathered(c, i.period),
                                          i.reason, _filled(i.filled), i.note, i.zero,
                                          by=c.by, client_id=i.client_id))

    return_daily_report = _on_report(
        "退回 return a report of the level below, with the reason (officials of the level "
        "above).", ReturnDailyReportInput,
        lambda c, i: c.app.return_report(c.target, i.period, i.reason, by=c.by,
                                         client_id=i.client_id))

    approve_daily_report = _on_report(
        "审核通过 approve a report of the level below (officials of the level above; not the "
        "version's own submitter).", ApproveDailyReportInput,
        lambda c, i: c.app.approve_report(c.target, i.period, by=c.by,
                                          client_id=i.client_id))
