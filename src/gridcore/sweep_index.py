"""The index of open sweep campaigns, so ``tick`` can find windows that have ended."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id

OPEN_CAMPAIGNS_ID = stable_id("campaign-index", "open")


class OpenCampaigns(Aggregate):
    """Index of open campaigns, so ``tick`` can find windows that have ended."""

    ids: list[UUID]

    class Started(Created):
        def apply(self, i: OpenCampaigns) -> None:
            i.ids = []

    class Changed(Event):
        added: list[UUID] = []
        removed: list[UUID] = []

        def apply(self, i: OpenCampaigns) -> None:
            i.ids = [x for x in i.ids if x not in self.removed] + list(self.added)

    @classmethod
    def start(cls, at: datetime) -> OpenCampaigns:
        return cls._create(cls.Started, OPEN_CAMPAIGNS_ID, at)

    def add(self, campaign_id: UUID, at: datetime) -> None:
        """A campaign was launched: ``tick`` watches its window."""
        if campaign_id not in self.ids:
            self._trigger(self.Changed, at, added=[campaign_id])

    def remove(self, campaign_id: UUID, at: datetime) -> None:
        """A campaign was closed: ``tick`` no longer watches it."""
        self._trigger(self.Changed, at, removed=[campaign_id])
