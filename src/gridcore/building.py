"""A building (楼栋) in a community; households name the building they live in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from gridcore.base import Created, stable_id
from gridcore.errors import InvalidInput, NotFound
from gridcore.location import Locatable, Placed


def building_id(community: str, number: str) -> UUID:
    return stable_id("building", f"{community}/{number}")


def check_household_building(found: Building | None, bid: UUID, community: str,
                             household: str) -> None:
    """A household names a building registered in its micro-grid's community (``found``:
    the building ``bid`` names, None when none is registered); ``household`` says which
    household (and row) it is, for the message."""
    if found is None:
        raise NotFound(f"{household} names building {bid}, which is not registered.",
                       f"Register the building in community {community} first (the "
                       "registerBuilding mutation), or give no building.")
    if found.community != community:
        raise InvalidInput(f"{household} names building {bid}, which is not in community "
                           f"{community} of its micro-grid.",
                           "Give a building of that community, or register it there first "
                           "(the registerBuilding mutation).")


@dataclass(frozen=True)
class BuildingRow:
    """A building as a community's list gives it (``register_buildings``): its number, name
    (default ``<number>栋``), floors, and its point if known (longitude, latitude)."""

    number: str
    name: str = ""
    floors: int = 6
    lng: float | None = None
    lat: float | None = None


class Building(Locatable):
    community: str
    number: str
    name: str
    floors: int

    class Registered(Created):
        community: str
        number: str
        name: str
        floors: int

        def apply(self, b: Building) -> None:
            b.community, b.number, b.name, b.floors = (
                self.community, self.number, self.name, self.floors)

    @classmethod
    def register(cls, community: str, number: str, name: str, floors: int,
                 at: datetime) -> Building:
        if not number.strip():
            raise InvalidInput("A building needs a number.", "Give it, e.g. '3' for 3栋.")
        if not 1 <= floors <= 200:
            raise InvalidInput(f"Building {number} has {floors} floors.",
                               "Give 1 to 200 floors.")
        return cls._create(cls.Registered, building_id(community, number), at,
                           community=community, number=number, name=name or f"{number}栋",
                           floors=floors)

    class Located(Placed):
        """The building's point."""
