"""The index of risk zonings (三区划分), so ``tick`` finds those in force and a community's
zonings can be read at a past time without a read model."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id

RISK_ZONINGS_ID = stable_id("risk-zoning-index", "all")


class RiskZonings(Aggregate):
    """Every community's zonings, in the order drawn, and those still in force."""

    by_community: dict[str, list[UUID]]
    in_force: list[UUID]

    class Started(Created):
        def apply(self, i: RiskZonings) -> None:
            i.by_community, i.in_force = {}, []

    class Added(Event):
        community: str
        zoning_id: UUID

        def apply(self, i: RiskZonings) -> None:
            i.by_community.setdefault(self.community, []).append(self.zoning_id)
            i.in_force.append(self.zoning_id)

    class Ended(Event):
        zoning_id: UUID

        def apply(self, i: RiskZonings) -> None:
            i.in_force = [z for z in i.in_force if z != self.zoning_id]

    @classmethod
    def start(cls, at: datetime) -> RiskZonings:
        return cls._create(cls.Started, RISK_ZONINGS_ID, at)

    def of(self, community: str) -> list[UUID]:
        return list(self.by_community.get(community, []))

    def add(self, community: str, zoning_id: UUID, at: datetime) -> None:
        """A zoning was drawn: ``tick`` watches it."""
        self._trigger(self.Added, at, community=community, zoning_id=zoning_id)

    def end(self, zoning_id: UUID, at: datetime) -> None:
        """A zoning was lifted: ``tick`` no longer watches it."""
        if zoning_id in self.in_force:
            self._trigger(self.Ended, at, zoning_id=zoning_id)
