"""电话通知名单: a micro-grid's call list, the messages its worker tells by phone because
their residents cannot read a text (no smartphone, 65+ living alone, no phone on record)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.errors import ForbiddenTransition


class CallList(Aggregate):
    """电话通知名单: the messages of a micro-grid's residents who are called by its worker
    rather than texted (an index: the worker's list without a scan)."""

    micro_grid: str
    open: dict[UUID, UUID]
    """message id -> the resident's household"""

    class Started(Created):
        micro_grid: str

        def apply(self, c: CallList) -> None:
            c.micro_grid, c.open = self.micro_grid, {}

    class Listed(Event):
        message_id: UUID
        household_id: UUID

        def apply(self, c: CallList) -> None:
            c.open[self.message_id] = self.household_id

    class Called(Event):
        message_id: UUID
        by: UUID

        def apply(self, c: CallList) -> None:
            c.open.pop(self.message_id, None)

    @classmethod
    def start(cls, micro_grid: str, at: datetime) -> CallList:
        return cls._create(cls.Started, call_list_id(micro_grid), at, micro_grid=micro_grid)

    def add(self, mid: UUID, household: UUID, at: datetime) -> None:
        if mid not in self.open:
            self._trigger(self.Listed, at, message_id=mid, household_id=household)

    def done(self, mid: UUID, by: UUID, at: datetime) -> None:
        if mid not in self.open:
            raise ForbiddenTransition("The message is not on this call list.",
                                      "Give a message of the micro-grid's open call list.")
        self._trigger(self.Called, at, message_id=mid, by=by)


def call_list_id(micro_grid: str) -> UUID:
    return stable_id("call_list", micro_grid)
