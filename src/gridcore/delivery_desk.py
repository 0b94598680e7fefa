"""A community's delivery desk (the index without a read model: open deliveries, purchase
batches, due times, sealed scopes, each household's last delivery) and the directory of desks
that the overdue tick walks."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.delivery import Batch, Delivery
from gridcore.errors import InvalidInput


def desk_id(code: str) -> UUID:
    return stable_id("delivery-desk", code)


DIRECTORY_ID = stable_id("delivery-desks", "all")



class DeliveryDesk(Aggregate):
    """A community's deliveries that are not delivered yet, and what the tick and the sealed
    scope queries need, updated in the same transaction as the deliveries."""

    code: str
    open: set[UUID]
    due: dict[UUID, datetime]
    batches: dict[int, Batch]
    runs: int
    sealed: dict[str, datetime]
    last_delivered: dict[UUID, datetime]

    class Opened(Created):
        code: str

        def apply(self, desk: DeliveryDesk) -> None:
            desk.code, desk.open, desk.due, desk.batches = self.code, set(), {}, {}
            desk.runs, desk.sealed, desk.last_delivered = 0, {}, {}

    class Added(Event):
        delivery_ids: list[UUID]

        def apply(self, desk: DeliveryDesk) -> None:
            desk.open.update(self.delivery_ids)

    class Batched(Event):
        batch: Batch

        def apply(self, desk: DeliveryDesk) -> None:
            desk.batches[self.batch.batch_no] = self.batch

    class Tracked(Event):
        """Deliveries dispatched (in a numbered run, or one redelivery) and when they are due."""

        due: dict[UUID, datetime]
        run_no: int | None = None

        def apply(self, desk: DeliveryDesk) -> None:
            desk.due.update(self.due)
            if self.run_no is not None:
                desk.runs = max(desk.runs, self.run_no)

    class Untracked(Event):
        delivery_ids: list[UUID]

        def apply(self, desk: DeliveryDesk) -> None:
            for did in self.delivery_ids:
                desk.due.pop(did, None)

    class Closed(Event):
        delivery_id: UUID
        household_id: UUID | None
        delivered_at: datetime

        def apply(self, desk: DeliveryDesk) -> None:
            desk.open.discard(self.delivery_id)
            desk.due.pop(self.delivery_id, None)
            if self.household_id is not None:
                last = desk.last_delivered.get(self.household_id)
                if last is None or self.delivered_at > last:
                    desk.last_delivered[self.household_id] = self.delivered_at

    class Sealed(Event):
        code: str
        since: datetime

        def apply(self, desk: DeliveryDesk) -> None:
            desk.sealed[self.code] = self.since

    @classmethod
    def open_for(cls, code: str, at: datetime) -> DeliveryDesk:
        return cls._create(cls.Opened, desk_id(code), at, code=code)

    def add(self, delivery_ids: list[UUID], at: datetime) -> None:
        self._trigger(self.Added, at, delivery_ids=delivery_ids)

    def record_batch(self, batch: Batch, at: datetime) -> None:
        self._trigger(self.Batched, at, batch=batch)

    def track(self, due: dict[UUID, datetime], at: datetime, run_no: int | None = None) -> None:
        self._trigger(self.Tracked, at, due=due, run_no=run_no)

    def untrack(self, delivery_ids: list[UUID], at: datetime) -> None:
        if ids := [d for d in delivery_ids if d in self.due]:
            self._trigger(self.Untracked, at, delivery_ids=ids)

    def close(self, d: Delivery, at: datetime) -> None:
        self._trigger(self.Closed, at, delivery_id=d.id, household_id=d.household_id,
                      delivered_at=d.delivered_at)

    def seal(self, code: str, since: datetime, at: datetime) -> None:
        if since.tzinfo is None:
            raise InvalidInput("The seal's start has no time zone.",
                               "Give an aware datetime, e.g. 2020-02-22T00:00+08:00.")
        if code in self.sealed:
            raise InvalidInput(f"{code} is already sealed since {self.sealed[code].isoformat()}.",
                               "Nothing to do; a scope is sealed once.")
        self._trigger(self.Sealed, at, code=code, since=since)


class DeliveryDirectory(Aggregate):
    """The codes of every delivery desk, so that the overdue tick can visit them."""

    codes: list[str]

    class Opened(Created):
        def apply(self, directory: DeliveryDirectory) -> None:
            directory.codes = []

    class DeskAdded(Event):
        code: str

        def apply(self, directory: DeliveryDirectory) -> None:
            directory.codes.append(self.code)

    @classmethod
    def open(cls, at: datetime) -> DeliveryDirectory:
        return cls._create(cls.Opened, DIRECTORY_ID, at)

    def add(self, code: str, at: datetime) -> None:
        if code not in self.codes:
            self._trigger(self.DeskAdded, at, code=code)
