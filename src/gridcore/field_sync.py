"""Offline field sync: a device that worked without a connection sends its records at once.

Each record carries a client id and the version of the aggregate it was based on. Replays are
no-ops; a record based on a stale version is reported back with the current state, never dropped
and never applied blindly; each record is applied (or not) on its own, so one bad record does
not hold back the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from gridcore.delivery_commands import DeliveryCommands
from gridcore.errors import GridcoreError
from gridcore.idempotency import ClientCommand, client_command_id
from gridcore.sweep import Visit, VisitRecord, visit_id
from gridcore.sweep_commands import SweepCommands


class SyncStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"


@dataclass
class FieldRecord:
    """A visit or a chat check-in (a visit by the chat method) recorded offline, based on the
    visit's version the device saw (0 when it saw none). A field of ``record`` left unset
    takes ``record_visit``'s default, as at the door: a 'seen' visit whose ``accounted`` was
    not given accounts for every registered member (``gridcore.sweep.visit_record``)."""

    client_id: str
    campaign_id: UUID
    household_id: UUID
    base_version: int
    record: VisitRecord


@dataclass
class DeliveryConfirmation:
    """A delivery handed over (or failed, with the reason) while offline."""

    client_id: str
    delivery_id: UUID
    base_version: int
    by: UUID
    delivered_at: datetime
    failed_reason: str = ""


@dataclass
class SyncResult:
    client_id: str
    status: SyncStatus
    message: str = ""
    current: dict[str, Any] = field(default_factory=dict)


class FieldSyncCommands(SweepCommands, DeliveryCommands):
    """Applies a device's records with the sweep area's ``record_visit`` and the delivery
    area's confirmations: the bases name the areas it calls."""

    def sync_field_records(
        self, records: Sequence[FieldRecord | DeliveryConfirmation]
    ) -> list[SyncResult]:
        """Apply a batch from a device that was offline, one record at a time (see above)."""
        return [self._sync_one(r) for r in records]

    def _sync_one(self, r: FieldRecord | DeliveryConfirmation) -> SyncResult:
        if self._find(ClientCommand, client_command_id(r.client_id)) is not None:
            return SyncResult(r.client_id, SyncStatus.DUPLICATE, "already applied")
        try:
            current = self._current(r)
            if current["version"] != r.base_version:
                return SyncResult(r.client_id, SyncStatus.STALE,
                                  f"it changed since the device saw it (version "
                                  f"{r.base_version}, now {current['version']}); review and "
                                  "resend", current)
            self._apply(r)
        except GridcoreError as e:
            return SyncResult(r.client_id, SyncStatus.REJECTED, str(e))
        return SyncResult(r.client_id, SyncStatus.APPLIED)

    def _current(self, r: FieldRecord | DeliveryConfirmation) -> dict[str, Any]:
        if isinstance(r, DeliveryConfirmation):
            d = self.delivery(r.delivery_id)
            return {"version": d.version, "state": d.state.value, "attempts": d.attempts}
        return visit_state(self._find(Visit, _visit_id(r)))

    def _apply(self, r: FieldRecord | DeliveryConfirmation) -> None:
        if isinstance(r, DeliveryConfirmation):
            if r.failed_reason:
                self.report_failed_delivery(
                    r.delivery_id, r.failed_reason, by=r.by, client_id=r.client_id)
            else:
                self.confirm_delivery(
                    r.delivery_id, r.by, r.delivered_at, client_id=r.client_id)
            return
        rec = r.record
        self.record_visit(
            r.campaign_id, r.household_id, rec.method, rec.outcome, by=rec.staff_id,
            visited_at=rec.at, client_id=r.client_id,
            **rec.model_dump(exclude={"staff_id", "method", "outcome", "at"},
                             exclude_unset=True))


def _visit_id(r: FieldRecord) -> UUID:
    return visit_id(r.campaign_id, r.household_id)


def visit_state(visit: Visit | None) -> dict[str, Any]:
    """What a device needs to reconcile a stale visit record."""
    if visit is None:
        return {"version": 0, "attempts": 0}
    return {"version": visit.version, "attempts": len(visit.attempts),
            "accounted": len(visit.accounted()),
            "last_outcome": visit.attempts[-1].outcome.value if visit.attempts else None}
