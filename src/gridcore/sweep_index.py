"""The index of open sweep campaigns, so ``tick`` can find windows that have ended."""

from __future__ import annotations

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
