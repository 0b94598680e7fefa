"""A building (楼栋) in a community; households name the building they live in."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, stable_id
from gridcore.errors import InvalidInput


def building_id(community: str, number: str) -> UUID:
    return stable_id("building", f"{community}/{number}")


class Building(Aggregate):
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
