"""Top-level queries of daily reports (日报): a node's report for a period, and its children's
completeness; null outside the caller's jurisdiction."""

from __future__ import annotations

import asyncio
from datetime import date

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.reports.types import DailyReportType, ReportCompleteness
from graphql_api.scope import node_visible
from gridcore import errors


@strawberry.type
class ReportQuery:
    @strawberry.field(description="日报 a node's report for a period (every version as "
                                  "submitted); null when none was submitted or the node is "
                                  "outside your jurisdiction.")
    async def daily_report(self, info: Info[Context, None], code: str,
                           period: date) -> DailyReportType | None:
        ctx, code = info.context, code.strip()
        if not await node_visible(ctx, code):
            return None

        def read() -> DailyReportType | None:
            try:
                r = ctx.app.daily_report(code, period)
            except errors.GridcoreError:
                return None
            return DailyReportType.of(r) if r is not None else None
        return await asyncio.to_thread(read)

    @strawberry.field(description="完整性 each child of a node for a period: approved, "
                                  "submitted, returned, missing or overdue; null outside your "
                                  "jurisdiction.")
    async def report_completeness(self, info: Info[Context, None], code: str,
                                  period: date) -> ReportCompleteness | None:
        ctx, code = info.context, code.strip()
        if not await node_visible(ctx, code):
            return None

        def read() -> ReportCompleteness | None:
            try:
                return ReportCompleteness.of(ctx.app.completeness(code, period))
            except errors.GridcoreError:
                return None
        return await asyncio.to_thread(read)
