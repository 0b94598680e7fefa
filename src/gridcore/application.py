"""The library's front door: one application whose command methods read like the seeds' verbs.

``GridcoreApp`` gathers the command mixins of each area (grid, households and status, staff and
assignment); ``gridcore.app_base`` holds what they share. Import from here.
"""

from __future__ import annotations

from gridcore.app_base import (
    MAX_BATCH,
    HouseholdRow,
    RegistrationReport,
    collection_paused,
    command,
    utc_now,
)
from gridcore.grid_commands import GridCommands
from gridcore.household_commands import HouseholdCommands
from gridcore.staff_commands import ASSIGNABLE_ROLES, StaffCommands, new_member


class GridcoreApp(GridCommands, HouseholdCommands, StaffCommands):
    """Grid hierarchy, households and resident status, staff and assignment."""

    name = "gridcore"


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
