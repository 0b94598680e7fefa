"""Commands of the delivery area (filled in by the field-operations work)."""

from __future__ import annotations

from datetime import datetime

from gridcore.app_base import ApplicationBase


class DeliveryCommands(ApplicationBase):
    def tick_deliveries(self, now: datetime) -> int:
        """Record what became overdue at ``now``, once; returns how many items did."""
        return 0
