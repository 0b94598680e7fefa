"""Health monitoring (健康监测): record a resident's report (taken by a staff member's visit or
call, at a quarantine site, or told by the resident and entered by staff) and put a resident
who cannot report themself on the worker's visit or call list. Each acts as the signed-in
staff member on a resident of their jurisdiction, is applied once per ``clientId`` and answers
the resident as the monitoring board shows them, or typed problems. Who may is the domain's
rule (``gridcore.authority.MONITORS``). The API has no resident sign-in: residents report
through the chat intake, not here."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial

import strawberry

from graphql_api.households.register import of_resident
from graphql_api.monitoring.types import AssistMethod, MonitoredResident, MonitoringReportSource
from graphql_api.pipeline import Call, ClientId, mutation
from graphql_api.problems import result
from projections import monitoring_board as mb


@strawberry.type(description="The change was recorded (or had been, under this clientId): the "
                             "resident as the monitoring board shows them now (null once their "
                             "monitoring ended).")
class MonitoringChanged:
    notification_id: int | None
    resident: MonitoredResident | None


MonitoringResult = result("MonitoringResult", MonitoringChanged)


@strawberry.input(description="健康上报 a report of a resident under monitoring: the reading "
                              "(°C, 34-43) and any symptoms; any symptom or a fever makes it "
                              "abnormal, followed up at once (symptomatic and a fever-clinic "
                              "referral).")
class RecordMonitoringReportInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    source: MonitoringReportSource
    temperature: float | None = None
    symptoms: list[str] = strawberry.field(default_factory=list)
    taken_at: datetime | None = strawberry.field(
        default=None, description="When it was taken, with a time zone (default now).")
    client_id: ClientId = None


@strawberry.input(description="协助上报 a resident who cannot report themself: visited or "
                              "called by staff instead.")
class AssistMonitoredResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    method: AssistMethod
    reason: str
    client_id: ClientId = None


async def _after(c: Call, nid: int | None) -> MonitoringChanged:
    row = await asyncio.to_thread(mb.monitoring_of_resident, c.ctx.views, str(c.targets[1]))
    return MonitoringChanged(notification_id=nid,
                             resident=MonitoredResident.of(row, None) if row else None)


_changes = partial(mutation, result=MonitoringResult, success=_after, on=of_resident)


@strawberry.type
class MonitoringMutation:
    record_monitoring_report = _changes(
        "健康上报 record a monitoring report of a resident of your jurisdiction under "
        "monitoring (staff who follow residents under a measure).",
        RecordMonitoringReportInput, lambda c, i: c.app.record_monitoring_report(
            c.target, c.targets[1], i.source.value, by=c.by, taken_at=i.taken_at,
            temperature=i.temperature, symptoms=list(i.symptoms), client_id=i.client_id),
        personal=lambda i: list(i.symptoms))

    assist_monitored_resident = _changes(
        "协助上报 put a resident of your jurisdiction who cannot report themself on the "
        "worker's visit or call list.", AssistMonitoredResidentInput,
        lambda c, i: c.app.assist_monitored_resident(
            c.target, c.targets[1], i.method.value, i.reason, by=c.by, client_id=i.client_id),
        personal=lambda i: [i.reason])
