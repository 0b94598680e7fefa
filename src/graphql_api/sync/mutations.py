"""The batch form for offline sync (离线同步): a device that worked without a connection sends
its visits and delivery confirmations at once (``gridcore.field_sync``).

Each record carries its client id and the version of the visit or delivery the device saw;
each is applied or not on its own: ``APPLIED``, ``DUPLICATE`` (sent before), ``STALE`` (it
changed since: the current state comes back to review) or ``REJECTED`` (why, and what would be
right). Records act as the signed-in staff member; one about a household or delivery outside
their jurisdiction is rejected exactly like one about a record that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import VisitMethod, VisitOutcome, _mirrors
from graphql_api.ids import canonical
from graphql_api.pipeline import run_mutation
from graphql_api.problems import Problem
from graphql_api.scope import household_visible, node_visible
from graphql_api.sweeps.mutations import (
    ArrivalInput,
    SymptomInput,
    TemperatureInput,
    VisitorInput,
    findings_details,
)
from graphql_api.watch.feed import Subject, place_of
from gridcore import assignment, field_sync, sweep


@strawberry.enum(description="同步结果 what became of one offline record")
class SyncStatus(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"


_mirrors(SyncStatus, field_sync.SyncStatus)


@strawberry.input(description="A visit recorded offline.")
class SyncVisitInput:
    client_id: str
    campaign_scope: str
    round: int
    household_id: strawberry.ID
    base_version: int = strawberry.field(
        description="The visit's version the device saw (0 when it saw none): the "
                    "`visitVersion` of the household on `me.workList`.")
    method: VisitMethod
    visited_at: datetime
    outcome: VisitOutcome = VisitOutcome.SEEN
    accounted: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Members seen or reported (default when seen: all, as for "
                                  "recordVisit).")
    temperatures: list[TemperatureInput] = strawberry.field(default_factory=list)
    close_contacts: list[strawberry.ID] = strawberry.field(default_factory=list)
    symptoms: list[SymptomInput] = strawberry.field(default_factory=list)
    visitors: list[VisitorInput] = strawberry.field(default_factory=list)
    arrivals: list[ArrivalInput] = strawberry.field(default_factory=list)
    note: str = ""


@strawberry.input(description="A delivery handed over (or failed, with the reason) offline.")
class SyncDeliveryInput:
    client_id: str
    delivery_id: strawberry.ID
    base_version: int = strawberry.field(
        description="The delivery's version the device saw (`Delivery.version`).")
    delivered_at: datetime
    failed_reason: str = ""


@strawberry.input(description="离线同步 a device's offline records, each applied on its own.")
class SyncFieldRecordsInput:
    visits: list[SyncVisitInput] | None = None
    deliveries: list[SyncDeliveryInput] | None = None


@strawberry.type(description="What became of one offline record.")
class SyncResult:
    client_id: str
    status: SyncStatus
    message: str
    current_version: int | None = strawberry.field(
        description="For a stale record: the version now.")
    current_state: str | None = strawberry.field(
        description="For a stale record: the delivery's state or the visit's last outcome.")


def _result(r: field_sync.SyncResult) -> SyncResult:
    state = r.current.get("state", r.current.get("last_outcome"))
    return SyncResult(client_id=r.client_id, status=SyncStatus(r.status.value),
                      message=r.message, current_version=r.current.get("version"),
                      current_state=None if state is None else str(state))


def _rejected(client_id: str, message: str) -> SyncResult:
    return SyncResult(client_id=client_id, status=SyncStatus("rejected"), message=message,
                      current_version=None, current_state=None)


def _absent(client_id: str, what: str) -> SyncResult:
    return _rejected(client_id, f"No {what}. Check the id as the API returned it.")


def _uuids(raw: list[strawberry.ID]) -> list[UUID] | None:
    found = [canonical(v) for v in raw]
    return None if any(v is None for v in found) else [UUID(v) for v in found if v]


async def _records(ctx: Context, by: UUID, visits: list[SyncVisitInput],
                   deliveries: list[SyncDeliveryInput],
                   out: dict[str, SyncResult]) -> list[tuple[str, Any]]:
    """The records to apply, each of the caller's jurisdiction; a record that cannot be is
    answered in ``out`` (rejected) instead."""
    records: list[tuple[str, Any]] = []
    for v in visits:
        hid = canonical(v.household_id)
        ids = [_uuids(v.accounted or []), _uuids(v.close_contacts),
               _uuids([t.resident_id for t in v.temperatures])]
        if hid is None or not await household_visible(ctx, hid):
            out[v.client_id] = _absent(v.client_id, f"household {v.household_id[:60]}")
            continue
        accounted, contacts, hot = ids
        found = findings_details(v.symptoms, v.visitors, v.arrivals)
        if accounted is None or contacts is None or hot is None or isinstance(found, Problem):
            out[v.client_id] = _absent(v.client_id, "resident with one of those ids")
            continue
        if v.accounted is not None:  # not given: record_visit's default, as at the door
            found["accounted"] = accounted
        at = v.visited_at  # naive: the application refuses it (no zone to assume)
        try:
            record = sweep.VisitRecord(
                staff_id=by, method=assignment.Method(v.method.value), at=at,
                outcome=sweep.Outcome(v.outcome.value), close_contacts=contacts, note=v.note,
                temperatures={rid: t.celsius for rid, t in zip(hot, v.temperatures,
                                                               strict=True)}, **found)
        except ValueError:  # pydantic's ValidationError: a malformed field
            out[v.client_id] = _rejected(
                v.client_id, "The record is malformed. Check its fields (temperatures in "
                             "degrees Celsius, a note of text).")
            continue
        records.append((v.client_id, field_sync.FieldRecord(
            v.client_id, sweep.campaign_id(v.campaign_scope, v.round), UUID(hid),
            v.base_version, record)))
    for d in deliveries:
        did = canonical(d.delivery_id)
        place = place_of(ctx.views, Subject.DELIVERY, did, None) if did else None
        if did is None or place is None or not await node_visible(ctx, place):
            out[d.client_id] = _absent(d.client_id, f"delivery {d.delivery_id[:60]}")
            continue
        at = d.delivered_at  # naive: refused by the application, as above
        records.append((d.client_id, field_sync.DeliveryConfirmation(
            d.client_id, UUID(did), d.base_version, by, at, d.failed_reason)))
    return records


@strawberry.type
class SyncMutation:
    @strawberry.mutation(description="离线同步 apply a device's offline visits and delivery "
                                     "confirmations, each on its own.")
    async def sync_field_records(self, info: Info[Context, None],
                                 input: SyncFieldRecordsInput) -> list[SyncResult]:
        ctx, visits, deliveries = info.context, input.visits or [], input.deliveries or []
        sent = [r.client_id for r in visits] + [r.client_id for r in deliveries]
        out: dict[str, SyncResult] = {}
        records = (await _records(ctx, ctx.caller.staff_id, visits, deliveries, out)
                   if ctx.caller else [])
        done = await run_mutation(info, lambda c: c.app.sync_field_records(
            [r for _, r in records]) if records else [], lambda c, done: done)
        if isinstance(done, Problem):  # not signed in, or deactivated: nothing was applied
            return [_rejected(c, f"{done.problem} {done.remedy}") for c in dict.fromkeys(sent)]
        for r in done:
            out[r.client_id] = _result(r)
        return [out[c] for c in dict.fromkeys(sent) if c in out]
