"""The monitoring area's index aggregates: ``MonitoringDirectory`` (the monitoring in
progress of each resident, which ``tick`` walks and a measure change ends) and
``MonitoringProcess`` (how far the process that follows measure changes and abnormal readings
has read the event log)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id

MONITORING_DIRECTORY_ID = stable_id("monitoring-directory", "all")
MONITORING_PROCESS_ID = stable_id("process", "monitoring")


class MonitoringDirectory(Aggregate):
    """The monitoring in progress of each resident (what ``tick`` walks and a measure change
    ends)."""

    active: dict[UUID, UUID]

    class Started(Created):
        def apply(self, d: MonitoringDirectory) -> None:
            d.active = {}

    class Listed(Event):
        resident_id: UUID
        monitoring_id: UUID

        def apply(self, d: MonitoringDirectory) -> None:
            d.active[self.resident_id] = self.monitoring_id

    class Delisted(Event):
        resident_id: UUID
        monitoring_id: UUID

        def apply(self, d: MonitoringDirectory) -> None:
            if d.active.get(self.resident_id) == self.monitoring_id:
                del d.active[self.resident_id]

    @classmethod
    def start(cls, at: datetime) -> MonitoringDirectory:
        return cls._create(cls.Started, MONITORING_DIRECTORY_ID, at)

    def add(self, resident_id: UUID, mid: UUID, at: datetime) -> None:
        if self.active.get(resident_id) != mid:
            self._trigger(self.Listed, at, resident_id=resident_id, monitoring_id=mid)

    def remove(self, resident_id: UUID, mid: UUID, at: datetime) -> None:
        if self.active.get(resident_id) == mid:
            self._trigger(self.Delisted, at, resident_id=resident_id, monitoring_id=mid)


class MonitoringProcess(Aggregate):
    """The position of the monitoring process in the event log (measure changes and
    abnormal readings it followed), and what it could not apply, with the reason."""

    position: int
    skipped: list[tuple[int, str, str]]

    class Started(Created):
        def apply(self, p: MonitoringProcess) -> None:
            p.position, p.skipped = 0, []

    class Advanced(Event):
        position: int
        skipped: list[tuple[int, str, str]] = []

        def apply(self, p: MonitoringProcess) -> None:
            p.position = self.position
            p.skipped.extend(self.skipped)

    @classmethod
    def start(cls, at: datetime) -> MonitoringProcess:
        return cls._create(cls.Started, MONITORING_PROCESS_ID, at)

    def advance(self, position: int, skipped: list[tuple[int, str, str]], at: datetime) -> None:
        if position > self.position:
            self._trigger(self.Advanced, at, position=position, skipped=skipped)
