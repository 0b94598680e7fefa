"""A community's enterprise desk (its enterprises with their specialists and the next
rectification deadline of each) and the directory of desks that the overdue tick walks."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.enterprise import Enterprise


def enterprise_desk_id(code: str) -> UUID:
    return stable_id("enterprise-desk", code)


ENTERPRISE_DIRECTORY_ID = stable_id("enterprise-desks", "all")



class EnterpriseDesk(Aggregate):
    """A community's enterprises with their specialists and next rectification deadlines."""

    code: str
    specialists: dict[UUID, UUID]
    due: dict[UUID, datetime]

    class Opened(Created):
        code: str

        def apply(self, desk: EnterpriseDesk) -> None:
            desk.code, desk.specialists, desk.due = self.code, {}, {}

    class Listed(Event):
        enterprise_id: UUID
        specialist: UUID

        def apply(self, desk: EnterpriseDesk) -> None:
            desk.specialists[self.enterprise_id] = self.specialist

    class DueSet(Event):
        enterprise_id: UUID
        due: datetime | None

        def apply(self, desk: EnterpriseDesk) -> None:
            if self.due is None:
                desk.due.pop(self.enterprise_id, None)
            else:
                desk.due[self.enterprise_id] = self.due

    @classmethod
    def open_for(cls, code: str, at: datetime) -> EnterpriseDesk:
        return cls._create(cls.Opened, enterprise_desk_id(code), at, code=code)

    def list_enterprise(self, enterprise: UUID, specialist: UUID, at: datetime) -> None:
        self._trigger(self.Listed, at, enterprise_id=enterprise, specialist=specialist)

    def set_due(self, e: Enterprise, at: datetime) -> None:
        due = e.next_deadline()
        if self.due.get(e.id) != due:
            self._trigger(self.DueSet, at, enterprise_id=e.id, due=due)


class EnterpriseDirectory(Aggregate):
    """The codes of every enterprise desk, so that the overdue tick can visit them."""

    codes: list[str]

    class Opened(Created):
        def apply(self, directory: EnterpriseDirectory) -> None:
            directory.codes = []

    class DeskAdded(Event):
        code: str

        def apply(self, directory: EnterpriseDirectory) -> None:
            directory.codes.append(self.code)

    @classmethod
    def open(cls, at: datetime) -> EnterpriseDirectory:
        return cls._create(cls.Opened, ENTERPRISE_DIRECTORY_ID, at)

    def add(self, code: str, at: datetime) -> None:
        if code not in self.codes:
            self._trigger(self.DeskAdded, at, code=code)
