"""The batch form for offline sync (离线同步): a device that worked without a connection sends
its visits and delivery confirmations at once (``gridcore.field_sync``).

Each record carries its client id and the version of the visit or delivery the device saw;
each is applied or not on its own: ``APPLIED``, ``DUPLICATE`` (sent before), ``STALE`` (it
changed since: the current state comes back to review) or ``REJECTED`` (why, and what would be
right). Records act as the signed-in staff member; one about a household or delivery outside
their jurisdiction is rejected exactly like one about a record that does not exist.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import VisitMethod, VisitOutcome
from graphql_api.ids import canonical
from graphql_api.scope import household_visible, node_visible
from graphql_api.sweeps.mutations import TemperatureInput
from graphql_api.watch.feed import Subject, place_of
from gridcore import assignment, field_sync, sweep

SyncStatus = strawberry.enum(Enum("SyncStatus", {s.name: s.value
                                                 for s in field_sync.SyncStatus}),
                             description="同步结果 what became of one offline record")


@strawberry.input(description="A visit recorded offline.")
class SyncVisitInput:
    client_id: str
    campaign_scope: str
    round: int
    household_id: strawberry.ID
    base_version: int = strawberry.field(
        description="The visit's version the device saw (0 when it saw none).")
    method: VisitMethod
    visited_at: datetime
    outcome: VisitOutcome = VisitOutcome.SEEN  # type: ignore[attr-defined]
    accounted: list[strawberry.ID] = strawberry.field(default_factory=list)
    temperatures: list[TemperatureInput] = strawberry.field(default_factory=list)
    close_contacts: list[strawberry.ID] = strawberry.field(default_factory=list)
    note: str = ""


@strawberry.input(description="A delivery handed over (or failed, with the reason) offline.")
class SyncDeliveryInput:
    client_id: str
    delivery_id: strawberry.ID
    base_version: int
    delivered_at: datetime
    failed_reason: str = ""


@strawberry.type(description="What became of one offline record.")
class SyncResult:
    client_id: str
    status: SyncStatus  # type: ignore[valid-type]
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


def _absent(client_id: str, what: str) -> SyncResult:
    return SyncResult(client_id=client_id, status=SyncStatus("rejected"),
                      message=f"No {what}. Check the id as the API returned it.",
                      current_version=None, current_state=None)


def _uuids(raw: list[strawberry.ID]) -> list[UUID] | None:
    found = [canonical(v) for v in raw]
    return None if any(v is None for v in found) else [UUID(v) for v in found if v]


@strawberry.type
class SyncMutation:
    @strawberry.mutation(description="离线同步 apply a device's offline visits and delivery "
                                     "confirmations, each on its own.")
    async def sync_field_records(
            self, info: Info[Context, None],
            visits: list[SyncVisitInput] | None = None,
            deliveries: list[SyncDeliveryInput] | None = None) -> list[SyncResult]:
        ctx = info.context
        if ctx.caller is None:
            return [SyncResult(client_id=r.client_id, status=SyncStatus("rejected"),
                               message="No staff member is signed in. Send a bearer token.",
                               current_version=None, current_state=None)
                    for r in [*(visits or []), *(deliveries or [])]]
        by = ctx.caller.staff_id
        out: dict[str, SyncResult] = {}
        records: list[tuple[str, Any]] = []
        for v in visits or []:
            hid = canonical(v.household_id)
            ids = [_uuids(v.accounted), _uuids(v.close_contacts),
                   _uuids([t.resident_id for t in v.temperatures])]
            if hid is None or not await household_visible(ctx, hid):
                out[v.client_id] = _absent(v.client_id, f"household {v.household_id[:60]}")
                continue
            accounted, contacts, hot = ids
            if accounted is None or contacts is None or hot is None:
                out[v.client_id] = _absent(v.client_id, "resident with one of those ids")
                continue
            at = v.visited_at  # naive: the application refuses it (no zone to assume)
            try:
                record = sweep.VisitRecord(
                    staff_id=by, method=assignment.Method(v.method.value), at=at,
                    outcome=sweep.Outcome(v.outcome.value), accounted=accounted,
                    close_contacts=contacts, note=v.note,
                    temperatures={rid: t.celsius for rid, t in zip(hot, v.temperatures,
                                                                   strict=True)})
            except ValueError:  # pydantic's ValidationError: a malformed field
                out[v.client_id] = SyncResult(
                    client_id=v.client_id, status=SyncStatus("rejected"),
                    message="The record is malformed. Check its fields (temperatures in "
                            "degrees Celsius, a note of text).",
                    current_version=None, current_state=None)
                continue
            records.append((v.client_id, field_sync.FieldRecord(
                v.client_id, sweep.campaign_id(v.campaign_scope, v.round), UUID(hid),
                v.base_version, record)))
        for d in deliveries or []:
            did = canonical(d.delivery_id)
            place = place_of(ctx.views, Subject.DELIVERY, did, None) if did else None
            if did is None or place is None or not await node_visible(ctx, place):
                out[d.client_id] = _absent(d.client_id, f"delivery {d.delivery_id[:60]}")
                continue
            at = d.delivered_at  # naive: refused by the application, as above
            records.append((d.client_id, field_sync.DeliveryConfirmation(
                d.client_id, UUID(did), d.base_version, by, at, d.failed_reason)))

        def work() -> list[field_sync.SyncResult]:
            done = ctx.app.sync_field_records([r for _, r in records])
            ctx.runner.wait(ctx.app.recorder.max_notification_id() or 0)
            return done

        for r in await asyncio.to_thread(work) if records else []:
            out[r.client_id] = _result(r)
        order = [r.client_id for r in [*(visits or []), *(deliveries or [])]]
        return [out[c] for c in dict.fromkeys(order) if c in out]
