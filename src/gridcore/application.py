"""The library's front door: one application whose command methods read like the seeds' verbs.

``GridcoreApp`` gathers the command mixins of each area (grid, households and status, staff and
assignment); ``gridcore.app_base`` holds what they share. Import from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gridcore.alert_commands import AlertCommands
from gridcore.app_base import (
    MAX_BATCH,
    HouseholdRow,
    RegistrationReport,
    collection_paused,
    command,
    utc_now,
)
from gridcore.delivery_commands import DeliveryCommands
from gridcore.enterprise_commands import EnterpriseCommands
from gridcore.field_sync import FieldSyncCommands
from gridcore.grid_commands import GridCommands
from gridcore.household import new_member
from gridcore.household_commands import ErasureParticipant, HouseholdCommands
from gridcore.referral_commands import ReferralCommands
from gridcore.request_commands import RequestCommands
from gridcore.staff_commands import ASSIGNABLE_ROLES, StaffCommands
from gridcore.sweep_commands import SweepCommands


class GridcoreApp(FieldSyncCommands, SweepCommands, ReferralCommands, HouseholdCommands,
                  StaffCommands, DeliveryCommands, EnterpriseCommands, RequestCommands,
                  AlertCommands, GridCommands):
    """Grid hierarchy, households and resident status, staff and assignment, and the field
    operations: sweeps, referrals, deliveries, enterprise resumption, residents' requests,
    and offline field sync.

    An area that calls another names it as a base (field sync: sweeps and deliveries; sweeps:
    referrals and households; households: staff), so each call is type-checked; look-ups
    several areas use live on ``ApplicationBase``; no two areas define the same method."""

    name = "gridcore"

    def _erasure_participants(self) -> Sequence[ErasureParticipant]:
        """Who else erases a resident's data in the resident's transaction: the staff area
        (a resident who is staff) and the requests area (what they filed)."""
        return (self._staff_erased_with_resident, self._requests_erased_with_resident)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Record everything that became overdue at ``now`` (default: the clock), exactly
        once however often it runs; returns how many items of each kind became overdue."""
        at = now or self.clock()
        return {
            "referrals": self.tick_referrals(at),
            "deliveries": self.tick_deliveries(at),
            "enterprises": self.tick_enterprises(at),
            "requests": self.tick_requests(at),
            "sweeps": self.tick_sweeps(at),
            "alerts": self.tick_alerts(at),
        }


__all__ = [
    "ASSIGNABLE_ROLES",
    "MAX_BATCH",
    "GridcoreApp",
    "HouseholdRow",
    "RegistrationReport",
    "collection_paused",
    "command",
    "new_member",
    "utc_now",
]
