"""A centralized quarantine site (集中隔离点): a place at a district or street with a capacity.

The seeds: close contacts found in the sweep are sent to centralized quarantine sites, and
sites have capacity. A referral admits a resident to a site while it has a free place; a
discharge frees the place.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from gridcore.base import Created, Event, Immutable, stable_id
from gridcore.errors import GridcoreError, InvalidInput, LevelViolation, NotFound
from gridcore.grid import Level
from gridcore.location import Locatable, Placed


class SiteFull(GridcoreError):
    """An admission would take a quarantine site beyond its capacity."""

    code = "SITE_FULL"


SITE_LEVELS = frozenset({Level.DISTRICT, Level.STREET})
MAX_CAPACITY = 10_000
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,39}$")


def site_id(code: str) -> UUID:
    return stable_id("quarantine-site", code)


def check_site(code: str, name: str, node_level: Level, capacity: int) -> None:
    """A site has a code of 1-40 letters, digits or hyphens, a name, a place at a district
    or street (where sites are run), and a capacity of 1 to MAX_CAPACITY places."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput(f"Site code {code!r} is malformed.",
                           "Use 1-40 letters, digits or hyphens, e.g. 'JA-GL-01'.")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
        raise InvalidInput("A quarantine site needs a name of 1-60 characters.",
                           "Give its Chinese name, e.g. '江岸区后湖宾馆隔离点'.")
    if node_level not in SITE_LEVELS:
        raise LevelViolation(
            f"A quarantine site cannot be registered at a {node_level.name.lower()}.",
            "Register it at the district (区) or street (街道) that runs it.")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not (
            1 <= capacity <= MAX_CAPACITY):
        raise InvalidInput(f"Capacity {capacity!r} is out of range.",
                           f"Give the number of places, from 1 to {MAX_CAPACITY} (e.g. 120).")


def check_room(name: str, capacity: int, occupied: int) -> None:
    """A site admits while it holds fewer residents than its capacity (the seeds: sites
    have capacity)."""
    if occupied >= capacity:
        raise SiteFull(
            f"集中隔离点 quarantine site {name} is full: capacity {capacity}, "
            f"{occupied} in.",
            "Choose another site with free places, or discharge a resident first: the "
            "dischargeReferral mutation.")


class Occupant(Immutable):
    household_id: UUID
    resident_id: UUID
    since: datetime


class QuarantineSite(Locatable):
    """A centralized quarantine site and who is in it, by referral."""

    code: str
    name: str
    node_code: str
    capacity: int
    occupants: dict[UUID, Occupant]

    class Located(Placed):
        """The quarantine site's point."""

    class Registered(Created):
        code: str
        name: str
        node_code: str
        capacity: int

        def apply(self, s: QuarantineSite) -> None:
            s.code, s.name, s.node_code, s.capacity = (self.code, self.name, self.node_code,
                                                       self.capacity)
            s.occupants = {}

    class ResidentAdmitted(Event):
        referral_id: UUID
        household_id: UUID
        resident_id: UUID

        def apply(self, s: QuarantineSite) -> None:
            s.occupants[self.referral_id] = Occupant(
                household_id=self.household_id, resident_id=self.resident_id,
                since=self.timestamp)

    class ResidentDischarged(Event):
        referral_id: UUID

        def apply(self, s: QuarantineSite) -> None:
            s.occupants.pop(self.referral_id)

    @classmethod
    def register(cls, code: str, name: str, node_code: str, node_level: Level, capacity: int,
                 at: datetime) -> QuarantineSite:
        check_site(code, name, node_level, capacity)
        return cls._create(cls.Registered, site_id(code), at, code=code, name=name.strip(),
                           node_code=node_code, capacity=capacity)

    @property
    def label(self) -> str:
        return f"集中隔离点 quarantine site {self.name}"

    @property
    def occupancy(self) -> int:
        return len(self.occupants)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.occupancy)

    def admit(self, referral_id: UUID, household_id: UUID, resident_id: UUID,
              at: datetime) -> None:
        if referral_id in self.occupants:
            raise InvalidInput(f"Referral {referral_id} is already admitted to {self.name}.",
                               "Nothing to do.")
        check_room(self.name, self.capacity, self.occupancy)
        self._trigger(self.ResidentAdmitted, at, referral_id=referral_id,
                      household_id=household_id, resident_id=resident_id)

    def discharge(self, referral_id: UUID, at: datetime) -> None:
        if referral_id not in self.occupants:
            raise NotFound(f"Referral {referral_id} has nobody at {self.name}.",
                           "Check the referral and its site.")
        self._trigger(self.ResidentDischarged, at, referral_id=referral_id)

    def __repr__(self) -> str:
        return (f"QuarantineSite(code={self.code!r}, name={self.name!r}, "
                f"{self.occupancy}/{self.capacity})")
