"""Top-level queries of health monitoring (健康监测), within the caller's jurisdiction, now or
as it was at a past time (``asOf``): counts per grid node, and the residents due, missed,
abnormal or due for release."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.monitoring.types import (
    MonitoredResident,
    MonitoringNode,
    MonitoringReport,
    MonitoringStatus,
    level_of,
    release_requirement,
)
from graphql_api.relay import page_size
from graphql_api.scope import ScopeArg, scope_of
from graphql_api.tracing.queries import AsOf, checked
from projections import monitoring_board as mb
from projections.base import ReadViews
from projections.support import Under


def _listed(views: ReadViews, nodes: Under, now: datetime, status: MonitoringStatus,
            as_of: datetime | None, open_only: bool = False) -> list[MonitoredResident]:
    """The residents of one status (read off the loop)."""
    if status is MonitoringStatus.DUE:
        return [MonitoredResident.of(d.monitoring, as_of, report_time=d.due,
                                     reported=d.reported, missed=d.missed)
                for d in mb.due_on(views, nodes, now, as_of=as_of)]
    if status is MonitoringStatus.MISSED:
        return [MonitoredResident.of(m.monitoring, as_of, report_time=m.due, missed=True,
                                     open=m.open, owner_code=m.owner_code,
                                     owner_level=level_of(m.level),
                                     escalations=m.escalations)
                for m in mb.missed_under(views, nodes, open_only=open_only, as_of=as_of)]
    if status is MonitoringStatus.ABNORMAL:
        return [MonitoredResident.of(m, as_of, abnormal_report=MonitoringReport.from_row(
                    r, m.resident_id))
                for m, r in mb.abnormal_under(views, nodes, as_of=as_of)]
    return [MonitoredResident.of(m, as_of, release_requirements=[
                release_requirement(q) for q in m.release or ()])
            for m in mb.release_under(views, nodes, as_of=as_of)]


@strawberry.type
class MonitoringQuery:
    @strawberry.field(description="健康监测看板 per node of a subtree, at asOf: residents under "
                                  "monitoring, the day's reports due, reported and missed, "
                                  "open missed items, abnormal readings and the release list, "
                                  "by code (counts only).")
    async def monitoring_board(self, info: Info[Context, None], scope: ScopeArg = None,
                               as_of: AsOf = None) -> list[MonitoringNode]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        found = await asyncio.to_thread(mb.board_by_node, ctx.views, nodes, ctx.app.clock(),
                                        as_of=when)
        return [MonitoringNode(code=g.code, monitored=g.monitored, assisted=g.assisted,
                               due_today=g.due_today, reported_today=g.reported_today,
                               missed_today=g.missed_today, overdue=g.overdue,
                               abnormal=g.abnormal, release=g.release)
                for g in found.values()]

    @strawberry.field(description="健康监测 the residents under monitoring in a subtree at asOf "
                                  "of one status: each report due that day (DUE, by time), "
                                  "each missed report (MISSED, oldest first, open ones with "
                                  "their owner and escalation level), each abnormal reading "
                                  "(ABNORMAL, newest first) or the release list (RELEASE, with "
                                  "what the policy still requires). ``openOnly``: MISSED only "
                                  "the open ones (residents not heard from since).")
    async def monitored_residents(self, info: Info[Context, None], status: MonitoringStatus,
                                  scope: ScopeArg = None, as_of: AsOf = None,
                                  first: int = 100, open_only: bool = False
                                  ) -> list[MonitoredResident]:
        ctx = info.context
        when = checked(as_of)
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "residents")
        found = await asyncio.to_thread(_listed, ctx.views, nodes, ctx.app.clock(), status,
                                        when, open_only)
        return found[:first]
